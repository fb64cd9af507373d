"""The Kubernetes deployment, checked offline: deploy/k8s/. There is no cluster here, so nothing is
applied: every manifest is validated against the Kubernetes schemas (kubernetes-validate, strict),
and held to what the app reads (its settings, its routes, how long it drains), to the images'
hardening, and to itself (selectors, ports and references that name something real). The
scripts are parsed by bash and linted by shellcheck, and deploy.sh runs against a stand-in
kubectl that records what it is asked to do.
"""

from __future__ import annotations

import base64
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi import FastAPI
from starlette.routing import Route

from proveo.config import ENV_PREFIX, ImageServiceSettings, Settings
from proveo.core.db import POOLS_PER_SERVER
from proveo.core.workers import STOP_GRACE_SECONDS
from proveo.imaging.pool import MAX_WAIT_SECONDS

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
MANIFESTS = sorted(K8S.glob("*.yaml"))
SECRETS_TEMPLATE = K8S / "02-secrets.template.yaml"
SCRIPTS = [K8S / "deploy.sh", K8S / "cleanup.sh"]
NGINX_TEMPLATE = ROOT / "deploy" / "nginx" / "proveo.conf.template"
BIN = Path(sys.executable).parent
NAMESPACE = "proveo"

SETTINGS_VARIABLES = frozenset(f"{ENV_PREFIX}{name.upper()}" for name in Settings.model_fields)
IMAGE_SERVICE_VARIABLES = frozenset(
    f"{ENV_PREFIX}{name.upper()}" for name in ImageServiceSettings.model_fields
)
WORKLOADS = {"Deployment", "StatefulSet"}
# The oldest Kubernetes the manifests are for: the preStop `sleep` action is on by default from
# 1.30 (k3s v1.30). The newest is kubernetes-validate's default.
OLDEST_KUBERNETES = "1.30.0"
# README, Image service: the service and its model, then per slot a worker and its decoding.
IMAGE_SERVICE_BASE_MIB = 220
IMAGE_SLOT_MIB = 800
PLACEHOLDER = re.compile(r"<[^<>]+>")


def _documents(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc is not None]


DOCUMENTS = [(path, doc) for path in MANIFESTS for doc in _documents(path)]


def _named(kind: str, name: str) -> dict[str, Any]:
    [doc] = [d for _, d in DOCUMENTS if d["kind"] == kind and d["metadata"]["name"] == name]
    return doc


def _pod_templates() -> Iterator[tuple[str, dict[str, Any]]]:
    """(kind/name, pod template) of every workload and Job."""
    for _, doc in DOCUMENTS:
        if doc["kind"] in WORKLOADS | {"Job"}:
            yield f"{doc['kind']}/{doc['metadata']['name']}", doc["spec"]["template"]


def _containers(pod: dict[str, Any]) -> list[dict[str, Any]]:
    return [*pod["spec"].get("initContainers", []), *pod["spec"]["containers"]]


def _workload_pod(name: str) -> dict[str, Any]:
    [pod] = [pod for kind_name, pod in _pod_templates() if kind_name.endswith(f"/{name}")]
    return pod


def _config(name: str) -> dict[str, str]:
    data: dict[str, str] = _named("ConfigMap", name)["data"]
    return data


def _template_secrets() -> dict[str, dict[str, str]]:
    return {doc["metadata"]["name"]: doc["stringData"] for doc in _documents(SECRETS_TEMPLATE)}


def _quantity(value: str | int) -> float:
    """A Kubernetes quantity: CPU in cores, memory in MiB."""
    text = str(value)
    units = {"m": 1e-3, "Ki": 1 / 1024, "Mi": 1.0, "Gi": 1024.0, "M": 1e6 / 2**20, "G": 1e9 / 2**20}
    for suffix, factor in sorted(units.items(), key=lambda unit: -len(unit[0])):
        if text.endswith(suffix):
            return float(text[: -len(suffix)]) * factor
    return float(text)


def _pre_stop_seconds(container: dict[str, Any]) -> int:
    seconds: int = container["lifecycle"]["preStop"]["sleep"]["seconds"]
    return seconds


def _selects(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return all(labels.get(key) == value for key, value in selector.items())


def _container_ports(pod: dict[str, Any]) -> dict[str | int, int]:
    """Each container port, by name and by number."""
    ports: dict[str | int, int] = {}
    for container in pod["spec"]["containers"]:
        for port in container.get("ports", []):
            ports[port["containerPort"]] = port["containerPort"]
            if "name" in port:
                ports[port["name"]] = port["containerPort"]
    return ports


def _pods_selected(selector: dict[str, str]) -> list[dict[str, Any]]:
    return [pod for _, pod in _pod_templates() if _selects(selector, pod["metadata"]["labels"])]


class TestSchemas:
    def test_the_directory_holds_every_manifest_the_scripts_apply(self) -> None:
        applied = set(re.findall(r"\b([0-9a-z-]+\.yaml)\b", (K8S / "deploy.sh").read_text()))
        numbered = {path.name for path in MANIFESTS if path.name[:2].isdigit()}
        assert applied == {path.name for path in MANIFESTS} - {SECRETS_TEMPLATE.name}
        assert {name[:2] for name in numbered} == {f"{n:02}" for n in range(14)}

    @pytest.mark.parametrize("version", [None, OLDEST_KUBERNETES])
    def test_every_document_passes_strict_validation(self, version: str | None) -> None:
        """Every document of every file, the secrets template (placeholders) included."""
        command = [str(BIN / "kubernetes-validate"), "--strict", "--no-warn"]
        if version:
            command += ["--kubernetes-version", version]
        result = subprocess.run(
            [*command, *map(str, MANIFESTS)],
            capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        assert result.returncode == 0, result.stdout + result.stderr
        passed = [line for line in result.stdout.splitlines() if " passed for resource " in line]
        assert len(passed) == len(DOCUMENTS), result.stdout

    def test_everything_lives_in_the_proveo_namespace(self) -> None:
        for path, doc in DOCUMENTS:
            if doc["kind"] == "Namespace":
                assert doc["metadata"]["name"] == NAMESPACE
            else:
                assert doc["metadata"].get("namespace") == NAMESPACE, (path.name, doc["kind"])


class TestContainers:
    @pytest.mark.parametrize(("name", "pod"), list(_pod_templates()))
    def test_every_container_has_requests_and_limits(self, name: str, pod: dict[str, Any]) -> None:
        for container in _containers(pod):
            resources = container.get("resources", {})
            for kind in ("requests", "limits"):
                assert set(resources.get(kind, {})) >= {"cpu", "memory"}, (name, container["name"])
            for resource in ("cpu", "memory"):
                requested = _quantity(resources["requests"][resource])
                assert requested <= _quantity(resources["limits"][resource])

    @pytest.mark.parametrize(
        ("name", "pod"), [(n, p) for n, p in _pod_templates() if not n.startswith("Job/")]
    )
    def test_every_long_running_container_has_three_probes(
        self, name: str, pod: dict[str, Any]
    ) -> None:
        for container in pod["spec"]["containers"]:
            for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
                assert probe in container, (name, container["name"], probe)

    @pytest.mark.parametrize(("name", "pod"), list(_pod_templates()))
    def test_every_container_runs_unprivileged_on_a_read_only_root(
        self, name: str, pod: dict[str, Any]
    ) -> None:
        pod_context = pod["spec"].get("securityContext", {})
        assert pod_context.get("seccompProfile", {}).get("type") == "RuntimeDefault", name
        for container in _containers(pod):
            context = {**pod_context, **container.get("securityContext", {})}
            where = (name, container["name"])
            assert context.get("runAsNonRoot") is True, where
            assert context.get("runAsUser", 0) > 0, where
            assert context.get("readOnlyRootFilesystem") is True, where
            assert context.get("allowPrivilegeEscalation") is False, where
            assert context.get("capabilities", {}).get("drop") == ["ALL"], where

    @pytest.mark.parametrize(("name", "pod"), list(_pod_templates()))
    def test_pods_get_no_token_and_no_service_variables(
        self, name: str, pod: dict[str, Any]
    ) -> None:
        """Service links would add API_PORT=tcp://... for every Service, PROVEO_* ones for a
        Service named proveo-something, which the settings would then read."""
        assert pod["spec"].get("automountServiceAccountToken") is False, name
        assert pod["spec"].get("enableServiceLinks") is False, name

    @pytest.mark.parametrize(("name", "pod"), list(_pod_templates()))
    def test_every_mounted_volume_exists(self, name: str, pod: dict[str, Any]) -> None:
        volumes = {volume["name"] for volume in pod["spec"].get("volumes", [])}
        workload = next(d for _, d in DOCUMENTS if f"{d['kind']}/{d['metadata']['name']}" == name)
        volumes |= {
            claim["metadata"]["name"] for claim in workload["spec"].get("volumeClaimTemplates", [])
        }
        for container in _containers(pod):
            for mount in container.get("volumeMounts", []):
                assert mount["name"] in volumes, (name, container["name"], mount["name"])

    def test_our_images_are_the_ones_the_dockerfiles_build(self) -> None:
        """deploy.sh renames `proveo-*:latest` for a registry; other images are pinned."""
        for name, pod in _pod_templates():
            for container in _containers(pod):
                image = container["image"]
                if image.startswith("proveo-"):
                    assert re.fullmatch(r"proveo-(api|image-service|nginx|postgres):latest", image)
                    assert container["imagePullPolicy"] == "IfNotPresent", (name, image)
                else:
                    assert ":" in image, (name, image)
                    assert not image.endswith(":latest"), (name, image)


class TestSettings:
    def _proveo_variables(self) -> dict[str, str]:
        """Every PROVEO_ variable the manifests, the template and deploy.sh name, and where."""
        found: dict[str, str] = {}
        for path, doc in DOCUMENTS:
            for key in {**doc.get("data", {}), **doc.get("stringData", {})}:
                found.setdefault(key, path.name)
        for name, pod in _pod_templates():
            for container in _containers(pod):
                if container["image"].startswith("proveo-nginx:"):
                    continue  # the nginx template's variables (test_nginx_gets_its_variables)
                for variable in container.get("env", []):
                    found.setdefault(variable["name"], name)
        for key in re.findall(r'"(PROVEO_[A-Z0-9_]+)=', (K8S / "deploy.sh").read_text()):
            found.setdefault(key, "deploy.sh")
        return {key: where for key, where in found.items() if key.startswith(ENV_PREFIX)}

    def test_every_proveo_variable_is_a_setting(self) -> None:
        variables = self._proveo_variables()
        assert len(variables) > 30
        unknown = {key: where for key, where in variables.items() if key not in SETTINGS_VARIABLES}
        assert not unknown, f"not fields of proveo.config.Settings: {unknown}"

    def test_nginx_gets_the_variables_of_its_template(self) -> None:
        [container] = _workload_pod("nginx")["spec"]["containers"]
        given = {variable["name"] for variable in container["env"]}
        expected = set(re.findall(r"\$\{([A-Z_]+)\}", NGINX_TEMPLATE.read_text()))
        assert given == expected
        assert {"name": "NGINX_LISTEN", "value": "8080"} in container["env"]

    def test_secrets_stay_out_of_the_configmaps(self) -> None:
        secret_names = set(_template_secrets()["proveo-app"])
        for name in ("proveo-config", "proveo-image-service-config"):
            assert not secret_names & set(_config(name)), name
        assert {"PROVEO_SECRET_KEY", "PROVEO_DATABASE_URL", "PROVEO_DATABASE_REPLICA_URL"} <= (
            secret_names
        )

    def test_the_template_holds_placeholders_only(self) -> None:
        for name, data in _template_secrets().items():
            for key, value in data.items():
                assert PLACEHOLDER.search(value), f"{name}/{key} is not a placeholder"

    def test_deploy_writes_the_keys_of_the_template(self) -> None:
        script = (K8S / "deploy.sh").read_text()
        written: dict[str, set[str]] = {}
        for call in re.split(r"^write_secret ", script, flags=re.MULTILINE)[1:]:
            name, _, rest = call.partition(" ")
            arguments = rest.split("\n\n")[0]
            written[name] = set(re.findall(r'"([A-Za-z0-9_.]+)=', arguments))
        template = {name: set(data) for name, data in _template_secrets().items()}
        assert written == template

    def test_every_reference_names_a_key_that_exists(self) -> None:
        configs = {
            d["metadata"]["name"]: set(d["data"]) for _, d in DOCUMENTS if d["kind"] == "ConfigMap"
        }
        secret_keys = {name: set(data) for name, data in _template_secrets().items()}
        for name, pod in _pod_templates():
            for container in _containers(pod):
                for source in container.get("envFrom", []):
                    if "configMapRef" in source:
                        assert source["configMapRef"]["name"] in configs, name
                    else:
                        assert source["secretRef"]["name"] in secret_keys, name
                for variable in container.get("env", []):
                    ref = variable.get("valueFrom", {})
                    if "secretKeyRef" in ref:
                        keys = secret_keys[ref["secretKeyRef"]["name"]]
                        assert ref["secretKeyRef"]["key"] in keys, (name, variable["name"])
                    if "configMapKeyRef" in ref:
                        keys = configs[ref["configMapKeyRef"]["name"]]
                        assert ref["configMapKeyRef"]["key"] in keys, (name, variable["name"])
            for volume in pod["spec"].get("volumes", []):
                if "secret" in volume:
                    assert volume["secret"]["secretName"] in secret_keys, name
                if "persistentVolumeClaim" in volume:
                    claim = volume["persistentVolumeClaim"]["claimName"]
                    assert _named("PersistentVolumeClaim", claim), name

    def _environment(self, pod: dict[str, Any]) -> dict[str, str]:
        """The PROVEO_ environment of a pod's main container, secrets filled in as deploy.sh
        would (random URL-safe values for the placeholders)."""
        [container] = pod["spec"]["containers"]
        secrets_by_name = _template_secrets()
        environment: dict[str, str] = {}
        for source in container.get("envFrom", []):
            if "configMapRef" in source:
                environment |= _config(source["configMapRef"]["name"])
            else:
                environment |= secrets_by_name[source["secretRef"]["name"]]
        environment |= {v["name"]: v["value"] for v in container.get("env", []) if "value" in v}
        return {
            key: PLACEHOLDER.sub(lambda _: secrets.token_urlsafe(32), value)
            for key, value in environment.items()
            if key.startswith(ENV_PREFIX)
        }

    @pytest.mark.parametrize("workload", ["api", "image-service", "proveo-migrate"])
    def test_each_pod_s_settings_load(self, workload: str, monkeypatch: pytest.MonkeyPatch) -> None:
        """Each passes production's checks for what it runs: the API's and the Job's (https base
        URL, SMTP over TLS, the S3 keys, Redis for two workers, no '*' proxy), and the image
        service's own, which name none of the API's settings."""
        for key in [key for key in os.environ if key.startswith(ENV_PREFIX)]:
            monkeypatch.delenv(key)
        environment = self._environment(_workload_pod(workload))
        for key, value in environment.items():
            monkeypatch.setenv(key, value)
        if workload == "image-service":
            images = ImageServiceSettings(_env_file=None)
            assert images.is_production
            assert images.image_service_host == "0.0.0.0"  # noqa: S104 - a value compared
            assert set(environment) <= IMAGE_SERVICE_VARIABLES
        else:
            settings = Settings(_env_file=None)  # type: ignore[call-arg]
            assert settings.is_production
            assert settings.database_replica_url
            assert settings.redis_url
            assert settings.storage == "s3"
            assert not settings.creates_s3_bucket

    def test_the_api_waits_longer_for_an_image_than_the_service_may_take(self) -> None:
        wall = float(_config("proveo-image-service-config")["PROVEO_IMAGE_WALL_SECONDS"])
        timeout = float(_config("proveo-config")["PROVEO_IMAGE_SERVICE_TIMEOUT"])
        assert timeout > MAX_WAIT_SECONDS + wall

    def test_trusted_proxies_are_a_network_and_only_nginx_reaches_the_api(self) -> None:
        proxies = _config("proveo-config")["PROVEO_TRUSTED_PROXIES"]
        assert re.fullmatch(r"\d+\.\d+\.\d+\.\d+/\d+", proxies)
        policy = _named("NetworkPolicy", "api")
        [http] = [
            rule
            for rule in policy["spec"]["ingress"]
            if {"port": 8000, "protocol": "TCP"} in rule["ports"]
        ]
        assert http["from"] == [{"podSelector": {"matchLabels": {"app": "nginx"}}}]


class TestSizing:
    def test_image_service_slots_match_its_cpu_and_memory(self) -> None:
        slots = int(_config("proveo-image-service-config")["PROVEO_IMAGE_WORKERS"])
        [container] = _workload_pod("image-service")["spec"]["containers"]
        limits = container["resources"]["limits"]
        assert slots == _quantity(limits["cpu"])
        assert _quantity(limits["memory"]) >= IMAGE_SERVICE_BASE_MIB + slots * IMAGE_SLOT_MIB

    def test_database_connections_at_the_autoscaler_s_maximum_fit_postgresql(self) -> None:
        config = _config("proveo-config")
        per_pod = (
            int(config["PROVEO_WORKERS"]) * POOLS_PER_SERVER * int(config["PROVEO_DB_POOL_MAX"])
        )
        most = _named("HorizontalPodAutoscaler", "api")["spec"]["maxReplicas"] * per_pod
        for server in ("postgres-primary", "postgres-replica"):
            [container] = _workload_pod(server)["spec"]["containers"]
            args = " ".join(container["args"])
            [limit] = re.findall(r"max_connections=(\d+)", args)
            assert most + 20 <= int(limit), server
        primary, replica = (
            _workload_pod(name)["spec"]["containers"][0]["args"]
            for name in ("postgres-primary", "postgres-replica")
        )
        assert primary == replica, "a hot standby needs at least its primary's settings"


class TestShutdown:
    def test_the_api_outlasts_its_workers_drain(self) -> None:
        """With several workers, `serve` kills any still running STOP_GRACE_SECONDS after the
        stop; with one, uvicorn's shutdown has no timeout at all, so the pod runs two."""
        assert int(_config("proveo-config")["PROVEO_WORKERS"]) >= 2
        pod = _workload_pod("api")
        [container] = pod["spec"]["containers"]
        drain = _pre_stop_seconds(container) + STOP_GRACE_SECONDS
        assert pod["spec"]["terminationGracePeriodSeconds"] > drain

    def test_the_image_service_outlasts_its_longest_analysis(self) -> None:
        wall = float(_config("proveo-image-service-config")["PROVEO_IMAGE_WALL_SECONDS"])
        pod = _workload_pod("image-service")
        [container] = pod["spec"]["containers"]
        drain = _pre_stop_seconds(container) + MAX_WAIT_SECONDS + wall
        assert pod["spec"]["terminationGracePeriodSeconds"] > drain

    def test_nginx_outlasts_its_longest_proxied_request(self) -> None:
        [read_timeout] = re.findall(r"proxy_read_timeout (\d+)s;", NGINX_TEMPLATE.read_text())
        pod = _workload_pod("nginx")
        [container] = pod["spec"]["containers"]
        drain = _pre_stop_seconds(container) + int(read_timeout)
        assert pod["spec"]["terminationGracePeriodSeconds"] > drain


@cache
def _api() -> FastAPI:
    from proveo.app import create_app

    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url="postgresql://unused@127.0.0.1:1/unused",
        scheduler_enabled=False,
        log_format="console",
        log_level="WARNING",
    )
    return create_app(settings)


def _http_probes(name: str) -> dict[str, str]:
    [container] = _workload_pod(name)["spec"]["containers"]
    return {
        probe: container[probe]["httpGet"]["path"]
        for probe in ("startupProbe", "livenessProbe", "readinessProbe")
    }


class TestProbes:
    def test_the_api_probes_are_its_health_routes(self) -> None:
        app = _api()
        paths = app.openapi()["paths"]
        probes = _http_probes("api")
        for probe, path in probes.items():
            assert "get" in paths.get(path, {}), (probe, path)
        assert probes["livenessProbe"] == app.url_path_for("health:live")
        assert probes["startupProbe"] == app.url_path_for("health:live")
        assert probes["readinessProbe"] == app.url_path_for("health:ready")

    def test_the_image_service_probes_its_health_route(self) -> None:
        from proveo.imaging.app import create_image_service_app

        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            log_format="console",
            log_level="WARNING",
        )
        app = create_image_service_app(settings)
        routes = {
            route.path
            for route in app.routes
            if isinstance(route, Route) and "GET" in (route.methods or ())
        }
        assert set(_http_probes("image-service").values()) == {"/health"} <= routes

    @pytest.mark.parametrize(("name", "pod"), list(_pod_templates()))
    def test_probes_use_ports_the_container_opens(self, name: str, pod: dict[str, Any]) -> None:
        ports = _container_ports(pod)
        for container in pod["spec"]["containers"]:
            for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
                check = container.get(probe, {})
                for kind in ("httpGet", "tcpSocket"):
                    if kind in check:
                        assert check[kind]["port"] in ports, (name, probe)


class TestWiring:
    def test_services_select_pods_and_target_their_ports(self) -> None:
        for _, doc in DOCUMENTS:
            if doc["kind"] != "Service":
                continue
            pods = _pods_selected(doc["spec"]["selector"])
            assert pods, doc["metadata"]["name"]
            for pod in pods:
                for port in doc["spec"]["ports"]:
                    assert port["targetPort"] in _container_ports(pod), doc["metadata"]["name"]

    def test_autoscalers_target_deployments_that_leave_them_the_count(self) -> None:
        hpas = [d for _, d in DOCUMENTS if d["kind"] == "HorizontalPodAutoscaler"]
        assert {hpa["metadata"]["name"] for hpa in hpas} == {"api", "image-service"}
        for hpa in hpas:
            target = hpa["spec"]["scaleTargetRef"]
            assert (target["apiVersion"], target["kind"]) == ("apps/v1", "Deployment")
            deployment = _named("Deployment", target["name"])
            assert "replicas" not in deployment["spec"], "apply would reset the autoscaler's count"
            assert 2 <= hpa["spec"]["minReplicas"] < hpa["spec"]["maxReplicas"]
            [metric] = hpa["spec"]["metrics"]
            assert metric["resource"]["name"] == "cpu"

    def test_disruption_budgets_select_the_pods_of_one_deployment(self) -> None:
        budgets = [d for _, d in DOCUMENTS if d["kind"] == "PodDisruptionBudget"]
        assert {b["metadata"]["name"] for b in budgets} == {"api", "image-service", "nginx"}
        for budget in budgets:
            selector = budget["spec"]["selector"]["matchLabels"]
            [pod] = _pods_selected(selector)
            assert pod is _named("Deployment", budget["metadata"]["name"])["spec"]["template"]

    def test_replicated_deployments_spread_over_nodes(self) -> None:
        for name in ("api", "image-service", "nginx"):
            pod = _workload_pod(name)
            [spread] = pod["spec"]["topologySpreadConstraints"]
            assert spread["topologyKey"] == "kubernetes.io/hostname"
            assert _selects(spread["labelSelector"]["matchLabels"], pod["metadata"]["labels"])

    def test_network_policies_name_real_pods_and_ports(self) -> None:
        policies = [d for _, d in DOCUMENTS if d["kind"] == "NetworkPolicy"]
        for policy in policies:
            name = policy["metadata"]["name"]
            selector = policy["spec"]["podSelector"].get("matchLabels", {})
            targets = _pods_selected(selector)
            assert targets, name
            for rule in policy["spec"].get("ingress", []):
                for port in rule.get("ports", []):
                    for pod in targets:
                        assert port["port"] in _container_ports(pod), (name, port)
                for peer in rule.get("from", []):
                    if "podSelector" in peer and "namespaceSelector" not in peer:
                        assert _pods_selected(peer["podSelector"]["matchLabels"]), (name, peer)
            for rule in policy["spec"].get("egress", []):
                for peer in rule.get("to", []):
                    if "podSelector" in peer and "namespaceSelector" not in peer:
                        peers = _pods_selected(peer["podSelector"]["matchLabels"])
                        assert peers, (name, peer)
                        for pod, port in ((p, r["port"]) for p in peers for r in rule["ports"]):
                            assert port in _container_ports(pod), (name, peer, port)

    def test_every_pod_is_denied_by_default_and_allowed_dns(self) -> None:
        deny = _named("NetworkPolicy", "default-deny")["spec"]
        assert deny == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
        dns = _named("NetworkPolicy", "dns")["spec"]
        assert dns["podSelector"] == {}
        assert {p["port"] for rule in dns["egress"] for p in rule["ports"]} == {53}
        labelled = {name for name, _ in _pod_templates()}
        covered = {
            name
            for name, pod in _pod_templates()
            for _, doc in DOCUMENTS
            if doc["kind"] == "NetworkPolicy"
            and doc["spec"]["podSelector"].get("matchLabels")
            and _selects(doc["spec"]["podSelector"]["matchLabels"], pod["metadata"]["labels"])
        }
        assert covered == labelled, "every pod has a policy of its own"

    def test_metrics_ports_open_only_to_the_monitoring_namespace(self) -> None:
        for name, port in (("api", 9100), ("image-service", 9101)):
            pod = _workload_pod(name)
            assert _container_ports(pod)["metrics"] == port
            assert pod["metadata"]["annotations"]["prometheus.io/port"] == str(port)
            [rule] = [
                rule
                for rule in _named("NetworkPolicy", name)["spec"]["ingress"]
                if {"protocol": "TCP", "port": port} in rule["ports"]
            ]
            [peer] = rule["from"]
            assert peer == {
                "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}
            }
            service = _named("Service", name)
            assert port not in {p["port"] for p in service["spec"]["ports"]}


# A stand-in for kubectl: it records every call (its arguments, and the documents it was given
# to apply), keeps the Secrets applied so far, and answers the few questions deploy.sh asks.
FAKE_KUBECTL = """#!{python}
import base64, json, os, re, sys
from pathlib import Path

import yaml

state = Path(os.environ["FAKE_KUBECTL_STATE"])
secrets_file = state / "secrets.json"
secrets = json.loads(secrets_file.read_text()) if secrets_file.exists() else {{}}
args = sys.argv[1:]
call = {{"args": args}}

def documents():
    return [doc for doc in yaml.safe_load_all(sys.stdin.read()) if doc]

if args[0] == "apply":
    call["applied"] = documents()
    for doc in call["applied"]:
        if doc["kind"] == "Secret":
            secrets[doc["metadata"]["name"]] = doc["data"]
    secrets_file.write_text(json.dumps(secrets))
elif args[:3] == ["create", "secret", "generic"]:
    data = {{}}
    for arg in args:
        if arg.startswith("--from-file="):
            key, _, path = arg.removeprefix("--from-file=").partition("=")
            data[key] = base64.b64encode(Path(path).read_bytes()).decode()
    doc = {{"apiVersion": "v1", "kind": "Secret", "metadata": {{"name": args[3]}}, "data": data}}
    print(yaml.safe_dump(doc))
elif args[:2] == ["label", "--local"]:
    label = next(arg for arg in args if "=" in arg and not arg.startswith("-"))
    key, _, value = label.partition("=")
    docs = documents()
    for doc in docs:
        doc["metadata"].setdefault("labels", {{}})[key] = value
    print(yaml.safe_dump_all(docs))
elif args[:2] == ["get", "secret"]:
    key = re.search(r'index .data "([^"]+)"', " ".join(args))[1]
    value = secrets.get(args[2], {{}}).get(key)
    if value is None:
        sys.exit(1)
    sys.stdout.write(base64.b64decode(value).decode())
elif args[:2] == ["get", "job"]:
    print("Failed " if args[2] in os.environ.get("FAKE_KUBECTL_FAILING_JOBS", "") else "Complete ")
elif args[:2] == ["get", "service"]:
    print("203.0.113.7")
with (state / "calls.jsonl").open("a") as log:
    log.write(json.dumps(call) + "\\n")
"""


class DeployRun:
    """One run of deploy.sh against FAKE_KUBECTL."""

    def __init__(self, root: Path, *, failing_jobs: str = "", **env: str) -> None:
        bin_dir = root / "bin"
        bin_dir.mkdir(exist_ok=True)
        kubectl = bin_dir / "kubectl"
        kubectl.write_text(FAKE_KUBECTL.format(python=sys.executable))
        kubectl.chmod(0o755)
        self.state = root
        (root / "calls.jsonl").unlink(missing_ok=True)
        self.result = subprocess.run(
            ["bash", str(K8S / "deploy.sh"), *env.pop("args", "").split()],
            env={
                "PATH": f"{bin_dir}:/usr/bin:/bin",
                "HOME": str(root),
                "FAKE_KUBECTL_STATE": str(root),
                "FAKE_KUBECTL_FAILING_JOBS": failing_jobs,
                **env,
            },
            capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        lines = (root / "calls.jsonl").read_text().splitlines()
        self.calls: list[dict[str, Any]] = [json.loads(line) for line in lines]

    @property
    def events(self) -> list[str]:
        """Each call as one string: `apply Kind/name` per applied document, else the command."""
        events: list[str] = []
        for call in self.calls:
            if "applied" in call:
                events += [f"apply {d['kind']}/{d['metadata']['name']}" for d in call["applied"]]
            else:
                events.append(" ".join(call["args"]))
        return events

    def first(self, prefix: str) -> int:
        return next(i for i, event in enumerate(self.events) if event.startswith(prefix))

    def applied(self, kind: str, name: str) -> dict[str, Any]:
        return next(
            doc
            for call in self.calls
            for doc in call.get("applied", [])
            if (doc["kind"], doc["metadata"]["name"]) == (kind, name)
        )

    def secret(self, name: str) -> dict[str, str]:
        data = self.applied("Secret", name)["data"]
        return {key: base64.b64decode(value).decode() for key, value in data.items()}


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> DeployRun:
    return DeployRun(tmp_path_factory.mktemp("deploy"), PROVEO_SMTP_USER="mailer")


class TestDeployScript:
    """deploy.sh run against a kubectl that records instead of deploying."""

    def test_it_deploys_in_order_and_waits_for_each_step(self, run: DeployRun) -> None:
        assert run.result.returncode == 0, run.result.stderr
        order = [
            "apply Namespace/proveo",
            "apply NetworkPolicy/default-deny",
            "apply ConfigMap/proveo-config",
            "apply Secret/proveo-app",
            "apply StatefulSet/postgres-primary",
            "rollout status statefulset/postgres-primary",
            "apply StatefulSet/postgres-replica",
            "rollout status statefulset/postgres-replica",
            "apply Job/create-bucket",
            "get job create-bucket",
            "delete job proveo-migrate",
            "apply Job/proveo-migrate",
            "get job proveo-migrate",
            "apply HorizontalPodAutoscaler/api",
            "apply Deployment/image-service",
            "rollout status deployment/image-service",
            "apply Deployment/api",
            "rollout status deployment/api",
            "apply Deployment/nginx",
            "rollout status deployment/nginx",
            "get service nginx",
        ]
        positions = [run.first(step) for step in order]
        assert positions == sorted(positions), run.events
        assert "http://203.0.113.7/" in run.result.stdout

    def test_it_applies_every_manifest_but_the_template(self, run: DeployRun) -> None:
        applied = {event for event in run.events if event.startswith("apply ")}
        expected = {
            f"apply {doc['kind']}/{doc['metadata']['name']}"
            for path, doc in DOCUMENTS
            if path != SECRETS_TEMPLATE
        }
        assert applied == expected | {f"apply Secret/{name}" for name in _template_secrets()}

    def test_the_secrets_it_makes_fit_together_and_pass_production(
        self, run: DeployRun, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        app, postgres = run.secret("proveo-app"), run.secret("postgres")
        password = postgres["POSTGRES_APP_PASSWORD"]
        assert re.fullmatch(r"[0-9a-f]{48}", password)
        assert len(set(postgres.values())) == 3
        assert app["PROVEO_DATABASE_URL"] == (
            f"postgresql://proveo:{password}@postgres-primary:5432/proveo?sslmode=require"
        )
        assert app["PROVEO_DATABASE_REPLICA_URL"] == app["PROVEO_DATABASE_URL"].replace(
            "postgres-primary", "postgres-replica"
        )
        redis_password = run.secret("redis")["REDIS_PASSWORD"]
        assert app["PROVEO_REDIS_URL"] == f"redis://:{redis_password}@redis:6379/0"
        [identity] = json.loads(run.secret("seaweedfs-s3")["s3.json"])["identities"]
        assert identity["credentials"] == [
            {"accessKey": app["PROVEO_S3_ACCESS_KEY"], "secretKey": app["PROVEO_S3_SECRET_KEY"]}
        ]
        assert app["PROVEO_SMTP_USER"] == "mailer"
        for key in [key for key in os.environ if key.startswith(ENV_PREFIX)]:
            monkeypatch.delenv(key)
        for key, value in {**_config("proveo-config"), **app}.items():
            monkeypatch.setenv(key, value)
        assert Settings(_env_file=None).is_production  # type: ignore[call-arg]

    def test_no_secret_value_is_ever_on_a_command_line(self, run: DeployRun) -> None:
        values = [
            value
            for name in _template_secrets()
            for value in run.secret(name).values()
            if len(value) >= 16
        ]
        assert len(values) >= 8
        command_lines = " ".join(" ".join(call["args"]) for call in run.calls)
        assert not [value for value in values if value in command_lines]

    def test_a_second_run_keeps_the_secrets(self, run: DeployRun) -> None:
        again = DeployRun(run.state)
        assert again.result.returncode == 0, again.result.stderr
        for name in _template_secrets():
            assert again.secret(name) == run.secret(name), name

    def test_a_failed_migration_stops_before_the_api(self, tmp_path: Path) -> None:
        """Also run with a registry and a tag: they rename Proveo's images, and only those."""
        run = DeployRun(
            tmp_path,
            args="registry.example.cl/pv/",
            PROVEO_IMAGE_TAG="7",
            failing_jobs="proveo-migrate",
        )
        assert run.result.returncode == 1
        assert "job/proveo-migrate did not complete" in run.result.stderr
        assert "logs job/proveo-migrate --namespace proveo --all-containers --tail 50" in run.events
        assert not [event for event in run.events if event.startswith("apply Deployment/api")]
        images = {
            container["image"]
            for call in run.calls
            for doc in call.get("applied", [])
            if doc["kind"] in WORKLOADS | {"Job"}
            for container in _containers(doc["spec"]["template"])
        }
        assert {
            "registry.example.cl/pv/proveo-api:7",
            "registry.example.cl/pv/proveo-postgres:7",
            "chrislusf/seaweedfs:4.48",
        } <= images
        assert not [image for image in images if "proveo-" in image and ":latest" in image]


class TestScripts:
    @pytest.mark.parametrize("script", SCRIPTS, ids=lambda path: path.name)
    def test_bash_parses_it(self, script: Path) -> None:
        result = subprocess.run(
            ["bash", "-n", str(script)], capture_output=True, text=True, timeout=30, check=False
        )
        assert result.returncode == 0, result.stderr
        assert script.read_text().splitlines()[0] == "#!/usr/bin/env bash"
        assert "set -euo pipefail" in script.read_text()

    def test_shellcheck_finds_nothing(self) -> None:
        shellcheck = shutil.which("shellcheck")
        assert shellcheck, "shellcheck is missing: `make system-deps` installs it"
        result = subprocess.run(
            [shellcheck, *map(str, SCRIPTS)],
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        assert result.returncode == 0, result.stdout
