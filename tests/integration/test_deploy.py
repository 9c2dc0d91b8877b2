"""The deploy kit (tools/deploy/) against the real tools that consume it:
promtool checks and unit-tests the Prometheus rules; a real Prometheus
scrapes a live daemon under test workloads and evaluates the rules and every
Grafana panel's query."""
import json
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.parse
import urllib.request

import yaml

import harness as h

DEPLOY = os.path.join(h.ROOT, "tools", "deploy")
RULES = os.path.join(DEPLOY, "prometheus", "kpulse-rules.yml")
RULES_TEST = os.path.join(h.ROOT, "tests", "deploy", "rules_test.yml")
RUNBOOK = os.path.join(DEPLOY, "RUNBOOK.md")
DASHBOARD = os.path.join(DEPLOY, "grafana", "kpulse.json")
PROMTOOL = shutil.which("promtool")
PROMETHEUS = shutil.which("prometheus")
DELAY_SERVER = os.path.join(h.ROOT, ".output", "delay_server")
UNIT = os.path.join(DEPLOY, "systemd", "kpulse.service")
SYSUSERS = os.path.join(DEPLOY, "systemd", "kpulse.sysusers")
GEN_MAN = os.path.join(DEPLOY, "man", "gen-man.sh")
K8S = os.path.join(DEPLOY, "kubernetes")
IMAGE_BUILD = os.path.join(DEPLOY, "image", "build.sh")
FOOTPRINT = os.path.join(h.ROOT, "tools", "bench", "results-footprint.md")
# npm packages that carry the Kubernetes and prometheus-operator schemas,
# installed by the test (pinned) under .output/
NPM_DIR = os.path.join(h.ROOT, ".output", "deploy-npm")
NPM_PKGS = ["kubernetes-models@5.1.0", "@kubernetes-models/prometheus-operator@6.0.0",
            "js-yaml@4.1.0"]
MIB = 1 << 20

# Dashboard queries (panel title, refId) allowed to return nothing, each
# with why. Every entry must still be empty (the test fails when one
# returns data: then delete the entry), so this list only shrinks. Empty
# now: the test workloads give every panel data (the CPU hog a CFS quota,
# the scan and OOM cgroups a memory limit).
ALLOWED_EMPTY = {}
# Recording rules allowed to record nothing, for the same reasons.
ALLOWED_EMPTY_RULES = {}


def github_anchor(heading):
    """The anchor GitHub (and most Markdown renderers) give a heading."""
    a = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return a.replace(" ", "-")


def runbook_anchors():
    with open(RUNBOOK) as f:
        return {github_anchor(l.lstrip("#")) for l in f if l.startswith("#")}


def load_rules():
    with open(RULES) as f:
        return yaml.safe_load(f)


def alert_rules():
    return [r for g in load_rules()["groups"] for r in g["rules"] if "alert" in r]


@unittest.skipUnless(PROMTOOL, "promtool (Debian package prometheus) is not installed")
class PrometheusRulesTest(unittest.TestCase):
    def test_promtool_check_rules(self):
        p = subprocess.run([PROMTOOL, "check", "rules", RULES], capture_output=True, text=True)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)

    def test_promtool_unit_tests(self):
        p = subprocess.run([PROMTOOL, "test", "rules", RULES_TEST], capture_output=True,
                           text=True, cwd=os.path.dirname(RULES_TEST))
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("SUCCESS", p.stdout)

    def test_every_alert_is_documented_and_tested(self):
        """Each alert: a severity, summary, templated description, a
        runbook_url whose section exists in RUNBOOK.md, and at least one
        promtool test in which it fires."""
        anchors = runbook_anchors()
        with open(RULES_TEST) as f:
            tests = yaml.safe_load(f)["tests"]
        fired = {t["alertname"] for case in tests for t in case.get("alert_rule_test", [])
                 if t.get("exp_alerts")}
        alerts = alert_rules()
        self.assertGreaterEqual(len({a["alert"] for a in alerts}), 15)
        for a in alerts:
            name = a["alert"]
            with self.subTest(alert=name):
                self.assertIn(a["labels"]["severity"], ("info", "warning", "critical"))
                ann = a["annotations"]
                self.assertTrue(ann["summary"])
                self.assertIn("{{ $labels.", ann["description"])
                path, _, anchor = ann["runbook_url"].partition("#")
                self.assertTrue(os.path.isfile(os.path.join(h.ROOT, path)), path)
                self.assertEqual(anchor, name.lower())
                self.assertIn(anchor, anchors)
                self.assertIn(name, fired, "no promtool test makes %s fire" % name)


def load_dashboard():
    with open(DASHBOARD) as f:
        return json.load(f)


def dashboard_panels(d):
    """Every panel but rows (rows may nest collapsed panels)."""
    out = []
    for p in d["panels"]:
        if p["type"] == "row":
            out.extend(p.get("panels", []))
        else:
            out.append(p)
    return out


def prom_regex_escape(s):
    """As Grafana escapes a variable's value for a Prometheus regex
    matcher: regex metacharacters get a backslash, itself doubled inside
    the PromQL string."""
    return re.sub(r"([\\^$*+?.()|{}\[\]])", r"\\\\\1", s)


def grafana_rate_interval(step_s, scrape_s):
    """Grafana's $__rate_interval: max($__interval + scrape, 4 * scrape)."""
    return "%ds" % max(step_s + scrape_s, 4 * scrape_s)


def substitute(expr, variables):
    for name in sorted(variables, key=len, reverse=True):
        expr = expr.replace("${%s}" % name, variables[name]).replace("$" + name, variables[name])
    return expr


class DashboardStaticTest(unittest.TestCase):
    """What Grafana needs from the file, checked without Grafana (not in
    Debian): identity, variables, and queries that follow one pattern."""

    def test_structure(self):
        d = load_dashboard()
        self.assertEqual(d["uid"], "kpulse-containers")
        self.assertIn("kpulse", d["tags"])
        variables = {v["name"]: v for v in d["templating"]["list"]}
        self.assertEqual(variables["datasource"]["type"], "datasource")
        self.assertEqual(variables["datasource"]["query"], "prometheus")
        for name in ("instance", "container"):
            self.assertEqual(variables[name]["type"], "query")
            self.assertTrue(variables[name]["multi"] and variables[name]["includeAll"])
        panels = dashboard_panels(d)
        self.assertGreaterEqual(len(panels), 14)
        ids = [p["id"] for p in d["panels"]] + [p["id"] for p in panels if p not in d["panels"]]
        self.assertEqual(len(ids), len(set(ids)), "panel ids must be unique")
        titles = [p["title"] for p in panels]
        self.assertEqual(len(titles), len(set(titles)), "panel titles must be unique")
        self.assertTrue(any(p["type"] == "heatmap" for p in panels))
        cells = set()
        for p in d["panels"]:
            g = p["gridPos"]
            self.assertLessEqual(g["x"] + g["w"], 24, p["title"])
            mine = {(x, y) for x in range(g["x"], g["x"] + g["w"])
                    for y in range(g["y"], g["y"] + g["h"])}
            self.assertFalse(mine & cells, "%s overlaps another panel" % p["title"])
            cells |= mine
        for p in panels:
            with self.subTest(panel=p["title"]):
                self.assertEqual(p["datasource"]["uid"], "${datasource}")
                self.assertTrue(p.get("description"))
                self.assertTrue(p["targets"])
                for t in p["targets"]:
                    self.assertEqual(t["datasource"]["uid"], "${datasource}")
                    # rates over Grafana's interval, or a fixed 5m where the
                    # counters step slowly (sampled BPF stats)
                    for w in re.findall(r"\[([^\]]+)\]", t["expr"]):
                        self.assertIn(w, ("$__rate_interval", "5m"), t["expr"])
                    if "kpulse_container_" in t["expr"]:
                        self.assertIn('container=~"$container"', t["expr"])
                    self.assertIn('instance=~"$instance"', t["expr"])
        for key in ALLOWED_EMPTY:
            self.assertIn(key[0], titles, "stale ALLOWED_EMPTY entry %s" % (key,))


class CpuMemCgroups(h.MemCgroups):
    """MemCgroups (memory and CPU limits, whatever the layout) whose start()
    is run_mem: the workload joins the test cgroup and its v1 memory and
    cpu cgroups, if any."""

    def start(self, path, argv, **kw):
        return self.run_mem(path, argv, **kw)


class Prometheus:
    """A real Prometheus (Debian package) on a free loopback port with a
    temporary data directory, scraping the given targets every second and
    evaluating `rule_files` every second; stopped and removed by stop()."""

    def __init__(self, targets, rule_files=()):
        self.dir = tempfile.mkdtemp(prefix="kpulse-test-prom-")
        self.port = h.free_port()
        cfg = {"global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
               "rule_files": list(rule_files),
               "scrape_configs": [{"job_name": "kpulse",
                                   "static_configs": [{"targets": targets}]}]}
        with open(os.path.join(self.dir, "prometheus.yml"), "w") as f:
            yaml.safe_dump(cfg, f)
        self.log = open(os.path.join(self.dir, "log"), "w+")
        self.proc = subprocess.Popen(
            [PROMETHEUS, "--config.file", os.path.join(self.dir, "prometheus.yml"),
             "--storage.tsdb.path", os.path.join(self.dir, "data"),
             "--web.listen-address", "127.0.0.1:%d" % self.port],
            stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 30
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError("prometheus exited: " + self.logtext())
            try:
                with urllib.request.urlopen(self.url("/-/ready"), timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.time() > deadline:
                raise RuntimeError("prometheus not ready: " + self.logtext())
            time.sleep(0.2)

    def url(self, path):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def logtext(self):
        self.log.seek(0)
        return self.log.read()[-3000:]

    def api(self, path, **params):
        q = urllib.parse.urlencode(params, doseq=True)
        with urllib.request.urlopen(self.url("/api/v1/%s?%s" % (path, q)), timeout=30) as r:
            body = json.loads(r.read())
        if body["status"] != "success":
            raise AssertionError("%s %s: %s" % (path, params, body))
        return body["data"]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def finite_values(result):
    """Every finite sample value of a query result (matrix or vector)."""
    vals = []
    for s in result:
        for _, v in s.get("values", [s["value"]] if "value" in s else []):
            f = float(v)
            if math.isfinite(f):
                vals.append(f)
    return vals


# A client opening one connection per request to the delay server, and one
# to a closed port (a reset) every few requests, for a while.
CONN_CLIENT = r"""
import socket, sys, time
port, closed, secs = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
end, n = time.time() + secs, 0
while time.time() < end:
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    buf = b""
    while b"\r\n\r\n" not in buf or len(buf) < buf.index(b"\r\n\r\n") + 4 + 1024:
        buf += s.recv(4096)
    s.close()
    n += 1
    if n % 4 == 0:
        try:
            socket.create_connection(("127.0.0.1", closed)).close()
        except ConnectionRefusedError:
            pass
    time.sleep(0.1)
"""


@unittest.skipUnless(PROMETHEUS, "prometheus (Debian package) is not installed")
class LivePrometheusTest(unittest.TestCase):
    """A real Prometheus scrapes a live daemon while test workloads run in
    test cgroups: a CPU-limited busy loop, a server under wrk, a client
    opening connections (and hitting a closed port), a file scan in a
    memory-limited cgroup (reclaim), one OOM kill. Then every dashboard
    query, every variable query and every rule is evaluated by Prometheus."""

    WORK_S = 14

    @classmethod
    def setUpClass(cls):
        if not os.access(DELAY_SERVER, os.X_OK) or not os.access(h.WORKLOAD, os.X_OK):
            raise unittest.SkipTest("test programs not built (make integration-test builds them)")
        cls.cg = CpuMemCgroups()
        cls.files = []
        cls.prom = cls.d = None
        try:
            cls._start()
        except BaseException:
            cls._cleanup()
            raise

    @classmethod
    def _start(cls):
        cg = cls.cg
        cls.paths = {n: cg.make_mem(n, lim) for n, lim in
                     (("web", None), ("client", None), ("conns", None), ("hog", None),
                      ("scan", 40 * MIB), ("oom", 32 * MIB))}
        cg.limit_cpu(cls.paths["hog"], 0.5)
        scratch = os.path.join(h.ROOT, ".output", "%s-scan.dat" % h.TEST_PREFIX)
        cls.files.append(scratch)
        with open(scratch, "wb") as f:
            chunk = os.urandom(MIB)
            for _ in range(120):
                f.write(chunk)
            os.fsync(f.fileno())
            os.posix_fadvise(f.fileno(), 0, 0, os.POSIX_FADV_DONTNEED)

        cls.d = h.Daemon("--config", h.config_file("bpf_stats: always\n"))
        cls.instance = "127.0.0.1:%d" % cls.d.port
        cls.prom = Prometheus([cls.instance], [RULES])
        cls.t0 = time.time()
        secs = str(cls.WORK_S)
        web = cg.start(cls.paths["web"], [DELAY_SERVER, "-d", "5", "-b", "1024"],
                       stdout=subprocess.PIPE, text=True)
        port = int(web.stdout.readline().split()[1])
        cg.start(cls.paths["client"], ["wrk", "-t1", "-c4", "-d%ss" % secs,
                                       "http://127.0.0.1:%d/" % port],
                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        cg.start(cls.paths["conns"], [sys.executable, "-c", CONN_CLIENT, str(port),
                                      str(h.free_port()), secs])
        cg.start(cls.paths["hog"], [h.WORKLOAD, "spin", "2", secs])
        cg.start(cls.paths["scan"], [h.WORKLOAD, "filescan", scratch, secs])
        time.sleep(3)
        oom = cg.start(cls.paths["oom"], [h.WORKLOAD, "alloc", "256", "10"])
        if oom.wait(timeout=30) != -9:
            raise AssertionError("the OOM workload was not killed (exit %d)" % oom.returncode)
        time.sleep(max(0, cls.t0 + cls.WORK_S + 1 - time.time()))
        web.terminate()
        cls.t1 = time.time()
        # the containers' label values as kpulse names them
        m = cls.d.metrics()
        cls.names = {}
        for n, p in cls.paths.items():
            found = h.series(m, "kpulse_container_cpu_seconds_total", cgroup=cg.rel(p))
            if found:
                cls.names[n] = found[0][0]["container"]

    @classmethod
    def _cleanup(cls):
        try:
            if cls.prom:
                cls.prom.stop()
            if cls.d:
                cls.d.stop()
        finally:
            cls.cg.cleanup()
            for p in cls.files:
                if os.path.exists(p):
                    os.unlink(p)

    @classmethod
    def tearDownClass(cls):
        cls._cleanup()

    def variables(self):
        return {"instance": prom_regex_escape(self.instance),
                "container": "|".join(prom_regex_escape(n) for n in self.names.values()),
                "__rate_interval": grafana_rate_interval(1, 1),
                "datasource": "prometheus"}

    def evaluate(self, target):
        expr = substitute(target["expr"], self.variables())
        if target.get("instant"):
            return expr, self.prom.api("query", query=expr, time=self.t1)["result"]
        return expr, self.prom.api("query_range", query=expr, start=self.t0 + 4,
                                   end=self.t1, step="1s")["result"]

    def test_every_panel_query_returns_data(self):
        self.assertEqual(set(self.names), set(self.paths), "containers kpulse named")
        got_data = []
        for p in dashboard_panels(load_dashboard()):
            for t in p["targets"]:
                key = (p["title"], t["refId"])
                expr, res = self.evaluate(t)
                vals = finite_values(res)
                if key in ALLOWED_EMPTY:
                    if vals:
                        got_data.append(key)
                    continue
                with self.subTest(panel=p["title"], ref=t["refId"]):
                    self.assertTrue(vals, "no data for %s" % expr)
        self.assertFalse(got_data, "these ALLOWED_EMPTY queries return data now, remove them "
                         "from the list: %s" % got_data)

    def test_heatmap_sees_the_contended_cgroup(self):
        """The run-queue heatmap of the CPU hog alone: waits counted, in
        more than one bucket."""
        heat = [t for p in dashboard_panels(load_dashboard()) if p["type"] == "heatmap"
                for t in p["targets"]][0]
        v = self.variables()
        v["container"] = prom_regex_escape(self.names["hog"])
        expr = substitute(heat["expr"], v)
        res = self.prom.api("query_range", query=expr, start=self.t0 + 4, end=self.t1,
                            step="1s")["result"]
        busy = [s["metric"]["le"] for s in res if any(float(x) > 0 for _, x in s["values"])]
        self.assertGreater(len(busy), 1, busy)

    def test_variable_queries(self):
        d = load_dashboard()
        q = {v["name"]: v["definition"] for v in d["templating"]["list"] if v["type"] == "query"}
        m = re.fullmatch(r"label_values\((.*), (\w+)\)", q["instance"])
        series = self.prom.api("series", **{"match[]": m.group(1), "start": self.t0,
                                            "end": self.t1})
        self.assertIn(self.instance, {s[m.group(2)] for s in series})
        m = re.fullmatch(r"label_values\((.*), (\w+)\)", q["container"])
        sel = substitute(m.group(1), {"instance": prom_regex_escape(self.instance)})
        series = self.prom.api("series", **{"match[]": sel, "start": self.t0, "end": self.t1})
        self.assertLessEqual(set(self.names.values()), {s[m.group(2)] for s in series})

    def test_rules_evaluate_in_prometheus(self):
        """Every rule loaded and evaluated without error; every recording
        rule records data from the live daemon."""
        groups = self.prom.api("rules")["groups"]
        rules = [r for g in groups for r in g["rules"]]
        self.assertEqual(len(rules), sum(len(g["rules"]) for g in load_rules()["groups"]))
        for r in rules:
            self.assertEqual(r["health"], "ok", r)
        recorded = []
        for r in rules:
            if r["type"] != "recording":
                continue
            res = self.prom.api("query_range", query=r["name"], start=self.t0 + 4,
                                end=self.t1, step="1s")["result"]
            vals = finite_values(res)
            if r["name"] in ALLOWED_EMPTY_RULES:
                if vals:
                    recorded.append(r["name"])
                continue
            with self.subTest(rule=r["name"]):
                self.assertTrue(vals, "%s recorded nothing" % r["name"])
        self.assertFalse(recorded, "remove from ALLOWED_EMPTY_RULES: %s" % recorded)

    def test_oom_alert_fires_in_prometheus(self):
        """ContainerOOMKill fires for the test container that had its task
        OOM-killed, and for no other test container."""
        sel = 'ALERTS{alertname="ContainerOOMKill", alertstate="firing", container=~"%s"}' % \
            "|".join(prom_regex_escape(n) for n in self.names.values())
        res = self.prom.api("query_range", query=sel, start=self.t0, end=self.t1 + 1, step="1s")
        self.assertEqual({s["metric"]["container"] for s in res["result"]}, {self.names["oom"]})
        labels = res["result"][0]["metric"]
        self.assertEqual(labels["severity"], "critical")
        self.assertEqual(labels["cgroup"], self.cg.rel(self.paths["oom"]))

    def test_builtin_rules_mirrored(self):
        """The Prometheus twins of kpulse's built-in rules use the same
        threshold, clear level, `for` and severity as the daemon reports."""
        builtin = json.loads(self.d.get("/api/v1/alerts")[2])["rules"]
        self.assertEqual(len(builtin), 5)
        prom = {a["alert"]: a for a in alert_rules()}
        recorded = {r["record"]: r["expr"] for g in load_rules()["groups"]
                    for r in g["rules"] if "record" in r}
        units = {"s": 1, "m": 60, "h": 3600}
        for b in builtin:
            with self.subTest(rule=b["name"]):
                a = prom[b["name"]]
                self.assertEqual(a["labels"]["severity"], b["severity"])
                f = a.get("for", "0s")
                self.assertEqual(int(f[:-1]) * units[f[-1]], b["for_seconds"])
                nums = [float(x) for x in re.findall(r"> ([0-9.]+)", a["expr"])]
                # percent in the daemon, a ratio in Prometheus
                scale = 100 if b["metric"].endswith("_pressure") or \
                    b["metric"] == "cpu_throttled" else 1
                self.assertAlmostEqual(nums[0] * scale, b["threshold"])
                if b["clear"] != b["threshold"]:
                    self.assertAlmostEqual(nums[1] * scale, b["clear"])
                    self.assertIn('ALERTS{alertname="%s"}' % b["name"], a["expr"])
                if b["window_seconds"]:  # in the expression or the rule it records from
                    expr = a["expr"]
                    for name, e in recorded.items():
                        expr = expr.replace(name, "(%s)" % e)
                    self.assertIn("[%dm]" % (b["window_seconds"] // 60), expr)

    def test_health_score_on_metrics_matches_api(self):
        """kpulse_container_health_score is the API's health score."""
        for _ in range(5):
            api0 = json.loads(self.d.get("/api/v1/containers")[2])
            m = self.d.metrics()
            api1 = json.loads(self.d.get("/api/v1/containers")[2])
            s0 = {c["cgroup"]: c["health"]["score"] for c in api0}
            s1 = {c["cgroup"]: c["health"]["score"] for c in api1}
            if s0 == s1:
                break
        got = {lab["cgroup"]: v for lab, v in h.series(m, "kpulse_container_health_score")}
        self.assertTrue(got)
        for cg, score in got.items():
            if cg in s0:
                self.assertAlmostEqual(score, s0[cg], places=6, msg=cg)
        self.assertEqual(len(h.series(m, "kpulse_node_health_score")), 1)


def unit_settings(path=UNIT):
    """{key: [values]} of a unit file's [Service] and other sections."""
    out = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line[0] in "#;[":
                continue
            k, _, v = line.partition("=")
            out.setdefault(k, []).append(v)
    return out


def unit_caps():
    """The unit's capability names in setpriv's spelling (bpf, perfmon)."""
    u = unit_settings()
    amb = " ".join(u["AmbientCapabilities"]).split()
    bnd = " ".join(u["CapabilityBoundingSet"]).split()
    assert sorted(amb) == sorted(bnd), "ambient and bounding sets differ"
    return [c[len("CAP_"):].lower() for c in amb]


CAP_BITS = {"bpf": 39, "perfmon": 38, "sys_admin": 21, "dac_read_search": 2,
            "sys_resource": 24, "net_admin": 12}


def syscall_group(name, seen=None):
    """The syscalls of a systemd syscall group (@name), expanded as
    `systemd-analyze syscall-filter` lists them."""
    seen = seen if seen is not None else set()
    if name in seen:
        return set()
    seen.add(name)
    out = subprocess.run(["systemd-analyze", "syscall-filter", name], capture_output=True,
                         text=True, check=True).stdout
    calls = set()
    for line in out.splitlines()[1:]:
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        calls |= syscall_group(line, seen) if line.startswith("@") else {line}
    return calls


def unit_seccomp_filter():
    """A libseccomp filter equal to the unit's SystemCallFilter= (allow
    list, SystemCallErrorNumber= for the rest) and MemoryDenyWriteExecute=
    (no writable+executable mappings, no making memory executable later),
    as systemd would install it."""
    import seccomp
    u = unit_settings()
    errno_name = u["SystemCallErrorNumber"][0]
    f = seccomp.SyscallFilter(seccomp.ERRNO(getattr(__import__("errno"), errno_name)))
    allowed = set()
    for item in " ".join(u["SystemCallFilter"]).split():
        allowed |= syscall_group(item) if item.startswith("@") else {item}
    # what systemd always lets through so the service can start and end
    allowed |= {"execve", "exit", "exit_group", "rt_sigreturn"}
    # MemoryDenyWriteExecute: mmap never writable and executable at once,
    # mprotect never adds execute (the rest of those calls: the default)
    mdwe = u.get("MemoryDenyWriteExecute") == ["yes"]
    prot_w, prot_x = 0x2, 0x4
    for call in sorted(allowed):
        try:
            if mdwe and call == "mmap":
                for ok in (0, prot_w, prot_x):
                    f.add_rule(seccomp.ALLOW, call,
                               seccomp.Arg(2, seccomp.MASKED_EQ, prot_w | prot_x, ok))
            elif mdwe and call in ("mprotect", "pkey_mprotect"):
                f.add_rule(seccomp.ALLOW, call, seccomp.Arg(2, seccomp.MASKED_EQ, prot_x, 0))
            else:
                f.add_rule(seccomp.ALLOW, call)
        except (RuntimeError, ValueError):
            pass  # not a syscall of this architecture (systemd skips those too)
    return f


def proc_status(pid):
    with open("/proc/%d/status" % pid) as f:
        return dict(l.rstrip("\n").split(":\t", 1) for l in f if ":\t" in l)


class SystemdUnitTest(unittest.TestCase):
    """tools/deploy/systemd/kpulse.service checked by systemd's own tools,
    and the daemon run the way the unit runs it. systemd is not PID 1 on
    these machines, so the unit is not started by systemd: setpriv gives
    the daemon exactly the unit's user, capabilities and no_new_privs, a
    libseccomp filter built from `systemd-analyze syscall-filter` gives it
    the unit's SystemCallFilter= and MemoryDenyWriteExecute=, and a
    datagram socket of the test's is its $NOTIFY_SOCKET."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="kpulse-test-unit-")
        os.chmod(cls.tmp, 0o755)
        os.makedirs(os.path.join(cls.tmp, "man8"))
        subprocess.run([GEN_MAN, h.KPULSE, os.path.join(cls.tmp, "man8", "kpulse.8")],
                       check=True, capture_output=True)
        cls.unit = os.path.join(cls.tmp, "kpulse.service")
        with open(UNIT) as f, open(cls.unit, "w") as g:
            g.write(f.read().replace("/usr/bin/kpulse", h.KPULSE))

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_verify_clean(self):
        """`systemd-analyze verify` says nothing (its man page check finds
        kpulse(8) as generated by the build)."""
        env = dict(os.environ, MANPATH=self.tmp)
        p = subprocess.run(["systemd-analyze", "verify", self.unit], capture_output=True,
                           text=True, env=env)
        self.assertEqual((p.returncode, p.stdout + p.stderr), (0, ""))

    def test_security_exposure(self):
        p = subprocess.run(["systemd-analyze", "security", "--offline=true", self.unit],
                           capture_output=True, text=True)
        m = re.search(r"Overall exposure level for kpulse.service: ([\d.]+)", p.stdout)
        self.assertTrue(m, p.stdout + p.stderr)
        print("\n  systemd-analyze security: overall exposure %s" % m.group(1))
        self.assertLessEqual(float(m.group(1)), 2.5)

    def test_unit_essentials(self):
        u = unit_settings()
        self.assertEqual(u["Type"], ["notify"])
        self.assertEqual(u["Restart"], ["on-failure"])
        self.assertNotEqual(u["User"], ["root"])
        self.assertEqual(u["NoNewPrivileges"], ["yes"])
        self.assertEqual(u["ProtectSystem"], ["strict"])
        for k in ("ProtectHome", "ProtectKernelModules", "ProtectKernelTunables",
                  "ProtectControlGroups"):
            self.assertEqual(u[k], ["yes"], k)
        self.assertIn("MemoryMax", u)
        self.assertEqual(sorted(unit_caps()), ["bpf", "dac_read_search", "perfmon"])

    def ensure_user(self, user):
        """The unit's user, made from the packaged sysusers.d file when
        missing (and deleted again afterwards)."""
        if subprocess.run(["id", "-u", user], capture_output=True).returncode == 0:
            return
        p = subprocess.run(["systemd-sysusers", SYSUSERS], capture_output=True, text=True)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.addCleanup(subprocess.run, ["userdel", user], capture_output=True)
        self.addCleanup(subprocess.run, ["groupdel", user], capture_output=True)

    def test_daemon_as_the_unit_runs_it(self):
        """The daemon as the unit's user with exactly its capabilities,
        no_new_privs and syscall filter: READY only after the programs are
        attached, STATUS per phase, STOPPING at SIGTERM; /health ok with
        every program attached; a test cgroup's CPU and memory right;
        SIGHUP re-reads the config file; exit 0. A real dockerd's container
        is named from its root-only files (CAP_DAC_READ_SEARCH, kept)."""
        import socket as sk
        import runtimes
        err = runtimes.available()
        if err:
            self.fail(err)
        u = unit_settings()
        user, group = u["User"][0], u["Group"][0]
        self.ensure_user(user)
        caps = unit_caps()
        uid = int(subprocess.run(["id", "-u", user], capture_output=True, text=True).stdout)

        cg = h.MemCgroups()
        self.addCleanup(cg.cleanup)
        busy = cg.make_mem("unitbusy", 64 * MIB)

        # a docker container, its files root's alone as docker makes them
        dockerd = runtimes.Dockerd()
        self.addCleanup(dockerd.close)
        cname = "kpunit_%d" % os.getpid()
        dockerd.run(cname, dockerd.import_busybox(), "sleep", "100000")
        cfile = os.path.join(dockerd.data_root, "containers", dockerd.ids[0], "config.v2.json")
        self.assertEqual(os.stat(cfile).st_mode & 0o077, 0)

        # the packaged config, as /etc/kpulse/kpulse.yaml (mode 0644), with
        # our dockerd's root where /var/lib/docker would be
        cfg = os.path.join(self.tmp, "kpulse.yaml")
        with open(os.path.join(DEPLOY, "kpulse.yaml")) as f, open(cfg, "w") as g:
            g.write(f.read() + "runtimes:\n  docker: [%s]\n" % dockerd.data_root)
        os.chmod(cfg, 0o644)
        ns = os.path.join(self.tmp, "notify")
        sock = sk.socket(sk.AF_UNIX, sk.SOCK_DGRAM)
        self.addCleanup(sock.close)
        sock.bind(ns)
        os.chmod(ns, 0o666)
        port = h.free_port()
        filt = unit_seccomp_filter()
        argv = ["setpriv", "--reuid=" + user, "--regid=" + group, "--clear-groups",
                "--inh-caps=-all," + ",".join("+" + c for c in caps),
                "--ambient-caps=-all," + ",".join("+" + c for c in caps),
                "--bounding-set=-all," + ",".join("+" + c for c in caps),
                "--no-new-privs",
                h.KPULSE, "daemon", "--config", cfg, "--listen", "127.0.0.1:%d" % port]
        err = open(os.path.join(self.tmp, "stderr"), "w+")
        self.addCleanup(err.close)
        # violations of the daemon's own seccomp filter are fatal, as in
        # every integration test
        p = subprocess.Popen(argv, env=dict(os.environ, NOTIFY_SOCKET=ns,
                                            KPULSE_TEST_SECCOMP_KILL="1"),
                             stdout=subprocess.DEVNULL, stderr=err, preexec_fn=filt.load)
        self.addCleanup(lambda: p.poll() is None and (p.kill(), p.wait()))

        msgs = []
        sock.settimeout(0.5)
        deadline = time.time() + 30
        while not any("READY=1" in m for m in msgs):
            try:
                msgs.append(sock.recv(4096).decode())
            except sk.timeout:
                if p.poll() is not None or time.time() > deadline:
                    err.seek(0)
                    self.fail("no READY=1 (exit %s); got %s; stderr: %s"
                              % (p.poll(), msgs, err.read()))
        # READY means attached and serving: /health answers at once
        with urllib.request.urlopen("http://127.0.0.1:%d/health" % port, timeout=5) as r:
            health = json.loads(r.read())
        h.OWNED.update(h.prog_ids_of(p.pid))
        # ok: every program attached, nothing missing (the packaged config
        # turns off the BPF run-time stats, which need CAP_SYS_ADMIN)
        self.assertEqual(health["status"], "ok", health)
        self.assertTrue(all(pr["attached"] for pr in health["programs"]), health["programs"])
        self.assertEqual(health["features_missing"], [])
        self.assertEqual([m.split("\n")[0] for m in msgs[:2]],
                         ["STATUS=loading and attaching BPF programs", "STATUS=first collection"])
        self.assertRegex(msgs[-1], r"READY=1\nSTATUS=serving on 127.0.0.1:%d, \d+ BPF programs attached" % port)

        # never more than the unit grants; once attached the daemon drops
        # all but the one naming containers needs
        st = proc_status(p.pid)
        want = sum(1 << CAP_BITS[c] for c in caps)
        self.assertEqual(int(st["CapEff"], 16) & ~want, 0, st["CapEff"])
        self.assertEqual(int(st["CapBnd"], 16) & ~want, 0, st["CapBnd"])
        self.assertEqual(int(st["CapEff"], 16), 1 << CAP_BITS["dac_read_search"], st["CapEff"])
        self.assertEqual(health["privileges"]["capabilities"], "dac_read_search")
        self.assertEqual(int(st["Uid"].split()[0]), uid)
        self.assertEqual(st["NoNewPrivs"], "1")
        self.assertEqual(st["Seccomp"], "2")

        # figures of a test cgroup, as root would see them
        wl = cg.run_mem(busy, [h.WORKLOAD, "spin", "1", "3"])
        self.assertEqual(wl.wait(timeout=30), 0)
        time.sleep(2.5)  # a tick (2 s, the packaged interval) reads the cgroup files
        with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=5) as r:
            m = h.parse_metrics(r.read().decode())
        rel = cg.rel(busy)
        cpu = h.value(m, "kpulse_container_cpu_seconds_total", cgroup=rel)
        self.assertAlmostEqual(cpu, h.cpu_usage_usec(busy) / 1e6, delta=0.05 * cpu)
        self.assertEqual(h.value(m, "kpulse_container_memory_limit_bytes", cgroup=rel), 64 * MIB)
        self.assertGreater(h.value(m, "kpulse_container_memory_usage_bytes", cgroup=rel), 0)
        found = h.series(m, "kpulse_container_cpu_seconds_total", container=cname)
        self.assertEqual([lab["container_id"] for lab, _ in found], dockerd.ids)
        self.assertEqual(found[0][0]["image"], dockerd.inspect(cname)["Config"]["Image"])

        p.send_signal(signal.SIGHUP)
        deadline = time.time() + 10
        while time.time() < deadline:
            err.seek(0)
            if "config: reloaded" in err.read():
                break
            time.sleep(0.1)
        p.send_signal(signal.SIGTERM)
        self.assertEqual(p.wait(timeout=20), 0)
        sock.settimeout(2)
        msgs.append(sock.recv(4096).decode())
        self.assertEqual(msgs[-1], "STOPPING=1\nSTATUS=stopping")
        err.seek(0)
        log = err.read()
        self.assertIn("config: reloaded", log)
        self.assertNotIn("error", log.lower())


def k8s_docs():
    """{kind: document} of every manifest under tools/deploy/kubernetes."""
    docs = {}
    for fn in sorted(os.listdir(K8S)):
        if fn.endswith(".yaml") and fn != "kustomization.yaml":
            with open(os.path.join(K8S, fn)) as f:
                for d in yaml.safe_load_all(f):
                    if d:
                        docs[d["kind"]] = d
    return docs


def footprint():
    """{test cgroups: (RSS MiB, peak RSS MiB, millicores)} from
    tools/bench/results-footprint.md."""
    rows = {}
    with open(FOOTPRINT) as f:
        for line in f:
            c = [x.strip() for x in line.strip().strip("|").split("|")]
            if len(c) == 6 and c[0].isdigit():
                rows[int(c[0])] = (float(c[2]), float(c[3]), float(c[4]))
    return rows


def quantity(q):
    """A Kubernetes quantity as a number (bytes, or cores)."""
    units = {"Ki": 1 << 10, "Mi": 1 << 20, "Gi": 1 << 30, "m": 1e-3}
    for u, mult in units.items():
        if q.endswith(u):
            return float(q[:-len(u)]) * mult
    return float(q)


@unittest.skipUnless(shutil.which("npm") and shutil.which("node"), "node and npm are needed")
class KubernetesManifestsTest(unittest.TestCase):
    def npm_modules(self):
        """The pinned schema packages under .output/deploy-npm (installed
        from the npm registry the first time)."""
        stamp = os.path.join(NPM_DIR, "installed")
        want = " ".join(NPM_PKGS)
        if not (os.path.exists(stamp) and open(stamp).read() == want):
            os.makedirs(NPM_DIR, exist_ok=True)
            p = subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--silent",
                                "--prefix", NPM_DIR] + NPM_PKGS,
                               capture_output=True, text=True, timeout=600)
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
            with open(stamp, "w") as f:
                f.write(want)
        shutil.copy(os.path.join(h.ROOT, "tests", "deploy", "validate-k8s.mjs"), NPM_DIR)
        return NPM_DIR

    def test_schema_validation(self):
        """Every manifest validates against the Kubernetes API schema (and
        prometheus-operator's for the monitors); a broken one does not."""
        d = self.npm_modules()
        files = sorted(os.path.join(K8S, f) for f in os.listdir(K8S)
                       if f.endswith(".yaml") and f != "kustomization.yaml")
        p = subprocess.run(["node", "validate-k8s.mjs"] + files, cwd=d, capture_output=True,
                           text=True)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        kinds = {l.split()[1].split("/")[0] for l in p.stdout.splitlines()}
        self.assertLessEqual({"DaemonSet", "Service", "ServiceMonitor", "PodMonitor"}, kinds)
        # the validator can fail: a capability list given as a string
        bad = k8s_docs()["DaemonSet"]
        bad["spec"]["template"]["spec"]["containers"][0]["securityContext"]["capabilities"][
            "add"] = "BPF"
        badf = os.path.join(d, "bad-daemonset.yaml")
        with open(badf, "w") as f:
            yaml.safe_dump(bad, f)
        p = subprocess.run(["node", "validate-k8s.mjs", badf], cwd=d, capture_output=True,
                           text=True)
        self.assertEqual(p.returncode, 1, p.stdout)
        self.assertIn("capabilities/add must be array", p.stdout)

    def test_kustomization_lists_every_manifest(self):
        with open(os.path.join(K8S, "kustomization.yaml")) as f:
            k = yaml.safe_load(f)
        for r in k["resources"]:
            self.assertTrue(os.path.isfile(os.path.join(K8S, r)), r)
        self.assertNotIn("podmonitor.yaml", k["resources"])  # one monitor, not both


class DaemonSetSettingsTest(unittest.TestCase):
    """What the DaemonSet promises, read from the manifest (the schema
    check cannot tell a misspelled field from an unknown one)."""

    def setUp(self):
        self.docs = k8s_docs()
        self.pod = self.docs["DaemonSet"]["spec"]["template"]["spec"]
        self.c = self.pod["containers"][0]

    def test_least_privilege(self):
        sc = self.c["securityContext"]
        self.assertFalse(sc.get("privileged", False))
        self.assertFalse(sc["allowPrivilegeEscalation"])
        self.assertTrue(sc["readOnlyRootFilesystem"])
        self.assertEqual(sc["capabilities"]["drop"], ["ALL"])
        # the systemd unit's, but CAP_DAC_READ_SEARCH: root in the pod owns
        # the runtimes' files (DockerImageTest reads them so)
        self.assertEqual(sorted(c.lower() for c in sc["capabilities"]["add"]),
                         sorted(set(unit_caps()) - {"dac_read_search"}))
        self.assertEqual(self.pod["securityContext"]["seccompProfile"]["type"], "RuntimeDefault")
        self.assertEqual(sc["seccompProfile"]["type"], "RuntimeDefault")
        self.assertFalse(self.pod["automountServiceAccountToken"])
        self.assertEqual(self.pod["priorityClassName"], "system-node-critical")
        self.assertEqual(self.pod["tolerations"], [{"operator": "Exists"}])

    def test_mounts_read_only(self):
        mounts = {m["mountPath"]: m for m in self.c["volumeMounts"]}
        for path in ("/sys/fs/cgroup", "/sys/kernel/btf", "/var/lib/docker/containers",
                     "/var/lib/containers/storage", "/var/log/pods", "/var/log/containers"):
            self.assertIn(path, mounts)
        for m in mounts.values():
            self.assertTrue(m.get("readOnly"), m)
        vols = {v["name"]: v for v in self.pod["volumes"]}
        for m in mounts.values():
            v = vols[m["name"]]
            if "hostPath" in v:
                self.assertEqual(v["hostPath"]["path"], m["mountPath"])
                # submounts (v1 cgroup hierarchies) read-only too
                self.assertEqual(m.get("recursiveReadOnly"), "IfPossible", m)
                self.assertNotIn("mountPropagation", m)

    def test_probes_on_health(self):
        port = self.c["ports"][0]
        self.assertEqual(port["containerPort"], 9477)
        for probe in ("livenessProbe", "readinessProbe"):
            self.assertEqual(self.c[probe]["httpGet"]["path"], "/health")
            self.assertEqual(self.c[probe]["httpGet"]["port"], port["name"])

    def test_resources_from_measured_figures(self):
        """Requests hold a 500-container node's measured RSS and CPU, the
        memory limit twice the 1,000-container peak, the unit's MemoryMax
        the same."""
        fp = footprint()
        res = self.c["resources"]
        mib = 1 << 20
        self.assertGreaterEqual(quantity(res["requests"]["memory"]) / mib, fp[500][0])
        self.assertGreaterEqual(quantity(res["requests"]["cpu"]) * 1000, fp[1000][2])
        self.assertGreaterEqual(quantity(res["limits"]["memory"]) / mib, 2 * fp[1000][1])
        unit_max = unit_settings()["MemoryMax"][0]
        self.assertEqual(quantity(unit_max.replace("M", "Mi")), quantity(res["limits"]["memory"]))

    def test_monitors_find_the_pods(self):
        labels = self.docs["DaemonSet"]["spec"]["template"]["metadata"]["labels"]
        svc = self.docs["Service"]
        self.assertLessEqual(svc["spec"]["selector"].items(), labels.items())
        self.assertEqual(svc["spec"]["ports"][0]["targetPort"], self.c["ports"][0]["name"])
        for kind, eps in (("ServiceMonitor", "endpoints"), ("PodMonitor", "podMetricsEndpoints")):
            m = self.docs[kind]["spec"]
            owner = svc["metadata"]["labels"] if kind == "ServiceMonitor" else labels
            self.assertLessEqual(m["selector"]["matchLabels"].items(), owner.items())
            self.assertEqual(m["namespaceSelector"]["matchNames"],
                             [self.docs["DaemonSet"]["metadata"]["namespace"]])
            self.assertEqual(m[eps][0]["port"], "metrics")
            # job="kpulse", which the Prometheus rules select on
            self.assertEqual(owner[m["jobLabel"]], "kpulse")
        self.assertIn('up{job="kpulse"}', open(RULES).read())

    def test_configmap_is_a_valid_config(self):
        cfg = self.docs["ConfigMap"]["data"]["kpulse.yaml"]
        args = self.c["args"]
        self.assertEqual(args[:2], ["daemon", "--config"])
        self.assertEqual(os.path.dirname(args[2]), "/etc/kpulse")
        p = subprocess.run([h.KPULSE, "daemon", "--config", h.config_file(cfg), "--check"],
                           capture_output=True, text=True)
        self.assertEqual(p.returncode, 0, p.stderr)


def run_in_rootfs(rootfs, keep_caps, binds=None):
    """A preexec_fn that starts a command the way a container runtime
    would run the image with the DaemonSet's settings, minus the runtime:
    a private mount namespace; the image's root filesystem read-only; the
    host's /proc (hostPID) and /sys with every cgroup mount under it
    read-only; chroot into the image; no_new_privs; every capability but
    `keep_caps` out of the bounding set (so root holds only those, as with
    `drop: [ALL]` and `add: [...]`). `binds`: {host dir: path in the
    image} mounted read-only (a ConfigMap volume)."""
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    libc.mount.argtypes = [ctypes.c_char_p] * 3 + [ctypes.c_ulong, ctypes.c_void_p]
    CLONE_NEWNS, MS_RDONLY, MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = \
        0x20000, 1, 32, 4096, 16384, 1 << 18
    PR_CAPBSET_DROP, PR_SET_NO_NEW_PRIVS = 24, 38

    def check(ret, what):
        if ret != 0:
            raise OSError(ctypes.get_errno(), what)

    def mount(src, dst, fstype, flags):
        check(libc.mount(src and src.encode(), dst.encode(), fstype and fstype.encode(),
                         flags, None), "mount %s" % dst)

    def enter():
        check(libc.unshare(CLONE_NEWNS), "unshare")
        mount(None, "/", None, MS_REC | MS_PRIVATE)
        mount(rootfs, rootfs, None, MS_BIND)
        mount(None, rootfs, None, MS_REMOUNT | MS_BIND | MS_RDONLY)
        mount("/sys", rootfs + "/sys", None, MS_BIND | MS_REC)
        mount("proc", rootfs + "/proc", "proc", 0)
        for src, dst in (binds or {}).items():
            mount(src, rootfs + dst, None, MS_BIND)
            mount(None, rootfs + dst, None, MS_REMOUNT | MS_BIND | MS_RDONLY)
        with open("/proc/self/mountinfo") as f:
            subs = [l.split()[4] for l in f if l.split()[4].startswith(rootfs + "/sys")]
        for m in subs:
            mount(None, m.replace("\\040", " "), None, MS_REMOUNT | MS_BIND | MS_RDONLY)
        os.chroot(rootfs)
        os.chdir("/")
        check(libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")
        for cap in range(64):
            if cap not in keep_caps:
                libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0)  # EINVAL past the last: fine
    return enter


class ImageTest(unittest.TestCase):
    """tools/deploy/image/build.sh: the image's root filesystem holds
    everything kpulse needs, and the daemon in it, entered with chroot in a
    private mount namespace with the DaemonSet's settings (run_in_rootfs),
    works and counts a test cgroup's CPU and memory limit as its cgroup
    files do. ContainerImageTest runs the same image in a real container
    runtime."""

    @classmethod
    def setUpClass(cls):
        cls.out = os.path.join(h.ROOT, ".output", "%s-image" % h.TEST_PREFIX)
        p = subprocess.run([IMAGE_BUILD, h.KPULSE, cls.out], capture_output=True, text=True,
                           env=dict(os.environ, IMAGE_IMPORT="none"))
        if p.returncode:
            shutil.rmtree(cls.out, ignore_errors=True)
            raise AssertionError("build.sh failed: " + p.stdout + p.stderr)
        cls.rootfs = os.path.join(cls.out, "rootfs")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.out, ignore_errors=True)

    def caps(self):
        sc = k8s_docs()["DaemonSet"]["spec"]["template"]["spec"]["containers"][0][
            "securityContext"]
        return {CAP_BITS[c.lower()] for c in sc["capabilities"]["add"]}

    def test_tarball_is_the_rootfs(self):
        import tarfile
        with tarfile.open(os.path.join(self.out, "kpulse-image.tar")) as t:
            names = set(t.getnames())
            self.assertTrue(all(m.uid == 0 and m.gid == 0 for m in t.getmembers()))
        self.assertIn("./usr/bin/kpulse", names)
        with open(os.path.join(self.rootfs, "usr", "bin", "kpulse"), "rb") as f, \
                open(h.KPULSE, "rb") as g:
            self.assertEqual(f.read(), g.read())

    def test_check_in_the_image(self):
        p, _ = h.run_owned(["/usr/bin/kpulse", "check"],
                           preexec_fn=run_in_rootfs(self.rootfs, self.caps()))
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("kpulse can run here", p.stdout)

    def test_daemon_with_the_daemonset_settings(self):
        """/health ok with every program attached, exactly the DaemonSet's
        capabilities, a read-only root, and a test cgroup's CPU and memory
        limit seen through the read-only cgroup mounts and host /proc."""
        cg = h.MemCgroups()
        self.addCleanup(cg.cleanup)
        busy = cg.make_mem("imgbusy", 48 * MIB)
        port = h.free_port()
        err = tempfile.TemporaryFile("w+")
        self.addCleanup(err.close)
        # the ConfigMap's config, where the DaemonSet mounts it (a bind
        # mount into the read-only image, like the runtime's)
        cfgdir = tempfile.mkdtemp(prefix="kpulse-test-cm-")
        self.addCleanup(shutil.rmtree, cfgdir, True)
        with open(os.path.join(cfgdir, "kpulse.yaml"), "w") as f:
            f.write(k8s_docs()["ConfigMap"]["data"]["kpulse.yaml"])
        args = k8s_docs()["DaemonSet"]["spec"]["template"]["spec"]["containers"][0]["args"]
        p = subprocess.Popen(["/usr/bin/kpulse"] + args + ["--listen", "127.0.0.1:%d" % port,
                              "--interval", "1s"], stdout=subprocess.DEVNULL, stderr=err,
                             env=dict(os.environ, KPULSE_TEST_SECCOMP_KILL="1"),
                             preexec_fn=run_in_rootfs(self.rootfs, self.caps(),
                                                      {cfgdir: "/etc/kpulse"}))
        self.addCleanup(lambda: p.poll() is None and (p.kill(), p.wait()))
        url = "http://127.0.0.1:%d" % port
        deadline = time.time() + 30
        while True:
            try:
                with urllib.request.urlopen(url + "/health", timeout=5) as r:
                    health = json.loads(r.read())
                break
            except OSError:
                if p.poll() is not None or time.time() > deadline:
                    err.seek(0)
                    self.fail("daemon in the image did not serve: %s" % err.read())
                time.sleep(0.2)
        h.OWNED.update(h.prog_ids_of(p.pid))
        self.assertEqual(health["status"], "ok", health)
        self.assertTrue(all(pr["attached"] for pr in health["programs"]))
        self.assertEqual(health["features_missing"], [])
        st = proc_status(p.pid)
        self.assertEqual(int(st["CapEff"], 16) & ~sum(1 << c for c in self.caps()), 0)
        self.assertEqual(st["NoNewPrivs"], "1")
        with open("/proc/%d/mountinfo" % p.pid) as f:
            root = [l.split() for l in f if l.split()[4] == "/"][-1]
        self.assertIn("ro", root[5].split(","))

        wl = cg.run_mem(busy, [h.WORKLOAD, "spin", "1", "2"])
        self.assertEqual(wl.wait(timeout=30), 0)
        time.sleep(1.5)
        with urllib.request.urlopen(url + "/metrics", timeout=5) as r:
            m = h.parse_metrics(r.read().decode())
        rel = cg.rel(busy)
        cpu = h.value(m, "kpulse_container_cpu_seconds_total", cgroup=rel)
        self.assertAlmostEqual(cpu, h.cpu_usage_usec(busy) / 1e6, delta=0.05 * cpu)
        self.assertEqual(h.value(m, "kpulse_container_memory_limit_bytes", cgroup=rel), 48 * MIB)
        p.send_signal(signal.SIGTERM)
        self.assertEqual(p.wait(timeout=20), 0)



def daemonset_settings(docs, host_dirs):
    """What a container runtime must apply to run the DaemonSet's pod, read
    from the manifest. A setting this function does not know fails (a new
    one in the manifest must be carried over here, or said to be
    Kubernetes-only). `host_dirs`: {volume name: host directory} for the
    ConfigMap and for hostPath volumes the test points elsewhere."""
    pod = docs["DaemonSet"]["spec"]["template"]["spec"]
    c = pod["containers"][0]
    s = {"host_pid": False, "host_net": False, "privileged": False, "no_new_privs": False,
         "read_only": False, "user": None, "cap_drop": [], "cap_add": [], "args": c["args"]}
    # scheduling, identity and API access: no meaning on one host
    k8s_only = {"serviceAccountName", "automountServiceAccountToken", "priorityClassName",
                "tolerations", "nodeSelector", "dnsPolicy", "containers", "volumes"}
    for k, v in pod.items():
        if k in k8s_only:
            continue
        if k in ("hostPID", "hostNetwork"):
            s["host_pid" if k == "hostPID" else "host_net"] = v
        elif k == "terminationGracePeriodSeconds":
            s["stop_timeout"] = v
        elif k == "securityContext":
            assert v == {"seccompProfile": {"type": "RuntimeDefault"}}, v
        else:
            raise AssertionError("DaemonSet pod setting %s not carried over" % k)
    for k, v in c["securityContext"].items():
        if k == "privileged":
            s["privileged"] = v
        elif k == "allowPrivilegeEscalation":
            s["no_new_privs"] = not v
        elif k == "readOnlyRootFilesystem":
            s["read_only"] = v
        elif k == "runAsUser":
            s["user"] = v
        elif k == "runAsNonRoot":
            assert not v or c["securityContext"].get("runAsUser", 1) != 0
        elif k == "capabilities":
            s["cap_drop"], s["cap_add"] = v.get("drop", []), v.get("add", [])
        elif k == "seccompProfile":
            # RuntimeDefault: the runtime's own default profile
            assert v == {"type": "RuntimeDefault"}, v
        else:
            raise AssertionError("container securityContext.%s not carried over" % k)
    lim = c["resources"]["limits"]
    s["memory"], s["cpus"] = int(quantity(lim["memory"])), quantity(lim["cpu"])
    vols = {v["name"]: v for v in pod["volumes"]}
    s["mounts"] = []
    for m in c["volumeMounts"]:
        assert set(m) <= {"name", "mountPath", "readOnly", "recursiveReadOnly"}, m
        src = host_dirs.get(m["name"]) or vols[m["name"]]["hostPath"]["path"]
        # ro: the mount itself; rro: its submounts too (recursiveReadOnly,
        # which containerd 2 and runc >= 1.1 apply with mount_setattr)
        ro = "rw" if not m.get("readOnly") else \
            "rro" if m.get("recursiveReadOnly") in ("IfPossible", "Enabled") else "ro"
        s["mounts"].append((src, m["mountPath"], ro))
    return s


def docker_options(s):
    """`docker run` options for daemonset_settings()."""
    o = ["--pid", "host"] if s["host_pid"] else []
    o += ["--network", "host" if s["host_net"] else "none"]
    o += ["--stop-timeout", str(s["stop_timeout"])]
    o += ["--privileged"] if s["privileged"] else []
    o += ["--security-opt", "no-new-privileges"] if s["no_new_privs"] else []
    o += ["--read-only"] if s["read_only"] else []
    o += ["--user", str(s["user"])] if s["user"] is not None else []
    o += [x for cap in s["cap_drop"] for x in ("--cap-drop", cap)]
    o += [x for cap in s["cap_add"] for x in ("--cap-add", cap)]
    o += ["--memory", str(s["memory"]), "--cpus", str(s["cpus"])]
    for src, dst, ro in s["mounts"]:
        # docker >= 25 makes readonly binds recursively read-only
        o += ["--mount", "type=bind,source=%s,target=%s%s" % (src, dst,
                                                            ",readonly" if ro != "rw" else "")]
    return o


# containerd's default capabilities (oci.populateDefaultUnixSpec, 1.6):
# what `drop: [ALL]` removes, named one by one for ctr
CONTAINERD_DEFAULT_CAPS = ("CHOWN", "DAC_OVERRIDE", "FSETID", "FOWNER", "MKNOD", "NET_RAW",
                           "SETGID", "SETUID", "SETFCAP", "SETPCAP", "NET_BIND_SERVICE",
                           "SYS_CHROOT", "KILL", "AUDIT_WRITE")


def ctr_options(s):
    """`ctr run` options for daemonset_settings(): what the kubelet asks of
    containerd through CRI, RuntimeDefault being containerd's default
    seccomp profile (--seccomp)."""
    assert s["user"] in (None, 0)       # ctr runs as uid 0, as runAsUser: 0
    # the host's: this test's own (PID 1 may be out of reach in a sandbox)
    o = ["--with-ns", "pid:/proc/%d/ns/pid" % os.getpid()] if s["host_pid"] else []
    o += ["--net-host"] if s["host_net"] else []
    o += ["--privileged"] if s["privileged"] else []
    o += [] if s["no_new_privs"] else ["--allow-new-privs"]
    o += ["--read-only"] if s["read_only"] else []
    o += ["--seccomp"]
    drop = CONTAINERD_DEFAULT_CAPS if s["cap_drop"] == ["ALL"] else s["cap_drop"]
    o += [x for cap in drop for x in ("--cap-drop", "CAP_" + cap)]
    o += [x for cap in s["cap_add"] for x in ("--cap-add", "CAP_" + cap)]
    o += ["--memory-limit", str(s["memory"]), "--cpus", str(s["cpus"])]
    for src, dst, ro in s["mounts"]:
        o += ["--mount", "type=bind,src=%s,dst=%s,options=rbind:%s" % (src, dst, ro)]
    return o


def mounts_of(pid):
    """[(mount point, options)] of process `pid`, as it sees them."""
    with open("/proc/%d/mountinfo" % pid) as f:
        return [(l.split()[4].replace("\\040", " "), l.split()[5].split(",")) for l in f]


class ContainerImageTest(unittest.TestCase):
    """The image, built by tools/deploy/image/build.sh and imported by it
    into a real dockerd (runtimes.py: the test's own, cgroupfs, no network,
    no registry), run with the DaemonSet's settings (daemonset_settings):
    it attaches its programs, holds no more than the manifest grants, and
    names the host's docker containers from docker's files seen through the
    read-only mounts. Docker 20.10 (Debian 12's) does not know CAP_BPF and
    CAP_PERFMON (docker 23 does), so there the image runs in the same
    dockerd's containerd with ctr, as the kubelet runs pods through CRI
    (README, Kubernetes: `ctr -n k8s.io images import`); `docker run` is
    tried first and used where it takes the capabilities."""

    @classmethod
    def setUpClass(cls):
        import runtimes
        err = runtimes.available()
        if err:
            raise AssertionError(err)
        cls.stack = []
        try:
            cls._start(runtimes)
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def _start(cls, runtimes):
        cls.docker = d = runtimes.Dockerd()
        cls.stack.append(d.close)
        cls.ns = "kpulse-ctr-%d" % os.getpid()      # containerd namespace
        d.note_cgroup_parent(cls.ns)                # ctr's cgroups: /<ns>/<id>
        cls.ctr = ["ctr", "--address", os.path.join(d.exec_root, "containerd",
                                                    "containerd.sock"), "-n", cls.ns]
        cls.tmp = tempfile.mkdtemp(prefix="kpulse-test-cimage-%d-" % os.getpid())
        cls.stack.append(lambda: shutil.rmtree(cls.tmp, ignore_errors=True))
        # the image, imported by build.sh itself into our dockerd
        cls.tag = "kpulse-test:%d" % os.getpid()
        d.images.append(cls.tag)
        p = subprocess.run([IMAGE_BUILD, h.KPULSE, os.path.join(cls.tmp, "image")],
                           capture_output=True, text=True,
                           env=dict(os.environ, IMAGE_IMPORT=runtimes.DOCKER, IMAGE_TAG=cls.tag,
                                    DOCKER_HOST="unix://" + d.sock))
        if p.returncode:
            raise AssertionError("build.sh failed: " + p.stdout + p.stderr)
        # host containers: one limited to half a CPU and 48 MiB, spinning;
        # one idle
        img = d.import_busybox()
        cls.busy, cls.idle = "kpc_busy_%d" % os.getpid(), "kpc_idle_%d" % os.getpid()
        d.run(cls.busy, img, "sh", "-c", "while :; do :; done",
              args=["--cpus", "0.5", "-m", str(48 * MIB)])
        d.run(cls.idle, img, "sleep", "100000")

    @classmethod
    def tearDownClass(cls):
        while cls.stack:
            try:
                cls.stack.pop()()
            except Exception as e:      # keep cleaning up
                print("cleanup: %r" % e)

    def settings(self):
        """The DaemonSet's settings with this test's directories: the
        ConfigMap's config, our dockerd's containers where the host's
        would be; the other runtimes' directories empty (no CRI-O or
        kubelet here; DirectoryOrCreate would make them)."""
        docs = k8s_docs()
        cfgdir = os.path.join(self.tmp, "config")
        os.makedirs(cfgdir, exist_ok=True)
        with open(os.path.join(cfgdir, "kpulse.yaml"), "w") as f:
            f.write(docs["ConfigMap"]["data"]["kpulse.yaml"])
        host = {"config": cfgdir,
                "docker-containers": os.path.join(self.docker.data_root, "containers")}
        for name in ("containers-storage", "pod-logs", "container-logs"):
            host[name] = os.path.join(self.tmp, name)
            os.makedirs(host[name], exist_ok=True)
        return daemonset_settings(docs, host)

    def wait_health(self, alive, logs):
        deadline = time.time() + 30
        while True:
            try:
                with urllib.request.urlopen(self.url + "/health", timeout=5) as r:
                    return json.loads(r.read())
            except OSError:
                if not alive() or time.time() > deadline:
                    self.fail("kpulse in the container did not serve (alive: %s): %s"
                              % (alive(), logs()))
                time.sleep(0.2)

    def start_in_docker(self, s, extra):
        """`docker run`; None when this docker does not know a capability."""
        d = self.docker
        name = "kpc_kpulse_%d" % os.getpid()
        d.containers.append(name)
        r = subprocess.run([runtimes_docker(), "-H", "unix://" + d.sock, "run", "-d", "--name",
                            name, "-e", "KPULSE_TEST_SECCOMP_KILL=1"] + docker_options(s) +
                           [self.tag] + s["args"] + extra, capture_output=True, text=True)
        if r.returncode and "unknown capability" in r.stderr:
            return None
        self.assertEqual(r.returncode, 0, r.stderr)
        d.ids.append(r.stdout.strip())
        logs = lambda: d.cli("logs", name, check=False)  # noqa: E731
        health = self.wait_health(lambda: d.inspect(name)["State"]["Running"], logs)
        pid = d.pid(name)

        def stop():
            d.cli("stop", name)
            return d.inspect(name)["State"]["ExitCode"]
        return name, pid, health, logs, stop

    def start_in_containerd(self, s, extra):
        """`docker save` into containerd, then `ctr run` in the foreground
        (it ends with the task and returns its exit status)."""
        d = self.docker
        save = subprocess.Popen([runtimes_docker(), "-H", "unix://" + d.sock, "save", self.tag],
                                stdout=subprocess.PIPE)
        subprocess.run(self.ctr + ["images", "import", "-"], stdin=save.stdout, check=True,
                       capture_output=True)
        save.stdout.close()
        self.assertEqual(save.wait(), 0)
        ref = "docker.io/library/" + self.tag
        cid = "kpc_kpulse_%d" % os.getpid()
        log = open(os.path.join(self.tmp, "ctr.log"), "w+")
        self.addCleanup(log.close)
        # runc's state and the client's FIFOs under our dockerd's base, not
        # in /run/containerd (ctr's defaults)
        own = ["--runc-root", os.path.join(d.exec_root, "ctr-runc"),
               "--fifo-dir", os.path.join(d.exec_root, "ctr-fifo")]
        p = subprocess.Popen(self.ctr + ["run", "--rm", "--env", "KPULSE_TEST_SECCOMP_KILL=1"] +
                             own + ctr_options(s) + [ref, cid, "/usr/bin/kpulse"] + s["args"] +
                             extra,
                             stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)

        def logs():
            log.flush()
            with open(log.name) as f:
                return f.read()

        def task_pid():
            out = subprocess.run(self.ctr + ["tasks", "ls"], capture_output=True,
                                 text=True).stdout
            for line in out.splitlines()[1:]:
                f = line.split()
                if f and f[0] == cid and f[2] == "RUNNING":
                    return int(f[1])
            return None

        started = []

        def kill():     # also on failure: the task through ctr, else by pid
            if task_pid():
                subprocess.run(self.ctr + ["tasks", "kill", "-s", "SIGKILL", cid],
                               capture_output=True)
            for pid in started:
                try:
                    with open("/proc/%d/cmdline" % pid, "rb") as f:
                        if f.read().startswith(b"/usr/bin/kpulse\0"):
                            os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            if p.poll() is None:
                try:
                    p.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
            subprocess.run(self.ctr + ["containers", "rm", cid], capture_output=True)
            subprocess.run(self.ctr + ["images", "rm", ref], capture_output=True)
        self.addCleanup(kill)
        for _ in range(100):
            if task_pid() or p.poll() is not None:
                break
            time.sleep(0.1)
        started.extend([task_pid()] if task_pid() else [])
        health = self.wait_health(lambda: p.poll() is None, logs)
        pid = task_pid()

        def stop():
            subprocess.run(self.ctr + ["tasks", "kill", "-s", "SIGTERM", cid], check=True,
                           capture_output=True)
            return p.wait(timeout=s["stop_timeout"])
        return cid, pid, health, logs, stop

    def test_daemonset_settings_in_a_container(self):
        d = self.docker
        s = self.settings()
        self.port = h.free_port()
        self.url = "http://127.0.0.1:%d" % self.port
        extra = ["--listen", "127.0.0.1:%d" % self.port, "--interval", "1s"]
        started = self.start_in_docker(s, extra)
        if started is None:
            print("\n  docker %s does not know CAP_BPF: run with containerd (ctr)"
                  % d.cli("version", "-f", "{{.Server.Version}}"))
            started = self.start_in_containerd(s, extra)
        name, pid, health, logs, stop = started
        h.OWNED.update(h.prog_ids_of(pid))
        self.assertTrue(all(p["attached"] for p in health["programs"]), health["programs"])
        self.assertEqual(health["features_missing"], [])

        # what the process holds
        st = proc_status(pid)
        granted = sum(1 << CAP_BITS[c.lower()] for c in s["cap_add"])
        self.assertEqual(int(st["CapBnd"], 16), granted, st["CapBnd"])
        self.assertEqual(int(st["CapEff"], 16) & ~granted, 0, st["CapEff"])
        self.assertEqual(st["NoNewPrivs"], "1")
        self.assertEqual(st["Seccomp"], "2")
        mounts = mounts_of(pid)
        self.assertIn("ro", [o for mp, o in mounts if mp == "/"][-1])
        for _, path, _ in s["mounts"]:
            for mp, o in mounts:
                if mp == path or mp.startswith(path + "/"):
                    self.assertIn("ro", o, "%s is writable in the container" % mp)

        # the host's containers by their docker names, with image, id and
        # limits as docker inspect gives them, read through those mounts
        time.sleep(2.5)
        with urllib.request.urlopen(self.url + "/metrics", timeout=10) as r:
            m = h.parse_metrics(r.read().decode())
        for cname in (self.busy, self.idle):
            ins = d.inspect(cname)
            with self.subTest(container=cname):
                found = h.series(m, "kpulse_container_cpu_seconds_total", container=cname)
                self.assertEqual(len(found), 1, (found, logs()))
                lab = found[0][0]
                self.assertEqual(lab["container_id"], ins["Id"])
                self.assertEqual(lab["runtime"], "docker")
                self.assertEqual(lab["image"], ins["Config"]["Image"])
                self.assertEqual(lab["cgroup"], "/docker/" + ins["Id"])
        busy = d.inspect(self.busy)["HostConfig"]
        self.assertEqual(h.value(m, "kpulse_container_cpu_limit_cores", container=self.busy),
                         busy["NanoCpus"] / 1e9)
        self.assertEqual(h.value(m, "kpulse_container_memory_limit_bytes", container=self.busy),
                         busy["Memory"])
        self.assertGreater(h.value(m, "kpulse_container_cpu_throttled_periods_total",
                                   container=self.busy), 0)
        with urllib.request.urlopen(self.url + "/api/v1/containers/" + self.busy,
                                    timeout=5) as r:
            self.assertEqual(json.loads(r.read())["id"], d.inspect(self.busy)["Id"])

        # SIGTERM: a clean exit within the grace period, no error logged
        self.assertEqual(stop(), 0, logs())
        lines = [json.loads(l) for l in logs().splitlines() if l.startswith("{")]
        self.assertTrue(lines)      # the ConfigMap's log_format: json
        self.assertEqual([l for l in lines if l["level"] == "error"], [])


def runtimes_docker():
    import runtimes
    return runtimes.DOCKER


def make(*args):
    p = subprocess.run(["make", "--no-print-directory", "-C", h.ROOT] + list(args),
                       capture_output=True, text=True)
    if p.returncode:
        raise AssertionError("make %s failed: %s" % (" ".join(args), p.stdout + p.stderr))
    return p.stdout


class InstallTest(unittest.TestCase):
    def test_make_install_with_prefix_and_destdir(self):
        dest = tempfile.mkdtemp(prefix="kpulse-test-install-")
        self.addCleanup(shutil.rmtree, dest, True)
        make("install", "DESTDIR=" + dest, "PREFIX=/opt/kp")
        files = {os.path.relpath(os.path.join(d, f), dest)
                 for d, _, fs in os.walk(dest) for f in fs}
        self.assertEqual(files, {"opt/kp/bin/kpulse", "opt/kp/share/man/man8/kpulse.8",
                                 "opt/kp/lib/systemd/system/kpulse.service",
                                 "opt/kp/lib/sysusers.d/kpulse.conf", "etc/kpulse/kpulse.yaml"})
        unit = unit_settings(os.path.join(dest, "opt/kp/lib/systemd/system/kpulse.service"))
        self.assertEqual(unit["ExecStart"],
                         ["/opt/kp/bin/kpulse daemon --config /etc/kpulse/kpulse.yaml"])
        p = subprocess.run([os.path.join(dest, "opt/kp/bin/kpulse"), "daemon", "--config",
                            os.path.join(dest, "etc/kpulse/kpulse.yaml"), "--check"],
                           capture_output=True, text=True)
        self.assertEqual(p.returncode, 0, p.stderr)
        # a config already there is kept
        with open(os.path.join(dest, "etc/kpulse/kpulse.yaml"), "w") as f:
            f.write("interval: 5s\n")
        make("install", "DESTDIR=" + dest, "PREFIX=/opt/kp")
        with open(os.path.join(dest, "etc/kpulse/kpulse.yaml")) as f:
            self.assertEqual(f.read(), "interval: 5s\n")

    def test_man_page_follows_help(self):
        """kpulse(8) has every command `kpulse --help` lists, each with
        every option its `kpulse help COMMAND` gives, and no warnings."""
        make("man")
        page = os.path.join(h.ROOT, ".output", "man", "kpulse.8")
        p = subprocess.run(["man", "--warnings=all", "-l", "-Tutf8", page], capture_output=True,
                           text=True, env=dict(os.environ, MANWIDTH="100"))
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stderr, "")
        text = re.sub(".\b", "", p.stdout)
        helptext = subprocess.run([h.KPULSE, "--help"], capture_output=True, text=True).stdout
        cmds = re.findall(r"^  ([a-z]+)  ", helptext, re.M)
        self.assertIn("daemon", cmds)
        for c in cmds:
            if c in ("help", "version"):
                continue
            self.assertIn("kpulse %s" % c, text)
            out = subprocess.run([h.KPULSE, "help", c], capture_output=True, text=True).stdout
            for opt in set(re.findall(r"(?<![\w-])(--[a-z][a-z-]+)", out)):
                self.assertIn(opt, text, "kpulse(8) lacks %s %s" % (c, opt))
        for section in ("EXIT STATUS", "FILES", "SEE ALSO", "COMMANDS"):
            self.assertIn(section, text)


def dpkg_status(pkg):
    p = subprocess.run(["dpkg-query", "-W", "-f=${Status}", pkg], capture_output=True, text=True)
    return p.stdout if p.returncode == 0 else ""


@unittest.skipUnless(shutil.which("dpkg-deb"), "dpkg-deb is needed")
class DebTest(unittest.TestCase):
    """`make deb`, then the package installed on this host (dpkg -i), used
    (`kpulse check`, the unit verified where it landed) and purged, leaving
    the host as it was: the same files, the same users."""

    def test_install_check_purge(self):
        if "installed" in dpkg_status("kpulse"):
            self.skipTest("a kpulse package is installed on this host: not touching it")
        out = make("deb")
        deb = re.search(r"deb: (\S+\.deb)", out).group(1)
        deb = os.path.join(h.ROOT, deb)
        listing = subprocess.run(["dpkg-deb", "-c", deb], capture_output=True, text=True,
                                 check=True).stdout
        paths = {l.split()[-1].lstrip(".") for l in listing.splitlines()}
        for f in ("/usr/bin/kpulse", "/usr/share/man/man8/kpulse.8.gz",
                  "/lib/systemd/system/kpulse.service", "/usr/lib/sysusers.d/kpulse.conf",
                  "/etc/kpulse/kpulse.yaml"):
            self.assertIn(f, paths)
        files = [f for f in paths if f and not f.endswith("/")]
        self.assertFalse([f for f in files if os.path.exists(f)], "files already on the host")
        had_user = subprocess.run(["id", "kpulse"], capture_output=True).returncode == 0
        accounts = ("/etc/passwd", "/etc/group", "/etc/shadow", "/etc/gshadow")
        before = {}
        for a in accounts:
            with open(a) as f:
                before[a] = f.read()

        def purge():
            subprocess.run(["dpkg", "--purge", "kpulse"], capture_output=True)
            if not had_user:
                subprocess.run(["userdel", "kpulse"], capture_output=True)
                subprocess.run(["groupdel", "kpulse"], capture_output=True)
        self.addCleanup(purge)

        p = subprocess.run(["dpkg", "-i", deb], capture_output=True, text=True)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("install ok installed", dpkg_status("kpulse"))
        self.assertEqual(subprocess.run(["id", "-u", "kpulse"], capture_output=True).returncode, 0)
        r, _ = h.run_owned(["/usr/bin/kpulse", "check"])
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("kpulse can run here", r.stdout)
        p = subprocess.run(["/usr/bin/kpulse", "daemon", "--config", "/etc/kpulse/kpulse.yaml",
                            "--check"], capture_output=True, text=True)
        self.assertEqual(p.returncode, 0, p.stderr)
        # the unit as installed, with the man page it names in place
        p = subprocess.run(["systemd-analyze", "verify", "/lib/systemd/system/kpulse.service"],
                           capture_output=True, text=True)
        self.assertEqual((p.returncode, p.stdout + p.stderr), (0, ""))
        self.assertEqual(subprocess.run(["man", "-w", "kpulse"], capture_output=True,
                                        text=True).stdout.strip(),
                         "/usr/share/man/man8/kpulse.8.gz")

        p = subprocess.run(["dpkg", "--purge", "kpulse"], capture_output=True, text=True)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertEqual(dpkg_status("kpulse"), "")
        self.assertFalse([f for f in files if os.path.exists(f)], "files left after purge")
        self.assertFalse(os.path.exists("/etc/kpulse"))
        if not had_user:
            subprocess.run(["userdel", "kpulse"], capture_output=True, check=True)
            subprocess.run(["groupdel", "kpulse"], capture_output=True)
        for a in accounts:
            with open(a) as f:
                self.assertEqual(f.read(), before[a], a)
