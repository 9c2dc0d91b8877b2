"""Terminal commands against real cgroups: snapshot (table, json, prom,
--from), latency runq, top in a real terminal (tmux), check, error paths."""
import json
import os
import re
import shutil
import subprocess
import time
import unittest

import harness as h

try:
    import jsonschema
except ImportError:  # pragma: no cover
    jsonschema = None

SCHEMA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "containers.schema.json")


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
        if jsonschema:
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
        self.one_line(kp("latency"), 64, "which latency")
        self.one_line(kp("top", "-i", "0"), 64, "-i '0'")
        self.one_line(kp("bogus"), 64, "unknown command")
        self.assertEqual(kp("snapshot", "--nope").returncode, 64)

    def test_from_nothing_exits_1(self):
        self.one_line(kp("snapshot", "--from", "http://127.0.0.1:%d" % h.free_port()), 1, "--from")

    def test_not_root_exits_77(self):
        def drop():
            os.setgroups([])
            os.setgid(65534)
            os.setuid(65534)
        for cmd in (["snapshot", "-d", "1s"], ["latency", "runq"], ["top", "-n", "1"]):
            self.one_line(kp(*cmd, preexec=drop), 77, "root")

    def test_help(self):
        for cmd in ("snapshot", "top", "latency", "check", "daemon", "slow"):
            r = kp("help", cmd)
            self.assertEqual(r.returncode, 0)
            self.assertIn("usage: kpulse " + cmd, r.stdout)


if __name__ == "__main__":
    unittest.main()
