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


def probe_port(probe):
    """The port an exec probe's `perfcast ... --server 127.0.0.1:PORT` calls."""
    command = " ".join(probe["exec"]["command"])
    return int(re.search(r"--server 127\.0\.0\.1:(\d+)", command).group(1))


class KubernetesManifestTest(unittest.TestCase):
    def setUp(self):
        self.docs = load_all("deploy/kubernetes/perfcast.yaml")
        self.by_kind = {doc["kind"]: doc for doc in self.docs}

    def test_every_document_is_a_named_object(self):
        for doc in (self.docs + load_all("deploy/kubernetes/servicemonitor.yaml")
                    + load_all("deploy/kubernetes/prometheusrule.yaml")):
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
            self.assertEqual(probe_port(container[probe]), ports["grpc"], probe)
        for port in self.by_kind["Service"]["spec"]["ports"]:
            self.assertIn(port["targetPort"], ports)
        self.assertIn("memory", container["resources"]["requests"])

    def test_volume_claim_is_mounted(self):
        pod = self.by_kind["Deployment"]["spec"]["template"]["spec"]
        claims = {v["persistentVolumeClaim"]["claimName"] for v in pod["volumes"]
                  if "persistentVolumeClaim" in v}
        self.assertIn(self.by_kind["PersistentVolumeClaim"]["metadata"]["name"], claims)


def flagfile_names(flagfile):
    return [line.lstrip("-").split("=", 1)[0]
            for line in filter(None, map(str.strip, flagfile.splitlines()))]


class ReplicatedManifestTest(unittest.TestCase):
    """deploy/kubernetes/replicated/: several replicas on PostgreSQL."""

    def setUp(self):
        self.docs = load_all("deploy/kubernetes/replicated/perfcast-replicated.yaml")
        self.by_kind = {}
        for doc in self.docs:
            self.by_kind.setdefault(doc["kind"], []).append(doc)
        [self.deployment] = self.by_kind["Deployment"]
        self.pod = self.deployment["spec"]["template"]["spec"]
        [self.container] = self.pod["containers"]

    def test_every_document_is_a_named_object(self):
        for doc in self.docs:
            self.assertIn("apiVersion", doc)
            self.assertTrue(doc.get("metadata", {}).get("name"), doc.get("kind"))
        for kind in ("Secret", "ConfigMap", "Deployment", "PodDisruptionBudget",
                     "HorizontalPodAutoscaler", "Service"):
            self.assertIn(kind, self.by_kind)

    def test_flagfiles_hold_only_flags_the_server_knows(self):
        known = server_flag_names()
        self.assertIn("store", known)
        [config_map] = self.by_kind["ConfigMap"]
        [secret] = self.by_kind["Secret"]
        flagfiles = {"ConfigMap": config_map["data"]["perfcast.flags"],
                     "Secret": secret["stringData"]["store.flags"]}
        for source, flagfile in flagfiles.items():
            for name in flagfile_names(flagfile):
                self.assertIn(name, known, f"{source} flag --{name}: perfcast-server has none")
        # The URL (with its password) is only in the Secret, and it selects PostgreSQL.
        self.assertNotIn("store", flagfile_names(flagfiles["ConfigMap"]))
        self.assertEqual(flagfile_names(flagfiles["Secret"]), ["store"])
        self.assertRegex(flagfiles["Secret"], r"--store=postgres(ql)?://")

    def test_the_container_reads_both_flagfiles_from_their_volumes(self):
        [args] = self.container["args"]
        self.assertTrue(args.startswith("--flagfile="))
        mounts = {m["name"]: m["mountPath"] for m in self.container["volumeMounts"]}
        sources = {}
        for volume in self.pod["volumes"]:
            if "configMap" in volume:
                sources[volume["name"]] = (volume["configMap"]["name"], "perfcast.flags")
            if "secret" in volume and volume["secret"]["secretName"] == "perfcast-postgres":
                sources[volume["name"]] = (volume["secret"]["secretName"], "store.flags")
        expected = {f"{mounts[name]}/{key}" for name, (_, key) in sources.items()}
        self.assertEqual(set(args.split("=", 1)[1].split(",")), expected)
        names = {doc["metadata"]["name"] for doc in self.by_kind["ConfigMap"] + self.by_kind["Secret"]}
        for name, _ in sources.values():
            self.assertIn(name, names)

    def test_replicas_share_no_volume_and_probe_the_container_ports(self):
        self.assertGreaterEqual(self.deployment["spec"]["replicas"], 2)
        self.assertFalse(any("persistentVolumeClaim" in v for v in self.pod["volumes"]))
        self.assertNotIn("PersistentVolumeClaim", self.by_kind)
        ports = {p["name"]: p["containerPort"] for p in self.container["ports"]}
        for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
            self.assertEqual(probe_port(self.container[probe]), ports["grpc"], probe)
        for service in self.by_kind["Service"]:
            for port in service["spec"]["ports"]:
                self.assertIn(port["targetPort"], ports)

    def test_disruption_budget_and_autoscaler_fit_the_deployment(self):
        pod_labels = self.deployment["spec"]["template"]["metadata"]["labels"]
        [budget] = self.by_kind["PodDisruptionBudget"]
        [autoscaler] = self.by_kind["HorizontalPodAutoscaler"]
        for key, value in budget["spec"]["selector"]["matchLabels"].items():
            self.assertEqual(pod_labels.get(key), value)
        self.assertEqual(autoscaler["apiVersion"], "autoscaling/v2")
        target = autoscaler["spec"]["scaleTargetRef"]
        self.assertEqual((target["kind"], target["name"]),
                         ("Deployment", self.deployment["metadata"]["name"]))
        # A drain must always be able to evict one pod.
        self.assertLess(budget["spec"]["minAvailable"], autoscaler["spec"]["minReplicas"])
        self.assertLessEqual(autoscaler["spec"]["minReplicas"], autoscaler["spec"]["maxReplicas"])
        # CPU utilisation is measured against the request.
        [metric] = autoscaler["spec"]["metrics"]
        self.assertEqual(metric["resource"]["name"], "cpu")
        self.assertIn("cpu", self.container["resources"]["requests"])


def bind_mounts(service):
    """Container path -> (host path relative to the repository root, read-only) of the
    service's bind mounts (named volumes left out)."""
    mounts = {}
    for volume in service.get("volumes", []):
        parts = volume.split(":")
        if parts[0].startswith("."):
            host = os.path.normpath(os.path.join("deploy/compose", parts[0]))
            mounts[parts[1]] = (host, parts[2:] == ["ro"])
    return mounts


class ComposeAndPrometheusTest(unittest.TestCase):
    def setUp(self):
        [self.compose] = load_all("deploy/compose/compose.yaml")
        self.services = self.compose["services"]

    def test_compose_runs_the_server_prometheus_and_grafana(self):
        self.assertEqual(set(self.services), {"perfcast", "prometheus", "grafana"})
        self.assertIn("50051:50051", self.services["perfcast"]["ports"])

    def test_prometheus_loads_the_alerting_rules_beside_its_configuration(self):
        mounts = bind_mounts(self.services["prometheus"])
        config_path = "/etc/prometheus/prometheus.yml"
        self.assertEqual(mounts[config_path], ("deploy/prometheus/prometheus.yml", True))
        [config] = load_all("deploy/prometheus/prometheus.yml")
        self.assertTrue(config["rule_files"])
        for rule_file in config["rule_files"]:
            # Prometheus reads rule_files relative to its configuration file.
            in_container = os.path.join(os.path.dirname(config_path), rule_file)
            self.assertIn(in_container, mounts, f"rule file {rule_file} is not mounted")
            host, read_only = mounts[in_container]
            self.assertTrue(read_only, in_container)
            self.assertTrue(os.path.isfile(os.path.join(ROOT, host)), host)

    def test_grafana_provisions_the_compose_prometheus_and_the_dashboards(self):
        mounts = bind_mounts(self.services["grafana"])
        self.assertEqual(mounts["/etc/grafana/provisioning"], ("deploy/grafana/provisioning", True))
        [datasources] = load_all("deploy/grafana/provisioning/datasources/prometheus.yml")
        [source] = datasources["datasources"]
        self.assertEqual(source["type"], "prometheus")
        # The URL names the Prometheus service and its port inside the compose network.
        host, port = re.fullmatch(r"http://([\w-]+):(\d+)", source["url"]).groups()
        self.assertIn(host, self.services)
        container_ports = {p.rsplit(":", 1)[1] for p in self.services[host]["ports"]}
        self.assertIn(port, container_ports)
        [providers] = load_all("deploy/grafana/provisioning/dashboards/perfcast.yml")
        for provider in providers["providers"]:
            path = provider["options"]["path"]
            self.assertIn(path, mounts, f"dashboards provider path {path} is not mounted")
            host_dir, read_only = mounts[path]
            self.assertTrue(read_only, path)
            self.assertTrue(os.listdir(os.path.join(ROOT, host_dir)), host_dir)

    def test_promtool_accepts_the_scrape_configuration(self):
        result = subprocess.run(
            [PROMTOOL, "check", "config", os.path.join(ROOT, "deploy/prometheus/prometheus.yml")],
            capture_output=True, text=True, check=False)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)


if __name__ == "__main__":
    unittest.main()
