"""Memory pressure per container against the kernel's own accounting.

A test cgroup with a memory limit reads a file three times its limit
through the page cache, so the kernel reclaims its own pages again and
again (no swap needed, no OOM); an unlimited control next to it runs the
same workload. Reclaim stalls are checked against the limit-hit counter
(v1 memory.failcnt / v2 memory.events max) and the cgroup's PSI memory
time; usage and limit against the cgroup's files. OOM kills are made on
purpose and checked against memory.oom_control / memory.events and the
victims' pids. Works on pure v2 (memory.max) and hybrid hosts (a v1
memory child of our own memory cgroup), see harness.MemCgroups.
"""
import json
import os
import re
import time
import unittest
import urllib.error
import urllib.parse

import harness as h

MIB = 1 << 20
LIMIT = 40 * MIB
FILE_MIB = 3 * LIMIT // MIB
SCAN_SECS = 4
OOM_LIMIT = 32 * MIB


def make_file(path, mib):
    """A file of random bytes, written and then dropped from the page cache,
    so whoever reads it next is charged for its pages."""
    chunk = os.urandom(MIB)
    with open(path, "wb") as f:
        for _ in range(mib):
            f.write(chunk)
        f.flush()
        os.fsync(f.fileno())
        os.posix_fadvise(f.fileno(), 0, 0, os.POSIX_FADV_DONTNEED)


def oom_lines(stderr):
    """The daemon's oom_kill log lines as dicts (logfmt, quoted values)."""
    out = []
    for line in stderr.splitlines():
        if not line.startswith("kpulse: oom_kill "):
            continue
        d = {}
        for k, v in re.findall(r'(\w+)=("(?:[^"\\]|\\.)*"|\S+)', line):
            d[k] = v[1:-1] if v.startswith('"') else v
        out.append(d)
    return out


class MemoryTest(unittest.TestCase):
    env = None
    attach = "tp_btf"

    def setUp(self):
        self.cg = h.MemCgroups()
        if self.cg.layout is None:
            self.skipTest("no memory controller to limit test cgroups with")
        self.addCleanup(self.cg.cleanup)
        self.files = []
        self.addCleanup(self.remove_files)

    def remove_files(self):
        for p in self.files:
            try:
                os.unlink(p)
            except FileNotFoundError:
                pass

    def scratch(self, name, mib):
        # on the repository's file system: a real disk, not tmpfs (tmpfs
        # pages are not reclaimable without swap)
        path = os.path.join(h.ROOT, ".output", "%s-%s.dat" % (h.TEST_PREFIX, name))
        self.files.append(path)
        make_file(path, mib)
        return path

    def labels(self, path):
        return {"cgroup": self.cg.rel(path)}

    def test_reclaim_psi_usage(self):
        lim = self.cg.make_mem("limited", LIMIT)
        ctl = self.cg.make_mem("control")
        f_lim = self.scratch("limited", FILE_MIB)
        f_ctl = self.scratch("control", FILE_MIB)
        self.assertEqual(self.cg.limit(lim), LIMIT)
        self.assertIsNone(self.cg.limit(ctl))
        # exact program run counts below: stats on all along, not sampled
        d = h.Daemon("--config", h.config_file("bpf_stats: always\n"), env=self.env)
        self.addCleanup(d.stop)

        psi0 = self.cg.psi_total_us(lim)
        hits0 = self.cg.limit_hits(lim)
        # one thread on one CPU: PSI's per-CPU weighting then adds nothing,
        # so its memory stall time bounds the reclaim time from above
        pl = self.cg.run_mem(lim, [h.WORKLOAD, "filescan", f_lim, str(SCAN_SECS)], cpu=0)
        pc = self.cg.run_mem(ctl, [h.WORKLOAD, "filescan", f_ctl, str(SCAN_SECS)],
                             cpu=1 if os.cpu_count() > 1 else 0)
        usages = []
        while pl.poll() is None:
            m = d.metrics()
            for _, v in h.series(m, "kpulse_container_memory_usage_bytes", **self.labels(lim)):
                usages.append(v)
            for _, v in h.series(m, "kpulse_container_memory_limit_bytes", **self.labels(lim)):
                self.assertEqual(v, LIMIT)
            time.sleep(0.3)
        self.assertEqual(pl.wait(), 0)
        self.assertEqual(pc.wait(timeout=10), 0)
        hits = self.cg.limit_hits(lim) - hits0
        psi = (self.cg.psi_total_us(lim) - psi0) / 1e6
        # the daemon reads cgroup files at its 1 s ticks: a scrape more than
        # one tick after this read shows figures from between it and now
        before = {(r, k): self.cg.psi_total_us(lim, r, k) / 1e6
                  for r in ("cpu", "memory", "io") for k in ("some", "full")}
        time.sleep(1.3)
        m = d.metrics()

        # usage under the limit all along, as kpulse saw it
        print("\n  usage samples (MiB): %s" % " ".join("%.1f" % (u / MIB) for u in usages))
        self.assertGreaterEqual(len(usages), 3)
        self.assertTrue(all(0 < u <= LIMIT for u in usages), usages)
        self.assertGreater(max(usages), LIMIT / 2)  # it did fill up to the limit

        # reclaim stalls: many, bounded by the limit hits and by PSI
        rc = "kpulse_container_memory_reclaim_seconds"
        n = h.value(m, rc + "_count", **self.labels(lim))
        secs = h.value(m, rc + "_sum", **self.labels(lim))
        print("  limited: %d reclaim stalls, %.4fs; limit hits %d; PSI memory some %.4fs"
              % (n, secs, hits, psi))
        self.assertGreater(n, 100)
        self.assertGreater(secs, 0)
        self.assertLessEqual(n, hits)          # each one follows a failed charge
        # a few failed charges per reclaim (batch, then exact size; large
        # folios that do not fit fall back smaller): a gross undercount only
        self.assertGreaterEqual(n, hits / 32)
        self.assertLessEqual(secs, 1.1 * psi + 0.005)
        self.assertGreaterEqual(secs, 0.2 * psi)
        hist = h.histogram(m, rc, **self.labels(lim))
        self.assertEqual(hist[-1][1], n)  # +Inf bucket == count

        # the unlimited control ran the same workload without a stall: a
        # histogram that never saw an event is not exported at all
        for lab in (self.labels(ctl),):
            self.assertEqual(h.series(m, rc + "_count", **lab), [])
            self.assertEqual(h.series(m, rc + "_bucket", **lab), [])
            self.assertEqual(h.value(m, "kpulse_container_oom_kills_total", **lab), 0)
        # the node histogram holds at least the limited container's stalls
        self.assertGreaterEqual(h.value(m, "kpulse_node_memory_reclaim_seconds_count"), n)

        # PSI: what the cgroup's files said between the read before the
        # scrape and the one after it
        for res in ("cpu", "memory", "io"):
            for kind in ("some", "full"):
                name = "kpulse_container_pressure_%s_%s_seconds_total" % (res, kind)
                k = h.value(m, name, **self.labels(lim))
                f = self.cg.psi_total_us(lim, res, kind) / 1e6
                self.assertGreaterEqual(k, before[res, kind] - 1e-6, msg=name)
                self.assertLessEqual(k, f + 1e-6, msg=name)
        k_mem = h.value(m, "kpulse_container_pressure_memory_some_seconds_total", **self.labels(lim))
        self.assertGreater(k_mem, 0)
        self.assertGreaterEqual(k_mem, psi - 0.001)  # the cgroup is new: total = rise
        for res in ("cpu", "memory", "io"):
            self.assertGreaterEqual(h.value(m, "kpulse_node_pressure_%s_some_seconds_total" % res), 0)

        # usage and limit against the files at a quiet moment: a task that
        # holds still keeps the v2 -> memory cgroup mapping (hybrid hosts)
        hold_l = self.cg.run_mem(lim, [h.WORKLOAD, "alloc", "1", "5"])
        hold_c = self.cg.run_mem(ctl, [h.WORKLOAD, "alloc", "1", "5"])
        time.sleep(0.5)
        for path in (lim, ctl):
            before = self.cg.usage(path)
            time.sleep(1.2)     # files are read at the daemon's ticks
            m = d.metrics()
            after = self.cg.usage(path)
            k = h.value(m, "kpulse_container_memory_usage_bytes", **self.labels(path))
            print("  %s usage: kpulse %d, files %d..%d" % (self.cg.rel(path), k, before, after))
            self.assertGreaterEqual(k, min(before, after) - 256 * 1024)
            self.assertLessEqual(k, max(before, after) + 256 * 1024)
        self.assertEqual(h.value(m, "kpulse_container_memory_limit_bytes", **self.labels(lim)), LIMIT)
        # no limit, no series (not a huge number)
        self.assertEqual(h.series(m, "kpulse_container_memory_limit_bytes", **self.labels(ctl)), [])
        self.assertGreater(h.value(m, "kpulse_container_memory_usage_bytes", **self.labels(ctl)), LIMIT)
        hold_l.kill()
        hold_c.kill()

        for tp in ("mm_vmscan_memcg_reclaim_begin", "mm_vmscan_memcg_reclaim_end",
                   "mm_vmscan_direct_reclaim_begin", "mm_vmscan_direct_reclaim_end",
                   "mark_victim"):
            self.assertEqual(h.value(m, "kpulse_bpf_program_attached", program=tp,
                                     attach=self.attach), 1)
        self.assertGreater(h.value(m, "kpulse_bpf_program_runs_total",
                                   program="mm_vmscan_memcg_reclaim_end"), n - 1)
        for reason in ("mem_map_full", "event_ring_full"):
            self.assertEqual(h.value(m, "kpulse_bpf_events_dropped_total", reason=reason), 0)
        self.assertGreaterEqual(h.value(m, "kpulse_bpf_map_entries", map="mem_stats"), 1)

    def test_oom_kills(self):
        kills = 2
        oom = self.cg.make_mem("oom", OOM_LIMIT)
        other = self.cg.make_mem("bystander")
        d = h.Daemon(env=self.env)
        self.addCleanup(d.stop)
        by = self.cg.run_mem(other, [h.WORKLOAD, "alloc", "8", "30"])
        time.sleep(1.2)  # the bystander is known to kpulse before the kills
        m0 = d.metrics()
        k0 = self.cg.oom_kills(oom)
        pids = []
        for _ in range(kills):
            p = self.cg.run_mem(oom, [h.WORKLOAD, "alloc", str(8 * OOM_LIMIT // MIB), "30"])
            pids.append(p.pid)
            self.assertEqual(p.wait(timeout=30), -9)  # SIGKILL from the OOM killer
        self.assertEqual(self.cg.oom_kills(oom) - k0, kills)
        m1 = d.metrics()

        name = "kpulse_container_oom_kills_total"
        before = {dict(k[1])["cgroup"]: v for k, v in m0.items() if k[0] == name}
        after = {dict(k[1])["cgroup"]: v for k, v in m1.items() if k[0] == name}
        rel = self.cg.rel(oom)
        self.assertEqual(after[rel] - before.get(rel, 0), kills)
        self.assertIn(self.cg.rel(other), after)
        others = {c: v - before.get(c, 0) for c, v in after.items() if c != rel}
        self.assertEqual({c: v for c, v in others.items() if v}, {})
        self.assertEqual(h.value(m1, "kpulse_node_oom_kills_total")
                         - h.value(m0, "kpulse_node_oom_kills_total"), kills)
        self.assertEqual(by.poll(), None)  # the bystander was left alone

        # kpulse first met the cgroup when its tasks were being killed: the
        # kills of that first interval are in its window and cost its health
        path = "/api/v1/containers/" + urllib.parse.quote(rel, safe="")
        # (totals are read at the request, the window at the next ticks)
        deadline, doc = time.time() + 5, None
        while time.time() < deadline:
            try:
                doc = json.loads(d.get(path)[2])
            except urllib.error.HTTPError:
                pass
            if doc and doc["memory"]["oom_kills_window"] == kills:
                break
            time.sleep(0.1)
        self.assertIsNotNone(doc, rel)
        print("\n  api: oom_kills_total %d, in the window %s, health %s"
              % (doc["memory"]["oom_kills_total"], doc["memory"]["oom_kills_window"],
                 doc["health"]["score"]))
        self.assertEqual(doc["memory"]["oom_kills_total"], kills)
        self.assertEqual(doc["memory"]["oom_kills_window"], kills)
        factor = [f for f in doc["health"]["factors"] if f["name"] == "oom_kills"]
        self.assertEqual(factor[0]["penalty"], -40)

        # one structured line per kill on stderr, naming the victim
        _, err = d.stop()
        ev = [e for e in oom_lines(err) if e.get("cgroup") == rel]
        print("\n  events: %s" % ev)
        self.assertEqual(sorted(int(e["pid"]) for e in ev), sorted(pids))
        for e in ev:
            self.assertEqual(e["comm"], "workload")
            self.assertEqual(e["container"], rel)
            self.assertEqual(int(e["cgroup_id"]), os.stat(oom).st_ino)
            self.assertEqual(int(e["memcg_limit_bytes"]), OOM_LIMIT)
            self.assertLessEqual(int(e["memcg_usage_bytes"]), OOM_LIMIT)
            # the victim held most of the cgroup's memory
            self.assertGreater(int(e["anon_rss_bytes"]), OOM_LIMIT // 2)
            self.assertLessEqual(int(e["anon_rss_bytes"]), OOM_LIMIT)
        self.assertEqual(len(oom_lines(err)), kills)


    def test_idle_container_listed_at_once(self):
        """A container that has not run since the daemon started (a task
        that allocated and sleeps) is found from the cgroup tree at the
        first collection, with its memory usage and limit from its own
        files."""
        if self.attach != "tp_btf":
            self.skipTest("discovery does not depend on the attach type")
        idle = self.cg.make_mem("idle", limit=64 * MIB)
        p = self.cg.run_mem(idle, [h.WORKLOAD, "alloc", "41", "60"])
        self.addCleanup(p.kill)
        deadline = time.time() + 10
        while self.cg.usage(idle) < 40 * MIB and time.time() < deadline:
            time.sleep(0.1)
        time.sleep(0.5)  # asleep from now on
        d = h.Daemon(env=self.env)
        self.addCleanup(d.stop)
        m = d.metrics()
        lab = self.labels(idle)
        deadline = time.time() + 3
        while not h.series(m, "kpulse_container_memory_usage_bytes", **lab) and time.time() < deadline:
            time.sleep(0.3)
            m = d.metrics()
        usage = h.value(m, "kpulse_container_memory_usage_bytes", **lab)
        files = self.cg.usage(idle)
        print("\n  idle container: usage kpulse %.1f MiB, files %.1f MiB" % (usage / MIB, files / MIB))
        self.assertAlmostEqual(usage, files, delta=512 * 1024)
        self.assertEqual(h.value(m, "kpulse_container_memory_limit_bytes", **lab), 64 * MIB)
        status, _, body = d.get("/api/v1/containers/" + urllib.parse.quote(self.cg.rel(idle), safe=""))
        self.assertEqual(status, 200)
        self.assertEqual(json.loads(body)["memory"]["limit_bytes"], 64 * MIB)

    def test_shared_v1_memcg_is_nobodys_usage(self):
        """Hybrid hosts: two plain v2 cgroups whose tasks share one v1 memory
        cgroup (the shell's) get no usage series; /health says why; a v2
        cgroup whose tasks have a v1 memory cgroup of their own keeps it."""
        if self.cg.layout != "v1":
            self.skipTest("only hybrid hosts keep memory in v1")
        a, b = self.cg.make("shared_a"), self.cg.make("shared_b")
        own = self.cg.make_mem("own_mem")
        procs = [self.cg.run(a, [h.WORKLOAD, "spin", "1", "20"]),
                 self.cg.run(b, [h.WORKLOAD, "spin", "1", "20"]),
                 self.cg.run_mem(own, [h.WORKLOAD, "alloc", "8", "20"])]
        for p in procs:
            self.addCleanup(p.kill)
        d = h.Daemon(env=self.env)
        self.addCleanup(d.stop)
        time.sleep(2.5)
        m = d.metrics()
        for path in (a, b):
            self.assertTrue(h.series(m, "kpulse_container_cpu_seconds_total", **self.labels(path)))
            self.assertEqual(h.series(m, "kpulse_container_memory_usage_bytes", **self.labels(path)), [])
        self.assertGreater(h.value(m, "kpulse_container_memory_usage_bytes", **self.labels(own)), 7 * MIB)
        _, health = d.health()
        self.assertTrue(any("shared with other tasks" in n for n in health["notes"]), health["notes"])


class MemoryRawTpTest(MemoryTest):
    """The same figures through the raw_tp twins (pid-keyed reclaim slots)."""
    env = {"KPULSE_FORCE_RAW_TP": "1"}
    attach = "raw_tp"


class MemoryDegradedTest(unittest.TestCase):
    def test_memory_program_rejected(self):
        """A memory program the verifier rejects costs that figure only."""
        d = h.Daemon(env={"KPULSE_TEST_BREAK_PROG": "mark_victim"})
        try:
            status, health = d.health()
            self.assertEqual(status, 200)
            self.assertEqual(health["status"], "degraded")
            self.assertIn("mark_victim", health["features_missing"])
            (p,) = [p for p in health["programs"] if p["tracepoint"] == "mark_victim"]
            self.assertFalse(p["attached"])
            self.assertIn("verifier", p["reason"])
            m = d.metrics()
            self.assertEqual(h.value(m, "kpulse_bpf_program_attached",
                                     program="mm_vmscan_memcg_reclaim_end", attach="tp_btf"), 1)
            self.assertEqual(h.value(m, "kpulse_bpf_program_attached", program="sched_switch",
                                     attach="tp_btf"), 1)
            self.assertEqual(h.value(m, "kpulse_degraded"), 1)
        finally:
            rc, err = d.stop()
        self.assertEqual(rc, 0)
        self.assertIn("mark_victim", err)


if __name__ == "__main__":
    unittest.main()
