"""A short run of a kpulse built with ASan+UBSan (make sanitize): the daemon
serves every endpoint (and bad requests), reloads a good and a bad config,
stops on SIGTERM; the commands run once each. Any sanitizer report, a
crash, or a non-zero exit fails it. The seccomp filter is off here: the
leak checker stops the process's threads with ptrace at exit."""
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

REPORTS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
           "SUMMARY: UndefinedBehaviorSanitizer")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def clean(what, text):
    for r in REPORTS:
        if r in text:
            print(text[-6000:])
            raise SystemExit("sanitize: %s: %s" % (what, r))


def get(port, path, method="GET", headers=None):
    req = urllib.request.Request("http://127.0.0.1:%d%s" % (port, path), method=method,
                                 headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def daemon(kpulse):
    port = free_port()
    tmp = tempfile.mkdtemp(prefix="kpulse-san-")
    cfg = os.path.join(tmp, "kpulse.yaml")
    good = ("seccomp: off\nadmin_token: sanitize-token-123\n"
            "alerts:\n  - {name: Busy, metric: cpu_cores, threshold: 0, clear: 0}\n")
    with open(cfg, "w") as f:
        f.write(good)
    err = open(os.path.join(tmp, "stderr"), "w+")
    p = subprocess.Popen([kpulse, "daemon", "--listen", "127.0.0.1:%d" % port, "--interval",
                          "1s", "--config", cfg], stderr=err, stdout=subprocess.DEVNULL)
    try:
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                if get(port, "/health")[0] == 200:
                    break
            except OSError:
                time.sleep(0.2)
        time.sleep(2.5)
        paths = ["/", "/metrics", "/health", "/api/v1/containers", "/api/v1/containers/%2F",
                 "/api/v1/containers/nope", "/api/v1/node", "/api/v1/alerts",
                 "/api/v1/history?metric=cpu_cores", "/api/v1/history?metric=x",
                 "/api/v1/history?metric=cpu_cores&window=nan", "/nope", "/" + "a" * 5000]
        for path in paths:
            get(port, path)
        get(port, "/metrics", headers={"Accept": "application/openmetrics-text"})
        get(port, "/api/v1/alerts/0123/ack", "POST",
            {"Authorization": "Bearer sanitize-token-123"})
        get(port, "/metrics", "DELETE")
        with open(cfg, "w") as f:
            f.write("interval: [\n")
        p.send_signal(signal.SIGHUP)
        time.sleep(0.5)
        with open(cfg, "w") as f:
            f.write(good.replace("Busy", "Busier"))
        p.send_signal(signal.SIGHUP)
        time.sleep(1.5)
        get(port, "/metrics")
        p.send_signal(signal.SIGTERM)
        code = p.wait(timeout=60)
    finally:
        if p.poll() is None:
            p.kill()
    err.seek(0)
    text = err.read()
    clean("daemon", text)
    if code != 0:
        print(text[-4000:])
        raise SystemExit("sanitize: the daemon exited %d" % code)
    print("== sanitize: daemon clean (every endpoint, bad requests, two reloads, SIGTERM)")


def commands(kpulse):
    for argv in (["check"], ["check", "--json"], ["snapshot", "-d", "1s"],
                 ["snapshot", "-d", "1s", "--format", "json"],
                 ["snapshot", "-d", "1s", "--format", "prom"],
                 ["latency", "runq", "-i", "500ms", "-n", "2"],
                 ["latency", "request", "-i", "500ms", "--per-container"],
                 ["slow", "--runq", "1ms", "-d", "1s", "--json"],
                 ["top", "-i", "500ms", "-n", "2"], ["snapshot", "-d", "soon"], ["help"]):
        r = subprocess.run([kpulse] + argv, capture_output=True, text=True, timeout=120)
        clean(" ".join(argv), r.stderr)
        if r.returncode not in (0, 64):
            print(r.stderr[-3000:])
            raise SystemExit("sanitize: kpulse %s exited %d" % (" ".join(argv), r.returncode))
    print("== sanitize: commands clean")


if __name__ == "__main__":
    daemon(sys.argv[1])
    commands(sys.argv[1])
