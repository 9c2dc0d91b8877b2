#!/usr/bin/python3
"""Scrape cost with many live cgroups: p50/p99 latency and daemon CPU per
request for /metrics and /api/v1/containers, with N test cgroups each
holding a sleeping process. Reports the figures and a baseline (/health,
which touches no per-container data) measured in the same run.

usage: tools/bench/api.py [N_CGROUPS=500] [REQUESTS=300]
BENCH_PERF=FILE records a perf profile of the daemon during the /metrics
requests into FILE (perf report -i FILE).
"""
import os
import subprocess
import sys
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                "tests", "integration"))
import harness as h  # noqa: E402


def cpu_ticks(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def measure(d, path, n):
    lat = []
    t0 = cpu_ticks(d.proc.pid)
    for _ in range(n):
        s = time.perf_counter()
        with urllib.request.urlopen(d.url(path), timeout=10) as r:
            body = r.read()
        lat.append(time.perf_counter() - s)
    cpu = (cpu_ticks(d.proc.pid) - t0) / os.sysconf("SC_CLK_TCK")
    lat.sort()
    return {"p50": lat[len(lat) // 2], "p99": lat[int(len(lat) * 0.99) - 1],
            "cpu_ms": cpu / n * 1e3, "bytes": len(body)}


def main():
    ncg = int(sys.argv[1]) if len(sys.argv) > 1 else 500
    nreq = int(sys.argv[2]) if len(sys.argv) > 2 else 300
    cg = h.Cgroups()
    try:
        for i in range(ncg):
            path = cg.make("c%04d" % i)
            cg.run(path, [h.WORKLOAD, "sleepy", "600", "1000000", "20"])
        d = h.Daemon()
        try:
            deadline = time.time() + 30
            while time.time() < deadline:
                m = d.metrics()
                if len(h.series(m, "kpulse_container_cpu_seconds_total")) >= ncg:
                    break
                time.sleep(0.5)
            shown = len(h.series(d.metrics(), "kpulse_container_cpu_seconds_total"))
            time.sleep(2.5)  # let the analysis tick over every cgroup
            rows = []
            for p in ("/health", "/metrics", "/api/v1/containers"):
                perf = None
                if p == "/metrics" and os.environ.get("BENCH_PERF"):
                    perf = subprocess.Popen(["perf", "record", "-q", "-g", "-o",
                                             os.environ["BENCH_PERF"], "-p", str(d.proc.pid)])
                    time.sleep(1)
                rows.append((p, measure(d, p, nreq)))
                if perf:
                    perf.send_signal(2)
                    perf.wait()
            rss = int([l for l in open("/proc/%d/status" % d.proc.pid)
                       if l.startswith("VmRSS")][0].split()[1])
        finally:
            d.stop()
    finally:
        cg.cleanup()
    out = ["## Scrape cost with %d live cgroups (%d containers shown)" % (ncg, shown), "",
           "%s, kernel %s, %d requests each, sequential" % (time.strftime("%Y-%m-%d"),
                                                           os.uname().release, nreq), "",
           "| endpoint | p50 ms | p99 ms | daemon CPU ms/request | body KiB |",
           "| --- | --- | --- | --- | --- |"]
    for p, r in rows:
        out.append("| `%s` | %.2f | %.2f | %.2f | %.0f |" % (p, r["p50"] * 1e3, r["p99"] * 1e3,
                                                            r["cpu_ms"], r["bytes"] / 1024))
    out += ["", "Daemon RSS with %d cgroups: %.1f MiB. Target: p99 <= 20 ms." % (ncg, rss / 1024)]
    text = "\n".join(out) + "\n"
    print(text)
    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "results-api.md"), "w") as f:
        f.write(text)


if __name__ == "__main__":
    main()
