"""Integration test harness: real kpulse daemons, real cgroups, real BPF.

Everything a test creates (cgroups under the v2 root, processes) is tracked
here and removed by PID/path in cleanups that run even when an assertion
fails. Nothing else on the host is touched.
"""
import atexit
import json
import os
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

from prometheus_client.parser import text_string_to_metric_families

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
KPULSE = os.path.join(ROOT, "kpulse")
WORKLOAD = os.path.join(ROOT, ".output", "workload")
TEST_PREFIX = "kpulse-test-%d" % os.getpid()
# every BPF program a kpulse started by these tests held (checked at the end)
OWNED = set()


def v2_root():
    """The cgroup2 mount point, from mountinfo (never assumed)."""
    with open("/proc/self/mountinfo") as f:
        for line in f:
            left, _, right = line.partition(" - ")
            if right.split()[0] == "cgroup2":
                return left.split()[4].replace("\\040", " ")
    raise RuntimeError("no cgroup2 mount")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Cgroups:
    """Test cgroups under <v2>/kpulse-test-<pid>/; removed on cleanup."""

    def __init__(self):
        self.root = v2_root()
        self.base = os.path.join(self.root, TEST_PREFIX)
        self.made = []
        self.procs = []

    def make(self, name):
        if not os.path.isdir(self.base):
            os.mkdir(self.base)
            self.made.append(self.base)
        path = os.path.join(self.base, name)
        os.mkdir(path)
        self.made.append(path)
        return path

    def rel(self, path):
        return path[len(self.root):] or "/"

    def run(self, cg, argv, **kw):
        """Start argv inside cgroup cg (moved before exec)."""
        procs_file = os.path.join(cg, "cgroup.procs")

        def enter():
            with open(procs_file, "w") as f:
                f.write(str(os.getpid()))

        p = subprocess.Popen(argv, preexec_fn=enter, **kw)
        self.procs.append(p)
        return p

    def remove(self, path):
        """rmdir one cgroup made here (its processes must have exited)."""
        for _ in range(100):
            try:
                os.rmdir(path)
                break
            except OSError:
                time.sleep(0.05)
        else:
            raise AssertionError("cannot remove cgroup %s" % path)
        self.made.remove(path)

    def cleanup(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
        for path in reversed(self.made):
            for _ in range(100):
                try:
                    os.rmdir(path)
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.05)
        self.made = []


def cpu_usage_usec(cg):
    with open(os.path.join(cg, "cpu.stat")) as f:
        for line in f:
            k, v = line.split()
            if k == "usage_usec":
                return int(v)
    raise RuntimeError("no usage_usec in %s/cpu.stat" % cg)


def config_file(text):
    """A kpulse config file holding @text; removed at exit."""
    f = tempfile.NamedTemporaryFile("w", prefix="kpulse-cfg-", suffix=".yaml", delete=False)
    f.write(text)
    f.close()
    atexit.register(os.unlink, f.name)
    return f.name


def end_process(proc, timeout=10):
    """A process this test started: SIGTERM (by its PID), SIGKILL when it
    is not gone within `timeout` seconds; waits for it either way."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


class Daemon:
    """A kpulse daemon on a free loopback port. Its stderr goes to a file,
    readable while it runs (stderr()) and never a full pipe that would
    block it."""

    def __init__(self, *args, env=None, wrap=None, ready=None):
        """`wrap`: argv put before kpulse's, one that execs it (nsenter).
        `ready(daemon) -> bool` tells when it serves (default: a plain
        HTTP GET /health answers)."""
        self.port = free_port()
        self.args = ["--listen", "127.0.0.1:%d" % self.port, "--interval", "1s"] + list(args)
        e = dict(os.environ)
        # every test runs the daemon under its seccomp filter, and a call
        # outside it kills the daemon, so a missing one shows at once
        e["KPULSE_TEST_SECCOMP_KILL"] = "1"
        e.update(env or {})
        self.errfile = tempfile.NamedTemporaryFile("w+", prefix="kpulse-err-", delete=False)
        self.proc = subprocess.Popen(list(wrap or []) + [KPULSE, "daemon"] + self.args, env=e,
                                     stdout=subprocess.DEVNULL, stderr=self.errfile, text=True)
        deadline = time.time() + 30
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("kpulse exited %d: %s" % (self.proc.returncode,
                                                             self.stderr()))
            if ready:
                if ready(self):
                    OWNED.update(prog_ids_of(self.proc.pid))
                    return
                time.sleep(0.1)
                continue
            try:
                self.get("/health")
                OWNED.update(prog_ids_of(self.proc.pid))
                return
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.1)
            except urllib.error.HTTPError:
                return
        raise RuntimeError("kpulse did not start listening")

    def url(self, path):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def get(self, path, method="GET", headers=None):
        req = urllib.request.Request(self.url(path), method=method, headers=headers or {})
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.headers, r.read().decode()

    def get_error(self, path, method="GET", headers=None):
        try:
            self.get(path, method, headers)
        except urllib.error.HTTPError as e:
            return e.code, e.headers, e.read().decode()
        raise AssertionError("expected an HTTP error for %s %s" % (method, path))

    def health(self):
        try:
            status, _, body = self.get("/health")
        except urllib.error.HTTPError as e:
            status, body = e.code, e.read().decode()
        return status, json.loads(body)

    def metrics_text(self):
        return self.get("/metrics")[2]

    def metrics(self):
        return parse_metrics(self.metrics_text())

    def stop(self):
        """SIGTERM by PID; returns (exit code, stderr). Idempotent."""
        if getattr(self, "stopped", None):
            return self.stopped
        end_process(self.proc, 20)
        self.stopped = (self.proc.returncode, self.stderr())
        self.errfile.close()
        os.unlink(self.errfile.name)
        return self.stopped

    def stderr(self):
        with open(self.errfile.name) as f:
            return f.read()


def parse_metrics(text):
    """{(sample name, frozenset(labels)): value}, parsed by prometheus_client."""
    out = {}
    for fam in text_string_to_metric_families(text):
        for s in fam.samples:
            out[(s.name, frozenset(s.labels.items()))] = s.value
    return out


def series(m, name, **labels):
    """Samples of `name` whose labels include `labels`: list of (labels, value)."""
    want = set(labels.items())
    return [(dict(k[1]), v) for k, v in m.items() if k[0] == name and want <= k[1]]


def value(m, name, **labels):
    found = series(m, name, **labels)
    if len(found) != 1:
        raise AssertionError("%d series for %s %s" % (len(found), name, labels))
    return found[0][1]


def histogram(m, name, **labels):
    """Sorted [(le, cumulative count)] of one histogram series."""
    rows = []
    for lab, v in series(m, name + "_bucket", **labels):
        rows.append((float(lab["le"]), v))
    return sorted(rows)


def hist_delta(h1, h0):
    d0 = dict(h0)
    return [(le, c - d0.get(le, 0)) for le, c in h1]


def quantile(h, q):
    """Upper `le` bound of the bucket holding quantile q (h cumulative)."""
    total = h[-1][1]
    if total <= 0:
        return 0.0
    for le, c in h:
        if c >= q * total:
            return le
    return float("inf")


def wait_released(ids, timeout=5.0):
    """The kernel frees programs asynchronously after their last link and fd
    go: wait for `ids` to leave the program list; returns those still there."""
    deadline = time.time() + timeout
    while True:
        left = set(kpulse_prog_ids()) & set(ids)
        if not left or time.time() > deadline:
            return left
        time.sleep(0.1)


def prog_ids_of(pid):
    """IDs of the BPF programs process `pid` holds (fds and links), from
    /proc/<pid>/fdinfo: exact ownership, whatever else runs on the host."""
    ids = set()
    try:
        fds = os.listdir("/proc/%d/fdinfo" % pid)
    except OSError:
        return ids
    for fd in fds:
        try:
            with open("/proc/%d/fdinfo/%s" % (pid, fd)) as f:
                for line in f:
                    if line.startswith("prog_id:"):
                        ids.add(int(line.split()[1]))
        except OSError:
            pass
    return ids


class _BpfMap:
    """A BPF map another process holds, opened by id through the bpf(2)
    syscall (ctypes): its keys listed in milliseconds, where `bpftool map
    dump` formats every value and takes seconds on a map of thousands of
    large entries, so that what a test reads is the map at one moment."""
    NR_BPF = {"x86_64": 321, "aarch64": 280}
    MAP_LOOKUP_ELEM, MAP_GET_NEXT_KEY, MAP_GET_FD_BY_ID, OBJ_GET_INFO_BY_FD = 1, 4, 14, 15

    def __init__(self, map_id):
        import ctypes
        self.ct = ctypes
        self.libc = ctypes.CDLL(None, use_errno=True)
        self.nr = self.NR_BPF[os.uname().machine]
        attr = (ctypes.c_uint32 * 4)(map_id, 0, 0, 0)
        self.fd = self._bpf(self.MAP_GET_FD_BY_ID, attr)
        info = (ctypes.c_uint8 * 88)()
        attr = (ctypes.c_uint64 * 2)(self.fd | (len(info) << 32), ctypes.addressof(info))
        try:
            self._bpf(self.OBJ_GET_INFO_BY_FD, attr)
        except OSError:
            os.close(self.fd)
            raise
        f = bytes(info)
        # struct bpf_map_info: type, id, key_size, value_size, ...
        self.key_size, self.value_size = (int.from_bytes(f[i:i + 4], "little") for i in (8, 12))
        self.name = f[24:40].split(b"\0")[0].decode()

    def _bpf(self, cmd, attr):
        r = self.libc.syscall(self.nr, cmd, self.ct.byref(attr), self.ct.sizeof(attr))
        if r < 0:
            e = self.ct.get_errno()
            raise OSError(e, os.strerror(e))
        return r

    def _elem(self, cmd, key, out):
        attr = (self.ct.c_uint64 * 4)(self.fd, self.ct.addressof(key) if key else 0,
                                       self.ct.addressof(out), 0)
        return self._bpf(cmd, attr)

    def keys(self):
        """Every key, as bytes. A key deleted meanwhile makes the kernel
        start again from the first: seen keys are a set, and the walk is
        bounded."""
        seen, key = set(), None
        nxt = (self.ct.c_uint8 * self.key_size)()
        for _ in range(1 << 20):
            try:
                self._elem(self.MAP_GET_NEXT_KEY, key, nxt)
            except OSError as e:
                if e.errno == 2:    # ENOENT: past the last key
                    return seen
                raise
            k = bytes(nxt)
            seen.add(k)
            key = (self.ct.c_uint8 * self.key_size).from_buffer_copy(k)
        raise AssertionError("map %s: no end to its keys" % self.name)

    def value(self, key):
        """The value of `key` (bytes) in a map that is not per-CPU."""
        k = (self.ct.c_uint8 * self.key_size).from_buffer_copy(key)
        out = (self.ct.c_uint8 * self.value_size)()
        self._elem(self.MAP_LOOKUP_ELEM, k, out)
        return bytes(out)

    def close(self):
        os.close(self.fd)


def _open_map(pid, name):
    ids = set()
    for fd in os.listdir("/proc/%d/fdinfo" % pid):
        try:
            with open("/proc/%d/fdinfo/%s" % (pid, fd)) as f:
                ids |= {int(l.split()[1]) for l in f if l.startswith("map_id:")}
        except OSError:
            pass
    for i in sorted(ids):
        try:
            m = _BpfMap(i)
        except OSError:
            continue
        if m.name == name:
            return m
        m.close()
    raise AssertionError("process %d holds no map named %s" % (pid, name))


def map_cgroup_ids(pid, name):
    """Cgroup ids in the map called `name`, read in one quick pass: the
    first 8 bytes of every key (per-cgroup maps key by cgroup id first),
    or of every value for hot_owner (an array whose values name their
    owner)."""
    m = _open_map(pid, name)
    try:
        if name == "hot_owner":
            return {int.from_bytes(m.value(k)[:8], "little") for k in m.keys()} - {0}
        return {int.from_bytes(k[:8], "little") for k in m.keys()}
    finally:
        m.close()


def map_u64_keys(pid, name):
    """The u64 keys of the BPF map called `name` that process `pid` holds."""
    m = _open_map(pid, name)
    try:
        return {int.from_bytes(k, "little") for k in m.keys()}
    finally:
        m.close()


def run_owned(argv, timeout=60, **kw):
    """Run a command to completion, recording the BPF programs it held while
    it ran. Returns (CompletedProcess-like, set of program ids)."""
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)
    seen = set()
    deadline = time.time() + timeout
    while p.poll() is None and time.time() < deadline:
        seen |= prog_ids_of(p.pid)
        time.sleep(0.05)
    out, err = p.communicate(timeout=max(1, deadline - time.time()))
    OWNED.update(seen)
    return subprocess.CompletedProcess(argv, p.returncode, out, err), seen


def kpulse_prog_ids():
    """IDs of loaded BPF programs that are kpulse's (names kp_*)."""
    out = subprocess.run(["bpftool", "-j", "prog", "show"], capture_output=True,
                         text=True, check=True).stdout
    return [p["id"] for p in json.loads(out or "[]") if p.get("name", "").startswith("kp_")]


# ---- Memory limits on test cgroups, on pure v2 and on hybrid hosts ----

UNLIMITED_MIN = (1 << 63) - (1 << 20)  # v1 prints "no limit" as ~2^63


def v1_mount(controller):
    """(mount point, root inside the hierarchy) of the v1 hierarchy that
    has `controller`, from mountinfo; None when there is none."""
    with open("/proc/self/mountinfo") as f:
        for line in f:
            left, _, right = line.partition(" - ")
            r, l = right.split(), left.split()
            if len(r) >= 3 and len(l) >= 5 and r[0] == "cgroup" and controller in r[2].split(","):
                return l[4].replace("\\040", " "), l[3].replace("\\040", " ")
    return None


def memory_layout():
    """'v2' when cgroups under the v2 root get memory files (the root
    delegates the memory controller), 'v1' when a v1 memory hierarchy is
    mounted (hybrid host), None when neither."""
    with open(os.path.join(v2_root(), "cgroup.subtree_control")) as f:
        if "memory" in f.read().split():
            return "v2"
    return "v1" if v1_mount("memory") else None


def _read_kv(path):
    with open(path) as f:
        return {k: int(v) for k, v in (line.split() for line in f if line.strip())}


class MemCgroups(Cgroups):
    """Test cgroups with a memory cgroup that can be limited, whatever the
    layout. v2: the test cgroup itself (memory enabled in our base cgroup),
    limit in memory.max. v1 (hybrid): a child of this process's own v1
    memory cgroup, limit in memory.limit_in_bytes; workloads run in both
    it and the v2 test cgroup. Everything is removed on cleanup."""

    def __init__(self):
        super().__init__()
        self.layout = memory_layout()
        self.mem = {}  # v2 test cgroup -> its memory cgroup
        self.cpu = {}  # v2 test cgroup -> its v1 cpu cgroup (hybrid hosts)

    def make_mem(self, name, limit=None):
        path = self.make(name)
        if self.layout == "v2":
            ctl = os.path.join(self.base, "cgroup.subtree_control")
            with open(ctl) as f:
                on = "memory" in f.read().split()
            if not on:
                with open(ctl, "w") as f:
                    f.write("+memory")
            mem = path
            if limit is not None:
                with open(os.path.join(mem, "memory.max"), "w") as f:
                    f.write(str(limit))
        elif self.layout == "v1":
            mnt, root = v1_mount("memory")
            with open("/proc/self/cgroup") as f:
                own = [l.rstrip("\n").split(":", 2)[2] for l in f
                       if "memory" in l.split(":")[1].split(",")][0]
            if root != "/":
                own = own[len(root):] if own.startswith(root) else None
            if own is None:
                raise RuntimeError("our v1 memory cgroup is outside the mounted tree")
            mem = os.path.join(mnt + own.rstrip("/"), "%s-%s" % (TEST_PREFIX, name))
            os.mkdir(mem)
            self.made.append(mem)
            if limit is not None:
                with open(os.path.join(mem, "memory.limit_in_bytes"), "w") as f:
                    f.write(str(limit))
        else:
            raise RuntimeError("no memory controller: neither delegated in v2 nor a v1 mount")
        self.mem[path] = mem
        return path

    def limit_cpu(self, path, cores, period_us=100000):
        """A CFS quota of `cores` for the test cgroup `path`, whatever the
        layout: cpu.max in it when the v2 root delegates cpu, else a v1 cpu
        cgroup (a child of ours) that run_mem's workloads join too."""
        quota = int(cores * period_us)
        with open(os.path.join(self.root, "cgroup.subtree_control")) as f:
            if "cpu" in f.read().split():
                ctl = os.path.join(self.base, "cgroup.subtree_control")
                with open(ctl) as f:
                    on = "cpu" in f.read().split()
                if not on:
                    with open(ctl, "w") as f:
                        f.write("+cpu")
                with open(os.path.join(path, "cpu.max"), "w") as f:
                    f.write("%d %d" % (quota, period_us))
                return
        mnt, root = v1_mount("cpu")
        with open("/proc/self/cgroup") as f:
            own = [l.rstrip("\n").split(":", 2)[2] for l in f
                   if "cpu" in l.split(":")[1].split(",")][0]
        if root != "/":
            own = own[len(root):]
        d = os.path.join(mnt + own.rstrip("/"), "%s-%s" % (TEST_PREFIX, os.path.basename(path)))
        os.mkdir(d)
        self.made.append(d)
        with open(os.path.join(d, "cpu.cfs_period_us"), "w") as f:
            f.write(str(period_us))
        with open(os.path.join(d, "cpu.cfs_quota_us"), "w") as f:
            f.write(str(quota))
        self.cpu[path] = d

    def run_mem(self, path, argv, cpu=None, **kw):
        """Start argv in v2 cgroup `path` and its memory cgroup (and v1 cpu
        cgroup, see limit_cpu) (moved before exec), pinned to `cpu` when
        given."""
        files = [os.path.join(path, "cgroup.procs")]
        if self.mem.get(path, path) != path:
            files.append(os.path.join(self.mem[path], "cgroup.procs"))
        if path in self.cpu:
            files.append(os.path.join(self.cpu[path], "cgroup.procs"))

        def enter():
            if cpu is not None:
                os.sched_setaffinity(0, {cpu})
            for fn in files:
                with open(fn, "w") as f:
                    f.write(str(os.getpid()))

        p = subprocess.Popen(argv, preexec_fn=enter, **kw)
        self.procs.append(p)
        return p

    # The kernel's own figures for the memory cgroup of `path`.
    def _file(self, path, name):
        with open(os.path.join(self.mem[path], name)) as f:
            return f.read().strip()

    def usage(self, path):
        return int(self._file(path, "memory.current" if self.layout == "v2"
                              else "memory.usage_in_bytes"))

    def limit(self, path):
        """Bytes, or None when unlimited."""
        v = self._file(path, "memory.max" if self.layout == "v2" else "memory.limit_in_bytes")
        return None if v == "max" or int(v) >= UNLIMITED_MIN else int(v)

    def limit_hits(self, path):
        """Times a charge hit the limit: v2 memory.events max, v1 failcnt.
        Every memcg reclaim of the cgroup's tasks follows at least one."""
        if self.layout == "v2":
            return _read_kv(os.path.join(self.mem[path], "memory.events"))["max"]
        return int(self._file(path, "memory.failcnt"))

    def oom_kills(self, path):
        """v2 memory.events oom_kill, v1 memory.oom_control oom_kill."""
        name = "memory.events" if self.layout == "v2" else "memory.oom_control"
        return _read_kv(os.path.join(self.mem[path], name))["oom_kill"]

    def psi_total_us(self, path, res="memory", kind="some"):
        """Cumulative stall time from the v2 cgroup's PSI file."""
        with open(os.path.join(path, "%s.pressure" % res)) as f:
            for line in f:
                if line.startswith(kind + " "):
                    return int(line.split("total=")[1])
        raise RuntimeError("no %s line in %s/%s.pressure" % (kind, path, res))
