"""TLS and authentication through --web-config (issue 17, part 2), in the
exporter-toolkit format node_exporter uses, against a real daemon:

- a real Prometheus (Debian's) scrapes kpulse over TLS with basic auth and
  shows up == 1 through its own HTTP API; curl without credentials or with
  wrong ones gets 401, plain HTTP on the TLS port gets nothing;
- a flood of wrong passwords (bcrypt costs ~70 ms each) does not slow down
  an authorised scraper;
- certificates, users and a broken file change without a restart;
- with --user, root's own certificate files are served and rotated (the
  daemon keeps CAP_DAC_READ_SEARCH as another user), a missing one is a
  one-line error at start;
- mutual TLS: a client certificate from the configured CA (and, with
  client_allowed_sans, the right SAN) is needed to get through the
  handshake; Prometheus scrapes with one.

Certificates are made in the test with openssl, passwords hashed with
htpasswd -nBC 10, everything under a temporary folder removed at the end."""
import concurrent.futures as cf
import http.client
import json
import os
import pwd
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
import unittest
import urllib.parse
import urllib.request

import harness as h

USER, PASSWORD = "prom", "s3cret-scrape"


def openssl(*args, cwd):
    subprocess.run(["openssl"] + list(args), cwd=cwd, check=True, capture_output=True)


def make_ca(d, name):
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", name + ".key", "-out", name + ".crt", "-days", "2",
            "-subj", "/CN=" + name, cwd=d)


def make_cert(d, name, ca, ext):
    """A key and a certificate signed by @ca with the extensions @ext."""
    with open(os.path.join(d, name + ".ext"), "w") as f:
        f.write(ext + "\n")
    openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", name + ".key", "-out", name + ".csr", "-subj", "/CN=" + name, cwd=d)
    openssl("x509", "-req", "-in", name + ".csr", "-CA", ca + ".crt", "-CAkey", ca + ".key",
            "-CAcreateserial", "-out", name + ".crt", "-days", "2", "-extfile", name + ".ext",
            cwd=d)


def bcrypt(user, password):
    out = subprocess.run(["htpasswd", "-nbBC", "10", user, password], check=True,
                         capture_output=True, text=True).stdout
    return out.strip().split(":", 1)[1]


def write(path, text):
    """Replace @path at once (a rename), as a deployment tool would."""
    tmp = path + ".new"
    with open(tmp, "w") as f:
        f.write(text)
    os.rename(tmp, path)


def context(d, cert=None):
    ctx = ssl.create_default_context(cafile=os.path.join(d, "ca.crt"))
    if cert:
        ctx.load_cert_chain(os.path.join(d, cert + ".crt"), os.path.join(d, cert + ".key"))
    return ctx


def basic(user, password):
    import base64
    return {"Authorization": "Basic " + base64.b64encode(
        ("%s:%s" % (user, password)).encode()).decode()}


def get(port, path, ctx, headers=None, timeout=5):
    """(status, headers, body) over HTTPS; raises on a refused handshake."""
    c = http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=timeout)
    try:
        c.request("GET", path, headers=headers or {})
        r = c.getresponse()
        return r.status, r.headers, r.read()
    finally:
        c.close()


def refused(port, ctx):
    """True when the TLS handshake (or the first read after it: with TLS 1.3
    the server checks the client's certificate after the client is done)
    fails."""
    try:
        get(port, "/health", ctx)
    except (ssl.SSLError, ConnectionError, http.client.RemoteDisconnected, OSError):
        return True
    return False


def peer_cert(port, ctx):
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        with ctx.wrap_socket(s, server_hostname="127.0.0.1") as t:
            return t.getpeercert(binary_form=True)


def wait(what, fn, timeout):
    deadline = time.time() + timeout
    while time.time() < deadline:
        got = fn()
        if got:
            return got
        time.sleep(0.2)
    raise AssertionError("timed out waiting for " + what)


class Prometheus:
    """Debian's prometheus on a free loopback port, scraping one kpulse
    every second with @scrape (a dict of scrape_config keys)."""

    def __init__(self, tmp, target_port, scrape):
        self.port = h.free_port()
        self.dir = tempfile.mkdtemp(prefix="kpulse-prom-", dir=tmp)
        job = {"job_name": "kpulse", "scrape_interval": "1s", "scrape_timeout": "1s",
               "static_configs": [{"targets": ["127.0.0.1:%d" % target_port]}]}
        job.update(scrape)
        cfg = os.path.join(self.dir, "prometheus.yml")
        with open(cfg, "w") as f:
            json.dump({"global": {"scrape_interval": "1s"}, "scrape_configs": [job]}, f)
        self.log = open(os.path.join(self.dir, "log"), "w")
        self.proc = subprocess.Popen(
            ["prometheus", "--config.file=" + cfg, "--storage.tsdb.path=" + self.dir + "/data",
             "--web.listen-address=127.0.0.1:%d" % self.port],
            stdout=self.log, stderr=subprocess.STDOUT)

    def query(self, q):
        url = "http://127.0.0.1:%d/api/v1/query?query=%s" % (self.port, urllib.parse.quote(q))
        try:
            with urllib.request.urlopen(url, timeout=5) as r:
                return json.loads(r.read())["data"]["result"]
        except OSError:
            return []

    def target_health(self):
        url = "http://127.0.0.1:%d/api/v1/targets" % self.port
        try:
            with urllib.request.urlopen(url, timeout=5) as r:
                t = json.loads(r.read())["data"]["activeTargets"]
        except OSError:
            return None
        return t[0] if t else None

    def up(self):
        r = self.query('up{job="kpulse"}')
        return r and r[0]["value"][1] == "1"

    def stop(self):
        h.end_process(self.proc)
        self.log.close()


class TlsBasicAuthTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="kpulse-sec-%d-" % os.getpid())
        try:
            make_ca(cls.tmp, "ca")
            make_cert(cls.tmp, "server", "ca", "subjectAltName=IP:127.0.0.1,DNS:localhost")
            cls.web = os.path.join(cls.tmp, "web.yml")
            cls.hash = bcrypt(USER, PASSWORD)
            write(cls.web, "tls_server_config:\n  cert_file: server.crt\n"
                           "  key_file: server.key\nbasic_auth_users:\n  %s: %s\n"
                  % (USER, cls.hash))
            cls.ctx = context(cls.tmp)
            cls.d = h.Daemon("--web-config", cls.web, ready=cls.ready)
        except Exception:
            shutil.rmtree(cls.tmp, ignore_errors=True)
            raise

    @classmethod
    def ready(cls, d):
        try:
            get(d.port, "/health", cls.ctx)
            return True
        except OSError:
            return False

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def authed(self, path="/health", user=USER, password=PASSWORD):
        return get(self.d.port, path, self.ctx, basic(user, password))

    def test_prometheus_scrapes_over_tls_with_basic_auth(self):
        prom = Prometheus(self.tmp, self.d.port, {
            "scheme": "https",
            "tls_config": {"ca_file": os.path.join(self.tmp, "ca.crt")},
            "basic_auth": {"username": USER, "password": PASSWORD}})
        try:
            wait("Prometheus to report up == 1", prom.up, 40)
            n = prom.query('scrape_samples_scraped{job="kpulse"}')
            self.assertGreater(float(n[0]["value"][1]), 100)
            # and kpulse's own series arrived through it
            self.assertTrue(wait("a kpulse series in Prometheus",
                                 lambda: prom.query("kpulse_http_connections"), 10))
        finally:
            prom.stop()

    def test_credentials_and_plain_http(self):
        status, headers, _ = get(self.d.port, "/metrics", self.ctx)
        self.assertEqual(status, 401)
        self.assertIn("Basic", headers["WWW-Authenticate"])
        self.assertEqual(self.authed("/metrics", password="wrong")[0], 401)
        self.assertEqual(self.authed("/metrics", user="nobody")[0], 401)
        self.assertEqual(self.authed("/metrics")[0], 200)
        # every route is behind it, the API and the dashboard too
        for path in ("/", "/health", "/api/v1/containers", "/api/v1/alerts"):
            self.assertEqual(get(self.d.port, path, self.ctx)[0], 401, path)
        # plain HTTP on the TLS port: no answer at all
        s = socket.create_connection(("127.0.0.1", self.d.port), timeout=5)
        s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n" +
                  b"Authorization: " + basic(USER, PASSWORD)["Authorization"].encode() +
                  b"\r\n\r\n")
        try:
            answer = s.recv(4096)
        except OSError:
            answer = b""
        s.close()
        self.assertFalse(answer.startswith(b"HTTP/"), answer[:60])
        with self.assertRaises((ConnectionError, http.client.RemoteDisconnected, OSError)):
            c = http.client.HTTPConnection("127.0.0.1", self.d.port, timeout=5)
            c.request("GET", "/metrics", headers=basic(USER, PASSWORD))
            c.getresponse().read()

    def curl(self, *args):
        """curl's exit code and the HTTP status it printed."""
        p = subprocess.run(["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}",
                            "--max-time", "5", "--cacert", os.path.join(self.tmp, "ca.crt")]
                           + list(args), capture_output=True, text=True)
        return p.returncode, p.stdout

    def test_curl(self):
        """The same with curl (GnuTLS or OpenSSL, as Debian builds it)."""
        url = "https://127.0.0.1:%d/metrics" % self.d.port
        self.assertEqual(self.curl(url), (0, "401"))
        self.assertEqual(self.curl("-u", USER + ":wrong", url), (0, "401"))
        self.assertEqual(self.curl("-u", "%s:%s" % (USER, PASSWORD), url), (0, "200"))
        self.assertEqual(self.curl("-u", "%s:%s" % (USER, PASSWORD), "--compressed", url),
                         (0, "200"))
        # plain HTTP on the TLS port: curl gets no HTTP answer
        rc, code = self.curl("-u", "%s:%s" % (USER, PASSWORD),
                             "http://127.0.0.1:%d/metrics" % self.d.port)
        self.assertNotEqual(rc, 0)
        self.assertEqual(code, "000")

    def test_wrong_password_flood_does_not_block_scrapes(self):
        """Each wrong password costs a bcrypt (~70 ms) on a worker thread,
        a bounded number at a time: an authorised scraper is still
        answered at once."""
        self.authed()  # its verdict is remembered
        worst = 0.0

        def refusals():
            m = h.parse_metrics(self.authed("/metrics")[2].decode())
            return sum(h.value(m, "kpulse_http_rejected_total", reason=r)
                       for r in ("unauthorized", "auth_busy"))
        before = refusals()

        def guess(i):
            try:
                return self.authed("/metrics", password="guess-%d" % i)[0]
            except OSError:
                return None
        with cf.ThreadPoolExecutor(24) as ex:
            flood = [ex.submit(guess, i) for i in range(120)]
            for _ in range(10):
                t = time.monotonic()
                self.assertEqual(self.authed("/metrics")[0], 200)
                worst = max(worst, time.monotonic() - t)
                time.sleep(0.1)
            codes = [f.result() for f in flood]
        print("\n  authorised scrape during a wrong-password flood: worst %.0f ms; "
              "flood answered %s" % (worst * 1e3, sorted(set(codes), key=str)))
        self.assertLess(worst, 1.0)
        self.assertTrue(set(codes) <= {401, 503}, codes)
        self.assertEqual(refusals() - before, 120)

    def test_changes_apply_without_restart(self):
        """A new certificate is served from the next connection on, a new
        user works, and a broken file changes nothing (logged once)."""
        pid = self.d.proc.pid
        before = peer_cert(self.d.port, self.ctx)
        orig_cert = open(os.path.join(self.tmp, "server.crt")).read()
        orig_key = open(os.path.join(self.tmp, "server.key")).read()
        orig_web = open(self.web).read()
        try:
            make_cert(self.tmp, "server2", "ca", "subjectAltName=IP:127.0.0.1")
            write(os.path.join(self.tmp, "server.key"),
                  open(os.path.join(self.tmp, "server2.key")).read())
            write(os.path.join(self.tmp, "server.crt"),
                  open(os.path.join(self.tmp, "server2.crt")).read())
            after = wait("the new certificate",
                         lambda: (lambda c: c if c != before else None)(
                             peer_cert(self.d.port, self.ctx)), 10)
            self.assertEqual(ssl.DER_cert_to_PEM_cert(after).strip(),
                             open(os.path.join(self.tmp, "server2.crt")).read().strip())
            self.assertEqual(self.authed()[0], 200)
            # a second user
            write(self.web, orig_web + "  grafana: %s\n" % bcrypt("grafana", "dash-pw"))
            wait("the new user", lambda: self.authed(user="grafana",
                                                     password="dash-pw")[0] == 200, 10)
            # a broken file: refused, logged, nothing changes
            write(self.web, "tls_server_config: [\n")
            wait("the refusal logged",
                 lambda: "keeping the running TLS settings and users" in self.d.stderr(), 10)
            time.sleep(2.5)
            self.assertEqual(self.d.stderr().count("keeping the running TLS"), 1)
            self.assertEqual(self.authed(user="grafana", password="dash-pw")[0], 200)
            self.assertEqual(peer_cert(self.d.port, self.ctx), after)
            self.assertEqual(self.d.proc.pid, pid)
            self.assertIsNone(self.d.proc.poll())
            # SIGHUP re-reads it even unchanged: refused (and logged) again
            self.d.proc.send_signal(signal.SIGHUP)
            wait("the refusal logged again after SIGHUP",
                 lambda: self.d.stderr().count("keeping the running TLS") == 2, 10)
        finally:
            write(os.path.join(self.tmp, "server.key"), orig_key)
            write(os.path.join(self.tmp, "server.crt"), orig_cert)
            write(self.web, orig_web)
            wait("the original certificate back",
                 lambda: peer_cert(self.d.port, self.ctx) == before, 10)


class MutualTlsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="kpulse-mtls-%d-" % os.getpid())
        try:
            make_ca(cls.tmp, "ca")
            make_ca(cls.tmp, "rogue")
            make_cert(cls.tmp, "server", "ca", "subjectAltName=IP:127.0.0.1")
            make_cert(cls.tmp, "client", "ca",
                      "subjectAltName=DNS:prometheus.test\nextendedKeyUsage=clientAuth")
            make_cert(cls.tmp, "other", "ca",
                      "subjectAltName=DNS:other.test\nextendedKeyUsage=clientAuth")
            make_cert(cls.tmp, "stranger", "rogue",
                      "subjectAltName=DNS:prometheus.test\nextendedKeyUsage=clientAuth")
            web = os.path.join(cls.tmp, "web.yml")
            write(web, "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n"
                       "  client_auth_type: RequireAndVerifyClientCert\n"
                       "  client_ca_file: ca.crt\n"
                       "  client_allowed_sans: [prometheus.test]\n")
            cls.d = h.Daemon("--web-config", web, ready=cls.ready)
        except Exception:
            shutil.rmtree(cls.tmp, ignore_errors=True)
            raise

    @classmethod
    def ready(cls, d):
        try:
            get(d.port, "/health", context(cls.tmp, "client"))
            return True
        except OSError:
            return False

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_client_certificates(self):
        self.assertEqual(get(self.d.port, "/metrics", context(self.tmp, "client"))[0], 200)
        self.assertTrue(refused(self.d.port, context(self.tmp)), "no certificate")
        self.assertTrue(refused(self.d.port, context(self.tmp, "stranger")), "another CA")
        self.assertTrue(refused(self.d.port, context(self.tmp, "other")), "SAN not allowed")
        # TLS 1.2 takes the same path
        ctx = context(self.tmp)
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
        self.assertTrue(refused(self.d.port, ctx), "no certificate, TLS 1.2")
        self.assertIsNone(self.d.proc.poll())

    def test_prometheus_with_a_client_certificate(self):
        prom = Prometheus(self.tmp, self.d.port, {
            "scheme": "https",
            "tls_config": {"ca_file": os.path.join(self.tmp, "ca.crt"),
                           "cert_file": os.path.join(self.tmp, "client.crt"),
                           "key_file": os.path.join(self.tmp, "client.key")}})
        try:
            wait("Prometheus to report up == 1", prom.up, 40)
        finally:
            prom.stop()


class TlsAsAnotherUserTest(unittest.TestCase):
    """--user with --web-config: the files are read after the switch (and
    on every change). The daemon keeps CAP_DAC_READ_SEARCH as another user
    (README's capability table), so certificates kept as root's own, 0600
    in a 0700 folder as a deployment tool leaves them, are read."""

    def setUp(self):
        self.user = pwd.getpwnam("nobody")
        self.tmp = tempfile.mkdtemp(prefix="kpulse-usertls-%d-" % os.getpid())
        self.addCleanup(shutil.rmtree, self.tmp, True)
        make_ca(self.tmp, "ca")
        make_cert(self.tmp, "server", "ca", "subjectAltName=IP:127.0.0.1")
        make_cert(self.tmp, "server2", "ca", "subjectAltName=IP:127.0.0.1")
        self.web = os.path.join(self.tmp, "web.yml")
        write(self.web, "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n")
        for name in ("server.crt", "server.key", "server2.crt", "server2.key", "web.yml"):
            os.chmod(os.path.join(self.tmp, name), 0o600)
        self.assertEqual(os.stat(self.tmp).st_mode & 0o777, 0o700)
        self.ctx = context(self.tmp)

    def pem(self, name):
        with open(os.path.join(self.tmp, name)) as f:
            return f.read().strip()

    def served(self, port):
        return ssl.DER_cert_to_PEM_cert(peer_cert(port, self.ctx)).strip()

    def test_serves_and_rotates_as_the_user(self):
        def ready(d):
            try:
                return get(d.port, "/health", self.ctx)[0] == 200
            except OSError:
                return False
        d = h.Daemon("--user", "nobody", "--web-config", self.web, ready=ready)
        self.addCleanup(d.stop)
        with open("/proc/%d/status" % d.proc.pid) as f:
            uid = [l.split()[1] for l in f if l.startswith("Uid:")][0]
        self.assertEqual(int(uid), self.user.pw_uid)
        self.assertEqual(self.served(d.port), self.pem("server.crt"))
        # rotated (root's files still, written at once) without a restart
        for ext in ("key", "crt"):
            os.rename(os.path.join(self.tmp, "server2." + ext),
                      os.path.join(self.tmp, "server." + ext))
        wait("the new certificate", lambda: self.served(d.port) == self.pem("server.crt"), 10)
        self.assertEqual(get(d.port, "/health", self.ctx)[0], 200)
        self.assertIsNone(d.proc.poll())

    def test_a_missing_key_is_one_line_at_start(self):
        os.unlink(os.path.join(self.tmp, "server.key"))
        r = subprocess.run([h.KPULSE, "daemon", "--listen", "127.0.0.1:%d" % h.free_port(),
                            "--user", "nobody", "--web-config", self.web],
                           capture_output=True, text=True, timeout=30)
        print("\n  " + r.stderr.strip())
        self.assertNotEqual(r.returncode, 0)
        # one line says what is wrong (before it, only the info line on
        # the privileges kept)
        lines = r.stderr.strip().splitlines()
        self.assertEqual([l for l in lines if "privileges:" not in l], lines[-1:], r.stderr)
        self.assertIn("key_file: cannot open " + os.path.join(self.tmp, "server.key"), lines[-1])

if __name__ == "__main__":
    unittest.main()
