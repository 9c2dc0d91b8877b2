/* fuzz_nodefiles.c - every parser of the node files (meminfo, loadavg,
 * stat, net/dev, diskstats, mountinfo) on the same bytes, checking what
 * the renderer relies on: counts within the bounds, names that fit and
 * are NUL-terminated, meminfo keys made of metric-name characters, mount
 * strings inside the used part of the pool. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "collect/nodefiles.h"

static void check_name(const char *s, size_t cap)
{
	if (!memchr(s, '\0', cap) || !s[0])
		__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct kp_meminfo mem;
	static struct kp_loadavg load;
	static struct kp_kstat st;
	static struct kp_netdevs net;
	static struct kp_node_disks disks;
	static struct kp_node_fslist fs;
	const char *t = (const char *)data;

	/* the bytes as they are: no NUL at the end, NULs inside allowed */
	kp_meminfo_parse(t, size, &mem);
	kp_loadavg_parse(t, size, &load);
	kp_kstat_parse(t, size, &st);
	kp_netdev_parse(t, size, &net);
	kp_node_diskstats_parse(t, size, NULL, NULL, &disks);
	kp_mountinfo_select(t, size, &fs);
	if (mem.n > KP_NODE_MAX_MEMINFO || net.n > KP_NODE_MAX_NETDEVS ||
	    disks.n > KP_NODE_MAX_DISKS || fs.n > KP_NODE_MAX_MOUNTS || fs.pool_used > KP_NODE_FS_POOL)
		__builtin_trap();
	for (unsigned int i = 0; i < mem.n; i++) {
		check_name(mem.f[i].key, sizeof(mem.f[i].key));
		for (const char *c = mem.f[i].key; *c; c++)
			if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
			      (*c >= '0' && *c <= '9') || *c == '_'))
				__builtin_trap();
	}
	for (unsigned int i = 0; i < net.n; i++)
		check_name(net.d[i].name, sizeof(net.d[i].name));
	for (unsigned int i = 0; i < disks.n; i++) {
		check_name(disks.d[i].name, sizeof(disks.d[i].name));
		if (disks.d[i].nstats < 11 || disks.d[i].nstats > KP_NODE_DISK_STATS)
			__builtin_trap();
	}
	for (unsigned int i = 0; i < fs.n; i++) {
		uint32_t off[3] = { fs.m[i].device, fs.m[i].mountpoint, fs.m[i].fstype };

		for (int k = 0; k < 3; k++)
			if (off[k] >= fs.pool_used ||
			    !memchr(&fs.pool[off[k]], '\0', fs.pool_used - off[k]))
				__builtin_trap();
	}
	return 0;
}
