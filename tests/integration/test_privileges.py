"""Least privilege: once its programs are attached the daemon holds only
what a setting still needs (read from /proc/<pid>/status, the kernel's own
account), has no_new_privs and a seccomp filter, can run as another user,
and its figures stay right (CPU against the cgroup's cpu.stat)."""
import os
import pwd
import subprocess
import time
import unittest

import harness as h

CAP_DAC_READ_SEARCH = 2
CAP_SYS_ADMIN = 21


def status_of(pid):
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            out[k] = v.strip()
    return out


def caps(hexmask):
    v = int(hexmask, 16)
    return {i for i in range(64) if v >> i & 1}


class PrivilegesTest(unittest.TestCase):
    def check_dropped(self, d, want_caps):
        st = status_of(d.proc.pid)
        for k in ("CapEff", "CapPrm"):
            self.assertEqual(caps(st[k]), want_caps, "%s %s" % (k, st[k]))
        self.assertEqual(caps(st["CapAmb"]), set())
        self.assertEqual(st["NoNewPrivs"], "1")
        self.assertEqual(st["Seccomp"], "2")  # filter mode
        _, body = d.health()
        p = body["privileges"]
        self.assertTrue(p["dropped"])
        self.assertTrue(p["no_new_privs"])
        self.assertEqual(p["seccomp"], "filter")
        return st, body

    def test_default_keeps_only_sys_admin_for_sampled_stats(self):
        d = h.Daemon()
        self.addCleanup(d.stop)
        _, body = self.check_dropped(d, {CAP_SYS_ADMIN})
        self.assertEqual(body["privileges"]["capabilities"], "sys_admin")
        self.assertIn("bpf_stats", body["privileges"]["kept_because"])

    def test_stats_off_keeps_nothing_and_figures_stay_right(self):
        cg = h.Cgroups()
        self.addCleanup(cg.cleanup)
        busy = cg.make("privbusy")
        d = h.Daemon("--config", h.config_file("bpf_stats: off\n"))
        self.addCleanup(d.stop)
        self.check_dropped(d, set())
        p = cg.run(busy, [h.WORKLOAD, "spin", "1", "3"])
        p.wait()
        time.sleep(1.5)
        m = d.metrics()
        kp = h.value(m, "kpulse_container_cpu_seconds_total", cgroup=cg.rel(busy))
        with open(os.path.join(busy, "cpu.stat")) as f:
            usec = int([l.split()[1] for l in f if l.startswith("usage_usec")][0])
        print("\n  without capabilities: kpulse %.3fs, cpu.stat %.3fs" % (kp, usec / 1e6))
        self.assertAlmostEqual(kp, usec / 1e6, delta=0.01 * usec / 1e6 + 0.005)

    def test_runs_as_another_user(self):
        nobody = pwd.getpwnam("nobody")
        d = h.Daemon("--user", "nobody", "--config", h.config_file("bpf_stats: always\n"))
        self.addCleanup(d.stop)
        st, body = self.check_dropped(d, {CAP_DAC_READ_SEARCH})
        self.assertEqual(int(st["Uid"].split()[0]), nobody.pw_uid)
        self.assertEqual(int(st["Gid"].split()[0]), nobody.pw_gid)
        self.assertEqual(body["privileges"]["uid"], nobody.pw_uid)
        # still serving and still reading maps and cgroup files
        time.sleep(1.5)
        m = d.metrics()
        self.assertGreater(h.value(m, "kpulse_node_cpu_seconds_total"), 0)
        self.assertGreater(h.value(m, "kpulse_bpf_program_runs_total", program="sched_switch"), 0)

    def test_unknown_user_is_one_line_and_nothing_stays_loaded(self):
        r = subprocess.run([h.KPULSE, "daemon", "--listen", "127.0.0.1:%d" % h.free_port(),
                            "--user", "no-such-user-kpulse"], capture_output=True, text=True,
                           timeout=30)
        self.assertEqual(r.returncode, 77)
        self.assertIn("--user 'no-such-user-kpulse': no such user", r.stderr)
        self.assertEqual(len(r.stderr.strip().splitlines()), 1, r.stderr)


if __name__ == "__main__":
    unittest.main()
