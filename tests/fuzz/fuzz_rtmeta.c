/* fuzz_rtmeta.c - the runtimes' and the kubelet's files behind container
 * names: docker's config.v2.json, containers/storage's containers.json, an
 * OCI bundle's config.json, and the kubelet's log and pod directory names
 * (whoever can start a container chooses much of what these hold). */
#include <stdint.h>
#include <stddef.h>
#include <string.h>
#include "collect/rtmeta.h"

static int count(void *ctx, const char *id, const struct kp_rt_meta *m)
{
	(void)id;
	(void)m;
	++*(int *)ctx;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	char name[512], id[KP_CID_LEN + 1];
	struct kp_rt_meta m;
	int n = 0;

	kp_docker_config_parse(s, size, &m);
	kp_storage_containers_parse(s, size, count, &n);
	kp_oci_config_parse(s, size, &m);
	/* file names: NUL-terminated, at most a name's length */
	if (size < sizeof(name)) {
		memcpy(name, data, size);
		name[size] = '\0';
		kp_kubelet_log_name_parse(name, &m, id);
		kp_kubelet_pod_dir_parse(name, &m);
	}
	return 0;
}
