/* nodefigs.h - the host's figures as node_exporter's core collectors show
 * them, as of the last interval tick: /proc/meminfo, /proc/loadavg,
 * /proc/stat, /proc/diskstats, /proc/net/dev, the process count, and
 * statfs of the real mounts. src/collect/nodefiles.c parses the files,
 * src/collect/noderead.c reads them at ticks, src/outputs/node_metrics.c shows
 * them as kpulse_node_* series under node_exporter's names.
 *
 * Everything is bounded: a kind with more entries than its cap keeps the
 * first ones and counts the rest in left_out (shown on /metrics and in
 * /health). Raw kernel units are kept (kB, sectors, ms); the renderer
 * converts as node_exporter does. */
#ifndef KPULSE_MODEL_NODEFIGS_H
#define KPULSE_MODEL_NODEFIGS_H

#include <stdbool.h>
#include <stdint.h>

#define KP_NODE_MAX_MEMINFO 128	/* /proc/meminfo has ~60 lines today */
#define KP_NODE_MAX_DISKS 64
#define KP_NODE_MAX_NETDEVS 256	/* a host with many veths is capped here */
#define KP_NODE_MAX_MOUNTS 256
#define KP_NODE_FS_POOL 65536	/* bytes for the mounts' device, path, type */
#define KP_NODE_DISK_STATS 17	/* diskstats fields after the name (5.5+) */
#define KP_NODE_NETDEV_STATS 16	/* /proc/net/dev columns */
#define KP_NODE_MAX_STUCK 8	/* mounts stuck at once (a thread each) */

/* One /proc/meminfo line as node_exporter names it: "Active(anon):  12 kB"
 * is key "Active_anon", bytes = true, value 12288. */
struct kp_meminfo_field {
	char key[48];
	bool bytes;		/* had a kB unit: value is in bytes */
	uint64_t value;
};

struct kp_meminfo {
	unsigned int n;
	unsigned int left_out;
	struct kp_meminfo_field f[KP_NODE_MAX_MEMINFO];
};

/* /proc/loadavg: "0.52 0.58 0.59 2/345 12345". */
struct kp_loadavg {
	double load[3];		/* 1, 5, 15 minutes */
	uint64_t running;	/* runnable tasks now */
	uint64_t threads;	/* tasks (threads) that exist: nr_threads */
};

/* /proc/stat, the lines node_exporter's stat collector shows, and the
 * online CPUs (its "cpuN" lines). */
struct kp_kstat {
	uint64_t boot_time;	/* btime, unix seconds */
	uint64_t forks;		/* processes */
	uint64_t intr;		/* intr: first number, the total */
	uint64_t ctxt;
	uint64_t procs_running;
	uint64_t procs_blocked;
	unsigned int cpus;
};

/* One whole disk of /proc/diskstats: its fields after the name, raw (11 on
 * kernels before 4.18, 15 before 5.5, 17 since). */
struct kp_node_disk {
	char name[32];
	unsigned int nstats;
	uint64_t v[KP_NODE_DISK_STATS];
};

struct kp_node_disks {
	unsigned int n;
	unsigned int left_out;
	struct kp_node_disk d[KP_NODE_MAX_DISKS];
};

/* /proc/net/dev columns, in the file's order. */
enum kp_netdev_stat {
	KP_NET_RX_BYTES, KP_NET_RX_PACKETS, KP_NET_RX_ERRS, KP_NET_RX_DROP,
	KP_NET_RX_FIFO, KP_NET_RX_FRAME, KP_NET_RX_COMPRESSED, KP_NET_RX_MULTICAST,
	KP_NET_TX_BYTES, KP_NET_TX_PACKETS, KP_NET_TX_ERRS, KP_NET_TX_DROP,
	KP_NET_TX_FIFO, KP_NET_TX_COLLS, KP_NET_TX_CARRIER, KP_NET_TX_COMPRESSED,
};

struct kp_netdev {
	char name[32];
	uint64_t v[KP_NODE_NETDEV_STATS];
};

struct kp_netdevs {
	unsigned int n;
	unsigned int left_out;
	struct kp_netdev d[KP_NODE_MAX_NETDEVS];
};

/* A mount's statfs state. */
enum kp_fs_state {
	KP_FS_PENDING = 0,	/* selected, not measured yet */
	KP_FS_OK,
	KP_FS_ERROR,		/* statfs failed: device_error 1 */
	KP_FS_STUCK,		/* an earlier statfs has not returned: skipped */
};

/* A real mount (pseudo file systems left out as node_exporter does by
 * default) with its statfs figures. Strings are offsets into the list's
 * pool, so a list can be copied whole. */
struct kp_node_fs {
	uint32_t device, mountpoint, fstype;	/* offsets into pool */
	bool readonly;		/* "ro" in the mount's or its superblock's options */
	enum kp_fs_state state;
	uint64_t size, free, avail;	/* bytes: blocks * f_bsize */
	uint64_t files, files_free;
};

struct kp_node_fslist {
	unsigned int n;
	unsigned int left_out;		/* over KP_NODE_MAX_MOUNTS or the pool */
	uint32_t pool_used;
	struct kp_node_fs m[KP_NODE_MAX_MOUNTS];
	char pool[KP_NODE_FS_POOL];
};

static inline const char *kp_node_fs_str(const struct kp_node_fslist *l, uint32_t off)
{
	return &l->pool[off];
}

/* Which figures the last tick could read (a file missing or unreadable
 * leaves its figures out rather than showing zeros). */
enum kp_node_file {
	KP_NODE_MEMINFO, KP_NODE_LOADAVG, KP_NODE_STAT, KP_NODE_DISKSTATS,
	KP_NODE_NETDEV, KP_NODE_MOUNTINFO, KP_NODE_PIDS, KP_NODE_FILES,
};

struct kp_node_figs {
	bool have[KP_NODE_FILES];
	struct kp_meminfo mem;
	struct kp_loadavg load;
	struct kp_kstat stat;
	struct kp_node_disks disks;
	struct kp_netdevs net;
	struct kp_node_fslist fs;
	uint64_t pids;			/* processes: numeric entries of /proc */
	uint64_t max_threads;		/* /proc/sys/kernel/threads-max; 0: unknown */
	uint64_t max_pids;		/* /proc/sys/kernel/pid_max; 0: unknown */
	uint64_t read_errors[KP_NODE_FILES];	/* reads or parses that failed */
	unsigned int fs_stuck;		/* mounts whose statfs has not returned */
	uint64_t fs_stale_ticks;	/* ticks that showed an older statfs pass */
	uint64_t read_ns;		/* CLOCK_MONOTONIC of the last tick */
};

#endif
