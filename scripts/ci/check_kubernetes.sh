#!/usr/bin/env bash
# The Kubernetes recipe (CronJob, Secret as files, PersistentVolumeClaim) against
# the schemas of a current Kubernetes, strictly (unknown fields are errors).
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/ci/lib.sh

ensure_venv
"$VENV/bin/kubernetes-validate" --strict --kubernetes-version 1.37.0 \
  deploy/kubernetes/cronjob.yaml deploy/kubernetes/pvc.yaml deploy/kubernetes/secret.example.yaml
