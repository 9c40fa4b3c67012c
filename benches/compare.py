#!/usr/bin/env python3
"""Side-by-side throughput benchmark: spanward against Rotel, in front of one counting receiver.

Run it through `benches/compare.sh`, which builds the binaries, fetches Rotel and sets up the
Python venv (matplotlib), then calls this script with the paths. Every configuration runs
`--runs` times (medians reported), each run with fresh processes:

  0  bare: `spanward load` straight into the counting receiver (the load generator's ceiling)
  1  Rotel pass-through to the receiver (Rotel always gzips what it forwards)
  2  spanward pass-through (fingerprints and redaction off), OTLP forward, no compression
  3  the same with `exporters.otlp.compression: gzip` (like for like with Rotel)
  4  spanward full pipeline (sampling 1.0, fingerprints, default packs), OTLP forward
  5  the same with `compression: gzip`
  6  spanward full pipeline into the tamper-evident log (fsync: batch, ack: durable)
  7-10  logs: bare, Rotel pass-through, spanward pass-through and full pipeline

The load is `spanward load`'s realistic agent traffic (several agents repeating their system
prompts and tool schemas, prose, code, JSON and log lines, 2 % of text pieces with PII or
secrets). Sweeps of configuration 4: the PII fraction (0, 1, 10, 30 %), payload size, and rule
count (default packs vs. extra user rules making 2x and 4x as many). Writes compare.md,
compare.png and compare.json (raw runs) to docs/bench/ (or target/bench-quick/ with --quick)
and prints the markdown.

With `--baseline OLD_BINARY`, configurations 2-4 also run with an older spanward build, each
before its counterpart within every run index, and the output gets a before/after table.
"""

import argparse
import ctypes
import datetime
import hashlib
import json
import os
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import tomllib
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
HMAC_KEY = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"  # fixed test key (32 bytes: the service refuses shorter ones)
CLK_TCK = os.sysconf("SC_CLK_TCK")
ROTEL_VERSION = "0.0.1a15"
LOAD_FIXED = ["--protocol", "grpc", "--spans-per-request", "512", "--seed", "1", "--json"]
DEFAULT_PII = 0.02
PII_SWEEP = [0.0, 0.01, 0.10, 0.30]
PAYLOADS = [500, 1500, 5000, 20000]
RULE_FACTORS = [1, 2, 4]
DEFAULT_PAYLOAD = 1500

PASS_STAGES = "fingerprint: { enabled: false }\nredaction: { enabled: false }\n"
FULL_STAGES = "sampling: { ratio: 1.0 }\n"

# Main-table configurations, in table order: (key, label, point). A point's kind is what runs
# (bare|rotel|sw_pass|sw_full|sw_log); gzip: spanward's exporter compresses; signal: what the
# load sends.
MAIN = [
    ("bare", "bare: load generator → receiver (ceiling)", {"kind": "bare"}),
    ("rotel", f"Rotel {ROTEL_VERSION} pass-through, OTLP forward (gzip: its default)",
     {"kind": "rotel", "gzip": True}),
    ("rotel_none", f"Rotel {ROTEL_VERSION} pass-through, `--otlp-exporter-compression none`",
     {"kind": "rotel", "gzip": False}),
    ("sw_pass", "spanward pass-through (stages off), OTLP forward, no compression",
     {"kind": "sw_pass"}),
    ("sw_pass_gz", "spanward pass-through, OTLP forward, `compression: gzip`",
     {"kind": "sw_pass", "gzip": True}),
    ("sw_full", "spanward full pipeline (sampling 1.0, fingerprints, default packs), OTLP "
     "forward, no compression", {"kind": "sw_full"}),
    ("sw_full_gz", "spanward full pipeline, OTLP forward, `compression: gzip`",
     {"kind": "sw_full", "gzip": True}),
    ("sw_log", "spanward full pipeline → tamper-evident log, `ack: durable`", {"kind": "sw_log"}),
    ("logs_bare", "logs: bare, load generator → receiver (ceiling)",
     {"kind": "bare", "signal": "logs"}),
    ("logs_rotel", f"logs: Rotel {ROTEL_VERSION} pass-through (gzip: its default)",
     {"kind": "rotel", "signal": "logs", "gzip": True}),
    ("logs_sw_pass", "logs: spanward pass-through, no compression",
     {"kind": "sw_pass", "signal": "logs"}),
    ("logs_sw_full", "logs: spanward full pipeline, no compression",
     {"kind": "sw_full", "signal": "logs"}),
]
# Which Rotel row a spanward row is compared with: Rotel's default (gzip), and Rotel with the
# spanward row's own compression where that was measured.
ROTEL_OF = {"traces": "rotel", "logs": "logs_rotel"}
ROTEL_SAME = {("traces", True): "rotel", ("traces", False): "rotel_none",
              ("logs", True): "logs_rotel"}


class RunFailed(Exception):
    pass


# ---------------------------------------------------------------------------------------------
# Processes: every child is registered, gets SIGKILL if this script dies (PR_SET_PDEATHSIG), and
# is stopped (SIGINT, then SIGKILL) on any exit path.

_LIBC = ctypes.CDLL(None, use_errno=True)
_PARENT = os.getpid()
_CHILDREN = []


def _child_setup():
    _LIBC.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG: die with the benchmark, even on SIGKILL
    if os.getppid() != _PARENT:  # the parent died between fork and prctl
        os._exit(1)


def spawn(cmd, log_path, env=None):
    out = open(log_path, "wb")
    try:
        p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                             env=env, preexec_fn=_child_setup)
    finally:
        out.close()
    p.log_path = log_path
    _CHILDREN.append(p)
    return p


def stop(p, grace=30.0):
    """SIGINT (the collectors drain and flush on it), SIGKILL after `grace` seconds."""
    if p.returncode is None and p.poll() is None:
        try:
            p.send_signal(signal.SIGINT)
            p.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
        except ProcessLookupError:
            pass
    if p in _CHILDREN:
        _CHILDREN.remove(p)


def stop_all():
    for p in list(reversed(_CHILDREN)):
        try:
            stop(p, grace=5.0)
        except Exception:  # keep stopping the others whatever one of them does
            try:
                p.kill()
            except Exception:
                pass


def _on_term(signum, _frame):
    raise SystemExit(128 + signum)


def log_tail(p, n=15):
    try:
        lines = Path(p.log_path).read_text(errors="replace").splitlines()
    except OSError:
        return ""
    return "\n".join(lines[-n:])


# ---------------------------------------------------------------------------------------------
# Ports, /proc, counters.

_USED_PORTS = set()


def free_port():
    """A free loopback port, never one handed out before in this invocation."""
    for _ in range(100):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port not in _USED_PORTS:
            _USED_PORTS.add(port)
            return port
    raise RunFailed("no free loopback port")


def wait_port(port, proc, what, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RunFailed(f"{what} exited with {proc.returncode} before listening on {port}:\n"
                            f"{log_tail(proc)}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RunFailed(f"{what} did not listen on 127.0.0.1:{port} within {timeout:.0f}s:\n"
                    f"{log_tail(proc)}")


def http_get(url, timeout=5.0):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.status, r.read().decode(errors="replace")


def wait_ready(admin, proc, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RunFailed(f"spanward exited with {proc.returncode}:\n{log_tail(proc)}")
        try:
            if http_get(f"http://127.0.0.1:{admin}/readyz", 1.0)[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise RunFailed(f"spanward not ready within {timeout:.0f}s:\n{log_tail(proc)}")


def cpu_seconds(pid):
    """utime + stime of the process (all its threads) from /proc/PID/stat."""
    with open(f"/proc/{pid}/stat") as f:
        rest = f.read().rsplit(")", 1)[1].split()  # comm may hold spaces; fields after it
    return (int(rest[11]) + int(rest[12])) / CLK_TCK  # fields 14 and 15


def hwm_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


# The counting receiver prints one line per signal once a second: `spans=N requests=M`,
# `log_records=N requests=M`, `metric_points=N requests=M` (an older build: the spans line only).
_COUNT_KEYS = {"traces": "spans", "logs": "log_records", "metrics": "metric_points"}
_COUNT_RE = re.compile(r"^(\w+)=(\d+) requests=(\d+)$")


def counter_items(recv, signal="traces"):
    """The signal's count on the last complete line for it the counting receiver printed."""
    key = _COUNT_KEYS[signal]
    text = Path(recv.log_path).read_text(errors="replace")
    seen_any = False
    for line in reversed(text.split("\n")[:-1]):  # the part after the last newline may be partial
        m = _COUNT_RE.match(line.strip())
        if m:
            seen_any = True
            if m.group(1) == key:
                return int(m.group(2))
    if seen_any and signal != "traces" and "spans=" in text and f"{key}=" not in text:
        raise RunFailed(f"the counting receiver does not count {signal} (an older "
                        "examples/count_receiver.rs)")
    return 0


_DELIVERED_RE = re.compile(r"^spanward_pipeline_delivered_spans_total(?:\{[^}]*\})?\s+(\S+)")


def metrics_delivered(admin):
    _, text = http_get(f"http://127.0.0.1:{admin}/metrics")
    total, seen = 0.0, False
    for line in text.splitlines():
        m = _DELIVERED_RE.match(line)
        if m:
            total += float(m.group(1))
            seen = True
    if not seen:
        raise RunFailed("spanward_pipeline_delivered_spans_total missing from /metrics")
    return int(total)


# ---------------------------------------------------------------------------------------------
# User rule packs for the rule-count sweep.

def default_rule_count(spanward):
    out = subprocess.run([spanward, "patterns", "list"], capture_output=True, text=True,
                         check=True).stdout
    m = re.search(r"^(\d+) rules, \d+ types$", out, re.M)
    if not m:
        raise RunFailed(f"cannot read the rule count from `spanward patterns list`:\n{out[-500:]}")
    return int(m.group(1))


def default_keywords():
    kws = set()
    for pack in sorted((REPO / "patterns").glob("*.toml")):
        for rule in tomllib.loads(pack.read_text()).get("rules", []):
            kws.update(k.lower() for k in rule.get("keywords", []))
    return kws


def write_user_pack(path, count, seed=7):
    """`count` keyword-prefixed token rules in the format of patterns/README.md, each with a
    unique made-up vendor prefix (clashing with no built-in keyword), a tp and an fp example."""
    rng = random.Random(seed)
    taken = default_keywords()
    cons, vows = "bdfgklmnprstvxz", "aeiou"
    shapes = [("_", "[A-Za-z0-9]", "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"),
              ("_live_", "[A-Za-z0-9]", "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"),
              ("-", "[a-f0-9]", "abcdef0123456789"),
              ("pat_", "[A-Z0-9]", "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")]
    names, rules = set(), []
    while len(rules) < count:
        name = "".join(rng.choice(cons) + rng.choice(vows) for _ in range(rng.choice([2, 3])))
        name += rng.choice(cons)
        sep, cls, alphabet = rng.choice(shapes)
        prefix = name + sep
        if name in names or any(prefix in k or k in prefix for k in taken):
            continue
        names.add(name)
        n = rng.choice([24, 32, 36, 40, 48])
        token = prefix + "".join(rng.choice(alphabet) for _ in range(n))
        rid = f"{name}_api_token"
        rules.append(f"""
[[rules]]
id = "{rid}"
type = "{rid}"
description = "{name.capitalize()} API token (made up for the benchmark)."
regex = '''\\b{re.escape(prefix)}{cls}{{{n}}}\\b'''
keywords = ["{prefix}"]
window = [0, {len(prefix) + n + 8}]
tp = ['token {token}', '{{"api_key":"{token}"}}']
fp = ['{prefix}short', '{name} docs']
""")
    path.write_text("[pack]\nname = \"bench_user\"\ncategory = \"secret\"\n"
                    "description = \"Made-up vendor tokens for the rule-count sweep\"\n"
                    + "".join(rules))


# ---------------------------------------------------------------------------------------------
# One run.

def sw_yaml(grpc, admin, sink, stages):
    return (f"receivers:\n  otlp:\n    grpc: {{ endpoint: \"127.0.0.1:{grpc}\" }}\n"
            f"admin: {{ endpoint: \"127.0.0.1:{admin}\" }}\n{sink}{stages}")


def point_config(point, ctx):
    """Collector description for a point: (kind, stages, sink) where kind is bare|rotel|sw_pass|
    sw_full|sw_log and sink is otlp|log."""
    kind = point["kind"]
    if kind in ("bare", "rotel"):
        return kind, "", "otlp"
    stages = PASS_STAGES if kind == "sw_pass" else FULL_STAGES
    if point.get("rules", 1) > 1:
        stages += f"redaction: {{ pattern_files: [\"{ctx['packs'][point['rules']]}\"] }}\n"
    if kind == "sw_log":
        stages += "pipeline: { ack: durable }\n"
    return kind, stages, "log" if kind == "sw_log" else "otlp"


def load_cmd(args, endpoint, point):
    return [args.spanward, "load", "--endpoint", f"127.0.0.1:{endpoint}",
            "--duration", f"{args.secs}s", "--concurrency", str(args.concurrency),
            "--payload-bytes", str(point.get("payload", DEFAULT_PAYLOAD)),
            "--pii-fraction", str(point.get("pii", DEFAULT_PII)),
            "--signal", point.get("signal", "traces")] + LOAD_FIXED


def run_load(args, endpoint, point, work, tag):
    cmd = load_cmd(args, endpoint, point)
    p = spawn(cmd, work / f"load-{tag}.log")
    deadline = time.monotonic() + args.secs + 120
    while True:
        pid, status, ru = os.wait4(p.pid, os.WNOHANG)
        if pid:
            break
        if time.monotonic() > deadline:
            p.kill()
            pid, status, ru = os.wait4(p.pid, 0)
            p.returncode = os.waitstatus_to_exitcode(status)
            _CHILDREN.remove(p)
            raise RunFailed("the load generator did not finish")
        time.sleep(0.05)
    p.returncode = os.waitstatus_to_exitcode(status)  # reaped by wait4, not by Popen
    _CHILDREN.remove(p)
    text = Path(p.log_path).read_text(errors="replace")
    if p.returncode != 0:
        raise RunFailed(f"spanward load exited with {p.returncode}:\n{text[-1500:]}")
    js = [line for line in text.splitlines() if line.startswith("{")]
    if not js:
        raise RunFailed(f"spanward load printed no JSON:\n{text[-1500:]}")
    rep = json.loads(js[-1])
    rep["cpu_s"] = ru.ru_utime + ru.ru_stime
    return rep


def run_point(args, point, ctx, tag):
    """Fresh receiver + collector, one load, then the figures. Raises RunFailed."""
    work = ctx["work"]
    kind, stages, sink = point_config(point, ctx)
    procs = []
    try:
        recv = None
        if sink == "otlp":
            rport = free_port()
            recv = spawn([args.receiver, f"127.0.0.1:{rport}"], work / f"recv-{tag}.log")
            procs.append(recv)
            wait_port(rport, recv, "count_receiver")
        coll, admin = None, None
        if kind == "bare":
            target = rport
        elif kind == "rotel":
            target, hport = free_port(), free_port()
            coll = spawn([args.rotel, "start", "--otlp-grpc-endpoint", f"127.0.0.1:{target}",
                          "--otlp-http-endpoint", f"127.0.0.1:{hport}", "--exporter", "otlp",
                          "--otlp-exporter-endpoint", f"http://127.0.0.1:{rport}",
                          "--otlp-exporter-compression",
                          "gzip" if point.get("gzip", True) else "none",
                          "--pid-file", str(work / f"rotel-{tag}.pid"),
                          "--log-file", str(work / f"rotel-{tag}.applog")],
                         work / f"rotel-{tag}.log")
            procs.append(coll)
            wait_port(target, coll, "rotel-agent")
        else:
            target, admin = free_port(), free_port()
            if sink == "log":
                out = f"exporters:\n  file: {{ path: \"{work / ('log-' + tag)}\", fsync: batch }}\n"
            else:
                gz = ", compression: gzip" if point.get("gzip") else ""
                out = f"exporters:\n  otlp: {{ endpoint: \"http://127.0.0.1:{rport}\"{gz} }}\n"
            cfg = work / f"sw-{tag}.yaml"
            cfg.write_text(sw_yaml(target, admin, out, stages))
            env = dict(os.environ, SPANWARD_HMAC_KEY=HMAC_KEY)
            # A baseline point runs the old collector; the load generator stays the new build's,
            # so both sides get the same requests.
            coll = spawn([point.get("spanward", args.spanward), "run", "--config", str(cfg)],
                         work / f"sw-{tag}.log", env=env)
            procs.append(coll)
            wait_port(target, coll, "spanward")
            wait_ready(admin, coll)
        time.sleep(1.0)  # let the collector connect to the next stage and go idle

        signal = point.get("signal", "traces")

        def delivered():
            return metrics_delivered(admin) if sink == "log" else counter_items(recv, signal)

        measured = coll or recv  # whose CPU is measured: the collector, else (bare) the receiver
        c0, r0 = cpu_seconds(measured.pid), delivered()
        rc0 = cpu_seconds(recv.pid) if recv else 0.0
        load = run_load(args, target, point, work, tag)
        load.setdefault("items_ok", load["spans_ok"])  # an older build's report
        for p in procs:
            if p.poll() is not None:
                raise RunFailed(f"{p.args[0]} exited with {p.returncode} during the load:\n"
                                f"{log_tail(p)}")
        # Settle: until every acknowledged span arrived, or nothing arrived for 10 s (the
        # receiver prints once a second; on a machine shared with builds a niced collector can
        # be starved for seconds), at most 120 s (a slow configuration drains a full queue for
        # longer than the load ran).
        got, last, since = delivered() - r0, -1, time.monotonic()
        deadline = time.monotonic() + 120
        while got < load["items_ok"] and time.monotonic() < deadline:
            if got != last:
                last, since = got, time.monotonic()
            elif time.monotonic() - since >= 10.0:
                break
            time.sleep(0.5)
            got = delivered() - r0
        if sink == "otlp":
            time.sleep(1.1)  # one more print of the receiver, so `got` is not a second stale
            got = delivered() - r0
        c1 = cpu_seconds(measured.pid)
        rc1 = cpu_seconds(recv.pid) if recv else 0.0
        hwm = hwm_kib(coll.pid) if coll else None
        if got <= 0:
            raise RunFailed(f"nothing delivered ({load['items_ok']} items acknowledged)")
        return {
            "delivered": got,
            "spans_per_s": got / load["seconds"],
            "cpu_us_per_span": (c1 - c0) / got * 1e6 if coll else None,
            "receiver_cpu_us_per_span": (rc1 - rc0) / got * 1e6 if recv else None,
            "rss_mib": hwm / 1024 if hwm is not None else None,
            "p50_ms": load["p50_ms"],
            "p99_ms": load["p99_ms"],
            "acked": load["items_ok"],
            "lost": load["items_ok"] - got,
            "client_failed_spans": load.get("items_failed", load.get("spans_failed", 0)),
            "client_failures": load.get("failures", {}),
            "load_cpu_us_per_span": load["cpu_s"] / load["items_ok"] * 1e6
            if load["items_ok"] else None,
            "span_bytes": load["bytes_ok"] / load["items_ok"] if load["items_ok"] else None,
            "gzip_ratio": load.get("gzip_ratio"),
            "pii_pieces_fraction": load.get("pii_pieces_fraction"),
            "load_seconds": load["seconds"],
        }
    finally:
        for p in reversed(procs):  # the collector first: it drains into the receiver
            stop(p)
        shutil.rmtree(work / f"log-{tag}", ignore_errors=True)  # GBs per run at full speed


# ---------------------------------------------------------------------------------------------
# Aggregation and output.

def median_of(runs, key):
    vals = [r[key] for r in runs if r.get(key) is not None]
    return statistics.median(vals) if vals else None


def summarize(results):
    """key -> {"runs": [...], "failures": [...], "med": {metric: median}}"""
    out = {}
    for key, res in results.items():
        ok = [r for r in res if "error" not in r]
        med = {}
        if ok:
            for m in ok[0]:
                if isinstance(ok[0][m], (int, float)) or ok[0][m] is None:
                    med[m] = median_of(ok, m)
        out[key] = {"runs": res, "ok": ok, "failures": [r["error"] for r in res if "error" in r],
                    "med": med}
    return out


def fmt(v, spec=",.0f", none="—"):
    return none if v is None else format(v, spec)


def status_cell(s, runs):
    if not s["ok"]:
        return "**FAILED**"
    if s["failures"]:
        return f"{len(s['ok'])}/{runs} (**{len(s['failures'])} failed**)"
    return f"{len(s['ok'])}/{runs}"


def before_after(summ, key):
    """Baseline (`base_KEY`) against KEY: CPU-per-span change of the medians, and per run index
    where both halves succeeded (a pair shares the machine's state of the moment)."""
    b, a = summ["base_" + key], summ[key]
    change = None
    if b["ok"] and a["ok"]:
        change = (a["med"]["cpu_us_per_span"] / b["med"]["cpu_us_per_span"] - 1) * 100
    pairs = [(ra["cpu_us_per_span"] / rb["cpu_us_per_span"] - 1) * 100
             for rb, ra in zip(b["runs"], a["runs"]) if "error" not in rb and "error" not in ra]
    return {"cpu_change_pct": change, "pair_cpu_change_pct": pairs,
            "pair_cpu_change_pct_median": statistics.median(pairs) if pairs else None}


def file_sha(path):
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:12]
    except OSError:
        return "unknown"


def machine_info():
    model = "unknown"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return os.cpu_count(), model


def git_rev():
    try:
        rev = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
                             capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(REPO), "status", "--porcelain", "--", "src",
                                "Cargo.toml", "Cargo.lock"], capture_output=True, text=True,
                               check=True).stdout.strip()
        return rev + (" (with uncommitted changes)" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def tool_version(cmd):
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=10).stdout.strip()
        return out.splitlines()[0] if out else "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def render(args, summ, ctx, started, elapsed):
    nproc, model = machine_info()
    L = []
    L.append("# spanward vs. Rotel: throughput and CPU per span\n")
    if args.quick:
        L.append("> **Quick smoke run (`--quick`): 1 run × 3 s per configuration. These figures "
                 "only show the benchmark works; they are not measurements.**\n")
    L.append(f"- date: {started:%Y-%m-%d %H:%M} UTC; took {elapsed/60:.1f} min")
    L.append(f"- machine: `nproc` = {nproc}, CPU: {model}; load generator, collector and receiver "
             "share these cores")
    L.append(f"- `{ctx['spanward_reports']}` at commit {ctx['rev']}; Rotel `rotel=={ROTEL_VERSION}` "
             f"(PyPI wheel, `rotel/rotel-agent`, which reports `{ctx['rotel_reports']}`)")
    L.append(f"- {args.runs} run(s) per configuration, {args.secs} s of load each, fresh "
             "processes per run, runs interleaved across configurations; figures are medians")
    la0, la1 = ctx["loadavg_start"], ctx["loadavg_end"]
    L.append(f"- machine load (1/5/15-min load average): {la0[0]:.2f} / {la0[1]:.2f} / "
             f"{la0[2]:.2f} at the start, {la1[0]:.2f} / {la1[1]:.2f} / {la1[2]:.2f} at the end "
             "(the benchmark itself keeps about 2 busy)")
    L.append("- command: `benches/compare.sh " + " ".join(ctx["argv"]) + "`\n")
    L.append("Load (gRPC, per run; `--signal logs` for the logs rows, `--pii-fraction` as given "
             "in the PII sweep, `--payload-bytes` in the payload sweep):\n")
    L.append("```sh")
    L.append(" ".join(["spanward"] + load_cmd(args, "PORT", {})[1:]).replace("127.0.0.1:PORT",
                                                                              "127.0.0.1:PORT"))
    L.append("```\n")
    gz = [r["gzip_ratio"] for s_ in summ.values() for r in s_["ok"]
          if r.get("gzip_ratio") and s_ is summ.get("sw_full")]
    gzl = [r["gzip_ratio"] for r in summ["logs_sw_full"]["ok"] if r.get("gzip_ratio")] \
        if "logs_sw_full" in summ else []
    sb = summ["sw_full"]["med"].get("span_bytes") if summ.get("sw_full", {}).get("ok") else None
    L.append("The load is realistic agent traffic (`src/load/`): six agents (support, coding, "
             "analytics, travel, incident, research), each repeating its own system prompt and "
             "tool schemas in every LLM call as real agents do; two in three instrumented with "
             "the OpenTelemetry GenAI keys (`gen_ai.system_instructions`, "
             "`gen_ai.input.messages`, `gen_ai.output.messages`, `gen_ai.tool.definitions`, "
             "`gen_ai.tool.call.arguments`, `gen_ai.tool.call.result`), one in three with "
             "OpenInference's (`input.value`, `output.value`, `llm.input_messages.N.message."
             "content`…); prose prompts and replies from sentence templates and word lists; tool "
             "results holding code, JSON records and log lines; "
             f"{DEFAULT_PII:.0%} of text pieces (messages, tool arguments, tool results) carry a "
             "synthetic PII value or secret (emails, Luhn-valid cards, phone numbers, SSNs, IBANs, "
             "AWS keys, GitHub tokens, JWTs, private key blocks, `password=` assignments, Stripe, "
             "Slack and OpenAI keys). Logs: a `gen_ai.client.inference.operation.details` event "
             "per LLM call (or the older `gen_ai.user.message`/`gen_ai.choice` pair), and Python "
             "`logging` records around tool calls, with the trace and span ids of the spans.")
    if gz or sb:
        L.append("")
        L.append("Payload: " + (f"{sb:,.0f} encoded bytes per span; " if sb else "")
                 + (f"gzip (level 6) ratio {statistics.median(gz):.2f} over whole trace requests"
                    if gz else "")
                 + (f", {statistics.median(gzl):.2f} over log requests" if gzl else "")
                 + ". For scale: the English prose of this repository's docs gzips 2.65×, "
                 "Rust source 3.6×, Python source 4.0×, syslog-style logs 10×; a request "
                 "compresses more than its strings since each agent's system prompt and tool "
                 "schemas recur within gzip's 32 KB window.\n")
    else:
        L.append("")
    L.append("Collectors (`PORT`s are free loopback ports picked per run; the next stage is "
             "`examples/count_receiver.rs`, which counts the items it decodes):\n")
    L.append("```sh")
    L.append("rotel-agent start --otlp-grpc-endpoint 127.0.0.1:PORT --otlp-http-endpoint "
             "127.0.0.1:PORT --exporter otlp --otlp-exporter-endpoint http://127.0.0.1:RECEIVER")
    L.append(f"SPANWARD_HMAC_KEY={HMAC_KEY} spanward run --config sw.yaml")
    L.append("```\n")
    L.append("```yaml")
    L.append("# sw.yaml, common part")
    L.append(sw_yaml("PORT", "PORT", "exporters:\n  otlp: { endpoint: \"http://127.0.0.1:RECEIVER\" }"
                     "\n  # the `gzip` rows: otlp: { endpoint: …, compression: gzip }"
                     "\n  # into the log instead: file: { path: DIR, fsync: batch }\n", "").rstrip())
    L.append("# pass-through")
    L.append(PASS_STAGES.rstrip())
    L.append("# full pipeline (fingerprints and the default packs are on by default)")
    L.append(FULL_STAGES.rstrip())
    L.append("# full pipeline into the log: the file exporter above, plus")
    L.append("pipeline: { ack: durable }")
    L.append("```\n")
    L.append("Collector CPU is its utime+stime from `/proc/PID/stat` over the whole run (load and "
             "flush), divided by the spans delivered; peak RSS is `VmHWM`; latency is the client's; "
             "**lost** = spans acknowledged to the client minus spans delivered once deliveries "
             "stopped (up to 120 s after the load, ending after 10 s without progress); delivered is counted at the receiver, or for "
             "the log from `spanward_pipeline_delivered_spans_total`. The load generator's CPU is "
             "its own rusage (`wait4`) per span it sent, including building its requests before "
             "the clock starts.\n")

    if "main" in ctx["groups"]:
        L.append("## Main comparison\n")
        L.append("Items are spans, or log records in the logs rows.\n")
        L.append("| configuration | delivered items/s | collector CPU µs/item | peak RSS MiB | "
                 "client p50 ms | client p99 ms | items lost | load gen CPU µs/item | runs |")
        L.append("|---|---|---|---|---|---|---|---|---|")
        for key, label, _ in MAIN:
            s = summ[key]
            m = s["med"]
            if not s["ok"]:
                L.append(f"| {label} | — | — | — | — | — | — | — | {status_cell(s, args.runs)} |")
                continue
            L.append(f"| {label} | {fmt(m['spans_per_s'])} | {fmt(m['cpu_us_per_span'], '.2f')} | "
                     f"{fmt(m['rss_mib'], '.0f')} | {fmt(m['p50_ms'], '.1f')} | "
                     f"{fmt(m['p99_ms'], '.1f')} | {fmt(m['lost'], ',.0f')} | "
                     f"{fmt(m['load_cpu_us_per_span'], '.2f')} | {status_cell(s, args.runs)} |")
        L.append("")
        L.append("Ratios to Rotel's pass-through of the same signal in the same run (medians; "
                 "items/s above 1 and CPU below 1 favour spanward; the issue's targets: full "
                 "pipeline ≤ 0.5× CPU without compression and ≤ 1.0× with gzip, ≥ 1.0× items/s, "
                 "durable log ≤ 0.6× CPU):\n")
        L.append("| configuration | items/s ÷ Rotel (gzip) | CPU µs/item ÷ Rotel (gzip) | "
                 "CPU µs/item ÷ Rotel, same compression |")
        L.append("|---|---|---|---|")
        for key, label, point in MAIN:
            if point["kind"] in ("bare", "rotel"):
                continue
            sig_ = point.get("signal", "traces")
            rk = ROTEL_OF[sig_]
            rot = summ[rk]["med"] if summ[rk]["ok"] else None
            m = summ[key]["med"] if summ[key]["ok"] else None
            same_k = ROTEL_SAME.get((sig_, bool(point.get("gzip"))))
            same = summ[same_k]["med"] if same_k and summ[same_k]["ok"] else None
            same_cell = (f"{m['cpu_us_per_span'] / same['cpu_us_per_span']:.2f}×"
                         if (m and same) else "—")
            if point["kind"] == "sw_log":
                same_cell = "— (nothing to compress)"
            if not (rot and m):
                L.append(f"| {label} | — | — | {same_cell} |")
                continue
            L.append(f"| {label} | {m['spans_per_s'] / rot['spans_per_s']:.2f}× | "
                     f"{m['cpu_us_per_span'] / rot['cpu_us_per_span']:.2f}× | {same_cell} |")
        L.append("")
        b = summ["bare"]["med"] if summ["bare"]["ok"] else None
        if b:
            L.append(f"Load generator ceiling (bare, straight into the receiver): "
                     f"{fmt(b['spans_per_s'])} spans/s at {fmt(b['load_cpu_us_per_span'], '.2f')} µs "
                     f"of generator CPU per span (the receiver spent "
                     f"{fmt(b['receiver_cpu_us_per_span'], '.2f')} µs per span decoding and "
                     "counting).\n")
        L.append("### What differs between the peers\n")
        L.append("- **Compression of the forwarded requests.** Rotel's OTLP exporter gzips by "
                 "default (`--otlp-exporter-compression gzip`); spanward's default is "
                 "`exporters.otlp.compression: none` (loopback and in-cluster hops rarely gain "
                 "from it). Like for like: spanward's `compression: gzip` rows against Rotel's "
                 "default row, and spanward's default rows against Rotel with "
                 "`--otlp-exporter-compression none` (the last ratio column). spanward gzips with "
                 "flate2 at level 1 (`fast`); Rotel at its own level.")
        L.append("- **What the collector does.** Rotel and spanward's pass-through rows decode "
                 "(Rotel) or check (spanward) the request and forward it; the full pipeline also "
                 "samples (ratio 1.0: every span kept, `th` written into tracestate), computes "
                 "HMAC fingerprints of inputs and outputs, and scans every string with the "
                 "default rule packs, rewriting what it redacts. Rotel has no equivalent stages.")
        L.append("- **Acknowledgement.** spanward acknowledges once a request is queued (the "
                 "default `ack`), or once it is in the log (`ack: durable`); Rotel once its "
                 "pipeline accepted it. Neither lost anything acknowledged (the lost column).")
        L.append("- **Batching.** Rotel re-batches (`--batch-max-size` 8,192 items, "
                 "`--batch-timeout` 200 ms, its defaults); spanward forwards each request as it "
                 "came (512 items).")
        L.append("- **The load.** Both get the same requests from the same generator, which "
                 "shares the two cores with them; the ceiling row shows what the generator and "
                 "receiver alone cost.\n")

    if "main" in ctx["groups"] and ctx.get("baseline"):
        bl = ctx["baseline"]
        L.append("## Before/after: baseline build against this one\n")
        L.append(f"Before: `{bl['path']}` (reports `{bl['reports']}`, sha256 {bl['sha256']}…); "
                 f"after: `{args.spanward}` (sha256 {bl['after_sha256']}…), the build above. "
                 "Each spanward configuration ran with both, before then after within every run "
                 "index, with the same load generator (the after build's) and receiver. Change = "
                 "after ÷ before − 1 of the medians; per pair = the median of each run index's "
                 "own change, as drift of the machine hits both halves of a pair alike.\n")
        L.append("| configuration | spans/s before | spans/s after | CPU µs/span before | "
                 "CPU µs/span after | CPU/span change % | per pair, median % | "
                 "peak RSS MiB before | peak RSS MiB after | runs before, after |")
        L.append("|---|---|---|---|---|---|---|---|---|---|")
        for key, label, _ in MAIN:
            if "base_" + key not in summ:
                continue
            b, a = summ["base_" + key]["med"], summ[key]["med"]
            ch = bl["pairs"][key]
            L.append(f"| {label} | {fmt(b.get('spans_per_s'))} | {fmt(a.get('spans_per_s'))} | "
                     f"{fmt(b.get('cpu_us_per_span'), '.2f')} | "
                     f"{fmt(a.get('cpu_us_per_span'), '.2f')} | "
                     f"{fmt(ch['cpu_change_pct'], '+.1f')} | "
                     f"{fmt(ch['pair_cpu_change_pct_median'], '+.1f')} | "
                     f"{fmt(b.get('rss_mib'), '.0f')} | {fmt(a.get('rss_mib'), '.0f')} | "
                     f"{status_cell(summ['base_' + key], args.runs)}, "
                     f"{status_cell(summ[key], args.runs)} |")
        L.append("")

    if "sweeps" in ctx["groups"]:
        L.append("## Sweep: PII fraction (full pipeline, OTLP forward, no compression)\n")
        L.append("`--pii-fraction`: the share of text pieces (messages, tool arguments, tool "
                 "results) that carry a synthetic PII value or secret; the main table's load "
                 f"has {DEFAULT_PII:.0%}.\n")
        L.append("| --pii-fraction | pieces with PII (measured) | delivered spans/s | collector "
                 "CPU µs/span | CPU ÷ 0 % | peak RSS MiB | spans lost | runs |")
        L.append("|---|---|---|---|---|---|---|---|")
        zero = summ[f"pii_{PII_SWEEP[0]}"]["med"] if summ[f"pii_{PII_SWEEP[0]}"]["ok"] else None
        for pii in PII_SWEEP:
            s_ = summ[f"pii_{pii}"]
            m = s_["med"]
            if not s_["ok"]:
                L.append(f"| {pii:.0%} | — | — | — | — | — | — | {status_cell(s_, args.runs)} |")
                continue
            rel = f"{m['cpu_us_per_span'] / zero['cpu_us_per_span']:.2f}×" if zero else "—"
            frac = m.get("pii_pieces_fraction")
            L.append(f"| {pii:.0%} | {fmt(frac * 100 if frac is not None else None, '.1f')} % | "
                     f"{fmt(m['spans_per_s'])} | {fmt(m['cpu_us_per_span'], '.2f')} | {rel} | "
                     f"{fmt(m['rss_mib'], '.0f')} | {fmt(m['lost'], ',.0f')} | "
                     f"{status_cell(s_, args.runs)} |")
        L.append("")
        L.append("## Sweep: payload size (full pipeline, OTLP forward)\n")
        L.append("`--payload-bytes` is the mean size of a span's message payloads; the encoded "
                 "span is larger (attributes, ids). Per KB = CPU per span ÷ encoded span size in "
                 "KB (1,000 B): flat per KB means cost linear in size.\n")
        L.append("| --payload-bytes | encoded span B | delivered spans/s | collector CPU µs/span | "
                 "CPU µs per KB | peak RSS MiB | spans lost | load gen CPU µs/span | runs |")
        L.append("|---|---|---|---|---|---|---|---|---|")
        for pb in PAYLOADS:
            s = summ[f"payload_{pb}"]
            m = s["med"]
            if not s["ok"]:
                L.append(f"| {pb:,} | — | — | — | — | — | — | — | {status_cell(s, args.runs)} |")
                continue
            per_kb = m["cpu_us_per_span"] / (m["span_bytes"] / 1000)
            L.append(f"| {pb:,} | {fmt(m['span_bytes'])} | {fmt(m['spans_per_s'])} | "
                     f"{fmt(m['cpu_us_per_span'], '.2f')} | {per_kb:.2f} | "
                     f"{fmt(m['rss_mib'], '.0f')} | {fmt(m['lost'], ',.0f')} | "
                     f"{fmt(m['load_cpu_us_per_span'], '.2f')} | {status_cell(s, args.runs)} |")
        pts = [(summ[f"payload_{pb}"]["med"]["span_bytes"] / 1000,
                summ[f"payload_{pb}"]["med"]["cpu_us_per_span"])
               for pb in PAYLOADS if summ[f"payload_{pb}"]["ok"]]
        if len(pts) >= 3 and len({x for x, _ in pts}) == len(pts):
            xs, ys = [x for x, _ in pts], [y for _, y in pts]
            fit = statistics.linear_regression(xs, ys)
            r2 = statistics.correlation(xs, ys) ** 2
            L.append("")
            L.append(f"Least-squares line through the medians: CPU per span ≈ "
                     f"{fit.intercept:.2f} µs + {fit.slope:.2f} µs per KB of span "
                     f"(R² = {r2:.4f}); the fixed part is why the per-KB column falls with size.")
        L.append("")
        n = ctx["default_rules"]
        L.append("## Sweep: rule count (full pipeline, OTLP forward, 1.5 KB payloads)\n")
        L.append(f"The default packs hold {n} rules (`spanward patterns list`). Extra rules are "
                 "generated keyword-prefixed token rules with made-up vendor prefixes, two `tp` "
                 "and two `fp` examples each, checked with `spanward patterns test FILE` and "
                 "loaded with `redaction: { pattern_files: [FILE] }`.\n")
        L.append("| rules | extra user rules | delivered spans/s | collector CPU µs/span | "
                 "CPU ÷ default | peak RSS MiB | spans lost | runs |")
        L.append("|---|---|---|---|---|---|---|---|")
        base = summ["rules_1"]["med"] if summ["rules_1"]["ok"] else None
        for f in RULE_FACTORS:
            s = summ[f"rules_{f}"]
            m = s["med"]
            label = "default packs" if f == 1 else f"{f}× default"
            if not s["ok"]:
                L.append(f"| {n * f} ({label}) | {n * (f - 1)} | — | — | — | — | — | "
                         f"{status_cell(s, args.runs)} |")
                continue
            rel = f"{m['cpu_us_per_span'] / base['cpu_us_per_span']:.2f}×" if base else "—"
            L.append(f"| {n * f} ({label}) | {n * (f - 1)} | {fmt(m['spans_per_s'])} | "
                     f"{fmt(m['cpu_us_per_span'], '.2f')} | {rel} | {fmt(m['rss_mib'], '.0f')} | "
                     f"{fmt(m['lost'], ',.0f')} | {status_cell(s, args.runs)} |")
        L.append("")
        L.append("The 1,500 B payload point and the default-packs point are one configuration and "
                 "share their runs" + (", with the main table's full pipeline row"
                                       if "main" in ctx["groups"] else "") + ".\n")

    fails = []
    for key, s in summ.items():
        for e in dict.fromkeys(s["failures"]):  # each distinct reason once, with its count
            n = s["failures"].count(e)
            fails.append(f"- `{key}`" + (f" ({n} runs)" if n > 1 else "") + ": "
                         + e.strip().replace("\n", "\n  "))
        for i, r in enumerate(s["runs"]):
            if r.get("client_failures"):
                what = ", ".join(f"{n} × {k}" for k, n in sorted(r["client_failures"].items()))
                fails.append(f"- `{key}` run {i + 1}: requests not accepted by the collector "
                             f"({what}; {r['client_failed_spans']:,} spans), counted neither as "
                             "sent nor as lost")
    if fails:
        L.append("## Failures and refusals\n")
        L.extend(fails)
        L.append("")
    L.append(f"Raw per-run figures: `{ctx['json_name']}`; chart: `{ctx['png_name']}`.")
    return "\n".join(L) + "\n"


def plot(summ, ctx, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = []
    if "main" in ctx["groups"]:
        panels += ["main_sps", "main_cpu"]
    if "sweeps" in ctx["groups"]:
        panels += ["payload", "rules", "pii", "none"]
    fig, axes = plt.subplots(len(panels) // 2, 2, figsize=(15, 4.8 * (len(panels) // 2)),
                             squeeze=False)
    axes = axes.flatten()
    short = {"bare": "bare\n(ceiling)", "rotel": "Rotel\n(gzip)", "rotel_none": "Rotel\nno gzip",
             "sw_pass": "sw pass", "sw_pass_gz": "sw pass\ngzip",
             "sw_full": "sw full", "sw_full_gz": "sw full\ngzip",
             "sw_log": "sw full\n→ log", "logs_bare": "logs\nbare", "logs_rotel": "logs\nRotel",
             "logs_sw_pass": "logs\nsw pass", "logs_sw_full": "logs\nsw full"}

    def bars(ax, metric, title, ylabel, keys):
        xs, ys, lo, hi, colors = [], [], [], [], []
        for k in keys:
            s = summ[k]
            xs.append(short[k] + ("" if s["ok"] else "\n(FAILED)"))
            vals = [r[metric] for r in s["ok"] if r.get(metric) is not None]
            med = statistics.median(vals) if vals else 0
            ys.append(med)
            lo.append(med - min(vals) if vals else 0)
            hi.append(max(vals) - med if vals else 0)
            colors.append("#888888" if k.endswith("bare") else "#d98c3f" if "rotel" in k
                          else "#3f7fd9")
        ax.bar(xs, ys, yerr=[lo, hi], color=colors, capsize=4)
        for i, y in enumerate(ys):
            if y:
                ax.annotate(f"{y:,.0f}" if y >= 100 else f"{y:.1f}", (i, y), ha="center",
                            va="bottom", xytext=(0, 3), textcoords="offset points", fontsize=8)
        ax.set_title(title)
        ax.set_ylabel(ylabel)
        ax.tick_params(axis="x", labelsize=7)

    i = 0
    if "main" in ctx["groups"]:
        bars(axes[i], "spans_per_s", "Delivered items/s (median, bars: min–max)", "items/s",
             [k for k, _, _ in MAIN])
        bars(axes[i + 1], "cpu_us_per_span", "Collector CPU per item (median)", "µs CPU / item",
             [k for k, _, p in MAIN if p["kind"] != "bare"])
        i += 2
    if "sweeps" in ctx["groups"]:
        ax = axes[i]
        pts = [(summ[f"payload_{pb}"]["med"], pb) for pb in PAYLOADS
               if summ[f"payload_{pb}"]["ok"]]
        if pts:
            kb = [m["span_bytes"] / 1000 for m, _ in pts]
            ax.plot(kb, [m["cpu_us_per_span"] for m, _ in pts], "o-", color="#3f7fd9",
                    label="µs CPU / span")
            ax.set_xlabel("encoded span size, KB")
            ax.set_ylabel("µs CPU / span")
            ax2 = ax.twinx()
            ax2.plot(kb, [m["cpu_us_per_span"] / k for (m, _), k in zip(pts, kb)], "s--",
                     color="#d98c3f", label="µs CPU / KB")
            ax2.set_ylabel("µs CPU / KB")
            ax2.set_ylim(bottom=0)
            ax.set_ylim(bottom=0)
            ax.legend(loc="upper left")
            ax2.legend(loc="center right")
        ax.set_title("Payload sweep, full pipeline (median)")
        ax = axes[i + 1]
        n = ctx["default_rules"]
        pts = [(n * f, summ[f"rules_{f}"]["med"]) for f in RULE_FACTORS if summ[f"rules_{f}"]["ok"]]
        if pts:
            ax.plot([p for p, _ in pts], [m["cpu_us_per_span"] for _, m in pts], "o-",
                    color="#3f7fd9", label="µs CPU / span")
            ax.set_ylim(bottom=0)
            ax.set_xlabel("rules enabled")
            ax.set_ylabel("µs CPU / span")
            ax2 = ax.twinx()
            ax2.plot([p for p, _ in pts], [m["spans_per_s"] for _, m in pts], "s--",
                     color="#d98c3f", label="spans/s")
            ax2.set_ylim(0, max(m["spans_per_s"] for _, m in pts) * 1.3)
            ax.set_ylim(0, max(m["cpu_us_per_span"] for _, m in pts) * 1.3)
            ax2.set_ylabel("delivered spans/s")
            ax.legend(loc="upper left")
            ax2.legend(loc="upper right")
        ax.set_title("Rule-count sweep, full pipeline (median)")
        ax = axes[i + 2]
        pts = [(pii * 100, summ[f"pii_{pii}"]["med"]) for pii in PII_SWEEP
               if summ[f"pii_{pii}"]["ok"]]
        if pts:
            ax.plot([p for p, _ in pts], [m["cpu_us_per_span"] for _, m in pts], "o-",
                    color="#3f7fd9", label="µs CPU / span")
            ax.set_ylim(0, max(m["cpu_us_per_span"] for _, m in pts) * 1.3)
            ax.set_xlabel("% of text pieces with PII or secrets")
            ax.set_ylabel("µs CPU / span")
            ax2 = ax.twinx()
            ax2.plot([p for p, _ in pts], [m["spans_per_s"] for _, m in pts], "s--",
                     color="#d98c3f", label="spans/s")
            ax2.set_ylim(0, max(m["spans_per_s"] for _, m in pts) * 1.3)
            ax2.set_ylabel("delivered spans/s")
            ax.legend(loc="upper left")
            ax2.legend(loc="upper right")
        ax.set_title("PII-fraction sweep, full pipeline (median)")
        axes[i + 3].axis("off")
    fig.suptitle(("QUICK SMOKE RUN, not a measurement — " if ctx["quick"] else "")
                 + f"spanward vs. Rotel {ROTEL_VERSION}, {ctx['nproc']} cores")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


# ---------------------------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=3, help="runs per configuration (default 3)")
    ap.add_argument("--secs", type=int, default=20, help="seconds of load per run (default 20)")
    ap.add_argument("--concurrency", type=int, default=8, help="requests in flight (default 8)")
    ap.add_argument("--quick", action="store_true",
                    help="smoke test: 1 run x 3 s of everything, output to target/bench-quick/")
    ap.add_argument("--only", choices=["main", "sweeps"],
                    help="run only one part (main: the comparison with Rotel, traces and logs; "
                    "sweeps: PII fraction, payload size, rule count)")
    ap.add_argument("--out", type=Path, help="output directory (default docs/bench, or "
                    "target/bench-quick with --quick)")
    ap.add_argument("--spanward", required=True)
    ap.add_argument("--receiver", required=True)
    ap.add_argument("--rotel", required=True)
    ap.add_argument("--baseline", metavar="OLD_SPANWARD",
                    help="an older spanward binary: every spanward configuration of the main "
                    "table also runs with it, before its counterpart in every run index, for a "
                    "before/after table (path relative to the repository root)")
    ap.add_argument("--argv", default="", help=argparse.SUPPRESS)  # compare.sh's own arguments
    args = ap.parse_args()
    if args.quick:
        args.runs, args.secs = 1, 3
    if args.runs < 1 or args.secs < 1 or args.concurrency < 1:
        ap.error("--runs, --secs and --concurrency must be at least 1")
    out = args.out or (REPO / ("target/bench-quick" if args.quick else "docs/bench"))
    if args.baseline and args.only == "sweeps":
        ap.error("--baseline compares the main table's configurations; not with --only sweeps")
    if args.baseline and not os.access(args.baseline, os.X_OK):
        ap.error(f"--baseline {args.baseline}: not an executable file")

    signal.signal(signal.SIGTERM, _on_term)
    signal.signal(signal.SIGHUP, _on_term)
    groups = ["main", "sweeps"] if args.only is None else [args.only]
    started = datetime.datetime.now(datetime.timezone.utc)
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="spanward-compare-") as tmp:
        try:
            work = Path(tmp)
            ctx = {"work": work, "groups": groups, "quick": args.quick, "rev": git_rev(),
                   "argv": args.argv.split() if args.argv else [], "nproc": os.cpu_count(),
                   "json_name": "compare.json", "png_name": "compare.png", "packs": {},
                   "rotel_reports": tool_version([args.rotel, "--version"]),
                   "loadavg_start": os.getloadavg(),
                   "spanward_reports": tool_version([args.spanward, "--version"])}
            if args.baseline:  # both builds may report the same version: the hashes tell them apart
                ctx["baseline"] = {"path": args.baseline,
                                   "reports": tool_version([args.baseline, "--version"]),
                                   "sha256": file_sha(args.baseline),
                                   "after_sha256": file_sha(args.spanward)}
            # Points, in run order; identical configurations share a key and their runs.
            points = {}
            if "main" in groups:
                for key, _, point in MAIN:
                    if args.baseline and key.startswith("sw_"):  # old right before new, per run
                        points["base_" + key] = dict(point, payload=DEFAULT_PAYLOAD,
                                                     spanward=args.baseline)
                    points[key] = dict(point, payload=DEFAULT_PAYLOAD)
            if "sweeps" in groups:
                for pii in PII_SWEEP:
                    points[f"pii_{pii}"] = {"kind": "sw_full", "payload": DEFAULT_PAYLOAD,
                                            "pii": pii}
                for pb in PAYLOADS:
                    points[f"payload_{pb}"] = {"kind": "sw_full", "payload": pb}
                for f in RULE_FACTORS:
                    points[f"rules_{f}"] = {"kind": "sw_full", "payload": DEFAULT_PAYLOAD,
                                            "rules": f}
                n = default_rule_count(args.spanward)
                ctx["default_rules"] = n
                for f in RULE_FACTORS[1:]:
                    pack = work / f"user-rules-{f}x.toml"
                    write_user_pack(pack, n * (f - 1))
                    chk = subprocess.run([args.spanward, "patterns", "test", str(pack)],
                                         capture_output=True, text=True)
                    if chk.returncode != 0:
                        fails = [l for l in chk.stdout.splitlines() if l.startswith("FAIL")]
                        raise SystemExit(f"generated pack {pack.name} fails `spanward patterns "
                                         f"test`:\n" + "\n".join(fails[:20]) + chk.stderr)
                    ctx["packs"][f] = str(pack)
            def sig(q):
                return (q["kind"], q["payload"], q.get("rules", 1), q.get("spanward"),
                        q.get("gzip", False), q.get("signal", "traces"),
                        q.get("pii", DEFAULT_PII))

            alias = {k: next(a for a, q in points.items() if sig(q) == sig(p))
                     for k, p in points.items()}
            unique = [k for k in points if alias[k] == k]
            results = {k: [] for k in unique}
            total = len(unique) * args.runs
            done = 0
            for r in range(args.runs):  # interleaved, so drift of a shared machine hits all alike
                for key in unique:
                    done += 1
                    tag = f"{key}-{r}"
                    print(f"[{done}/{total}] {key} run {r + 1}/{args.runs} ...", file=sys.stderr,
                          flush=True)
                    try:
                        res = run_point(args, points[key], ctx, tag)
                        print(f"    {res['spans_per_s']:,.0f} spans/s, collector "
                              f"{fmt(res['cpu_us_per_span'], '.2f')} µs/span, lost {res['lost']}, "
                              f"load gen {fmt(res['load_cpu_us_per_span'], '.2f')} µs/span",
                              file=sys.stderr, flush=True)
                    except Exception as e:  # reported as failed; Ctrl-C and exits propagate
                        res = {"error": str(e) if isinstance(e, RunFailed)
                               else f"{type(e).__name__}: {e}"}
                        print(f"    FAILED: {e}", file=sys.stderr, flush=True)
                    results[key].append(res)
            ctx["loadavg_end"] = os.getloadavg()
            summ_u = summarize(results)
            summ = {k: summ_u[alias[k]] for k in points}
            if "baseline" in ctx:
                ctx["baseline"]["pairs"] = {k: before_after(summ, k) for k, _, _ in MAIN
                                            if "base_" + k in summ}
            out.mkdir(parents=True, exist_ok=True)
            elapsed = time.monotonic() - t0
            md = render(args, summ, ctx, started, elapsed)
            (out / "compare.md").write_text(md)
            report = {"date": started.isoformat(), "machine": machine_info(), "rev": ctx["rev"],
                      "loadavg_start": ctx["loadavg_start"], "loadavg_end": ctx["loadavg_end"],
                      "runs": args.runs, "secs": args.secs, "concurrency": args.concurrency,
                      "default_rules": ctx.get("default_rules"),
                      "results": {k: results[alias[k]] for k in points}}
            if "baseline" in ctx:  # the raw runs are under results["base_KEY"]
                report["baseline"] = ctx["baseline"]
            (out / "compare.json").write_text(json.dumps(report, indent=1))
            plot(summ, ctx, out / "compare.png")
            print(md)
            print(f"wrote {out / 'compare.md'}, {out / 'compare.png'}, {out / 'compare.json'}",
                  file=sys.stderr)
            failed = [k for k in points if not summ[k]["ok"]]
            return 1 if failed else 0
        finally:
            stop_all()  # before the temporary directory goes


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:  # children are already stopped (main's finally)
        print("interrupted; every process this benchmark started is stopped", file=sys.stderr)
        sys.exit(130)
