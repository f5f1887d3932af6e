"""Lints deploy/: the Kubernetes and compose files parse and hang together, every flag they pass
is one perfcast-server knows, and promtool accepts the Prometheus configuration. CI has neither
docker nor a cluster, so this is what checks the deployment files there."""

import os
import re
import subprocess
import unittest

import yaml

ROOT = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", ".."))
SERVER = os.environ["PERFCAST_SERVER_BINARY"]
PROMTOOL = os.environ.get("PERFCAST_PROMTOOL") or "promtool"


def load_all(relative_path):
    with open(os.path.join(ROOT, relative_path), encoding="utf-8") as f:
        return [doc for doc in yaml.safe_load_all(f) if doc]


def server_flag_names():
    out = subprocess.run([SERVER, "--helpfull"], capture_output=True, text=True, check=False)
    return set(re.findall(r"^\s+--(\w+) \(", out.stdout + out.stderr, re.MULTILINE))


class KubernetesManifestTest(unittest.TestCase):
    def setUp(self):
        self.docs = load_all("deploy/kubernetes/perfcast.yaml")
        self.by_kind = {doc["kind"]: doc for doc in self.docs}

    def test_every_document_is_a_named_object(self):
        for doc in self.docs + load_all("deploy/kubernetes/servicemonitor.yaml"):
            self.assertIn("apiVersion", doc)
            self.assertTrue(doc.get("metadata", {}).get("name"), doc.get("kind"))

    def test_flagfile_holds_only_flags_the_server_knows(self):
        known = server_flag_names()
        self.assertIn("metrics_port", known)
        flagfile = self.by_kind["ConfigMap"]["data"]["perfcast.flags"]
        for line in filter(None, map(str.strip, flagfile.splitlines())):
            name = line.lstrip("-").split("=", 1)[0]
            self.assertIn(name, known, f"flagfile line {line!r}: perfcast-server has no such flag")

    def test_probes_and_service_use_the_container_ports(self):
        container = self.by_kind["Deployment"]["spec"]["template"]["spec"]["containers"][0]
        ports = {p["name"]: p["containerPort"] for p in container["ports"]}
        self.assertEqual(set(ports), {"grpc", "metrics"})
        for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
            self.assertEqual(container[probe]["grpc"]["port"], ports["grpc"], probe)
        for port in self.by_kind["Service"]["spec"]["ports"]:
            self.assertIn(port["targetPort"], ports)
        self.assertIn("memory", container["resources"]["requests"])

    def test_volume_claim_is_mounted(self):
        pod = self.by_kind["Deployment"]["spec"]["template"]["spec"]
        claims = {v["persistentVolumeClaim"]["claimName"] for v in pod["volumes"]
                  if "persistentVolumeClaim" in v}
        self.assertIn(self.by_kind["PersistentVolumeClaim"]["metadata"]["name"], claims)


class ComposeAndPrometheusTest(unittest.TestCase):
    def test_compose_runs_the_server_and_prometheus(self):
        [compose] = load_all("deploy/compose/compose.yaml")
        self.assertEqual(set(compose["services"]), {"perfcast", "prometheus"})
        self.assertIn("50051:50051", compose["services"]["perfcast"]["ports"])

    def test_promtool_accepts_the_scrape_configuration(self):
        result = subprocess.run(
            [PROMTOOL, "check", "config", os.path.join(ROOT, "deploy/prometheus/prometheus.yml")],
            capture_output=True, text=True, check=False)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)


if __name__ == "__main__":
    unittest.main()
