// validate-k8s.mjs FILE...: every document of the YAML files validated
// against the Kubernetes API schema (npm kubernetes-models) and
// prometheus-operator's CRD schema (@kubernetes-models/prometheus-operator).
// Prints "ok Kind/name" or "invalid Kind/name: why" per document; exit 1
// when any is invalid or of a kind it does not know. Run from a directory
// whose node_modules holds those packages and js-yaml
// (tests/integration/test_deploy.py installs them under .output/).
import fs from "node:fs";
import yaml from "js-yaml";

const models = {
  "v1/Namespace": "kubernetes-models/v1/Namespace",
  "v1/ServiceAccount": "kubernetes-models/v1/ServiceAccount",
  "v1/ConfigMap": "kubernetes-models/v1/ConfigMap",
  "v1/Service": "kubernetes-models/v1/Service",
  "apps/v1/DaemonSet": "kubernetes-models/apps/v1/DaemonSet",
  "monitoring.coreos.com/v1/ServiceMonitor":
    "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor",
  "monitoring.coreos.com/v1/PodMonitor":
    "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PodMonitor",
};

let bad = 0;
for (const file of process.argv.slice(2)) {
  for (const doc of yaml.loadAll(fs.readFileSync(file, "utf8"))) {
    if (!doc) continue;
    const key = `${doc.apiVersion}/${doc.kind}`;
    const what = `${doc.kind}/${doc.metadata?.name}`;
    if (!models[key]) {
      console.log(`invalid ${what}: no schema for ${key} (${file})`);
      bad++;
      continue;
    }
    const mod = await import(models[key]);
    const Model = mod[doc.kind];
    try {
      new Model(doc).validate();
      console.log(`ok ${what}`);
    } catch (e) {
      console.log(`invalid ${what}: ${e.message.replace(/\n/g, " ")}`);
      bad++;
    }
  }
}
process.exit(bad ? 1 : 0);
