"""The deploy kit (tools/deploy/) against the real tools that consume it:
promtool checks and unit-tests the Prometheus rules; a real Prometheus
scrapes a live daemon under test workloads and evaluates the rules and every
Grafana panel's query."""
import json
import os
import re
import shutil
import subprocess
import unittest

import yaml

import harness as h

DEPLOY = os.path.join(h.ROOT, "tools", "deploy")
RULES = os.path.join(DEPLOY, "prometheus", "kpulse-rules.yml")
RULES_TEST = os.path.join(h.ROOT, "tests", "deploy", "rules_test.yml")
RUNBOOK = os.path.join(DEPLOY, "RUNBOOK.md")
PROMTOOL = shutil.which("promtool")


def github_anchor(heading):
    """The anchor GitHub (and most Markdown renderers) give a heading."""
    a = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return a.replace(" ", "-")


def runbook_anchors():
    with open(RUNBOOK) as f:
        return {github_anchor(l.lstrip("#")) for l in f if l.startswith("#")}


def load_rules():
    with open(RULES) as f:
        return yaml.safe_load(f)


def alert_rules():
    return [r for g in load_rules()["groups"] for r in g["rules"] if "alert" in r]


@unittest.skipUnless(PROMTOOL, "promtool (Debian package prometheus) is not installed")
class PrometheusRulesTest(unittest.TestCase):
    def test_promtool_check_rules(self):
        p = subprocess.run([PROMTOOL, "check", "rules", RULES], capture_output=True, text=True)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)

    def test_promtool_unit_tests(self):
        p = subprocess.run([PROMTOOL, "test", "rules", RULES_TEST], capture_output=True,
                           text=True, cwd=os.path.dirname(RULES_TEST))
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("SUCCESS", p.stdout)

    def test_every_alert_is_documented_and_tested(self):
        """Each alert: a severity, summary, templated description, a
        runbook_url whose section exists in RUNBOOK.md, and at least one
        promtool test in which it fires."""
        anchors = runbook_anchors()
        with open(RULES_TEST) as f:
            tests = yaml.safe_load(f)["tests"]
        fired = {t["alertname"] for case in tests for t in case.get("alert_rule_test", [])
                 if t.get("exp_alerts")}
        alerts = alert_rules()
        self.assertGreaterEqual(len({a["alert"] for a in alerts}), 15)
        for a in alerts:
            name = a["alert"]
            with self.subTest(alert=name):
                self.assertIn(a["labels"]["severity"], ("info", "warning", "critical"))
                ann = a["annotations"]
                self.assertTrue(ann["summary"])
                self.assertIn("{{ $labels.", ann["description"])
                path, _, anchor = ann["runbook_url"].partition("#")
                self.assertTrue(os.path.isfile(os.path.join(h.ROOT, path)), path)
                self.assertEqual(anchor, name.lower())
                self.assertIn(anchor, anchors)
                self.assertIn(name, fired, "no promtool test makes %s fire" % name)
