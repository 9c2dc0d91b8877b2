"""The daemon as a process and an HTTP server: lifecycle and cleanup, bpf
stats restored, degraded mode, HTTP errors, promtool, command-line errors."""
import json
import re
import os
import shutil
import socket
import subprocess
import time
import unittest

import harness as h


def run_kpulse(*args, env=None, preexec=None):
    e = dict(os.environ)
    e.update(env or {})
    return subprocess.run([h.KPULSE] + list(args), capture_output=True, text=True,
                          timeout=60, env=e, preexec_fn=preexec)


def bpf_stats_enabled():
    with open("/proc/sys/kernel/bpf_stats_enabled") as f:
        return f.read().strip()


class LifecycleTest(unittest.TestCase):
    def test_programs_released_and_stats_restored(self):
        stats_before = bpf_stats_enabled()
        d = h.Daemon()
        try:
            mine = h.prog_ids_of(d.proc.pid)
            self.assertGreaterEqual(len(mine), 3)  # switch, wakeup, wakeup_new
            # stats are on through a BPF_ENABLE_STATS fd: the sysctl is left
            # as it was, and the kernel turns stats off when the fd closes
            self.assertEqual(bpf_stats_enabled(), stats_before)
            time.sleep(1.2)
            m = d.metrics()
            self.assertGreater(h.value(m, "kpulse_bpf_program_run_seconds_total",
                                       program="sched_switch"), 0)
            status, body = d.health()
            self.assertEqual(status, 200)
            self.assertEqual(body["status"], "ok")
            self.assertEqual(body["features_missing"], [])
            self.assertEqual(body["runq_source"], "sched_info")  # this kernel has it
            self.assertGreater(body["collections"], 0)
            self.assertLess(body["last_collection_age_seconds"], 2.5)
        finally:
            code, err = d.stop()
        self.assertEqual(code, 0, err)
        self.assertEqual(h.wait_released(mine), set())
        self.assertEqual(bpf_stats_enabled(), stats_before)

    def test_sigint_also_cleans_up(self):
        d = h.Daemon()
        mine = h.prog_ids_of(d.proc.pid)
        self.assertGreaterEqual(len(mine), 3)
        d.proc.send_signal(2)
        code, err = d.stop()
        self.assertEqual(code, 0, err)
        self.assertEqual(h.wait_released(mine), set())


def ctxt():
    """Context switches on all CPUs since boot (/proc/stat): what
    sched_switch fires for, counted by the kernel itself."""
    with open("/proc/stat") as f:
        for line in f:
            if line.startswith("ctxt "):
                return int(line.split()[1])
    raise RuntimeError("no ctxt in /proc/stat")


class BpfStatsTest(unittest.TestCase):
    """kpulse's own cost figures against the kernel's context switch count,
    with stats always on (exact) and sampled (estimated from one interval in
    30, the default)."""

    def setUp(self):
        # a steady switch rate: a task that sleeps 500 us, works 50 us
        self.load = subprocess.Popen([h.WORKLOAD, "sleepy", "60", "500", "50"])
        self.addCleanup(self.load.wait)
        self.addCleanup(self.load.kill)

    def runs(self, d):
        m = d.metrics()
        return (h.value(m, "kpulse_bpf_program_runs_total", program="sched_switch"),
                h.value(m, "kpulse_bpf_stats_duty_cycle"))

    def next_step(self, d, last, timeout=10):
        """Poll until the estimate moves (a window just closed): (runs,
        ctxt then, duty)."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            c = ctxt()
            r, duty = self.runs(d)
            if r != last:
                return r, c, duty
            time.sleep(0.02)
        self.fail("kpulse_bpf_program_runs_total did not move in %d s" % timeout)

    def test_always_is_exact(self):
        d = h.Daemon("--config", h.config_file("bpf_stats: always\n"))
        self.addCleanup(d.stop)
        r0, duty = self.runs(d)
        c0 = ctxt()
        time.sleep(3)
        r1, _ = self.runs(d)
        c1 = ctxt()
        self.assertEqual(duty, 1)
        self.assertEqual(d.health()[1]["bpf_stats"], "always")
        print("\n  always: sched_switch runs %d, context switches %d" % (r1 - r0, c1 - c0))
        self.assertGreater(c1 - c0, 3000)
        self.assertAlmostEqual(r1 - r0, c1 - c0, delta=0.02 * (c1 - c0))

    def test_sampled_estimate(self):
        # 100 ms intervals: a 100 ms window every 3 s
        d = h.Daemon("--interval", "100ms")
        self.addCleanup(d.stop)
        self.assertEqual(d.health()[1]["bpf_stats"], "sampled")
        # stats are on from the start until the first interval ends; from
        # then on the figures move only when a window closes
        deadline = time.time() + 5
        while self.runs(d)[1] == 1 and time.time() < deadline:
            time.sleep(0.02)
        r, c0, _ = self.next_step(d, self.runs(d)[0])
        r0 = r
        for _ in range(3):
            r, c1, duty = self.next_step(d, r)
        print("\n  sampled: sched_switch runs estimated %d, context switches %d, duty %.3f"
              % (r - r0, c1 - c0, duty))
        self.assertGreater(c1 - c0, 5000)
        self.assertAlmostEqual(r - r0, c1 - c0, delta=0.15 * (c1 - c0))
        self.assertGreater(duty, 0.015)
        self.assertLess(duty, 0.1)


class DegradedTest(unittest.TestCase):
    def test_verifier_rejection_is_reported_and_rest_runs(self):
        d = h.Daemon(env={"KPULSE_TEST_BREAK_PROG": "mark_victim"})
        self.addCleanup(d.stop)
        status, body = d.health()
        self.assertEqual(status, 200)
        self.assertEqual(body["status"], "degraded")
        self.assertIn("mark_victim", body["features_missing"])
        prog = [p for p in body["programs"] if p["tracepoint"] == "mark_victim"][0]
        self.assertFalse(prog["attached"])
        self.assertIn("verifier", prog["reason"])
        m = d.metrics()
        self.assertEqual(h.value(m, "kpulse_degraded"), 1)
        self.assertEqual(len([v for lab, v in h.series(m, "kpulse_bpf_program_attached",
                                                       program="mark_victim") if v == 0]), 1)
        self.assertEqual(h.value(m, "kpulse_bpf_program_attached", program="sched_switch",
                                 attach="tp_btf"), 1)
        # CPU accounting does not need the OOM program
        time.sleep(1.2)
        self.assertGreater(h.value(d.metrics(), "kpulse_node_cpu_seconds_total"), 0)
        code, err = d.stop()
        self.assertEqual(code, 0)
        self.assertIn("mark_victim", err)
        self.assertNotIn("BEGIN PROG LOAD LOG", err)  # verifier log kept, not sprayed


class HealthTellsTheTruthTest(unittest.TestCase):
    """/health is degraded, with a reason and the series that shows it,
    whenever data was lost lately: here a cgroup map too small for the
    cgroups that run."""

    def test_map_full_makes_health_degraded(self):
        cg = h.Cgroups()
        self.addCleanup(cg.cleanup)
        d = h.Daemon("--max-cgroups", "16")
        self.addCleanup(d.stop)
        for i in range(40):
            cg.run(cg.make("full%d" % i), [h.WORKLOAD, "spin", "1", "6"])
        deadline, body = time.time() + 10, None
        while time.time() < deadline:
            _, body = d.health()
            if body["status"] == "degraded":
                break
            time.sleep(0.5)
        self.assertEqual(body["status"], "degraded", body)
        why = [r for r in body["reasons"] if "cgroup_map_full" in (r.get("series") or "")]
        self.assertEqual(len(why), 1, body["reasons"])
        self.assertIn("--max-cgroups", why[0]["reason"])
        m = d.metrics()
        self.assertGreater(h.value(m, "kpulse_bpf_events_dropped_total", reason="cgroup_map_full"), 0)


class HttpTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = h.Daemon()

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()

    def test_metrics_content_type_and_families(self):
        status, headers, body = self.d.get("/metrics")
        self.assertEqual(status, 200)
        self.assertTrue(headers["Content-Type"].startswith("text/plain; version=0.0.4"))
        for fam in ("kpulse_container_cpu_seconds_total", "kpulse_node_runqueue_latency_seconds",
                    "kpulse_bpf_program_run_seconds_total", "kpulse_bpf_events_dropped_total",
                    "kpulse_bpf_map_entries", "process_resident_memory_bytes",
                    "process_cpu_seconds_total", "process_open_fds"):
            self.assertIn("# TYPE " + fam, body)

    def test_openmetrics_when_asked(self):
        """Prometheus asks for OpenMetrics first; the answer must parse with
        the reference client's strict OpenMetrics parser and carry the same
        series as the text format."""
        from prometheus_client.openmetrics.parser import text_string_to_metric_families
        accept = ("application/openmetrics-text;version=1.0.0,application/openmetrics-text;"
                  "version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1")
        status, headers, body = self.d.get("/metrics", headers={"Accept": accept})
        self.assertEqual(status, 200)
        self.assertTrue(headers["Content-Type"].startswith(
            "application/openmetrics-text; version=1.0.0"), headers["Content-Type"])
        self.assertTrue(body.endswith("# EOF\n"))
        fams = {f.name: f for f in text_string_to_metric_families(body)}
        self.assertEqual(fams["kpulse_node_cpu_seconds"].type, "counter")
        self.assertEqual(fams["kpulse_node_runqueue_latency_seconds"].type, "histogram")
        self.assertEqual(fams["kpulse_container_request_latency_seconds"].type, "histogram")
        self.assertIn('port="other"', fams["kpulse_container_request_latency_seconds"]
                      .documentation.replace('\\"', '"'))
        om = {s.name for f in fams.values() for s in f.samples}
        text = {line.split("{")[0].split(" ")[0] for line in self.d.metrics_text().splitlines()
                if line and not line.startswith("#")}
        self.assertEqual(om, text)

    @unittest.skipUnless(shutil.which("promtool"), "promtool not installed")
    def test_promtool_accepts_live_scrape(self):
        body = self.d.metrics_text()
        r = subprocess.run(["promtool", "check", "metrics"], input=body, capture_output=True,
                           text=True)
        # the one lint allowed: node_exporter's own /proc/meminfo names
        # (kpulse_node_memory_MemTotal_bytes...), kept so queries port
        lint = [l for l in (r.stdout + r.stderr).splitlines() if l.strip() and not re.match(
            r"kpulse_node_memory_\w+ metric names should be written in 'snake_case' not "
            r"'camelCase'$", l)]
        self.assertEqual(lint, [])
        self.assertIn(r.returncode, (0, 3), r.stdout + r.stderr)  # 3: lint findings only

    def test_unknown_path_is_json_404(self):
        code, headers, body = self.d.get_error("/nope")
        self.assertEqual(code, 404)
        self.assertEqual(headers["Content-Type"], "application/json")
        self.assertEqual(json.loads(body)["status"], 404)

    def test_wrong_method_is_json_405(self):
        for method in ("POST", "PUT", "DELETE"):
            code, headers, body = self.d.get_error("/metrics", method=method)
            self.assertEqual(code, 405)
            self.assertIn("GET", headers["Allow"])
            self.assertIn("error", json.loads(body))

    def test_oversized_requests_rejected_and_daemon_survives(self):
        code = self.d.get_error("/" + "a" * 100000)[0]
        self.assertTrue(400 <= code < 500, code)
        code = self.d.get_error("/metrics", headers={"X-Big": "b" * 100000})[0]
        self.assertTrue(400 <= code < 500, code)
        # garbage on a raw socket
        s = socket.create_connection(("127.0.0.1", self.d.port), timeout=5)
        s.sendall(b"\x00\xff garbage \r\n\r\n")
        try:
            s.recv(100)
        except OSError:
            pass
        s.close()
        self.assertEqual(self.d.health()[0], 200)

    def test_many_clients(self):
        import concurrent.futures as cf

        def one(i):
            return self.d.get("/health" if i % 2 else "/metrics")[0]

        with cf.ThreadPoolExecutor(16) as ex:
            codes = list(ex.map(one, range(200)))
        self.assertEqual(codes, [200] * 200)


class CliTest(unittest.TestCase):
    def assertOneLineError(self, r, code, words):
        self.assertEqual(r.returncode, code, r.stderr)
        first = r.stderr.strip().splitlines()[0]
        self.assertTrue(first.startswith("kpulse: "), r.stderr)
        self.assertIn(words, first)

    def test_bad_listen(self):
        for bad in ("nonsense", "1.2.3.4", "127.0.0.1:99999", "127.0.0.1:", ":abc"):
            self.assertOneLineError(run_kpulse("daemon", "--listen", bad), 64, "expected ADDR:PORT")

    def test_port_in_use(self):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        port = s.getsockname()[1]
        try:
            r = run_kpulse("daemon", "--listen", "127.0.0.1:%d" % port)
        finally:
            s.close()
        self.assertOneLineError(r, 1, "Address already in use")

    def test_unknown_flag_and_command(self):
        r = run_kpulse("daemon", "--bogus")
        self.assertEqual(r.returncode, 64)
        self.assertIn("usage:", r.stderr)
        self.assertOneLineError(run_kpulse("frobnicate"), 64, "unknown command")
        self.assertOneLineError(run_kpulse("daemon", "--interval", "fast"), 64, "--interval")

    def test_not_root_exits_77(self):
        def drop():
            os.setgroups([])
            os.setgid(65534)
            os.setuid(65534)
        r = run_kpulse("daemon", "--listen", "127.0.0.1:%d" % h.free_port(), preexec=drop)
        self.assertOneLineError(r, 77, "root")

    def test_version_and_help(self):
        r = run_kpulse("--version")
        self.assertEqual(r.returncode, 0)
        self.assertRegex(r.stdout, r"^kpulse \d+\.\d+\.\d+")
        r = run_kpulse("help", "daemon")
        self.assertEqual(r.returncode, 0)
        self.assertIn("--listen", r.stdout)


if __name__ == "__main__":
    unittest.main()
