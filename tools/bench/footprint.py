#!/usr/bin/python3
"""The daemon's footprint as a DaemonSet or systemd unit sizes it: RSS
(current and peak, VmHWM) and CPU (cores, averaged) of `kpulse daemon` at
its default interval (2 s) with N live test cgroups, each holding a
process that wakes every second, while a Prometheus-like scraper reads
/metrics every 15 s. The baseline in the same run is N = 0 (the host's
own cgroups only). The figures size tools/deploy/kubernetes/daemonset.yaml
(requests/limits) and the unit's MemoryMax.

usage: tools/bench/footprint.py [N ...]   (default: 0 110 500 1000)
BENCH_FOOTPRINT_SECS: how long each run is watched (default 60).
"""
import os
import sys
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                "tests", "integration"))
import harness as h  # noqa: E402

SCRAPE_EVERY = 15.0


def ticks(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def status_kib(pid, key):
    with open("/proc/%d/status" % pid) as f:
        return int([l for l in f if l.startswith(key + ":")][0].split()[1])


def run(n, secs):
    cg = h.Cgroups()
    try:
        for i in range(n):
            path = cg.make("f%04d" % i)
            cg.run(path, [h.WORKLOAD, "sleepy", str(secs + 120), "1000000", "20"])
        d = h.Daemon("--interval", "2s")
        try:
            deadline = time.time() + 60
            while len(h.series(d.metrics(), "kpulse_container_cpu_seconds_total")) < n \
                    and time.time() < deadline:
                time.sleep(1)
            time.sleep(4)  # past start-up (first analysis ticks, stats window)
            t0, c0 = time.time(), ticks(d.proc.pid)
            scrapes = 0
            while time.time() - t0 < secs:
                with urllib.request.urlopen(d.url("/metrics"), timeout=10) as r:
                    r.read()
                scrapes += 1
                time.sleep(max(0, t0 + scrapes * SCRAPE_EVERY - time.time()))
            cores = (ticks(d.proc.pid) - c0) / os.sysconf("SC_CLK_TCK") / (time.time() - t0)
            shown = len(h.series(d.metrics(), "kpulse_container_cpu_seconds_total"))
            return {"n": n, "shown": shown, "rss": status_kib(d.proc.pid, "VmRSS") / 1024,
                    "hwm": status_kib(d.proc.pid, "VmHWM") / 1024, "cores": cores,
                    "scrapes": scrapes}
        finally:
            d.stop()
    finally:
        cg.cleanup()


def main():
    ns = [int(a) for a in sys.argv[1:]] or [0, 110, 500, 1000]
    secs = float(os.environ.get("BENCH_FOOTPRINT_SECS", "60"))
    rows = [run(n, secs) for n in ns]
    base = rows[0]
    out = ["## Daemon footprint (default 2 s interval, /metrics scraped every 15 s)", "",
           "%s, kernel %s, %d s per run" % (time.strftime("%Y-%m-%d"), os.uname().release, secs),
           "", "| test cgroups | containers shown | RSS MiB | peak RSS MiB | CPU (millicores) "
           "| CPU / baseline |", "| ---: | ---: | ---: | ---: | ---: | ---: |"]
    for r in rows:
        out.append("| %d | %d | %.1f | %.1f | %.1f | %.1f× |" % (
            r["n"], r["shown"], r["rss"], r["hwm"], r["cores"] * 1000,
            r["cores"] / base["cores"] if base["cores"] else float("nan")))
    text = "\n".join(out) + "\n"
    print(text)
    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "results-footprint.md"),
              "w") as f:
        f.write(text)


if __name__ == "__main__":
    main()
