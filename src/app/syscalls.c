/* syscalls.c - the seccomp filter of the running daemon (libseccomp): the
 * system calls it makes once its programs are attached, by what makes
 * them, and nothing else. Loading programs, mounting tracefs, changing
 * user or capabilities, exec, ptrace, module and namespace calls are all
 * outside it. clone is allowed for threads only (CLONE_THREAD); clone3
 * answers ENOSYS so that the C library falls back to clone, whose flags a
 * filter can see. bpf(2) is allowed for a few commands on fds already
 * held. */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <seccomp.h>
#include <linux/bpf.h>
#include "app/syscalls.h"

static const char *const allowed[] = {
	/* memory (malloc, libbpf's ring buffer, jansson) */
	"brk", "mmap", "munmap", "mremap", "mprotect", "madvise",
	/* files: cgroup and /proc reads, the config, TLS certificates, logs */
	"read", "write", "readv", "writev", "pread64", "pwrite64", "openat", "open", "close",
	"lseek", "fstat", "newfstatat", "stat", "lstat", "statx", "fstatfs", "statfs",
	"getdents64", "readlink", "readlinkat", "access", "faccessat", "faccessat2", "fcntl",
	"dup", "dup2", "dup3", "pipe2", "ioctl", "inotify_init1", "inotify_add_watch",
	"inotify_rm_watch",
	/* is a cgroup gone? opened by its id (collect/cgroup.c) */
	"open_by_handle_at",
	/* the poll loop: signalfd, timerfd, epoll (libmicrohttpd), eventfd */
	"poll", "ppoll", "epoll_wait", "epoll_pwait", "epoll_ctl", "epoll_create1",
	"timerfd_create", "timerfd_settime", "timerfd_gettime", "eventfd2", "signalfd4", "rt_sigprocmask", "rt_sigreturn",
	"rt_sigaction", "sigaltstack",
	/* HTTP serving and alert delivery (libcurl, name lookups) */
	"socket", "connect", "accept", "accept4", "bind", "listen", "shutdown", "sendto",
	"recvfrom", "sendmsg", "recvmsg", "sendmmsg", "recvmmsg", "getsockopt", "setsockopt",
	"getsockname", "getpeername", "socketpair",
	/* threads (receivers, statfs workers) and their synchronisation */
	"futex", "set_robust_list", "get_robust_list", "rseq", "set_tid_address", "gettid",
	"sched_yield", "sched_getaffinity", "madvise", "exit", "exit_group",
	"clock_nanosleep", "nanosleep",
	/* time, identity, limits, randomness */
	"clock_gettime", "clock_getres", "gettimeofday", "time", "getpid", "getppid", "getuid",
	"geteuid", "getgid", "getegid", "getrandom", "uname", "sysinfo", "prlimit64", "getrlimit",
	"getrusage", "times", "kill", "tgkill", "prctl",
};

/* bpf(2) only on what the daemon holds: maps read and written through
 * their fds, object info, and BPF_ENABLE_STATS; never a load, an attach
 * or a new map. */
static const int bpf_cmds[] = {
	BPF_MAP_LOOKUP_ELEM, BPF_MAP_UPDATE_ELEM, BPF_MAP_DELETE_ELEM, BPF_MAP_GET_NEXT_KEY,
	BPF_MAP_LOOKUP_BATCH, BPF_OBJ_GET_INFO_BY_FD, BPF_ENABLE_STATS,
};

int kp_syscalls_install(bool kill, unsigned int *n_allowed)
{
	scmp_filter_ctx ctx = seccomp_init(kill ? SCMP_ACT_KILL_PROCESS : SCMP_ACT_ERRNO(EPERM));
	unsigned int n = 0;
	int err;

	if (!ctx)
		return -ENOMEM;
	for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++) {
		int nr = seccomp_syscall_resolve_name(allowed[i]);

		if (nr == __NR_SCMP_ERROR)	/* not on this architecture */
			continue;
		if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0) == 0)
			n++;
	}
	for (size_t i = 0; i < sizeof(bpf_cmds) / sizeof(bpf_cmds[0]); i++)
		if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(bpf), 1,
				     SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)bpf_cmds[i])) == 0)
			n++;
	/* threads only: a clone without CLONE_THREAD (a process, a
	 * namespace) is refused */
	err = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1,
			       SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, CLONE_THREAD));
	if (!err)
		err = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
	if (!err)
		err = seccomp_load(ctx);
	seccomp_release(ctx);
	if (!err && n_allowed)
		*n_allowed = n + 1;
	return err;
}
