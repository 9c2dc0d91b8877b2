"""Alerts end to end: a rule on run-queue latency for one test cgroup, a real
Alertmanager (Debian's prometheus-alertmanager) on loopback, and a second
receiver that is down. Loading the cgroup fires the rule and Alertmanager's
own API lists the alert with the container's labels; stopping the load
resolves it there too. Acknowledgement with and without the admin token,
kpulse_alerts on /metrics, JSON log lines, and a bad config file (at start,
with --check and on SIGHUP, where the running config stays)."""
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest
import urllib.error
import urllib.request

import harness as h

ALERTMANAGER = shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")
RULE = "KpulseTestRunqHigh"
TOKEN = "test-admin-token-0123"


def bare_id(rule, labels):
    """The alert id kpulse used before host identities: FNV-1a of the rule
    name and the labels in order, the same on every host."""
    def fnv(h, text):
        for b in text.encode():
            h = ((h ^ b) * 0x100000001b3) & 0xffffffffffffffff
        return ((h ^ 0xff) * 0x100000001b3) & 0xffffffffffffffff
    key = fnv(0xcbf29ce484222325, rule)
    for name, value in labels.items():
        key = fnv(fnv(key, name), value)
    return "%016x" % key


def http_json(url, method="GET", headers=None, timeout=5):
    req = urllib.request.Request(url, method=method, headers=headers or {})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return json.loads(r.read().decode())


def wait_for(what, fn, timeout):
    """Poll fn() until it returns something truthy; fail after timeout."""
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        last = fn()
        if last:
            return last
        time.sleep(0.5)
    raise AssertionError("timed out after %ds waiting for %s (last: %r)" % (timeout, what, last))


class Alertmanager:
    """prometheus-alertmanager on a free loopback port, clustering off, its
    config and storage in a temp dir; killed by PID."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="kpulse-am-")
        self.port = h.free_port()
        cfg = os.path.join(self.dir, "alertmanager.yml")
        with open(cfg, "w") as f:
            f.write("route:\n  receiver: blackhole\n  group_wait: 1s\n"
                    "  group_interval: 1s\n  repeat_interval: 1h\n"
                    "receivers:\n  - name: blackhole\n")
        self.log = open(os.path.join(self.dir, "log"), "w+")
        self.proc = subprocess.Popen(
            [ALERTMANAGER, "--config.file=" + cfg, "--storage.path=" + self.dir,
             "--web.listen-address=127.0.0.1:%d" % self.port, "--cluster.listen-address=",
             "--log.level=warn"], stdout=self.log, stderr=subprocess.STDOUT)
        try:
            wait_for("alertmanager ready", self.ready, 30)
        except Exception:
            self.stop()
            raise

    def ready(self):
        if self.proc.poll() is not None:
            self.log.seek(0)
            raise RuntimeError("alertmanager exited: " + self.log.read())
        try:
            with urllib.request.urlopen("http://127.0.0.1:%d/-/ready" % self.port, timeout=2) as r:
                return r.status == 200
        except (urllib.error.URLError, ConnectionError, socket.timeout):
            return False

    def alerts(self):
        """Alertmanager's active alerts named RULE (its v2 API leaves out
        resolved ones)."""
        return http_json("http://127.0.0.1:%d/api/v2/alerts?filter=alertname%%3D%%22%s%%22"
                         % (self.port, RULE))

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def closed_port():
    """A loopback port that refuses connections (bound, not listening),
    kept bound for the test's life so nobody else takes it."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    return s


@unittest.skipUnless(ALERTMANAGER, "prometheus-alertmanager is not installed")
class AlertsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.cg = h.Cgroups()
        cls.am = None
        cls.d = None
        cls.dead = closed_port()
        cls.tmp = tempfile.mkdtemp(prefix="kpulse-alerts-")
        try:
            cls.hot = cls.cg.make("hot")
            cls.am = Alertmanager()
            cls.config = os.path.join(cls.tmp, "kpulse.yaml")
            cls.write_config(cls.config)
            cls.d = h.Daemon("--config", cls.config, "--log-format", "json")
        except Exception:
            cls.tearDownClass()
            raise

    @classmethod
    def write_config(cls, path, extra=""):
        with open(path, "w") as f:
            f.write("""# written by tests/integration/test_alerts.py
windows: [10s, 1m]
admin_token: %(token)s
labels:
  test_run: "%(pid)d"
alerts:
  - name: %(rule)s
    metric: runq_p99
    match: "%(cgroup)s"
    threshold: 4ms
    clear: 1ms
    for: 2s
    window: 5s
    severity: critical
    summary: test cgroup waits for a CPU
receivers:
  alertmanager:
    - http://127.0.0.1:%(am)d
    - http://127.0.0.1:%(dead)d
  timeout: 1s
  retries: 1
  backoff: 100ms
  resend_interval: 5s
%(extra)s""" % {"token": TOKEN, "pid": os.getpid(), "rule": RULE, "cgroup": cls.cg.rel(cls.hot),
                "am": cls.am.port, "dead": cls.dead.getsockname()[1], "extra": extra})

    @classmethod
    def tearDownClass(cls):
        if cls.d:
            cls.d.stop()
        cls.cg.cleanup()
        if cls.am:
            cls.am.stop()
        cls.dead.close()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def kp_alerts(self):
        return json.loads(self.d.get("/api/v1/alerts")[2])

    def our_alert(self, state=None):
        for a in self.kp_alerts()["alerts"]:
            if a["alertname"] == RULE and (state is None or a["state"] == state):
                return a
        return None

    def post_ack(self, alert_id, token=None, extra=None):
        headers = {"Authorization": "Bearer " + token} if token is not None else {}
        headers.update(extra or {})
        try:
            status, _, body = self.d.get("/api/v1/alerts/%s/ack" % alert_id, "POST", headers)
        except urllib.error.HTTPError as e:
            status, body = e.code, e.read().decode()
        return status, json.loads(body)

    def log_events(self):
        out = []
        for line in self.d.stderr().splitlines():
            if line.startswith("{"):
                j = json.loads(line)	# every JSON line must parse
                if j.get("msg") == "alert" and j.get("alertname") == RULE:
                    out.append(j)
        return out

    def test_fire_ack_resolve_in_alertmanager(self):
        rel = self.cg.rel(self.hot)
        load = self.cg.run(self.hot, [h.WORKLOAD, "spin", str(4 * os.cpu_count()), "60"])

        # kpulse: pending, then firing after `for`
        firing = wait_for("kpulse to fire", lambda: self.our_alert("firing"), 30)
        self.assertEqual(firing["labels"]["cgroup"], rel)
        self.assertEqual(firing["severity"], "critical")
        self.assertGreater(firing["value"], 0.004)
        self.assertFalse(firing["acknowledged"])
        m = self.d.metrics()
        self.assertEqual(h.value(m, "kpulse_alerts", alertname=RULE, state="firing"), 1)
        self.assertEqual(h.value(m, "kpulse_alerts", alertname=RULE, state="pending"), 0)

        # Alertmanager's own API has it, with the container's labels
        def in_am():
            got = [a for a in self.am.alerts() if a["labels"].get("cgroup") == rel]
            return got[0] if got else None
        am = wait_for("the alert in Alertmanager", in_am, 15)
        labels = am["labels"]
        self.assertEqual(labels["alertname"], RULE)
        self.assertEqual(labels["severity"], "critical")
        self.assertEqual(labels["container"], firing["labels"]["container"])
        self.assertEqual(labels["container_id"], firing["labels"]["container_id"])
        self.assertEqual(labels["runtime"], "cgroup")
        self.assertEqual(labels["test_run"], str(os.getpid()))
        self.assertEqual(labels["instance"], socket.gethostname())
        self.assertEqual(am["status"]["state"], "active")
        self.assertEqual(am["annotations"]["kpulse_id"], firing["id"])
        self.assertIn("/api/v1/alerts", am["generatorURL"])

        # ack: no token -> 401, wrong token -> 403, nothing changes
        status, body = self.post_ack(firing["id"])
        self.assertEqual(status, 401, body)
        status, body = self.post_ack(firing["id"], "not-the-token")
        self.assertEqual(status, 403, body)
        # a page on another site cannot ack, even with the token
        status, body = self.post_ack(firing["id"], TOKEN, {"Origin": "http://evil.example"})
        self.assertEqual(status, 403, body)
        self.assertIn("cross-origin", body["error"])
        self.assertFalse(self.our_alert("firing")["acknowledged"])
        self.assertEqual(self.post_ack("0123456789abcdef", TOKEN)[0], 404)
        # the id is not the bare hash of rule and labels: the host is in it
        self.assertNotEqual(firing["id"], bare_id(RULE, firing["labels"]))
        status, body = self.post_ack(firing["id"], TOKEN)
        self.assertEqual(status, 200, body)
        self.assertTrue(body["acknowledged"])
        a = self.our_alert("firing")	# still listed, still firing
        self.assertTrue(a["acknowledged"])
        self.assertIsNotNone(a["acknowledged_at"])
        self.assertEqual(self.d.get_error("/api/v1/alerts/%s/ack" % firing["id"])[0], 405)
        self.assertEqual(self.d.get_error("/api/v1/alerts", "POST")[0], 405)

        # stop the load: kpulse resolves it, and so does Alertmanager
        load.kill()
        load.wait()
        resolved = wait_for("kpulse to resolve", lambda: self.our_alert("resolved"), 30)
        self.assertEqual(resolved["id"], firing["id"])
        self.assertTrue(resolved["acknowledged"])
        self.assertIsNone(self.our_alert("firing"))

        def gone_from_am():
            left = [a for a in self.am.alerts() if a["labels"].get("cgroup") == rel]
            return not left or all(a["endsAt"] < time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime())
                                   for a in left)
        wait_for("Alertmanager to resolve the alert", gone_from_am, 15)

        # one JSON log line per state change, in order
        states = [(e["from"], e["state"]) for e in self.log_events() if e["event"] == "state_change"]
        self.assertEqual(states[:3], [("inactive", "pending"), ("pending", "firing"),
                                      ("firing", "resolved")])
        self.assertIn("acknowledged", [e["event"] for e in self.log_events()])

        # the dead receiver failed and delayed nobody: the live one has both
        m = self.d.metrics()
        live = [v for lab, v in h.series(m, "kpulse_alert_notifications_total", result="sent")
                if ":%d/" % self.am.port in lab["receiver"]]
        dead = [v for lab, v in h.series(m, "kpulse_alert_notifications_total", result="failed")
                if ":%d/" % self.dead.getsockname()[1] in lab["receiver"]]
        self.assertGreaterEqual(live[0], 2)
        self.assertGreaterEqual(dead[0], 1)
        status, health = self.d.health()
        self.assertEqual(status, 200)
        self.assertLess(health["last_collection_age_seconds"], 3)

    def test_bad_config_rejected_everywhere(self):
        bad = os.path.join(self.tmp, "bad.yaml")
        self.write_config(bad, "interval: 1s\nintervall: 2s\n")
        lines = open(bad).read().splitlines()
        line = lines.index("intervall: 2s") + 1
        want = "%s:%d:1: config: unknown key 'intervall'" % (bad, line)

        # --check: exit 64, the position on stderr
        r = subprocess.run([h.KPULSE, "daemon", "--config", bad, "--check"],
                           capture_output=True, text=True, timeout=10)
        self.assertEqual(r.returncode, 64)
        self.assertIn(want, r.stderr)
        self.assertEqual(len(r.stderr.strip().splitlines()), 1)
        r = subprocess.run([h.KPULSE, "daemon", "--config", self.config, "--check"],
                           capture_output=True, text=True, timeout=10)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("ok (1 alert rules, 2 Alertmanager", r.stdout)
        # the daemon refuses to start on it
        r = subprocess.run([h.KPULSE, "daemon", "--config", bad, "--listen", "127.0.0.1:1"],
                           capture_output=True, text=True, timeout=10)
        self.assertEqual(r.returncode, 64)
        self.assertIn(want, r.stderr)

        # SIGHUP with the bad file in place: same message, old config runs
        good = open(self.config).read()
        try:
            shutil.copy(bad, self.config)
            self.d.proc.send_signal(signal.SIGHUP)
            wait_for("the reload error", lambda: "keeping the running configuration"
                     in self.d.stderr(), 10)
            err = [json.loads(l) for l in self.d.stderr().splitlines() if "keeping the running" in l]
            self.assertEqual(err[-1]["level"], "error")
            self.assertIn(want.replace(bad, self.config), err[-1]["msg"])
            rules = self.kp_alerts()["rules"]
            self.assertEqual([r["name"] for r in rules], [RULE])
        finally:
            with open(self.config, "w") as f:
                f.write(good)
        # a good file reloads
        self.d.proc.send_signal(signal.SIGHUP)
        wait_for("the reload", lambda: "config: reloaded" in self.d.stderr(), 10)
        self.assertEqual([r["name"] for r in self.kp_alerts()["rules"]], [RULE])

    def test_empty_file_never_drops_protection(self):
        """An empty or comment-only file (truncated, wrongly mounted) is
        refused at start and on SIGHUP: the admin token and the receivers
        stay. A reload that does remove a setting says so by name."""
        empty = os.path.join(self.tmp, "empty.yaml")
        with open(empty, "w") as f:
            f.write("# nothing here yet\n")
        r = subprocess.run([h.KPULSE, "daemon", "--config", empty, "--listen", "127.0.0.1:1"],
                           capture_output=True, text=True, timeout=10)
        self.assertEqual(r.returncode, 64)
        self.assertIn("%s:1:1: no settings" % empty, r.stderr)
        good = open(self.config).read()
        try:
            with open(self.config, "w") as f:
                f.write("\n")
            self.d.proc.send_signal(signal.SIGHUP)
            wait_for("the reload error", lambda: "no settings" in self.d.stderr(), 10)
            # still protected: an ack without the token is refused
            self.assertEqual(self.post_ack("0123456789abcdef", None)[0], 401)
            # a file without admin_token: applied, and the log names what went
            with open(self.config, "w") as f:
                f.write("\n".join(l for l in good.splitlines()
                                  if not l.startswith("admin_token")) + "\n")
            self.d.proc.send_signal(signal.SIGHUP)
            wait_for("the removal logged",
                     lambda: "the reload removes 'admin_token'" in self.d.stderr(), 10)
            # no token configured: acks are off, and the answer says how to
            # turn them on
            for token in (None, "anything", TOKEN):
                status, body = self.post_ack("0123456789abcdef", token)
                self.assertEqual(status, 403, body)
                self.assertIn("admin_token", body["error"])
            # opened on purpose: no token needed (an unknown id is a 404
            # now, not a 403); a foreign Origin is still refused
            n = self.d.stderr().count("config: reloaded")
            with open(self.config, "w") as f:
                f.write("\n".join(l for l in good.splitlines()
                                  if not l.startswith("admin_token")) + "\nacks_open: on\n")
            self.d.proc.send_signal(signal.SIGHUP)
            wait_for("the reload", lambda: self.d.stderr().count("config: reloaded") > n, 10)
            self.assertEqual(self.post_ack("0123456789abcdef", None)[0], 404)
            self.assertEqual(self.post_ack("0123456789abcdef", None,
                                           {"Origin": "http://evil.example"})[0], 403)
        finally:
            with open(self.config, "w") as f:
                f.write(good)
            n = self.d.stderr().count("config: reloaded")
            self.d.proc.send_signal(signal.SIGHUP)
            wait_for("the restore", lambda: self.d.stderr().count("config: reloaded") > n, 10)


if __name__ == "__main__":
    unittest.main()
