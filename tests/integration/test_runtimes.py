"""Containers of real runtimes, named as their users named them.

A dockerd and podman of the test's own (runtimes.py: Debian's docker.io
and podman, cgroupfs, no registry) run three named containers each: one
limited to half a CPU spinning, one limited to 64 MiB holding anonymous
memory and page cache, one idle, started before the kpulse daemon (found
in the cgroup tree) while the others start after it. The daemon reads
the runtimes' files under a host root made for the test (symlinks to the
runtimes' own roots, the paths set in its config), beside a kubelet's log
layout and a containerd bundle built there with real cgroups of the
kubepods shape (no kubelet or containerd runs: their files are made in
their formats). Names, images, pods, limits, throttling and memory are
checked against `docker inspect` / `podman inspect` and the cgroup files.
"""
import json
import os
import shutil
import subprocess
import tempfile
import time
import unittest
import uuid

import harness as h
import runtimes

MIB = 1 << 20
CPUS = 0.5
MEM_LIMIT = 64 * MIB
# two spinners: past half a CPU even when other work on a 2-CPU host takes
# its share, so the limit throttles it in nearly every period
SPIN = "while :; do :; done & while :; do :; done"
# ~24 MiB anonymous (an awk string) and 8 MiB of page cache, then idle
HOLD = ("dd if=/dev/zero of=/tmp/cache bs=1M count=8 2>/dev/null; "
        "awk 'BEGIN { s = sprintf(\"%25165824s\", \"\"); while (1) system(\"sleep 1\") }'")
POD_UID = str(uuid.UUID(int=os.getpid() + (0x5eed << 64)))
APP_ID = ("%064x" % (os.getpid() * 7919))[-64:]
SIDE_ID = ("%064x" % (os.getpid() * 104729))[-64:]


def v2_or_v1(pid, controller, v2_name, v1_name):
    """The text of a container's cgroup file: from its v2 cgroup when the
    controller is on there, else from its v1 cgroup of `controller`."""
    where = runtimes.cgroup_of(pid)
    v2 = h.v2_root() + where[""]
    with open(os.path.join(v2, "cgroup.controllers")) as f:
        on = controller in f.read().split()
    if on:
        with open(os.path.join(v2, v2_name)) as f:
            return f.read()
    mnt, root = h.v1_mount(controller)
    rel = where[controller]
    if root != "/":
        rel = rel[len(root):]
    with open(os.path.join(mnt + rel, v1_name)) as f:
        return f.read()


def kv(text):
    return {k: int(v) for k, v in (line.split() for line in text.splitlines() if line.strip())}


def throttle_files(pid):
    """(nr_periods, nr_throttled, throttled seconds) from cpu.stat."""
    s = kv(v2_or_v1(pid, "cpu", "cpu.stat", "cpu.stat"))
    ns = s["throttled_usec"] * 1000 if "throttled_usec" in s else s["throttled_time"]
    return s["nr_periods"], s["nr_throttled"], ns / 1e9


def limit_files(pid):
    """Cores the CPU limit allows, from cpu.max or cfs quota / period."""
    try:
        q, p = v2_or_v1(pid, "cpu", "cpu.max", "cpu.cfs_quota_us").split()
    except ValueError:
        q = v2_or_v1(pid, "cpu", "cpu.max", "cpu.cfs_quota_us").strip()
        p = v2_or_v1(pid, "cpu", "cpu.max", "cpu.cfs_period_us").strip()
    return None if q in ("max", "-1") else int(q) / int(p)


def memory_files(pid):
    """usage, limit and memory.stat as cAdvisor reads them."""
    usage = int(v2_or_v1(pid, "memory", "memory.current", "memory.usage_in_bytes"))
    limit = v2_or_v1(pid, "memory", "memory.max", "memory.limit_in_bytes").strip()
    st = kv(v2_or_v1(pid, "memory", "memory.stat", "memory.stat"))
    v1 = "total_rss" in st
    inactive = st["total_inactive_file" if v1 else "inactive_file"]
    return {"usage": usage, "limit": None if limit == "max" else int(limit),
            "working_set": max(usage - inactive, 0),
            "rss": st["total_rss" if v1 else "anon"],
            "cache": st["total_cache" if v1 else "file"],
            "swap": st.get("total_swap")}


class RuntimesTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        err = runtimes.available()
        if err:
            raise AssertionError(err)
        t0 = time.time()
        cls.stack = []
        try:
            cls._start()
        except BaseException:
            cls.tearDownClass()
            raise
        cls.setup_s = time.time() - t0

    @classmethod
    def _start(cls):
        cls.docker = runtimes.Dockerd()
        cls.stack.append(cls.docker.close)
        cls.podman = runtimes.Podman()
        cls.stack.append(cls.podman.close)
        cls.cg = h.Cgroups()
        cls.stack.append(cls.cg.cleanup)
        cls.host = tempfile.mkdtemp(prefix="kpulse-hostroot-%d-" % os.getpid())
        cls.stack.append(lambda: shutil.rmtree(cls.host, ignore_errors=True))
        cls._host_root()
        cfg = h.config_file("runtimes:\n  host_root: %s\n  docker: /docker-test\n"
                            "  containers_storage: [/storage-test]\n" % cls.host)
        imgs = {cls.docker: cls.docker.import_busybox(), cls.podman: cls.podman.import_busybox()}
        # the idle ones were there before kpulse (found in the cgroup tree,
        # named from their files all the same)
        for rt, pre in ((cls.docker, "acc"), (cls.podman, "pod")):
            rt.run(pre + "_idle", imgs[rt], "sleep", "100000")
        cls.d = h.Daemon("--config", cfg)
        cls.stack.append(cls.d.stop)
        for rt, pre in ((cls.docker, "acc"), (cls.podman, "pod")):
            rt.run(pre + "_busy", imgs[rt], "sh", "-c", SPIN, args=["--cpus", str(CPUS)])
            rt.run(pre + "_mem", imgs[rt], "sh", "-c", HOLD, args=["-m", str(MEM_LIMIT)])
        cls._kube_cgroups()
        time.sleep(7)   # two file reads, and throttling over a few seconds

    @classmethod
    def _host_root(cls):
        """The runtimes' roots where the config says, and a kubelet's and a
        containerd's files in their layouts."""
        os.symlink(cls.docker.data_root, os.path.join(cls.host, "docker-test"))
        os.symlink(cls.podman.root, os.path.join(cls.host, "storage-test"))
        pod_dir = "team-a_web-5d9c_%s" % POD_UID
        for name, cid in (("app", APP_ID), ("sidecar", SIDE_ID)):
            d = os.path.join(cls.host, "var/log/pods", pod_dir, name)
            os.makedirs(d)
            open(os.path.join(d, "0.log"), "w").close()
            os.makedirs(os.path.join(cls.host, "var/log/containers"), exist_ok=True)
            os.symlink("/var/log/pods/%s/%s/0.log" % (pod_dir, name),
                       os.path.join(cls.host, "var/log/containers",
                                    "web-5d9c_team-a_%s-%s.log" % (name, cid)))
        bundle = os.path.join(cls.host, "run/containerd/io.containerd.runtime.v2.task/k8s.io",
                              APP_ID)
        os.makedirs(bundle)
        with open(os.path.join(bundle, "config.json"), "w") as f:
            json.dump({"ociVersion": "1.0.2", "annotations": {
                "io.kubernetes.cri.container-type": "container",
                "io.kubernetes.cri.container-name": "app",
                "io.kubernetes.cri.sandbox-name": "web-5d9c",
                "io.kubernetes.cri.sandbox-namespace": "team-a",
                "io.kubernetes.cri.sandbox-uid": POD_UID,
                "io.kubernetes.cri.image-name": "registry.example/app:1.2"}}, f)

    @classmethod
    def _kube_cgroups(cls):
        """Cgroups as the kubelet's cgroupfs driver makes them, a task in
        each container's."""
        path = cls.cg.make("kubepods")
        for part in ("burstable", "pod" + POD_UID):
            path = os.path.join(path, part)
            os.mkdir(path)
            cls.cg.made.append(path)
        cls.pod_cg = path
        # a task of the pod's own, so that its cgroup is shown too
        cls.cg.run(path, ["sh", "-c", "while :; do sleep 0.5; done"])
        for cid in (APP_ID, SIDE_ID):
            c = os.path.join(path, cid)
            os.mkdir(c)
            cls.cg.made.append(c)
            cls.cg.run(c, ["sh", "-c", "while :; do sleep 0.2; done"])

    @classmethod
    def tearDownClass(cls):
        while cls.stack:
            try:
                cls.stack.pop()()
            except Exception as e:      # keep cleaning up
                print("cleanup: %r" % e)

    def containers(self):
        return {c["name"]: c for c in json.loads(self.d.get("/api/v1/containers")[2])}

    # ---- names ---------------------------------------------------------

    def test_names_images_ids_docker_podman(self):
        m = self.d.metrics()
        for rt, runtime in ((self.docker, "docker"), (self.podman, "podman")):
            for name in rt.containers:
                ins = rt.inspect(name)
                image = ins["Config"]["Image"] if runtime == "docker" else ins["ImageName"]
                found = h.series(m, "kpulse_container_cpu_seconds_total", container=name)
                self.assertEqual(len(found), 1, (name, found))
                lab = found[0][0]
                self.assertEqual(lab["container_id"], ins["Id"])
                self.assertEqual(lab["runtime"], runtime)
                self.assertEqual(lab["image"], image)
                self.assertEqual(lab["cgroup"], rt.container_cgroup(ins["Id"]))
                self.assertEqual(lab["cgroup"], runtimes.cgroup_of(ins["State"]["Pid"])[""])
                self.assertNotIn("pod", lab)

    def test_api_and_alerts_by_name(self):
        st, _, body = self.d.get("/api/v1/containers/acc_busy")
        one = json.loads(body)
        self.assertEqual(one["id"], self.docker.inspect("acc_busy")["Id"])
        self.assertEqual(one["image"], self.docker.inspect("acc_busy")["Config"]["Image"])
        listed = json.loads(self.d.get("/api/v1/containers?container=pod_*")[2])
        self.assertEqual(sorted(c["name"] for c in listed), ["pod_busy", "pod_idle", "pod_mem"])
        alerts = json.loads(self.d.get("/api/v1/alerts")[2])["alerts"]
        named = {a["labels"]["container"] for a in alerts
                 if a["alertname"] == "ContainerCPUThrottlingHigh"}
        self.assertEqual(named, {"acc_busy", "pod_busy"})

    def test_snapshot_by_name(self):
        """`kpulse snapshot -c acc_busy`: the host root from the
        environment, the runtimes' default paths under it."""
        root = tempfile.mkdtemp(prefix="kpulse-envroot-%d-" % os.getpid())
        self.addCleanup(shutil.rmtree, root, True)
        os.makedirs(os.path.join(root, "var/lib"))
        os.symlink(self.docker.data_root, os.path.join(root, "var/lib/docker"))
        r, _ = h.run_owned([h.KPULSE, "snapshot", "-d", "2s", "-c", "acc_busy", "--format", "json"],
                           env=dict(os.environ, KPULSE_HOST_ROOT=root))
        self.assertEqual(r.returncode, 0, r.stderr)
        rows = json.loads(r.stdout)
        self.assertEqual([c["name"] for c in rows], ["acc_busy"])
        self.assertEqual(rows[0]["image"], self.docker.inspect("acc_busy")["Config"]["Image"])
        r, _ = h.run_owned([h.KPULSE, "snapshot", "-d", "1s", "-c", "acc_busy"],
                           env=dict(os.environ, KPULSE_HOST_ROOT=root))
        self.assertIn("acc_busy", r.stdout)

    def test_slow_by_name(self):
        """`kpulse slow -c acc_busy`: a throttled task waits on the run queue
        for the rest of each period; every event is the container's, by name."""
        root = tempfile.mkdtemp(prefix="kpulse-envroot-%d-" % os.getpid())
        self.addCleanup(shutil.rmtree, root, True)
        os.makedirs(os.path.join(root, "var/lib"))
        os.symlink(self.docker.data_root, os.path.join(root, "var/lib/docker"))
        r, _ = h.run_owned([h.KPULSE, "slow", "--runq", "5ms", "-c", "acc_busy", "--json",
                            "-d", "2s"], env=dict(os.environ, KPULSE_HOST_ROOT=root))
        self.assertEqual(r.returncode, 0, r.stderr)
        events = [json.loads(line) for line in r.stdout.splitlines()]
        self.assertGreater(len(events), 3, r.stderr)
        self.assertEqual({e["container"] for e in events}, {"acc_busy"})

    def test_name_outlives_files_and_short_lived(self):
        """Names are copied when read: a container whose files go away
        keeps its name while it runs; one that lives two seconds with --rm
        is shown by name, never by id."""
        rt = self.docker
        cid = rt.inspect("acc_idle")["Id"]
        cdir = os.path.join(rt.data_root, "containers", cid)
        os.rename(cdir, cdir + ".away")
        try:
            time.sleep(2.5)
            self.assertIn("acc_idle", self.containers())
        finally:
            os.rename(cdir + ".away", cdir)
        img = rt.images[0]
        name = "acc_short"
        ids = self.docker_ids()
        self.addCleanup(rt.cli, "rm", "-f", name, check=False)
        subprocess.run([runtimes.DOCKER, "-H", "unix://" + rt.sock, "run", "-d", "--rm",
                        "--name", name, "--network", "none", img, "sh", "-c",
                        "end=$(( $(date +%s) + 3 )); while [ $(date +%s) -lt $end ]; do :; done"],
                       check=True, capture_output=True)
        seen, short_id = set(), None
        deadline = time.time() + 6
        while time.time() < deadline:
            for c in json.loads(self.d.get("/api/v1/containers")[2]):
                if c["cgroup"].startswith("/docker/") and c["id"] not in ids:
                    seen.add(c["name"])
                    short_id = c["id"][:12]
            time.sleep(0.3)
        self.assertEqual(seen, {name})
        self.assertNotIn(short_id, seen)

    def docker_ids(self):
        return {self.docker.inspect(n)["Id"] for n in self.docker.containers}

    def test_kubernetes_names_from_kubelet_layout(self):
        m = self.d.metrics()
        app = h.series(m, "kpulse_container_cpu_seconds_total", container_id=APP_ID)
        side = h.series(m, "kpulse_container_cpu_seconds_total", container_id=SIDE_ID)
        self.assertEqual(len(app), 1, app)
        self.assertEqual(len(side), 1, side)
        for lab, name in ((app[0][0], "app"), (side[0][0], "sidecar")):
            self.assertEqual(lab["container"], name)
            self.assertEqual(lab["pod"], "web-5d9c")
            self.assertEqual(lab["namespace"], "team-a")
            self.assertEqual(lab["pod_uid"], POD_UID)
            self.assertEqual(lab["runtime"], "containerd")
        self.assertEqual(app[0][0]["image"], "registry.example/app:1.2")   # its bundle
        self.assertNotIn("image", side[0][0])                               # the kubelet only
        # the pod's own cgroup: named by its path, labelled with its pod
        pod = h.series(m, "kpulse_container_cpu_seconds_total", cgroup=self.cg.rel(self.pod_cg))
        self.assertEqual(len(pod), 1, pod)
        self.assertEqual(pod[0][0]["container"], self.cg.rel(self.pod_cg))
        self.assertEqual(pod[0][0]["pod"], "web-5d9c")
        self.assertEqual(pod[0][0]["namespace"], "team-a")
        one = json.loads(self.d.get("/api/v1/containers/team-a/web-5d9c/app")[2])
        self.assertEqual(one["id"], APP_ID)
        self.assertEqual(one["namespace"], "team-a")

    # ---- CPU limit and throttling -----------------------------------------

    def test_cpu_limits(self):
        m = self.d.metrics()
        for rt in (self.docker, self.podman):
            for name in rt.containers:
                ins = rt.inspect(name)
                pid = ins["State"]["Pid"]
                want = limit_files(pid)
                got = h.series(m, "kpulse_container_cpu_limit_cores", container=name)
                if name.endswith("_busy"):
                    self.assertEqual(ins["HostConfig"]["NanoCpus"], int(CPUS * 1e9))
                    self.assertEqual(want, CPUS)
                    self.assertEqual([v for _, v in got], [CPUS], name)
                else:
                    self.assertIsNone(want)
                    self.assertEqual(got, [], name)

    def all_containers(self):
        return [(rt, n) for rt in (self.docker, self.podman) for n in rt.containers]

    def test_throttling_against_cpu_stat(self):
        """Throttling counters of the limited containers within what cpu.stat
        said before and after the scrape; none for the unlimited ones
        (never throttled: cpu.stat is not even read for them)."""
        pids = {n: rt.pid(n) for rt, n in self.all_containers()}
        before = {n: throttle_files(p) for n, p in pids.items()}
        time.sleep(2.5)     # more than two collections
        m = self.d.metrics()
        after = {n: throttle_files(p) for n, p in pids.items()}
        names = ("kpulse_container_cpu_periods_total", "kpulse_container_cpu_throttled_periods_total",
                 "kpulse_container_cpu_throttled_seconds_total")
        for name in pids:
            if not name.endswith("_busy"):
                self.assertEqual(after[name][1], 0, name)
                for metric in names:
                    self.assertEqual(h.series(m, metric, container=name), [], (name, metric))
                continue
            got = [h.value(m, metric, container=name) for metric in names]
            for i in range(3):
                # /metrics prints 15 significant digits (9 before): a millionth is ample
                slack = 1e-6 * after[name][i] if i == 2 else 0
                self.assertTrue(before[name][i] - slack <= got[i] <= after[name][i] + slack,
                                (name, i, before[name], got, after[name]))
            self.assertGreater(got[1], 0.25 * got[0], name)
            self.assertGreater(got[2], 1.0, name)

    def test_health_names_throttling(self):
        c = self.containers()
        for name in ("acc_busy", "pod_busy"):
            hl = c[name]["health"]
            self.assertIn("throttled", hl["reason"], hl)
            f = {x["name"]: x for x in hl["factors"]}
            # spinning past half a CPU: throttled in most periods (not all
            # on a busy 2-CPU host, where some periods end before the quota)
            self.assertGreater(f["cpu_throttled"]["value"], 25)
            self.assertLess(f["cpu_throttled"]["penalty"], 0)
            for waits in ("runq_p99", "cpu_pressure"):
                if waits in f:
                    self.assertEqual(f[waits]["penalty"], 0, f[waits])
            self.assertEqual(c[name]["cpu"]["throttling"]["throttled_percent"],
                             f["cpu_throttled"]["value"])
            self.assertEqual(c[name]["cpu"]["limit_cores"], CPUS)
        for name in ("acc_idle", "pod_idle"):
            self.assertNotIn("throttled", c[name]["health"]["reason"])
            self.assertNotIn("limit_cores", c[name]["cpu"])
            self.assertNotIn("throttling", c[name]["cpu"])

    def history(self, metric, name):
        q = "/api/v1/history?metric=%s&container=%s" % (metric, name)
        return [v for _, v in json.loads(self.d.get(q)[2])["points"]]

    def test_limit_and_throttling_history(self):
        """The dashboard's CPU-limit and throttling series: the limit every
        collection of a limited container (as `docker inspect` set it), its
        throttled share in line with cpu.stat; no ring at all for the
        containers without a limit."""
        for rt, name in self.all_containers():
            lim = self.history("cpu_limit_cores", name)
            thr = self.history("cpu_throttled_percent", name)
            if not name.endswith("_busy"):
                self.assertEqual((lim, thr), ([], []), name)
                continue
            self.assertGreater(len(lim), 2, name)
            self.assertEqual(set(lim), {CPUS}, name)
            self.assertGreater(len(thr), 2, name)
            self.assertTrue(all(0 <= v <= 100 for v in thr), (name, thr))
            # spinning past half a CPU: throttled in most periods
            self.assertGreater(thr[-1], 25, (name, thr))

    # ---- memory ------------------------------------------------------------

    def test_memory_as_cadvisor(self):
        mems = [(rt, n) for rt in (self.docker, self.podman) for n in rt.containers
                if n.endswith("_mem")]
        ins = {name: rt.inspect(name) for rt, name in mems}
        f0 = {n: memory_files(ins[n]["State"]["Pid"]) for n in ins}
        time.sleep(2.5)
        m = self.d.metrics()
        f1 = {n: memory_files(ins[n]["State"]["Pid"]) for n in ins}
        for name in ins:
            self.assertEqual(ins[name]["HostConfig"]["Memory"], MEM_LIMIT)
            self.assertEqual(f0[name]["limit"], MEM_LIMIT)
            self.assertEqual(h.value(m, "kpulse_container_memory_limit_bytes", container=name),
                             MEM_LIMIT)
            self.assertGreater(f1[name]["rss"], 20 * MIB)       # the awk string
            self.assertGreater(f1[name]["cache"], 4 * MIB)      # the file written
            for key, metric in (("working_set", "working_set_bytes"), ("rss", "rss_bytes"),
                                ("cache", "cache_bytes"), ("usage", "usage_bytes")):
                got = h.value(m, "kpulse_container_memory_" + metric, container=name)
                lo, hi = sorted((f0[name][key], f1[name][key]))
                # a quiet container: within 1% of what the files said
                self.assertTrue(lo * 0.99 <= got <= hi * 1.01,
                                (name, key, f0[name][key], got, f1[name][key]))
            # the dashboard's working-set series: its last point is a
            # collection of the last 2.5 s, the same figure within 1%
            ws = self.history("memory_working_set_bytes", name)
            lo, hi = sorted((f0[name]["working_set"], f1[name]["working_set"]))
            self.assertTrue(ws and lo * 0.99 <= ws[-1] <= hi * 1.01, (name, lo, ws[-3:], hi))
            swap = h.series(m, "kpulse_container_memory_swap_bytes", container=name)
            if f1[name]["swap"] is None:
                self.assertEqual(swap, [])
            else:
                self.assertEqual([v for _, v in swap], [f1[name]["swap"]])

if __name__ == "__main__":
    unittest.main()
