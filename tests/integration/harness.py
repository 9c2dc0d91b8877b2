"""Integration test harness: real kpulse daemons, real cgroups, real BPF.

Everything a test creates (cgroups under the v2 root, processes) is tracked
here and removed by PID/path in cleanups that run even when an assertion
fails. Nothing else on the host is touched.
"""
import json
import os
import signal
import socket
import subprocess
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


class Daemon:
    """A kpulse daemon on a free loopback port."""

    def __init__(self, *args, env=None):
        self.port = free_port()
        self.args = ["--listen", "127.0.0.1:%d" % self.port, "--interval", "1s"] + list(args)
        e = dict(os.environ)
        e.update(env or {})
        self.proc = subprocess.Popen([KPULSE, "daemon"] + self.args, env=e,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True)
        deadline = time.time() + 30
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("kpulse exited %d: %s" % (self.proc.returncode,
                                                             self.proc.stderr.read()))
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
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        err = self.proc.stderr.read()
        self.proc.stdout.close()
        self.proc.stderr.close()
        self.stopped = (self.proc.returncode, err)
        return self.stopped


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
