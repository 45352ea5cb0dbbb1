#!/usr/bin/env python3
"""Benchmark upload against the sandbox's ingest side (not a test; run by hand).

Defaults follow the issue: a ~200 MB run (3 large JSON files, 200 small ones of
2-100 KB, and a summary listing every file with its size and SHA-256) pushed to
a fresh mode-sandbox, once with --concurrency 1 and once with the default 4;
then a run holding one 1 GB file, to show that memory does not follow file
size; then castor-extractor's castor-upload on the same files and endpoint
(installed into a venv under /tmp; its ingest URL, a module constant, is
patched at import time by a small wrapper). Prints per configuration:
  files, MiB sent, wall time, MiB/s, peak RSS of the uploading process
  (target <= 32 MiB for upload), and whether every file arrived intact
  (same name, size and SHA-256 in the sandbox's /_sandbox/received, nothing else).

Sizes are MiB (2^20 bytes). Peak RSS is that one process's, from GNU time's %M
(see timed() for why not ru_maxrss). The generated files were
just written, so every configuration reads them from the page cache. Wall time
is the whole command: start-up, the run's integrity check (upload) or module
imports (castor), and the transfer.

Usage: scripts/bench_upload.py [--total-mb 200] [--small 200] [--big-mb 1024]
                               [--skip-castor] [--seed 1] [--keep]
"""
import argparse
import hashlib
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "target", "release")
TOKEN = "sandbox-ingest-token"
SOURCE_ID = "8a4f2c3e-6b1d-4e5f-9a7b-1c2d3e4f5a6b"
MIB = 1024 * 1024
DEADLINE_S = 1800
CASTOR_VENV = "/tmp/castor-venv"

# Run by the venv's python: castor's own CLI entry point with the EU ingest URL
# pointed at the sandbox. INGEST_URLS is a dict that uploader/upload.py imports
# by name, so it is changed in place before main() runs.
CASTOR_WRAPPER = """\
import sys
from castor_extractor.uploader import constant
from castor_extractor.uploader.enums import Zone
constant.INGEST_URLS[Zone.EU] = sys.argv[1]
from castor_extractor.commands.upload import main
sys.argv = ["castor-upload"] + sys.argv[2:]
main()
"""

WORDS = ["revenue", "orders", "churn", "ventes", "売上", "Продажи", "funnel", "cohort",
         "retention", "📈", "daily", "weekly", "region", "Données", "signup", "events"]


def records(rng, n):
    """n distinct JSON object bodies (without braces), like extract-mode rows."""
    out = []
    for i in range(n):
        name = " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 4)))
        desc = None if rng.random() < 0.4 else " ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 30)))
        row = {"token": "%012x" % rng.getrandbits(48), "name": name, "description": desc,
               "created_at": f"2024-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T10:00:00Z",
               "archived": rng.random() < 0.05, "query_count": rng.randint(1, 3),
               "sql": "select * from analytics.t%d where x > %d" % (rng.randint(1, 99), i)}
        out.append(json.dumps(row, ensure_ascii=False)[1:-1].encode())
    return out


def write_json_array(path, size, pool, id_base=0):
    """A JSON array of objects of about `size` bytes; returns (bytes, sha256)."""
    sha, total, buf, pending, i = hashlib.sha256(), 0, [b"["], 1, 0
    with open(path, "wb") as f:
        while total + pending < size or i == 0:
            item = b'%s{"id":%d,%s}' % (b"," if i else b"", id_base + i, pool[(i * 7919) % len(pool)])
            buf.append(item)
            pending += len(item)
            i += 1
            if pending >= MIB:
                data = b"".join(buf)
                sha.update(data)
                f.write(data)
                total, buf, pending = total + len(data), [], 0
        data = b"".join(buf) + b"]\n"
        sha.update(data)
        f.write(data)
    return total + len(data), sha.hexdigest()


def write_big(path, size, pool):
    """One large JSON array built from a repeated ~1 MiB block (fast)."""
    block = b"," + b",".join(b'{"id":%d,%s}' % (i, p) for i, p in enumerate(pool))
    reps = max(1, (size - 2) // len(block))
    sha = hashlib.sha256()
    with open(path, "wb") as f:
        head = b'[{"id":-1,"name":"first"}'
        for part in [head] + [block] * reps + [b"]\n"]:
            f.write(part)
            sha.update(part)
    return os.path.getsize(path), sha.hexdigest()


def write_summary(d, ts, files):
    summary = {"version": "bench", "executed_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts)),
               "connection_identity": {"base_url": "http://127.0.0.1"}, "client_name": "ModeAnalytics/API",
               "ts": ts, "files": files}
    path = os.path.join(d, f"{ts}-summary.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(summary, f, indent=1)
    data = open(path, "rb").read()
    return {"name": os.path.basename(path), "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}


def make_run(d, ts, total, n_small, seed):
    """The ~total-byte run: 3 large files, n_small small ones, the summary."""
    rng = random.Random(seed)
    os.makedirs(d)
    pool = records(rng, 2000)
    files = []
    small_sizes = [rng.randint(2_000, 100_000) for _ in range(n_small)]
    large = max(total - sum(small_sizes), 3 * MIB) // 3
    for i, asset in enumerate(["report", "query", "chart"]):
        name = f"{ts}-{asset}.json"
        b, s = write_json_array(os.path.join(d, name), large, pool, id_base=i * 10**8)
        files.append({"name": name, "bytes": b, "sha256": s})
    for i, size in enumerate(small_sizes):
        name = f"{ts}-asset_{i:04d}.json"
        b, s = write_json_array(os.path.join(d, name), size, pool, id_base=i * 10**6)
        files.append({"name": name, "bytes": b, "sha256": s})
    return files + [write_summary(d, ts, files)]


def make_big_run(d, ts, size, seed):
    os.makedirs(d)
    pool = records(random.Random(seed), 4000)
    name = f"{ts}-report.json"
    b, s = write_big(os.path.join(d, name), size, pool)
    files = [{"name": name, "bytes": b, "sha256": s}]
    return files + [write_summary(d, ts, files)]


def get(url):
    with urllib.request.urlopen(url, timeout=60) as r:
        return json.load(r)


class Sandbox:
    """A fresh mode-sandbox storing uploads in its own directory under `work`."""

    def __init__(self, work, label):
        self.dir = tempfile.mkdtemp(prefix=f"ingest-{label}-", dir=work)
        ready = os.path.join(self.dir, "url")
        self.proc = subprocess.Popen(
            [os.path.join(BIN, "mode-sandbox"), "--port", "0", "--ready-file", ready,
             "--ingest-dir", os.path.join(self.dir, "store")],
            stdout=subprocess.DEVNULL, stderr=open(os.path.join(work, f"sandbox-{label}.log"), "w"))
        for _ in range(300):
            if os.path.exists(ready) and os.path.getsize(ready):
                break
            if self.proc.poll() is not None:
                raise SystemExit(f"mode-sandbox exited with {self.proc.returncode}")
            time.sleep(0.1)
        else:
            self.close()
            raise SystemExit("mode-sandbox did not start within 30 s")
        self.url = open(ready).read().strip()

    def close(self):
        self.proc.terminate()
        self.proc.wait(timeout=30)
        shutil.rmtree(self.dir, ignore_errors=True)


def gnu_time():
    """/usr/bin/time if it understands -o and -f %M (GNU time), else None."""
    t = "/usr/bin/time"
    try:
        ok = subprocess.run([t, "-o", os.devnull, "-f", "%M", "true"], capture_output=True).returncode == 0
    except OSError:
        ok = False
    return t if ok else None


def vm_hwm_kib(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return None


def timed(cmd, cwd, env, log):
    """Runs cmd; returns (exit code, wall s, peak RSS MiB of that process).

    Not ru_maxrss from wait4/RUSAGE_CHILDREN: Linux carries the parent's peak
    RSS into a child across fork/vfork + exec, so a child of this script never
    reports less than this script's own peak. GNU time (a small C process)
    forks the command and reports its true peak; without it VmHWM is sampled
    every 10 ms from /proc, a lower bound that can miss the last 10 ms.
    """
    rss_file = log + ".rss"
    timer = gnu_time()
    full = [timer, "-o", rss_file, "-f", "%M"] + cmd if timer else cmd
    start = time.monotonic()
    proc = subprocess.Popen(full, cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                            stdout=open(log + ".out", "w"), stderr=open(log, "w"))
    killer = threading.Timer(DEADLINE_S, proc.kill)
    killer.start()
    peak = 0
    try:
        while not timer and proc.poll() is None:
            peak = max(peak, vm_hwm_kib(proc.pid) or 0)
            time.sleep(0.01)
        proc.wait()
    finally:
        killer.cancel()
    wall = time.monotonic() - start
    if timer:
        lines = open(rss_file).read().split()
        peak = int(lines[-1]) if lines and lines[-1].isdigit() else 0
    return proc.returncode, wall, peak / 1024


def intact(received, expected):
    """(all intact?, problems): each expected file once, same size and hash, nothing else."""
    got = {}
    for r in received:
        got.setdefault(r["name"], []).append(r)
    problems = []
    for e in expected:
        rs = got.pop(e["name"], [])
        if len(rs) != 1:
            problems.append(f"{e['name']}: received {len(rs)} times")
        elif (rs[0]["bytes"], rs[0]["sha256"].lower()) != (e["bytes"], e["sha256"]):
            problems.append(f"{e['name']}: {rs[0]['bytes']} bytes {rs[0]['sha256'][:12]}, "
                            f"expected {e['bytes']} {e['sha256'][:12]}")
    problems += [f"{n}: not expected" for n in got]
    return not problems, problems


def clean_dir_state(d):
    for name in (".upload-ledger.jsonl", ".upload-ledger.json", ".upload-ledger.lock", ".mode-extractor.lock"):
        try:
            os.remove(os.path.join(d, name))
        except FileNotFoundError:
            pass


def base_env():
    env = {k: v for k, v in os.environ.items() if not k.startswith("CASTOR_")}
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    return env


def run_upload(work, label, run_dir, expected, concurrency):
    clean_dir_state(run_dir)
    sb = Sandbox(work, label)
    try:
        env = dict(base_env(), CASTOR_UPLOADER_TOKEN=TOKEN)  # not on the command line
        log = os.path.join(work, f"{label}.log")
        code, wall, rss = timed(
            [os.path.join(BIN, "upload"), "-s", SOURCE_ID, "-d", run_dir, "--endpoint", sb.url,
             "--concurrency", str(concurrency)], cwd=work, env=env, log=log)
        ok, problems = intact(get(sb.url + "/_sandbox/received"), expected)
        stats = get(sb.url + "/_sandbox/stats")
    finally:
        sb.close()
    return result(label, expected, code, wall, rss, ok, problems, log, stats)


def castor_python(version):
    """The venv's python with castor-extractor importable, installing it if needed."""
    py = os.path.join(CASTOR_VENV, "bin", "python")
    probe = "import importlib.metadata as m; print(m.version('castor-extractor'))"
    if not os.path.exists(py):
        subprocess.run([sys.executable, "-m", "venv", CASTOR_VENV], check=True)
    have = subprocess.run([py, "-c", probe], capture_output=True, text=True)
    if have.returncode != 0 or (version and have.stdout.strip() != version):
        spec = f"castor-extractor=={version}" if version else "castor-extractor"
        pip = subprocess.run([py, "-m", "pip", "install", "--quiet", spec], capture_output=True, text=True)
        if pip.returncode != 0:
            raise RuntimeError(f"pip install {spec} failed: {pip.stderr.strip()[-500:]}")
        have = subprocess.run([py, "-c", probe], capture_output=True, text=True, check=True)
    return py, have.stdout.strip()


def run_castor(work, label, run_dir, expected, py):
    clean_dir_state(run_dir)  # castor would send the ledger files (the sandbox answers 404)
    wrapper = os.path.join(work, "castor_upload_sandbox.py")
    with open(wrapper, "w") as f:
        f.write(CASTOR_WRAPPER)
    sb = Sandbox(work, label)
    try:
        log = os.path.join(work, f"{label}.log")
        code, wall, rss = timed(
            [py, wrapper, sb.url, "-k", TOKEN, "-s", SOURCE_ID, "-d", run_dir, "-t", "VIZ"],
            cwd=work, env=base_env(), log=log)
        ok, problems = intact(get(sb.url + "/_sandbox/received"), expected)
        stats = get(sb.url + "/_sandbox/stats")
    finally:
        sb.close()
    return result(label, expected, code, wall, rss, ok, problems, log, stats)


def result(label, expected, code, wall, rss, ok, problems, log, stats):
    lines = open(log, errors="replace").read().splitlines()
    return {"label": label, "files": len(expected), "mib": sum(e["bytes"] for e in expected) / MIB,
            "code": code, "wall": wall, "rss": rss, "ok": ok, "problems": problems,
            "warnings": [l for l in lines if "WARN" in l.upper()],
            "last": lines[-1] if lines else "", "requests": stats.get("ingest_requests"),
            "by_status": stats.get("ingest_by_status")}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--total-mb", type=float, default=200, help="size of the mixed run, MiB")
    ap.add_argument("--small", type=int, default=200, help="small files in the mixed run")
    ap.add_argument("--big-mb", type=float, default=1024, help="single-file run, MiB (0: skip)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--skip-castor", action="store_true")
    ap.add_argument("--castor-version", default="", help="pin castor-extractor (default: latest)")
    ap.add_argument("--keep", action="store_true", help="keep the generated files and logs")
    a = ap.parse_args()
    subprocess.run(["cargo", "build", "--release", "--locked", "--quiet", "--workspace", "--bins"], cwd=ROOT, check=True)
    work = tempfile.mkdtemp(prefix="bench-upload-")
    ts = 1_700_000_000 + a.seed
    results, notes = [], []
    try:
        t = time.monotonic()
        mixed = os.path.join(work, "run")
        expected = make_run(mixed, ts, int(a.total_mb * MIB), a.small, a.seed)
        print(f"generated {len(expected)} files, {sum(e['bytes'] for e in expected) / MIB:.1f} MiB "
              f"in {time.monotonic() - t:.1f} s", file=sys.stderr)
        big = big_expected = None
        if a.big_mb > 0:
            big = os.path.join(work, "big")
            big_expected = make_big_run(big, ts + 1, int(a.big_mb * MIB), a.seed)
        for conc in (1, 4):
            print(f"upload --concurrency {conc} ...", file=sys.stderr)
            results.append(run_upload(work, f"upload-c{conc}", mixed, expected, conc))
        if big:
            print("upload, one large file ...", file=sys.stderr)
            results.append(run_upload(work, "upload-1file", big, big_expected, 4))
        if not a.skip_castor:
            try:
                py, version = castor_python(a.castor_version)
                notes.append(f"castor-extractor {version} in {CASTOR_VENV}")
                print("castor-upload ...", file=sys.stderr)
                results.append(run_castor(work, "castor", mixed, expected, py))
                if big:
                    print("castor-upload, one large file ...", file=sys.stderr)
                    results.append(run_castor(work, "castor-1file", big, big_expected, py))
            except (RuntimeError, subprocess.CalledProcessError, OSError) as e:
                notes.append(f"castor-upload not measured: {e}")
    finally:
        if not a.keep:
            shutil.rmtree(work, ignore_errors=True)

    print(f"{'configuration':14} {'files':>5} {'MiB':>8} {'wall s':>7} {'MiB/s':>7} "
          f"{'peak RSS MiB':>12} {'exit':>4}  intact")
    for r in results:
        print(f"{r['label']:14} {r['files']:>5} {r['mib']:>8.1f} {r['wall']:>7.2f} "
              f"{r['mib'] / r['wall']:>7.1f} {r['rss']:>12.1f} {r['code']:>4}  {'yes' if r['ok'] else 'NO'}")
    print("target: upload peak RSS <= 32 MiB whatever the file sizes")
    for r in results:
        print(f"\n{r['label']}: {r['requests']} ingest requests {r['by_status']}; "
              f"{len(r['warnings'])} warning line(s); last log line: {r['last'][:200]}")
        for w in r["warnings"][:3]:
            print(f"  warning: {w[:200]}")
        for p in r["problems"][:5]:
            print(f"  problem: {p}")
    for n in notes:
        print(n)
    if a.keep:
        print(f"files and logs kept in {work}")
    return 0 if results and all(r["ok"] and r["code"] == 0 for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
