"""Airflow 3 DAG: Mode Analytics metadata to the catalog, nightly.

Two tasks on one output directory and one state file:

    extract  (extract-mode -o DIR/catalog, state DIR/state.sqlite)
      -> upload (upload -d DIR/catalog)

* extract-mode's exit 3 (the run completed, some items had problems, see
  `{ts}-errors_logs.json`) is a success with a warning in the task log; the
  upload runs.
* Any other failure fails the task and the upload does not run (the default
  `all_success` trigger rule). Failures a retry cannot fix (a bad setting,
  refused credentials, a run refused by upload, `--strict`) fail at once;
  the others (unreachable, server errors, the directory locked by a run still
  going, interrupted) are retried after `retry_delay`.
* Secrets come from two Airflow connections (the metadata database, a secrets
  backend, or `AIRFLOW_CONN_*` environment variables) and reach the tools as
  environment variables of the child process: never in argv, never in this
  file.

Connections:
  mode_analytics  login = Mode API token, password = its secret,
                  host = Mode's base URL (empty: https://app.mode.com),
                  extra = {"workspace": "acme"}
  castor_catalog  password = catalog ingest token,
                  extra = {"source_id": "<uuid>", "zone": "EU"} and optionally
                  "endpoint" (an ingest proxy)
Variables (optional):
  mode_extractor_dir      working directory (default /var/lib/mode-extractor)
  mode_extractor_bin_dir  where extract-mode and upload are (default: PATH)
  mode_extractor_extract_args  more extract-mode flags, a JSON list, e.g.
                          ["--exclude-personal", "--rate-limit", "20"]

Each tool also writes Prometheus metrics to DIR/metrics/{extract-mode,upload}.prom.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
from datetime import datetime, timedelta

from airflow.sdk import Connection, Variable, dag, task
from airflow.sdk.exceptions import AirflowException, AirflowFailException

log = logging.getLogger(__name__)

# The tools' documented exit codes (README, "Exit codes").
ITEM_PROBLEMS = 3
# Usage, 401, 403, workspace not found, run refused by upload, --strict.
NOT_RETRYABLE = {2, 4, 5, 6, 10, 12, 13}


def _paths() -> dict[str, str]:
    base = Variable.get("mode_extractor_dir", default="/var/lib/mode-extractor")
    os.makedirs(os.path.join(base, "metrics"), exist_ok=True)
    return {
        "output": os.path.join(base, "catalog"),
        "state": os.path.join(base, "state.sqlite"),
        "metrics": os.path.join(base, "metrics"),
    }


def _binary(name: str) -> str:
    bin_dir = Variable.get("mode_extractor_bin_dir", default="")
    path = os.path.join(bin_dir, name) if bin_dir else shutil.which(name)
    if not path:
        raise AirflowFailException(f"{name} not found on PATH; set mode_extractor_bin_dir")
    return path


def _run(argv: list[str], secrets: dict[str, str], tool: str) -> int:
    """Runs one tool with its settings in the environment; returns its exit code."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CASTOR_")}
    env.update(secrets)
    log.info("running %s", " ".join(argv))
    code = subprocess.run(argv, env=env, check=False).returncode
    if code == 0:
        return code
    if code == ITEM_PROBLEMS and tool == "extract-mode":
        log.warning("extract-mode: completed with item problems (exit 3), see errors_logs")
        return code
    if code in NOT_RETRYABLE:
        raise AirflowFailException(f"{tool} exited {code}: a retry cannot fix this")
    raise AirflowException(f"{tool} exited {code}")


@dag(
    dag_id="mode_to_catalog",
    schedule="17 3 * * *",
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    default_args={"retries": 2, "retry_delay": timedelta(minutes=10)},
    tags=["catalog", "mode"],
)
def mode_to_catalog():
    @task(execution_timeout=timedelta(hours=3))
    def extract() -> int:
        mode = Connection.get("mode_analytics")
        paths = _paths()
        settings = {
            "CASTOR_MODE_ANALYTICS_TOKEN": mode.login or "",
            "CASTOR_MODE_ANALYTICS_SECRET": mode.password or "",
            "CASTOR_MODE_ANALYTICS_WORKSPACE": mode.extra_dejson.get("workspace", ""),
            "CASTOR_OUTPUT_DIRECTORY": paths["output"],
            "MODE_EXTRACTOR_STATE": paths["state"],
        }
        if mode.host:
            settings["CASTOR_MODE_ANALYTICS_HOST"] = mode.host
        metrics = os.path.join(paths["metrics"], "extract-mode.prom")
        argv = [_binary("extract-mode"), "--lock-timeout", "10m", "--metrics-file", metrics]
        argv += Variable.get("mode_extractor_extract_args", default=[], deserialize_json=True)
        return _run(argv, settings, "extract-mode")

    @task(execution_timeout=timedelta(hours=1))
    def upload(extract_code: int) -> None:
        catalog = Connection.get("castor_catalog")
        extra = catalog.extra_dejson
        paths = _paths()
        settings = {
            "CASTOR_UPLOADER_TOKEN": catalog.password or "",
            "CASTOR_UPLOADER_SOURCE_ID": extra.get("source_id", ""),
            "CASTOR_UPLOADER_ZONE": extra.get("zone", "EU"),
            "CASTOR_UPLOADER_DIRECTORY_PATH": paths["output"],
        }
        if extra.get("endpoint"):
            settings["CASTOR_UPLOADER_ENDPOINT"] = extra["endpoint"]
        metrics = os.path.join(paths["metrics"], "upload.prom")
        argv = [_binary("upload"), "--lock-timeout", "10m", "--metrics-file", metrics]
        _run(argv, settings, "upload")
        if extract_code == ITEM_PROBLEMS:
            log.warning("uploaded a run that had item problems (extract-mode exit 3)")

    upload(extract())


mode_to_catalog()
