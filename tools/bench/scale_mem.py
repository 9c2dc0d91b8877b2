#!/usr/bin/python3
"""What N containers cost the daemon's userspace once 15 minutes of history
are full, without waiting 15 minutes and without BPF: scale_bench.c (the
real model, analysis and outputs; simulated containers that run a little
every second, 451 analysis ticks at 2 s) built against this tree and
against a baseline tree (BENCH_BASE_REF, default main, from git archive),
ROUNDS alternating runs each. Reports heap in use after the ticks (model
and analysis), CPU per analysis tick, per /metrics render and per
/api/v1/containers answer, this build / baseline with the range over
rounds. Heap is what malloc holds in use (mallinfo2), not RSS: the
process's RSS adds the binary, libraries and BPF maps (tools/bench/
scale.py measures the live daemon).

usage: tools/bench/scale_mem.py [N ...]   (default: 1000 10000)
       tools/bench/scale_mem.py --build DIR   (build both into DIR and stop:
       the builds need no quiet machine, the runs do; then
       BENCH_SCALE_MEM_DIR=DIR tools/bench/scale_mem.py N ... runs them)
BENCH_SCALE_ROUNDS (3). Writes tools/bench/results-scale-mem.md.
"""
import glob
import io
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SRC = os.path.join(ROOT, "tools", "bench", "scale_bench.c")
ROUNDS = int(os.environ.get("BENCH_SCALE_ROUNDS", "3"))
BASE = os.environ.get("BENCH_BASE_REF", "main")
LIBS = ["-lbpf", "-lmicrohttpd", "-ljansson", "-lcurl", "-lyaml", "-lcap", "-lseccomp",
        "-lgnutls", "-lcrypt", "-lsystemd", "-lelf", "-lz", "-lm", "-lpthread"]


def build(tree, out):
    subprocess.run(["make", "-s", "-C", tree, "-j2", "kpulse"], check=True,
                   stdout=subprocess.DEVNULL)
    objs = [o for d in ("analysis", "model", "outputs", "base", "collect", "kernel")
            for o in glob.glob(os.path.join(tree, ".output", d, "*.o"))]
    subprocess.run(["cc", "-O2", "-g", "-std=gnu11", "-I" + os.path.join(tree, ".output"),
                    "-I" + os.path.join(tree, "include"), "-I" + os.path.join(tree, "src"),
                    SRC] + objs + LIBS + ["-o", out], check=True)


def run(exe, n):
    r = subprocess.run([exe, str(n)], check=True, capture_output=True, text=True).stdout
    return {k: float(v) for k, v in (ln.split("=") for ln in r.split())}


def build_both(tmp):
    base = os.path.join(tmp, "base")
    os.mkdir(base)
    arch = subprocess.run(["git", "-C", ROOT, "archive", BASE], check=True, capture_output=True)
    tarfile.open(fileobj=io.BytesIO(arch.stdout)).extractall(base)
    build(ROOT, os.path.join(tmp, "this"))
    build(base, os.path.join(tmp, "base_bench"))
    subprocess.run(["rm", "-rf", base], check=False)


def main():
    if sys.argv[1:2] == ["--build"]:
        os.makedirs(sys.argv[2], exist_ok=True)
        build_both(sys.argv[2])
        return
    ns = [int(a) for a in sys.argv[1:]] or [1000, 10000]
    tmp = os.environ.get("BENCH_SCALE_MEM_DIR")
    made = not tmp
    if made:
        tmp = tempfile.mkdtemp(prefix="kpulse-scale-mem-")
        build_both(tmp)
    keys = [("heap_full", "heap after 15 min, MiB", 1 / 2**20), ("heap_model", "model alone, MiB",
            1 / 2**20), ("tick_ms", "CPU per analysis tick, ms", 1),
            ("metrics_ms", "CPU per /metrics, ms", 1), ("api_ms", "CPU per /api/v1/containers, ms", 1),
            ("metrics_bytes", "/metrics, MiB", 1 / 2**20), ("api_bytes", "containers JSON, MiB",
                                                               1 / 2**20)]
    out = ["## Userspace cost of N containers with full history (scale_bench)", "",
           "%s; this build against `%s`; %d alternating rounds; median (range)" % (
               time.strftime("%Y-%m-%d"), BASE, ROUNDS), "",
           "| N | figure | this build | %s | this / %s |" % (BASE, BASE),
           "| ---: | --- | ---: | ---: | ---: |"]
    for n in ns:
        this, bas = [], []
        for _ in range(ROUNDS):
            this.append(run(os.path.join(tmp, "this"), n))
            bas.append(run(os.path.join(tmp, "base_bench"), n))
        for k, name, scale in keys:
            a = [r[k] * scale for r in this]
            b = [r[k] * scale for r in bas]
            ratios = [x / y for x, y in zip(a, b) if y]
            out.append("| %d | %s | %.2f (%.2f–%.2f) | %.2f (%.2f–%.2f) | %.2f× (%.2f–%.2f) |" % (
                n, name, statistics.median(a), min(a), max(a), statistics.median(b), min(b),
                max(b), statistics.median(ratios), min(ratios), max(ratios)))
    if made:
        subprocess.run(["rm", "-rf", tmp], check=False)
    text = "\n".join(out) + "\n"
    print(text)
    with open(os.path.join(ROOT, "tools", "bench", "results-scale-mem.md"), "w") as f:
        f.write(text)


if __name__ == "__main__":
    main()
