"""Prints what the sandbox's ingest side received and checks it against the
run summaries in a directory: every file a summary lists must have arrived
with the same size and SHA-256. Exits 1 on any mismatch.

Usage: check_received.py SANDBOX_URL RUN_DIR"""
import glob
import json
import os
import sys
import urllib.request

with urllib.request.urlopen(sys.argv[1] + "/_sandbox/received") as answer:
    received = {r["name"]: r for r in json.load(answer)}
expected = {}
for path in glob.glob(os.path.join(sys.argv[2], "*-summary.json")):
    with open(path, encoding="utf-8") as f:
        summary = json.load(f)
    for rec in summary["files"]:
        expected[rec["name"]] = rec
    size = os.path.getsize(path)
    expected[os.path.basename(path)] = {"name": os.path.basename(path), "bytes": size, "sha256": None}

bad = 0
print(f"{'file':40} {'bytes':>10}  sha256            match")
for name in sorted(expected):
    want, got = expected[name], received.get(name)
    ok = got is not None and got["bytes"] == want["bytes"] and want["sha256"] in (None, got["sha256"])
    bad += not ok
    sha = got["sha256"][:16] if got else "-"
    print(f"{name:40} {got['bytes'] if got else '-':>10}  {sha}  {'ok' if ok else 'MISSING/DIFFERENT'}")
print(f"{len(expected) - bad}/{len(expected)} files arrived intact")
sys.exit(1 if bad else 0)
