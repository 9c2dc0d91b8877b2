#!/usr/bin/python3
"""What the node_exporter-style kpulse_node_ series cost: bytes and CPU per
scrape, and CPU per tick, with node_exporter itself as the baseline in the
same run.

1. .output/bench/node_bench on the real code: kp_noderead__read (a tick's
   file reads and statfs) and kp_node_metrics_render (a scrape's part) on
   this host's figures and on figures at every bound, CPU per operation
   over ROUNDS rounds (median, min-max).
2. A kpulse daemon and prometheus-node-exporter (the same collectors and
   filters as tests/integration/test_node.py), scraped in turn, ROUNDS
   rounds: daemon CPU per scrape from /proc/PID/stat, body bytes, and the
   bytes of the node series' families in each.

usage: tools/bench/node.py [ROUNDS=5]   (root, after make kpulse)
Writes tools/bench/results-node.md and prints it.
"""
import json
import os
import platform
import statistics
import subprocess
import sys
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..")
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
import harness as h  # noqa: E402
import test_node as tn  # noqa: E402

KPULSE_NODE_OWN = ("kpulse_node_series_left_out", "kpulse_node_read_errors_total",
                   "kpulse_node_mounts_stuck", "kpulse_node_statfs_stale_ticks_total",
                   "kpulse_node_cpus")


def cpu_ticks(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def line_name(line):
    if line.startswith("# "):
        parts = line.split()
        return parts[2] if len(parts) > 2 else ""
    return line.split("{")[0].split(" ")[0]


def node_bytes(text, kpulse):
    """Bytes of the lines (samples, HELP, TYPE) of the node_exporter
    families: kpulse's kpulse_node_X, or node_exporter's node_X."""
    n = 0
    for line in text.splitlines(True):
        name = line_name(line)
        if kpulse:
            ok = name.startswith("kpulse_node_") and (
                tn.COVERED.match(name[len("kpulse_"):]) or name in KPULSE_NODE_OWN)
        else:
            ok = bool(tn.COVERED.match(name))
        n += len(line) if ok else 0
    return n


def scrape_cost(url, pid, n):
    t0 = cpu_ticks(pid)
    for _ in range(n):
        with urllib.request.urlopen(url, timeout=10) as r:
            body = r.read().decode()
    return (cpu_ticks(pid) - t0) / os.sysconf("SC_CLK_TCK") / n * 1e3, body


def med(xs):
    return "%.3g (%.3g-%.3g)" % (statistics.median(xs), min(xs), max(xs))


def main():
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    bench = os.path.join(ROOT, ".output", "bench", "node_bench")
    subprocess.run(["make", "-s", "-C", ROOT, ".output/bench/node_bench"], check=True)
    out = subprocess.run([bench, "2000", str(rounds)], check=True, capture_output=True,
                         text=True).stdout
    micro = {j["what"]: j for j in map(json.loads, out.splitlines())}

    d = h.Daemon()
    ne = tn.NodeExporter()
    try:
        kp_cpu, ne_cpu = [], []
        for _ in range(rounds):
            c, kp_body = scrape_cost(d.url("/metrics"), d.proc.pid, 1000)
            kp_cpu.append(c)
            c, ne_body = scrape_cost("http://127.0.0.1:%d/metrics" % ne.port, ne.proc.pid, 300)
            ne_cpu.append(c)
    finally:
        ne.stop()
        d.stop()

    render_us = micro["render_host"]["us_per_op"]
    tick_us = micro["tick_host"]["us_per_op"]
    ne_ms = statistics.median(ne_cpu)
    kp_ms = statistics.median(kp_cpu)
    rep = []
    rep.append("## Cost of the node_exporter-style node series\n")
    rep.append("%s, kernel %s, %d rounds; tools/bench/node.py (node_bench: 2000 operations per "
               "round, 500 at the bounds; scrapes: 1000 of kpulse, 300 of node_exporter per "
               "round). Medians, (min-max) over rounds. Load average at the end: %s.\n"
               % (time.strftime("%Y-%m-%d"), platform.release(), rounds,
                  open("/proc/loadavg").read().split()[0]))
    rep.append("| what | CPU per operation | bytes | samples |")
    rep.append("| --- | --- | --- | --- |")
    rep.append("| a tick's reads (meminfo, loadavg, stat, diskstats, net/dev, /proc, statfs pass) "
               "| %s µs | | |" % med(tick_us))
    rep.append("| a scrape's node series, this host | %s µs | %d | %d |"
               % (med(render_us), micro["render_host"]["bytes"], micro["render_host"]["series"]))
    rep.append("| the same at every bound (256 interfaces, 64 disks, 256 kubelet mounts) "
               "| %s µs | %d | %d |" % (med(micro["render_bounds"]["us_per_op"]),
                                       micro["render_bounds"]["bytes"],
                                       micro["render_bounds"]["series"]))
    rep.append("| whole kpulse `/metrics` scrape (daemon CPU, HTTP included) | %s ms | %d "
               "(node series: %d) | |" % (med(kp_cpu), len(kp_body), node_bytes(kp_body, True)))
    rep.append("| node_exporter scrape, same collectors (its CPU) | %s ms | %d "
               "(same families: %d) | |" % (med(ne_cpu), len(ne_body),
                                             node_bytes(ne_body, False)))
    rep.append("")
    rep.append("Ratios (medians): the node series' part of a kpulse scrape / a node_exporter "
               "scrape of the same figures: %.3f; with a tick's reads added (as if every scrape "
               "had its own tick): %.3f; the node series / a whole kpulse scrape: %.2f. A "
               "tick's reads at the default 2 s interval: %.4f%% of one core. Bytes of the "
               "node series / node_exporter's for the same families: %.2f."
               % (statistics.median(render_us) / 1e3 / ne_ms,
                  (statistics.median(render_us) + statistics.median(tick_us)) / 1e3 / ne_ms,
                  statistics.median(render_us) / 1e3 / kp_ms,
                  statistics.median(tick_us) / 2e6 * 100,
                  node_bytes(kp_body, True) / node_bytes(ne_body, False)))
    text = "\n".join(rep) + "\n"
    with open(os.path.join(HERE, "results-node.md"), "w") as f:
        f.write(text)
    print(text)


if __name__ == "__main__":
    main()
