#!/usr/bin/env python3
"""vt and bpftrace side by side: a big map printed and scraped, startup, ten probes, cost per event, compile
time, footprint.

Run as root from anywhere:  python3 runtime/benches/compare.py   (see BENCHMARKS.md)

Every measurement alternates the two tracers (vt first on even rounds, bpftrace first on odd ones) and
reports medians. Wall time and peak RSS come from wait4 on the tracer itself, forked from a tiny C
launcher (spawn.c) so that the RSS of the process it was forked from does not count; the cost per event
comes from the kernel's own BPF statistics (kernel.bpf_stats_enabled=1), read from the tracer's
program fd in /proc/<pid>/fdinfo, so other tracers running on a shared machine do not get mixed in.
"""

import argparse
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
TARGET = "x86_64-unknown-linux-gnu"

# Ten syscall tracepoints that exist on every x86-64 kernel with syscall tracepoints.
TEN = ["getppid", "getpid", "gettid", "getuid", "geteuid", "getgid", "getegid", "sched_yield", "getpgrp", "getsid"]

# Startup and ten probes, two ways. With `BEGIN { exit(); }` vt runs BEGIN before attaching and, once
# BEGIN has called exit(), attaches nothing else (nothing could fire); bpftrace 0.17 still attaches every
# probe. So those rows are kept for continuity only. The `interval:ms:1 { exit(); }` variants make both
# tracers attach (and then detach) every tracepoint: the interval's first tick ends the run, and neither
# tool acts on exit() before all probes are attached. `verify_attach` checks this with strace, and these
# are the rows that get the PASS/MISS verdicts.
STARTUP_SKIP = "BEGIN { exit(); } tracepoint:syscalls:sys_enter_getppid { @c = count(); }"
STARTUP = "interval:ms:1 { exit(); }\ntracepoint:syscalls:sys_enter_getppid { @c = count(); }\n"
_TEN_BODY = "".join(f"tracepoint:syscalls:sys_enter_{s} {{ @c{i} = count(); }}\n" for i, s in enumerate(TEN, 1))
TEN_PROBES_SKIP = "BEGIN { exit(); }\n" + _TEN_BODY
TEN_PROBES = "interval:ms:1 { exit(); }\n" + _TEN_BODY
# Kernel types: the same startup with a read through BTF types (`curtask->parent->pid`): vt reads the
# types it names from /sys/kernel/btf/vmlinux, bpftrace 0.17 parses all of it.
KTYPES = "interval:ms:1 { exit(); }\ntracepoint:syscalls:sys_enter_getppid { @p[curtask->parent->pid] = count(); }\n"
# bpftrace 0.17 spells field access `args->f` only; vt accepts both `args.f` and `args->f`.
PER_EVENT = "tracepoint:syscalls:sys_enter_getppid { @h = hist(args->__syscall_nr); @c = count(); }"
FLOOR = "tracepoint:syscalls:sys_enter_getppid { }"
# If vt cannot run an empty block: a predicate that is always false (getppid is not syscall 0). Not
# `/pid == 0/`: the bpf_get_current_pid_tgid call alone costs ~20 ns here, more than the whole hist program.
FLOOR_PRED = "tracepoint:syscalls:sys_enter_getppid /args->__syscall_nr == 0/ { @c = count(); }"

WORKLOAD_C = r"""
#include <stdlib.h>
#include <unistd.h>
#include <sys/syscall.h>
int main(int argc, char **argv) {
    long n = argc > 1 ? atol(argv[1]) : 2000000;
    for (long i = 0; i < n; i++) syscall(SYS_getppid);
    return 0;
}
"""

# A function to put a uprobe on, called N times (not inlined, kept by -O0), and a busy loop of a few
# distinct stacks for the profile: main → spin_a/spin_b → work.
CALLS_C = r"""
#include <stdlib.h>
__attribute__((noinline)) long vt_bench_hit(long i) { return i * 3; }
__attribute__((noinline)) long work(long n) { long s = 0; for (long i = 0; i < n; i++) s += i ^ (s >> 3); return s; }
__attribute__((noinline)) long spin_a(long n) { return work(n) + 1; }
__attribute__((noinline)) long spin_b(long n) { return work(n) + 2; }
int main(int argc, char **argv) {
    long n = argc > 1 ? atol(argv[1]) : 1000000, s = 0;
    if (argc > 2) { for (;;) s += spin_a(100000) + spin_b(200000); }
    for (long i = 0; i < n; i++) s += vt_bench_hit(i);
    return s == 42;
}
"""
UPROBE_EVENT = "uprobe:{bin}:vt_bench_hit {{ @c = count(); }}"
PROFILE_USTACK = "profile:hz:99 {{ @[ustack] = count(); }} interval:s:{secs} {{ exit(); }}"

# bpftrace refuses more than 512 probes or programs unless told otherwise.
BT_ENV = dict(os.environ, BPFTRACE_MAX_PROBES="5000", BPFTRACE_MAX_BPF_PROGS="5000")


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def sh(cmd, **kw):
    return subprocess.run(cmd, shell=isinstance(cmd, str), check=True, capture_output=True, text=True, **kw).stdout


# ---------------------------------------------------------------------------------------------- running


class Run:
    """One finished child: wall seconds, peak RSS in KiB, exit status, stderr text, and the seconds until
    every process it left behind had exited too (vt's closer)."""

    def __init__(self, wall, rss_kib, status, stderr, settled):
        self.wall, self.rss_kib, self.status, self.stderr, self.settled = wall, rss_kib, status, stderr, settled


SPAWN = None  # the compiled spawn.c


def timed(argv, env=None, timeout=120, stdout_path=os.devnull):
    """Runs argv to completion through spawn.c: wall time from fork to reap, peak RSS from wait4."""
    with tempfile.NamedTemporaryFile() as err:
        out = subprocess.run([SPAWN, stdout_path, err.name] + argv, check=True, capture_output=True, text=True,
                             env=dict(env or os.environ, SPAWN_TIMEOUT=str(int(timeout))))
        ns, rss, status, settled = out.stdout.split()
        return Run(int(ns) / 1e9, int(rss), int(status), open(err.name, errors="replace").read(), int(settled) / 1e9)


def check_ok(name, run):
    if run.status != 0:
        raise SystemExit(f"{name} failed (status {run.status}):\n{run.stderr}")


# ---------------------------------------------------------------------------------------------- bpf stats


def prog_fds(pid):
    """The BPF programs a process holds open: {prog_id: fdinfo dict}."""
    out = {}
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except FileNotFoundError:
        return out
    for fd in fds:
        try:
            if os.readlink(f"/proc/{pid}/fd/{fd}") != "anon_inode:bpf-prog":
                continue
            with open(f"/proc/{pid}/fdinfo/{fd}") as f:
                info = dict(line.split(":", 1) for line in f if ":" in line)
        except OSError:
            continue
        info = {k.strip(): v.strip() for k, v in info.items()}
        out[int(info["prog_id"])] = info
    return out


def tracepoint_prog(pid, prog_type="5"):
    """The tracer's program of a type (5: tracepoint, 2: kprobe, which uprobes are) that has run the most,
    as (id, run_cnt, run_time_ns)."""
    best = None
    for pid_, info in prog_fds(pid).items():
        if info.get("prog_type") != prog_type:
            continue
        cand = (pid_, int(info.get("run_cnt", 0)), int(info.get("run_time_ns", 0)))
        if best is None or cand[1] > best[1]:
            best = cand
    return best


class EarlyExit(Exception):
    def __init__(self, argv, stderr):
        super().__init__(f"{argv[0]} exited early:\n{stderr}")
        self.stderr = stderr


def per_event(argv, env, workload, n_events, uprobe=False):
    """Starts a tracer, waits until its program fires, runs the workload, returns the BPF stats delta. A
    uprobe's program (kprobe type) is made to fire by running the workload once."""
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    try:
        deadline = time.monotonic() + 60
        while True:
            if p.poll() is not None:
                raise EarlyExit(argv, p.stderr.read().decode(errors="replace"))
            if uprobe:
                subprocess.run([workload, "1"], check=True)
            else:
                os.getppid()  # glibc does not cache getppid: one real syscall, one event once attached
            tp = tracepoint_prog(p.pid, "2" if uprobe else "5")
            if tp and tp[1] > 0:
                break
            if time.monotonic() > deadline:
                raise SystemExit(f"{argv[0]}: program never fired")
            time.sleep(0.01)
        pid_id, cnt0, ns0 = tp
        subprocess.run([workload, str(n_events)], check=True)
        _, cnt1, ns1 = next((i, int(x["run_cnt"]), int(x["run_time_ns"]))
                            for i, x in prog_fds(p.pid).items() if i == pid_id)
        xlated = json.loads(sh(["bpftool", "-j", "prog", "show", "id", str(pid_id)]))
        dump = sh(["bpftool", "prog", "dump", "xlated", "id", str(pid_id)])
        # Count instructions, not lines: a 16-byte ld_imm64 is two instruction slots.
        return {
            "ns": (ns1 - ns0) / max(cnt1 - cnt0, 1),
            "cnt": cnt1 - cnt0,
            "insns": xlated["bytes_xlated"] // 8,
            "lines": sum(1 for line in dump.splitlines() if re.match(r"\s*\d+:", line)),
            "jited": xlated.get("bytes_jited", 0),
            "name": xlated.get("name", "?"),
        }
    finally:
        p.send_signal(signal.SIGINT)
        try:
            p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


# ---------------------------------------------------------------------------------------------- a big map

# A map of KEYS keys, filled by the workload's getppid calls (one new key each), then read REPS times:
# printed by `print(@m)` (both tracers; bench.py's own getpgid call triggers it) and, for vt, scraped
# from `--metrics`. bpftrace 0.17 has no metrics endpoint, so its row is the print.
BIG_MAP = """tracepoint:syscalls:sys_enter_getppid /comm == "getppid_loop"/ {{ @i = @i + 1; @m[@i] = @i; }}
tracepoint:syscalls:sys_enter_getpgid /pid == {pid}/ {{ print(@m); }}
"""


def status_kib(pid, field):
    with open(f"/proc/{pid}/status") as f:
        return next(int(l.split()[1]) for l in f if l.startswith(field + ":"))


def http_get(port, path="/metrics"):
    import socket
    with socket.create_connection(("127.0.0.1", port), timeout=60) as c:
        c.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        data = b""
        while chunk := c.recv(1 << 20):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.1 200"):
        raise SystemExit(f"scrape failed: {head[:200]!r}")
    return body


def big_map(argv, env, workload, keys, reps, port=None):
    # (bpftrace runs with `-B full`, the buffering of a file: it still flushes after each print.)
    """One tracer holding a KEYS-key map: the time each print(@m) takes to arrive whole, each scrape
    (vt), the exposition's size, and the tracer's RSS (now and peak) after all of them."""
    import threading
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    done = []  # monotonic time at which each print's last entry arrived
    seen = [0]
    cond = threading.Condition()

    def reader():
        for line in p.stdout:
            if line.startswith(b"@m["):
                seen[0] += 1
                if seen[0] % keys == 0:
                    with cond:
                        done.append(time.monotonic())
                        cond.notify_all()
    t = threading.Thread(target=reader, daemon=True)
    t.start()
    try:
        deadline = time.monotonic() + 60
        # Attached: both programs have run (the print of a still empty map prints no entry).
        while sum(1 for i in prog_fds(p.pid).values() if i.get("prog_type") == "5" and int(i.get("run_cnt", 0))) < 2:
            if p.poll() is not None:
                raise EarlyExit(argv, p.stderr.read().decode(errors="replace"))
            if time.monotonic() > deadline:
                raise SystemExit(f"{argv[0]}: programs never fired")
            os.getppid()
            os.getpgid(0)
            time.sleep(0.01)
        subprocess.run([workload, str(keys)], check=True)
        prints, scrapes, size = [], [], 0
        for _ in range(reps):
            t0 = time.monotonic()
            os.getpgid(0)
            with cond:
                if not cond.wait_for(lambda: len(done) > len(prints), timeout=60):
                    p.kill()
                    raise SystemExit(f"{argv[0]}: print(@m) did not arrive whole ({seen[0]} entries seen): "
                                     f"{p.stderr.read().decode(errors='replace')}")
                prints.append(done[len(prints)] - t0)
            if port:
                t0 = time.monotonic()
                body = http_get(port)
                scrapes.append(time.monotonic() - t0)
                size = len(body)
                n = sum(1 for l in body.splitlines() if l.startswith(b"vt_m{"))
                if n != keys:
                    raise SystemExit(f"the exposition has {n} samples of vt_m, not {keys}")
        return {"print": prints, "scrape": scrapes, "bytes": size,
                "rss": status_kib(p.pid, "VmRSS"), "hwm": status_kib(p.pid, "VmHWM")}
    finally:
        p.send_signal(signal.SIGINT)
        try:
            p.wait(timeout=60)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


# ---------------------------------------------------------------------------------------------- attach check


def verify_attach(argv, env=None):
    """Runs argv once under strace; returns (tracepoint perf events opened, cpu-clock events opened), counting
    only perf_event_open calls that returned an fd. None when strace is missing."""
    if not shutil.which("strace"):
        return None
    with tempfile.NamedTemporaryFile() as out:
        subprocess.run(["strace", "-f", "-qq", "-e", "trace=perf_event_open", "-o", out.name] + argv, env=env,
                       stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=120)
        text = open(out.name, errors="replace").read()
    ok = [line for line in text.splitlines() if re.search(r"= \d+$", line)]
    return (sum("PERF_TYPE_TRACEPOINT" in line for line in ok), sum("CPU_CLOCK" in line for line in ok))


# ---------------------------------------------------------------------------------------------- footprint


def ldd(path):
    try:
        out = subprocess.run(["ldd", path], capture_output=True, text=True).stdout + ""
    except FileNotFoundError:
        return None, []
    if "not a dynamic executable" in out or "statically linked" in out:
        return "not a dynamic executable", []
    libs = []
    for line in out.splitlines():
        m = re.match(r"\s*(\S+)(?: => (\S+))?", line)
        if m and "linux-vdso" not in m.group(1):
            libs.append(m.group(2) or m.group(1))
    return f"{len(libs)} shared libraries", libs


def size_with_libs(path, libs):
    total = os.path.getsize(path)
    for lib in libs:
        if os.path.exists(lib):
            total += os.path.getsize(os.path.realpath(lib))
    return total


# ---------------------------------------------------------------------------------------------- report


class Table:
    def __init__(self):
        self.rows = []

    def add(self, what, vt, bt, ratio=None, target=None, ok=None):
        self.rows.append((what, vt, bt, ratio, target, ok))

    def render(self):
        head = ("measurement", "vt", "bpftrace", "vt/bt", "target", "result")
        rows = [head] + [(w, v, b, "" if r is None else f"{r:.3f}", t or "",
                          "" if ok is None else ("PASS" if ok else "MISS")) for w, v, b, r, t, ok in self.rows]
        widths = [max(len(str(r[i])) for r in rows) for i in range(len(head))]
        lines = ["| " + " | ".join(str(c).ljust(widths[i]) for i, c in enumerate(r)) + " |" for r in rows]
        lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
        return "\n".join(lines)


def free_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def med(xs):
    return statistics.median(xs)


def spread(xs, fmt):
    return f"{fmt(med(xs))} ({fmt(min(xs))}–{fmt(max(xs))})" if len(xs) > 1 else fmt(xs[0])


def ms(s):
    return f"{s * 1000:.0f} ms" if s >= 0.1 else f"{s * 1000:.1f} ms"


def mib(k):
    return f"{k / 1024:.1f} MiB"


def alternate(rounds, fns):
    """Calls each of fns once per round, reversing the order every other round; returns lists of results."""
    out = [[] for _ in fns]
    for r in range(rounds):
        order = list(range(len(fns)))
        if r % 2:
            order.reverse()
        for i in order:
            out[i].append(fns[i]())
    return out


# ---------------------------------------------------------------------------------------------- main


def finish(t, notes, a, work):
    """Prints (and with --markdown writes) the table and its notes; removes the scratch directory."""
    out = t.render() + "\n\n" + "\n".join(f"- {x}" for x in notes) + "\n"
    print(out)
    if a.markdown:
        with open(a.markdown, "w") as f:
            f.write(out)
    shutil.rmtree(work, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--src", default=REPO, help="vt source tree to build (default: this repository)")
    ap.add_argument("--vt", help="use this vt binary instead of building one")
    ap.add_argument("--bpftrace", default=shutil.which("bpftrace") or "/usr/bin/bpftrace")
    ap.add_argument("--rounds", type=int, default=9, help="rounds for startup and ten probes (default 9)")
    ap.add_argument("--event-rounds", type=int, default=5, help="rounds for the per-event cost (default 5)")
    ap.add_argument("--compile-rounds", type=int, default=3, help="rounds for compile time (default 3)")
    ap.add_argument("--events", type=int, default=2_000_000, help="getppid calls per per-event round")
    ap.add_argument("--blocks", type=int, default=1000, help="probe blocks / map entries in compile scripts")
    ap.add_argument("--profile-rounds", type=int, default=3, help="rounds of the 10 s ustack profile (default 3)")
    ap.add_argument("--profile-secs", type=int, default=10, help="seconds of each ustack profile (default 10)")
    ap.add_argument("--no-static", action="store_true", help="skip the static build")
    ap.add_argument("--markdown", help="also write the table to this file")
    ap.add_argument("--keys", type=int, default=10_000, help="keys of the big map (default 10,000)")
    ap.add_argument("--map-rounds", type=int, default=3, help="rounds for the big map (default 3)")
    ap.add_argument("--only", choices=["all", "metrics", "startup"], default="all",
                    help="`metrics`: only the big map's print / scrape rows; `startup`: only the startup, "
                         "ten-probe and kernel-types rows")
    a = ap.parse_args()

    if os.geteuid() != 0:
        raise SystemExit("run as root: the tracers load BPF programs")
    bt = a.bpftrace
    work = tempfile.mkdtemp(prefix="vt-bench-")

    # -- build ------------------------------------------------------------------------------------------
    if a.vt:
        vt = os.path.abspath(a.vt)
    else:
        log(f"building vt (release) in {a.src}")
        subprocess.run(["cargo", "build", "--release", "-q", "-p", "runtime", "--bin", "vt"], cwd=a.src, check=True)
        meta = json.loads(sh(["cargo", "metadata", "--format-version", "1", "--no-deps"], cwd=a.src))
        vt = os.path.join(meta["target_directory"], "release", "vt")
    static = None
    if not a.no_static:
        log("building vt (static, crt-static) into target/static")
        env = dict(os.environ, RUSTFLAGS="-C target-feature=+crt-static",
                   CARGO_TARGET_DIR=os.path.join(a.src, "target", "static"))
        r = subprocess.run(["cargo", "build", "--release", "-q", "-p", "runtime", "--bin", "vt", "--target", TARGET],
                           cwd=a.src, env=env, capture_output=True, text=True)
        if r.returncode == 0:
            static = os.path.join(a.src, "target", "static", TARGET, "release", "vt")
        else:
            log(f"static build failed:\n{r.stderr[-2000:]}")
    global SPAWN
    SPAWN = os.path.join(work, "spawn")
    subprocess.run(["gcc", "-O2", "-o", SPAWN, os.path.join(HERE, "spawn.c")], check=True)
    close_cost = os.path.join(work, "close_cost")
    subprocess.run(["gcc", "-O2", "-pthread", "-o", close_cost, os.path.join(HERE, "close_cost.c")], check=True)
    workload = os.path.join(work, "getppid_loop")
    with open(workload + ".c", "w") as f:
        f.write(WORKLOAD_C)
    subprocess.run(["gcc", "-O2", "-o", workload, workload + ".c"], check=True)
    calls = os.path.join(work, "calls")
    with open(calls + ".c", "w") as f:
        f.write(CALLS_C)
    subprocess.run(["gcc", "-O0", "-g", "-fno-omit-frame-pointer", "-o", calls, calls + ".c"], check=True)

    def script(name, text):
        path = os.path.join(work, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    t = Table()
    notes = []
    loads = []

    def load(when):
        with open("/proc/loadavg") as f:
            loads.append(f"{when} {' '.join(f.read().split()[:3])}")

    load("start")
    try:
        commit = sh(["git", "-C", a.src, "log", "-1", "--format=%h %s"]).strip()
        dirty = sh(["git", "-C", a.src, "status", "--porcelain", "--untracked-files=no"]).strip()
        notes.append(f"vt source: `{a.src}` at `{commit}`" + (" plus uncommitted changes" if dirty else "")
                     + ("" if not a.vt else f" (but the binary measured is `{vt}`)"))
    except (subprocess.CalledProcessError, FileNotFoundError):
        pass

    # -- a big map: printed, and scraped from --metrics -------------------------------------------------
    if a.only != "startup":
        with open("/proc/sys/kernel/bpf_stats_enabled") as f:
            stats_before = f.read().strip()
        subprocess.run(["sysctl", "-q", "kernel.bpf_stats_enabled=1"], check=True)  # readiness: run counts
        try:
            k, reps = a.keys, 10
            path = script("big_map.vt", BIG_MAP.format(pid=os.getpid()))
            log(f"big map: {a.map_rounds} rounds, {k} keys, {reps} prints (and scrapes) each")
            big_env = dict(BT_ENV, BPFTRACE_MAP_KEYS_MAX=str(k))

            def vt_big():
                port = free_port()
                return big_map([vt, "--map-keys", str(k), "--metrics", str(port), "--no-exit-maps", path], None,
                               workload, k, reps, port)
            vt_m, bt_m = alternate(a.map_rounds, [vt_big, lambda: big_map([bt, "-B", "full", path], big_env, workload, k, reps)])
        finally:
            subprocess.run(["sysctl", "-q", f"kernel.bpf_stats_enabled={stats_before}"], check=True)
        vp, bp = sum((r["print"] for r in vt_m), []), sum((r["print"] for r in bt_m), [])
        vs = sum((r["scrape"] for r in vt_m), [])
        t.add(f"{k}-key map: print(@m), until the last entry arrives", spread(vp, ms), spread(bp, ms), med(vp) / med(bp))
        t.add(f"{k}-key map: GET /metrics (vt; bpftrace has none)", spread(vs, ms), "", med(vs) / med(bp))
        t.add(f"{k}-key map: exposition size", f"{vt_m[0]['bytes'] / 1024:.0f} KiB", "")
        vr, br = med([r["rss"] for r in vt_m]), med([r["rss"] for r in bt_m])
        t.add(f"{k}-key map: RSS after {reps} prints (+ {reps} scrapes for vt)", mib(vr), mib(br), vr / br)
        vh, bh = med([r["hwm"] for r in vt_m]), med([r["hwm"] for r in bt_m])
        t.add(f"{k}-key map: peak RSS", mib(vh), mib(bh), vh / bh)
        notes.append(f"{k}-key map: `@m[@i] = @i` for {k} getppid calls, then {reps} times `print(@m)` (a getpgid "
                     f"call of the bench triggers it; timed until the last entry is read from the pipe) and, for vt, "
                     f"`GET /metrics` (timed until the body is read); the ratio of the scrape row is to bpftrace's "
                     f"print. vt runs with `--map-keys {k}`, bpftrace with BPFTRACE_MAP_KEYS_MAX={k}.")
    load("after big map")
    if a.only == "metrics":
        finish(t, notes, a, work)
        return


    # -- startup and ten probes -------------------------------------------------------------------------
    skip = "BEGIN exit(): vt skips attaching"
    honest = "interval exit: both attach"
    for label, text, target, rss_target in (
            (f"startup: 1 tracepoint ({skip})", STARTUP_SKIP, None, None),
            (f"startup: 1 tracepoint ({honest})", STARTUP, 0.1, 0.1),
            (f"10 probes: 10 tracepoints ({skip})", TEN_PROBES_SKIP, None, None),
            (f"10 probes: 10 tracepoints ({honest})", TEN_PROBES, 0.2, None),
            (f"kernel types: curtask->parent->pid ({honest})", KTYPES, None, None)):
        path = script(re.sub(r"\W+", "_", label)[:40] + ".vt", text)
        vt_att, bt_att = verify_attach([vt, path]), verify_attach([bt, path], env=BT_ENV)
        if vt_att is not None:
            t.add(f"{label}, perf events opened, tp + cpu-clock (strace)",
                  f"{vt_att[0]} + {vt_att[1]}", f"{bt_att[0]} + {bt_att[1]}")
            want = text.count("tracepoint:")
            if target is not None and (vt_att[0] != want or bt_att[0] != want):
                notes.append(f"WARNING: `{label}` should open {want} tracepoint perf events in both tracers; "
                             f"vt opened {vt_att[0]}, bpftrace {bt_att[0]}: its verdict does not measure attach.")
        log(f"{label}: {a.rounds} rounds")
        vt_runs, bt_runs = alternate(a.rounds, [lambda: timed([vt, path]), lambda: timed([bt, path], env=BT_ENV)])
        for r in vt_runs:
            check_ok("vt", r)
        for r in bt_runs:
            check_ok("bpftrace", r)
        vw, bw = [r.wall for r in vt_runs], [r.wall for r in bt_runs]
        ratio = med(vw) / med(bw)
        t.add(f"{label}, wall", spread(vw, ms), spread(bw, ms), ratio,
              None if target is None else f"≤ {target}", None if target is None else ratio <= target)
        vs, bs = [r.settled for r in vt_runs], [r.settled for r in bt_runs]
        t.add(f"{label}, until the kernel has detached (vt-closer exits)", spread(vs, ms), spread(bs, ms), med(vs) / med(bs))
        vr, br = [r.rss_kib for r in vt_runs], [r.rss_kib for r in bt_runs]
        ratio = med(vr) / med(br)
        t.add(f"{label}, peak RSS", mib(med(vr)), mib(med(br)), ratio,
              None if rss_target is None else f"≤ {rss_target}", None if rss_target is None else ratio <= rss_target)
    notes.append("startup / 10 probes: the `BEGIN exit()` rows are the old scripts; vt now runs BEGIN before "
                 "attaching and attaches nothing after a BEGIN exit(), bpftrace 0.17 attaches anyway, so those "
                 "rows do not compare attach + detach. The `interval:ms:1 { exit(); }` rows do (both open every "
                 "tracepoint's perf event, see the strace rows) and carry the verdicts.")

    load("after startup/10 probes")
    if a.only == "startup":
        notes.append("load averages: " + "; ".join(loads))
        finish(t, notes, a, work)
        return
    # -- cost per event ---------------------------------------------------------------------------------
    with open("/proc/sys/kernel/bpf_stats_enabled") as f:
        stats_before = f.read().strip()
    subprocess.run(["sysctl", "-q", "kernel.bpf_stats_enabled=1"], check=True)
    try:
        ev_path = script("per_event.vt", PER_EVENT)
        fl_vt, fl_bt = script("floor_vt.vt", FLOOR), script("floor_bt.vt", FLOOR)
        try:
            per_event([vt, fl_vt], None, workload, 1000)
        except EarlyExit as e:
            fl_vt = script("floor_vt.vt", FLOOR_PRED)
            notes.append(f"vt cannot run an empty block (`{e.stderr.strip().splitlines()[-1]}`): its floor row is "
                         "`/args->__syscall_nr == 0/ { @c = count(); }`, a predicate that is always false; "
                         "'minus floor' subtracts bpftrace's empty program (2 instructions) from both.")
        log(f"per event: {a.event_rounds} rounds x {a.events} getppid calls, program and floor")
        vt_ev, bt_ev, vt_fl, bt_fl = alternate(a.event_rounds, [
            lambda: per_event([vt, ev_path], None, workload, a.events),
            lambda: per_event([bt, ev_path], BT_ENV, workload, a.events),
            lambda: per_event([vt, fl_vt], None, workload, a.events),
            lambda: per_event([bt, fl_bt], BT_ENV, workload, a.events),
        ])
        up_path = script("uprobe.vt", UPROBE_EVENT.format(bin=calls))
        log(f"uprobe per event: {a.event_rounds} rounds x {a.events // 10} calls")
        vt_up, bt_up = alternate(a.event_rounds, [
            lambda: per_event([vt, up_path], None, calls, a.events // 10, uprobe=True),
            lambda: per_event([bt, up_path], BT_ENV, calls, a.events // 10, uprobe=True),
        ])
    finally:
        subprocess.run(["sysctl", "-q", f"kernel.bpf_stats_enabled={stats_before}"], check=True)

    def ns(x):
        return f"{x:.1f} ns"

    vns, bns = [r["ns"] for r in vt_ev], [r["ns"] for r in bt_ev]
    vfl, bfl = [r["ns"] for r in vt_fl], [r["ns"] for r in bt_fl]
    ratio = med(vns) / med(bns)
    t.add("per event: hist(args->__syscall_nr) + count()", spread(vns, ns), spread(bns, ns), ratio, "≤ 0.7", ratio <= 0.7)
    t.add("per event: floor (empty program)", spread(vfl, ns), spread(bfl, ns), med(vfl) / med(bfl))
    # The kernel's floor is what an empty program costs; bpftrace can load one, so both subtract that.
    vnet, bnet = med(vns) - med(bfl), med(bns) - med(bfl)
    t.add("per event: program minus empty-program floor", ns(vnet), ns(bnet), vnet / bnet if bnet > 0 else None)
    vi, bi = vt_ev[0]["insns"], bt_ev[0]["insns"]
    t.add("translated instructions (xlated)", str(vi), str(bi), vi / bi, "≤ 0.6", vi / bi <= 0.6)
    t.add("JITed bytes", str(vt_ev[0]["jited"]), str(bt_ev[0]["jited"]), vt_ev[0]["jited"] / max(bt_ev[0]["jited"], 1))
    t.add("floor: translated instructions", str(vt_fl[0]["insns"]), str(bt_fl[0]["insns"]))
    vu, bu = [r["ns"] for r in vt_up], [r["ns"] for r in bt_up]
    t.add("per event: uprobe { @c = count(); } (BPF program time)", spread(vu, ns), spread(bu, ns), med(vu) / med(bu))
    notes.append("uprobe per event: the BPF program's own time per hit from the kernel's stats; the uprobe's trap "
                 "(some µs) is the kernel's and the same for both tracers.")

    # -- a 10 s ustack profile, symbolized at exit -------------------------------------------------------
    load("before profile")
    prof = script("profile.vt", PROFILE_USTACK.format(secs=a.profile_secs))
    spinner = subprocess.Popen([calls, "0", "spin"])
    try:
        log(f"profile @[ustack]: {a.profile_rounds} rounds of {a.profile_secs} s")
        vp, bp = alternate(a.profile_rounds, [
            lambda: timed([vt, prof], timeout=a.profile_secs + 120),
            lambda: timed([bt, prof], env=BT_ENV, timeout=a.profile_secs + 120),
        ])
    finally:
        spinner.kill()
        spinner.wait()
    for r in vp:
        check_ok("vt", r)
    for r in bp:
        check_ok("bpftrace", r)
    label = f"profile:hz:99 {{ @[ustack] = count(); }} for {a.profile_secs} s, printed at exit"
    vw, bw = [r.wall for r in vp], [r.wall for r in bp]
    t.add(f"{label}, wall", spread(vw, ms), spread(bw, ms), med(vw) / med(bw))
    vr, br = [r.rss_kib for r in vp], [r.rss_kib for r in bp]
    t.add(f"{label}, peak RSS", mib(med(vr)), mib(med(br)), med(vr) / med(br), "≤ 0.25", med(vr) / med(br) <= 0.25)
    notes.append("ustack profile: every CPU sampled at 99 Hz while a frame-pointer C program spins in two "
                 "stacks (and whatever else runs on the machine); wall includes printing, which names every "
                 "frame (vt: /proc/kallsyms untouched, ELF symbols and debug links through blazesym).")

    notes.append(f"program names: vt `{vt_ev[0]['name']}`, bpftrace `{bt_ev[0]['name']}`; "
                 f"events per round: {vt_ev[0]['cnt']} (vt), {bt_ev[0]['cnt']} (bpftrace).")

    load("after per event")
    # -- compile time -----------------------------------------------------------------------------------
    n = a.blocks
    blocks = script("blocks.vt", "".join(
        f"tracepoint:syscalls:sys_enter_getppid {{ @c{i} = count(); }}\n" for i in range(1, n + 1)))
    keyed = "BEGIN {\n" + "".join(f"  @m[{i}] = {i};\n" for i in range(1, n + 1)) + "}\n"
    keyed_bt = script("keyed.bt", keyed)
    keyed_vt = keyed_bt
    if subprocess.run([vt, "-d", keyed_bt], capture_output=True).returncode != 0:
        keyed_vt = script("keyed_fallback.vt", "BEGIN {\n" + "".join(
            f"  @m = sum({i});\n" for i in range(1, n + 1)) + "  exit();\n}\n")
        notes.append(f"vt has no keyed maps yet: its {n}-entry initialisation script is one BEGIN block with "
                     f"{n} statements `@m = sum(i);` (bpftrace compiles `@m[i] = i;`).")
    elf = os.path.join(work, "out.elf")
    compile_rows = []
    for label, vpath, bpath in ((f"compile: {n} probe blocks", blocks, blocks),
                                (f"compile: {n}-entry map init in BEGIN", keyed_vt, keyed_bt)):
        log(f"{label}: {a.compile_rounds} rounds")
        vc, bc = alternate(a.compile_rounds, [
            lambda: timed([vt, "-d", vpath]),
            lambda: timed([bt, "--emit-elf", elf, bpath], env=BT_ENV, timeout=600),
        ])
        for r in vc:
            check_ok("vt -d", r)
        for r in bc:
            check_ok("bpftrace --emit-elf", r)
        vw, bw = [r.wall for r in vc], [r.wall for r in bc]
        if "probe blocks" in label:
            t.add(label, spread(vw, ms), spread(bw, ms), med(vw) / med(bw), "vt ≤ 100 ms", med(vw) <= 0.1)
        else:
            t.add(label, spread(vw, ms), spread(bw, ms), med(vw) / med(bw))
        compile_rows.append((label, med([r.rss_kib for r in vc]), med([r.rss_kib for r in bc])))
    for label, vr, br in compile_rows:
        t.add(label + ", peak RSS", mib(vr), mib(br), vr / br)
    notes.append("compile only: `vt -d FILE` (listing, nothing loaded) vs `bpftrace --emit-elf FILE` "
                 "(bpftrace 0.17's dry run that still runs the whole LLVM pipeline).")

    # -- footprint --------------------------------------------------------------------------------------
    vdeps, vlibs = ldd(vt)
    bdeps, blibs = ldd(bt)
    t.add("binary size", mib(os.path.getsize(vt) / 1024), mib(os.path.getsize(bt) / 1024),
          os.path.getsize(vt) / os.path.getsize(bt))
    t.add("binary + shared libraries", mib(size_with_libs(vt, vlibs) / 1024), mib(size_with_libs(bt, blibs) / 1024),
          size_with_libs(vt, vlibs) / size_with_libs(bt, blibs))
    t.add("ldd", vdeps, bdeps)
    if static:
        sdeps, _ = ldd(static)
        size = os.path.getsize(static)
        ok = size <= 10 * 1024 * 1024 and sdeps == "not a dynamic executable"
        t.add("static vt (+crt-static): size, ldd", f"{mib(size / 1024)}, {sdeps}", "", None,
              "≤ 10 MiB, no deps", ok)
        srun = timed([static, script("static_startup.vt", STARTUP)])
        check_ok("static vt", srun)
        t.add("static vt: startup (interval exit) wall, peak RSS (1 run)", f"{ms(srun.wall)}, {mib(srun.rss_kib)}", "")
    elif a.no_static:
        t.add("static vt (+crt-static)", "skipped (--no-static)", "")
    else:
        t.add("static vt (+crt-static)", "build failed", "", None, "≤ 10 MiB, no deps", False)
    # -- where detach time goes: the kernel's cost of closing tracepoint perf events ---------------------
    tps = [f"sys_enter_{x}" for x in TEN]
    log("close cost: 10 tracepoint perf events with a BPF program, sequential vs parallel; raw tracepoints")
    raws = ["sys_enter", "sys_exit", "sched_switch", "sched_wakeup", "sched_process_exec", "sched_process_exit",
            "sched_process_fork", "irq_handler_entry", "irq_handler_exit", "softirq_entry"]
    held = dict(os.environ, CLOSE_COST_HOLD="1")
    seq, par, one, one_held, raw = alternate(3, [
        lambda: float(sh([close_cost, "seq"] + tps)),
        lambda: float(sh([close_cost, "par"] + tps)),
        lambda: float(sh([close_cost, "seq", tps[0]])),
        lambda: float(sh([close_cost, "seq", tps[0]], env=held)),
        lambda: float(sh([close_cost, "raw"] + raws)),
    ])
    t.add("kernel: close 1 tracepoint perf event (C, BPF attached)", spread(one, lambda x: f"{x:.0f} ms"), "")
    t.add("kernel: the same, tracepoint kept registered (detach only)", spread(one_held, lambda x: f"{x:.0f} ms"), "")
    t.add("kernel: close 10, one after another", spread(seq, lambda x: f"{x:.0f} ms"), "")
    t.add("kernel: close 10 from 10 threads", spread(par, lambda x: f"{x:.0f} ms"), "")
    t.add("kernel: close 10 raw tracepoint links instead", spread(raw, lambda x: f"{x:.1f} ms"), "")

    load("end")
    notes.append("load average (1/5/15 min, 2 CPUs): " + "; ".join(loads))
    notes.append(f"vt libraries: {', '.join(os.path.basename(l) for l in vlibs) or 'none'}")
    notes.append(f"bpftrace libraries ({len(blibs)}): {', '.join(os.path.basename(l) for l in blibs)}")

    finish(t, notes, a, work)


if __name__ == "__main__":
    main()
