#!/usr/bin/python3
"""Scrape cost with many live cgroups.

1. Sequential: p50/p99 latency and daemon CPU per request for /metrics and
   /api/v1/containers, with N test cgroups each holding a sleeping process;
   /health (no per-container data) is the baseline measured in the same run.
2. Parallel scrapers: wrk holding P keep-alive connections (default 50)
   that scrape /metrics back to back for S seconds, against one connection
   doing the same (the baseline), interleaved, R rounds each, twice: as
   curl asks (plain text) and as Prometheus asks (OpenMetrics, gzip).
   Reported: latency p50/p99 (wrk's), daemon CPU per scrape, encodings made
   per second, and the daemon's peak RSS during each run (VmHWM, reset
   through /proc/PID/clear_refs before it); each as the median over the
   rounds with the range, and P scrapers against 1 as a ratio or a
   difference.
3. Paced scrapers, as Prometheus servers scrape: P scrapers (curl
   --parallel, a connection each) that all scrape /metrics at the same
   instant once every BENCH_EVERY seconds (default 1; synchronised, the
   worst case), BENCH_BURSTS times, against 1 scraper paced the same way,
   interleaved, R rounds; the same figures, p50/p99 over every scrape.

usage: tools/bench/api.py [N_CGROUPS=1000] [REQUESTS=300]
BENCH_PARALLEL=50 BENCH_SECONDS=10 BENCH_ROUNDS=3; BENCH_SEQ=0 skips part 1,
BENCH_PAR=0 part 2, BENCH_PACED=0 part 3 (BENCH_BURSTS=10). BENCH_INTERVAL=2s is the daemon's interval (its default).
BENCH_KPULSE=PATH measures another build (say, main's).
BENCH_PERF=FILE records a perf profile of the daemon
during the sequential /metrics requests into FILE (perf report -i FILE);
BENCH_PERF_PATH=/api/v1/containers profiles that endpoint's instead.
"""
import os
import re
import statistics
import subprocess
import sys
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                "tests", "integration"))
import harness as h  # noqa: E402

h.KPULSE = os.environ.get("BENCH_KPULSE", h.KPULSE)

PROMETHEUS = {"Accept": "application/openmetrics-text;version=1.0.0,application/"
                        "openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;"
                        "q=0.5,*/*;q=0.1",
              "Accept-Encoding": "gzip"}


def cpu_ticks(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def status_kib(pid, key):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def measure(d, path, n, headers=None):
    """@n requests 60 ms apart, so each /metrics scrape is a collection of
    its own (scrapes within 50 ms of one share it), as a scraper polling
    every few seconds sees it. The body is counted as sent (gzip stays
    compressed: urllib does not inflate)."""
    lat = []
    cpu = 0.0
    for _ in range(n):
        time.sleep(0.06)
        t0 = cpu_ticks(d.proc.pid)
        s = time.perf_counter()
        req = urllib.request.Request(d.url(path), headers=headers or {})
        with urllib.request.urlopen(req, timeout=10) as r:
            body = r.read()
        lat.append(time.perf_counter() - s)
        cpu += cpu_ticks(d.proc.pid) - t0
    cpu /= os.sysconf("SC_CLK_TCK")
    lat.sort()
    return {"p50": lat[len(lat) // 2], "p99": lat[int(len(lat) * 0.99) - 1],
            "cpu_ms": cpu / n * 1e3, "bytes": len(body)}


def seconds(text):
    """wrk's '1.23ms', '850.00us', '2.01s' in seconds."""
    m = re.match(r"([\d.]+)(us|ms|s|m)$", text)
    return float(m.group(1)) * {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}[m.group(2)]


def encodings(d):
    m = h.parse_metrics(d.get("/metrics")[2])
    found = h.series(m, "kpulse_http_metrics_encodings_total")
    return found[0][1] if found else float("nan")  # older builds: not counted


def wrk(d, conns, secs, headers):
    """One wrk run: {p50, p99, scrapes, cpu_ms, rss_peak_mib, enc_per_s}."""
    pid = d.proc.pid
    with open("/proc/%d/clear_refs" % pid, "w") as f:
        f.write("5")  # resets VmHWM to the current RSS
    enc0 = encodings(d)
    t0 = cpu_ticks(pid)
    argv = ["wrk", "-t", "2" if conns > 1 else "1", "-c", str(conns), "-d", "%ds" % secs,
            "--latency", "--timeout", "10s"]
    for k, v in headers.items():
        argv += ["-H", "%s: %s" % (k, v)]
    out = subprocess.run(argv + [d.url("/metrics")], capture_output=True, text=True,
                         check=True).stdout
    cpu = (cpu_ticks(pid) - t0) / os.sysconf("SC_CLK_TCK")
    peak = status_kib(pid, "VmHWM") / 1024
    enc = encodings(d) - enc0 - 1  # the last scrape made one of its own
    lat = dict(re.findall(r"^\s+(50|99)%\s+(\S+)$", out, re.M))
    n = int(re.search(r"(\d+) requests in", out).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)|Socket errors: (.*)", out)
    if errors:
        print("wrk: %s" % errors.group(0), file=sys.stderr)
    return {"p50": seconds(lat["50"]), "p99": seconds(lat["99"]), "scrapes": n,
            "cpu_ms": cpu / max(n, 1) * 1e3, "rss_peak_mib": peak, "enc_per_s": enc / secs}


def curl_burst(d, conns, headers):
    """@conns scrapes of /metrics at once: their seconds, and the count of
    those that failed or were not 200."""
    argv = ["curl", "-s", "--parallel", "--parallel-immediate", "--parallel-max", str(conns),
            "--max-time", "30", "-w", "%{http_code} %{time_total}\\n"]
    for k, v in headers.items():
        argv += ["-H", "%s: %s" % (k, v)]
    for _ in range(conns):
        argv += ["-o", "/dev/null", d.url("/metrics")]
    out = subprocess.run(argv, capture_output=True, text=True).stdout.split()
    codes, secs = out[0::2], [float(x) for x in out[1::2]]
    return secs, sum(1 for c in codes if c != "200") + conns - len(codes)


def paced(d, conns, bursts, every, headers):
    """@bursts bursts of @conns scrapes, one every @every s: the same
    figures as wrk()."""
    pid = d.proc.pid
    with open("/proc/%d/clear_refs" % pid, "w") as f:
        f.write("5")
    enc0 = encodings(d)
    t0 = cpu_ticks(pid)
    lat, bad = [], 0
    start = time.monotonic()
    for b in range(bursts):
        while time.monotonic() < start + b * every:
            time.sleep(0.005)
        secs, failed = curl_burst(d, conns, headers)
        lat += secs
        bad += failed
    cpu = (cpu_ticks(pid) - t0) / os.sysconf("SC_CLK_TCK")
    peak = status_kib(pid, "VmHWM") / 1024
    enc = encodings(d) - enc0 - 1
    if bad:
        print("curl: %d of %d scrapes failed or were not 200" % (bad, len(lat)), file=sys.stderr)
    lat.sort()
    n = len(lat)
    return {"p50": lat[n // 2], "p99": lat[min(n - 1, int(n * 0.99))], "scrapes": n,
            "cpu_ms": cpu / max(n, 1) * 1e3, "rss_peak_mib": peak,
            "enc_per_s": enc / (bursts * every), "failed": bad}


def med(rows, key):
    vals = [r[key] for r in rows]
    return statistics.median(vals), min(vals), max(vals)


def parallel(d, conns, secs, rounds, run=None):
    """Interleaved single and parallel runs, plain and Prometheus-style."""
    res = {}
    run = run or (lambda c, headers: wrk(d, c, secs, headers))
    for name, headers in (("plain", {}), ("prometheus", PROMETHEUS)):
        one, many = [], []
        for r in range(rounds):
            order = [(1, one), (conns, many)] if r % 2 == 0 else [(conns, many), (1, one)]
            for c, rows in order:
                print("  %s, %d scraper(s), round %d" % (name, c, r + 1), file=sys.stderr)
                rows.append(run(c, headers))
                time.sleep(1)
        res[name] = (one, many)
    return res


def fmt(m, scale=1.0, digits=1):
    f = "%%.%df" % digits
    return (f + " (" + f + "–" + f + ")") % (m[0] * scale, m[1] * scale, m[2] * scale)


def report_parallel(res, conns, secs, rounds, title=None, how=None):
    out = ["", title or "## %d parallel scrapers of /metrics against one" % conns, "",
           (how or "wrk, %d keep-alive connections (and 1, the baseline) scraping back to back "
            "for %d s" % (conns, secs)) +
           ", interleaved, %d rounds each; medians with the range over the "
           "rounds. RSS: the daemon's peak during the run (VmHWM, reset before it)."
           % rounds, "",
           "| client asks | scrapers | p50 ms | p99 ms | scrapes/s | daemon CPU ms/scrape "
           "| encodings/s | peak RSS MiB |",
           "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for name, (one, many) in res.items():
        for c, rows in ((1, one), (conns, many)):
            out.append("| %s | %d | %s | %s | %s | %s | %s | %s |" % (
                name, c, fmt(med(rows, "p50"), 1e3), fmt(med(rows, "p99"), 1e3),
                fmt(tuple(x / secs for x in med(rows, "scrapes")), 1, 0),
                fmt(med(rows, "cpu_ms"), 1, 2), fmt(med(rows, "enc_per_s")),
                fmt(med(rows, "rss_peak_mib"))))
    out += ["", "| client asks | p99, %d scrapers (target ≤ 100 ms) | p99 ratio %d / 1 "
                "| peak RSS, %d − 1 scraper(s) MiB (target ≤ 10) | CPU per scrape, %d / 1 |"
                % (conns, conns, conns, conns), "| --- | --- | --- | --- | --- |"]
    for name, (one, many) in res.items():
        p99 = med(many, "p99")[0]
        ratios = [m["p99"] / o["p99"] for o, m in zip(one, many)]
        drss = [m["rss_peak_mib"] - o["rss_peak_mib"] for o, m in zip(one, many)]
        dcpu = [m["cpu_ms"] / o["cpu_ms"] for o, m in zip(one, many)]
        out.append("| %s | %.1f ms %s | %s | %s | %s |" % (
            name, p99 * 1e3, "PASS" if p99 <= 0.1 else "MISS",
            fmt((statistics.median(ratios), min(ratios), max(ratios))),
            fmt((statistics.median(drss), min(drss), max(drss))) +
            (" PASS" if statistics.median(drss) <= 10 else " MISS"),
            fmt((statistics.median(dcpu), min(dcpu), max(dcpu)), 1, 2)))
    return out


def setup(ncg):
    cg = h.Cgroups()
    for i in range(ncg):
        path = cg.make("c%04d" % i)
        cg.run(path, [h.WORKLOAD, "sleepy", "900", "1000000", "20"])
    return cg


def wait_shown(d, ncg):
    deadline = time.time() + 60
    while time.time() < deadline:
        if len(h.series(d.metrics(), "kpulse_container_cpu_seconds_total")) >= ncg:
            break
        time.sleep(0.5)
    shown = len(h.series(d.metrics(), "kpulse_container_cpu_seconds_total"))
    time.sleep(2.5)  # let the analysis tick over every cgroup
    return shown


def sequential(d, nreq):
    rows = []
    for p, hdr in (("/health", None), ("/metrics", None), ("/metrics", PROMETHEUS),
                   ("/api/v1/containers", None)):
        perf = None
        if (p == os.environ.get("BENCH_PERF_PATH", "/metrics") and not hdr
                and os.environ.get("BENCH_PERF")):
            perf = subprocess.Popen(["perf", "record", "-q", "-g", "-o",
                                     os.environ["BENCH_PERF"], "-p", str(d.proc.pid)])
            time.sleep(1)
        rows.append((p, " as Prometheus asks (OpenMetrics, gzip)" if hdr else "",
                     measure(d, p, nreq, hdr)))
        if perf:
            perf.send_signal(2)
            perf.wait()
    return rows


def report_sequential(rows, nreq, rss):
    out = ["Daemon interval %s (the default). %d requests each, one at a time, 60 ms "
           "apart" % (os.environ.get("BENCH_INTERVAL", "2s"), nreq), "",
           "| endpoint | p50 ms | p99 ms | daemon CPU ms/request | body KiB sent |",
           "| --- | --- | --- | --- | --- |"]
    for p, how, r in rows:
        out.append("| `%s`%s | %.2f | %.2f | %.2f | %.0f |" % (p, how, r["p50"] * 1e3,
                                                              r["p99"] * 1e3, r["cpu_ms"],
                                                              r["bytes"] / 1024))
    out += ["", "Daemon RSS after them: %.1f MiB." % (rss / 1024)]
    return out


def main():
    ncg = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    nreq = int(sys.argv[2]) if len(sys.argv) > 2 else 300
    conns = int(os.environ.get("BENCH_PARALLEL", "50"))
    secs = int(os.environ.get("BENCH_SECONDS", "10"))
    rounds = int(os.environ.get("BENCH_ROUNDS", "3"))
    cg = setup(ncg)
    try:
        d = h.Daemon("--interval", os.environ.get("BENCH_INTERVAL", "2s"))
        try:
            shown = wait_shown(d, ncg)
            out = ["# Scrape cost with %d live cgroups (%d containers shown)" % (ncg, shown),
                   "", "%s, kernel %s, %d CPUs, load %.2f at the start" % (
                       time.strftime("%Y-%m-%d"), os.uname().release, os.cpu_count(),
                       os.getloadavg()[0]), ""]
            if os.environ.get("BENCH_SEQ", "1") != "0":
                rows = sequential(d, nreq)
                out += report_sequential(rows, nreq, status_kib(d.proc.pid, "VmRSS"))
            if os.environ.get("BENCH_PAR", "1") != "0":
                out += report_parallel(parallel(d, conns, secs, rounds), conns, secs, rounds)
            if os.environ.get("BENCH_PACED", "1") != "0":
                bursts = int(os.environ.get("BENCH_BURSTS", "10"))
                every = float(os.environ.get("BENCH_EVERY", "1"))
                res = parallel(d, conns, bursts * every, rounds,
                               lambda c, hd: paced(d, c, bursts, every, hd))
                out += report_parallel(
                    res, conns, bursts * every, rounds,
                    "## %d paced scrapers of /metrics against one" % conns,
                    "curl --parallel, %d scrapers (and 1, the baseline) all scraping at the "
                    "same instant once every %g s, %d times (%d scrapes a run)"
                    % (conns, every, bursts, conns * bursts))
        finally:
            d.stop()
    finally:
        cg.cleanup()
    text = "\n".join(out) + "\n"
    print(text)
    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "results-api.md"), "w") as f:
        f.write(text)


if __name__ == "__main__":
    main()
