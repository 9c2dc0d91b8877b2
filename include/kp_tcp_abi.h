/* kp_tcp_abi.h - structs shared by bpf/tcp.bpf.c and the collector: TCP and
 * socket figures per cgroup, request latency per (cgroup, direction, port),
 * and the per-socket state the programs keep. Only __u* types and size
 * constants; histograms use the layout described in kpulse_abi.h.
 */
#ifndef KP_TCP_ABI_H
#define KP_TCP_ABI_H

#include "kpulse_abi.h"

/* Default bound on (cgroup, direction, port) request-latency keys. When the
 * map is full a request falls back to port 0 ("other") of its cgroup. */
#define KP_MAX_REQ_KEYS 4096
/* Bound on the socket-keyed LRU hash used only by the raw_tp fallback
 * (tp_btf keeps socket state in socket-local storage). */
#define KP_MAX_SOCKS 65536

enum kp_tcp_drop_reason {
	KP_TCP_DROP_CGROUP_MAP_FULL = 0,	/* no room in tcp_stats */
	KP_TCP_DROP_SK_STORAGE,		/* socket storage could not be created */
	KP_TCP_DROP_REQ_MAP_FULL,	/* no room in req_stats, not even port 0 */
	KP_TCP_DROP_SOCK_MAP_FULL,	/* raw_tp fallback: socket LRU update failed */
	KP_TCP_DROP_MAX,
};

/* Direction of a socket, from how it was opened. */
enum kp_dir {
	KP_DIR_NONE = 0,	/* not opened while kpulse watched */
	KP_DIR_INBOUND = 1,	/* passive open (accepted) */
	KP_DIR_OUTBOUND = 2,	/* active open (connect) */
};

/* Per cgroup, per CPU (BPF_MAP_TYPE_PERCPU_HASH keyed by cgroup v2 id of
 * the socket, never of the current task). */
struct kp_tcp_stats {
	__u64 conn_in;		/* passive opens that reached ESTABLISHED */
	__u64 conn_out;		/* active opens that reached ESTABLISHED */
	__u64 established;	/* +1 entering ESTABLISHED, -1 leaving it: the
				 * per-CPU values wrap, their sum (as __s64)
				 * is the gauge */
	__u64 retrans;		/* successful retransmissions (tcp_retransmit_skb) */
	__u64 rst_sent;
	__u64 rst_recv;
	__u64 rx_bytes;		/* sock_recv_length, ret > 0, not MSG_PEEK */
	__u64 tx_bytes;		/* sock_send_length, ret > 0 */
	__u64 rtt_sum_ns;
	__u64 connect_sum_ns;
	__u64 rtt_hist[KP_HIST_BUCKETS];	/* smoothed RTT per received segment */
	__u64 connect_hist[KP_HIST_BUCKETS];	/* SYN_SENT -> ESTABLISHED */
};

/* Request latency key. port: the local listening port for inbound, the
 * remote port for outbound; 0 when the map had no room for the real one. */
struct kp_req_key {
	__u64 cgid;
	__u16 port;
	__u8 dir;		/* enum kp_dir */
	__u8 pad[5];
};

/* Per key, per CPU. The count is the sum of the buckets. */
struct kp_req_stats {
	__u64 sum_ns;
	__u64 hist[KP_HIST_BUCKETS];
};

enum kp_sock_phase {
	KP_PHASE_IDLE = 0,	/* waiting for the next request */
	KP_PHASE_CONNECTING,	/* SYN sent, ts = when */
	KP_PHASE_REQUEST,	/* request under way, ts = its first bytes */
};

/* Per socket: socket-local storage (tp_btf) or an LRU hash keyed by the
 * socket's address (raw_tp fallback). */
struct kp_sock {
	__u64 ts;
	__u16 port;		/* as in kp_req_key */
	__u8 dir;		/* enum kp_dir */
	__u8 phase;		/* enum kp_sock_phase */
	__u8 counted;		/* counted in the established gauge */
	__u8 pad[3];
};

#endif
