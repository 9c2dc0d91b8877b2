// SPDX-License-Identifier: GPL-2.0
/* tcp.bpf.c - TCP and socket programs: smoothed RTT, connect latency,
 * connections by direction, established sockets, retransmits, resets, bytes,
 * and request latency for any request/response protocol, per cgroup v2.
 *
 * Everything is charged to the cgroup the socket was created in (it keeps
 * it in sk_cgrp_data; accepted sockets inherit the listener's), never to the
 * current task: TCP tracepoints mostly fire in softirq context, where
 * current is whoever was interrupted - on loopback, typically the peer.
 *
 * Request latency needs no protocol parsing. A socket remembers how it was
 * opened (passive = inbound, active = outbound) and whether a request is
 * under way. Inbound: the first bytes received while idle start a request,
 * the first bytes sent back end it. Outbound: the first bytes sent start it,
 * the first bytes received end it. Exact for strict request/response
 * protocols; pipelining and multiplexing collapse into one longer request.
 * The received side is timed when its bytes landed on the socket
 * (sk_data_ready), not when the application read them; where that
 * tracepoint is missing, at the read. Under `kpulse slow --request` each
 * request over a threshold is also sent to userspace, one by one.
 *
 * Every program exists twice: tp_btf (socket-local storage, direct BTF
 * reads) and raw_tp (an LRU hash keyed by the socket's address, CO-RE
 * reads); userspace keeps one twin per tracepoint. sock_send_length and
 * sock_recv_length appeared in Linux 6.3: without them bytes and request
 * latency are missing, everything else works.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include "kp_common.bpf.h"
#include "kp_hist_bucket.h"

char LICENSE[] SEC("license") = "GPL";

/* Linux 6.2+; where it is missing the tp_btf programs using it are refused
 * and their raw_tp twins run instead (loader.c). */
extern void *bpf_rdonly_cast(const void *obj, __u32 btf_id) __ksym __weak;

#define AF_INET 2
#define AF_INET6 10
#define MSG_PEEK 2

/* preallocated: counters must not miss a new cgroup (see kpulse_abi.h) */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, KP_MAX_CGROUPS);
	__type(key, __u64);
	__type(value, struct kp_tcp_stats);
} tcp_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, KP_MAX_CGROUPS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u64);
	__type(value, struct kp_tcp_hist);
} tcp_hist SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, KP_MAX_REQ_KEYS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct kp_req_key);
	__type(value, struct kp_req_stats);
} req_stats SEC(".maps");

/* hot slots (kpulse_abi.h); the loader sizes both and sets hot_mask */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, KP_HOT_MAX_SLOTS);
	__type(key, __u32);
	__type(value, struct kp_hot_owner);
} hot_owner SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, KP_HOT_MAX_SLOTS);
	__type(key, __u32);
	__type(value, struct kp_req_stats);
} hot_vals SEC(".maps");

const volatile __u32 hot_mask = KP_HOT_MAX_SLOTS - 1;

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct kp_sock);
} sock_state SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, KP_MAX_SOCKS);
	__type(key, __u64);
	__type(value, struct kp_sock);
} sock_lru SEC(".maps");

/* `kpulse slow --request`: requests at or over this many ns go to
 * slow_events; 0 (the daemon) makes the verifier drop the whole path. */
const volatile __u64 slow_request_ns = 0;

static const struct kp_tcp_stats zero_tcp;
static const struct kp_tcp_hist zero_hist;
static const struct kp_req_stats zero_req;
static const struct kp_sock zero_sock;

/* Before Linux 5.15 ("bpf, cgroups: Fix cgroup v2 fallback on v1/v2 mixed
 * mode") sock_cgroup_data was a tagged word: a cgroup pointer unless bit 0
 * is set, which meant v1 net_cls/net_prio took the space (root then). */
struct sock_cgroup_data___old {
	__u64 val;
} __attribute__((preserve_access_index));

/* Since tcp_retransmit_skb gained its `err` argument it also fires for
 * retransmissions that failed (-EBUSY: still in the host queue, ...); the
 * trace event record gained `err` in the same change, so its presence tells
 * whether ctx[2] is there. */
struct trace_event_raw_tcp_retransmit_skb___err {
	int err;
} __attribute__((preserve_access_index));

static __always_inline struct kp_tcp_stats *cg_get(__u64 cgid)
{
	return kp_lookup_or_init(&tcp_stats, &cgid, &zero_tcp, KP_DROP_TCP_MAP_FULL);
}

static __always_inline struct kp_tcp_hist *hist_get(__u64 cgid)
{
	return kp_lookup_or_init(&tcp_hist, &cgid, &zero_hist, KP_DROP_TCP_HIST_MAP_FULL);
}

/* The cgroup v2 id the socket was created in. */
static __always_inline __u64 sk_cgid(const struct sock *sk, bool btf)
{
	if (bpf_core_field_exists(sk->sk_cgrp_data.cgroup)) {
		if (btf)
			return sk->sk_cgrp_data.cgroup->kn->id;
		return BPF_CORE_READ(sk, sk_cgrp_data.cgroup, kn, id);
	}
	struct sock_cgroup_data___old *old = (void *)&sk->sk_cgrp_data;
	__u64 v = BPF_CORE_READ(old, val);

	if (!v || (v & 1))
		return 1;	/* the v2 root */
	return BPF_CORE_READ((struct cgroup *)v, kn, id);
}

/* Full sockets only: request and timewait minisocks carry no cgroup. */
static __always_inline bool sk_full(const struct sock *sk, bool btf)
{
	unsigned char st = btf ? sk->__sk_common.skc_state
			       : BPF_CORE_READ(sk, __sk_common.skc_state);

	return st != TCP_TIME_WAIT && st != TCP_NEW_SYN_RECV;
}

/* tp_btf: a TCP socket (only ever called for one) as its tcp_sock. The
 * verifier turns the cast into nothing and the loads into exception-table
 * guarded ones; bpf_skc_to_tcp_sock would be a helper call per event. */
static __always_inline struct tcp_sock *tcp_sk_of(struct sock *sk)
{
	return bpf_rdonly_cast(sk, bpf_core_type_id_kernel(struct tcp_sock));
}

static __always_inline struct kp_sock *sock_get(const struct sock *sk,
						bool create, bool btf)
{
	struct kp_sock *ks;
	__u64 key;

	if (btf) {
		ks = bpf_sk_storage_get(&sock_state, (void *)sk, 0,
					create ? BPF_SK_STORAGE_GET_F_CREATE : 0);
		if (!ks && create)
			count_drop(KP_DROP_SK_STORAGE);
		return ks;
	}
	key = (__u64)sk;
	ks = bpf_map_lookup_elem(&sock_lru, &key);
	if (ks || !create)
		return ks;
	if (bpf_map_update_elem(&sock_lru, &key, &zero_sock, BPF_ANY)) {
		count_drop(KP_DROP_SOCK_MAP_FULL);
		return NULL;
	}
	return bpf_map_lookup_elem(&sock_lru, &key);
}

/* Per-CPU values need no atomics, except where a program in task context
 * (e.g. a socket's backlog processed at release_sock) can be interrupted on
 * the same CPU by another one in softirq updating the same field: those
 * fields are added to atomically (an uncontended lock add). */
#define ADD(field, v) __sync_fetch_and_add(&(field), (v))

static __always_inline void hist_add(__u64 *hist, __u64 d, __u64 n, bool atomic)
{
	__u32 b = kp_hist_bucket_of(d);

	barrier_var(b);
	if (b >= KP_HIST_BUCKETS)
		b = KP_HIST_BUCKETS - 1;
	if (atomic)
		ADD(hist[b], n);
	else
		hist[b] += n;
}

/* tp_btf: the bytes of a counted socket wait in its storage and go to
 * req_stats with the request that ends next, which looks that entry up
 * anyway; one hash lookup per request instead of one per send and recv.
 * Whatever is left goes to tcp_stats past KP_PEND_FLUSH and when the socket
 * leaves ESTABLISHED. The counters are swapped out atomically, as the owner
 * (task context) and a softirq closing the socket can meet here. */
static __always_inline void pend_flush(struct kp_sock *ks, struct kp_tcp_stats *s)
{
	__u64 p = __sync_lock_test_and_set(&ks->pend, 0);
	__u32 rx = (__u32)p, tx = (__u32)(p >> 32);

	if (!s)
		return;	/* the map-full drop is counted by cg_get */
	if (rx)
		ADD(s->rx_bytes, rx);
	if (tx)
		ADD(s->tx_bytes, tx);
}

static __always_inline void pend_add(struct kp_sock *ks, int ret, bool send)
{
	__u64 add = send ? (__u64)ret << 32 : (__u64)ret;
	__u64 now = __sync_fetch_and_add(&ks->pend, add) + add;

	/* the add is a full barrier: if the socket left ESTABLISHED before
	 * it, this sees counted == 0 and hands the bytes over itself;
	 * otherwise the swap on leaving takes them */
	if (!ks->counted || (__u32)now >= KP_PEND_FLUSH || (__u32)(now >> 32) >= KP_PEND_FLUSH)
		pend_flush(ks, cg_get(ks->cgid));
}

/* The hot slot of (cgid, tag) + 1, claiming a free one when @claim; 0 when
 * it has none. */
static __always_inline __u32 hot_find(__u64 cgid, __u32 tag, bool claim)
{
	__u32 h = (__u32)(((cgid ^ tag) * 0x9E3779B97F4A7C15ull) >> 32);

	for (int i = 0; i < KP_HOT_PROBES; i++) {
		__u32 idx = (h + i) & hot_mask;
		struct kp_hot_owner *o = bpf_map_lookup_elem(&hot_owner, &idx);

		if (!o)
			return 0;
		if (o->cgid == cgid && o->tag == tag)
			return idx + 1;
		if (claim && !o->cgid && !__sync_val_compare_and_swap(&o->cgid, 0, cgid)) {
			o->tag = tag;
			return idx + 1;
		}
	}
	return 0;
}

/* This CPU's values in hot slot @slot - 1 if (cgid, tag) still owns it. */
static __always_inline struct kp_req_stats *hot_get(__u32 slot, __u64 cgid, __u32 tag)
{
	struct kp_hot_owner *o;
	__u32 idx = slot - 1;

	if (!slot)
		return NULL;
	o = bpf_map_lookup_elem(&hot_owner, &idx);
	if (!o || o->cgid != cgid || o->tag != tag)
		return NULL;
	return bpf_map_lookup_elem(&hot_vals, &idx);
}

static __always_inline void req_record(struct kp_sock *ks, __u64 d, bool btf)
{
	__u64 cgid = ks->cgid;
	__u8 dir = ks->dir;
	__u16 port = ks->port;
	struct kp_req_stats *r;
	struct kp_req_key k;

	r = hot_get(ks->hot, cgid, KP_HOT_TAG(KP_HOT_REQ, dir, port));
	if (r)
		goto add;
	__builtin_memset(&k, 0, sizeof(k));
	k.cgid = cgid;
	k.dir = dir;
	k.port = port;
	r = bpf_map_lookup_elem(&req_stats, &k);
	if (!r) {
		/* NOEXIST fails too when another CPU just made the key */
		bpf_map_update_elem(&req_stats, &k, &zero_req, BPF_NOEXIST);
		r = bpf_map_lookup_elem(&req_stats, &k);
	}
	if (!r && port) {
		/* no room, or no memory at hand for a new entry: fold into
		 * this cgroup's port 0 ("other") */
		k.port = 0;
		r = bpf_map_lookup_elem(&req_stats, &k);
		if (!r) {
			bpf_map_update_elem(&req_stats, &k, &zero_req, BPF_NOEXIST);
			r = bpf_map_lookup_elem(&req_stats, &k);
		}
	}
	if (!r) {
		count_drop(KP_DROP_REQ_MAP_FULL);
		if (btf)
			pend_flush(ks, cg_get(cgid));
		return;
	}
add:
	/* task context only (sendmsg/recvmsg) */
	r->sum_ns += d;
	hist_add(r->hist, d, 1, false);
	if (btf) {
		__u64 p = __sync_lock_test_and_set(&ks->pend, 0);

		r->rx_bytes += (__u32)p;
		r->tx_bytes += p >> 32;
	}
}

/* Off the hot path: only with `kpulse slow`, only over the threshold. A
 * request ends in sendmsg/recvmsg, in the task that answered it (inbound)
 * or read its answer (outbound): current is the one to name. */
static __noinline void emit_slow_request(__u64 cgid, __u8 dir, __u16 port, __u64 d)
{
	struct kp_slow_event *e = slow_reserve(KP_SLOW_REQUEST, cgid, d, bpf_ktime_get_ns());

	if (!e)
		return;
	e->dir = dir;
	e->port = port;
	slow_current_task(e);
	bpf_ringbuf_submit(e, 0);
}

static __always_inline int handle_state(const struct sock *sk, int oldstate,
					int newstate, bool btf)
{
	struct kp_tcp_stats *s;
	struct kp_sock *ks;
	__u64 now;

	if (!sk)
		return 0;
	if ((btf ? sk->sk_protocol : BPF_CORE_READ(sk, sk_protocol)) != IPPROTO_TCP)
		return 0;

	if (newstate == TCP_SYN_SENT) {
		ks = sock_get(sk, true, btf);
		if (ks) {
			ks->ts = bpf_ktime_get_ns();
			ks->dir = KP_DIR_OUTBOUND;
			ks->phase = KP_PHASE_CONNECTING;
			ks->counted = 0;
		}
		return 0;
	}
	if (newstate == TCP_ESTABLISHED) {
		bool out = oldstate == TCP_SYN_SENT;
		__u64 cgid;

		if (!out && oldstate != TCP_SYN_RECV)
			return 0;
		cgid = sk_cgid(sk, btf);
		s = cg_get(cgid);
		ks = sock_get(sk, !out, btf);
		if (s) {
			if (out)
				ADD(s->conn_out, 1);
			else
				ADD(s->conn_in, 1);
		}
		if (!ks)
			return 0;
		if (out) {
			now = bpf_ktime_get_ns();
			if (ks->phase == KP_PHASE_CONNECTING && ks->ts && now > ks->ts) {
				struct kp_tcp_hist *h = hist_get(cgid);

				if (h) {
					ADD(h->connect_sum_ns, now - ks->ts);
					hist_add(h->connect_hist, now - ks->ts, 1, true);
				}
			}
			ks->port = bpf_ntohs(btf ? sk->__sk_common.skc_dport
						 : BPF_CORE_READ(sk, __sk_common.skc_dport));
		} else {
			ks->dir = KP_DIR_INBOUND;
			ks->port = btf ? sk->__sk_common.skc_num
				       : BPF_CORE_READ(sk, __sk_common.skc_num);
		}
		/* a socket becomes ESTABLISHED once: what ks says before is
		 * stale (raw_tp: a freed socket at this address whose close a
		 * nested program run missed) */
		ks->phase = KP_PHASE_IDLE;
		ks->ts = 0;
		ks->cgid = cgid;
		ks->pend = 0;
		ks->arr_ts = 0;
		ks->rcv_end = btf ? tcp_sk_of((struct sock *)sk)->rcv_nxt
				  : BPF_CORE_READ((struct tcp_sock *)sk, rcv_nxt);
		/* tp_btf only: a claim is an atomic the raw_tp twins, there
		 * for older kernels, do without */
		ks->hot = btf ? hot_find(cgid, KP_HOT_TAG(KP_HOT_REQ, ks->dir, ks->port), true) : 0;
		ks->counted = s != NULL;
		if (s)
			ADD(s->established, 1);
		return 0;
	}
	if (oldstate == TCP_ESTABLISHED) {
		ks = sock_get(sk, false, btf);
		if (ks && ks->counted) {
			/* before the swap in pend_flush, which pairs with the
			 * re-check in pend_add */
			ks->counted = 0;
			s = cg_get(ks->cgid);
			if (s)
				ADD(s->established, -1);
			if (btf)
				pend_flush(ks, s);
		}
	}
	if (newstate == TCP_CLOSE && !btf) {
		__u64 key = (__u64)sk;

		bpf_map_delete_elem(&sock_lru, &key);
	}
	return 0;
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(kp_sk_state, const struct sock *sk, int oldstate, int newstate)
{
	return handle_state(sk, oldstate, newstate, true);
}

SEC("raw_tp/inet_sock_set_state")
int BPF_PROG(kp_sk_state_raw, const struct sock *sk, int oldstate, int newstate)
{
	return handle_state(sk, oldstate, newstate, false);
}

/* When a request's side happened, mostly without a clock read (one costs
 * ~40 ns on a VM's paravirtual clock, more than the rest of the program):
 * tcp_clock_cache is the time the stack last handled the socket.
 *   sent: tcp_write_xmit refreshes it before it puts segments out, so when
 *     everything written has gone out (snd_nxt == write_seq) it says when
 *     the last of it did, at most a little before the write returned. Bytes
 *     still queued (corked, window full) leave it stale: then the clock.
 *   received, without sk_data_ready (recv_stamp): the read refreshes it
 *     too (tcp_rcv_space_adjust), so it says when the task read the bytes.
 * Before Linux 4.20 there is no such field: the clock. */
static __always_inline __u64 sk_stamp(struct sock *sk, bool send, bool btf)
{
	struct tcp_sock *tp = (struct tcp_sock *)sk;

	if (!bpf_core_field_exists(tp->tcp_clock_cache))
		return bpf_ktime_get_ns();
	if (!btf) {
		if (send && BPF_CORE_READ(tp, snd_nxt) != BPF_CORE_READ(tp, write_seq))
			return bpf_ktime_get_ns();
		return BPF_CORE_READ(tp, tcp_clock_cache);
	}
	tp = tcp_sk_of(sk);
	if (send && tp->snd_nxt != tp->write_seq)
		return bpf_ktime_get_ns();
	return tp->tcp_clock_cache;
}

/* Bytes landed on a socket: sock_def_readable and the other data_ready
 * callbacks, after tcp_rcv_established (or the backlog, once its owner
 * released the socket) refreshed the socket's clock for this segment. If
 * everything that came before had been read (copied_seq up to rcv_nxt as
 * of the last arrival), these bytes are now the oldest unread ones: note
 * when they came and where they start. Writers hold the socket lock, as
 * does the reader that moves copied_seq, so the check cannot race a read;
 * only recv_stamp, after the read returned, can meet a newer arrival. */
static __always_inline int handle_data_ready(const struct sock *sk, bool btf)
{
	struct tcp_sock *tp = (struct tcp_sock *)sk;
	struct kp_sock *ks;
	__u32 copied, nxt;
	__u64 clk;

	if (!sk || (btf ? sk->sk_protocol : BPF_CORE_READ(sk, sk_protocol)) != IPPROTO_TCP)
		return 0;
	ks = sock_get(sk, false, btf);
	if (!ks || ks->dir == KP_DIR_NONE)
		return 0;
	if (btf) {
		tp = tcp_sk_of((struct sock *)sk);
		copied = tp->copied_seq;
		nxt = tp->rcv_nxt;
		clk = bpf_core_field_exists(tp->tcp_clock_cache) ? tp->tcp_clock_cache : 0;
	} else {
		copied = BPF_CORE_READ(tp, copied_seq);
		nxt = BPF_CORE_READ(tp, rcv_nxt);
		clk = bpf_core_field_exists(tp->tcp_clock_cache) ? BPF_CORE_READ(tp, tcp_clock_cache) : 0;
	}
	if (copied == ks->rcv_end) {
		ks->arr_ts = clk ?: bpf_ktime_get_ns();
		ks->arr_seq = copied;
	}
	ks->rcv_end = nxt;
	return 0;
}

SEC("tp_btf/sk_data_ready")
int BPF_PROG(kp_data_ready, const struct sock *sk)
{
	return handle_data_ready(sk, true);
}

SEC("raw_tp/sk_data_ready")
int BPF_PROG(kp_data_ready_raw, const struct sock *sk)
{
	return handle_data_ready(sk, false);
}

/* When the first of the @ret bytes a read just returned arrived: the
 * arrival noted above when they are among the bytes it stands for (they
 * start at or after arr_seq). Otherwise - no sk_data_ready on this kernel,
 * or a newer arrival came between the read and this program - the read's
 * own time (sk_stamp), which misses how long they waited unread. */
static __always_inline __u64 recv_stamp(struct sock *sk, struct kp_sock *ks, int ret, bool btf)
{
	__u64 arr = ks->arr_ts;
	__u32 copied;

	if (arr) {
		copied = btf ? tcp_sk_of(sk)->copied_seq
			     : BPF_CORE_READ((struct tcp_sock *)sk, copied_seq);
		if ((__s32)(copied - (__u32)ret - ks->arr_seq) >= 0)
			return arr;
	}
	return sk_stamp(sk, false, btf);
}

/* When a request's side happened: a send when it went out, bytes received
 * when they came in. */
static __always_inline __u64 msg_stamp(struct sock *sk, struct kp_sock *ks, int ret,
				       bool send, bool btf)
{
	return send ? sk_stamp(sk, true, btf) : recv_stamp(sk, ks, ret, btf);
}

/* Bytes for any inet socket; request latency for the TCP sockets we saw
 * being opened. Runs in the task's context, still charged to the socket. */
static __always_inline int handle_msg(struct sock *sk, int ret, int flags,
				      bool send, bool btf)
{
	struct kp_tcp_stats *s;
	struct kp_sock *ks;
	__u16 family;
	__u64 now, d;

	if (ret <= 0 || !sk || (!send && (flags & MSG_PEEK)))
		return 0;
	family = btf ? sk->__sk_common.skc_family : BPF_CORE_READ(sk, __sk_common.skc_family);
	if (family != AF_INET && family != AF_INET6)
		return 0;
	ks = sock_get(sk, false, btf);
	if (btf && ks && ks->counted) {
		pend_add(ks, ret, send);
	} else {
		s = cg_get(sk_cgid(sk, btf));
		if (s) {
			if (send)
				ADD(s->tx_bytes, ret);
			else
				ADD(s->rx_bytes, ret);
		}
	}
	if (!ks || ks->dir == KP_DIR_NONE)
		return 0;
	/* a request travels in on inbound sockets, out on outbound ones */
	if ((ks->dir == KP_DIR_OUTBOUND) == send) {
		if (ks->phase == KP_PHASE_IDLE) {
			now = msg_stamp(sk, ks, ret, send, btf);
			/* not before the last response: bytes that came in
			 * while it went out (pipelining) start from there */
			if (now > ks->ts)
				ks->ts = now;
			ks->phase = KP_PHASE_REQUEST;
		}
	} else if (ks->phase == KP_PHASE_REQUEST) {
		now = msg_stamp(sk, ks, ret, send, btf);
		/* 0: the answer came in before the request's send returned */
		d = now > ks->ts ? now - ks->ts : 0;
		ks->phase = KP_PHASE_IDLE;
		if (now > ks->ts)
			ks->ts = now;
		req_record(ks, d, btf);
		if (slow_request_ns && d >= slow_request_ns)
			emit_slow_request(ks->cgid, ks->dir, ks->port, d);
	}
	return 0;
}

SEC("tp_btf/sock_send_length")
int BPF_PROG(kp_send, struct sock *sk, int ret, int flags)
{
	return handle_msg(sk, ret, flags, true, true);
}

SEC("raw_tp/sock_send_length")
int BPF_PROG(kp_send_raw, struct sock *sk, int ret, int flags)
{
	return handle_msg(sk, ret, flags, true, false);
}

SEC("tp_btf/sock_recv_length")
int BPF_PROG(kp_recv, struct sock *sk, int ret, int flags)
{
	return handle_msg(sk, ret, flags, false, true);
}

SEC("raw_tp/sock_recv_length")
int BPF_PROG(kp_recv_raw, struct sock *sk, int ret, int flags)
{
	return handle_msg(sk, ret, flags, false, false);
}

/* The daemon's `rtt_sample`: tcp_probe records one received segment in
 * 2^rtt_sample_shift and counts it 2^shift times; 0 (the CLI tools) records
 * every one. srtt is a smoothed figure that moves little from one segment
 * to the next, and the segments skipped leave before touching the socket:
 * its srtt_us line is often still in the other CPU's cache on loopback. */
const volatile __u32 rtt_sample_shift = 0;

/* per-CPU xorshift32 state: a pseudo-random pick, so no pattern of sockets
 * (client and server alternating on one CPU) can fall out of the sample */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} rtt_rng SEC(".maps");

static __always_inline bool rtt_sampled(void)
{
	__u32 zero = 0, *s = bpf_map_lookup_elem(&rtt_rng, &zero), x;

	if (!s)
		return false;
	x = *s;
	if (!x)		/* each CPU's first event: a random start */
		x = bpf_get_prandom_u32() | 1;
	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	*s = x;
	return (x >> (32 - rtt_sample_shift)) == 0;
}

/* tcp_probe fires for every segment an established socket receives. */
static __always_inline int handle_probe(struct sock *sk, bool btf)
{
	struct kp_tcp_hist *h;
	__u32 srtt, slot;
	__u64 ns, cgid, n;

	if (!sk)
		return 0;
	if (rtt_sample_shift && !rtt_sampled())
		return 0;
	n = 1ull << rtt_sample_shift;
	if (btf) {
		/* a direct load: no probe-read helper call on every segment */
		srtt = tcp_sk_of(sk)->srtt_us;	/* 1/8 us */
	} else {
		srtt = BPF_CORE_READ((struct tcp_sock *)sk, srtt_us);
	}
	if (!srtt)
		return 0;
	ns = (__u64)srtt * 125;
	cgid = sk_cgid(sk, btf);
	/* Plain adds below: only this program writes the RTT fields, and the
	 * kernel never runs a program nested inside itself on one CPU (a
	 * softirq tcp_probe that interrupts a process-context one is skipped
	 * and counted as recursion_miss), so nothing can interleave with them. */
	slot = btf ? hot_find(cgid, KP_HOT_TAG(KP_HOT_RTT, 0, 0), true) : 0;
	if (slot) {
		__u32 idx = slot - 1;
		struct kp_req_stats *v = bpf_map_lookup_elem(&hot_vals, &idx);

		if (v) {
			v->sum_ns += ns * n;
			hist_add(v->hist, ns, n, false);
			return 0;
		}
	}
	h = hist_get(cgid);
	if (!h)
		return 0;
	h->rtt_sum_ns += ns * n;
	hist_add(h->rtt_hist, ns, n, false);
	return 0;
}

SEC("tp_btf/tcp_probe")
int BPF_PROG(kp_probe, struct sock *sk, const struct sk_buff *skb)
{
	return handle_probe(sk, true);
}

SEC("raw_tp/tcp_probe")
int BPF_PROG(kp_probe_raw, struct sock *sk, const struct sk_buff *skb)
{
	return handle_probe(sk, false);
}

enum kp_tcp_event { EV_RETRANS, EV_RST_SENT, EV_RST_RECV };

/* Segments in a retransmitted skb (tcp_skb_pcount): usually 1, more when
 * the MSS shrank since it was queued or GSO is on. The kernel's RetransSegs
 * counts these, so we do too. */
static __always_inline __u64 skb_segs(const struct sk_buff *skb)
{
	__u16 segs = BPF_CORE_READ((struct tcp_skb_cb *)skb->cb, tcp_gso_segs);

	return segs ? segs : 1;
}

static __always_inline int handle_event(const struct sock *sk, int ev, __u64 n,
					bool btf)
{
	struct kp_tcp_stats *s;

	/* resets for segments no socket owns have sk == NULL: no container */
	if (!sk || !sk_full(sk, btf))
		return 0;
	s = cg_get(sk_cgid(sk, btf));
	if (!s)
		return 0;
	if (ev == EV_RETRANS)
		ADD(s->retrans, n);
	else if (ev == EV_RST_SENT)
		ADD(s->rst_sent, 1);
	else
		ADD(s->rst_recv, 1);
	return 0;
}

SEC("tp_btf/tcp_retransmit_skb")
int BPF_PROG(kp_retrans, const struct sock *sk, const struct sk_buff *skb)
{
	if (bpf_core_field_exists(struct trace_event_raw_tcp_retransmit_skb___err, err) &&
	    (int)ctx[2])
		return 0;
	return handle_event(sk, EV_RETRANS, skb_segs(skb), true);
}

SEC("raw_tp/tcp_retransmit_skb")
int BPF_PROG(kp_retrans_raw, const struct sock *sk, const struct sk_buff *skb)
{
	if (bpf_core_field_exists(struct trace_event_raw_tcp_retransmit_skb___err, err) &&
	    (int)ctx[2])
		return 0;
	return handle_event(sk, EV_RETRANS, skb_segs(skb), false);
}

SEC("tp_btf/tcp_send_reset")
int BPF_PROG(kp_rst_sent, const struct sock *sk)
{
	return handle_event(sk, EV_RST_SENT, 1, true);
}

SEC("raw_tp/tcp_send_reset")
int BPF_PROG(kp_rst_sent_raw, const struct sock *sk)
{
	return handle_event(sk, EV_RST_SENT, 1, false);
}

SEC("tp_btf/tcp_receive_reset")
int BPF_PROG(kp_rst_recv, struct sock *sk)
{
	return handle_event(sk, EV_RST_RECV, 1, true);
}

SEC("raw_tp/tcp_receive_reset")
int BPF_PROG(kp_rst_recv_raw, struct sock *sk)
{
	return handle_event(sk, EV_RST_RECV, 1, false);
}
