"""The dashboard in a real browser: Debian's Chromium, driven by
playwright-core (tests/browser/dashboard.js), against a live daemon with
test cgroups (a web server under CPU load with a memory limit, so the
run-queue heatmap has cells, requests have latencies and memory has a
limit line; a quiet one; one whose name is HTML; one whose name holds a
byte that is not UTF-8), a rule that fires on the loaded cgroup and an
admin token. The page must log no error, list every container, draw charts
with tick labels, write the hostile names as text (the bad byte as \\xff,
as every output does), and acknowledge the alert (checked through the
API). Screenshots: .output/dashboard-1280.png and
.output/dashboard-phone.png."""
import http.client
import json
import os
import re
import subprocess
import threading
import time
import unittest

import harness as h

DRIVER = os.path.join(h.ROOT, "tests", "browser", "dashboard.js")
PLAYWRIGHT = os.path.join(h.ROOT, ".output", "browser", "node_modules", "playwright-core")
CHROMIUM = "/usr/bin/chromium"
DELAY_SERVER = os.path.join(h.ROOT, ".output", "delay_server")
TOKEN = "dash-admin-token-%d" % os.getpid()
RULE = "DashboardTestBusy"
HOSTILE = "<img src=x onerror=window.__kpulse_xss=1>"
# the byte 0xff (surrogateescape), then HTML (no "/": a name is one path
# component): shown as the text raw\xff<b>x
RAW = "raw\udcff<b>x"
RAW_SHOWN = "raw\\xff<b>x"
MEM_LIMIT = 256 << 20
CPU_LIMIT = 1.5  # cores, below what its spinners ask: throttled


def wait_for(what, fn, timeout):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = fn()
        if v:
            return v
        time.sleep(0.2)
    raise AssertionError("timed out waiting for " + what)


class Client(threading.Thread):
    """Keep-alive HTTP requests to the web cgroup's server until stopped."""

    def __init__(self, port):
        super().__init__(daemon=True)
        self.port, self.stop, self.done = port, threading.Event(), 0

    def run(self):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
        while not self.stop.is_set():
            try:
                c.request("GET", "/")
                c.getresponse().read()
                self.done += 1
            except (OSError, http.client.HTTPException):
                c.close()
                time.sleep(0.1)


@unittest.skipUnless(os.access(CHROMIUM, os.X_OK) and os.path.isdir(PLAYWRIGHT),
                     "chromium or playwright-core (make integration-test installs it) missing")
class DashboardTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.cg = h.MemCgroups()
        cls.d = cls.srv = cls.client = None
        try:
            n = os.cpu_count()
            cls.web = cls.cg.make_mem("web", MEM_LIMIT)
            cls.cg.limit_cpu(cls.web, CPU_LIMIT)
            cls.cg.run_mem(cls.web, [h.WORKLOAD, "spin", str(2 * n), "120"])
            cls.quiet = cls.cg.make_mem("quiet")
            cls.cg.run_mem(cls.quiet, [h.WORKLOAD, "sleepy", "120", "20000", "200"])
            cls.hostile = cls.cg.make_mem(HOSTILE)
            cls.cg.run_mem(cls.hostile, [h.WORKLOAD, "sleepy", "120", "50000", "100"])
            # made by hand (mkdir takes bytes) and without a memory cgroup of
            # its own: on a hybrid host the daemon's one-time note about a
            # shared v1 memory cgroup (-v) then names this one
            cls.raw = os.path.join(cls.cg.base, RAW)
            os.mkdir(os.fsencode(cls.raw))
            cls.cg.made.append(cls.raw)
            cls.cg.run(cls.raw, [h.WORKLOAD, "sleepy", "120", "50000", "100"])
            cls.srv = cls.cg.run_mem(cls.web, [DELAY_SERVER, "-a", "127.0.0.1", "-p", "0", "-d", "5"],
                                 stdout=subprocess.PIPE, text=True)
            cls.port = port = int(cls.srv.stdout.readline().split()[1])
            cfg = h.config_file("""# written by tests/integration/test_dashboard.py
admin_token: %s
alerts:
  - name: %s
    metric: cpu_cores
    match: "%s"
    threshold: 0.3
    clear: 0.1
    for: 1s
    severity: warning
    summary: the dashboard test's web cgroup uses CPU
""" % (TOKEN, RULE, cls.cg.rel(cls.web)))
            # -v: the debug lines too, so the log check below sees them
            cls.d = h.Daemon("--config", cfg, "-v")
            cls.client = Client(port)
            cls.client.start()
        except Exception:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        try:
            if cls.client:
                cls.client.stop.set()
                cls.client.join(10)
            if cls.d:
                cls.d.stop()
        finally:
            cls.cg.cleanup()

    def api(self, path):
        return json.loads(self.d.get(path)[2])

    def names(self):
        want = {self.cg.rel(p).replace("\udcff", "\\xff")
                for p in (self.web, self.quiet, self.hostile, self.raw)}
        got = {c["cgroup"]: c["name"] for c in self.api("/api/v1/containers")}
        return [got[c] for c in sorted(want) if c in got] if want <= set(got) else None

    def test_dashboard_in_chromium(self):
        status, headers, body = self.d.get("/")
        self.assertEqual(headers["Content-Type"], "text/html; charset=utf-8")
        self.assertNotRegex(body, r"(src|href)=\"?(https?:)?//")   # nothing from elsewhere
        self.assertIn("uPlot", body)                                # the library is inlined
        names = wait_for("the test cgroups in the API", self.names, 20)
        alert = wait_for("the rule to fire", lambda: [a for a in self.api("/api/v1/alerts")["alerts"]
                                                      if a["alertname"] == RULE and a["state"] == "firing"], 20)[0]
        # enough run-queue history for a few heatmap columns (5 s each)
        time.sleep(6)
        busy = [n for n in names if n.endswith("/web")][0]
        hostile = [n for n in names if n.endswith("/" + HOSTILE)] + \
            [n for n in names if n.endswith("/" + RAW_SHOWN)]
        self.assertEqual(len(hostile), 2, names)
        spec = {"names": names, "open": busy, "alert": alert["id"], "token": TOKEN, "hostile": hostile,
                "glob": "*/web", "substring": "QUIET"}
        out = os.path.join(h.ROOT, ".output")
        env = dict(os.environ, NODE_PATH=os.path.dirname(PLAYWRIGHT))
        t0 = time.time()
        r = subprocess.run(["node", DRIVER, self.d.url(""), json.dumps(spec), out],
                           capture_output=True, text=True, timeout=240, env=env)
        print("\n  browser run %.1f s" % (time.time() - t0))
        self.assertEqual(r.returncode, 0, r.stdout[-3000:] + r.stderr[-3000:])
        page = json.loads(r.stdout)
        self.assertEqual(page["problems"], [])

        for view in ("1280", "phone"):
            with self.subTest(view=view):
                self.check_view(page[view], names, busy, hostile)
        self.assertLessEqual(page["1280"]["overflow"], 0)
        self.assertLessEqual(page["phone"]["overflow"], 0)   # tables scroll inside their box
        phone = {c["id"]: c["width"] for c in page["phone"]["detailCharts"]}
        self.assertTrue(all(w <= 390 for w in phone.values()), phone)

        ack = page["ack"]
        self.assertIn("HTTP 403", ack["wrong"])
        self.assertLessEqual(page["refusedLogged"], 1)   # that 403, logged by Chromium
        self.assertIsNone(ack["storedAfterWrong"])
        self.assertIn("HTTP 200", ack["right"])
        self.assertEqual(ack["session"], TOKEN)
        self.assertEqual(ack["local"], 0)
        self.assertIn("acknowledged", ack["row"])
        acked = [a for a in self.api("/api/v1/alerts")["alerts"] if a["id"] == alert["id"]][0]
        self.assertTrue(acked["acknowledged"])
        self.assertEqual(acked["state"], "firing")
        for name in ("1280", "phone"):
            png = os.path.join(out, "dashboard-%s.png" % name)
            self.assertGreater(os.path.getsize(png), 20000)
        # the daemon's log is an output too: names in it are text, the bad
        # byte spelled \xff as everywhere else
        with open(self.d.errfile.name, "rb") as f:
            log = f.read()
        try:
            log.decode("utf-8")
        except UnicodeDecodeError as e:
            self.fail("the daemon logged a byte that is not UTF-8: %r" % log[max(0, e.start - 100):e.end + 40])

    def check_view(self, v, names, busy, hostile):
        listed = [row[0] for row in v["rows"]]
        for n in names:
            self.assertIn(n, listed)
        # the hostile names are text: one cell each, no element inside but
        # the link itself, no image, no script ran; each link opens its
        # container under the same text
        self.assertEqual(v["hostileCells"], [[{"text": n, "elements": 1}] for n in hostile])
        self.assertEqual(v["hostileTitles"], hostile)
        self.assertEqual(v["images"], 0)
        self.assertIsNone(v["xss"])
        self.assertRegex(v["kpis"]["health"], r"^\d+$")
        # the node's interfaces: loopback carries the test's requests
        lo = [r for r in v["nics"] if r[0] == "lo"]
        self.assertEqual(len(lo), 1, v["nics"])
        self.assertRegex(lo[0][1], r"^[0-9.]+ (B|KiB|MiB)/s$")

        def charts(lst):
            return {c["id"]: c for c in lst}

        node = charts(v["nodeCharts"])
        detail = charts(v["detailCharts"])
        self.assertEqual(v["detailTitle"], busy)
        for c in list(node.values()) + list(detail.values()):
            # every chart has a time axis with clock labels, even with no data
            self.assertTrue(c["xticks"], c)
            self.assertTrue(all(re.match(r"^\d\d:\d\d(:\d\d)?$", t) for t in c["xticks"]), c)
        for cid in ("cpu", "memory", "psi", "runq", "health", "request", "net", "rtt", "throttled"):
            c = detail[cid]
            self.assertFalse(c["empty"], c)
            self.assertGreater(c["points"], 1, c)
            self.assertGreater(len(c["yticks"]), 1, c)
            self.assertGreater(c["ink"], 100, c)
        self.assertTrue(all(t.endswith("%") or t == "0" for t in detail["psi"]["yticks"]), detail["psi"])
        self.assertTrue(all(re.search(r"(B|iB)$", t) or t == "0 B" for t in detail["memory"]["yticks"]),
                        detail["memory"])
        # memory against its limit: the table's column and the chart's dashed line
        row = [r for r in v["rows"] if r[0] == busy][0]
        cols = dict(zip([hd.rstrip(" ▲▼") for hd in v["head"]], row))
        self.assertEqual(cols["mem limit"], "256 MiB")
        self.assertNotIn("no memory limit", detail["memory"]["foot"])
        # CPU against its limit, and the throttling it causes: the facts from
        # the container document, the chart from the history series
        facts = dict(zip(v["cpuFacts"][0::2], v["cpuFacts"][1::2]))
        self.assertEqual(facts["limit"], "1.5 cores", facts)
        self.assertRegex(facts["throttled periods"], r"^[0-9,]+ of [0-9,]+ \([0-9.]+%\)$", facts)
        self.assertEqual(len(detail["cpu"]["legend"]), 3)       # time + used, limit
        self.assertEqual(len(detail["memory"]["legend"]), 4)    # time + usage, working set, limit
        self.assertTrue(all(t.endswith("%") or t == "0" for t in detail["throttled"]["yticks"]),
                        detail["throttled"])
        self.assertIn("first window", detail["throttled"]["foot"])
        self.assertTrue(all(re.search(r"(ns|µs|ms|s)$", t) or t == "0" for t in detail["runq"]["yticks"]),
                        detail["runq"])
        # the heatmap: cells from the fine buckets; a hover reads one out
        self.assertGreater(detail["runq"]["cells"], 3)
        self.assertGreater(node["node-runq"]["cells"], 3)
        self.assertRegex(v["heatHover"]["foot"], r"waits|no events here")
        # legends with more than one line, and values on hover
        self.assertEqual(len(detail["psi"]["legend"]), 4)      # time + cpu, memory, io
        self.assertRegex(" ".join(v["cpuHover"]["legend"]), r"used\s*[0-9.]+")
        self.assertIn("runq_p99", v["factors"])
        # request latency by port: the server's port, inbound, over the last minute
        row = [r for r in v["ports"] if r[:2] == ["inbound", str(self.port)]]
        self.assertEqual(len(row), 1, v["ports"])
        self.assertGreater(int(row[0][2].replace(",", "")), 10)
        self.assertRegex(row[0][4], r"^[0-9.]+ (µs|ms)$")
        # sorting, filtering, links
        self.assertEqual(v["sortedByName"], sorted(v["sortedByName"]))
        cpu = [float(x.split(" / ")[0]) for x in v["sortedByCpu"] if x not in ("–",)]
        self.assertEqual(cpu, sorted(cpu, reverse=True))
        self.assertEqual(v["filteredGlob"], [busy])
        self.assertEqual([n for n in v["filteredSub"]], [n for n in names if "quiet" in n.lower()])
        self.assertIn("f=QUIET", v["filterHash"])
        self.assertTrue(v["link"].startswith("#c="), v["link"])
        self.assertEqual(v["linkTitle"], busy)


if __name__ == "__main__":
    unittest.main()
