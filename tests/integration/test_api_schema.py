"""Every JSON endpoint of a live daemon, validated against
api.schema.json (one definition per endpoint): the containers list and
each container's detail, the node, every history series, the alerts (one
firing), /health, and the 4xx error documents. A container with TCP
traffic and one with a firing alert make the optional sections appear."""
import json
import os
import time
import unittest
import urllib.parse

import jsonschema

import harness as h
import test_tcp as t

SCHEMA = json.load(open(os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                     "api.schema.json")))


def validator(name):
    return jsonschema.Draft7Validator({"$ref": "#/definitions/" + name,
                                       "definitions": SCHEMA["definitions"]})


class ApiSchemaTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.cg = h.Cgroups()
        try:
            busy = cls.cg.make("schemabusy")
            cls.cg.run(busy, [h.WORKLOAD, "spin", "1", "30"])
            cfg = h.config_file(
                "admin_token: schema-test-token\n"
                "alerts:\n  - {name: SchemaBusy, metric: cpu_cores, threshold: 0.1, clear: 0.05,"
                " match: '*schemabusy*', severity: info}\n")
            cls.d = h.Daemon("--config", cfg)
            srv_cg, cli_cg = cls.cg.make("schemasrv"), cls.cg.make("schemacli")
            srv, port = t.start_delay_server(cls.cg, srv_cg, delay_ms=1)
            t.run_in(cls.cg, cli_cg, t.CLIENT, "%d:50" % port)
            t.stop_delay_server(srv)
        except Exception:
            cls.cg.cleanup()
            raise
        time.sleep(3)

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()
        cls.cg.cleanup()

    def doc(self, path, want=200):
        try:
            status, _, body = self.d.get(path)
        except h.urllib.error.HTTPError as e:
            status, body = e.code, e.read().decode()
        self.assertEqual(status, want, path)
        return json.loads(body)

    def valid(self, name, doc, path):
        errs = sorted(validator(name).iter_errors(doc), key=lambda e: list(e.path))
        self.assertEqual([], ["%s at %s: %s" % (path, "/".join(map(str, e.path)), e.message)
                              for e in errs[:5]])

    def test_containers_and_each_detail(self):
        docs = self.doc("/api/v1/containers")
        self.valid("containers", docs, "/api/v1/containers")
        self.assertTrue(any("tcp" in c for c in docs), "a container with TCP figures")
        for c in docs:
            key = urllib.parse.quote(c["cgroup"], safe="")
            self.valid("container_detail", self.doc("/api/v1/containers/" + key), c["cgroup"])

    def test_node(self):
        self.valid("node", self.doc("/api/v1/node"), "/api/v1/node")

    def test_every_history_series(self):
        err = self.doc("/api/v1/history?metric=nonsense", 400)
        self.valid("error", err, "history error")
        names = [w.strip(" ,") for w in err["error"].split(";", 1)[1].split() if w not in ("one", "of")]
        self.assertIn("cpu_cores", names)
        for name in names:
            for who in ("", "&container=" + urllib.parse.quote(self.cg.rel(self.cg.made[1]))):
                path = "/api/v1/history?metric=%s%s" % (name, who)
                self.valid("history", self.doc(path), path)

    def test_alerts_with_one_firing(self):
        deadline = time.time() + 10
        while time.time() < deadline:
            doc = self.doc("/api/v1/alerts")
            if any(a["state"] == "firing" for a in doc["alerts"]):
                break
            time.sleep(0.5)
        self.valid("alerts", doc, "/api/v1/alerts")
        self.assertTrue(any(a["state"] == "firing" for a in doc["alerts"]), doc)

    def test_health(self):
        self.valid("health_doc", self.doc("/health"), "/health")

    def test_errors(self):
        self.valid("error", self.doc("/api/v1/nope", 404), "404")
        self.valid("error", self.doc("/api/v1/containers/nope", 404), "404 container")
        self.valid("error", self.doc("/api/v1/history?metric=cpu_cores&window=soon", 400), "400")
        try:
            self.d.get("/metrics", "DELETE")
            self.fail("DELETE answered")
        except h.urllib.error.HTTPError as e:
            self.assertEqual(e.code, 405)
            self.valid("error", json.loads(e.read().decode()), "405")


if __name__ == "__main__":
    unittest.main()
