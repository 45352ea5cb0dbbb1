#!/usr/bin/env python3
"""Benchmark --state (not a test; run by hand): full vs incremental runs.

For each workspace size, against an unpaced sandbox (no latency, no rate
limit: the calls are counted, the wall time at Mode's 40 requests per 10 s
is computed as calls / 4 per s):
  1. a full run without a state          (castor's behaviour)
  2. the first run with a state          (full; writes the state)
  3. the sandbox moves one day on        (the issue's day: 1 % edited, 2 added,
                                          2 deleted, 1 moved, 5 % runs-only,
                                          1 archived, a definition rewritten,
                                          a member added and one removed)
  4. a second run with the state         (incremental)
  5. a fresh full run without a state    (what run 4 must equal)
Prints calls, wall time at 4 requests/s, measured wall time, and peak RSS
(GNU time) of each run, the incremental/full call ratio (target <= 0.05),
and whether run 4's files equal run 5's byte for byte, asset by asset.

Usage: scripts/bench_incremental.py [--reports 10000,50000] [--per-collection 50]
"""
import argparse
import glob
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "target", "release")
RATE = 40 / 10  # Mode: 40 requests per 10 s
ASSETS = ["datasource", "collection", "report", "query", "member", "chart",
          "dataset", "definition", "lineage", "errors_logs"]


def post(url, body):
    req = urllib.request.Request(url, data=json.dumps(body).encode(),
                                 headers={"content-type": "application/json"})
    with urllib.request.urlopen(req, timeout=600) as r:
        return json.load(r)


def start_sandbox(work, reports, collections):
    ready = os.path.join(work, "url")
    proc = subprocess.Popen(
        [os.path.join(BIN, "mode-sandbox"), "--port", "0", "--seed", "9",
         "--reports", str(reports), "--collections", str(collections), "--ready-file", ready],
        stdout=subprocess.DEVNULL, stderr=open(os.path.join(work, "sandbox.log"), "w"))
    for _ in range(6000):
        if os.path.exists(ready) and os.path.getsize(ready):
            return proc, open(ready).read().strip()
        time.sleep(0.1)
    proc.kill()
    raise SystemExit("the sandbox did not start")


def extract(url, out, work, state=None):
    env = dict(os.environ, CASTOR_MODE_ANALYTICS_HOST=url, CASTOR_MODE_ANALYTICS_WORKSPACE="demo",
               CASTOR_MODE_ANALYTICS_TOKEN="sandbox-token", CASTOR_MODE_ANALYTICS_SECRET="sandbox-secret")
    env.pop("MODE_EXTRACTOR_STATE", None)
    rss_file = os.path.join(work, "rss")
    timer = ["/usr/bin/time", "-f", "%M", "-o", rss_file] if os.path.exists("/usr/bin/time") else []
    args = [os.path.join(BIN, "extract-mode"), "-o", out, "--quiet", "--rate-limit", "100000",
            "--rate-window", "1s", "--concurrency", "16", "--timeout", "60s"]
    if state:
        args += ["--state", state]
    start = time.monotonic()
    run = subprocess.run(timer + args, env=env)
    wall = time.monotonic() - start
    rss = int(open(rss_file).read().split()[-1]) / 1024 if timer else float("nan")
    summary = json.load(open(max(glob.glob(os.path.join(out, "*-summary.json")))))
    return {"code": run.returncode, "calls": summary["api_calls"], "wall": wall, "rss": rss,
            "ts": summary["ts"], "out": out}


def same_files(a, b):
    diff = []
    for asset in ASSETS:
        fa = open(os.path.join(a["out"], f"{a['ts']}-{asset}.json"), "rb").read()
        fb = open(os.path.join(b["out"], f"{b['ts']}-{asset}.json"), "rb").read()
        if fa != fb:
            diff.append(asset)
    return diff


def hms(seconds):
    m, s = divmod(int(round(seconds)), 60)
    h, m = divmod(m, 60)
    return f"{h}h{m:02d}m{s:02d}s"


def bench(reports, per_collection):
    work = tempfile.mkdtemp(prefix="bench-incremental-")
    state = os.path.join(work, "state.sqlite")
    sandbox, url = start_sandbox(work, reports, max(2, reports // per_collection))
    try:
        runs = {"full, no state": extract(url, os.path.join(work, "nostate"), work)}
        runs["first, with state"] = extract(url, os.path.join(work, "state"), work, state)
        day = post(url + "/_sandbox/advance", {})
        time.sleep(1.1)  # a new run timestamp
        runs["incremental"] = extract(url, os.path.join(work, "state"), work, state)
        runs["fresh full"] = extract(url, os.path.join(work, "fresh"), work)
    finally:
        sandbox.terminate()
        sandbox.wait()
    print(f"== {reports} reports, {max(2, reports // per_collection)} collections; "
          f"the day: { {k: len(v) for k, v in day.items()} }")
    for name, r in runs.items():
        print(f"{name:18}: exit {r['code']}, {r['calls']:6} calls = {hms(r['calls'] / RATE):>9} at 4 req/s, "
              f"measured {r['wall']:6.1f} s unpaced, peak RSS {r['rss']:5.1f} MB")
    ratio = runs["incremental"]["calls"] / runs["fresh full"]["calls"]
    print(f"incremental / full calls: {ratio:.4f}   (target <= 0.05)")
    diff = same_files(runs["incremental"], runs["fresh full"])
    print(f"incremental files vs full: {'identical, asset by asset' if not diff else 'DIFFER: ' + ', '.join(diff)}")
    print(f"state file: {os.path.getsize(state) / 2**20:.1f} MiB")
    return 0 if not diff and all(r["code"] == 0 for r in runs.values()) else 1


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--reports", default="10000,50000")
    ap.add_argument("--per-collection", type=int, default=50)
    a = ap.parse_args()
    subprocess.run(["cargo", "build", "--release", "--locked", "--quiet", "--workspace", "--bins"],
                   cwd=ROOT, check=True)
    codes = [bench(int(n), a.per_collection) for n in a.reports.split(",")]
    return max(codes)


if __name__ == "__main__":
    sys.exit(main())
