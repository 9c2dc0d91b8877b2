"""Real container runtimes for the integration tests, owned by the test.

Dockerd (Debian's docker.io) and podman (Debian's podman) run with every
directory of their own under one temporary base, the cgroupfs driver and no
networking, so a test runs beside whatever else the host runs and leaves
nothing behind. Images are imported from a busybox-static root file system:
no registry is ever contacted.

    with Dockerd() as d:
        img = d.import_busybox()
        cid = d.run("web", img, "sleep", "1000", args=["--cpus", "0.5"])
        d.inspect("web")["HostConfig"]["NanoCpus"]

Everything started is removed on exit, also on failure (and from atexit if
a test forgets): containers, images, the daemon and its containerd and
shims (by pid), mounts under the base, the base, the cgroups the runtime
made that are empty, and the host directories these programs create outside
their roots (/run/containerd/s for shim sockets, /run/runc, the blob cache of
containers/image) when they did not exist before and are empty again.

Where the runtimes put things on a hybrid host (cgroup v2 at
/sys/fs/cgroup/unified, v1 controllers beside it), as seen with docker.io
20.10 / runc 1.1 and podman 4.3: a docker container's tasks are in
/docker/<id> of the v2 tree and of every v1 hierarchy; a podman container's
in /libpod_parent/libpod-<id>, its conmon in /libpod_parent/conmon (v1
only). cgroup_of() reads it from /proc/<pid>/cgroup rather than assume it.
"""
import atexit
import hashlib
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

DOCKER = "/usr/bin/docker"      # /usr/local/bin/docker is an unrelated newer client
DOCKERD = "/usr/sbin/dockerd"
PODMAN = "/usr/bin/podman"
BUSYBOX = "/bin/busybox"        # busybox-static
APPLETS = ("sh", "sleep", "cat", "yes", "dd", "head", "true", "mkdir", "rm", "ls", "awk", "date")

# Created outside the runtimes' own roots by the programs themselves.
HOST_DIRS = ("/run/containerd/s", "/run/containerd", "/run/docker/plugins", "/run/docker",
             "/run/runc", "/var/lib/containers/cache", "/var/lib/containers", "/run/mount")

_LIVE = []


def _cleanup_all():
    for rt in list(_LIVE):
        rt.close()


atexit.register(_cleanup_all)


def available():
    """None when docker and podman can run here, else why not."""
    for p in (DOCKER, DOCKERD, PODMAN, BUSYBOX):
        if not os.access(p, os.X_OK):
            return "%s is missing (tools/install-deps.sh installs it)" % p
    if os.geteuid() != 0:
        return "runtimes need root"
    return None


def cgroup_of(pid):
    """{controller or '' for v2: path} from /proc/<pid>/cgroup."""
    out = {}
    with open("/proc/%d/cgroup" % pid) as f:
        for line in f:
            _, ctrls, path = line.rstrip("\n").split(":", 2)
            for c in (ctrls.split(",") if ctrls else [""]):
                out[c] = path
    return out


def _cgroup_mounts():
    """Every cgroup mount point (v1 hierarchies and the v2 tree)."""
    mounts = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            left, _, right = line.partition(" - ")
            if right.split()[0] in ("cgroup", "cgroup2"):
                mounts.append(left.split()[4].replace("\\040", " "))
    return mounts


def _mounts_under(base):
    """Mount points at or under `base`, deepest first."""
    found = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            mp = line.split()[4].replace("\\040", " ")
            if mp == base or mp.startswith(base + "/"):
                found.append(mp)
    return sorted(found, key=len, reverse=True)


def _pids_with(needle):
    """Pids whose command line mentions `needle` (a path of ours)."""
    pids = []
    for d in os.listdir("/proc"):
        if not d.isdigit() or int(d) == os.getpid():
            continue
        try:
            with open("/proc/%s/cmdline" % d, "rb") as f:
                if needle.encode() in f.read():
                    pids.append(int(d))
        except OSError:
            pass
    return pids


def _kill(pids, timeout=10):
    for p in pids:
        try:
            os.kill(p, signal.SIGKILL)
        except ProcessLookupError:
            pass
    deadline = time.time() + timeout
    while time.time() < deadline and any(os.path.exists("/proc/%d" % p) for p in pids):
        time.sleep(0.05)


def busybox_rootfs_tar(where):
    """A tar of a root file system holding busybox-static and its applets."""
    root = os.path.join(where, "rootfs")
    for d in ("bin", "tmp", "proc", "sys", "dev", "etc"):
        os.makedirs(os.path.join(root, d), exist_ok=True)
    shutil.copy2(BUSYBOX, os.path.join(root, "bin", "busybox"))
    for a in APPLETS:
        os.symlink("busybox", os.path.join(root, "bin", a))
    tar = os.path.join(where, "rootfs.tar")
    subprocess.run(["tar", "-C", root, "-cf", tar, "."], check=True)
    shutil.rmtree(root)
    return tar


class _Runtime:
    """What both runtimes share: a base directory, the cgroups and host
    directories they may leave, and cleanup that runs once."""

    kind = "?"

    def __init__(self):
        err = available()
        if err:
            raise RuntimeError(err)
        self.t0 = time.time()
        self.base = tempfile.mkdtemp(prefix="kp%s-%d-" % (self.kind[0], os.getpid()), dir="/tmp")
        self.host_before = {d for d in HOST_DIRS if os.path.exists(d)}
        self.cgroup_parents = []        # e.g. "docker": removed when empty and new
        self.cg_before = set()
        self.containers = []            # names
        self.ids = []
        self.images = []
        self.closed = False
        _LIVE.append(self)

    def note_cgroup_parent(self, name):
        for m in _cgroup_mounts():
            if os.path.isdir(os.path.join(m, name)):
                self.cg_before.add(os.path.join(m, name))
        self.cgroup_parents.append(name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        if self.closed:
            return
        self.closed = True
        try:
            self._stop()
        finally:
            self._remove_leftovers()
            if self in _LIVE:
                _LIVE.remove(self)

    def container_cgroup(self, cid):
        """The cgroup (relative to a mount) the runtime makes for `cid`."""
        raise NotImplementedError

    def _remove_leftovers(self):
        # tasks of our containers, then processes still naming our base
        # (containerd, shims, conmon): all ours, killed by pid
        pids = set(_pids_with(self.base))
        for cid in self.ids:
            for m in _cgroup_mounts():
                try:
                    with open(os.path.join(m, self.container_cgroup(cid).lstrip("/"),
                                           "cgroup.procs")) as f:
                        pids |= {int(x) for x in f.read().split()}
                except OSError:
                    pass
        _kill(sorted(pids))
        for mp in _mounts_under(self.base):
            subprocess.run(["umount", "-n", "-l", mp], stderr=subprocess.DEVNULL)
        shutil.rmtree(self.base, ignore_errors=True)
        for name in self.cgroup_parents:
            for m in _cgroup_mounts():
                top = os.path.join(m, name)
                if top in self.cg_before or not os.path.isdir(top):
                    continue
                # children first; a cgroup with tasks (someone else's) stays
                for d, _, _ in sorted(os.walk(top), key=lambda w: -len(w[0])):
                    try:
                        os.rmdir(d)
                    except OSError:
                        pass
        for d in HOST_DIRS:             # listed children first
            if d not in self.host_before:
                try:
                    os.rmdir(d)
                except OSError:
                    pass


class Dockerd(_Runtime):
    """A dockerd of the test's own: cgroupfs driver, no bridge, no iptables,
    its own data root, exec root, pid file, socket and config file."""

    kind = "docker"

    def __init__(self, timeout=60):
        super().__init__()
        self.note_cgroup_parent("docker")
        b = self.base
        self.data_root = os.path.join(b, "data")
        self.exec_root = os.path.join(b, "exec")
        self.sock = os.path.join(b, "docker.sock")
        with open(os.path.join(b, "daemon.json"), "w") as f:
            # not /etc/docker/daemon.json; not /etc/docker/key.json either
            json.dump({"deprecated-key-path": os.path.join(b, "key.json")}, f)
        self.log = open(os.path.join(b, "dockerd.log"), "w+")
        self.proc = subprocess.Popen(
            [DOCKERD, "--data-root", self.data_root, "--exec-root", self.exec_root,
             "--pidfile", os.path.join(b, "dockerd.pid"), "-H", "unix://" + self.sock,
             "--config-file", os.path.join(b, "daemon.json"),
             "--exec-opt", "native.cgroupdriver=cgroupfs", "--storage-driver", "overlay2",
             "--bridge", "none", "--iptables=false", "--ip-masq=false", "--ip-forward=false",
             "--userland-proxy=false", "--log-level", "warn"],
            stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            self._wait_ready(timeout)
        except Exception:
            self.close()
            raise
        self.ready_s = time.time() - self.t0

    def _ping(self):
        s = socket.socket(socket.AF_UNIX)
        s.settimeout(2)
        try:
            s.connect(self.sock)
            c = http.client.HTTPConnection("localhost")
            c.sock = s
            c.request("GET", "/_ping")
            return c.getresponse().status == 200
        except OSError:
            return False
        finally:
            s.close()

    def _wait_ready(self, timeout):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("dockerd exited %d: %s" % (self.proc.returncode, self.log_tail()))
            if os.path.exists(self.sock) and self._ping():
                return
            time.sleep(0.05)
        raise RuntimeError("dockerd not ready after %ds: %s" % (timeout, self.log_tail()))

    def log_tail(self, n=20):
        self.log.flush()
        with open(self.log.name) as f:
            return "".join(f.readlines()[-n:])

    def cli(self, *args, check=True, timeout=120):
        r = subprocess.run([DOCKER, "-H", "unix://" + self.sock] + list(args),
                           capture_output=True, text=True, timeout=timeout)
        if check and r.returncode:
            raise RuntimeError("docker %s: %s%s" % (" ".join(args), r.stderr, self.log_tail(5)))
        return r.stdout.strip()

    def import_busybox(self, tag=None):
        """An image made from busybox-static by `docker import`."""
        tag = tag or "kpulse-test-busybox:%d" % os.getpid()
        self.cli("import", "-c", 'CMD ["/bin/sh"]', busybox_rootfs_tar(self.base), tag)
        self.images.append(tag)
        return tag

    def run(self, name, image, *cmd, args=()):
        """docker run -d --name NAME; returns the full id."""
        self.containers.append(name)
        cid = self.cli("run", "-d", "--name", name, "--network", "none", *args, image, *cmd)
        self.ids.append(cid)
        return cid

    def container_cgroup(self, cid):
        return "/docker/" + cid

    def _remove_leftovers(self):
        # a shim killed before it could clean up leaves its socket, named
        # sha256(<containerd address>/<namespace>/<id>) (containerd 1.6,
        # runtime/v2/shim SocketAddress)
        addr = os.path.join(self.exec_root, "containerd", "containerd.sock")
        for cid in self.ids:
            h = hashlib.sha256(os.path.join(addr, "moby", cid).encode()).hexdigest()
            try:
                os.unlink(os.path.join("/run/containerd/s", h))
            except OSError:
                pass
        super()._remove_leftovers()

    def inspect(self, name):
        return json.loads(self.cli("inspect", name))[0]

    def pid(self, name):
        return self.inspect(name)["State"]["Pid"]

    def _stop(self):
        try:
            if self.proc.poll() is None:
                for name in self.containers:
                    self.cli("rm", "-f", name, check=False, timeout=30)
                for img in self.images:
                    self.cli("rmi", "-f", img, check=False, timeout=30)
        except (subprocess.TimeoutExpired, OSError):
            pass
        finally:
            if self.proc.poll() is None:
                self.proc.send_signal(signal.SIGTERM)
                try:
                    self.proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait()
            self.log.close()


class Podman(_Runtime):
    """podman with its own --root, --runroot and --tmpdir, the cgroupfs
    manager (systemd is not PID 1 here) and no events log."""

    kind = "podman"

    def __init__(self):
        super().__init__()
        self.note_cgroup_parent("libpod_parent")
        b = self.base
        self.root = os.path.join(b, "root")
        self.runroot = os.path.join(b, "run")
        for d in (self.root, self.runroot, os.path.join(b, "tmp")):
            os.mkdir(d)
        conf = os.path.join(b, "containers.conf")
        with open(conf, "w") as f:
            f.write("[engine]\nevents_logger = \"none\"\n")
        self.env = dict(os.environ, CONTAINERS_CONF=conf,
                        CONTAINERS_STORAGE_CONF=os.path.join(b, "storage.conf"))
        with open(self.env["CONTAINERS_STORAGE_CONF"], "w") as f:
            f.write('[storage]\ndriver = "overlay"\ngraphroot = "%s"\nrunroot = "%s"\n'
                    % (self.root, self.runroot))
        # runc, as docker's: podman would take crun first where it is installed
        self.glob = ["--runtime", "runc", "--root", self.root, "--runroot", self.runroot,
                     "--tmpdir", os.path.join(b, "tmp"), "--cgroup-manager", "cgroupfs",
                     "--events-backend", "none", "--storage-driver", "overlay"]
        self.ready_s = time.time() - self.t0

    def cli(self, *args, check=True, timeout=120, private_cache=False):
        argv = [PODMAN] + self.glob + list(args)
        if private_cache:
            argv = self._with_private_cache(argv)
        r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=self.env)
        if check and r.returncode:
            raise RuntimeError("podman %s: %s" % (" ".join(args), r.stderr))
        return r.stdout.strip()

    def _with_private_cache(self, argv):
        """containers/image keeps a blob cache in /var/lib/containers/cache
        whatever --root says: copy images in a mount namespace where that
        directory is a tmpfs that ends with the command."""
        cache = "/var/lib/containers"
        os.makedirs(cache, exist_ok=True)       # removed at close if new
        script = 'mount -n -t tmpfs kpulse-test "%s" && exec "$@"' % cache
        return ["unshare", "--mount", "--propagation", "private", "--",
                "sh", "-c", script, "sh"] + argv

    def import_busybox(self, tag=None):
        tag = tag or "localhost/kpulse-test-busybox:%d" % os.getpid()
        self.cli("import", "--change", 'CMD ["/bin/sh"]', busybox_rootfs_tar(self.base), tag,
                 private_cache=True)
        self.images.append(tag)
        return tag

    def run(self, name, image, *cmd, args=()):
        """podman run -d --name NAME; returns the full id. Limits on open
        files and processes are set explicitly: podman's defaults raise them
        past the hard limits, which needs CAP_SYS_RESOURCE."""
        self.containers.append(name)
        cid = self.cli("run", "-d", "--name", name, "--network", "none",
                       "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=4096:4096",
                       *args, image, *cmd)
        self.ids.append(cid)
        return cid

    def container_cgroup(self, cid):
        return "/libpod_parent/libpod-" + cid

    def inspect(self, name):
        return json.loads(self.cli("inspect", name))[0]

    def pid(self, name):
        return self.inspect(name)["State"]["Pid"]

    def _stop(self):
        try:
            if self.containers:
                self.cli("rm", "-f", "-t", "0", *self.containers, check=False, timeout=60)
            if self.images:
                self.cli("rmi", "-f", *self.images, check=False, timeout=60)
        except (subprocess.TimeoutExpired, OSError):
            pass


def leftovers(rt):
    """What of `rt` is still on the host after close(): for the self-test."""
    left = []
    if os.path.exists(rt.base):
        left.append("base " + rt.base)
    left += ["process %d" % p for p in _pids_with(rt.base)]
    left += ["mount " + m for m in _mounts_under(rt.base)]
    for cid in rt.ids:
        for m in _cgroup_mounts():
            d = os.path.join(m, rt.container_cgroup(cid).lstrip("/"))
            if os.path.exists(d):
                left.append("cgroup " + d)
    for d in HOST_DIRS:
        if d not in rt.host_before and os.path.exists(d):
            left.append("host dir " + d)
    return left


def _selftest():
    """python3 tests/integration/runtimes.py: start both runtimes, run
    containers, check they are where this module says, close, check nothing
    is left; then the same after dockerd is killed with SIGKILL (orphaned
    shims and containers). Prints the time each step took."""
    ok = True
    for kind in (Dockerd, Podman):
        t0 = time.time()
        rt = kind()
        t1 = time.time()
        img = rt.import_busybox()
        t2 = time.time()
        cid = rt.run("selftest_%d" % os.getpid(), img, "sleep", "1000")
        t3 = time.time()
        where = cgroup_of(rt.pid("selftest_%d" % os.getpid()))
        assert where[""] == rt.container_cgroup(cid), (where, rt.container_cgroup(cid))
        rt.close()
        t4 = time.time()
        left = leftovers(rt)
        ok &= not left
        print("%s: start %.2fs, import %.2fs, run %.2fs, close %.2fs; left: %s"
              % (kind.kind, t1 - t0, t2 - t1, t3 - t2, t4 - t3, left or "nothing"))
    d = Dockerd()
    img = d.import_busybox()
    d.run("orphan_%d" % os.getpid(), img, "sleep", "1000")
    d.proc.kill()
    d.proc.wait()
    d.close()
    left = leftovers(d)
    ok &= not left
    print("docker after SIGKILL: left: %s" % (left or "nothing"))
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(_selftest())
