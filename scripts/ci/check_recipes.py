"""What the deploy/ recipes promise, checked on their text (the platform tools
check their syntax: kubernetes-validate, systemd-analyze, actionlint).

Usage: check_recipes.py            check every recipe's invariants
       check_recipes.py DIR        also write the shell scripts embedded in the
                                   Kubernetes and GitHub Actions recipes to DIR,
                                   each with its environment as NAME=value lines
                                   (.env), for shellcheck and check_embedded.sh
Every recipe: extract, then upload, on one output directory and one state file;
secrets only as files or the platform's secret store, never literal values."""
import os
import re
import sys

import yaml

SECRET_VARS = {"CASTOR_MODE_ANALYTICS_TOKEN", "CASTOR_MODE_ANALYTICS_SECRET", "CASTOR_UPLOADER_TOKEN"}
NOT_RETRYABLE = {2, 4, 5, 6, 10, 12, 13}


def load(path):
    with open(path, encoding="utf-8") as f:
        return [d for d in yaml.safe_load_all(f) if d]


def kubernetes(scripts):
    docs = load("deploy/kubernetes/cronjob.yaml")
    cron = next(d for d in docs if d["kind"] == "CronJob")
    settings = next(d for d in docs if d["kind"] == "ConfigMap")
    (pvc,) = load("deploy/kubernetes/pvc.yaml")
    (secret,) = load("deploy/kubernetes/secret.example.yaml")
    assert cron["spec"]["concurrencyPolicy"] == "Forbid"
    job = cron["spec"]["jobTemplate"]["spec"]
    assert job["backoffLimit"] >= 0 and job["activeDeadlineSeconds"] > 0
    fail_job = [r for r in job["podFailurePolicy"]["rules"] if r["action"] == "FailJob"]
    assert set(fail_job[0]["onExitCodes"]["values"]) == NOT_RETRYABLE
    pod = job["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    (container,) = pod["containers"]
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    volumes = {v["name"]: v for v in pod["volumes"]}
    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    secret_mount = next(mounts[n] for n, v in volumes.items() if v.get("secret", {}).get("secretName") == secret["metadata"]["name"])
    data_mount = next(mounts[n] for n, v in volumes.items() if v.get("persistentVolumeClaim", {}).get("claimName") == pvc["metadata"]["name"])
    env = {e["name"]: e["value"] for e in container["env"]}
    assert not SECRET_VARS & (set(env) | set(settings["data"])), "a secret given as a value"
    for name in SECRET_VARS:
        path = env[name + "_FILE"]
        assert os.path.dirname(path) == secret_mount and os.path.basename(path) in secret["stringData"], name
    output = env["CASTOR_OUTPUT_DIRECTORY"]
    assert env["CASTOR_UPLOADER_DIRECTORY_PATH"] == output
    assert output.startswith(data_mount + "/") and env["MODE_EXTRACTOR_STATE"].startswith(data_mount + "/")
    script = container["args"][0]
    assert script.index("extract-mode") < script.index("upload"), "upload before extract"
    write(scripts, "kubernetes-cronjob.sh", "#!/bin/sh\n" + script)
    env_lines = [f"{k}='{v}'" for k, v in {**settings["data"], **env}.items()]
    write(scripts, "kubernetes-cronjob.env", "\n".join(env_lines) + "\n")


def github_actions(scripts):
    (workflow,) = load("deploy/github-actions/mode-to-catalog.yml")
    on = workflow.get("on", workflow.get(True))  # YAML 1.1 reads `on` as true
    assert on["schedule"] and workflow["concurrency"]["cancel-in-progress"] is False
    (job,) = workflow["jobs"].values()
    runs = [s for s in job["steps"] if "run" in s]
    for i, step in enumerate(runs):
        assert "secrets." not in step["run"], "a secret expanded into a script"
        for name, value in step.get("env", {}).items():
            if name in SECRET_VARS:
                assert re.fullmatch(r"\$\{\{ secrets\.[A-Z_]+ \}\}", value), name
        name = re.sub(r"[^a-z]+", "-", step["name"].lower()).strip("-")
        write(scripts, f"github-actions-{name}.sh", "#!/usr/bin/env bash\nset -eo pipefail\n" + step["run"])
        env = {**job.get("env", {}), **step.get("env", {})}
        write(scripts, f"github-actions-{name}.env", "".join(f'{k}="{shell(v)}"\n' for k, v in env.items()))
    chain = next(s["run"] for s in runs if "extract-mode" in s["run"])
    assert chain.index("extract-mode") < chain.index("upload --")
    assert "MODE_EXTRACTOR_STATE" in chain


def shell(value):
    """A workflow value as a shell word: `${{ secrets.X }}` -> `${SECRET_X}`,
    `${{ github.workspace }}` -> `${GITHUB_WORKSPACE}` (set by whoever runs it)."""
    value = re.sub(r"\$\{\{ secrets\.([A-Z_]+) \}\}", r"${SECRET_\1}", str(value))
    value = value.replace("${{ github.workspace }}", "${GITHUB_WORKSPACE}")
    assert "${{" not in value, value
    return value


def systemd(scripts):
    unit = {}
    with open("deploy/systemd/mode-to-catalog.service", encoding="utf-8") as f:
        for line in f:
            if "=" in line and not line.startswith("#"):
                key, value = line.strip().split("=", 1)
                unit.setdefault(key, []).append(value)
    assert unit["Type"] == ["oneshot"] and unit["SuccessExitStatus"] == ["3"]
    first, second = unit["ExecStart"]
    assert first.split()[0].endswith("/extract-mode") and second.split()[0].endswith("/upload")
    env = dict(v.split("=", 1) for v in unit["Environment"])
    assert not SECRET_VARS & set(env) and all(env[n + "_FILE"].startswith("%d/") for n in SECRET_VARS)
    assert env["CASTOR_OUTPUT_DIRECTORY"] == env["CASTOR_UPLOADER_DIRECTORY_PATH"] and "MODE_EXTRACTOR_STATE" in env
    # What Type=oneshot does with these lines, as a script: StateDirectory=
    # created, ExecStart= in order, the next one only after a success (0 or
    # SuccessExitStatus=). %S is /data and %d the Kubernetes secret mount, so
    # check_embedded.sh moves them as it moves the others.
    def paths(text):
        return text.replace("%S", "/data").replace("%d", "/run/secrets/mode-to-catalog")

    def command(line):  # the binary from PATH, as the tools are installed
        binary, args = line.split(" ", 1)
        return f"{os.path.basename(binary)} {paths(args)}"

    dirs = " ".join(f"/data/{d}" for d in unit["StateDirectory"][0].split())
    lines = ["#!/bin/sh", f"mkdir -p {dirs}"]
    lines.append(f"{command(first)} || {{ rc=$?; [ $rc -eq 3 ] || exit $rc; }}")
    lines.append(f"exec {command(second)}")
    write(scripts, "systemd-service.sh", "\n".join(lines) + "\n")
    write(scripts, "systemd-service.env", "".join(f"{k}='{paths(v)}'\n" for k, v in env.items()))
    with open("deploy/systemd/mode-to-catalog.timer", encoding="utf-8") as f:
        timer = f.read()
    assert "Persistent=true" in timer and "RandomizedDelaySec=" in timer


def cron():
    with open("deploy/cron/mode-to-catalog.cron", encoding="utf-8") as f:
        jobs = [l.split() for l in f if l.strip() and not l.startswith("#") and "=" not in l.split()[0]]
    (job,) = jobs
    assert len(job) == 7 and os.path.basename(job[6]) == "mode-to-catalog.sh", job


def not_retryable_everywhere():
    """The exit codes a retry cannot fix are the same set in every recipe."""
    with open("deploy/airflow/mode_to_catalog.py", encoding="utf-8") as f:
        dag = re.search(r"^NOT_RETRYABLE = \{([0-9, ]+)\}$", f.read(), re.M)
    with open("deploy/cron/mode-to-catalog.sh", encoding="utf-8") as f:
        wrapper = re.search(r"^ +([0-9 |]+)\) echo \"fix the settings", f.read(), re.M)
    assert dag and {int(c) for c in dag[1].split(",")} == NOT_RETRYABLE, "airflow"
    assert wrapper and {int(c) for c in wrapper[1].split("|")} == NOT_RETRYABLE, "cron"


def write(scripts, name, text):
    if scripts:
        with open(os.path.join(scripts, name), "w", encoding="utf-8") as f:
            f.write(text)


def main():
    scripts = sys.argv[1] if len(sys.argv) > 1 else None
    for check in (kubernetes, github_actions):
        check(scripts)
    systemd(scripts)
    cron()
    not_retryable_everywhere()
    print("recipes: kubernetes, github-actions, systemd and cron invariants hold")


main()
