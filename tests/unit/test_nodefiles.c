/* test_nodefiles.c - the node file parsers on files captured on this
 * project's test machine (kernel 6.18, tests/unit/fixtures/node/) and on
 * hostile input: lines cut short, NULs, numbers out of range, names that
 * do not fit, more entries than the bounds. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "collect/nodefiles.h"

/* a C string and its length */
#define S(x) (x), strlen(x)

/* A fixture's bytes (malloc'ed, NUL-terminated); the path is relative to
 * this file, so the test runs from the repository root as make runs it. */
static char *fixture(const char *name, size_t *len)
{
	char path[512];
	const char *slash = strrchr(__FILE__, '/');
	FILE *f;
	char *buf = malloc(1 << 20);

	snprintf(path, sizeof(path), "%.*s/fixtures/node/%s",
		 slash ? (int)(slash - __FILE__) : 1, slash ? __FILE__ : ".", name);
	f = fopen(path, "r");
	assert_non_null(f);
	assert_non_null(buf);
	*len = fread(buf, 1, (1 << 20) - 1, f);
	buf[*len] = '\0';
	fclose(f);
	return buf;
}

static const struct kp_meminfo_field *mem(const struct kp_meminfo *m, const char *key)
{
	for (unsigned int i = 0; i < m->n; i++)
		if (!strcmp(m->f[i].key, key))
			return &m->f[i];
	return NULL;
}

static void test_meminfo_fixture(void **s)
{
	struct kp_meminfo *m = calloc(1, sizeof(*m));
	size_t len;
	char *text = fixture("meminfo", &len);

	(void)s;
	assert_int_equal(kp_meminfo_parse(text, len, m), 0);
	assert_int_equal(m->n, 54);	/* every line */
	assert_string_equal(m->f[0].key, "MemTotal");
	assert_true(m->f[0].bytes);
	assert_int_equal(m->f[0].value, 24683664ull * 1024);
	assert_int_equal(mem(m, "Active_anon")->value, 1672ull * 1024);	/* Active(anon) */
	assert_non_null(mem(m, "Inactive_file"));
	assert_null(mem(m, "Active(anon)"));
	assert_false(mem(m, "HugePages_Total")->bytes);	/* no unit: a count */
	assert_int_equal(mem(m, "Hugepagesize")->value, 2048 * 1024);
	assert_int_equal(mem(m, "DirectMap1G")->value, 25165824ull * 1024);
	free(text);
	free(m);
}

static void test_meminfo_hostile(void **s)
{
	struct kp_meminfo *m = calloc(1, sizeof(*m));
	static const char nul[] = "MemTotal: 1 kB\nMem\0Free: 2 kB\nBuffers: 3 kB";
	char *big;

	(void)s;
	assert_int_equal(kp_meminfo_parse(S(""), m), -ENODATA);
	assert_int_equal(kp_meminfo_parse(S("\n\n"), m), -ENODATA);
	/* good lines survive bad ones; the call says -EINVAL */
	assert_int_equal(kp_meminfo_parse(S("MemTotal: 10 kB\nNoColon 5 kB\nFoo: x kB\n"
					    "Bar: 5 MB\nBaz: 5 kB extra\nBad-Key: 1\nCached: 7 kB"), m),
			 -EINVAL);
	assert_int_equal(m->n, 2);
	assert_int_equal(mem(m, "Cached")->value, 7 * 1024);	/* no final newline */
	/* a kB figure whose bytes overflow, a number of 21 digits */
	assert_int_equal(kp_meminfo_parse(S("A: 18014398509481984 kB\nB: 123456789012345678901\n"
					  "C: 18014398509481983 kB\n"), m), -ERANGE);
	assert_int_equal(m->n, 1);
	assert_int_equal(m->f[0].value, 18014398509481983ull * 1024);
	/* a NUL inside a key: that line is dropped */
	assert_int_equal(kp_meminfo_parse(nul, sizeof(nul) - 1, m), -EINVAL);
	assert_int_equal(m->n, 2);
	assert_string_equal(m->f[1].key, "Buffers");
	/* a repeated key keeps its first value (one series per name) */
	assert_int_equal(kp_meminfo_parse(S("A: 1\nA: 2\n"), m), 0);
	assert_int_equal(m->n, 1);
	assert_int_equal(m->f[0].value, 1);
	/* a key longer than the field, parentheses in odd places */
	assert_int_equal(kp_meminfo_parse(S("KeyKeyKeyKeyKeyKeyKeyKeyKeyKeyKeyKeyKeyKeyKeyKey: 1\n"
					  "X(a)(b): 2\n(: 3\n"), m), -EINVAL);
	assert_int_equal(m->n, 0);
	/* over the bound: counted */
	big = malloc(64 * 1024);
	big[0] = '\0';
	for (int i = 0; i < KP_NODE_MAX_MEMINFO + 5; i++)
		sprintf(big + strlen(big), "K%d: %d kB\n", i, i);
	assert_int_equal(kp_meminfo_parse(big, strlen(big), m), 0);
	assert_int_equal(m->n, KP_NODE_MAX_MEMINFO);
	assert_int_equal(m->left_out, 5);
	free(big);
	free(m);
}

static void test_meminfo_parens_key(void **s)
{
	struct kp_meminfo m;

	(void)s;
	/* "X(a)(b)" is not a valid name once transformed: ')' and '(' stay */
	assert_int_equal(kp_meminfo_parse(S("X(a)(b): 2\n"), &m), -EINVAL);
	assert_int_equal(kp_meminfo_parse(S("Inactive(file): 2 kB\n"), &m), 0);
	assert_string_equal(m.f[0].key, "Inactive_file");
}

static void test_loadavg(void **s)
{
	struct kp_loadavg l;
	size_t len;
	char *text = fixture("loadavg", &len);

	(void)s;
	assert_int_equal(kp_loadavg_parse(text, len, &l), 0);
	assert_float_equal(l.load[0], 7.90, 1e-9);
	assert_float_equal(l.load[1], 6.21, 1e-9);
	assert_float_equal(l.load[2], 3.92, 1e-9);
	assert_int_equal(l.running, 18);
	assert_int_equal(l.threads, 141);
	free(text);
	assert_int_equal(kp_loadavg_parse(S(""), &l), -ENODATA);
	assert_int_equal(kp_loadavg_parse(S("1 2"), &l), -EINVAL);
	assert_int_equal(kp_loadavg_parse(S("1 2 3 4 5"), &l), -EINVAL);	/* no '/' */
	assert_int_equal(kp_loadavg_parse(S("-1 2 3 1/2 5"), &l), -EINVAL);
	assert_int_equal(kp_loadavg_parse(S("nan 2 3 1/2 5"), &l), -EINVAL);
	assert_int_equal(kp_loadavg_parse(S("inf 2 3 1/2 5"), &l), -EINVAL);
	assert_int_equal(kp_loadavg_parse(S("1x 2 3 1/2 5"), &l), -EINVAL);
	assert_int_equal(kp_loadavg_parse(S("1 2 3 /2 5"), &l), -EINVAL);
	assert_int_equal(kp_loadavg_parse(S("1 2 3 1/ 5"), &l), -EINVAL);
	assert_int_equal(kp_loadavg_parse(S("1 2 3 1/99999999999999999999999 5"), &l), -ERANGE);
	assert_int_equal(kp_loadavg_parse(S("0.5 0.25 1e3 0/7"), &l), 0);	/* no pid */
	assert_float_equal(l.load[2], 1000, 1e-9);
}

static void test_kstat(void **s)
{
	struct kp_kstat st;
	size_t len;
	char *text = fixture("stat", &len), *big;

	(void)s;
	assert_int_equal(kp_kstat_parse(text, len, &st), 0);
	assert_int_equal(st.boot_time, 1796302059);
	assert_int_equal(st.cpus, 2);
	assert_int_equal(st.intr, 1893195);
	assert_int_equal(st.ctxt, 3871564);
	assert_int_equal(st.forks, 29829);
	assert_int_equal(st.procs_running, 17);
	assert_int_equal(st.procs_blocked, 0);
	free(text);
	assert_int_equal(kp_kstat_parse(S(""), &st), -ENODATA);
	assert_int_equal(kp_kstat_parse(S("ctxt 5\n"), &st), -ENODATA);	/* no btime */
	/* "cpu" (the sum) and "cpux" are not CPUs; a bad line keeps the rest */
	assert_int_equal(kp_kstat_parse(S("cpu 1\ncpux 2\ncpu7 1\nbtime 9\nprocesses x\n"), &st),
			 -EINVAL);
	assert_int_equal(st.cpus, 1);
	assert_int_equal(st.boot_time, 9);
	assert_int_equal(kp_kstat_parse(S("btime 99999999999999999999\n"), &st), -ERANGE);
	/* an intr line of 200,000 numbers: only the first matters */
	big = malloc(2 << 20);
	{
		char *p = big + sprintf(big, "intr 123");

		for (int i = 0; i < 200000; i++)
			p += sprintf(p, " 7");
		sprintf(p, "\nbtime 5");
	}
	assert_int_equal(kp_kstat_parse(big, strlen(big), &st), 0);
	assert_int_equal(st.intr, 123);
	assert_int_equal(st.boot_time, 5);
	free(big);
}

static const struct kp_netdev *dev(const struct kp_netdevs *d, const char *name)
{
	for (unsigned int i = 0; i < d->n; i++)
		if (!strcmp(d->d[i].name, name))
			return &d->d[i];
	return NULL;
}

static void test_netdev_fixture(void **s)
{
	struct kp_netdevs *d = calloc(1, sizeof(*d));
	size_t len;
	char *text = fixture("net_dev", &len);

	(void)s;
	assert_int_equal(kp_netdev_parse(text, len, d), 0);
	assert_int_equal(d->n, 4);
	assert_string_equal(d->d[0].name, "lo");
	assert_int_equal(dev(d, "lo")->v[KP_NET_RX_BYTES], 1608742831);
	assert_int_equal(dev(d, "lo")->v[KP_NET_TX_PACKETS], 1829140);
	assert_int_equal(dev(d, "eth0")->v[KP_NET_RX_PACKETS], 7286);
	assert_int_equal(dev(d, "eth0")->v[KP_NET_TX_BYTES], 278099);
	assert_int_equal(dev(d, "eth0")->v[KP_NET_TX_COMPRESSED], 0);
	free(text);
	free(d);
}

static void test_netdev_hostile(void **s)
{
	struct kp_netdevs *d = calloc(1, sizeof(*d));
	char line[256], *big = malloc(300 * 160);

	(void)s;
	assert_int_equal(kp_netdev_parse("", 0, d), -ENODATA);
	/* a long name right against its numbers ("%6s:" leaves no blank) */
	snprintf(line, sizeof(line), "veth1234abcd:1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n");
	assert_int_equal(kp_netdev_parse(line, strlen(line), d), 0);
	assert_int_equal(dev(d, "veth1234abcd")->v[KP_NET_TX_COMPRESSED], 16);
	assert_int_equal(dev(d, "veth1234abcd")->v[KP_NET_RX_BYTES], 1);
	/* 15 numbers, 17 numbers, no colon, a blank in the name, a name of 32,
	 * a number out of range: each line dropped, the good one kept */
	snprintf(line, sizeof(line),
		 "a: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15\n"
		 "b: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17\n"
		 "c 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n"
		 "d e: 1\n"
		 "ok: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16");
	assert_int_equal(kp_netdev_parse(line, strlen(line), d), -EINVAL);
	assert_int_equal(d->n, 1);
	assert_string_equal(d->d[0].name, "ok");
	snprintf(line, sizeof(line), "0123456789abcdef0123456789abcdef: 1 2 3 4 5 6 7 8 9 10 11 12 "
		 "13 14 15 16\nx: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 99999999999999999999\n");
	assert_int_equal(kp_netdev_parse(line, strlen(line), d), -EINVAL);
	assert_int_equal(d->n, 0);
	/* a repeated name is one series; over the bound: counted */
	big[0] = '\0';
	for (int i = 0; i < KP_NODE_MAX_NETDEVS + 7; i++)
		sprintf(big + strlen(big), "v%d: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n", i % 300);
	strcat(big, "v0: 9 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n");
	assert_int_equal(kp_netdev_parse(big, strlen(big), d), 0);
	assert_int_equal(d->n, KP_NODE_MAX_NETDEVS);
	assert_int_equal(d->left_out, 7);
	assert_int_equal(dev(d, "v0")->v[0], 1);
	free(big);
	free(d);
}

static bool no_loop(const char *name, void *ctx)
{
	(*(int *)ctx)++;
	return strncmp(name, "loop", 4) != 0;
}

static void test_diskstats_fixture(void **s)
{
	struct kp_node_disks *d = calloc(1, sizeof(*d));
	size_t len;
	char *text = fixture("diskstats", &len);
	int asked = 0;

	(void)s;
	assert_int_equal(kp_node_diskstats_parse(text, len, no_loop, &asked, d), 0);
	assert_int_equal(asked, 10);
	assert_int_equal(d->n, 2);
	assert_string_equal(d->d[0].name, "vda");
	assert_int_equal(d->d[0].nstats, 17);
	assert_int_equal(d->d[0].v[0], 150280);	/* reads completed */
	assert_int_equal(d->d[0].v[2], 208144922);	/* sectors read */
	assert_int_equal(d->d[0].v[9], 97020);	/* io ms */
	assert_int_equal(d->d[0].v[16], 457);	/* flush ms */
	assert_string_equal(d->d[1].name, "zram0");	/* no I/O yet, still a disk */
	free(text);
	free(d);
}

static void test_diskstats_hostile(void **s)
{
	struct kp_node_disks *d = calloc(1, sizeof(*d));
	char *big = malloc(80 * 128);
	const char *old = "8 0 sda 1 2 3 4 5 6 7 8 9 10 11\n"		/* before 4.18 */
			  "8 16 sdb 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15\n"	/* before 5.5 */
			  "8 32 sdc 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19\n"; /* later */

	(void)s;
	assert_int_equal(kp_node_diskstats_parse(old, strlen(old), NULL, NULL, d), 0);
	assert_int_equal(d->n, 3);
	assert_int_equal(d->d[0].nstats, 11);
	assert_int_equal(d->d[1].nstats, 15);
	assert_int_equal(d->d[2].nstats, 17);
	assert_int_equal(d->d[2].v[16], 17);
	assert_int_equal(kp_node_diskstats_parse(S("8 0 sda 1 2 3 4 5 6 7 8 9 10\n"), NULL, NULL, d),
			 -EINVAL);
	assert_int_equal(d->n, 0);
	assert_int_equal(kp_node_diskstats_parse(S("8 0 sda 1 2 3\nx y sdb 1 2 3 4 5 6 7 8 9 10 11\n"
						 "8 0 sdc 1 2 3 4 5 6 7 8 9 10 -11\n"
						 "8 0 sdd 1 2 3 4 5 6 7 8 9 10 11"), NULL, NULL, d),
			 -EINVAL);
	assert_int_equal(d->n, 1);
	assert_string_equal(d->d[0].name, "sdd");
	assert_int_equal(kp_node_diskstats_parse(S(""), NULL, NULL, d), 0);
	assert_int_equal(d->n, 0);
	big[0] = '\0';
	for (int i = 0; i < KP_NODE_MAX_DISKS + 2; i++)
		sprintf(big + strlen(big), "8 %d sd%d 1 2 3 4 5 6 7 8 9 10 11\n", i, i);
	assert_int_equal(kp_node_diskstats_parse(big, strlen(big), NULL, NULL, d), 0);
	assert_int_equal(d->n, KP_NODE_MAX_DISKS);
	assert_int_equal(d->left_out, 2);
	free(big);
	free(d);
}

static void test_disk_exclusions(void **s)
{
	(void)s;
	/* node_exporter 1.5's default device-exclude */
	assert_true(kp_node_disk_excluded("sda1"));
	assert_true(kp_node_disk_excluded("vda15"));
	assert_true(kp_node_disk_excluded("xvdb2"));
	assert_true(kp_node_disk_excluded("nvme0n1p3"));
	assert_true(kp_node_disk_excluded("loop0"));
	assert_true(kp_node_disk_excluded("ram12"));
	assert_true(kp_node_disk_excluded("fd0"));
	assert_false(kp_node_disk_excluded("sda"));
	assert_false(kp_node_disk_excluded("vda"));
	assert_false(kp_node_disk_excluded("nvme0n1"));
	assert_false(kp_node_disk_excluded("dm-0"));
	assert_false(kp_node_disk_excluded("md127"));
	assert_false(kp_node_disk_excluded("zram0"));
	assert_false(kp_node_disk_excluded("loop"));
}

static void test_fs_exclusions(void **s)
{
	(void)s;
	assert_true(kp_node_fs_excluded("/proc", "proc"));
	assert_true(kp_node_fs_excluded("/dev/shm", "tmpfs"));
	assert_true(kp_node_fs_excluded("/sys/fs/cgroup", "tmpfs"));
	assert_true(kp_node_fs_excluded("/run/credentials/x.service", "ramfs"));
	assert_true(kp_node_fs_excluded("/var/lib/docker/overlay2/abc/merged", "xfs"));
	assert_true(kp_node_fs_excluded("/var/lib/containers/storage/overlay", "ext4"));
	assert_true(kp_node_fs_excluded("/data", "overlay"));
	assert_true(kp_node_fs_excluded("/data", "cgroup2"));
	assert_true(kp_node_fs_excluded("/x", "nsfs"));
	assert_false(kp_node_fs_excluded("/", "ext4"));
	assert_false(kp_node_fs_excluded("/devices", "ext4"));	/* not under /dev/ */
	assert_false(kp_node_fs_excluded("/run", "tmpfs"));
	assert_false(kp_node_fs_excluded("/run/credentials", "tmpfs"));
	assert_false(kp_node_fs_excluded("/var/lib/docker", "ext4"));
	assert_false(kp_node_fs_excluded("/mnt/nfs", "nfs4"));
	assert_false(kp_node_fs_excluded("/x", "fuse.sshfs"));
	assert_false(kp_node_fs_excluded("/x", "cgroup3"));
}

static const struct kp_node_fs *fs(const struct kp_node_fslist *l, const char *mnt)
{
	for (unsigned int i = 0; i < l->n; i++)
		if (!strcmp(kp_node_fs_str(l, l->m[i].mountpoint), mnt))
			return &l->m[i];
	return NULL;
}

static void test_mountinfo_fixtures(void **s)
{
	struct kp_node_fslist *l = calloc(1, sizeof(*l));
	size_t len;
	char *text = fixture("mountinfo", &len);

	(void)s;
	assert_int_equal(kp_mountinfo_select(text, len, l), 0);
	assert_int_equal(l->n, 3);
	assert_string_equal(kp_node_fs_str(l, l->m[0].mountpoint), "/");
	assert_string_equal(kp_node_fs_str(l, l->m[0].device), "/dev/vda");
	assert_string_equal(kp_node_fs_str(l, l->m[0].fstype), "ext4");
	assert_false(l->m[0].readonly);
	assert_int_equal(l->m[0].state, KP_FS_PENDING);
	assert_true(fs(l, "/mnt/sandboxing/model_tools_env/v1/python")->readonly);
	assert_non_null(fs(l, "/run/netns"));
	free(text);
	/* with containers running: overlay and nsfs left out, bind mounts
	 * and a container's shm tmpfs kept */
	text = fixture("mountinfo-containers", &len);
	assert_int_equal(kp_mountinfo_select(text, len, l), 0);
	assert_int_equal(l->n, 6);
	assert_non_null(fs(l, "/tmp/rtx/data"));
	assert_non_null(fs(l, "/tmp/rtx/proot/overlay"));
	assert_string_equal(kp_node_fs_str(l, fs(l, "/tmp/rtx/proot/overlay-containers/d051bcecfb1b5ecdc16784e1e0b38fac4df06a7fb70d22fc0d3a1ff7d988ee61/userdata/shm")->device), "shm");
	assert_null(fs(l, "/tmp/rtx/exec/netns/36d482981139"));
	for (unsigned int i = 0; i < l->n; i++)
		assert_string_not_equal(kp_node_fs_str(l, l->m[i].fstype), "overlay");
	free(text);
	free(l);
}

static void test_mountinfo_hostile(void **s)
{
	struct kp_node_fslist *l = calloc(1, sizeof(*l));
	static const char nul[] = "1 0 8:1 / /a rw - ext4 /dev/sda1 rw\n"
				  "2 0 8:1 / /b\0c rw - ext4 /dev/sda1 rw\n";
	const char *t;
	char *big = malloc(1 << 20);

	(void)s;
	/* escapes decoded; optional fields; "ro" in the superblock's options;
	 * the same mount twice is one entry; a bind mount of it is another */
	t = "36 35 98:0 / /mnt/a\\040b\\134c rw,noatime shared:1 master:2 - ext4 /dev/x\\040y rw\n"
	    "37 35 98:0 / /mnt/ro rw - ext4 /dev/z ro,errors=continue\n"
	    "38 35 98:0 / /mnt/ro rw - ext4 /dev/z ro,errors=continue\n"
	    "39 35 98:0 /sub /mnt/bind rw - ext4 /dev/z rw\n"
	    "40 35 98:0 / /mnt/nosuper rw - ext4 /dev/q\n";
	assert_int_equal(kp_mountinfo_select(t, strlen(t), l), 0);
	assert_int_equal(l->n, 4);
	assert_string_equal(kp_node_fs_str(l, l->m[0].mountpoint), "/mnt/a b\\c");
	assert_string_equal(kp_node_fs_str(l, l->m[0].device), "/dev/x y");
	assert_true(fs(l, "/mnt/ro")->readonly);
	assert_false(fs(l, "/mnt/bind")->readonly);
	assert_false(fs(l, "/mnt/nosuper")->readonly);
	/* no separator, too few fields, an escape that decodes to NUL, a NUL
	 * byte, "ro" only as part of another option */
	t = "1 2 3:4 / /x rw ext4 /dev/a rw\n"
	    "1 2 3:4 / /y rw -\n"
	    "1 2 3:4 / /z\\000 rw - ext4 /dev/a rw\n"
	    "1 2\n"
	    "1 2 3:4 / /w rw,rox - ext4 /dev/a rw,xro\n";
	assert_int_equal(kp_mountinfo_select(t, strlen(t), l), -EINVAL);
	assert_int_equal(l->n, 1);
	assert_false(l->m[0].readonly);
	assert_int_equal(kp_mountinfo_select(nul, sizeof(nul) - 1, l), -EINVAL);
	assert_int_equal(l->n, 1);
	/* an escape cut by the end of the text is not decoded from what
	 * lies beyond it */
	t = "1 1 0:1 / /m rw - tmpfs /dev/a\\047";
	assert_int_equal(kp_mountinfo_select(t, strlen(t) - 1, l), 0);
	assert_string_equal(kp_node_fs_str(l, l->m[0].device), "/dev/a\\04");
	assert_int_equal(kp_mountinfo_select("", 0, l), 0);
	assert_int_equal(l->n, 0);
	/* more mounts than the bound: counted */
	big[0] = '\0';
	for (int i = 0; i < KP_NODE_MAX_MOUNTS + 9; i++)
		sprintf(big + strlen(big), "%d 1 0:1 / /m/%d rw - tmpfs tmpfs rw\n", i, i);
	assert_int_equal(kp_mountinfo_select(big, strlen(big), l), 0);
	assert_int_equal(l->n, KP_NODE_MAX_MOUNTS);
	assert_int_equal(l->left_out, 9);
	/* long mount points fill the string pool first: counted as well */
	big[0] = '\0';
	for (int i = 0; i < 40; i++) {
		char path[2100];

		memset(path, 'p', sizeof(path) - 1);
		path[sizeof(path) - 1] = '\0';
		sprintf(big + strlen(big), "%d 1 0:1 / /%d%s rw - tmpfs tmpfs rw\n", i, i, path);
	}
	assert_int_equal(kp_mountinfo_select(big, strlen(big), l), 0);
	assert_true(l->n >= 30 && l->n < 40);
	assert_int_equal(l->n + l->left_out, 40);
	assert_true(l->pool_used <= KP_NODE_FS_POOL);
	/* a mount point longer than PATH_MAX is a bad line */
	memset(big, 'q', 5000);
	memcpy(big, "1 1 0:1 / /", 11);
	strcpy(big + 5000, " rw - tmpfs tmpfs rw\n");
	assert_int_equal(kp_mountinfo_select(big, strlen(big), l), -EINVAL);
	assert_int_equal(l->n, 0);
	free(big);
	free(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_meminfo_fixture),
		cmocka_unit_test(test_meminfo_hostile),
		cmocka_unit_test(test_meminfo_parens_key),
		cmocka_unit_test(test_loadavg),
		cmocka_unit_test(test_kstat),
		cmocka_unit_test(test_netdev_fixture),
		cmocka_unit_test(test_netdev_hostile),
		cmocka_unit_test(test_diskstats_fixture),
		cmocka_unit_test(test_diskstats_hostile),
		cmocka_unit_test(test_disk_exclusions),
		cmocka_unit_test(test_fs_exclusions),
		cmocka_unit_test(test_mountinfo_fixtures),
		cmocka_unit_test(test_mountinfo_hostile),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
