#!/usr/bin/python3
"""What the per-container cgroup files cost the daemon: this build against
a baseline build of another git ref (default `main`), on N live test
cgroups each holding a sleeping process, run alternately in the same script.
Each test cgroup has a memory cgroup of its own and, on hybrid hosts, a v1
cpu cgroup at the same path, as docker and podman make them, so that every
file a container's figures come from is read.

Each round starts one daemon (1 s interval), lets it settle, then counts
its CPU time and its collections over SECONDS, read through /health (which
touches no per-container data). Reported: daemon CPU ms per collection for
each build, the per-round ratio this/baseline (median and range) and what
the difference is per container file read. This build reads, besides the
baseline's PSI and memory usage/limit, memory.stat (working set, RSS,
cache), the CPU limit and cpu.stat (throttling) for every container whose
files are due, and looks names up in the runtimes' files once.

usage: tools/bench/cgfiles.py [N_CGROUPS=300] [ROUNDS=4] [SECONDS=30]
BENCH_BASE_REF: the baseline ref (main).
"""
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                "tests", "integration"))
import harness as h  # noqa: E402

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")


def cpu_ticks(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def build_base(ref, where):
    """kpulse built from `ref` in `where`; its path."""
    arch = subprocess.run(["git", "-C", ROOT, "archive", ref], check=True, capture_output=True)
    subprocess.run(["tar", "-x", "-C", where], input=arch.stdout, check=True)
    subprocess.run(["make", "-C", where, "-j2", "kpulse"], check=True, capture_output=True)
    return os.path.join(where, "kpulse")


def one_round(binary, ncg, seconds):
    old = h.KPULSE
    h.KPULSE = binary
    try:
        d = h.Daemon()
    finally:
        h.KPULSE = old
    try:
        deadline = time.time() + 30
        while time.time() < deadline:
            if len(h.series(d.metrics(), "kpulse_container_cpu_seconds_total")) >= ncg:
                break
            time.sleep(0.5)
        time.sleep(5)   # every container's files read at least once, names looked up
        c0, t0 = json.loads(d.get("/health")[2])["collections"], cpu_ticks(d.proc.pid)
        time.sleep(seconds)
        c1, t1 = json.loads(d.get("/health")[2])["collections"], cpu_ticks(d.proc.pid)
    finally:
        d.stop()
    return (t1 - t0) / os.sysconf("SC_CLK_TCK") / (c1 - c0) * 1e3, c1 - c0


def main():
    ncg = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 4
    seconds = int(sys.argv[3]) if len(sys.argv) > 3 else 30
    ref = os.environ.get("BENCH_BASE_REF", "main")
    tmp = tempfile.mkdtemp(prefix="kpulse-bench-base-")
    base = build_base(ref, tmp)
    rev = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", ref], capture_output=True,
                         text=True).stdout.strip()
    head = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"],
                          capture_output=True, text=True).stdout.strip()
    cg = h.MemCgroups()
    cpu_v1 = h.v1_mount("cpu")
    res = {"base": [], "this": []}
    try:
        for i in range(ncg):
            path = cg.make_mem("c%04d" % i)
            p = cg.run(path, [h.WORKLOAD, "sleepy", "600", "1000000", "20"])
            if cpu_v1 and cpu_v1[1] == "/":     # docker's layout: the same path in v1 cpu
                d = cpu_v1[0] + cg.rel(path)
                os.makedirs(os.path.dirname(d), exist_ok=True)
                if os.path.dirname(d) not in cg.made:
                    cg.made.insert(0, os.path.dirname(d))
                os.mkdir(d)
                cg.made.append(d)
                with open(os.path.join(d, "cgroup.procs"), "w") as f:
                    f.write(str(p.pid))
        for r in range(rounds):
            order = (("base", base), ("this", h.KPULSE)) if r % 2 == 0 else \
                    (("this", h.KPULSE), ("base", base))
            for name, binary in order:
                res[name].append(one_round(binary, ncg, seconds))
                print("round %d %s: %.2f ms CPU per collection (%d collections)"
                      % (r, name, *res[name][-1]), file=sys.stderr)
    finally:
        cg.cleanup()
        subprocess.run(["rm", "-rf", tmp])
    ratios = [t[0] / b[0] for t, b in zip(res["this"], res["base"])]
    b = statistics.median(x[0] for x in res["base"])
    t = statistics.median(x[0] for x in res["this"])
    out = ["## Cgroup files per collection, %d live cgroups" % ncg, "",
           "%s, kernel %s, %d rounds of %d s each, builds run alternately; baseline %s (%s), "
           "this %s" % (time.strftime("%Y-%m-%d"), os.uname().release, rounds, seconds, ref,
                        rev, head), "",
           "| build | daemon CPU ms per collection (median) | rounds |",
           "| --- | --- | --- |",
           "| baseline | %.2f | %s |" % (b, ", ".join("%.2f" % x[0] for x in res["base"])),
           "| this | %.2f | %s |" % (t, ", ".join("%.2f" % x[0] for x in res["this"])), "",
           "this / baseline per round: median %.3f, range %.3f-%.3f; difference %.1f µs "
           "per container per collection (128 containers' files are read per collection at "
           "most, the rest wait their turn)." % (statistics.median(ratios), min(ratios),
                                                max(ratios), (t - b) * 1e3 / min(ncg, 128))]
    text = "\n".join(out) + "\n"
    print(text)
    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "results-cgfiles.md"),
              "w") as f:
        f.write(text)


if __name__ == "__main__":
    main()
