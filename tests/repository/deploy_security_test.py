#!/usr/bin/env python3
"""Fails when a deployment file in deploy/ runs perfcast-server open: without TLS or bearer
tokens, without a NetworkPolicy (Kubernetes), with probes that cannot speak TLS, with a Secret no
committed template defines, or with what looks like a real key or token committed.

Reads the files only (PyYAML); it needs neither a cluster nor docker. Usage:
  deploy_security_test.py REPOSITORY_ROOT
"""
import pathlib
import re
import sys
import unittest

import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
REQUIRED_FLAGS = ("tls_cert", "tls_key", "auth_tokens")
PLACEHOLDER = re.compile(r"CHANGE-ME|REPLACE-WITH")
# What would be a real secret if committed: a PEM block, or a token `openssl rand -hex 32` makes.
REAL_SECRET = re.compile(r"-----BEGIN [A-Z ]+-----|\b[0-9a-fA-F]{32,}\b")


def load_all(path):
    with open(path, encoding="utf-8") as f:
        return [doc for doc in yaml.safe_load_all(f) if doc]


def kubernetes_files():
    return sorted(p for p in (ROOT / "deploy" / "kubernetes").rglob("*.yaml"))


def is_template(path):
    return ".template." in path.name


def flag_name(argument):
    """'--tls-cert=/x' -> 'tls_cert'; None for what is not a flag."""
    if not argument.startswith("--"):
        return None
    return argument[2:].split("=", 1)[0].replace("-", "_")


def flag_values(arguments):
    values = {}
    for argument in arguments:
        name = flag_name(argument)
        if name is not None:
            values[name] = argument.split("=", 1)[1] if "=" in argument else ""
    return values


def secret_keys():
    """Name -> keys of every Secret committed under deploy/kubernetes (templates and the
    placeholder Secrets of manifests), with the file that defines it."""
    secrets = {}
    for path in kubernetes_files():
        for doc in load_all(path):
            if doc.get("kind") == "Secret":
                keys = set(doc.get("stringData") or {}) | set(doc.get("data") or {})
                secrets[doc["metadata"]["name"]] = (keys, path)
    return secrets


def runs_server(container):
    words = " ".join(map(str, (container.get("command") or []) + [container.get("image", "")]))
    return "perfcast-server" in words or re.search(r"(^|/)perfcast:", words) is not None


def selector_matches(selector, labels):
    return all(labels.get(k) == v for k, v in (selector.get("matchLabels") or {}).items())


class KubernetesTest(unittest.TestCase):
    def setUp(self):
        self.secrets = secret_keys()
        self.manifests = [p for p in kubernetes_files() if not is_template(p)]
        self.servers = []  # (path, docs, deployment, container)
        for path in self.manifests:
            docs = load_all(path)
            for doc in docs:
                if doc.get("kind") not in ("Deployment", "StatefulSet", "DaemonSet"):
                    continue
                for container in doc["spec"]["template"]["spec"]["containers"]:
                    if runs_server(container):
                        self.servers.append((path, docs, doc, container))

    def test_there_are_server_manifests_to_check(self):
        paths = {path.relative_to(ROOT).as_posix() for path, _, _, _ in self.servers}
        self.assertIn("deploy/kubernetes/perfcast.yaml", paths)
        self.assertIn("deploy/kubernetes/replicated/perfcast-replicated.yaml", paths)

    def server_flags(self, docs, pod, container):
        """The flags the container passes, its flagfiles (from ConfigMaps and Secrets) read."""
        mounts = {m["mountPath"].rstrip("/"): m["name"] for m in container.get("volumeMounts", [])}
        volumes = {v["name"]: v for v in pod.get("volumes", [])}
        config_maps = {d["metadata"]["name"]: d.get("data") or {}
                       for d in docs if d.get("kind") == "ConfigMap"}
        inline_secrets = {d["metadata"]["name"]: d.get("stringData") or {}
                          for d in docs if d.get("kind") == "Secret"}
        arguments = list(map(str, container.get("command", []) + container.get("args", [])))
        flags = flag_values(arguments)
        for flagfile in filter(None, flags.pop("flagfile", "").split(",")):
            directory, key = flagfile.rsplit("/", 1)
            volume = volumes[mounts[directory]]
            if "configMap" in volume:
                text = config_maps[volume["configMap"]["name"]][key]
            else:
                text = inline_secrets[volume["secret"]["secretName"]][key]
            flags.update(flag_values([line.strip() for line in text.splitlines()]))
        return flags, mounts, volumes

    def test_server_runs_with_tls_and_tokens_from_mounted_secrets(self):
        for path, docs, deployment, container in self.servers:
            pod = deployment["spec"]["template"]["spec"]
            flags, mounts, volumes = self.server_flags(docs, pod, container)
            for flag in REQUIRED_FLAGS:
                with self.subTest(manifest=path.name, flag=flag):
                    self.assertTrue(flags.get(flag), f"{path}: perfcast-server runs without --{flag}")
                    # The file must be a key of a Secret volume mounted read-only.
                    directory, key = flags[flag].rsplit("/", 1)
                    self.assertIn(directory, mounts, f"--{flag}={flags[flag]}: not mounted")
                    volume = volumes[mounts[directory]]
                    self.assertIn("secret", volume, f"--{flag}: {directory} is not a Secret")
                    mount = next(m for m in container["volumeMounts"]
                                 if m["mountPath"].rstrip("/") == directory)
                    self.assertTrue(mount.get("readOnly"), f"{directory}: mount it readOnly")
                    name = volume["secret"]["secretName"]
                    self.assertIn(name, self.secrets, f"Secret {name}: no template defines it")
                    self.assertIn(key, self.secrets[name][0], f"Secret {name} has no key {key}")

    def test_secret_volumes_are_restrictive_and_defined(self):
        for path, _, deployment, _ in self.servers:
            pod = deployment["spec"]["template"]["spec"]
            for volume in pod.get("volumes", []):
                if "secret" not in volume:
                    continue
                with self.subTest(manifest=path.name, volume=volume["name"]):
                    name = volume["secret"]["secretName"]
                    self.assertIn(name, self.secrets, f"Secret {name}: no template defines it")
                    mode = volume["secret"].get("defaultMode", 0o644)
                    self.assertEqual(mode & 0o037, 0, f"{name}: mode {mode:o} is too open")
                    # Group-readable only helps if the files belong to the server's group.
                    if mode & 0o040:
                        self.assertIn("fsGroup", pod.get("securityContext", {}))

    def test_every_referenced_secret_is_defined(self):
        for path in self.manifests:
            for doc in load_all(path):
                for name in referenced_secrets(doc):
                    with self.subTest(manifest=path.name, secret=name):
                        self.assertIn(name, self.secrets, f"{path}: Secret {name} has no template")

    def test_committed_secrets_hold_placeholders_only(self):
        for name, (_, path) in self.secrets.items():
            for doc in load_all(path):
                if doc.get("kind") != "Secret" or doc["metadata"]["name"] != name:
                    continue
                self.assertFalse(doc.get("data"), f"{name}: base64 data looks real; use stringData")
                for key, value in (doc.get("stringData") or {}).items():
                    with self.subTest(secret=name, key=key):
                        self.assertRegex(value, PLACEHOLDER, f"{path}: {name}/{key} is no placeholder")
                        self.assertNotRegex(value, REAL_SECRET, f"{path}: {name}/{key} looks real")

    def test_probes_speak_tls_with_a_token(self):
        for path, _, _, container in self.servers:
            for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
                with self.subTest(manifest=path.name, probe=probe):
                    self.assertIn(probe, container)
                    self.assertNotIn("grpc", container[probe], "the kubelet's gRPC probe has no TLS")
                    command = " ".join(container[probe]["exec"]["command"])
                    self.assertIn("--tls-ca", command)
                    self.assertRegex(command, r"PERFCAST_TOKEN=|--token")

    def test_a_network_policy_guards_each_server(self):
        for path, docs, deployment, container in self.servers:
            labels = deployment["spec"]["template"]["metadata"]["labels"]
            policies = [d for d in docs if d.get("kind") == "NetworkPolicy"
                        and selector_matches(d["spec"]["podSelector"], labels)]
            with self.subTest(manifest=path.name):
                self.assertTrue(policies, f"{path}: no NetworkPolicy selects the server's pods")
                [policy] = policies
                self.assertIn("Ingress", policy["spec"]["policyTypes"])
                ports = {p["name"]: p["containerPort"] for p in container["ports"]}
                allowed = {}  # port -> the peers of the rules that open it
                for rule in policy["spec"].get("ingress", []):
                    self.assertTrue(rule.get("from"), "a rule without `from` opens to everyone")
                    self.assertTrue(rule.get("ports"), "a rule without `ports` opens every port")
                    for port in rule["ports"]:
                        allowed.setdefault(port["port"], []).extend(rule["from"])
                self.assertEqual(set(allowed) - {"grpc", "metrics"} - set(ports.values()), set())
                grpc_peers = allowed.get("grpc", []) + allowed.get(ports["grpc"], [])
                self.assertTrue(grpc_peers)
                for peer in grpc_peers:
                    self.assertEqual(peer["podSelector"]["matchLabels"], {"perfcast-client": "true"})
                metrics_peers = allowed.get("metrics", []) + allowed.get(ports["metrics"], [])
                self.assertTrue(metrics_peers)
                for peer in metrics_peers:
                    self.assertIn("prometheus", yaml.safe_dump(peer).lower())


def referenced_secrets(node):
    """secretName / secretKeyRef / secretRef names anywhere in a document."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "secretName" and isinstance(value, str):
                yield value
            elif key in ("secretKeyRef", "secretRef") and isinstance(value, dict):
                yield value["name"]
            elif key == "secret" and isinstance(value, dict) and "name" in value:
                yield value["name"]  # a projected volume's source
            else:
                yield from referenced_secrets(value)
    elif isinstance(node, list):
        for item in node:
            yield from referenced_secrets(item)


class ComposeTest(unittest.TestCase):
    def setUp(self):
        [self.compose] = load_all(ROOT / "deploy" / "compose" / "compose.yaml")
        self.service = self.compose["services"]["perfcast"]

    def test_server_runs_with_tls_and_tokens_from_compose_secrets(self):
        flags = flag_values(list(map(str, self.service.get("command", []))))
        declared = set(self.compose.get("secrets", {}))
        used = {s if isinstance(s, str) else s["source"] for s in self.service.get("secrets", [])}
        self.assertLessEqual(used, declared, "the service uses a secret compose does not declare")
        for flag in REQUIRED_FLAGS:
            with self.subTest(flag=flag):
                self.assertTrue(flags.get(flag), f"compose runs perfcast-server without --{flag}")
                self.assertTrue(flags[flag].startswith("/run/secrets/"), flags[flag])
                self.assertIn(flags[flag].rsplit("/", 1)[1], used)

    def test_secret_files_are_not_committed(self):
        ignored = (ROOT / ".gitignore").read_text(encoding="utf-8")
        for name, secret in self.compose.get("secrets", {}).items():
            with self.subTest(secret=name):
                file = secret["file"]
                self.assertTrue(file.startswith("./secrets/"), f"{name}: {file}")
                self.assertFalse((ROOT / "deploy" / "compose" / file).exists()
                                 and "/deploy/compose/secrets/" not in ignored)
        self.assertIn("/deploy/compose/secrets/", ignored)

    def test_health_check_speaks_tls_with_a_token(self):
        test = " ".join(self.service["healthcheck"]["test"])
        self.assertIn("--tls-ca", test)
        self.assertRegex(test, r"PERFCAST_TOKEN=|--token")

    def test_only_grpc_is_published_beyond_the_loopback(self):
        # /metrics, the Prometheus UI and Grafana have no TLS of their own.
        for name, service in self.compose["services"].items():
            for port in service.get("ports", []):
                with self.subTest(service=name, port=port):
                    if name == "perfcast" and port == "50051:50051":
                        continue
                    self.assertTrue(str(port).startswith("127.0.0.1:"), f"{name}: {port}")

    def test_monitoring_configuration_is_mounted_read_only(self):
        for name in ("prometheus", "grafana"):
            for volume in self.compose["services"][name].get("volumes", []):
                if volume.startswith("."):  # a bind mount of a file in the repository
                    with self.subTest(service=name, volume=volume):
                        self.assertTrue(volume.endswith(":ro"), volume)

    def test_prometheus_scrapes_the_plaintext_metrics_port(self):
        # The server has no TLS on /metrics: the scrape must stay http on --metrics-port.
        flags = flag_values(list(map(str, self.service.get("command", []))))
        [config] = load_all(ROOT / "deploy" / "prometheus" / "prometheus.yml")
        [job] = [j for j in config["scrape_configs"] if j["job_name"] == "perfcast"]
        self.assertNotEqual(job.get("scheme", "http"), "https")
        [target] = job["static_configs"][0]["targets"]
        self.assertEqual(target, f"perfcast:{flags['metrics_port']}")


if __name__ == "__main__":
    if len(sys.argv) > 1:
        ROOT = pathlib.Path(sys.argv.pop(1)).resolve()
    unittest.main()
