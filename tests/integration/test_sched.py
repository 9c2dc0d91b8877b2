"""Scheduler figures against the kernel's own accounting: cgroup cpu.stat
for CPU time, /proc/<pid>/status for context switches; run-queue latency
contended vs mostly sleeping."""
import os
import time
import unittest

import harness as h

WINDOW = 6.0
# scrapes go on this much longer than WINDOW: pairs of them WINDOW apart
SPAN = 3.0


def run_delay_ns(pid):
    """The kernel's own run-queue wait of a process: the sum over its
    threads of /proc/<pid>/task/<tid>/schedstat field 2 (ns)."""
    total = 0
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/schedstat" % (pid, tid)) as f:
                total += int(f.read().split()[1])
        except FileNotFoundError:
            pass
    return total


def task_switches(pid):
    """Sum of voluntary and involuntary switches over a process's threads."""
    vol = invol = 0
    for tid in os.listdir("/proc/%d/task" % pid):
        with open("/proc/%d/task/%s/status" % (pid, tid)) as f:
            for line in f:
                if line.startswith("voluntary_ctxt_switches"):
                    vol += int(line.split()[1])
                elif line.startswith("nonvoluntary_ctxt_switches"):
                    invol += int(line.split()[1])
    return vol, invol


class SchedTest(unittest.TestCase):
    env = None
    attach = "tp_btf"
    # programs that must run: with sched_info the kernel's enqueue times
    # are read at sched_switch and no wakeup program is attached
    programs = ("sched_switch",)
    # where sched_switch's prev_state comes from (bpf/core_fixes.bpf.h)
    switch_state = "argument"
    # run-queue waits from sched_info count only the part of a wait after
    # the task's last migration (the kernel moves the earlier part into
    # run_delay as it dequeues the task): 3-6% short here with 16
    # spinners on 2 CPUs, 11% while other work loaded the host (more
    # migrations); our own wakeup stamps see the whole wait
    runq_low = 0.20

    def setUp(self):
        self.cg = h.Cgroups()
        self.addCleanup(self.cg.cleanup)
        self.busy = self.cg.make("busy")
        self.idle = self.cg.make("idle")

    def start(self, *args):
        self.d = h.Daemon(*args, env=self.env)
        self.addCleanup(self.d.stop)

    def labels(self, path):
        return {"cgroup": self.cg.rel(path)}

    def snapshot(self, sleepy_pid, busy_pid):
        """One instant: kernel figures and a scrape, as close together as
        possible (the scrape reads the maps on demand)."""
        k = (h.cpu_usage_usec(self.busy), h.cpu_usage_usec(self.idle), task_switches(sleepy_pid),
             run_delay_ns(busy_pid))
        m = self.d.metrics()
        k2 = (h.cpu_usage_usec(self.busy), h.cpu_usage_usec(self.idle), run_delay_ns(busy_pid))
        # midpoint of the two kernel reads brackets the scrape; the CPU
        # figures' half-widths (what the cgroups ran between the two reads,
        # large only on a loaded host) bound how far the moment the maps
        # were read can be from the midpoint
        return ((k[0] + k2[0]) / 2e6, (k[1] + k2[1]) / 2e6, k[2], (k[3] + k2[2]) / 2e9,
                (k2[0] - k[0]) / 2e6, (k2[1] - k[1]) / 2e6), m

    def test_cpu_runq_and_labels(self):
        # no timed collection in the test's span: a scrape then always
        # reads the maps itself (one within 50 ms of a collection would
        # serve that collection's figures, up to 1% old here)
        self.start("--interval", "1m")
        ncpu = os.cpu_count()
        spin = self.cg.run(self.busy, [h.WORKLOAD, "spin", str(8 * ncpu), str(WINDOW + SPAN + 5)])
        sleepy = self.cg.run(self.idle, [h.WORKLOAD, "sleepy", str(WINDOW + SPAN + 5), "4000", "1000"])
        # then the daemon and this test at nice -10: they get a CPU at once,
        # so a scrape sits tight between the two cpu.stat reads that
        # bracket it (the workloads, started before, stay at nice 0)
        prio = os.getpriority(os.PRIO_PROCESS, 0)
        os.setpriority(os.PRIO_PROCESS, 0, -10)
        self.addCleanup(os.setpriority, os.PRIO_PROCESS, 0, prio)
        os.setpriority(os.PRIO_PROCESS, self.d.proc.pid, -10)
        time.sleep(2)
        snaps = []
        t0 = time.monotonic()
        while time.monotonic() - t0 < WINDOW + SPAN:
            snaps.append((time.monotonic(),) + self.snapshot(sleepy.pid, spin.pid))
            time.sleep(0.2)
        (_, (b0, i0, sw0, rd0, _, _), m0), (_, (b1, i1, sw1, rd1, _, _), m1) = snaps[0], snaps[-1]

        # (a) CPU seconds within 1% of the cgroup's own cpu.stat, over
        # every pair of scrapes at least WINDOW apart: each scrape is a
        # fresh read of the maps, so a read that raced a flush of pending
        # figures (late, or counted twice) shows in the pairs it is in
        name = "kpulse_container_cpu_seconds_total"
        pairs = worst_b = worst_i = 0
        for a, (ta, ka, ma) in enumerate(snaps):
            for tb, kb_, mb in snaps[a + 1:]:
                if tb - ta < WINDOW:
                    continue
                pairs += 1
                for path, col in ((self.busy, 0), (self.idle, 1)):
                    got = h.value(mb, name, **self.labels(path)) - h.value(ma, name, **self.labels(path))
                    want = kb_[col] - ka[col]
                    # 1% of cpu.stat, beyond what the brackets leave open
                    slack = ka[4 + col] + kb_[4 + col]
                    err = max(0.0, abs(got - want) - slack) / want
                    if col == 0:
                        worst_b = max(worst_b, err)
                    else:
                        worst_i = max(worst_i, err)
                    self.assertLess(err, 0.01, "%s: kpulse %.4fs cpu.stat %.4fs over %.1fs"
                                    % (self.cg.rel(path), got, want, tb - ta))
        print("\n  cpu over %d pairs of %d scrapes: worst busy %.3f%%, idle %.3f%%"
              % (pairs, len(snaps), 100 * worst_b, 100 * worst_i))
        self.assertGreaterEqual(pairs, 20)
        kb = h.value(m1, name, **self.labels(self.busy)) - h.value(m0, name, **self.labels(self.busy))
        ki = h.value(m1, name, **self.labels(self.idle)) - h.value(m0, name, **self.labels(self.idle))
        print("  cpu busy: kpulse %.3fs cpu.stat %.3fs; idle: kpulse %.3fs cpu.stat %.3fs"
              % (kb, b1 - b0, ki, i1 - i0))
        span = snaps[-1][0] - snaps[0][0]
        # it really was busy (a share of the CPUs: other work on a shared host)
        self.assertGreater(b1 - b0, 0.15 * ncpu * span)

        # once the workloads are over, every slice is in: each cgroup's
        # whole CPU time (kpulse saw them from birth) to 0.1% of cpu.stat,
        # give or take one slice: the harness moves each process into its
        # cgroup before exec, and the rest of that slice (the exec, 1-3 ms
        # here) is the new cgroup's in cpu.stat but the old one's in kpulse,
        # which charges a slice to the cgroup it began in
        spin.wait()
        sleepy.wait()
        time.sleep(0.3)
        mf = self.d.metrics()
        for path in (self.busy, self.idle):
            got = h.value(mf, name, **self.labels(path))
            want = h.cpu_usage_usec(path) / 1e6
            print("  %s whole life: kpulse %.4fs cpu.stat %.4fs" % (self.cg.rel(path), got, want))
            self.assertAlmostEqual(got, want, delta=0.001 * want + 0.005)

        # context switches of the single-threaded sleeper against /proc,
        # split by prev_state from the flavour this kernel was given
        self.assertEqual(self.d.health()[1]["switch_state_source"], self.switch_state)
        sw = "kpulse_container_context_switches_total"
        vol = (h.value(m1, sw, kind="voluntary", **self.labels(self.idle))
               - h.value(m0, sw, kind="voluntary", **self.labels(self.idle)))
        kvol = sw1[0] - sw0[0]
        print("  sleeper voluntary switches: kpulse %d /proc %d" % (vol, kvol))
        self.assertGreater(kvol, 100)
        self.assertAlmostEqual(vol, kvol, delta=0.05 * kvol + 5)
        invol_busy = (h.value(m1, sw, kind="involuntary", **self.labels(self.busy))
                      - h.value(m0, sw, kind="involuntary", **self.labels(self.busy)))
        self.assertGreater(invol_busy, 100)

        # (b) the contended cgroup waits clearly longer at p99
        rq = "kpulse_container_runqueue_latency_seconds"
        hb = h.hist_delta(h.histogram(m1, rq, **self.labels(self.busy)),
                          h.histogram(m0, rq, **self.labels(self.busy)))
        hi = h.hist_delta(h.histogram(m1, rq, **self.labels(self.idle)),
                          h.histogram(m0, rq, **self.labels(self.idle)))
        pb, pi = h.quantile(hb, 0.99), h.quantile(hi, 0.99)
        print("  runq p99 busy %.6fs (n=%d), idle %.6fs (n=%d)" % (pb, hb[-1][1], pi, hi[-1][1]))
        self.assertGreater(hb[-1][1], 100)
        self.assertGreater(hi[-1][1], 100)
        # `le` bounds step by 2-2.5x: on a loaded host the idle cgroup's rare
        # long waits can reach the busy one's p99 bucket (a tie, seen at
        # 50 ms), so the p99 may not be lower and the means (from
        # _sum/_count, not quantised) must differ twofold
        self.assertGreaterEqual(pb, pi)

        def mean(path):
            lab = self.labels(path)
            s = h.value(m1, rq + "_sum", **lab) - h.value(m0, rq + "_sum", **lab)
            n = h.value(m1, rq + "_count", **lab) - h.value(m0, rq + "_count", **lab)
            return s / n
        print("  runq mean busy %.6fs idle %.6fs" % (mean(self.busy), mean(self.idle)))
        self.assertGreater(mean(self.busy), 2 * mean(self.idle))

        # the busy cgroup's total wait against the kernel's own schedstat
        # run_delay of its threads (the only tasks in it)
        lab = self.labels(self.busy)
        waited = h.value(m1, rq + "_sum", **lab) - h.value(m0, rq + "_sum", **lab)
        print("  runq total wait busy: kpulse %.3fs schedstat run_delay %.3fs" % (waited, rd1 - rd0))
        self.assertGreater(rd1 - rd0, 1.0)
        self.assertLess(waited, 1.02 * (rd1 - rd0))
        self.assertGreater(waited, (1 - self.runq_low) * (rd1 - rd0))

        # (c) labels
        for path in (self.busy, self.idle):
            (labels, _), = h.series(m1, name, **self.labels(path))
            self.assertEqual(labels["runtime"], "cgroup")
            self.assertEqual(labels["container"], self.cg.rel(path))
            self.assertEqual(labels["container_id"], str(os.stat(path).st_ino))

        # node figures cover at least what the two cgroups used
        node = h.value(m1, "kpulse_node_cpu_seconds_total") - h.value(m0, "kpulse_node_cpu_seconds_total")
        self.assertGreaterEqual(node, 0.97 * (kb + ki))
        self.assertLessEqual(node, ncpu * span * 1.1)
        nh = h.histogram(m1, "kpulse_node_runqueue_latency_seconds")
        self.assertGreaterEqual(nh[-1][1], hb[-1][1] + hi[-1][1])

        # the programs ran and their cost is exported
        for prog in self.programs:
            self.assertGreater(h.value(m1, "kpulse_bpf_program_runs_total", program=prog), 0)
            self.assertGreater(h.value(m1, "kpulse_bpf_program_run_seconds_total", program=prog), 0)
            self.assertEqual(h.value(m1, "kpulse_bpf_program_attached", program=prog,
                                     attach=self.attach), 1)

    def test_gone_cgroups_leave_maps_and_output(self):
        self.start()
        gone = self.cg.make("shortlived")
        p = self.cg.run(gone, [h.WORKLOAD, "spin", "1", "1"])
        p.wait()
        rel = self.cg.rel(gone)
        deadline = time.time() + 5
        while time.time() < deadline and not h.series(self.d.metrics(),
                                                     "kpulse_container_cpu_seconds_total", cgroup=rel):
            time.sleep(0.2)
        m0 = self.d.metrics()
        self.assertEqual(len(h.series(m0, "kpulse_container_cpu_seconds_total", cgroup=rel)), 1)
        # its figures may still wait in a CPU's pending slot (two per CPU):
        # two other cgroups on every CPU push them into cg_stats
        cgid = os.stat(gone).st_ino
        for i in range(2):
            other = self.cg.make("pusher%d" % i)
            for cpu in range(os.cpu_count()):
                self.cg.run(other, ["taskset", "-c", str(cpu), h.WORKLOAD, "spin", "1", "0.02"]).wait()
        self.assertIn(cgid, h.map_u64_keys(self.d.proc.pid, "cg_stats"))
        os.rmdir(gone)
        self.cg.made.remove(gone)
        time.sleep(1.5)
        m1 = self.d.metrics()
        self.assertEqual(h.series(m1, "kpulse_container_cpu_seconds_total", cgroup=rel), [])
        self.assertGreaterEqual(h.value(m1, "kpulse_containers_removed_total"), 1)
        # the entry was deleted from the kernel map too
        self.assertNotIn(cgid, h.map_u64_keys(self.d.proc.pid, "cg_stats"))


class SchedRawTpTest(SchedTest):
    """The same figures through the raw_tp fallback."""
    env = {"KPULSE_FORCE_RAW_TP": "1"}
    attach = "raw_tp"

    def test_gone_cgroups_leave_maps_and_output(self):
        self.skipTest("covered by the tp_btf variant; map GC does not depend on attach type")


class SchedTaskStateTest(SchedRawTpTest):
    """Kernels before 5.18 (sched_switch without prev_state): the task's own
    state field through CO-RE (core_fixes.bpf.h), here task_struct.__state."""
    env = {"KPULSE_TEST_SWITCH_STATE_FIELD": "1"}
    attach = "tp_btf"
    switch_state = "__state"


class SchedOwnTimestampsTest(SchedRawTpTest):
    """Kernels without CONFIG_SCHED_INFO: enqueue times of our own from the
    wakeup programs, in task storage."""
    env = {"KPULSE_NO_SCHED_INFO": "1"}
    runq_low = 0.05
    attach = "tp_btf"
    programs = ("sched_switch", "sched_wakeup")


class SchedOwnTimestampsRawTpTest(SchedRawTpTest):
    """...and through raw tracepoints, in the pid-keyed hash."""
    env = {"KPULSE_NO_SCHED_INFO": "1", "KPULSE_FORCE_RAW_TP": "1"}
    runq_low = 0.05
    attach = "raw_tp"
    programs = ("sched_switch", "sched_wakeup")


if __name__ == "__main__":
    unittest.main()
