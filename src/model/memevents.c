/* memevents.c - OOM kill records, their bounded list and their log line.
 * Comm and cgroup names are arbitrary bytes: the log line quotes them so
 * that one event stays one parseable line whatever they contain. */
#include <inttypes.h>
#include <string.h>
#include "model/memevents.h"
#include "model/text.h"

void kp_oom_record_from_event(struct kp_oom_record *r, const struct kp_oom_event *e,
			      uint64_t page_size, uint64_t mono_now, uint64_t unix_now)
{
	uint64_t age = mono_now > e->ts_ns ? mono_now - e->ts_ns : 0;

	memset(r, 0, sizeof(*r));
	r->mono_ns = e->ts_ns;
	r->unix_ns = unix_now > age ? unix_now - age : 0;
	r->cgid = e->cgid;
	r->pid = e->pid;
	r->tgid = e->tgid;
	r->uid = e->uid;
	r->oom_score_adj = (int32_t)e->oom_score_adj;
	memcpy(r->comm, e->comm, sizeof(r->comm) - 1);
	r->total_vm_bytes = e->total_vm_pages * page_size;
	r->anon_rss_bytes = e->anon_rss_pages * page_size;
	r->file_rss_bytes = e->file_rss_pages * page_size;
	r->shmem_rss_bytes = e->shmem_rss_pages * page_size;
	r->pgtables_bytes = e->pgtables_bytes;
	/* a memcg always has usage (the victim's own pages); no figure at
	 * all means the kernel has no memory cgroups */
	r->has_memcg = e->memcg_usage_pages || e->memcg_limit_pages;
	r->memcg_usage_bytes = e->memcg_usage_pages * page_size;
	/* PAGE_COUNTER_MAX (LONG_MAX / page size) means no limit */
	r->memcg_limited = page_size && e->memcg_limit_pages < INT64_MAX / page_size;
	r->memcg_limit_bytes = r->memcg_limited ? e->memcg_limit_pages * page_size : 0;
}

void kp_oom_record_set_cgroup(struct kp_oom_record *r, const char *path,
			      const struct kp_identity *ident)
{
	/* names made visible (text.h): the record goes to JSON and logs */
	kp_visible(path ? path : "", r->cgroup, sizeof(r->cgroup));
	memset(&r->ident, 0, sizeof(r->ident));
	if (r->cgroup[0] && ident) {
		r->ident = *ident;
		kp_visible(ident->name, r->ident.name, sizeof(r->ident.name));
	}
}

static void quoted(FILE *f, const char *s)
{
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p == '\n')
			fputs("\\n", f);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(f, "\\x%02x", *p);
		else
			fputc(*p, f);
	}
	fputc('"', f);
}

void kp_oom_record_log(FILE *f, const struct kp_oom_record *r)
{
	fprintf(f, "kpulse: oom_kill pid=%" PRIu32 " tgid=%" PRIu32 " comm=", r->pid, r->tgid);
	quoted(f, r->comm);
	fputs(" container=", f);
	quoted(f, r->cgroup[0] ? r->ident.name : "");
	fputs(" cgroup=", f);
	quoted(f, r->cgroup);
	fprintf(f, " cgroup_id=%" PRIu64 " uid=%" PRIu32 " oom_score_adj=%" PRId32
		" total_vm_bytes=%" PRIu64 " anon_rss_bytes=%" PRIu64
		" file_rss_bytes=%" PRIu64 " shmem_rss_bytes=%" PRIu64
		" pgtables_bytes=%" PRIu64,
		r->cgid, r->uid, r->oom_score_adj, r->total_vm_bytes, r->anon_rss_bytes,
		r->file_rss_bytes, r->shmem_rss_bytes, r->pgtables_bytes);
	if (r->has_memcg) {
		fprintf(f, " memcg_usage_bytes=%" PRIu64, r->memcg_usage_bytes);
		if (r->memcg_limited)
			fprintf(f, " memcg_limit_bytes=%" PRIu64, r->memcg_limit_bytes);
		else
			fputs(" memcg_limit_bytes=max", f);
	}
	fputc('\n', f);
	fflush(f);
}

const struct kp_oom_record *kp_oom_list_push(struct kp_oom_list *l,
					     const struct kp_oom_record *r)
{
	struct kp_oom_record *slot = &l->ring[l->total % KP_OOM_KEPT];

	*slot = *r;
	slot->seq = ++l->total;
	return slot;
}

unsigned int kp_oom_list_count(const struct kp_oom_list *l)
{
	return l->total < KP_OOM_KEPT ? (unsigned int)l->total : KP_OOM_KEPT;
}

const struct kp_oom_record *kp_oom_list_get(const struct kp_oom_list *l, unsigned int i)
{
	unsigned int n = kp_oom_list_count(l);

	if (i >= n)
		return NULL;
	return &l->ring[(l->total - n + i) % KP_OOM_KEPT];
}
