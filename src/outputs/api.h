/* api.h - the JSON documents of /api/v1 (containers, node, history), built
 * with jansson from the model and the analysis. `kpulse snapshot --format
 * json` prints the very same containers document. */
#ifndef KPULSE_API_H
#define KPULSE_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

struct kp_model;
struct kp_analysis;

/* Containers matching @pattern (kp_container_matches; NULL = all), worst
 * health first. */
json_t *kp_api_containers(const struct kp_model *m, const struct kp_analysis *a,
			  uint64_t now_ns, const char *pattern);
/* The same document as text, byte for byte what json_dumps(doc,
 * JSON_COMPACT) makes of it, without holding the whole tree: malloc'd,
 * its length in *@len; NULL when out of memory. */
char *kp_api_containers_text(const struct kp_model *m, const struct kp_analysis *a,
			     uint64_t now_ns, const char *pattern, size_t *len);
/* One container by id, name or cgroup path, with its histograms; NULL when
 * there is none. */
json_t *kp_api_container(const struct kp_model *m, const struct kp_analysis *a,
			 uint64_t now_ns, const char *key);
json_t *kp_api_node(const struct kp_model *m, const struct kp_analysis *a,
		    uint64_t now_ns);
/* The alert id of "/api/v1/alerts/{id}/ack" into @id: 0, or -ENOENT for
 * any other path (or an id that does not fit). */
int kp_api_ack_id(const char *url, char *id, size_t len);

/* History of one figure; NULL with @err set on bad input. */
json_t *kp_api_history(const struct kp_model *m, const struct kp_analysis *a,
		       uint64_t now_ns, const char *metric, const char *container,
		       const char *window, const char **err);

#endif
