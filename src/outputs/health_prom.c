/* health_prom.c - the health scores (0-100) on /metrics, as of the last
 * analysis: the same number /api/v1/containers and /api/v1/node give, so a
 * Grafana panel or a Prometheus rule reads what the daemon's own alerts
 * and dashboard read. The factors stay in the JSON API (their reasons are
 * text, not series). */
#include "outputs/health_prom.h"
#include "analysis/analysis.h"
#include "model/model.h"
#include "outputs/metrics.h"
#include "outputs/prom.h"

void kp_health_prom(FILE *f, struct kp_metrics *mx, const struct kp_model *m,
		    const struct kp_analysis *an)
{
	struct kp_container *k, *tmp;
	const struct kp_astate *s;

	kp_prom_family(f, "kpulse_container_health_score", "gauge",
		       "Health score of the container, 100 - the penalties of its factors "
		       "(see /api/v1/containers for each factor and the reason).");
	KP_MODEL_FOR_EACH_SHOWN(m, k, tmp) {
		if ((s = kp_analysis__get(an, k->cgid)))
			kp_prom_sample_p(f, "kpulse_container_health_score",
					 kp_metrics__labels(mx, k), NULL, s->health.score);
	}
	kp_prom_family(f, "kpulse_node_health_score", "gauge",
		       "Health score of the host, as the containers'.");
	if ((s = kp_analysis__get(an, 0)))
		kp_prom_sample(f, "kpulse_node_health_score", NULL, s->health.score);
}
