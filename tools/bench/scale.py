#!/usr/bin/python3
"""What kpulse costs with many live containers (issue 19's 1,000- and
10,000-container targets): for each N, N test cgroups each holding a
process that wakes every second (20 µs of work), the daemon at its
defaults (2 s interval, 15 minutes of history; --max-cgroups raised for
N > 4,000), and:

- idle: the daemon's CPU (% of one core) over BENCH_SCALE_IDLE_SECS with no
  request, and its collection duration (kpulse_collection_duration_seconds,
  sampled each second) against the interval;
- scrapes: BENCH_SCALE_ROUNDS rounds of BENCH_SCALE_REQS sequential
  requests of /health (the baseline), /metrics and /api/v1/containers:
  p50 and p99 per round (the table gives the median round and the range),
  daemon CPU per request, body size; back to back, requests within 50 ms
  share one read of the maps, so the same again with requests FRESH_GAP
  apart (each reads and renders, as a scraper every 15 s does): /metrics
  plain and as Prometheus asks (gzip, OpenMetrics), and the list;
- RSS (VmRSS) after the scrapes, and the peak (VmHWM).

N = 0 (the host's own cgroups) runs first in the same script as the
baseline for CPU and RSS. With BENCH_SCALE_FULL=1 the largest N also waits
until the 15 minutes of history are full and reports RSS then (the rings
that grow with time: heatmap columns, window slots).

usage: tools/bench/scale.py [N ...]   (default: 0 1000)
Writes tools/bench/results-scale.md. Needs root and a built ./kpulse and
.output/workload (make kpulse .output/workload).
"""
import os
import re
import statistics
import sys
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                "tests", "integration"))
import harness as h  # noqa: E402

IDLE_SECS = float(os.environ.get("BENCH_SCALE_IDLE_SECS", "60"))
REQS = int(os.environ.get("BENCH_SCALE_REQS", "100"))
ROUNDS = int(os.environ.get("BENCH_SCALE_ROUNDS", "3"))
FULL = os.environ.get("BENCH_SCALE_FULL") == "1"
HISTORY_SECS = 900
INTERVAL = 2.0


def ticks(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def status_mib(pid, key):
    with open("/proc/%d/status" % pid) as f:
        return int([ln for ln in f if ln.startswith(key + ":")][0].split()[1]) / 1024


def get(d, path, headers=None):
    req = urllib.request.Request(d.url(path), headers=headers or {})
    with urllib.request.urlopen(req, timeout=60) as r:
        return r.read()


# What a Prometheus server asks for (its body is then gzip on the wire).
PROM_HEADERS = {"Accept-Encoding": "gzip",
                "Accept": "application/openmetrics-text;version=1.0.0,"
                          "text/plain;version=0.0.4;q=0.5"}
FRESH_GAP = 0.06  # > the daemon's 50 ms: every request reads the maps again


def shown(d):
    """Test containers on /metrics (counted in the text: parsing 10,000
    containers' series would take longer than the daemon does)."""
    text = get(d, "/metrics").decode()
    return len(re.findall(r'^kpulse_container_cpu_seconds_total\{[^}]*%s/' % h.TEST_PREFIX,
                          text, re.M))


def collection_s(d):
    m = re.search(rb"^kpulse_collection_duration_seconds (\S+)$", get(d, "/metrics"), re.M)
    return float(m.group(1)) if m else float("nan")


def scrape(d, path, reqs, gap=0.0, headers=None):
    """ROUNDS rounds of @reqs requests, @gap seconds apart: per-round
    p50/p99, CPU per request (with a gap, the ticks' CPU in the gaps too)."""
    hz = os.sysconf("SC_CLK_TCK")
    p50s, p99s, cpu, body = [], [], 0, b""
    for _ in range(ROUNDS):
        lat = []
        t0 = ticks(d.proc.pid)
        for _ in range(reqs):
            s = time.perf_counter()
            body = get(d, path, headers)
            lat.append(time.perf_counter() - s)
            if gap:
                time.sleep(gap)
        cpu += (ticks(d.proc.pid) - t0) / hz
        lat.sort()
        p50s.append(lat[len(lat) // 2] * 1e3)
        p99s.append(lat[max(0, int(len(lat) * 0.99) - 1)] * 1e3)
    return {"p50": statistics.median(p50s), "p99": statistics.median(p99s),
            "p99_lo": min(p99s), "p99_hi": max(p99s), "reqs": reqs,
            "cpu_ms": cpu / (ROUNDS * reqs) * 1e3, "bytes": len(body)}


def idle(d):
    """CPU over IDLE_SECS without requests (collection duration read over
    HTTP each second costs a /metrics render: read from a second daemon
    would be wrong, so the samples are taken after the CPU window)."""
    hz = os.sysconf("SC_CLK_TCK")
    t0, c0 = time.time(), ticks(d.proc.pid)
    time.sleep(IDLE_SECS)
    cores = (ticks(d.proc.pid) - c0) / hz / (time.time() - t0)
    durs = []
    for _ in range(8):
        durs.append(collection_s(d))
        time.sleep(INTERVAL)
    return cores, durs


def run(n):
    cg = h.Cgroups()
    try:
        t_make = time.time()
        for i in range(n):
            path = cg.make("s%05d" % i)
            cg.run(path, [h.WORKLOAD, "sleepy", "7200", "1000000", "20"])
        t_make = time.time() - t_make
        args = ["--interval", "%gs" % INTERVAL]
        if n > 4000:
            args += ["--max-cgroups", str(n + n // 4 + 1024)]
        d = h.Daemon(*args)
        try:
            t0 = time.time()
            while shown(d) < n and time.time() - t0 < 120:
                time.sleep(2)
            t_shown = time.time() - t0
            time.sleep(3 * INTERVAL)  # past start-up: every container ticked twice
            cores, durs = idle(d)
            reqs = REQS if n < 5000 else max(5, REQS // 10)  # tens of MB per answer
            rows = [(p, scrape(d, p, reqs)) for p in ("/health", "/metrics", "/api/v1/containers")]
            # what a scraper every 15 s meets: each request reads the maps
            # and renders (plain text as curl asks, gzip as Prometheus asks)
            rows += [("`/metrics` fresh", scrape(d, "/metrics", reqs, FRESH_GAP)),
                     ("`/metrics` fresh, as Prometheus asks",
                      scrape(d, "/metrics", reqs, FRESH_GAP, PROM_HEADERS)),
                     ("`/api/v1/containers` fresh", scrape(d, "/api/v1/containers", reqs,
                                                           FRESH_GAP))]
            r = {"n": n, "shown": shown(d), "t_make": t_make, "t_shown": t_shown,
                 "cores": cores, "dur_med": statistics.median(durs), "dur_max": max(durs),
                 "rows": rows, "rss": status_mib(d.proc.pid, "VmRSS"),
                 "hwm": status_mib(d.proc.pid, "VmHWM"), "full_rss": None}
            if FULL and n:
                time.sleep(max(0, t0 + HISTORY_SECS + 30 - time.time()))
                get(d, "/metrics")
                get(d, "/api/v1/containers")
                r["full_rss"] = status_mib(d.proc.pid, "VmRSS")
            return r
        finally:
            d.stop()
    finally:
        cg.cleanup()


def report(res):
    base = res[0]
    out = ["## kpulse with many live containers (issue 19)", "",
           "%s, kernel %s, 2 s interval, 15 minutes of history; each test cgroup holds a "
           "process that wakes every second; %d s idle; %d rounds of %d sequential requests "
           "per endpoint, a tenth of that from 5,000 containers (p99: median round [range]; "
           "with 10 requests a round its p99 is the slowest); back to back, scrapes within "
           "50 ms share one read of the maps and one encoding; *fresh* rows wait %d ms "
           "between requests, so each reads the maps and renders, as a scraper every "
           "15 s does (their CPU per request includes the ticks' in the gaps; bodies as "
           "sent: gzip when Prometheus asks)" % (
               time.strftime("%Y-%m-%d"), os.uname().release, IDLE_SECS, ROUNDS, REQS,
               FRESH_GAP * 1000), "",
           "| test cgroups | shown | idle CPU % of a core (× N=0) | collection ms (median, max) "
           "| RSS MiB (× N=0) | peak RSS MiB | RSS after 15 min |",
           "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for r in res:
        out.append("| %d | %d | %.3f (%.1f×) | %.1f, %.1f | %.1f (%.1f×) | %.1f | %s |" % (
            r["n"], r["shown"], r["cores"] * 100,
            r["cores"] / base["cores"] if base["cores"] else float("nan"),
            r["dur_med"] * 1e3, r["dur_max"] * 1e3, r["rss"], r["rss"] / base["rss"],
            r["hwm"], "%.1f" % r["full_rss"] if r["full_rss"] else "not run"))
    out += ["", "| test cgroups | endpoint | p50 ms | p99 ms [range] | p99 / `/health` p99 "
            "| daemon CPU ms/request | body KiB |", "| ---: | --- | ---: | ---: | ---: | ---: | ---: |"]
    for r in res:
        hp99 = r["rows"][0][1]["p99"]
        for p, x in r["rows"]:
            out.append("| %d | %s | %.2f | %.2f [%.2f–%.2f] | %.1f× | %.2f | %.0f |" % (
                r["n"], p if p.startswith("`") else "`%s`" % p, x["p50"], x["p99"], x["p99_lo"], x["p99_hi"], x["p99"] / hp99,
                x["cpu_ms"], x["bytes"] / 1024))
    out += ["", "Setting up: %s." % "; ".join(
        "%d cgroups made in %.0f s, all shown %.0f s after start" % (r["n"], r["t_make"],
                                                                     r["t_shown"])
        for r in res if r["n"])]
    out += ["", "Targets at 1,000: /metrics p99 <= 10 ms and <= 2.5 MiB, /api/v1/containers "
            "p99 <= 15 ms, RSS <= 40 MiB, idle CPU <= 0.5% of a core. At 10,000: collection "
            "below the interval, /metrics served, RSS stated."]
    return "\n".join(out) + "\n"


def main():
    ns = [int(a) for a in sys.argv[1:]] or [0, 1000]
    if ns[0] != 0:
        ns = [0] + ns
    res = []
    for n in ns:
        print("scale: %d cgroups..." % n, file=sys.stderr, flush=True)
        res.append(run(n))
    text = report(res)
    print(text)
    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "results-scale.md"),
              "w") as f:
        f.write(text)


if __name__ == "__main__":
    main()
