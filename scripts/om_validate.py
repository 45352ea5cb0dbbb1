#!/usr/bin/env python3
"""Validate every request body the sandbox's OpenMetadata side received with
OpenMetadata's own request models (openmetadata-ingestion's generated pydantic
classes, which refuse unknown fields), not with rules of ours.

Usage: om_validate.py REQUESTS.json | http://127.0.0.1:PORT

REQUESTS.json is what GET /openmetadata/_sandbox/requests answers: a list of
{"method","path","query","body","status"}. Every PUT must match a known model
and validate; at least one body of each kind (service, chart, data model,
dashboard, lineage) must have been seen. Exit 0 when all is well, 1 otherwise.

The package's own metadata/__init__.py imports heavy optional modules, so the
generated modules are loaded under a bare `metadata` package that never runs it.
"""

import importlib
import importlib.util
import json
import logging
import sys
import types
import urllib.request
from collections import Counter

MODELS = {
    "/v1/services/dashboardServices": (
        "metadata.generated.schema.api.services.createDashboardService",
        "CreateDashboardServiceRequest",
    ),
    "/v1/charts": ("metadata.generated.schema.api.data.createChart", "CreateChartRequest"),
    "/v1/dashboard/datamodels": (
        "metadata.generated.schema.api.data.createDashboardDataModel",
        "CreateDashboardDataModelRequest",
    ),
    "/v1/dashboards": ("metadata.generated.schema.api.data.createDashboard", "CreateDashboardRequest"),
    "/v1/lineage": ("metadata.generated.schema.api.lineage.addLineage", "AddLineageRequest"),
}


def bare_metadata_package():
    """Register `metadata` as a namespace over the installed package's
    directory without executing its __init__.py."""
    spec = importlib.util.find_spec("metadata")
    if spec is None or not spec.submodule_search_locations:
        sys.exit("om_validate: openmetadata-ingestion is not installed")
    package = types.ModuleType("metadata")
    package.__path__ = list(spec.submodule_search_locations)
    sys.modules["metadata"] = package


def load_requests(source):
    if source.startswith("http://") or source.startswith("https://"):
        url = source.rstrip("/") + "/openmetadata/_sandbox/requests"
        with urllib.request.urlopen(url, timeout=30) as answer:
            return json.load(answer)
    with open(source, encoding="utf-8") as f:
        return json.load(f)


def self_check(models):
    """The models must refuse an unknown field and a missing required one,
    or this check could not fail."""
    chart = models["/v1/charts"]
    for bad in ({"name": "x", "service": "s", "bogus": 1}, {"name": "x"}):
        try:
            chart.model_validate(bad)
        except Exception:  # pylint: disable=broad-except
            continue
        sys.exit(f"om_validate: CreateChartRequest accepted {bad}; the models are not strict")


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    # The models' after-validator that rewrites entity names for ingestion
    # needs sqlalchemy and logs a warning per body without it; validation
    # itself has already run by then.
    logging.getLogger("metadata").setLevel(logging.ERROR)
    bare_metadata_package()
    models = {}
    for path, (module, name) in MODELS.items():
        models[path] = getattr(importlib.import_module(module), name)
    self_check(models)
    requests = load_requests(sys.argv[1])
    seen, failures = Counter(), []
    for request in requests:
        if request["method"] != "PUT":
            continue
        model = models.get(request["path"])
        if model is None:
            failures.append(f"PUT {request['path']}: no OpenMetadata request model for this path")
            continue
        try:
            model.model_validate(request["body"])
            seen[request["path"]] += 1
        except Exception as err:  # pydantic.ValidationError, and anything else
            name = (request["body"] or {}).get("name", "") if isinstance(request["body"], dict) else ""
            failures.append(f"PUT {request['path']} {name}: {err}")
    for path in MODELS:
        print(f"{seen[path]:6}  valid {MODELS[path][1]:32} PUT {path}")
        if seen[path] == 0:
            failures.append(f"no valid body at all for PUT {path}")
    for line in failures[:20]:
        print(f"INVALID {line}", file=sys.stderr)
    if failures:
        print(f"om_validate: {len(failures)} problem(s)", file=sys.stderr)
        return 1
    print(f"om_validate: {sum(seen.values())} bodies valid, 0 schema violations")
    return 0


if __name__ == "__main__":
    sys.exit(main())
