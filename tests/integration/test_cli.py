"""Terminal commands against real cgroups: snapshot (table, json, prom,
--from), latency (runq, reclaim, request, connect, rtt), slow (runq,
request, reclaim), top in a real terminal (tmux), check, error paths."""
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import time
import unittest

import harness as h
import test_memory as tm
import test_tcp as tt

import jsonschema

SCHEMA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "api.schema.json")


def kp(*args, timeout=60, preexec=None):
    return subprocess.run([h.KPULSE] + list(args), capture_output=True, text=True,
                          timeout=timeout, preexec_fn=preexec)


def kp_owned(*args, timeout=60):
    """Run kpulse; also check that every BPF program it loaded is gone after
    it exits (the kernel frees them asynchronously, so wait a little)."""
    r, ids = h.run_owned([h.KPULSE] + list(args), timeout=timeout)
    assert ids, "kpulse %s held no BPF programs" % " ".join(args)
    left = h.wait_released(ids)
    assert not left, "programs left loaded: %s" % left
    return r


def prog_names(ids):
    """{id: name} of loaded BPF programs among `ids`."""
    out = subprocess.run(["bpftool", "-j", "prog", "show"], capture_output=True, text=True,
                         check=True).stdout
    return {p["id"]: p.get("name", "") for p in json.loads(out or "[]") if p["id"] in ids}


class Background:
    """kpulse running while the test makes the workload it measures. Ready
    once its last unit (tcp) is loaded and attached and it took its
    baseline; finish() waits for it and checks its programs are gone."""

    def __init__(self, *args):
        self.args = args
        self.p = subprocess.Popen([h.KPULSE] + list(args), stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True)
        self.ids = set()

    def wait_ready(self, timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.p.poll() is not None:
                raise AssertionError("kpulse %s exited %d: %s"
                                     % (" ".join(self.args), self.p.returncode, self.p.stderr.read()))
            self.ids |= h.prog_ids_of(self.p.pid)
            h.OWNED.update(self.ids)
            if {"kp_send", "kp_send_raw"} & set(prog_names(self.ids).values()):
                return
            time.sleep(0.1)
        raise AssertionError("kpulse %s did not load in %ds" % (" ".join(self.args), timeout))

    def finish(self, sig=None, timeout=60):
        if sig:
            self.p.send_signal(sig)
        out, err = self.p.communicate(timeout=timeout)
        left = h.wait_released(self.ids)
        assert not left, "programs left loaded: %s" % left
        return subprocess.CompletedProcess(self.args, self.p.returncode, out, err)

    def kill(self):
        if self.p.poll() is None:
            self.p.kill()
            self.p.communicate()


def hist_blocks(text):
    """Histograms printed by `kpulse latency`: [(title, rows, total, p50, p99, max)],
    values in microseconds; checks that each one's rows add up to its total."""
    blocks = []
    if not text.strip():
        return blocks
    for b in re.split(r"\n\n+", text.strip()):
        lines = b.splitlines()
        rows = [int(c) for c in re.findall(r"^\s*\d+ -> \d+\s*: (\d+)", b, re.M)]
        total = int(re.search(r"^total (\d+)", b, re.M).group(1))
        q = re.search(r"p50 ([\d.]+) us  p99 ([\d.]+) us  max ([\d.]+) us", b)
        assert sum(rows) == total, "rows %s do not add up to total %d:\n%s" % (rows, total, b)
        blocks.append((lines[0], rows, total) + (tuple(map(float, q.groups())) if q else (0, 0, 0)))
    return blocks


def events_of(stdout):
    return [json.loads(l) for l in stdout.splitlines() if l.strip()]


class Loaded(unittest.TestCase):
    """A CPU-bound test cgroup and an idle one, for the duration of a test."""

    def setUp(self):
        self.cg = h.Cgroups()
        self.addCleanup(self.cg.cleanup)
        self.busy = self.cg.make("busy")
        self.idle = self.cg.make("idle")
        # the shapes of test_sched: 8x oversubscribed vs a 25%-duty sleeper
        self.cg.run(self.busy, [h.WORKLOAD, "spin", str(8 * os.cpu_count()), "30"])
        self.cg.run(self.idle, [h.WORKLOAD, "sleepy", "30", "4000", "1000"])
        time.sleep(0.5)


class SnapshotTest(Loaded):
    def test_json_ranks_busy_first_with_cpu_from_cpu_stat(self):
        c0 = h.cpu_usage_usec(self.busy)
        t0 = time.time()
        r = kp_owned("snapshot", "-d", "3s", "--format", "json", "-c", h.TEST_PREFIX + "*")
        c1 = h.cpu_usage_usec(self.busy)
        t1 = time.time()
        self.assertEqual(r.returncode, 0, r.stderr)
        doc = json.loads(r.stdout)
        jsonschema.validate(doc, json.load(open(SCHEMA)))
        names = [c["cgroup"] for c in doc]
        self.assertEqual(names, [self.cg.rel(self.busy), self.cg.rel(self.idle)])
        busy = doc[0]
        # the kernel's rate over a slightly longer span (process start/exit)
        kernel_cores = (c1 - c0) / 1e6 / (t1 - t0)
        self.assertAlmostEqual(busy["cpu"]["cores"], kernel_cores, delta=0.2 * kernel_cores)
        self.assertGreater(busy["cpu"]["cores"], doc[1]["cpu"]["cores"])
        rq = list(busy["latency"]["runq"].values())[0]
        self.assertGreater(rq["count"], 50)
        self.assertLessEqual(rq["p50"], rq["p99"])
        self.assertLessEqual(rq["p99"], rq["max"])
        self.assertLessEqual(busy["health"]["score"], doc[1]["health"]["score"])
        self.assertIn("run-queue", busy["health"]["reason"])

    def test_table_and_prom(self):
        r = kp_owned("snapshot", "-d", "1s", "-c", h.TEST_PREFIX + "*")
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = r.stdout.splitlines()
        self.assertTrue(lines[0].startswith("CONTAINER"))
        rows = {l.split()[0]: l.split() for l in lines[1:]}
        self.assertEqual(set(rows), {self.cg.rel(self.busy), self.cg.rel(self.idle)})
        self.assertGreater(float(rows[self.cg.rel(self.busy)][1]),
                           float(rows[self.cg.rel(self.idle)][1]))  # CPU%
        r = kp("snapshot", "-d", "1s", "--format", "prom")
        self.assertEqual(r.returncode, 0, r.stderr)
        m = h.parse_metrics(r.stdout)
        self.assertEqual(len(h.series(m, "kpulse_container_cpu_seconds_total",
                                      cgroup=self.cg.rel(self.busy))), 1)

    def test_from_daemon_gives_same_containers(self):
        d = h.Daemon()
        self.addCleanup(d.stop)
        time.sleep(2.5)
        r = kp("snapshot", "--from", "http://127.0.0.1:%d" % d.port, "--format", "json")
        self.assertEqual(r.returncode, 0, r.stderr)
        got = {c["cgroup"] for c in json.loads(r.stdout)}
        api = {c["cgroup"] for c in json.loads(d.get("/api/v1/containers")[2])}
        self.assertIn(self.cg.rel(self.busy), got)
        self.assertEqual(got, api)
        r = kp("snapshot", "--from", "127.0.0.1:%d" % d.port, "-c", h.TEST_PREFIX + "*")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(self.cg.rel(self.busy), r.stdout)


class LatencyTest(Loaded):
    def test_histogram_adds_up_and_contended_is_slower(self):
        r = kp_owned("latency", "runq", "-c", h.TEST_PREFIX + "*", "--per-container", "-i", "2s",
                     "-n", "1")
        self.assertEqual(r.returncode, 0, r.stderr)
        blocks = r.stdout.split("container = ")[1:]
        p99 = {}
        for b in blocks:
            name = b.split()[0]
            rows = re.findall(r"^\s*\d+ -> \d+\s*: (\d+)", b, re.M)
            total = int(re.search(r"^total (\d+)", b, re.M).group(1))
            self.assertEqual(sum(map(int, rows)), total)
            p99[name] = float(re.search(r"p99 ([\d.]+) us", b).group(1))
        self.assertIn(self.cg.rel(self.busy), p99)
        self.assertIn(self.cg.rel(self.idle), p99)
        self.assertGreater(p99[self.cg.rel(self.busy)], p99[self.cg.rel(self.idle)])

    def test_merged_host_histogram(self):
        r = kp("latency", "runq", "-i", "1s", "-n", "2")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.count("run-queue latency, whole host"), 2)
        for total in re.findall(r"^total (\d+)", r.stdout, re.M):
            self.assertGreater(int(total), 0)


class LatencyReclaimTest(unittest.TestCase):
    """A memory-limited cgroup reading a file three times its limit (the
    workload of test_memory.py): `latency reclaim` and `slow --reclaim` at
    once, against the cgroup's own count of charges that hit the limit."""

    def test_reclaim_histogram_and_slow_events(self):
        cg = h.MemCgroups()
        if cg.layout is None:
            self.skipTest("no memory controller to limit test cgroups with")
        self.addCleanup(cg.cleanup)
        lim = cg.make_mem("limited", tm.LIMIT)
        rel = cg.rel(lim)
        path = os.path.join(h.ROOT, ".output", "%s-cli.dat" % h.TEST_PREFIX)
        self.addCleanup(os.unlink, path)
        tm.make_file(path, tm.FILE_MIB)
        slow = Background("slow", "--reclaim", "100us", "--json", "-c", rel)
        self.addCleanup(slow.kill)
        slow.wait_ready()
        hits0 = cg.limit_hits(lim)
        w = cg.run_mem(lim, [h.WORKLOAD, "filescan", path, "20"])
        r = kp_owned("latency", "reclaim", "-c", rel, "-i", "3s")
        w.kill()
        w.wait()
        time.sleep(0.3)
        res = slow.finish(signal.SIGINT)
        hits = cg.limit_hits(lim) - hits0
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(res.returncode, 0, res.stderr)

        # the histogram: non-empty, rows add up, no more stalls than the
        # charges that hit the limit (each memcg reclaim follows one)
        (title, rows, total, p50, p99, mx), = hist_blocks(r.stdout)
        print("\n  latency reclaim: total %d, p50 %.1f us, p99 %.1f us; limit hits %d"
              % (total, p50, p99, hits))
        self.assertEqual(title, "memory reclaim stalls, matching containers")
        self.assertGreater(total, 50)
        self.assertLessEqual(total, hits)
        self.assertTrue(0 < p50 <= p99 <= mx, (p50, p99, mx))

        # slow --reclaim: only reclaim, only this cgroup's task, nothing
        # under the threshold, none lost
        events = events_of(res.stdout)
        print("  slow --reclaim 100us: %d events (%s); %s"
              % (len(events), sorted({e["reclaim"] for e in events}), res.stderr.splitlines()[-1]))
        self.assertIn("watching reclaim >= 0.100 ms", res.stderr)
        self.assertTrue(events, "no slow reclaim events")
        self.assertLessEqual(len(events), hits)
        for e in events:
            self.assertEqual((e["kind"], e["cgroup"], e["pid"], e["tid"], e["comm"]),
                             ("reclaim", rel, w.pid, w.pid, "workload"), e)
            self.assertIn(e["reclaim"], ("memcg", "direct"))
            self.assertGreaterEqual(e["seconds"], 100e-6)
        self.assertIn("memcg", {e["reclaim"] for e in events})
        self.assertIn(" 0 dropped", res.stderr)


# The client (test_tcp.CLIENT) makes CONNS connections in turn to each
# port, REQS requests on each, every answer read in full.
CONNS, REQS = 8, 5


def client_args(*ports):
    return ["%d:%d" % (port, REQS) for port in ports for _ in range(CONNS)]


@unittest.skipUnless(os.access(tt.DELAY_SERVER, os.X_OK), "delay_server not built")
class LatencyTcpTest(unittest.TestCase):
    """The delay server (answers after D = 20 ms) in one cgroup, a client in
    another, while four `latency` commands watch: request (per container,
    both directions), request --direction in (merged), connect and rtt.
    Counts against the client's and the server's own, p50 against D."""

    def test_request_connect_rtt_against_the_delay_server(self):
        cg = h.Cgroups()
        self.addCleanup(cg.cleanup)
        a, b = cg.make("server"), cg.make("client")
        A, B = cg.rel(a), cg.rel(b)
        srv, port = tt.start_delay_server(cg, a)
        pat, iv = h.TEST_PREFIX + "*", "8s"
        runs = {
            "request": Background("latency", "request", "-c", pat, "--per-container", "-i", iv),
            "inbound": Background("latency", "request", "-c", pat, "--direction", "in", "-i", iv),
            "connect": Background("latency", "connect", "-c", B, "-i", iv),
            "rtt": Background("latency", "rtt", "-c", pat, "--per-container", "-i", iv),
        }
        for r in runs.values():
            self.addCleanup(r.kill)
        for r in runs.values():
            r.wait_ready()
        time.sleep(0.5)  # loaded: then attach and the baseline read
        tt.run_in(cg, b, tt.CLIENT, *client_args(port))
        served = tt.stop_delay_server(srv)
        out = {k: r.finish() for k, r in runs.items()}
        for k, r in out.items():
            self.assertEqual(r.returncode, 0, "%s: %s" % (k, r.stderr))
        n = CONNS * REQS
        self.assertEqual((served["requests"], served["connections"]), (n, CONNS))
        d_us = tt.DELAY_S * 1e6

        def near_d(p50):
            # the p50 bucket's upper edge: within 10% of D (one fine bucket
            # is 6.25%), never below it
            return d_us <= p50 <= 1.1 * d_us

        blocks = {re.search(r"\((\S+)\)", t).group(1): (t, tot, p50)
                  for t, _, tot, p50, _, _ in hist_blocks(out["request"].stdout)}
        print("\n  request per container: %s" % blocks)
        self.assertEqual(set(blocks), {A, B})
        for path in (A, B):  # A served them (inbound), B made them (outbound)
            t, tot, p50 = blocks[path]
            self.assertTrue(t.endswith(": request latency"), t)
            self.assertEqual(tot, n, path)
            self.assertTrue(near_d(p50), (path, p50))

        (t, _, tot, p50, _, _), = hist_blocks(out["inbound"].stdout)
        print("  request --direction in: total %d, p50 %.1f us" % (tot, p50))
        self.assertEqual(t, "request latency (inbound), matching containers")
        self.assertEqual(tot, n)  # A's inbound only, not B's outbound
        self.assertTrue(near_d(p50), p50)

        (t, _, tot, p50, p99, _), = hist_blocks(out["connect"].stdout)
        print("  connect: total %d, p50 %.1f us, p99 %.1f us" % (tot, p50, p99))
        self.assertEqual(t, "TCP connect latency, matching containers")
        self.assertEqual(tot, served["connections"])
        self.assertLess(p99, 1e6)  # loopback

        rtt = {re.search(r"\((\S+)\)", t).group(1): (tot, mx)
               for t, _, tot, _, _, mx in hist_blocks(out["rtt"].stdout)}
        print("  rtt per container: %s" % rtt)
        self.assertEqual(set(rtt), {A, B})
        for tot, mx in rtt.values():
            self.assertGreater(tot, 0)
            self.assertLess(mx, 1e6)


@unittest.skipUnless(shutil.which("tmux"), "tmux not installed")
class TopTest(Loaded):
    def test_top_in_a_terminal_shows_containers_and_quits_on_q(self):
        sess = "kpulse-test-%d" % os.getpid()
        cmd = "%s top -i 1s -c '%s*'" % (h.KPULSE, h.TEST_PREFIX)
        subprocess.run(["tmux", "new-session", "-d", "-s", sess, "-x", "80", "-y", "24", cmd],
                       check=True)
        self.addCleanup(subprocess.run, ["tmux", "kill-session", "-t", sess],
                        capture_output=True)
        # An 80-column table keeps the last 22 characters of a long name,
        # marked with '~'; the tail is what names the container.
        busy, idle = self.cg.rel(self.busy)[-21:], self.cg.rel(self.idle)[-21:]
        screen = ""
        deadline = time.time() + 15
        while time.time() < deadline and busy not in screen:
            time.sleep(0.5)
            screen = subprocess.run(["tmux", "capture-pane", "-p", "-t", sess],
                                    capture_output=True, text=True).stdout
        self.assertIn("CONTAINER", screen)
        self.assertIn(busy, screen)
        self.assertIn(idle, screen)
        pid = int(subprocess.run(["tmux", "list-panes", "-t", sess, "-F", "#{pane_pid}"],
                                 capture_output=True, text=True).stdout.split()[0])
        held = h.prog_ids_of(pid)
        self.assertTrue(held)
        for line in screen.splitlines():
            self.assertLessEqual(len(line), 80)
        subprocess.run(["tmux", "send-keys", "-t", sess, "q"], check=True)
        deadline = time.time() + 10
        while time.time() < deadline:
            alive = subprocess.run(["tmux", "has-session", "-t", sess], capture_output=True)
            if alive.returncode != 0:
                break
            time.sleep(0.2)
        self.assertNotEqual(alive.returncode, 0, "top did not exit on q")
        self.assertEqual(h.wait_released(held), set())

    def test_plain_output_when_not_a_terminal(self):
        r = kp("top", "-i", "500ms", "-n", "2", "-c", h.TEST_PREFIX + "*")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.count("CONTAINER"), 2)
        self.assertNotIn("\033[", r.stdout)


class SlowTest(unittest.TestCase):
    def test_low_priority_task_is_named_and_nothing_below_threshold(self):
        cg = h.Cgroups()
        self.addCleanup(cg.cleanup)
        busy, low = cg.make("busy"), cg.make("low")
        # comm comes from the executable's name: a symlink gives a distinct one
        tmp = "/tmp/%s" % h.TEST_PREFIX
        os.makedirs(tmp, exist_ok=True)
        self.addCleanup(shutil.rmtree, tmp, True)
        exe = os.path.join(tmp, "kp-lowprio")
        os.symlink(h.WORKLOAD, exe)
        cg.run(busy, [h.WORKLOAD, "spin", str(4 * os.cpu_count()), "20"])
        lowp = cg.run(low, ["nice", "-n", "19", exe, "spin", "1", "20"])
        time.sleep(0.5)
        r = kp_owned("slow", "--runq", "20ms", "--json", "-d", "4s", "-c", h.TEST_PREFIX + "*")
        self.assertEqual(r.returncode, 0, r.stderr)
        events = [json.loads(l) for l in r.stdout.splitlines()]
        self.assertTrue(events, "no slow events")
        for e in events:
            self.assertGreaterEqual(e["seconds"], 0.020)   # nothing below it
            self.assertTrue(e["cgroup"].startswith("/" + h.TEST_PREFIX + "/"), e)
        mine = [e for e in events if e["pid"] == lowp.pid]
        self.assertTrue(mine, "the low-priority task never showed up")
        self.assertEqual({e["comm"] for e in mine}, {"kp-lowprio"})
        self.assertEqual({e["cgroup"] for e in mine}, {cg.rel(low)})
        self.assertTrue(all(e["held_by"]["tid"] > 0 for e in mine))

    def test_default_is_runq_10ms(self):
        r = kp_owned("slow", "-d", "1s", "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("watching runq >= 10.000 ms;", r.stderr)
        for e in events_of(r.stdout):
            self.assertEqual(e["kind"], "runq")
            self.assertGreaterEqual(e["seconds"], 0.010)

    @unittest.skipUnless(os.access(tt.DELAY_SERVER, os.X_OK), "delay_server not built")
    def test_slow_requests_name_server_and_port_and_nothing_below(self):
        """slow --request 10ms: a server answering after 20 ms gives one
        event per request on each side, one answering after 1 ms none."""
        cg = h.Cgroups()
        self.addCleanup(cg.cleanup)
        a, q, b = cg.make("slowsrv"), cg.make("fastsrv"), cg.make("client")
        A, Q, B = cg.rel(a), cg.rel(q), cg.rel(b)
        srv, port = tt.start_delay_server(cg, a)
        fast, fport = tt.start_delay_server(cg, q, delay_ms=1)
        slow = Background("slow", "--request", "10ms", "--json", "-c", h.TEST_PREFIX + "*")
        self.addCleanup(slow.kill)
        slow.wait_ready()
        time.sleep(0.5)
        tt.run_in(cg, b, tt.CLIENT, *client_args(port, fport))
        time.sleep(0.3)
        res = slow.finish(signal.SIGINT)
        served, served_fast = tt.stop_delay_server(srv), tt.stop_delay_server(fast)
        self.assertEqual(res.returncode, 0, res.stderr)
        n = CONNS * REQS
        self.assertEqual((served["requests"], served_fast["requests"]), (n, n))
        self.assertIn("watching request >= 10.000 ms;", res.stderr)
        self.assertIn(" 0 dropped", res.stderr)
        events = events_of(res.stdout)
        by = {}
        for e in events:
            by.setdefault((e["kind"], e["cgroup"], e["direction"], e["port"]), []).append(e)
        print("\n  slow --request 10ms: %s" % {k: len(v) for k, v in by.items()})
        # nothing from the 1 ms server, no other kind: exactly the 20 ms
        # server's requests, once as its own (inbound), once as the client's
        self.assertEqual(set(by), {("request", A, "inbound", port), ("request", B, "outbound", port)})
        inb, outb = by[("request", A, "inbound", port)], by[("request", B, "outbound", port)]
        self.assertEqual((len(inb), len(outb)), (n, n))
        # the task that answered: a thread of the server
        self.assertEqual({(e["pid"], e["comm"]) for e in inb}, {(srv.pid, "delay_server")})
        for e in inb + outb:
            self.assertGreaterEqual(e["seconds"], tt.DELAY_S)
        for side in (inb, outb):
            med = statistics.median(e["seconds"] for e in side)
            self.assertAlmostEqual(med, tt.DELAY_S, delta=0.1 * tt.DELAY_S)
        self.assertNotIn(Q, {e["cgroup"] for e in events})
        self.assertNotIn(fport, {e["port"] for e in events})

    def test_bad_threshold(self):
        r = kp("slow", "--runq", "fast")
        self.assertEqual(r.returncode, 64)
        self.assertIn("--runq 'fast'", r.stderr)


class CheckTest(unittest.TestCase):
    def test_check_passes_and_lists_features(self):
        r = kp("check")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        for feat in ("privileges", "btf", "cgroup_v2", "psi", "tp_btf", "runq_source", "bpf_stats",
                     "sched_switch"):
            self.assertRegex(r.stdout, r"(?m)^%s\s+ok" % feat)
        j = json.loads(kp("check", "--json").stdout)
        self.assertTrue(j["ok"])
        self.assertIn("sched_switch", {f["feature"] for f in j["features"]})
        self.assertIn("sched_info", [f for f in j["features"] if f["feature"] == "runq_source"][0]
                      ["detail"])

    def test_check_not_root(self):
        def drop():
            os.setgroups([])
            os.setgid(65534)
            os.setuid(65534)
        r = kp("check", preexec=drop)
        self.assertEqual(r.returncode, 69)
        self.assertRegex(r.stdout, r"(?m)^privileges\s+missing")


class ErrorPathsTest(unittest.TestCase):
    def one_line(self, r, code, words):
        self.assertEqual(r.returncode, code, r.stdout + r.stderr)
        self.assertTrue(r.stderr.startswith("kpulse: "), r.stderr)
        self.assertIn(words, r.stderr.splitlines()[0])

    def test_usage_errors_exit_64(self):
        self.one_line(kp("snapshot", "-d", "soon"), 64, "-d 'soon'")
        self.one_line(kp("snapshot", "--format", "xml"), 64, "--format 'xml'")
        self.one_line(kp("latency", "warp"), 64, "unknown latency 'warp'")
        self.one_line(kp("latency", "bogus"), 64,
                      "expected runq, rtt, connect, request or reclaim")
        self.one_line(kp("latency"), 64, "which latency")
        self.one_line(kp("latency", "runq", "extra"), 64, "unexpected argument 'extra'")
        self.one_line(kp("latency", "runq", "--direction", "in"), 64,
                      "--direction applies to request latency only")
        self.one_line(kp("latency", "request", "--direction", "sideways"), 64,
                      "--direction 'sideways'")
        self.one_line(kp("latency", "reclaim", "-i", "1x"), 64, "-i '1x'")
        self.one_line(kp("slow", "--request", "xyz"), 64, "--request 'xyz'")
        self.one_line(kp("slow", "--reclaim", "0"), 64, "--reclaim '0'")
        self.one_line(kp("slow", "--runq", "10ms", "--reclaim", "2h"), 64, "--reclaim '2h'")
        self.one_line(kp("slow", "extra"), 64, "unexpected argument 'extra'")
        for r in (kp("latency", "bogus"), kp("slow", "--request", "xyz"), kp("slow", "--nope"),
                  kp("latency", "runq", "--nope")):
            self.assertEqual(r.returncode, 64)
            self.assertIn("usage: kpulse " + r.args[1], r.stderr)
        self.one_line(kp("top", "-i", "0"), 64, "-i '0'")
        self.one_line(kp("bogus"), 64, "unknown command")
        self.assertEqual(kp("snapshot", "--nope").returncode, 64)

    def test_missing_tracepoint_exits_69(self):
        """A kind whose programs cannot run here (a kernel before 6.3 has no
        socket length tracepoints: hidden from the loader) says which."""
        env = dict(os.environ, KPULSE_TEST_HIDE_TP="sock_send_length,sock_recv_length")
        for cmd in (["latency", "request"], ["slow", "--reclaim", "1ms", "--request", "1s"]):
            r, ids = h.run_owned([h.KPULSE] + cmd, env=env)
            self.assertEqual(h.wait_released(ids), set())
            # after the loader's own line per program that does not run
            self.assertEqual(r.returncode, 69, r.stderr)
            self.assertIn("kpulse: %s: request needs the sock_send_length tracepoint" % cmd[0],
                          r.stderr.splitlines()[-1])

    def test_from_nothing_exits_1(self):
        self.one_line(kp("snapshot", "--from", "http://127.0.0.1:%d" % h.free_port()), 1, "--from")

    def test_not_root_exits_77(self):
        def drop():
            os.setgroups([])
            os.setgid(65534)
            os.setuid(65534)
        for cmd in (["snapshot", "-d", "1s"], ["latency", "runq"], ["top", "-n", "1"],
                    ["latency", "request"], ["slow", "--request", "10ms", "--reclaim", "1ms"]):
            self.one_line(kp(*cmd, preexec=drop), 77, "root")

    def test_help(self):
        for cmd in ("snapshot", "top", "latency", "check", "daemon", "slow"):
            r = kp("help", cmd)
            self.assertEqual(r.returncode, 0)
            self.assertIn("usage: kpulse " + cmd, r.stdout)
        r = kp("latency", "--help")
        self.assertEqual(r.returncode, 0)
        for kind in ("runq", "rtt", "connect", "request", "reclaim", "--direction", "examples:"):
            self.assertIn(kind, r.stdout)
        r = kp("help", "slow")
        for flag in ("--runq", "--request", "--reclaim", "--json", "examples:"):
            self.assertIn(flag, r.stdout)


if __name__ == "__main__":
    unittest.main()
