/* diskstats.c - /proc/diskstats: per whole disk bytes and busy time. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "collect/diskstats.h"

static const struct kp_disk *find(const struct kp_disks *d, const char *name)
{
	for (unsigned int i = 0; i < d->n; i++)
		if (!strcmp(d->d[i].name, name))
			return &d->d[i];
	return NULL;
}

int kp_diskstats_parse(const char *text, uint64_t now_ns, bool (*is_disk)(const char *name),
		       struct kp_disks *out)
{
	struct kp_disks prev = *out;
	double dt = prev.read_ns && now_ns > prev.read_ns ? (double)(now_ns - prev.read_ns) / 1e9 : 0;
	const char *line = text;
	int err = 0;

	out->n = 0;
	out->left_out = 0;
	out->read_ns = now_ns;
	while (line && *line) {
		const char *nl = strchr(line, '\n');
		unsigned int major, minor;
		uint64_t f[10];
		char name[32];
		struct kp_disk *d;
		const struct kp_disk *p;

		/* major minor name reads merged sectors ms writes merged sectors
		 * ms in_flight io_ms ... (more fields on newer kernels) */
		if (sscanf(line, "%u %u %31s %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64
			   " %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64
			   " %" SCNu64, &major, &minor, name, &f[0], &f[1], &f[2], &f[3], &f[4],
			   &f[5], &f[6], &f[7], &f[8], &f[9]) != 13) {
			err = -EINVAL;
			break;
		}
		line = nl ? nl + 1 : NULL;
		if ((is_disk && !is_disk(name)) || (!f[0] && !f[4]))
			continue;
		if (out->n >= KP_MAX_DISKS) {
			out->left_out++;
			continue;
		}
		d = &out->d[out->n++];
		memset(d, 0, sizeof(*d));
		snprintf(d->name, sizeof(d->name), "%s", name);
		d->read_bytes = f[2] * 512;	/* sectors are 512 bytes here */
		d->write_bytes = f[6] * 512;
		d->io_ms = f[9];
		p = find(&prev, name);
		if (p && dt > 0 && d->read_bytes >= p->read_bytes && d->write_bytes >= p->write_bytes &&
		    d->io_ms >= p->io_ms) {
			d->has_rates = true;
			d->read_bps = (double)(d->read_bytes - p->read_bytes) / dt;
			d->write_bps = (double)(d->write_bytes - p->write_bytes) / dt;
			d->busy = (double)(d->io_ms - p->io_ms) / 1e3 / dt;
			if (d->busy > 1)
				d->busy = 1;
		}
	}
	return err;
}

static bool whole_disk(const char *name)
{
	char path[64];

	if (!strncmp(name, "loop", 4) || !strncmp(name, "ram", 3) || !strncmp(name, "zram", 4))
		return false;
	snprintf(path, sizeof(path), "/sys/block/%s", name);
	return !access(path, F_OK);
}

int kp_diskstats_read(uint64_t now_ns, struct kp_disks *out)
{
	char buf[16384];
	size_t n;
	FILE *f = fopen("/proc/diskstats", "re");

	if (!f)
		return -errno;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* a partial last line of a huge file: drop it */
	if (n == sizeof(buf) - 1 && strrchr(buf, '\n'))
		strrchr(buf, '\n')[1] = '\0';
	return kp_diskstats_parse(buf, now_ns, whole_disk, out);
}
