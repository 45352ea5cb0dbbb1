#!/usr/bin/env python3
"""Benchmark extract-mode against the sandbox (not a test; run by hand).

Defaults follow the issue: a 2,000-report workspace, 20 ms latency, a rate limit
scaled to 400 requests per 10 s on both sides. Prints:
  pace ratio   = wall time / (API calls / rate limit)      target <= 1.10
  call ratio   = API calls / minimum the workspace needs    target <= 1.05
  peak RSS of extract-mode                                   target <= 50 MB
  429s provoked                                              target 0 after the first window

The minimum: one call each for /account, /data_sources, /definitions; every page
of every paged list at the 100 per page extract-mode asks (an empty list still
needs one call; Mode's default is 30, which extract-mode asks when Mode refuses 100);
one /queries call per report and dataset; one /charts call per report query
(chart_count is not trusted, see the README); one report detail per report whose
listing says has_imported_datasets; one /api/{username} per member.

With --fault-rate the sandbox also injects 500/502/503/504 answers, stalls and
connections dropped mid-body. The run's files are always checked against the
sandbox's ground truth: every collection, report, query and member present,
castor's keys first and in order.

Usage: scripts/bench_extract.py [--reports 2000] [--collections 40] [--latency-ms 20]
                                [--rate 400] [--window-s 10] [--concurrency 8]
                                [--fault-rate 0.05]
The issue's acceptance run: --reports 400 --collections 12 --rate 40 --fault-rate 0.05
"""
import argparse
import glob
import json
import math
import os
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "target", "release")


PER_PAGE = 100  # extract-mode's --per-page default


def pages(n, size=PER_PAGE):
    return max(1, math.ceil(n / size))


def minimum_calls(truth):
    spaces = truth["spaces"]
    calls = 3 + pages(len(spaces))
    for s in spaces:
        tok = s["token"]
        calls += pages(sum(1 for r in truth["reports"] if r["space_token"] == tok))
        calls += pages(sum(1 for d in truth["datasets"] if d["space_token"] == tok))
    calls += len(truth["reports"]) + len(truth["datasets"])
    for r in truth["reports"]:
        calls += len(truth["queries"].get(r["token"], []))
        if r.get("has_imported_datasets") is not False and "imported_datasets" not in r:
            calls += 1
    calls += pages(len(truth["memberships"])) + len(truth["users"])
    return calls


CASTOR_KEYS = {
    "datasource": ["id", "token", "name", "host", "display_name", "description", "database",
                   "provider", "vendor", "adapter", "created_at", "public", "queryable"],
    "collection": ["id", "token", "space_type", "name", "description", "state",
                   "default_access_level", "creator"],
    "report": ["id", "token", "name", "description", "type", "archived", "space_token", "public",
               "created_at", "updated_at", "published_at", "edited_at", "is_embedded",
               "query_count", "chart_count", "view_count", "creator"],
    "query": ["id", "token", "name", "data_source_id", "raw_query", "report_token"],
    "member": ["id", "token", "username", "name", "email", "created_at"],
}


def verify(out, truth):
    """Every collection, report, query and member of the truth is in the files,
    with castor's keys first and in order. Returns a list of problems."""
    files = {}
    for path in glob.glob(os.path.join(out, "*-*.json")):
        asset = os.path.basename(path).split("-", 1)[1][:-5]
        with open(path, encoding="utf-8") as f:
            files[asset] = json.load(f)
    problems = []
    for asset, keys in CASTOR_KEYS.items():
        for row in files.get(asset, []):
            if list(row)[: len(keys)] != keys:
                problems.append(f"{asset} {row.get('token')}: keys {list(row)[:len(keys)]}")
                break
    want = {
        "collection": {s["token"] for s in truth["spaces"]},
        "report": {r["token"] for r in truth["reports"]},
        "query": {q["token"] for r in truth["reports"] for q in truth["queries"].get(r["token"], [])},
        "member": {u["username"] for u in truth["users"]},
    }
    for asset, tokens in want.items():
        key = "username" if asset == "member" else "token"
        got = {row[key] for row in files.get(asset, [])}
        if got != tokens:
            problems.append(f"{asset}: {len(tokens - got)} missing, {len(got - tokens)} unexpected")
    return problems


def get(url):
    with urllib.request.urlopen(url) as r:
        return json.load(r)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--reports", type=int, default=2000)
    ap.add_argument("--collections", type=int, default=40)
    ap.add_argument("--latency-ms", type=int, default=20)
    ap.add_argument("--rate", type=int, default=400)
    ap.add_argument("--window-s", type=float, default=10)
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--fault-rate", type=float, default=0.0)
    a = ap.parse_args()
    subprocess.run(["cargo", "build", "--release", "--locked", "--quiet", "--workspace", "--bins"], cwd=ROOT, check=True)
    work = tempfile.mkdtemp(prefix="bench-extract-")
    ready = os.path.join(work, "url")
    sandbox = subprocess.Popen(
        [os.path.join(BIN, "mode-sandbox"), "--port", "0", "--seed", "2000",
         "--reports", str(a.reports), "--collections", str(a.collections),
         "--latency-ms", str(a.latency_ms), "--rate-limit", str(a.rate),
         "--rate-window-ms", str(int(a.window_s * 1000)), "--ready-file", ready,
         "--fault-rate", str(a.fault_rate), "--faults", "500,502,503,504,stall,drop",
         "--stall-ms", "20000"],
        stdout=subprocess.DEVNULL, stderr=open(os.path.join(work, "sandbox.log"), "w"))
    try:
        for _ in range(600):
            if os.path.exists(ready) and os.path.getsize(ready):
                break
            time.sleep(0.1)
        url = open(ready).read().strip()
        env = dict(os.environ, CASTOR_MODE_ANALYTICS_HOST=url, CASTOR_MODE_ANALYTICS_WORKSPACE="demo",
                   CASTOR_MODE_ANALYTICS_TOKEN="sandbox-token", CASTOR_MODE_ANALYTICS_SECRET="sandbox-secret")
        start = time.monotonic()
        # GNU time reports the process's own peak RSS; ru_maxrss from Python
        # is floored by this script's own RSS (kept across fork and exec).
        rss_file = os.path.join(work, "rss")
        timer = ["/usr/bin/time", "-f", "%M", "-o", rss_file] if os.path.exists("/usr/bin/time") else []
        run = subprocess.run(
            timer + [os.path.join(BIN, "extract-mode"), "-o", os.path.join(work, "out"), "--quiet",
                     "--rate-limit", str(a.rate), "--rate-window", f"{int(a.window_s * 1000)}ms",
                     "--concurrency", str(a.concurrency), "--timeout", "10s"], env=env)
        wall = time.monotonic() - start
        returncode = run.returncode
        rss_mb = int(open(rss_file).read().split()[-1]) / 1024 if timer else float("nan")
        stats, truth = get(url + "/_sandbox/stats"), get(url + "/_sandbox/truth")
    finally:
        sandbox.terminate()
        sandbox.wait()
    problems = verify(os.path.join(work, "out"), truth)
    calls = stats["total"]
    minimum = minimum_calls(truth)
    rate = a.rate / a.window_s
    print(f"workspace      : {len(truth['reports'])} reports, {len(truth['spaces'])} collections, "
          f"{sum(len(v) for v in truth['queries'].values())} queries, {len(truth['users'])} members")
    print(f"exit code      : {returncode}")
    print(f"wall time      : {wall:.1f} s for {calls} API calls at {rate:g} req/s")
    print(f"pace ratio     : {wall / (calls / rate):.3f}   (target <= 1.10)")
    print(f"call ratio     : {calls} / {minimum} = {calls / minimum:.3f}   (target <= 1.05)")
    print(f"peak RSS       : {rss_mb:.1f} MB   (target <= 50)")
    print(f"429s provoked  : {stats['rate_limited']}   (target 0 after the first window)")
    print(f"max in window  : {stats.get('max_in_window')} (limit {a.rate})")
    print(f"faults injected: {stats['faults_injected']}")
    print(f"output vs truth: {'complete, castor keys exact' if not problems else problems}")
    return returncode or (1 if problems else 0)


if __name__ == "__main__":
    sys.exit(main())
