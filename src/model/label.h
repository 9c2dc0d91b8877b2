/* label.h - a label pair of a series or an alert; a NULL name ends a list.
 * Shared by the model (a container's labels), the alert engine and the
 * Prometheus writer. */
#ifndef KPULSE_MODEL_LABEL_H
#define KPULSE_MODEL_LABEL_H

struct kp_label {
	const char *name;
	const char *value;
};

#endif
