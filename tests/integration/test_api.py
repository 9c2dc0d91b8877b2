"""The JSON API of a live daemon: containers and their windowed percentiles
(checked against the container's own fine histogram), node, history, errors,
and robustness under many clients with flat memory."""
import concurrent.futures as cf
import json
import os
import subprocess
import time
import unittest
import urllib.parse

import harness as h

import jsonschema

SCHEMA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "api.schema.json")


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


class ApiTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.cg = h.Cgroups()
        try:
            cls.busy = cls.cg.make("busy")
            cls.spin = cls.cg.run(cls.busy, [h.WORKLOAD, "spin", str(4 * os.cpu_count()), "60"])
            cls.d = h.Daemon()
        except Exception:
            cls.cg.cleanup()
            raise
        time.sleep(4)

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()
        cls.cg.cleanup()

    def get_json(self, path):
        status, headers, body = self.d.get(path)
        self.assertEqual(status, 200)
        self.assertEqual(headers["Content-Type"], "application/json")
        return json.loads(body)

    def busy_doc(self):
        for c in self.get_json("/api/v1/containers"):
            if c["cgroup"] == self.cg.rel(self.busy):
                return c
        self.fail("busy container missing")

    def wait_tick(self):
        """Poll until the analysis moves on (an interval tick), then read the
        kernel's counter at once: both then describe the same instant. The
        tick is told by the rate (`cores`), which only a tick moves: the
        counter (`seconds_total`) moves at every request 50 ms after the
        last read, and a rate over that much shorter span, on a loaded
        host, is not the tick's."""
        key = self.busy_doc()["id"]
        first = self.get_json("/api/v1/containers/" + key)["cpu"]["cores"]
        deadline = time.time() + 5
        while time.time() < deadline:
            doc = self.get_json("/api/v1/containers/" + key)
            if doc["cpu"]["cores"] != first:
                return doc, h.cpu_usage_usec(self.busy), time.time()
            time.sleep(0.01)
        self.fail("no collection tick within 5 s")

    def test_containers_schema_and_rates(self):
        doc = self.get_json("/api/v1/containers")
        jsonschema.validate(doc, json.load(open(SCHEMA)))
        scores = [c["health"]["score"] for c in doc]
        self.assertEqual(scores, sorted(scores))  # worst first
        # the rate is per interval: compare over the same interval
        _, c0, t0 = self.wait_tick()
        busy, c1, t1 = self.wait_tick()
        kernel = (c1 - c0) / 1e6 / (t1 - t0)
        print("\n  cores: api %.3f, cpu.stat over the same tick %.3f" % (busy["cpu"]["cores"], kernel))
        self.assertAlmostEqual(busy["cpu"]["cores"], kernel, delta=0.1 * kernel + 0.02)
        self.assertGreater(busy["context_switches"]["involuntary_per_second"], 10)

    def test_percentiles_come_from_the_fine_buckets(self):
        one = self.get_json("/api/v1/containers/" + self.busy_doc()["id"])
        hist = one["histograms"]["runq"]
        rows = hist["buckets"]
        total = sum(r[2] for r in rows)
        win = one["latency"]["runq"][hist["window"]]
        self.assertEqual(win["count"], total)
        self.assertGreater(total, 100)
        # the quantile is the upper edge of the bucket holding the rank (the
        # top bucket, ~66.6 s and up, has none: its lower edge then)
        for name, q in (("p50", .5), ("p90", .9), ("p99", .99), ("max", 1.0)):
            rank, seen = max(1, -(-q * total // 1)), 0
            for lo, hi, n in rows:
                seen += n
                if seen >= rank:
                    self.assertAlmostEqual(win[name], lo if hi is None else hi, delta=1e-12)
                    break
        # bucket widths honour the documented 6.25% bound
        for lo, hi, _ in rows:
            if lo >= 16e-9 and hi is not None:
                self.assertLessEqual(hi - lo, lo / 16 + 1e-15)
        self.assertLessEqual(win["p50"], win["p99"])

    def test_lookup_by_name_and_cgroup(self):
        busy = self.busy_doc()
        for key in (busy["id"], urllib.parse.quote(busy["cgroup"], safe="")):
            self.assertEqual(self.get_json("/api/v1/containers/" + key)["cgroup"], busy["cgroup"])
        code, _, body = self.d.get_error("/api/v1/containers/no-such-thing")
        self.assertEqual(code, 404)
        self.assertIn("error", json.loads(body))

    def test_name_with_bytes_that_are_not_utf8(self):
        """A cgroup whose name is not valid UTF-8 (a tenant who can make
        cgroups must not hide from the JSON API): every output shows it, the
        bad byte written \\xff the same way everywhere, and it is found by
        that spelling."""
        root = h.v2_root()
        base = os.path.join(root, h.TEST_PREFIX)
        raw = os.path.join(base, "x\udcffy")  # surrogateescape: the byte 0xff
        os.mkdir(os.fsencode(raw))
        self.addCleanup(lambda: os.rmdir(os.fsencode(raw)))
        p = self.cg.run(raw, [h.WORKLOAD, "spin", "1", "8"])
        self.addCleanup(lambda: (p.kill(), p.wait()))
        shown = "/%s/x\\xffy" % h.TEST_PREFIX
        deadline = time.time() + 10
        while time.time() < deadline:
            docs = [c for c in self.get_json("/api/v1/containers") if c["cgroup"] == shown]
            if docs:
                break
            time.sleep(0.5)
        self.assertEqual(len(docs), 1, "the container is missing from the JSON API")
        self.assertEqual(docs[0]["name"], shown)
        one = self.get_json("/api/v1/containers/" + urllib.parse.quote(shown, safe=""))
        self.assertEqual(one["cgroup"], shown)
        # the same spelling on /metrics (the text format escapes the backslash)
        m = self.d.metrics()
        self.assertTrue(h.series(m, "kpulse_container_cpu_seconds_total", cgroup=shown))
        # and in the terminal table and -c
        r = subprocess.run([h.KPULSE, "snapshot", "--from", "http://127.0.0.1:%d" % self.d.port,
                            "-c", "*x\\xffy"], capture_output=True, text=True, timeout=20)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("x\\xffy", r.stdout)

    def test_windows_as_fresh_as_metrics(self):
        """Right after a burst of requests, the JSON windows hold all of them,
        as /metrics does, without waiting for the next interval tick (10 s
        here, so no tick can come between)."""
        import test_tcp as t
        srv_cg, cli_cg = self.cg.make("freshsrv"), self.cg.make("freshcli")
        d = h.Daemon("--interval", "10s")
        self.addCleanup(d.stop)
        time.sleep(0.5)
        srv, port = t.start_delay_server(self.cg, srv_cg, delay_ms=1)
        self.addCleanup(lambda: srv.poll() is None and t.stop_delay_server(srv))
        t.run_in(self.cg, cli_cg, t.CLIENT, "%d:150" % port)
        rel = self.cg.rel(srv_cg)
        status, _, body = d.get("/api/v1/containers?container=" + urllib.parse.quote(rel))
        docs = [c for c in json.loads(body) if c["cgroup"] == rel]
        m = d.metrics()
        self.assertEqual(t.total(m, t.REQ + "_count", cgroup=rel, direction="inbound"), 150)
        self.assertEqual(len(docs), 1)
        lat = docs[0]["latency"]["request_inbound"]
        self.assertEqual(lat["1m"]["count"], 150, lat)
        self.assertIsNotNone(lat["1m"]["p50"])
        self.assertEqual(t.stop_delay_server(srv)["requests"], 150)

    def test_filter(self):
        doc = self.get_json("/api/v1/containers?container=" + urllib.parse.quote(h.TEST_PREFIX + "*"))
        self.assertEqual([c["cgroup"] for c in doc], [self.cg.rel(self.busy)])

    def test_node(self):
        n = self.get_json("/api/v1/node")
        self.assertEqual(n["cpu"]["count"], os.cpu_count())
        self.assertGreater(n["cpu"]["cores_busy"], 0.5)
        self.assertGreater(n["memory"]["total_bytes"], 0)
        self.assertIn("1m", n["load"])
        self.assertGreater(list(n["latency"]["runq"].values())[0]["count"], 0)

    def test_node_network_devices_against_proc_net_dev(self):
        """/api/v1/node lists every interface of /proc/net/dev (the tick's
        reading): lo's byte totals lie between two readings of the file
        taken around that tick, and the rates are the totals' change over
        the tick interval (1 s), with loopback traffic made here."""
        import socket
        import threading

        def kernel():
            with open("/proc/net/dev") as f:
                rows = [l.split(":", 1) for l in f.readlines()[2:]]
            return {n.strip(): (int(v.split()[0]), int(v.split()[8])) for n, v in rows}

        def lo(doc):
            got = [d for d in doc["network_devices"] if d["device"] == "lo"]
            self.assertEqual(len(got), 1, doc["network_devices"])
            return got[0]

        srv = socket.socket()
        srv.bind(("127.0.0.1", 0))
        srv.listen(1)
        out = socket.create_connection(srv.getsockname())
        inp, _ = srv.accept()
        stop = threading.Event()

        def pump():     # about 2 MB/s through lo, received and dropped
            while not stop.is_set():
                out.sendall(b"x" * 20000)
                inp.recv(1 << 20)
                time.sleep(0.01)
        t = threading.Thread(target=pump, daemon=True)
        t.start()
        self.addCleanup(lambda: (stop.set(), t.join(5), out.close(), inp.close(), srv.close()))

        k0 = kernel()
        time.sleep(2.5)     # two ticks: totals of a tick after k0, and a rate
        a = self.get_json("/api/v1/node")
        k1 = kernel()
        self.assertEqual({d["device"] for d in a["network_devices"]} - set(k1), set())
        self.assertIn("lo", {d["device"] for d in a["network_devices"]})
        first = lo(a)
        for i, key in enumerate(("receive_bytes_total", "transmit_bytes_total")):
            self.assertLessEqual(k0["lo"][i], first[key])
            self.assertLessEqual(first[key], k1["lo"][i])
        # the next tick: its rate is its change over the interval
        deadline = time.time() + 5
        while time.time() < deadline:
            b = lo(self.get_json("/api/v1/node"))
            if b["receive_bytes_total"] != first["receive_bytes_total"]:
                break
            time.sleep(0.02)
        else:
            self.fail("lo's totals did not move in 5 s")
        for d in ("receive", "transmit"):
            rate, grew = b[d + "_bytes_per_second"], b[d + "_bytes_total"] - first[d + "_bytes_total"]
            print("\n  lo %s: %.0f B/s, %d B over the tick" % (d, rate, grew))
            self.assertGreater(grew, 100000)
            # seconds between the two ticks: the 1 s interval, late by what
            # scheduling on this busy 2-core VM adds
            self.assertAlmostEqual(grew / rate, 1.0, delta=0.35)

    def test_node_disk_against_diskstats(self):
        """Write 32 MiB with O_DIRECT under /tmp: the disk holding it shows
        the bytes between the kernel's own counts before and after."""
        st = os.stat("/tmp")
        sysdev = os.path.realpath("/sys/dev/block/%d:%d" % (os.major(st.st_dev),
                                                            os.minor(st.st_dev)))
        if not os.path.exists(sysdev):
            self.skipTest("/tmp is not on a block device")
        if os.path.exists(os.path.join(sysdev, "partition")):
            sysdev = os.path.dirname(sysdev)
        dev = os.path.basename(sysdev)

        def kernel_written():
            for line in open("/proc/diskstats"):
                f = line.split()
                if f[2] == dev:
                    return int(f[9]) * 512
            self.fail("%s not in /proc/diskstats" % dev)

        def kpulse_disk():
            got = [d for d in self.get_json("/api/v1/node")["disk"] if d["device"] == dev]
            self.assertEqual(len(got), 1, dev)
            return got[0]

        k0 = kernel_written()
        path = "/tmp/kpulse-test-disk-%d" % os.getpid()
        self.addCleanup(lambda: os.path.exists(path) and os.unlink(path))
        r = subprocess.run(["dd", "if=/dev/zero", "of=" + path, "bs=1M", "count=32",
                            "oflag=direct", "conv=fsync"], capture_output=True, text=True)
        if r.returncode != 0:
            self.skipTest("O_DIRECT write failed here: " + r.stderr.strip())
        time.sleep(2.5)   # the next tick reads /proc/diskstats
        d = kpulse_disk()
        k1 = kernel_written()
        print("\n  %s written: kernel +%d, kpulse total %d (kernel %d..%d), %.0f B/s busy %.2f"
              % (dev, k1 - k0, d["write_bytes_total"], k0, k1, d["write_bytes_per_second"] or 0,
                 d["busy_ratio"] or 0))
        self.assertGreaterEqual(d["write_bytes_total"], k0 + (32 << 20))
        self.assertLessEqual(d["write_bytes_total"], k1)
        self.assertIsNotNone(d["write_bytes_per_second"])
        self.assertGreaterEqual(d["busy_ratio"], 0)
        self.assertLessEqual(d["busy_ratio"], 1)
        self.assertNotIn("loop0", [x["device"] for x in self.get_json("/api/v1/node")["disk"]])

    def test_history(self):
        busy = self.busy_doc()
        hist = self.get_json("/api/v1/history?metric=cpu_cores&container=%s&window=15m" % busy["id"])
        pts = hist["points"]
        self.assertGreaterEqual(len(pts), 2)
        ts = [p[0] for p in pts]
        self.assertEqual(ts, sorted(ts))
        self.assertLess(abs(ts[-1] - time.time()), 5)
        self.assertGreater(pts[-1][1], 0)
        node = self.get_json("/api/v1/history?metric=health_score")
        self.assertEqual(node["container"], "node")
        short = self.get_json("/api/v1/history?metric=cpu_cores&window=1s")
        self.assertLessEqual(len(short["points"]), 2)
        for bad, code in (("metric=nope", 400), ("metric=cpu_cores&window=soon", 400),
                          ("", 400), ("metric=cpu_cores&container=ghost", 404)):
            self.assertEqual(self.d.get_error("/api/v1/history?" + bad)[0], code)

    def test_runq_heatmap_matches_the_fine_buckets(self):
        """The heatmap's rows, summed over its columns, hold what the
        container's fine run-queue histogram (5 m window, the same baseline)
        holds between the rows' edges: both come from the same reads.
        Every JSON request may read the maps again (feeding both), so the
        busy workload is stopped first: with no new waits, two heatmaps
        equal on either side of the container's document saw what it saw."""
        import math
        import signal
        key = self.busy_doc()["id"]
        url = "/api/v1/history?metric=runq_heatmap&container=" + urllib.parse.quote(key, safe="")
        os.kill(self.spin.pid, signal.SIGSTOP)
        self.addCleanup(os.kill, self.spin.pid, signal.SIGCONT)
        for _ in range(30):
            a = self.get_json(url)
            one = self.get_json("/api/v1/containers/" + urllib.parse.quote(key, safe=""))
            b = self.get_json(url)
            if a == b:    # no new waits read in between
                break
            time.sleep(0.1)
        else:
            self.fail("the stopped workload's waits kept coming")
        self.assertEqual(len(a["rows_lower_seconds"]), 24)
        self.assertEqual(a["column_seconds"], 5.0)
        rows = [0] * 24
        for t, counts in a["points"]:
            self.assertEqual(len(counts), 24)
            rows = [x + y for x, y in zip(rows, counts)]
        self.assertEqual(one["histograms"]["runq"]["window"], "5m")
        want = [0] * 24
        for lo, hi, n in one["histograms"]["runq"]["buckets"]:
            ns = round(lo * 1e9)
            want[0 if ns < 1024 else min(23, int(math.log2(ns)) - 9)] += n
        self.assertGreater(sum(rows), 100)
        self.assertEqual(rows, want)
        ts = [p[0] for p in a["points"]]
        self.assertEqual(ts, sorted(ts))
        self.assertLess(abs(ts[-1] - time.time()), 6)

    def test_many_clients_rss_flat(self):
        paths = ["/api/v1/containers", "/api/v1/node", "/metrics", "/health",
                 "/api/v1/history?metric=cpu_cores", "/nope", "/" + "x" * 5000]
        pid = self.d.proc.pid

        def one(i):
            try:
                return self.d.get(paths[i % len(paths)])[0]
            except Exception as e:  # 4xx come as HTTPError
                return getattr(e, "code", 0)

        with cf.ThreadPoolExecutor(16) as ex:   # warm up
            list(ex.map(one, range(200)))
        r0 = rss_kib(pid)
        with cf.ThreadPoolExecutor(16) as ex:
            codes = list(ex.map(one, range(1000)))
        r1 = rss_kib(pid)
        self.assertNotIn(0, codes)
        self.assertTrue(all(c in (200, 404, 414, 431) for c in codes), set(codes))
        print("\n  rss before %d KiB, after 1000 requests %d KiB" % (r0, r1))
        self.assertLess(r1 - r0, 2048)
        self.assertEqual(self.d.health()[0], 200)


if __name__ == "__main__":
    unittest.main()
