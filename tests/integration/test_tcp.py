"""TCP and request-latency figures against independent sources: wrk's own
report, the byte and connection counts of the test server, nginx's access
log, the network namespace's own SNMP counters, `ss`. Real servers, real
clients, real cgroups; network namespaces and nftables rules the tests make
are removed afterwards, as are cgroups and processes."""
import glob
import os
import pwd
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

import harness as h

DELAY_SERVER = os.path.join(h.ROOT, ".output", "delay_server")
DELAY_S = 0.020
LATE_S = 0.050  # how late the late readers read
SECS = 4
BODY = 16 << 10

RTT = "kpulse_container_tcp_rtt_seconds"
CONNECT = "kpulse_container_tcp_connect_latency_seconds"
CONNS = "kpulse_container_tcp_connections_total"
RETRANS = "kpulse_container_tcp_retransmits_total"
RESETS = "kpulse_container_tcp_resets_total"
ESTAB = "kpulse_container_tcp_established"
RX = "kpulse_container_network_receive_bytes_total"
TX = "kpulse_container_network_transmit_bytes_total"
REQ = "kpulse_container_request_latency_seconds"


def total(m, name, **labels):
    """Sum of every series of `name` whose labels include `labels` (0 if none)."""
    return sum(v for _, v in h.series(m, name, **labels))


def delta(m1, m0, name, **labels):
    return total(m1, name, **labels) - total(m0, name, **labels)


def wrk_duration(s):
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", s)
    return float(m.group(1)) * {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}[m.group(2)]


def parse_wrk(out):
    """wrk's own figures: completed requests, mean and median latency (s)."""
    try:
        r = {"requests": int(re.search(r"(\d+) requests in", out).group(1))}
        r["mean"] = wrk_duration(re.search(r"^\s*Latency\s+(\S+)", out, re.M).group(1))
        p50 = re.search(r"^\s*50%\s+(\S+)", out, re.M)
        r["p50"] = wrk_duration(p50.group(1)) if p50 else None
    except (AttributeError, ValueError):
        raise AssertionError("cannot read wrk's output:\n" + out)
    errors = re.search(r"Socket errors: (.*)", out)
    r["errors"] = errors.group(1) if errors else ""
    return r


def bucket_of(hist, q):
    """(lower, upper) `le` bounds of the bucket holding quantile q."""
    up = h.quantile(hist, q)
    lower = max([le for le, _ in hist if le < up], default=0.0)
    return lower, up


def req_hist(m, cg_rel, direction):
    """Request-latency histogram of one container and direction, all ports."""
    rows = {}
    for lab, v in h.series(m, REQ + "_bucket", cgroup=cg_rel, direction=direction):
        rows[float(lab["le"])] = rows.get(float(lab["le"]), 0) + v
    return sorted(rows.items())


def stop_delay_server(p):
    """SIGTERM; the server's totals: requests, connections, rx/tx bytes."""
    p.send_signal(signal.SIGTERM)
    out, _ = p.communicate(timeout=10)
    f = re.search(r"requests (\d+) connections (\d+) rx_bytes (\d+) tx_bytes (\d+)", out)
    if not f:
        raise AssertionError("delay_server said: %r" % out)
    return dict(zip(("requests", "connections", "rx", "tx"), map(int, f.groups())))


def start_delay_server(cg, path, delay_ms=int(DELAY_S * 1000), body=64, late=False):
    """late: the delay is spent before reading each request (it waits
    unread in the socket), which is then answered at once."""
    p = cg.run(path, [DELAY_SERVER, "-d", str(delay_ms), "-b", str(body)] + (["-l"] if late else []),
               stdout=subprocess.PIPE, text=True)
    line = p.stdout.readline()
    if not line.startswith("listening "):
        raise AssertionError("delay_server did not start: %r" % line)
    return p, int(line.split()[1])


# A sink: listens on argv[1]:argv[2] (0: any port), prints its port, reads
# one connection to the end and prints how many bytes came.
SINK = r"""
import socket, sys
l = socket.socket(); l.bind((sys.argv[1], int(sys.argv[2]))); l.listen(1)
print(l.getsockname()[1], flush=True)
s, n = l.accept()[0], 0
while True:
    b = s.recv(65536)
    if not b:
        break
    n += len(b)
print(n, flush=True)
"""


# A client of the delay server (64-byte bodies): for each PORT:N argument,
# one connection, N requests one after the other, each answer read whole.
CLIENT = r"""
import socket, sys
for arg in sys.argv[1:]:
    port, n = map(int, arg.split(":"))
    s = socket.create_connection(("127.0.0.1", port))
    for _ in range(n):
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        buf = b""
        while b"\r\n\r\n" not in buf or len(buf) < buf.index(b"\r\n\r\n") + 4 + 64:
            buf += s.recv(4096)
    s.close()
"""


# A client of the delay server that reads each answer late: for argv[2]
# requests on one connection to port argv[1], sends it, sleeps argv[3] s
# (the answer waits unread), then reads the answer whole. Prints the mean
# time from send to having read the answer, as it saw it.
LATE_CLIENT = r"""
import socket, sys, time
port, n, late = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
s = socket.create_connection(("127.0.0.1", port))
took = 0.0
for _ in range(n):
    t0 = time.perf_counter()
    s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    time.sleep(late)
    buf = b""
    while b"\r\n\r\n" not in buf or len(buf) < buf.index(b"\r\n\r\n") + 4 + 64:
        buf += s.recv(4096)
    took += time.perf_counter() - t0
s.close()
print(took / n)
"""


def req_mean(m1, m0, lab, direction):
    """(requests, mean latency in s) of one container and direction
    between two scrapes."""
    n = delta(m1, m0, REQ + "_count", direction=direction, **lab)
    return n, delta(m1, m0, REQ + "_sum", direction=direction, **lab) / max(n, 1)


# TCP_INFO's tcpi_segs_in (struct tcp_info, linux/tcp.h): segments the
# socket received, read just before each side closes. tcp_probe fires for
# those that arrive while ESTABLISHED: all but the server's SYN and
# handshake ACK and the client's SYN-ACK.
SEGS_IN = r"""
import socket, struct
def segs_in(s):
    return struct.unpack_from("I", s.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 232), 140)[0]
"""

# An echo-ish server: argv[1] connections one after another, each answered
# (64 bytes per 32 read) until the client closes; prints its port, then the
# segments its sockets received.
SEG_SERVER = SEGS_IN + r"""
import sys
l = socket.socket(); l.bind(("127.0.0.1", 0)); l.listen(8)
print(l.getsockname()[1], flush=True)
total = 0
for _ in range(int(sys.argv[1])):
    s = l.accept()[0]
    pend = 0
    while True:
        b = s.recv(4096)
        if not b:
            break
        pend += len(b)
        while pend >= 32:
            s.sendall(b"r" * 64)
            pend -= 32
    total += segs_in(s)
    s.close()
print(total, flush=True)
"""

# Its client: argv[2] connections to port argv[1], argv[3] requests each;
# prints the segments its sockets received.
SEG_CLIENT = SEGS_IN + r"""
import sys
total = 0
for _ in range(int(sys.argv[2])):
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
    for _ in range(int(sys.argv[3])):
        s.sendall(b"q" * 32)
        got = 0
        while got < 64:
            got += len(s.recv(4096))
    total += segs_in(s)
    s.close()
print(total)
"""


def run_in(cg, path, code, *args, timeout=30):
    """Run a Python snippet inside cgroup `path`; its stdout."""
    p = cg.run(path, [sys.executable, "-c", code] + [str(a) for a in args],
               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out, err = p.communicate(timeout=timeout)
    if p.returncode:
        raise AssertionError("helper failed (%d): %s" % (p.returncode, err))
    return out


class TcpBase(unittest.TestCase):
    env = None
    args = ()

    @classmethod
    def setUpClass(cls):
        if not os.access(DELAY_SERVER, os.X_OK):
            raise unittest.SkipTest("%s not built (make %s)" % (DELAY_SERVER, DELAY_SERVER))
        cls.d = h.Daemon(*cls.args, env=cls.env)

    @classmethod
    def tearDownClass(cls):
        code, err = cls.d.stop()
        if code != 0:
            raise AssertionError("kpulse exited %d: %s" % (code, err))

    def setUp(self):
        self.cg = h.Cgroups()
        self.addCleanup(self.cg.cleanup)

    def until(self, pred, timeout=6.0):
        """The first scrape for which pred(m) holds, or the last one after
        `timeout` s (the caller's assertions then say what is wrong). New
        cgroups are named by the next walk of the tree (<= 1 s), and on a
        busy host softirq work can trail the task that caused it."""
        deadline = time.time() + timeout
        while True:
            m = self.d.metrics()
            if pred(m) or time.time() > deadline:
                return m
            time.sleep(0.2)

    def shown(self, *paths, name=TX, timeout=6.0):
        """A scrape in which every cgroup in `paths` has a `name` series."""
        return self.until(lambda m: all(h.series(m, name, cgroup=self.cg.rel(p))
                                        for p in paths), timeout)

    def rtt_against_segments(self, conns, reqs):
        """Server in A, client in B, `conns` connections of `reqs` requests:
        RTT histogram counts of A and B and the segments the kernel says
        each received while ESTABLISHED (see SEGS_IN), once the counts
        stop moving."""
        a, b = self.cg.make("rttsrv"), self.cg.make("rttcli")
        srv = self.cg.run(a, [sys.executable, "-c", SEG_SERVER, str(conns)],
                          stdout=subprocess.PIPE, text=True)
        port = int(srv.stdout.readline())
        cli_segs = int(run_in(self.cg, b, SEG_CLIENT, port, conns, reqs, timeout=120)) - conns
        srv_segs = int(srv.communicate(timeout=30)[0]) - 2 * conns
        A, B = {"cgroup": self.cg.rel(a)}, {"cgroup": self.cg.rel(b)}
        last = [None]

        def settled(m):
            now = (total(m, RTT + "_count", **A), total(m, RTT + "_count", **B))
            done, last[0] = now == last[0], now
            return done

        time.sleep(1.0)
        m = self.until(settled, timeout=10)
        return (total(m, RTT + "_count", **A), srv_segs, total(m, RTT + "_count", **B), cli_segs,
                total(m, RTT + "_sum", **A) / max(1, total(m, RTT + "_count", **A)))

    def late_server_under_wrk(self, conns=4, secs=2):
        """A delay server in A that reads each request LATE_S after it came
        and answers it at once, wrk in B: wrk's figures, the server's
        totals, and kpulse's (requests, mean) for A inbound, B outbound."""
        a, b = self.cg.make("lateread"), self.cg.make("latewrk")
        srv, port = start_delay_server(self.cg, a, delay_ms=int(LATE_S * 1000), late=True)
        A, B = {"cgroup": self.cg.rel(a)}, {"cgroup": self.cg.rel(b)}
        m0 = self.shown(a, name="kpulse_container_cpu_seconds_total")
        w = self.cg.run(b, ["wrk", "-t1", "-c%d" % conns, "-d%ds" % secs, "--latency",
                            "http://127.0.0.1:%d/" % port],
                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        out, _ = w.communicate(timeout=secs + 30)
        self.assertEqual(w.returncode, 0, out)
        time.sleep(2 * LATE_S)  # requests wrk gave up on are still answered
        srv_totals = stop_delay_server(srv)
        wrk = parse_wrk(out)
        m1 = self.until(lambda m: delta(m, m0, REQ + "_count", direction="inbound", **A)
                        >= wrk["requests"]
                        and delta(m, m0, REQ + "_count", direction="outbound", **B) >= wrk["requests"])
        a_in, b_out = req_mean(m1, m0, A, "inbound"), req_mean(m1, m0, B, "outbound")
        print("\n  server reading %.0f ms late: wrk %d requests, mean %.2f ms; server answered %d;"
              " kpulse inbound %d, mean %.2f ms; outbound %d, mean %.2f ms"
              % (LATE_S * 1e3, wrk["requests"], wrk["mean"] * 1e3, srv_totals["requests"],
                 a_in[0], a_in[1] * 1e3, b_out[0], b_out[1] * 1e3))
        self.assertGreater(wrk["requests"], 0.5 * conns * secs / LATE_S)
        # every answer wrk read ends an inbound and an outbound request;
        # the server also answers the last request of each connection wrk
        # closed at the end, which counts unless the client's reset
        # closed the socket first (raw_tp: its state goes at CLOSE)
        self.assertGreaterEqual(a_in[0], wrk["requests"])
        self.assertLessEqual(a_in[0], srv_totals["requests"])
        self.assertAlmostEqual(b_out[0], wrk["requests"], delta=conns)
        return wrk, a_in, b_out

    def late_client(self, server_ms, n=20):
        """A delay server in A answering after server_ms, a client in B
        reading each answer LATE_S after sending its request: what the
        client saw (mean s), kpulse's (requests, mean) for A inbound and
        B outbound."""
        a, b = self.cg.make("prompt%d" % server_ms), self.cg.make("lateclient%d" % server_ms)
        srv, port = start_delay_server(self.cg, a, delay_ms=server_ms)
        A, B = {"cgroup": self.cg.rel(a)}, {"cgroup": self.cg.rel(b)}
        m0 = self.shown(a, name="kpulse_container_cpu_seconds_total")
        seen = float(run_in(self.cg, b, LATE_CLIENT, port, n, LATE_S))
        self.assertEqual(stop_delay_server(srv)["requests"], n)
        m1 = self.until(lambda m: delta(m, m0, REQ + "_count", direction="inbound", **A) >= n
                        and delta(m, m0, REQ + "_count", direction="outbound", **B) >= n)
        a_in, b_out = req_mean(m1, m0, A, "inbound"), req_mean(m1, m0, B, "outbound")
        print("\n  server answering after %d ms, client reading %.0f ms late: client saw %.2f ms;"
              " kpulse inbound %d, mean %.2f ms; outbound %d, mean %.2f ms"
              % (server_ms, LATE_S * 1e3, seen * 1e3, a_in[0], a_in[1] * 1e3, b_out[0], b_out[1] * 1e3))
        self.assertEqual(a_in[0], n)
        self.assertEqual(b_out[0], n)
        self.assertGreaterEqual(seen, LATE_S)
        return seen, a_in, b_out

    def wrk_against_delay_server(self, secs):
        """Delay server in cgroup A, wrk in cgroup B; returns everything.
        Responses carry BODY bytes, so this traffic dwarfs the host's
        background (other cgroups' share is checked against 1% of it)."""
        a, b = self.cg.make("server"), self.cg.make("client")
        srv, port = start_delay_server(self.cg, a, body=BODY)
        m0 = self.shown(a, name="kpulse_container_cpu_seconds_total")
        w = self.cg.run(b, ["wrk", "-t2", "-c10", "-d%ds" % secs, "--latency",
                            "http://127.0.0.1:%d/" % port],
                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        out, _ = w.communicate(timeout=secs + 30)
        self.assertEqual(w.returncode, 0, out)
        time.sleep(0.2)  # responses to requests wrk gave up on at the end
        srv_totals = stop_delay_server(srv)
        m1 = self.shown(a, b)
        return a, b, port, parse_wrk(out), srv_totals, m0, m1


class TcpTest(TcpBase):
    def test_delay_server_under_wrk(self):
        a, b, port, wrk, srv, m0, m1 = self.wrk_against_delay_server(SECS)
        A, B = {"cgroup": self.cg.rel(a)}, {"cgroup": self.cg.rel(b)}
        print("\n  wrk: %d requests, mean %.2f ms, p50 %.2f ms; server: %s"
              % (wrk["requests"], wrk["mean"] * 1e3, wrk["p50"] * 1e3, srv))
        self.assertGreater(wrk["requests"], 0.5 * 10 * SECS / DELAY_S)

        # request counts: A inbound, B outbound, both = wrk's (1%)
        a_in = delta(m1, m0, REQ + "_count", direction="inbound", **A)
        b_out = delta(m1, m0, REQ + "_count", direction="outbound", **B)
        print("  requests: A inbound %d, B outbound %d" % (a_in, b_out))
        self.assertAlmostEqual(a_in, wrk["requests"], delta=0.01 * wrk["requests"])
        self.assertAlmostEqual(b_out, wrk["requests"], delta=0.01 * wrk["requests"])
        self.assertEqual(delta(m1, m0, REQ + "_count", direction="outbound", **A), 0)
        self.assertEqual(delta(m1, m0, REQ + "_count", direction="inbound", **B), 0)
        # the port label: A's listening port, B's remote port
        self.assertEqual(len(h.series(m1, REQ + "_count", direction="inbound",
                                      port=str(port), **A)), 1)
        self.assertEqual(len(h.series(m1, REQ + "_count", direction="outbound",
                                      port=str(port), **B)), 1)

        # latency. The p50 bucket of /metrics holds D and wrk's own p50
        # (or its bound is within 10% of them); the mean (from _sum/_count,
        # not quantised) is within 10% of wrk's mean and never below D.
        for who, lab, direction in (("A", A, "inbound"), ("B", B, "outbound")):
            hist = req_hist(m1, lab["cgroup"], direction)
            lo, up = bucket_of(hist, 0.5)
            s = delta(m1, m0, REQ + "_sum", direction=direction, **lab)
            n = delta(m1, m0, REQ + "_count", direction=direction, **lab)
            print("  %s %s: p50 in (%g, %g], mean %.3f ms (wrk: p50 %.3f ms, mean %.3f ms)"
                  % (who, direction, lo, up, s / n * 1e3, wrk["p50"] * 1e3, wrk["mean"] * 1e3))
            for ref in (DELAY_S, wrk["p50"]):
                self.assertTrue(lo < ref <= up or abs(up - ref) <= 0.1 * ref, (lo, up, ref))
            self.assertAlmostEqual(s / n, wrk["mean"], delta=0.1 * wrk["mean"])
            self.assertGreaterEqual(s / n, DELAY_S)

        # connections: as many as the server accepted (wrk's -c plus its probe)
        conns = srv["connections"]
        self.assertGreaterEqual(conns, 10)
        self.assertEqual(delta(m1, m0, CONNS, direction="inbound", **A), conns)
        self.assertEqual(delta(m1, m0, CONNS, direction="outbound", **B), conns)
        self.assertEqual(delta(m1, m0, CONNS, direction="outbound", **A), 0)
        self.assertEqual(delta(m1, m0, CONNS, direction="inbound", **B), 0)
        self.assertEqual(total(m1, CONNECT + "_count", **B), conns)
        self.assertEqual(total(m1, CONNECT + "_count", **A), 0)

        # bytes: what the server read and wrote (2%); the client the mirror
        for got, want in ((delta(m1, m0, RX, **A), srv["rx"]), (delta(m1, m0, TX, **A), srv["tx"]),
                          (delta(m1, m0, TX, **B), srv["rx"]), (delta(m1, m0, RX, **B), srv["tx"])):
            self.assertAlmostEqual(got, want, delta=0.02 * want)
        print("  bytes: A rx %d tx %d, B rx %d tx %d; server rx %d tx %d"
              % (delta(m1, m0, RX, **A), delta(m1, m0, TX, **A), delta(m1, m0, RX, **B),
                 delta(m1, m0, TX, **B), srv["rx"], srv["tx"]))

        # RTT samples on both sides, charged to the socket's own cgroup
        # (how many: test_rtt_sampled_counts_segments)
        self.assertGreater(total(m1, RTT + "_count", **A), 0)
        self.assertGreater(total(m1, RTT + "_count", **B), 0)

        # >= 99% of this traffic lands in A or B. Requests carry the port:
        # exact. Bytes do not: everything every other cgroup on the host
        # moved meanwhile (scrapes, other work) must stay under 1% of it.
        all_req = delta(m1, m0, REQ + "_count", port=str(port))
        self.assertGreaterEqual(a_in + b_out, 0.99 * all_req)
        ours_bytes = sum(delta(m1, m0, n, **lab) for n in (RX, TX) for lab in (A, B))
        other = sum(delta(m1, m0, n) for n in (RX, TX)) - ours_bytes
        print("  bytes in other cgroups meanwhile: %d (%.3f%% of %d)"
              % (other, 100.0 * other / ours_bytes, ours_bytes))
        self.assertLessEqual(other, 0.01 * ours_bytes)

    def test_server_reads_late(self):
        """A request that waits LATE_S unread in the server's socket: the
        wait is in its inbound latency, which is what wrk saw."""
        self.assertEqual(self.d.health()[1]["request_timing"], "arrival")
        wrk, (_, a_mean), (_, b_mean) = self.late_server_under_wrk()
        self.assertGreaterEqual(a_mean, 0.9 * LATE_S)
        self.assertAlmostEqual(a_mean, wrk["mean"], delta=0.1 * wrk["mean"])
        self.assertAlmostEqual(b_mean, wrk["mean"], delta=0.1 * wrk["mean"])

    def test_client_reads_late(self):
        """A server answering after DELAY_S to a client that reads each
        answer LATE_S after its request: outbound is the server's DELAY_S,
        not the client's LATE_S; inbound the same."""
        _, (_, a_mean), (_, b_mean) = self.late_client(int(DELAY_S * 1000))
        for mean in (a_mean, b_mean):
            self.assertGreaterEqual(mean, DELAY_S)
            self.assertLess(mean, DELAY_S + 0.2 * LATE_S)

    def test_prompt_server_late_client(self):
        """A server answering at once to a client that reads LATE_S late:
        both directions small."""
        _, (_, a_mean), (_, b_mean) = self.late_client(0)
        self.assertLess(a_mean, 0.1 * LATE_S)
        self.assertLess(b_mean, 0.1 * LATE_S)

    def test_rtt_sampled_counts_segments(self):
        """The daemon's default rtt_sample (8): one segment in 8 recorded,
        each counted 8 times, so a histogram's count still estimates the
        segments its sockets received. ~48,000 a side: the estimate's
        standard deviation is 3.4%; 20% is six of them, while a weight
        missing (1/8) or doubled is far out. Server and client alternate
        on one CPU's softirq: a sampler with a period would see one side."""
        rtt_a, segs_a, rtt_b, segs_b, mean = self.rtt_against_segments(8, 6000)
        print("\n  RTT count (sampled): server %d for %d segments, client %d for %d; mean %.1f us"
              % (rtt_a, segs_a, rtt_b, segs_b, mean * 1e6))
        self.assertGreater(segs_a, 40000)
        self.assertGreater(segs_b, 40000)
        self.assertAlmostEqual(rtt_a, segs_a, delta=0.2 * segs_a)
        self.assertAlmostEqual(rtt_b, segs_b, delta=0.2 * segs_b)
        self.assertEqual(rtt_a % 8, 0)
        self.assertEqual(rtt_b % 8, 0)
        # recording every segment would match the kernel's counts to a few
        # (RttEverySegmentTest); a sample is that close on both sides with
        # a chance of ~1e-5
        self.assertTrue(abs(rtt_a - segs_a) > 8 or abs(rtt_b - segs_b) > 8,
                        "counts match segments exactly: not sampled")
        self.assertGreater(mean, 0)
        self.assertLess(mean, 0.1)

    def test_socket_keeps_its_cgroup_when_task_moves(self):
        """A socket created in cgroup C, used after its task moved to D,
        is still charged to C: the socket's cgroup, not the current task's."""
        c, d, s = self.cg.make("creator"), self.cg.make("mover"), self.cg.make("srv")
        srv, port = start_delay_server(self.cg, s, delay_ms=1)
        code = r"""
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
with open(sys.argv[2], "w") as f:
    f.write("0")  # this task moves to cgroup D; the socket stays in C
req = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"
got = 0
for _ in range(50):
    s.sendall(req)
    buf = b""
    while b"\r\n\r\n" not in buf or len(buf) < buf.index(b"\r\n\r\n") + 4 + 64:
        buf += s.recv(4096)
    got += len(buf)
print(len(req) * 50, got)
"""
        out = run_in(self.cg, c, code, port, os.path.join(d, "cgroup.procs"))
        sent, got = map(int, out.split())
        srv_totals = stop_delay_server(srv)
        C, D = {"cgroup": self.cg.rel(c)}, {"cgroup": self.cg.rel(d)}
        m = self.until(lambda m: total(m, TX, **C) >= sent and total(m, RX, **C) >= got
                       and h.series(m, "kpulse_container_cpu_seconds_total", **D))
        self.assertEqual(total(m, TX, **C), sent)
        self.assertEqual(total(m, RX, **C), got)
        self.assertEqual(srv_totals["rx"], sent)
        self.assertEqual(total(m, TX, **D) + total(m, RX, **D), 0)
        self.assertEqual(total(m, REQ + "_count", direction="outbound", **C), 50)
        self.assertEqual(total(m, REQ + "_count", **D), 0)

    def test_bytes_while_connections_stay_open(self):
        """Bytes of an open connection are counted without waiting for it to
        close: at each request's end (request/response), every 256 KiB (a
        one-way stream); exact once closed."""
        s, c = self.cg.make("bsrv"), self.cg.make("bcli")
        srv, port = start_delay_server(self.cg, s, delay_ms=1)
        sink = self.cg.run(s, [sys.executable, "-c", SINK, "127.0.0.1", "0"],
                           stdout=subprocess.PIPE, text=True)
        sink_port = int(sink.stdout.readline())
        bulk = (1 << 20) + 1000
        cli = self.cg.run(c, [sys.executable, "-c", r"""
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
req = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"
got = 0
for _ in range(20):
    s.sendall(req)
    time.sleep(0.05)  # the whole answer is in: one read takes it
    got += len(s.recv(65536))
b = socket.create_connection(("127.0.0.1", int(sys.argv[2])))
b.sendall(b"x" * int(sys.argv[3]))
print(len(req) * 20, got, flush=True)
sys.stdin.readline()
""", str(port), str(sink_port), str(bulk)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        sent, got = map(int, cli.stdout.readline().split())
        S, C = {"cgroup": self.cg.rel(s)}, {"cgroup": self.cg.rel(c)}
        flush = 256 << 10

        def settled(m):
            return (total(m, TX, **C) >= sent + bulk - flush and total(m, RX, **C) >= got
                    and total(m, RX, **S) >= sent + bulk - flush)
        m = self.until(settled)
        # request/response traffic: exact while the connection is open;
        # the one-way stream: all but less than the hand-over size
        tx_c, rx_c, rx_s, tx_s = (total(m, TX, **C), total(m, RX, **C),
                                  total(m, RX, **S), total(m, TX, **S))
        print("\n  open: client tx %d rx %d, server rx %d tx %d (sent %d + %d, got %d)"
              % (tx_c, rx_c, rx_s, tx_s, sent, bulk, got))
        self.assertEqual(rx_c, got)
        self.assertEqual(tx_s, got)
        self.assertTrue(sent + bulk - flush < tx_c <= sent + bulk, tx_c)
        self.assertTrue(sent + bulk - flush < rx_s <= sent + bulk, rx_s)
        cli.communicate("\n", timeout=10)
        out, _ = sink.communicate(timeout=10)
        self.assertEqual(int(out.split()[-1]), bulk)
        srv_totals = stop_delay_server(srv)
        self.assertEqual(srv_totals["rx"], sent)
        m = self.until(lambda m: total(m, TX, **C) == sent + bulk and total(m, RX, **S) == sent + bulk)
        self.assertEqual(total(m, TX, **C), sent + bulk)
        self.assertEqual(total(m, RX, **S), sent + bulk)
        self.assertEqual(total(m, RX, **C), got)
        self.assertEqual(total(m, TX, **S), got)

    def test_hot_slots_released_when_cgroups_go(self):
        """Request keys and RTT cgroups take hot slots (kpulse_abi.h) as they
        come; when their cgroups go, kpulse hands the slots back."""
        def used(m):
            return total(m, "kpulse_bpf_map_entries", map="hot_owner")
        last = [None]

        def steady(m):
            # slots of cgroups earlier tests removed are handed back at
            # the next collection: wait for two scrapes to agree
            same, last[0] = used(m) == last[0], used(m)
            return same
        m0 = self.until(lambda m: time.sleep(0.6) or steady(m), timeout=10)
        size = total(m0, "kpulse_bpf_map_max_entries", map="hot_owner")
        self.assertGreaterEqual(size, 16)
        base = used(m0)
        paths = []
        for i in range(3):
            s, c = self.cg.make("hs%d" % i), self.cg.make("hc%d" % i)
            srv, port = start_delay_server(self.cg, s, delay_ms=1)
            run_in(self.cg, c, CLIENT, "%d:40" % port)
            stop_delay_server(srv)
            paths += [s, c]
        # per pair: inbound and outbound request keys, and (in all but
        # ~1e-5 of runs with one segment in 8 sampled from ~80 a side)
        # RTT of both cgroups
        m = self.until(lambda m: all(total(m, REQ + "_count", cgroup=self.cg.rel(p)) == 40
                                     for p in paths))
        for p in paths:
            self.assertEqual(total(m, REQ + "_count", cgroup=self.cg.rel(p)), 40)
        grown = used(m) - base
        print("\n  hot slots: %d of %d, %d before; %d more for 3 server/client pairs"
              % (used(m), size, base, grown))
        self.assertGreaterEqual(grown, 6)
        for p in paths:
            self.cg.remove(p)
        m = self.until(lambda m: used(m) <= base, timeout=15)
        self.assertLessEqual(used(m), base)

    def test_established_gauge_against_ss(self):
        srv_cg, cli_cg = self.cg.make("estsrv"), self.cg.make("estcli")
        code_srv = r"""
import socket, sys, time
l = socket.socket(); l.bind(("127.0.0.1", 0)); l.listen(64)
print(l.getsockname()[1], flush=True)
conns = [l.accept()[0] for _ in range(int(sys.argv[1]))]
sys.stdin.readline()
"""
        k = 7
        srv = self.cg.run(srv_cg, [sys.executable, "-c", code_srv, str(k)],
                          stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        port = int(srv.stdout.readline())
        cli = self.cg.run(cli_cg, [sys.executable, "-c", r"""
import socket, sys
cs = [socket.create_connection(("127.0.0.1", int(sys.argv[1]))) for _ in range(int(sys.argv[2]))]
print("up", flush=True)
sys.stdin.readline()
""", str(port), str(k)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.assertEqual(cli.stdout.readline().strip(), "up")
        m = self.until(lambda m: all(total(m, ESTAB, cgroup=self.cg.rel(p)) == k
                                     for p in (srv_cg, cli_cg)))
        print("\n  established: server %s (conns %s), client %s (conns %s); drops %s"
              % (total(m, ESTAB, cgroup=self.cg.rel(srv_cg)), total(m, CONNS, cgroup=self.cg.rel(srv_cg)),
                 total(m, ESTAB, cgroup=self.cg.rel(cli_cg)), total(m, CONNS, cgroup=self.cg.rel(cli_cg)),
                 {l["reason"]: v for l, v in h.series(m, "kpulse_bpf_events_dropped_total") if v}))
        for path in (srv_cg, cli_cg):
            ss = subprocess.run(["ss", "-Htn", "state", "established", "cgroup", self.cg.rel(path)],
                                capture_output=True, text=True)
            n_ss = len(ss.stdout.splitlines()) if ss.returncode == 0 else k
            self.assertEqual(n_ss, k, ss.stderr)
            self.assertEqual(total(m, ESTAB, cgroup=self.cg.rel(path)), k)
        cli.communicate("\n", timeout=10)
        srv.communicate("\n", timeout=10)
        m = self.until(lambda m: all(total(m, ESTAB, cgroup=self.cg.rel(p)) == 0
                                     for p in (srv_cg, cli_cg)))
        self.assertEqual(total(m, ESTAB, cgroup=self.cg.rel(srv_cg)), 0)
        self.assertEqual(total(m, ESTAB, cgroup=self.cg.rel(cli_cg)), 0)

    def test_resets(self):
        """A connect to a closed port: one reset received by the client's
        container. A server closing with unread data: one reset sent by the
        server's container, received by the client's."""
        c, s = self.cg.make("rstcli"), self.cg.make("rstsrv")
        port = h.free_port()  # nothing listens there
        out = run_in(self.cg, c, r"""
import socket, sys
n = 0
for _ in range(5):
    try:
        socket.create_connection(("127.0.0.1", int(sys.argv[1])))
    except ConnectionRefusedError:
        n += 1
print(n)
""", port)
        self.assertEqual(int(out), 5)
        srv = self.cg.run(s, [sys.executable, "-c", r"""
import socket, sys
l = socket.socket(); l.bind(("127.0.0.1", 0)); l.listen(1)
print(l.getsockname()[1], flush=True)
a, _ = l.accept()
sys.stdin.readline()
a.close()  # unread data: the kernel answers with a reset
sys.stdin.readline()
"""], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        sport = int(srv.stdout.readline())
        cli = self.cg.run(c, [sys.executable, "-c", r"""
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"x" * 100)
print("sent", flush=True)
sys.stdin.readline()
try:
    s.recv(10)
    print("no reset")
except ConnectionResetError:
    print("reset")
""", str(sport)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.assertEqual(cli.stdout.readline().strip(), "sent")
        srv.stdin.write("\n")
        srv.stdin.flush()
        time.sleep(0.3)
        out, _ = cli.communicate("\n", timeout=10)
        srv.communicate("\n", timeout=10)
        self.assertEqual(out.strip(), "reset")
        C, S = {"cgroup": self.cg.rel(c)}, {"cgroup": self.cg.rel(s)}
        m = self.until(lambda m: total(m, RESETS, direction="received", **C) >= 6
                       and total(m, RESETS, direction="sent", **S) >= 1)
        self.assertEqual(total(m, RESETS, direction="received", **C), 6)
        self.assertEqual(total(m, RESETS, direction="sent", **C), 0)
        self.assertEqual(total(m, RESETS, direction="sent", **S), 1)
        self.assertEqual(total(m, RESETS, direction="received", **S), 0)
        self.assertEqual(total(m, CONNS, direction="outbound", **C), 1)

    def test_nginx_request_counts(self):
        n_cg, w_cg = self.cg.make("nginx"), self.cg.make("wrk")
        tmp = tempfile.mkdtemp(prefix="kpulse-test-nginx-")
        self.addCleanup(subprocess.run, ["rm", "-rf", tmp])
        os.chmod(tmp, 0o755)
        os.mkdir(os.path.join(tmp, "www"))
        with open(os.path.join(tmp, "www", "index.html"), "w") as f:
            f.write("k" * 2048)
        port = h.free_port()
        conf = os.path.join(tmp, "nginx.conf")
        with open(conf, "w") as f:
            f.write("""worker_processes 1;
daemon off;
pid {t}/nginx.pid;
error_log {t}/error.log warn;
events {{ worker_connections 256; }}
http {{
    access_log {t}/access.log;
    client_body_temp_path {t}/body;
    proxy_temp_path {t}/proxy;
    fastcgi_temp_path {t}/fastcgi;
    uwsgi_temp_path {t}/uwsgi;
    scgi_temp_path {t}/scgi;
    server {{ listen 127.0.0.1:{p}; root {t}/www; }}
}}
""".format(t=tmp, p=port))
        ngx = self.cg.run(n_cg, ["nginx", "-c", conf, "-p", tmp, "-e", tmp + "/error.log"],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.addCleanup(lambda: ngx.poll() is None and ngx.send_signal(signal.SIGTERM))
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                import socket as so
                so.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.05)
        open(os.path.join(tmp, "access.log"), "w").close()  # the probe is not counted
        m0 = self.shown(n_cg)
        w = self.cg.run(w_cg, ["wrk", "-t1", "-c8", "-d3s", "http://127.0.0.1:%d/index.html" % port],
                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        out, _ = w.communicate(timeout=40)
        time.sleep(0.2)
        ngx.send_signal(signal.SIGTERM)  # nginx: SIGTERM is fast shutdown
        ngx.wait(timeout=10)
        m1 = self.shown(n_cg, w_cg)
        wrk = parse_wrk(out)
        with open(os.path.join(tmp, "access.log")) as f:
            logged = sum(1 for line in f if '" 200 ' in line)
        N, W = {"cgroup": self.cg.rel(n_cg)}, {"cgroup": self.cg.rel(w_cg)}
        n_in = delta(m1, m0, REQ + "_count", direction="inbound", **N)
        w_out = delta(m1, m0, REQ + "_count", direction="outbound", **W)
        print("\n  nginx: wrk %d requests, access log %d, kpulse nginx inbound %d, wrk outbound %d"
              % (wrk["requests"], logged, n_in, w_out))
        self.assertGreater(wrk["requests"], 1000)
        self.assertAlmostEqual(n_in, wrk["requests"], delta=0.01 * wrk["requests"])
        self.assertAlmostEqual(w_out, wrk["requests"], delta=0.01 * wrk["requests"])
        self.assertAlmostEqual(n_in, logged, delta=0.01 * logged)
        self.assertEqual(len(h.series(m1, REQ + "_count", direction="inbound", port=str(port), **N)), 1)


class NetnsRetransmitTest(TcpBase):
    """Two network namespaces joined by veth, the receiver dropping 5% of
    incoming segments with an nftables `numgen random` rule: the sender's
    retransmits, against the sender namespace's own TCP MIB."""

    def sh(self, *argv):
        subprocess.run(argv, check=True, capture_output=True, text=True)

    @staticmethod
    def netns_mib(ns):
        """The namespace's own TCP counters: Tcp (snmp) and TcpExt (netstat)."""
        mib = {}
        for f in ("/proc/net/snmp", "/proc/net/netstat"):
            text = subprocess.run(["ip", "netns", "exec", ns, "cat", f],
                                  capture_output=True, text=True, check=True).stdout
            lines = [l.split() for l in text.splitlines() if l.startswith(("Tcp:", "TcpExt:"))]
            for names, values in zip(lines[0::2], lines[1::2]):
                mib.update(zip(names[1:], map(int, values[1:])))
        return mib

    def test_retransmits_charged_to_sender(self):
        if subprocess.run(["which", "nft"], capture_output=True).returncode:
            self.skipTest("nft not installed")
        tag = "kpt%d" % os.getpid()
        rx_ns, tx_ns = tag + "-rx", tag + "-tx"
        made = []

        def cleanup():
            for ns in made:
                subprocess.run(["ip", "netns", "del", ns], capture_output=True)
        self.addCleanup(cleanup)
        for ns in (rx_ns, tx_ns):
            self.sh("ip", "netns", "add", ns)
            made.append(ns)
        self.sh("ip", "link", "add", tag + "r", "netns", rx_ns, "type", "veth",
                "peer", "name", tag + "t", "netns", tx_ns)
        self.sh("ip", "-n", rx_ns, "addr", "add", "10.213.0.1/24", "dev", tag + "r")
        self.sh("ip", "-n", tx_ns, "addr", "add", "10.213.0.2/24", "dev", tag + "t")
        # skbs of at most 4 segments: enough packets for the 5% drop to
        # cause dozens of retransmissions, some of several segments
        self.sh("ip", "-n", tx_ns, "link", "set", tag + "t", "gso_max_segs", "4")
        for ns, dev in ((rx_ns, tag + "r"), (tx_ns, tag + "t")):
            self.sh("ip", "-n", ns, "link", "set", dev, "up")
            self.sh("ip", "-n", ns, "link", "set", "lo", "up")
        nft = ["ip", "netns", "exec", rx_ns, "nft"]
        self.sh(*nft, "add", "table", "inet", "kpulse_test")
        self.sh(*nft, "add", "chain", "inet", "kpulse_test", "in",
                "{ type filter hook input priority 0; }")
        self.sh(*nft, "add", "rule", "inet", "kpulse_test", "in", "tcp", "dport", "5001",
                "numgen", "random", "mod", "100", "<", "5", "drop")

        r_cg, s_cg = self.cg.make("receiver"), self.cg.make("sender")
        rcv = self.cg.run(r_cg, ["ip", "netns", "exec", rx_ns, sys.executable, "-c", SINK,
                                 "10.213.0.1", "5001"], stdout=subprocess.PIPE, text=True)
        self.assertEqual(rcv.stdout.readline().strip(), "5001")
        size = 4 << 20
        snd = self.cg.run(s_cg, ["ip", "netns", "exec", tx_ns, sys.executable, "-c", r"""
import socket, sys
s = socket.create_connection(("10.213.0.1", 5001))
s.sendall(b"y" * int(sys.argv[1]))
s.shutdown(socket.SHUT_WR)
s.recv(1)
""", str(size)], stdout=subprocess.PIPE, text=True)
        snd.communicate(timeout=60)
        out, _ = rcv.communicate(timeout=30)
        self.assertEqual(int(out), size)
        mib = self.netns_mib(tx_ns)
        # RetransSegs counts attempts; those whose transmit failed are
        # TCPRetransFail; kpulse counts the ones that went out
        sent = mib["RetransSegs"] - mib["TCPRetransFail"]
        m = self.shown(s_cg, r_cg)
        S, R = {"cgroup": self.cg.rel(s_cg)}, {"cgroup": self.cg.rel(r_cg)}
        got = total(m, RETRANS, **S)
        # host-wide and removals too: a shortfall seen once in a full
        # suite (165 of 253) says then whether the segments were charged
        # to no shown container, lost with a removed one, or never seen
        print("\n  retransmits: kpulse sender %d, netns RetransSegs %d - TCPRetransFail %d, "
              "receiver %d; program runs %d, all cgroups %d, node %d, containers removed %d, "
              "events dropped %d"
              % (got, mib["RetransSegs"], mib["TCPRetransFail"], total(m, RETRANS, **R),
                 total(m, "kpulse_bpf_program_runs_total", program="tcp_retransmit_skb"),
                 total(m, RETRANS), total(m, "kpulse_node_tcp_retransmits_total"),
                 total(m, "kpulse_containers_removed_total"),
                 total(m, "kpulse_bpf_events_dropped_total")))
        retrans_segs = sent
        self.assertGreater(retrans_segs, 10)
        self.assertAlmostEqual(got, retrans_segs, delta=0.02 * retrans_segs + 2)
        self.assertLessEqual(total(m, RETRANS, **R), 0.02 * retrans_segs + 2)
        self.assertAlmostEqual(total(m, TX, **S), size, delta=0.001 * size)
        self.assertAlmostEqual(total(m, RX, **R), size, delta=0.001 * size)


class NetnsRetransmitRawTpTest(NetnsRetransmitTest):
    """The same through the raw_tp twin (its own detection of `err`)."""
    env = {"KPULSE_FORCE_RAW_TP": "1"}


class TcpOneHotSlotTest(TcpTest):
    """Every TcpTest with a single hot slot: most keys (request keys, RTT
    cgroups) find no room and take the hash maps, the first one to claim
    the slot keeps it; figures summed over both must still be right."""
    env = {"KPULSE_TEST_HOT_SLOTS": "1"}

    def test_nginx_request_counts(self):
        self.skipTest("covered by the default variant; nginx adds nothing to the hash-map path")

    def test_hot_slots_released_when_cgroups_go(self):
        self.skipTest("needs room for several keys; the default variant has it")


class TcpRawTpTest(TcpTest):
    """The raw_tp twins (socket state in an LRU hash instead of socket
    storage), with --max-ports 1 to see ports fold into "other"."""
    env = {"KPULSE_FORCE_RAW_TP": "1"}
    args = ("--max-ports", "1")

    def test_attach_type(self):
        _, body = self.d.health()
        tcp = [p for p in body["programs"] if p["tracepoint"] in
               ("inet_sock_set_state", "sock_send_length", "tcp_probe", "tcp_retransmit_skb")]
        self.assertEqual(len(tcp), 4)
        for p in tcp:
            self.assertEqual((p["attach"], p["attached"]), ("raw_tp", True), p)

    def test_nginx_request_counts(self):
        self.skipTest("covered by the tp_btf variant; nginx adds nothing to the raw_tp path")

    def test_hot_slots_released_when_cgroups_go(self):
        self.skipTest("the raw_tp twins use the hash maps only")

    def test_ports_fold_into_other(self):
        """One container serving two ports, --max-ports 1: the busier port
        has its series, the other is port="other"; nothing is lost."""
        s, c = self.cg.make("twoports"), self.cg.make("twoclient")
        busy, busy_port = start_delay_server(self.cg, s, delay_ms=1)
        quiet, quiet_port = start_delay_server(self.cg, s, delay_ms=1)
        dropped0 = total(self.d.metrics(), "kpulse_bpf_events_dropped_total", reason="req_map_full")
        run_in(self.cg, c, CLIENT, "%d:40" % busy_port, "%d:5" % quiet_port)
        stop_delay_server(busy)
        stop_delay_server(quiet)
        m = self.shown(s, c)
        # a request whose (cgroup, direction, port) key is new when the
        # kernel has no memory at hand for it goes to the cgroup's port 0
        # ("other"), or when that fails too is dropped, and counted
        dropped = total(m, "kpulse_bpf_events_dropped_total", reason="req_map_full") - dropped0
        S, C = {"cgroup": self.cg.rel(s)}, {"cgroup": self.cg.rel(c)}
        seen = 0
        for lab, direction in ((S, "inbound"), (C, "outbound")):
            ports = {l["port"]: v for l, v in h.series(m, REQ + "_count", direction=direction, **lab)}
            print("\n  %s %s: %s (dropped: %d)" % (lab["cgroup"], direction, ports, dropped))
            self.assertEqual(set(ports), {str(busy_port), "other"})
            self.assertLessEqual(ports[str(busy_port)], 40)
            self.assertGreaterEqual(ports[str(busy_port)], 35)
            self.assertGreaterEqual(ports["other"], 5 - dropped)
            self.assertGreaterEqual(sum(ports.values()), 45 - dropped)
            seen += sum(ports.values())
        self.assertLessEqual(seen, 90)
        self.assertGreaterEqual(seen, 90 - dropped)


def postgres_bin():
    """Debian's PostgreSQL server binaries (not on PATH), or None."""
    for d in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if all(os.access(os.path.join(d, b), os.X_OK) for b in ("initdb", "postgres", "pgbench")):
            return d
    return None


class PgbenchTest(TcpBase):
    """PostgreSQL, a server nobody here wrote, in cgroup A under pgbench's
    select-only load (simple query protocol, one statement per
    transaction, 4 clients on 2 CPUs so backends queue) from cgroup B:
    kpulse's inbound requests are pgbench's statements and their mean is
    pgbench's own per-statement latency. Stamped at the read, the
    backends' wait for a CPU before reading was missed (half of it)."""

    SECS = 3

    def setUp(self):
        super().setUp()
        self.bin = postgres_bin()
        if not self.bin:
            self.skipTest("PostgreSQL server not installed (Debian postgresql)")
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            self.skipTest("no postgres user")

    def test_pgbench_statements(self):
        tmp = tempfile.mkdtemp(prefix="kpulse-test-pg-%d-" % os.getpid())
        self.addCleanup(shutil.rmtree, tmp, True)
        shutil.chown(tmp, "postgres", "postgres")
        as_pg = ["setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups"]
        subprocess.run(as_pg + [os.path.join(self.bin, "initdb"), "-D", tmp + "/data",
                                "--auth=trust", "-U", "postgres"],
                       check=True, capture_output=True, timeout=120)
        a, b = self.cg.make("postgres"), self.cg.make("pgbench")
        port = h.free_port()
        pg = self.cg.run(a, as_pg + [os.path.join(self.bin, "postgres"), "-D", tmp + "/data",
                                     "-p", str(port), "-k", tmp, "-c", "listen_addresses=127.0.0.1",
                                     "-c", "fsync=off", "-c", "shared_buffers=32MB"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

        def stop_pg():
            if pg.poll() is None:
                pg.send_signal(signal.SIGINT)  # fast shutdown
                pg.wait(timeout=30)
        self.addCleanup(stop_pg)
        pgbench = [os.path.join(self.bin, "pgbench"), "-h", "127.0.0.1", "-p", str(port),
                   "-U", "postgres"]
        deadline = time.time() + 30
        while subprocess.run(pgbench[:1] + ["-i", "-s", "1", "-q"] + pgbench[1:] + ["postgres"],
                             capture_output=True).returncode:
            self.assertLess(time.time(), deadline, "postgres did not come up")
            self.assertIsNone(pg.poll(), "postgres exited")
            time.sleep(0.5)
        A = {"cgroup": self.cg.rel(a), "port": str(port)}
        B = {"cgroup": self.cg.rel(b), "port": str(port)}
        m0 = self.d.metrics()
        p = self.cg.run(b, pgbench[:1] + ["-n", "-S", "-c", "4", "-T", str(self.SECS), "-r",
                                          "--protocol=simple"] + pgbench[1:] + ["postgres"],
                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        out, _ = p.communicate(timeout=self.SECS + 60)
        self.assertEqual(p.returncode, 0, out)
        stop_pg()
        try:
            done = int(re.search(r"transactions actually processed: (\d+)", out).group(1))
            stmt = float(re.search(r"^\s*([\d.]+)\s+\d+\s+SELECT", out, re.M).group(1)) / 1e3
        except AttributeError:
            raise AssertionError("cannot read pgbench's output:\n" + out)
        m1 = self.until(lambda m: delta(m, m0, REQ + "_count", direction="inbound", **A) >= done)
        a_n, a_mean = req_mean(m1, m0, A, "inbound")
        b_n, b_mean = req_mean(m1, m0, B, "outbound")
        print("\n  pgbench: %d statements, %.3f ms each; kpulse postgres inbound %d, mean %.3f ms;"
              " pgbench outbound %d, mean %.3f ms" % (done, stmt * 1e3, a_n, a_mean * 1e3,
                                                      b_n, b_mean * 1e3))
        self.assertGreater(done, 1000)
        # besides the statements: per connection an SSL request and the
        # start-up exchange; pgbench's look-up of the scale
        for n in (a_n, b_n):
            self.assertGreaterEqual(n, done)
            self.assertLessEqual(n, done + 20)
        # pgbench's figure runs until it has handled the answer, which on
        # this VM includes waking its thread (a server answering at once
        # takes ~0.3 ms here, test_prompt_server_late_client): kpulse's
        # ends when the answer arrived. Measured here: inbound 0.72-0.76x
        # pgbench's; timed at the read it was 0.31x, the backends' wait
        # for a CPU before reading missed.
        self.assertLessEqual(a_mean, stmt)
        self.assertGreaterEqual(a_mean, 0.5 * stmt)
        # both sides are timed on the socket: they differ by the loopback
        self.assertGreaterEqual(a_mean, 0.9 * b_mean)
        self.assertLessEqual(b_mean, stmt * 1.02)


class TcpReadTimeFallbackTest(TcpBase):
    """A kernel without sock:sk_data_ready, made by hiding it from the
    loader: requests are still counted, their received side timed at the
    read (the fallback README describes), and /health and `kpulse check`
    say so."""
    env = {"KPULSE_TEST_HIDE_TP": "sk_data_ready"}

    def test_health_and_check(self):
        status, body = self.d.health()
        self.assertEqual(status, 200)
        self.assertEqual(body["status"], "degraded")
        self.assertEqual(body["request_timing"], "read")
        self.assertIn("request_arrival_time", body["features_missing"])
        self.assertIn("sk_data_ready", body["features_missing"])
        self.assertNotIn("request_latency", body["features_missing"])
        rows = {p["tracepoint"]: p for p in body["programs"]}
        self.assertFalse(rows["sk_data_ready"]["attached"])
        self.assertTrue(rows["sock_recv_length"]["attached"])
        out = subprocess.run([h.KPULSE, "check"], capture_output=True, text=True,
                             env=dict(os.environ, **self.env))
        line = [l for l in out.stdout.splitlines() if l.startswith("request_timing")]
        self.assertEqual(len(line), 1, out.stdout)
        self.assertIn("missing", line[0])
        self.assertIn("when read", line[0])

    def test_server_reads_late(self):
        """Counts exact; the request's wait in the socket is missed."""
        wrk, (_, a_mean), (_, b_mean) = self.late_server_under_wrk()
        self.assertLess(a_mean, 0.5 * LATE_S)
        self.assertAlmostEqual(b_mean, wrk["mean"], delta=0.1 * wrk["mean"])

    def test_client_reads_late(self):
        """Counts exact; outbound includes the client's late read."""
        _, (_, a_mean), (_, b_mean) = self.late_client(0)
        self.assertLess(a_mean, 0.1 * LATE_S)
        self.assertGreaterEqual(b_mean, 0.9 * LATE_S)


class RttEverySegmentTest(TcpBase):
    """rtt_sample: 1 records every segment: the counts are the kernel's
    own segment counts, but for the few each connection receives outside
    ESTABLISHED (FIN handling, a delayed ACK racing the close)."""
    args = ("--config", h.config_file("rtt_sample: 1\n"))

    def test_rtt_counts_every_segment(self):
        _, body = self.d.health()
        self.assertEqual(body["rtt_sample"], 1)
        rtt_a, segs_a, rtt_b, segs_b, _ = self.rtt_against_segments(4, 500)
        print("\n  RTT count: server %d for %d segments, client %d for %d"
              % (rtt_a, segs_a, rtt_b, segs_b))
        self.assertGreater(segs_a, 2000)
        self.assertAlmostEqual(rtt_a, segs_a, delta=2 * 4)
        self.assertAlmostEqual(rtt_b, segs_b, delta=2 * 4)


class TcpWithoutSocketLengthTest(TcpBase):
    """A kernel without sock_send_length / sock_recv_length (before 6.3),
    made by hiding them from the loader: bytes and request latency are
    unavailable in /health and absent from /metrics, the rest works.
    Every segment's RTT is recorded: three short connections receive too
    few for a sample of one in 8 to be sure to hold one."""
    env = {"KPULSE_TEST_HIDE_TP": "sock_send_length,sock_recv_length"}
    args = ("--config", h.config_file("rtt_sample: 1\n"))

    def test_degrades_cleanly(self):
        status, body = self.d.health()
        self.assertEqual(status, 200)
        self.assertEqual(body["status"], "degraded")
        for f in ("sock_send_length", "sock_recv_length", "network_bytes", "request_latency"):
            self.assertIn(f, body["features_missing"])
        rows = {p["tracepoint"]: p for p in body["programs"]}
        for tp in ("sock_send_length", "sock_recv_length"):
            self.assertFalse(rows[tp]["attached"])
            self.assertIn("not found", rows[tp]["reason"])
        for tp in ("inet_sock_set_state", "tcp_probe", "tcp_retransmit_skb",
                   "tcp_send_reset", "tcp_receive_reset", "sched_switch"):
            self.assertTrue(rows[tp]["attached"], tp)

        a, b = self.cg.make("srv"), self.cg.make("cli")
        srv, port = start_delay_server(self.cg, a, delay_ms=1)
        run_in(self.cg, b, r"""
import socket, sys
for _ in range(3):
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
    s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    s.recv(4096)
    s.close()
""", port)
        stop_delay_server(srv)
        m = self.until(lambda m: total(m, CONNS, direction="inbound", cgroup=self.cg.rel(a)) >= 3
                       and total(m, CONNS, direction="outbound", cgroup=self.cg.rel(b)) >= 3)
        self.assertEqual(total(m, CONNS, direction="inbound", cgroup=self.cg.rel(a)), 3)
        self.assertEqual(total(m, CONNS, direction="outbound", cgroup=self.cg.rel(b)), 3)
        self.assertGreater(total(m, RTT + "_count", cgroup=self.cg.rel(b)), 0)
        text = self.d.metrics_text()
        for name in (RX, TX, REQ, "kpulse_node_socket_receive_bytes_total",
                     "kpulse_node_request_latency_seconds"):
            self.assertNotIn(name, text)


if __name__ == "__main__":
    unittest.main()
