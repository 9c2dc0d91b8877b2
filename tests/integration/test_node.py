"""The kpulse_node_ series against the real prometheus-node-exporter
(Debian's package, 1.5), started here on a free loopback port, and a
statfs that hangs on a real FUSE mount.

Every kpulse_node_X series that comes from node_exporter's collectors is
held to node_exporter's node_X with the same labels, and every node_X of
the families kpulse covers must exist in kpulse. The two are scraped
around kpulse's tick: node_exporter (A), then, more than an interval
later, kpulse (whose figures are from its last tick, so read after A),
then node_exporter again (B). So a counter must lie in [A, B] exactly, a
static value must equal both, and a gauge must lie in [min(A,B),
max(A,B)] widened by the tolerance of its kind below (what moves on a
busy 2-core machine between two reads a few milliseconds apart). A round
in which the mount table or the interfaces changed (other tests start
containers) is not judged but repeated; three judged rounds must pass.

Mount tests run in a private mount namespace (mountns.py), so no other
process on the host ever meets the hung mount.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request

import harness

NODE_EXPORTER = shutil.which("prometheus-node-exporter")
MOUNTNS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "mountns.py")
INTERVAL = 1.0
MiB = 1 << 20

# node_exporter 1.5's upstream defaults. Debian's package changes two (it
# excludes lo, and /run, /mnt and /media): the test passes upstream's.
MNT_EXCLUDE = r"^/(dev|proc|run/credentials/.+|sys|var/lib/docker/.+|var/lib/containers/storage/.+)($|/)"
FSTYPE_EXCLUDE = (r"^(autofs|binfmt_misc|bpf|cgroup2?|configfs|debugfs|devpts|devtmpfs|fusectl|"
                  r"hugetlbfs|iso9660|mqueue|nsfs|overlay|proc|procfs|pstore|rpc_pipefs|"
                  r"securityfs|selinuxfs|squashfs|sysfs|tracefs)$")
COLLECTORS = ["meminfo", "loadavg", "stat", "diskstats", "netdev", "filesystem", "processes",
              "cpu"]
MAX_MOUNTS = 256  # KP_NODE_MAX_MOUNTS

# node_exporter families kpulse shows under kpulse_node_ (checked both ways)
COVERED = re.compile(
    r"^node_(memory_\w+|load(1|5|15)|boot_time_seconds|forks_total|intr_total|"
    r"procs_(running|blocked)|processes_(pids|threads|max_processes|max_threads)|"
    r"disk_(reads_completed|reads_merged|read_bytes|read_time_seconds|writes_completed|"
    r"writes_merged|written_bytes|write_time_seconds|io_time_seconds|"
    r"io_time_weighted_seconds|discards_completed|discards_merged|discarded_sectors|"
    r"discard_time_seconds|flush_requests|flush_requests_time_seconds)_total|disk_io_now|"
    r"network_(receive|transmit)_(bytes|packets|errs|drop|fifo|frame|compressed|multicast|"
    r"colls|carrier)_total|filesystem_(size_bytes|free_bytes|avail_bytes|files|files_free|"
    r"readonly|device_error))$")
# kpulse_node_ series of kpulse's own (BPF, PSI, bounds): not node_exporter's
KPULSE_ONLY = re.compile(
    r"^kpulse_node_(cpu_seconds_total|context_switches_total|runqueue_latency_seconds_\w+|"
    r"memory_reclaim_seconds_(bucket|sum|count)|oom_kills_total|pressure_\w+|tcp_\w+|"
    r"socket_\w+|request_latency_seconds_\w+|series_left_out|read_errors_total|"
    r"mounts_stuck|statfs_stale_ticks_total|cpus|health_score)$")

# Tolerances beyond [min(A,B), max(A,B)], by kind. Counters and static
# values have none.
EXACT = re.compile(r"^(memory_(MemTotal|SwapTotal|VmallocTotal|CommitLimit|Hugepagesize)_bytes|"
                   r"memory_HugePages_Total|boot_time_seconds|processes_max_(processes|threads)|"
                   r"filesystem_(size_bytes|files|readonly|device_error))$")
# Memory and free space: 64 MiB, or 1% of the memory / 0.1% of the file
# system when that is more (a compiler started or a file written by
# whatever else runs while the round's 1.5 s go by).
TOLERANCE = {
    "memory": lambda B, labels: max(64 * MiB, 0.01 * B[("node_memory_MemTotal_bytes",
                                                        frozenset())]),
    "load": lambda B, labels: 0.01,       # two decimals in /proc/loadavg
    "procs": lambda B, labels: 8,         # runnable/blocked tasks right now
    "processes": lambda B, labels: 32,    # processes and threads started or ended
    "fs_bytes": lambda B, labels: max(64 * MiB,
                                      0.001 * B[("node_filesystem_size_bytes", labels)]),
    "fs_files": lambda B, labels: 2048,   # inodes made or freed
    "io_now": lambda B, labels: 16,       # I/Os in flight
}


def kind(x):
    """x: the name after node_ / kpulse_node_."""
    if EXACT.match(x):
        return "exact"
    if x.endswith("_total"):
        return "counter"
    for prefix, k in (("memory_", "memory"), ("load", "load"), ("procs_", "procs"),
                      ("processes_", "processes"), ("filesystem_files_free", "fs_files"),
                      ("filesystem_", "fs_bytes"), ("disk_io_now", "io_now")):
        if x.startswith(prefix):
            return k
    raise AssertionError("no tolerance kind for %s" % x)


class NodeExporter:
    """prometheus-node-exporter on a free loopback port; stopped by PID."""

    def __init__(self):
        self.port = harness.free_port()
        self.err = tempfile.TemporaryFile()
        argv = [NODE_EXPORTER, "--web.listen-address=127.0.0.1:%d" % self.port,
                "--collector.disable-defaults"] + ["--collector." + c for c in COLLECTORS] + [
                "--collector.filesystem.mount-points-exclude=" + MNT_EXCLUDE,
                "--collector.filesystem.fs-types-exclude=" + FSTYPE_EXCLUDE,
                "--collector.netdev.device-exclude="]
        self.proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=self.err)
        deadline = time.time() + 20
        while True:
            try:
                self.scrape()
                return
            except OSError:
                if self.proc.poll() is not None or time.time() > deadline:
                    self.err.seek(0)
                    raise RuntimeError("node_exporter did not start: %s" %
                                       self.err.read().decode()[-2000:])
                time.sleep(0.1)

    def scrape(self):
        url = "http://127.0.0.1:%d/metrics" % self.port
        with urllib.request.urlopen(url, timeout=10) as r:
            return harness.parse_metrics(r.read().decode())

    def stop(self):
        harness.end_process(self.proc)
        self.err.close()


def host_state():
    """What must not change during a round for the series sets to match."""
    with open("/proc/self/mountinfo") as f:
        mounts = f.read()
    with open("/proc/net/dev") as f:
        devs = sorted(l.split(":")[0].strip() for l in f if ":" in l)
    return mounts, devs


def compare(A, K, B):
    """Problems found, and how far beyond its [A, B] range each kind went."""
    problems, excess = [], {}
    for (name, labels), k in sorted(K.items(), key=lambda i: (i[0][0], sorted(i[0][1]))):
        if not name.startswith("kpulse_node_") or KPULSE_ONLY.match(name):
            continue
        ne = name[len("kpulse_"):]
        if not COVERED.match(ne):
            problems.append("%s: not a node_exporter series, nor listed as kpulse's own" % name)
            continue
        a, b = A.get((ne, labels)), B.get((ne, labels))
        if a is None or b is None:
            problems.append("%s%s: node_exporter has no such series" % (ne, dict(labels)))
            continue
        x, lo, hi = ne[len("node_"):], min(a, b), max(a, b)
        kd = kind(x)
        if kd == "exact":
            if not a == k == b:
                problems.append("%s%s: kpulse %r, node_exporter %r then %r (should be equal)"
                                % (ne, dict(labels), k, a, b))
            continue
        if kd == "counter":
            eps = 1e-9 * max(abs(hi), 1)  # node_exporter's ms * 0.001 in float64
            if not a - eps <= k <= b + eps:
                problems.append("%s%s: counter kpulse %r outside node_exporter's [%r, %r]"
                                % (ne, dict(labels), k, a, b))
            continue
        out = max(lo - k, k - hi, 0)
        excess[kd] = max(excess.get(kd, 0), out)
        tol = TOLERANCE[kd](B, labels)
        if out > tol:
            problems.append("%s%s: kpulse %r, node_exporter %r then %r (tolerance %r)"
                            % (ne, dict(labels), k, a, b, tol))
    for (name, labels) in B:
        if COVERED.match(name) and ("kpulse_" + name, labels) not in K:
            problems.append("%s%s: node_exporter has it, kpulse does not" % (name, dict(labels)))
    cpus = {dict(l)["cpu"] for (n, l) in B if n == "node_cpu_seconds_total"}
    if K.get(("kpulse_node_cpus", frozenset())) != len(cpus):
        problems.append("kpulse_node_cpus %r, node_exporter shows %d CPUs"
                        % (K.get(("kpulse_node_cpus", frozenset())), len(cpus)))
    return problems, excess


@unittest.skipUnless(NODE_EXPORTER, "prometheus-node-exporter not installed")
class NodeExporterParity(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = harness.Daemon()
        try:
            cls.ne = NodeExporter()
        except Exception:
            cls.d.stop()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.ne.stop()
        cls.d.stop()

    def test_every_series_equals_node_exporter(self):
        judged, rounds, worst = 0, 0, {}
        while judged < 3 and rounds < 10:
            rounds += 1
            s0 = host_state()
            A = self.ne.scrape()
            time.sleep(INTERVAL + 0.5)  # kpulse's last tick is after A
            K = self.d.metrics()
            B = self.ne.scrape()
            if host_state() != s0:
                continue  # mounts or interfaces changed under the round
            judged += 1
            problems, excess = compare(A, K, B)
            self.assertEqual(problems, [], "round %d" % rounds)
            for kd, v in excess.items():
                worst[kd] = max(worst.get(kd, 0), v)
            n = sum(1 for (name, _) in K if name.startswith("kpulse_node_")
                    and not KPULSE_ONLY.match(name))
            self.assertGreater(n, 100)  # not a comparison of nothing
        self.assertEqual(judged, 3, "the mount table or the interfaces changed in %d of %d "
                         "rounds" % (rounds - judged, rounds))
        print("\n  node_exporter parity: 3 rounds, %d series each; beyond [A, B]: %s"
              % (n, ", ".join("%s %g" % kv for kv in sorted(worst.items()))), file=sys.stderr)

    def test_names_and_shape(self):
        text = self.d.metrics_text()
        m = harness.parse_metrics(text)
        with open("/proc/meminfo") as f:
            total = int(f.readline().split()[1]) * 1024
        self.assertEqual(harness.value(m, "kpulse_node_memory_MemTotal_bytes"), total)
        self.assertIn("# TYPE kpulse_node_load1 gauge", text)
        self.assertIn("# TYPE kpulse_node_network_receive_bytes_total counter", text)
        self.assertIn('kpulse_node_filesystem_size_bytes{device="', text)
        self.assertIn('mountpoint="/"}', text)
        # the sockets' byte sums have their own name, not a device-less
        # series in node_exporter's per-interface family
        for lab, _ in harness.series(m, "kpulse_node_network_receive_bytes_total"):
            self.assertIn("device", lab)
        self.assertIn("kpulse_node_socket_receive_bytes_total ", text)
        if shutil.which("promtool"):
            r = subprocess.run(["promtool", "check", "metrics"], input=text,
                               capture_output=True, text=True)
            # only its style lint on node_exporter's own meminfo names
            lint = [l for l in (r.stdout + r.stderr).splitlines() if l.strip() and not re.match(
                r"kpulse_node_memory_\w+ metric names should be written in 'snake_case'", l)]
            self.assertEqual(lint, [])
            self.assertIn(r.returncode, (0, 3))


class MountNamespace:
    """mountns.py: a private mount namespace and its commands."""

    def __init__(self):
        self.proc = subprocess.Popen([sys.executable, MOUNTNS], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline().strip()
        if line != "ready":
            self.proc.kill()
            raise RuntimeError("mountns.py did not start: %r" % line)

    def do(self, cmd):
        self.proc.stdin.write(cmd + "\n")
        self.proc.stdin.flush()
        r = self.proc.stdout.readline().strip()
        if r != "ok":
            raise AssertionError("mountns %s: %s" % (cmd, r))

    def nsenter(self):
        return ["nsenter", "--mount=/proc/%d/ns/mnt" % self.proc.pid, "--"]

    def quit(self):
        if self.proc.poll() is None:
            try:
                self.proc.stdin.write("quit\n")
                self.proc.stdin.flush()
                self.proc.wait(timeout=10)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait()


def fs_series(m, name, mnt):
    return [v for lab, v in harness.series(m, name) if lab.get("mountpoint") == mnt]


def threads(pid):
    with open("/proc/%d/status" % pid) as f:
        return int([l for l in f if l.startswith("Threads:")][0].split()[1])


class HungMount(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="%s-node-" % harness.TEST_PREFIX)
        self.ns = MountNamespace()
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.addCleanup(self.ns.quit)
        self.ctl = os.path.join(self.dir, "control")
        self.hang = os.path.join(self.dir, "hang")
        self.ns.do("tmpfs " + self.ctl)
        self.d = harness.Daemon(wrap=self.ns.nsenter())
        self.addCleanup(self.d.stop)

    def release(self):
        """Abort the FUSE connection: hung calls return (also on failure)."""
        if getattr(self, "hung", False) and self.ns.proc.poll() is None:
            self.hung = False
            self.ns.do("release " + self.hang)

    def until(self, cond, timeout, what):
        deadline = time.time() + timeout
        while time.time() < deadline:
            m = self.d.metrics()
            if cond(m):
                return m
            time.sleep(0.2)
        self.fail("%s within %ss" % (what, timeout))

    def test_hung_statfs_never_blocks_the_daemon(self):
        pid = self.d.proc.pid
        self.until(lambda m: fs_series(m, "kpulse_node_filesystem_size_bytes", self.ctl) == [16 * MiB],
                   5, "the control tmpfs")
        base_threads = threads(pid)
        self.ns.do("fuse " + self.hang)
        self.hung = True
        self.addCleanup(self.release)
        # while statfs hangs on it: every scrape answers at once, collections
        # go on, and after node_exporter's 5 s the mount is marked stuck
        t0, worst, seen_stuck, shown_stuck, colls = time.time(), 0.0, None, False, []
        while time.time() - t0 < 15 and (seen_stuck is None or time.time() - seen_stuck < 3):
            t = time.time()
            m = self.d.metrics()
            worst = max(worst, time.time() - t)
            self.assertEqual(self.d.health()[1]["status"], "ok")
            colls.append(harness.value(m, "kpulse_collections_total"))
            self.assertLessEqual(threads(pid), base_threads + 2)
            if seen_stuck is None and harness.value(m, "kpulse_node_mounts_stuck") == 1:
                seen_stuck = time.time()
                self.assertGreaterEqual(seen_stuck - t0, 4.5)
            # the pass that skips it may end after the tick that marked it
            if fs_series(m, "kpulse_node_filesystem_device_error", self.hang) == [1]:
                self.assertIsNotNone(seen_stuck)
                self.assertEqual(fs_series(m, "kpulse_node_filesystem_size_bytes", self.hang), [])
                shown_stuck = True
            time.sleep(0.2)
        self.assertIsNotNone(seen_stuck, "the hung mount was never marked stuck")
        self.assertTrue(shown_stuck, "no device_error 1 for the stuck mount")
        self.assertLess(worst, 1.0, "a scrape waited %.2f s" % worst)
        self.assertGreater(colls[-1], colls[0] + 5)
        health = self.d.health()[1]
        self.assertEqual(health["node"]["mounts_stuck"], 1)
        self.assertTrue(any("statfs" in n for n in health["notes"]), health["notes"])
        # the other mounts are still measured while one is stuck
        free0 = fs_series(self.d.metrics(), "kpulse_node_filesystem_free_bytes", self.ctl)[0]
        self.ns.do("fill %s 4194304" % os.path.join(self.ctl, "f"))
        self.until(lambda m: fs_series(m, "kpulse_node_filesystem_free_bytes", self.ctl) ==
                   [free0 - 4 * MiB], 4, "the control tmpfs's free space to drop by 4 MiB")
        # its FUSE daemon gone, the hung statfs returns (ENOTCONN): not
        # stuck any more, an error; the thread is gone
        self.release()
        m = self.until(lambda m: harness.value(m, "kpulse_node_mounts_stuck") == 0, 4,
                       "the stuck mark to go")
        m = self.until(lambda m: fs_series(m, "kpulse_node_filesystem_device_error", self.hang)
                       == [1], 4, "device_error 1 on the aborted mount")
        self.assertLessEqual(threads(pid), base_threads + 1)
        self.ns.do("umount " + self.hang)
        self.until(lambda m: fs_series(m, "kpulse_node_filesystem_device_error", self.hang) == [],
                   4, "the unmounted file system to leave")


def expected_mounts(pid):
    """Real mounts of process pid's namespace, selected as node_exporter does."""
    seen = set()
    with open("/proc/%d/mountinfo" % pid) as f:
        for line in f:
            left, _, right = line.partition(" - ")
            mnt = re.sub(r"\\([0-7]{3})", lambda g: chr(int(g.group(1), 8)), left.split()[4])
            fstype, src = right.split()[:2]
            if re.match(MNT_EXCLUDE, mnt) or re.match(FSTYPE_EXCLUDE, fstype):
                continue
            seen.add((src, mnt, fstype))
    return seen


class MountsBounded(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="%s-node-" % harness.TEST_PREFIX)
        self.ns = MountNamespace()
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.addCleanup(self.ns.quit)
        self.d = harness.Daemon(wrap=self.ns.nsenter())
        self.addCleanup(self.d.stop)

    def test_more_mounts_than_the_bound_are_counted(self):
        self.ns.do("tmpfs-many %s 300" % self.dir)
        want = len(expected_mounts(self.ns.proc.pid))
        self.assertGreater(want, MAX_MOUNTS)
        deadline = time.time() + 10
        while time.time() < deadline:
            m = self.d.metrics()
            left = harness.value(m, "kpulse_node_series_left_out", kind="mount")
            if left == want - MAX_MOUNTS:
                break
            time.sleep(0.2)
        self.assertEqual(left, want - MAX_MOUNTS)
        shown = {lab["mountpoint"] for lab, _ in
                 harness.series(m, "kpulse_node_filesystem_device_error")}
        self.assertEqual(len(shown), MAX_MOUNTS)
        code, health = self.d.health()
        self.assertEqual(health["node"]["left_out"]["mount"], want - MAX_MOUNTS)
        self.assertEqual((code, health["status"]), (200, "degraded"))
        self.assertIn('kpulse_node_series_left_out{kind="mount"}',
                      [r.get("series") for r in health["reasons"]])
        for i in range(300):
            self.ns.do("umount %s/m%d" % (self.dir, i))
        deadline = time.time() + 10
        while time.time() < deadline and harness.value(
                self.d.metrics(), "kpulse_node_series_left_out", kind="mount"):
            time.sleep(0.2)
        self.assertEqual(harness.value(self.d.metrics(), "kpulse_node_series_left_out",
                                       kind="mount"), 0)
        self.assertNotIn('kpulse_node_series_left_out{kind="mount"}',
                         [r.get("series") for r in self.d.health()[1]["reasons"]])


if __name__ == "__main__":
    unittest.main()
