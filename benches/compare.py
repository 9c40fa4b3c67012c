#!/usr/bin/env python3
"""Side-by-side throughput benchmark: spanward against Rotel, in front of one counting receiver.

Run it through `benches/compare.sh`, which builds the binaries, fetches Rotel and sets up the
Python venv (matplotlib), then calls this script with the paths. Every configuration runs
`--runs` times (medians reported), each run with fresh processes:

  0  bare: `spanward load` straight into the counting receiver (the load generator's ceiling)
  1  Rotel pass-through to the receiver
  2  spanward pass-through (fingerprints and redaction off), OTLP forward
  3  spanward full pipeline (sampling 1.0, fingerprints, default packs), OTLP forward
  4  spanward full pipeline into the tamper-evident log (fsync: batch, ack: durable)

plus two sweeps of configuration 3: payload size, and rule count (default packs vs. extra user
rules making 2x and 4x as many). Writes compare.md, compare.png and compare.json (raw runs) to
docs/bench/ (or target/bench-quick/ with --quick) and prints the markdown.

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
LOAD_FIXED = ["--protocol", "grpc", "--spans-per-request", "512", "--pii-fraction", "0.3",
              "--seed", "1", "--json"]
PAYLOADS = [500, 1500, 5000, 20000]
RULE_FACTORS = [1, 2, 4]
DEFAULT_PAYLOAD = 1500

PASS_STAGES = "fingerprint: { enabled: false }\nredaction: { enabled: false }\n"
FULL_STAGES = "sampling: { ratio: 1.0 }\n"

# Main-table configurations, in table order: (key, label).
MAIN = [
    ("bare", "bare: load generator → receiver (ceiling)"),
    ("rotel", f"Rotel {ROTEL_VERSION} pass-through, OTLP forward"),
    ("sw_pass", "spanward pass-through (stages off), OTLP forward"),
    ("sw_full", "spanward full pipeline (sampling 1.0, fingerprints, default packs), OTLP forward"),
    ("sw_log", "spanward full pipeline → tamper-evident log, `ack: durable`"),
]


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


_COUNT_RE = re.compile(r"^spans=(\d+) requests=(\d+)$")


def counter_spans(recv):
    """Last complete `spans=N requests=M` line the counting receiver printed (once a second)."""
    text = Path(recv.log_path).read_text(errors="replace")
    for line in reversed(text.split("\n")[:-1]):  # the part after the last newline may be partial
        m = _COUNT_RE.match(line.strip())
        if m:
            return int(m.group(1))
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
    """Collector description for a point: (kind, stages, sink) where kind is bare|rotel|spanward
    and sink is otlp|log."""
    kind = point["kind"]
    if kind in ("bare", "rotel"):
        return kind, "", "otlp"
    stages = PASS_STAGES if kind == "sw_pass" else FULL_STAGES
    if point.get("rules", 1) > 1:
        stages += f"redaction: {{ pattern_files: [\"{ctx['packs'][point['rules']]}\"] }}\n"
    if kind == "sw_log":
        stages += "pipeline: { ack: durable }\n"
    return "spanward", stages, "log" if kind == "sw_log" else "otlp"


def run_load(args, endpoint, payload, work, tag):
    cmd = [args.spanward, "load", "--endpoint", f"127.0.0.1:{endpoint}",
           "--duration", f"{args.secs}s", "--concurrency", str(args.concurrency),
           "--payload-bytes", str(payload)] + LOAD_FIXED
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
                out = f"exporters:\n  otlp: {{ endpoint: \"http://127.0.0.1:{rport}\" }}\n"
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

        def delivered():
            return metrics_delivered(admin) if sink == "log" else counter_spans(recv)

        measured = coll or recv  # whose CPU is measured: the collector, else (bare) the receiver
        c0, r0 = cpu_seconds(measured.pid), delivered()
        rc0 = cpu_seconds(recv.pid) if recv else 0.0
        load = run_load(args, target, point["payload"], work, tag)
        for p in procs:
            if p.poll() is not None:
                raise RunFailed(f"{p.args[0]} exited with {p.returncode} during the load:\n"
                                f"{log_tail(p)}")
        # Settle: until every acknowledged span arrived, or nothing arrived for 3 s (the
        # receiver prints once a second), at most 30 s.
        got, last, since = delivered() - r0, -1, time.monotonic()
        deadline = time.monotonic() + 30
        while got < load["spans_ok"] and time.monotonic() < deadline:
            if got != last:
                last, since = got, time.monotonic()
            elif time.monotonic() - since >= 3.0:
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
            raise RunFailed(f"nothing delivered ({load['spans_ok']} spans acknowledged)")
        return {
            "delivered": got,
            "spans_per_s": got / load["seconds"],
            "cpu_us_per_span": (c1 - c0) / got * 1e6 if coll else None,
            "receiver_cpu_us_per_span": (rc1 - rc0) / got * 1e6 if recv else None,
            "rss_mib": hwm / 1024 if hwm is not None else None,
            "p50_ms": load["p50_ms"],
            "p99_ms": load["p99_ms"],
            "acked": load["spans_ok"],
            "lost": load["spans_ok"] - got,
            "client_failed_spans": load.get("spans_failed", 0),
            "client_failures": load.get("failures", {}),
            "load_cpu_us_per_span": load["cpu_s"] / load["spans_ok"] * 1e6
            if load["spans_ok"] else None,
            "span_bytes": load["bytes_ok"] / load["spans_ok"] if load["spans_ok"] else None,
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
    L.append("- command: `benches/compare.sh " + " ".join(ctx["argv"]) + "`\n")
    L.append("Load (gRPC, per run):\n")
    L.append("```sh")
    L.append(f"spanward load --endpoint 127.0.0.1:PORT --duration {args.secs}s --concurrency "
             f"{args.concurrency} --payload-bytes {DEFAULT_PAYLOAD} " + " ".join(LOAD_FIXED))
    L.append("```\n")
    L.append("Collectors (`PORT`s are free loopback ports picked per run; the next stage is "
             "`examples/count_receiver.rs`, which counts the spans it decodes):\n")
    L.append("```sh")
    L.append("rotel-agent start --otlp-grpc-endpoint 127.0.0.1:PORT --otlp-http-endpoint "
             "127.0.0.1:PORT --exporter otlp --otlp-exporter-endpoint http://127.0.0.1:RECEIVER")
    L.append(f"SPANWARD_HMAC_KEY={HMAC_KEY} spanward run --config sw.yaml")
    L.append("```\n")
    L.append("```yaml")
    L.append("# sw.yaml, common part")
    L.append(sw_yaml("PORT", "PORT", "exporters:\n  otlp: { endpoint: \"http://127.0.0.1:RECEIVER\" }"
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
             "stopped (up to 30 s after the load); delivered is counted at the receiver, or for "
             "the log from `spanward_pipeline_delivered_spans_total`. The load generator's CPU is "
             "its own rusage (`wait4`) per span it sent, including building its requests before "
             "the clock starts.\n")

    if "main" in ctx["groups"]:
        L.append("## Main comparison\n")
        L.append("| configuration | delivered spans/s | collector CPU µs/span | peak RSS MiB | "
                 "client p50 ms | client p99 ms | spans lost | load gen CPU µs/span | runs |")
        L.append("|---|---|---|---|---|---|---|---|---|")
        for key, label in MAIN:
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
        rot = summ["rotel"]["med"] if summ["rotel"]["ok"] else None
        L.append("Ratios to Rotel (medians; spans/s above 1 and CPU below 1 favour spanward):\n")
        L.append("| configuration | spans/s ÷ Rotel | CPU µs/span ÷ Rotel |")
        L.append("|---|---|---|")
        for key, label in MAIN[2:]:
            m = summ[key]["med"] if summ[key]["ok"] else None
            if not (rot and m):
                L.append(f"| {label} | — | — |")
                continue
            L.append(f"| {label} | {m['spans_per_s'] / rot['spans_per_s']:.2f}× | "
                     f"{m['cpu_us_per_span'] / rot['cpu_us_per_span']:.2f}× |")
        L.append("")
        b = summ["bare"]["med"] if summ["bare"]["ok"] else None
        if b:
            L.append(f"Load generator ceiling (bare, straight into the receiver): "
                     f"{fmt(b['spans_per_s'])} spans/s at {fmt(b['load_cpu_us_per_span'], '.2f')} µs "
                     f"of generator CPU per span (the receiver spent "
                     f"{fmt(b['receiver_cpu_us_per_span'], '.2f')} µs per span decoding and "
                     "counting).\n")

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
        for key, label in MAIN:
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
        panels += ["payload", "rules"]
    fig, axes = plt.subplots(len(panels) // 2, 2, figsize=(13, 4.8 * (len(panels) // 2)),
                             squeeze=False)
    axes = axes.flatten()
    short = {"bare": "bare\n(ceiling)", "rotel": "Rotel\npass-through",
             "sw_pass": "spanward\npass-through", "sw_full": "spanward\nfull pipeline",
             "sw_log": "spanward full\n→ log, durable"}

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
            colors.append("#888888" if k == "bare" else "#d98c3f" if k == "rotel" else "#3f7fd9")
        ax.bar(xs, ys, yerr=[lo, hi], color=colors, capsize=4)
        for i, y in enumerate(ys):
            if y:
                ax.annotate(f"{y:,.0f}" if y >= 100 else f"{y:.1f}", (i, y), ha="center",
                            va="bottom", xytext=(0, 3), textcoords="offset points", fontsize=8)
        ax.set_title(title)
        ax.set_ylabel(ylabel)
        ax.tick_params(axis="x", labelsize=8)

    i = 0
    if "main" in ctx["groups"]:
        bars(axes[i], "spans_per_s", "Delivered spans/s (median, bars: min–max)", "spans/s",
             [k for k, _ in MAIN])
        bars(axes[i + 1], "cpu_us_per_span", "Collector CPU per span (median)", "µs CPU / span",
             [k for k, _ in MAIN[1:]])
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
    ap.add_argument("--only", choices=["main", "sweeps"], help="run only one part")
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
                   "spanward_reports": tool_version([args.spanward, "--version"])}
            if args.baseline:  # both builds may report the same version: the hashes tell them apart
                ctx["baseline"] = {"path": args.baseline,
                                   "reports": tool_version([args.baseline, "--version"]),
                                   "sha256": file_sha(args.baseline),
                                   "after_sha256": file_sha(args.spanward)}
            # Points, in run order; identical configurations share a key and their runs.
            points = {}
            if "main" in groups:
                for key, _ in MAIN:
                    if args.baseline and key.startswith("sw_"):  # old right before new, per run
                        points["base_" + key] = {"kind": key, "payload": DEFAULT_PAYLOAD,
                                                 "spanward": args.baseline}
                    points[key] = {"kind": key, "payload": DEFAULT_PAYLOAD}
            if "sweeps" in groups:
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
                return (q["kind"], q["payload"], q.get("rules", 1), q.get("spanward"))

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
            summ_u = summarize(results)
            summ = {k: summ_u[alias[k]] for k in points}
            if "baseline" in ctx:
                ctx["baseline"]["pairs"] = {k: before_after(summ, k) for k, _ in MAIN
                                            if "base_" + k in summ}
            out.mkdir(parents=True, exist_ok=True)
            elapsed = time.monotonic() - t0
            md = render(args, summ, ctx, started, elapsed)
            (out / "compare.md").write_text(md)
            report = {"date": started.isoformat(), "machine": machine_info(), "rev": ctx["rev"],
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
