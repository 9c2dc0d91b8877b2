/* kpulse_abi.h - structs and constants shared by the BPF programs and the
 * userspace collector. Only __u* types and size constants live here.
 *
 * Latency histogram layout (log-linear, values in nanoseconds):
 *   v < 16              -> bucket v (exact)
 *   v >= 16, msb = floor(log2 v), sub = (v >> (msb - 4)) - 16
 *                       -> bucket (msb - 3) * 16 + sub
 * Each power of two is split into KP_HIST_SUB equal sub-buckets, so a bucket
 * is at most 1/16 as wide as its lower edge: reporting a bucket's upper edge
 * overstates a value by at most 6.25%, its midpoint is off by at most 3.125%.
 * The top bucket starts at 2^36 - 2^31 ns (~66.6 s) and also holds everything
 * larger (~68.7 s and up).
 */
#ifndef KPULSE_ABI_H
#define KPULSE_ABI_H

#define KP_HIST_SUB_BITS 4
#define KP_HIST_SUB (1 << KP_HIST_SUB_BITS)
#define KP_HIST_MAX_MSB 35
#define KP_HIST_BUCKETS ((KP_HIST_MAX_MSB - KP_HIST_SUB_BITS + 2) * KP_HIST_SUB)

/* Default bound on cgroups tracked in the kernel; userspace may resize. */
#define KP_MAX_CGROUPS 4096
/* Bound on the pid-keyed fallback used only by raw_tp programs. */
#define KP_MAX_PIDS 32768

enum kp_drop_reason {
	KP_DROP_CGROUP_MAP_FULL = 0,	/* no room for a new cgroup */
	KP_DROP_TASK_STORAGE,		/* task storage could not be created */
	KP_DROP_PID_MAP_FULL,		/* raw_tp fallback: pid map update failed */
	KP_DROP_MEM_MAP_FULL,		/* no room for a cgroup in mem_stats */
	KP_DROP_EVENT_RING_FULL,	/* OOM event ring buffer full */
	KP_DROP_TCP_MAP_FULL,		/* no room for a cgroup in tcp_stats */
	KP_DROP_TCP_HIST_MAP_FULL,	/* no room for a cgroup in tcp_hist */
	KP_DROP_SK_STORAGE,		/* socket storage could not be created */
	KP_DROP_REQ_MAP_FULL,		/* req_stats: full (even port 0), or no memory */
	KP_DROP_SOCK_MAP_FULL,		/* raw_tp fallback: socket LRU update failed */
	KP_DROP_SLOW_RING_FULL,		/* `kpulse slow` ring buffer full */
	KP_DROP_MAP_NOMEM,		/* a per-cgroup map had room for a new
					 * key but no memory at hand (its
					 * allocation cache ran dry in a context
					 * that cannot refill it) */
	KP_DROP_DEATH_RING_FULL,	/* cg_deaths full: the daemon learns of
					 * those deaths by walking the tree */
	KP_DROP_MAX,
};

/* Per cgroup, per CPU (BPF_MAP_TYPE_PERCPU_HASH keyed by cgroup v2 id).
 * flush_seq: the CPU's kp_cpu_slot.seq after the last flush into this
 * value. A flush writes it before the figures and it sits after them: the
 * kernel copies a value to userspace from low to high addresses, so a copy
 * that caught any figure of a flush also caught its flush_seq (x86 keeps
 * stores and loads in order). A reader that read the slots at seq S and
 * then this value with flush_seq <= S has this CPU's figures exact as of S:
 * none of what those slots held pending had been added here yet. */
struct kp_cg_stats {
	__u64 cpu_ns;		/* on-CPU time of tasks in this cgroup */
	__u64 nvcsw;		/* voluntary switches out */
	__u64 nivcsw;		/* involuntary switches out (still runnable) */
	__u64 runq_sum_ns;	/* sum of run-queue latencies */
	__u64 runq_hist[KP_HIST_BUCKETS];
	__u64 flush_seq;	/* last, see above */
};

/* Per CPU: what runs now and since when, so userspace can add the slice
 * in progress, and the task's run time then: a finished slice is charged
 * what the scheduler counted for it (se.sum_exec_runtime, the figure
 * cpu.stat adds up: steal time left out) rather than the wall-clock time. */
/* Figures of one cgroup gathered on one CPU and not yet added to cg_stats:
 * flushed when the CPU's work moves to other cgroups, so a run of switches
 * within the same cgroups costs no hash lookup. Userspace adds them. */
#define KP_PEND_CG 2
#define KP_PEND_BUCKETS 8

struct kp_pending {
	__u64 cgid;		/* 0: unused */
	__u64 cpu_ns;
	__u64 nvcsw;
	__u64 nivcsw;
	__u64 runq_sum_ns;
	__u32 n;		/* histogram entries used */
	__u32 pad;
	__u32 bucket[KP_PEND_BUCKETS];
	__u32 count[KP_PEND_BUCKETS];
};

/* The kernel copies a slot to userspace from low to high addresses, in
 * the order of the fields below, while sched_switch may be changing it:
 * at a switch the new cgid and ts are stored (ts first) before the slice
 * that ended is added to pend[]. So a copy that holds the slice in pend[]
 * also holds the new cgid and ts, and a copy with the new cgid has the new
 * ts: a slice is never counted both pending and running. (At worst, in a
 * window of nanoseconds, a copy holds it in neither: it shows in the next
 * read.) */
struct kp_cpu_slot {
	__u64 seq;	/* +1 before and after each flush into cg_stats (odd
			 * meanwhile); 64 bits, so it never wraps */
	__u32 victim;	/* pend[] entry to reuse next */
	__u32 pad;
	struct kp_pending pend[KP_PEND_CG];
	__u64 cgid;	/* cgroup v2 id of the task on the CPU; 0: idle */
	__u64 ts;	/* when that task got the CPU */
	__u64 rt;	/* its se.sum_exec_runtime then */
	__u64 task;	/* its task_struct, to tell a switch-in that was seen */
};

/* ---- Cgroup deaths (cgroup.bpf.c) ---- */

/* cgroup:cgroup_rmdir of a v2 cgroup puts its id in cg_dead, which the
 * per-cgroup maps consult before making an entry (figures a dead cgroup's
 * last task leaves on a CPU never bring its entry back), and in the
 * cg_deaths ring buffer, which the daemon drains at each collection to
 * read the cgroup's last figures and delete its entries. */
#define KP_DEAD_CGROUPS 4096		/* cg_dead: LRU, the latest deaths */
#define KP_DEATH_RING_BYTES (256 * 1024)	/* 16,384 deaths between reads */
#define KP_DEATH_RECORD_BYTES 16	/* a cgroup id and the ring's header */
/* Deaths waiting that wake the daemon to settle them: a sixteenth of the
 * cgroup map, so dead entries never fill it, whatever the churn rate. */
#define KP_DEATH_WAKE(max_cgroups) ((max_cgroups) >= 16 ? (max_cgroups) / 16 : 1)

/* ---- Memory (mem.bpf.c): reclaim stalls and OOM kills ---- */

/* raw_tp fallback: tasks in reclaim at the same time (pid-keyed LRU). */
#define KP_MAX_RECLAIM_PIDS 4096
/* OOM kill events to userspace; a kill is rare, a burst of 400 fits. */
#define KP_OOM_RING_BYTES (64 * 1024)

enum kp_reclaim_kind {
	KP_RECLAIM_DIRECT = 1,	/* page allocator out of free pages */
	KP_RECLAIM_MEMCG = 2,	/* a memory cgroup at its limit */
};

/* Per cgroup, per CPU (BPF_MAP_TYPE_PERCPU_HASH keyed by cgroup v2 id).
 * Reclaim is charged to the stalled task's cgroup, an OOM kill to the
 * victim's. The histogram holds both kinds of reclaim. */
struct kp_mem_stats {
	__u64 direct_reclaims;
	__u64 direct_reclaim_ns;
	__u64 memcg_reclaims;
	__u64 memcg_reclaim_ns;
	__u64 oom_kills;
	__u64 reclaim_hist[KP_HIST_BUCKETS];
};

/* Per task while it is in reclaim (task storage, or the pid-keyed LRU). */
struct kp_reclaim_start {
	__u64 ts;	/* bpf_ktime_get_ns() at begin; 0 = not in reclaim */
	__u64 kind;	/* enum kp_reclaim_kind */
};

/* One OOM kill (oom:mark_victim), through the oom_events ring buffer.
 * Memory figures are the kernel's own at the kill: the victim's mm
 * counters (as the kernel's OOM report prints them) and the page counter
 * of its memory cgroup (v1 or v2, whichever hierarchy has the controller). */
struct kp_oom_event {
	__u64 ts_ns;		/* CLOCK_MONOTONIC */
	__u64 cgid;		/* victim's cgroup v2 id */
	__u32 pid;		/* victim thread (the kernel's pid) */
	__u32 tgid;		/* victim process */
	__u32 uid;
	__u32 oom_score_adj;	/* an int, -1000..1000, two's complement */
	__u64 total_vm_pages;
	__u64 anon_rss_pages;
	__u64 file_rss_pages;
	__u64 shmem_rss_pages;
	__u64 pgtables_bytes;
	__u64 memcg_usage_pages;	/* 0 when the kernel has no memcg */
	__u64 memcg_limit_pages;	/* huge when unlimited */
	__u8 comm[16];
};

/* `kpulse slow`: one record per event over a threshold set before load
 * (rodata), so nothing below it leaves the kernel. Every unit writes to one
 * ring buffer (the loader shares slow_events), sized only when a threshold
 * is set. */
enum kp_slow_kind {
	KP_SLOW_RUNQ = 1,	/* other_*: the task that held the CPU */
	KP_SLOW_RECLAIM = 2,	/* detail: enum kp_reclaim_kind */
	KP_SLOW_REQUEST = 3,	/* dir, port: as in kp_req_key */
};

struct kp_slow_event {
	__u64 ts_ns;		/* CLOCK_MONOTONIC */
	__u64 cgid;		/* runq, reclaim: the task's; request: the socket's */
	__u64 value_ns;
	__u32 kind;
	__u32 pid;		/* thread id (the kernel's pid) */
	__u32 other_pid;
	__u32 tgid;		/* process id */
	char comm[16];
	char other_comm[16];
	__u32 detail;		/* KP_SLOW_RECLAIM: enum kp_reclaim_kind */
	__u16 port;		/* KP_SLOW_REQUEST */
	__u8 dir;		/* KP_SLOW_REQUEST: enum kp_dir */
	__u8 pad;
};

/* ---- TCP and sockets (tcp.bpf.c) ---- */

/* Default bound on (cgroup, direction, port) request-latency keys; the
 * loader sizes req_stats to twice --max-cgroups. When it is full a request
 * falls back to port 0 ("other") of its cgroup. */
#define KP_MAX_REQ_KEYS (2 * KP_MAX_CGROUPS)
/* Bound on the socket-keyed LRU hash used only by the raw_tp fallback
 * (tp_btf keeps socket state in socket-local storage). */
#define KP_MAX_SOCKS 65536

/* Direction of a socket, from how it was opened. */
enum kp_dir {
	KP_DIR_NONE = 0,	/* not opened while kpulse watched */
	KP_DIR_INBOUND = 1,	/* passive open (accepted) */
	KP_DIR_OUTBOUND = 2,	/* active open (connect) */
};

/* Counters per cgroup, per CPU (BPF_MAP_TYPE_PERCPU_HASH keyed by the
 * cgroup v2 id of the socket, never of the current task). Small and
 * preallocated: a new key never fails for want of memory, which per-CPU
 * maps without preallocation do when several new keys come in a burst (their
 * allocation caches hold one element per CPU and refill asynchronously). */
struct kp_tcp_stats {
	__u64 conn_in;		/* passive opens that reached ESTABLISHED */
	__u64 conn_out;		/* active opens that reached ESTABLISHED */
	__u64 established;	/* +1 entering ESTABLISHED, -1 leaving it: the
				 * per-CPU values wrap, their sum (as __s64)
				 * is the gauge */
	__u64 retrans;		/* retransmitted segments that went out */
	__u64 rst_sent;
	__u64 rst_recv;
	__u64 rx_bytes;		/* sock_recv_length, ret > 0, not MSG_PEEK */
	__u64 tx_bytes;		/* sock_send_length, ret > 0 */
};

/* Histograms per cgroup, per CPU (same key; not preallocated, too large:
 * a sample that finds no entry and no memory is dropped and counted). */
struct kp_tcp_hist {
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

/* Per key, per CPU. The count is the sum of the buckets. rx/tx_bytes: what
 * the key's sockets moved, handed over at each request's end (their bytes
 * are kept in the socket until then, see struct kp_sock). */
struct kp_req_stats {
	__u64 sum_ns;
	__u64 rx_bytes;
	__u64 tx_bytes;
	__u64 hist[KP_HIST_BUCKETS];
};

/* Hot slots: the request keys and RTT cgroups that find room are counted
 * in per-CPU arrays (hot_vals, struct kp_req_stats; RTT uses sum_ns and
 * hist) at an index the BPF side claims in hot_owner, so the busy paths do
 * an array lookup, which the verifier inlines, instead of a hash lookup.
 * A key is placed by a hash of it, at one of KP_HOT_PROBES slots from
 * there; one that finds them all taken uses the hash maps, and userspace
 * adds both up by key. A claim is a compare-and-swap of cgid from 0, then
 * the tag: a reader seeing the new cgid with tag 0 just looks on, so a key
 * can end up in two slots, which the sum by key does not mind. Userspace
 * frees a gone cgroup's slots: cgid KP_HOT_DEAD (nobody matches or claims
 * it), one collection later the values are zeroed and the owner cleared. */
#define KP_HOT_PROBES 4
#define KP_HOT_MAX_SLOTS 256	/* fewer with many CPUs, see loader.c */
#define KP_HOT_DEAD (~0ULL)

enum kp_hot_kind { KP_HOT_REQ = 1, KP_HOT_RTT = 2 };

struct kp_hot_owner {
	__u64 cgid;		/* 0: free */
	__u32 tag;		/* kind << 24 | dir << 16 | port; never 0 */
	__u32 pad;
};

#define KP_HOT_TAG(kind, dir, port) \
	((__u32)(kind) << 24 | (__u32)(dir) << 16 | (__u32)(port))

enum kp_sock_phase {
	KP_PHASE_IDLE = 0,	/* waiting for the next request */
	KP_PHASE_CONNECTING,	/* SYN sent, ts = when */
	KP_PHASE_REQUEST,	/* request under way, ts = its first bytes */
};

/* Per socket: socket-local storage (tp_btf) or an LRU hash keyed by the
 * socket's address (raw_tp fallback). */
struct kp_sock {
	__u64 ts;
	__u64 cgid;		/* the socket's cgroup, once ESTABLISHED */
	/* sk_data_ready: when the oldest bytes not yet read arrived (0: not
	 * known, the read's own stamp is used), and the sequence number of
	 * the first of them; rcv_end is rcv_nxt as of the last arrival, so an
	 * arrival can tell whether everything before it had been read. */
	__u64 arr_ts;
	__u32 arr_seq;
	__u32 rcv_end;
	/* tp_btf, while counted: bytes not yet in tcp_stats or req_stats,
	 * received in the low 32 bits, sent in the high ones (one atomic
	 * add or swap for both); handed over at a request's end, past
	 * KP_PEND_FLUSH, and on leaving ESTABLISHED. Neither half can carry
	 * into the other: each stays under KP_PEND_FLUSH + INT_MAX. */
	__u64 pend;
	__u16 port;		/* as in kp_req_key */
	__u8 dir;		/* enum kp_dir */
	__u8 phase;		/* enum kp_sock_phase */
	__u8 counted;		/* counted in the established gauge */
	__u8 pad;
	__u16 hot;		/* hot slot of its request key + 1, or 0 */
};

/* A socket's pending bytes go to tcp_stats once they reach this much with
 * no request ending (bulk transfers, one-way streams). */
#define KP_PEND_FLUSH (256u << 10)

#endif
