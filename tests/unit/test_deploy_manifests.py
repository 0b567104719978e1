"""The container and cluster descriptions match the code: modules, ports, settings, mounts, metrics.

Docker does not run here, so these checks read the files (Dockerfile, docker-compose.yml, deploy/) and
compare them with the services' settings classes and the metrics the code defines.
"""

from __future__ import annotations

import base64
import importlib
import inspect
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from shared.messaging.access import password_hash
from shared.observability.metrics import ServiceMetrics
from shared.settings import ServiceSettings

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ["registry", "hitpoints", "verification", "notifications", "reporting", "publication"]
# the services whose HTTP APIs the console calls (publication serves the public, not the console)
API_SERVICES = [s for s in SERVICES if s != "publication"]
CONNECTION_SECRET = "registry-platform-connections"


# --- helpers ------------------------------------------------------------------------------------------


def settings_class(service: str) -> type[ServiceSettings]:
    module = importlib.import_module(f"services.{service}.settings")
    (cls,) = [
        c for _, c in inspect.getmembers(module, inspect.isclass)
        if issubclass(c, ServiceSettings) and c is not ServiceSettings and c.__module__ == module.__name__
    ]
    return cls


@pytest.fixture
def default_port(monkeypatch: pytest.MonkeyPatch):
    """The port a service listens on when HTTP_PORT is not set (settings read the environment)."""
    monkeypatch.delenv("HTTP_PORT", raising=False)
    return lambda service: settings_class(service)().http_port


def load_yaml(relative: str) -> dict:
    return yaml.safe_load((ROOT / relative).read_text())


def compose_services() -> dict[str, dict]:
    return load_yaml("docker-compose.yml")["services"]


def bind_mounts(spec: dict) -> list[tuple[str, str]]:
    """(host path, container path) of a compose service's bind mounts, short or long syntax."""
    mounts = []
    for volume in spec.get("volumes", []):
        if isinstance(volume, dict):
            if volume.get("type") == "bind":
                mounts.append((volume["source"], volume["target"]))
        else:
            source, target = volume.split(":")[:2]
            if source.startswith((".", "/")):
                mounts.append((source, target))
    return mounts


def k8s_documents(under: str = "deploy/k8s") -> list[dict]:
    return [
        doc for path in sorted((ROOT / under).rglob("*.yaml"))
        for doc in yaml.safe_load_all(path.read_text()) if doc
    ]


def base_objects(kind: str) -> dict[str, dict]:
    return {d["metadata"]["name"]: d for d in k8s_documents("deploy/k8s/base") if d["kind"] == kind}


def container_of(deployment: dict) -> dict:
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    return container


def dashboard() -> dict:
    return json.loads((ROOT / "deploy/grafana/dashboards/platform.json").read_text())


def dashboard_panels() -> list[dict]:
    return [p for p in dashboard()["panels"] if p["type"] != "row"]


def alert_rules() -> list[dict]:
    return [rule for group in load_yaml("deploy/prometheus/alerts.yml")["groups"] for rule in group["rules"]]


# metrics the platform defines itself (RabbitMQ's come from that project)
_OWN_METRIC = re.compile(
    r"\b((?:outbox|events_consumed|event_handling|reporting|registry|hitpoints|publication)_[a-z_]*[a-z])\b")


def own_metrics(expr: str) -> set[str]:
    # drop label values and matchers' strings first: {queue=~".*\\.events"} names no metric
    return set(_OWN_METRIC.findall(re.sub(r'"[^"]*"', '""', expr)))


def exposed_shared_metric_names() -> set[str]:
    """The sample names every service exposes (shared/observability/metrics.py), suffixes included."""
    # from the families: a labelled metric has no samples until it is first used
    suffixes = {
        "counter": ["_total", "_created"], "gauge": [""], "info": ["_info"],
        "histogram": ["_bucket", "_sum", "_count", "_created"], "summary": ["_sum", "_count", "_created"],
    }
    families = ServiceMetrics("test").registry.collect()
    return {family.name + suffix for family in families for suffix in suffixes[family.type]}


def metric_defined_in_services(name: str) -> bool:
    """A metric a service creates itself (reporting_domains_counted): the code names it without suffix."""
    base = re.sub(r"_(total|created|bucket|sum|count)$", "", name)
    code = "\n".join(p.read_text() for p in (ROOT / "services").rglob("*.py"))
    return f'"{base}"' in code


def assert_metrics_exist(exprs: list[str], where: str) -> None:
    shared = exposed_shared_metric_names()
    for expr in exprs:
        for name in own_metrics(expr):
            defined = name in shared or metric_defined_in_services(name)
            assert defined, f"{where} uses {name}, which no code defines"


# --- Dockerfile ---------------------------------------------------------------------------------------


def test_the_image_runs_as_uid_10001_and_copies_only_the_code() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    lines = [line.strip() for line in dockerfile.splitlines()]
    assert [line for line in lines if line.startswith("FROM ")] == ["FROM python:3.11-slim"]
    copied = {line.split()[1] for line in lines if line.startswith("COPY ")}
    assert copied == {"requirements.lock", "pyproject.toml", "shared", "services"}
    # the runtime lock only (no test tools), each package checked against its hash
    assert "pip install --no-cache-dir --require-hashes -r requirements.lock" in dockerfile
    assert "requirements-dev.lock" not in dockerfile
    assert [line for line in lines if line.startswith("USER ")][-1].split()[1].split(":")[0] == "10001"
    assert [line for line in lines if line.startswith("WORKDIR ")] == ["WORKDIR /app"]
    assert 'CMD ["python", "-m", "services.registry"]' in lines
    healthcheck = dockerfile[dockerfile.index("HEALTHCHECK"):]
    assert "HTTP_PORT" in healthcheck and "/health/live" in healthcheck and "curl" not in healthcheck


def test_the_build_context_leaves_out_local_state() -> None:
    ignored = {line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()}
    assert {".venv", ".tools", ".data", ".git", "tests", "bench"} <= ignored
    assert ignored & {"__pycache__", "**/__pycache__"}


# --- docker-compose.yml -------------------------------------------------------------------------------


@pytest.mark.parametrize("service", SERVICES)
def test_compose_runs_the_service_module_on_its_default_port(service: str, default_port) -> None:
    spec = compose_services()[service]
    assert spec["command"] == ["python", "-m", f"services.{service}"]
    assert (ROOT / "services" / service / "__main__.py").is_file()
    port = default_port(service)
    assert spec["environment"]["HTTP_PORT"] == str(port)
    # the registry also publishes its EPP port; publication WHOIS (43 outside, 4300 inside) and DAS
    extra = {"registry": ["7700:7700"], "publication": ["43:4300", "4343:4343"]}.get(service, [])
    assert spec["ports"] == [f"{port}:{port}"] + extra
    assert f"http://127.0.0.1:{port}/health/ready" in " ".join(spec["healthcheck"]["test"])


@pytest.mark.parametrize("service", SERVICES)
def test_compose_starts_the_service_after_a_healthy_broker_and_database(service: str) -> None:
    spec = compose_services()[service]
    # publication also needs its DNS server
    knot = {"knot": {"condition": "service_started"}} if service == "publication" else {}
    assert spec["depends_on"] == {
        "rabbitmq": {"condition": "service_healthy"},
        "mongo": {"condition": "service_healthy"},
    } | knot
    # its own RabbitMQ user, which the broker's definitions create with that password
    assert spec["environment"]["AMQP_URL"] == f"amqp://{service}:{service}-dev-password@rabbitmq:5672/"
    users = {u["name"]: u for u in json.loads((ROOT / "deploy/rabbitmq/definitions.json").read_text())["users"]}
    salt = base64.b64decode(users[service]["password_hash"])[:4]
    assert users[service]["password_hash"] == password_hash(f"{service}-dev-password", salt)
    assert spec["environment"]["MONGODB_URL"] == "mongodb://mongo:27017/?replicaSet=rs0"
    assert spec["build"] == "." and spec["image"] == compose_services()["registry"]["image"]


@pytest.mark.parametrize("service", SERVICES)
def test_compose_environment_names_settings_the_service_reads(service: str, monkeypatch) -> None:
    # the settings ignore unknown variables, so a misspelt name would be silently without effect
    cls = settings_class(service)
    environment = compose_services()[service]["environment"]
    for name, value in environment.items():
        assert name.lower() in cls.model_fields, f"{service}: {name} is not a setting"
        monkeypatch.setenv(name, str(value))
    settings = cls()
    assert settings.http_port == int(environment["HTTP_PORT"])
    assert settings.amqp_url == environment["AMQP_URL"]


def test_every_image_is_pinned_to_a_version() -> None:
    """A floating tag (latest, or none) changes what runs without a change here."""
    # compose builds the platform's own image from this checkout (build: .); every other image is pulled
    images = [spec["image"] for spec in compose_services().values() if "build" not in spec]
    images += [c["image"] for d in k8s_documents() if d.get("kind") in ("Deployment", "StatefulSet")
               for c in d["spec"]["template"]["spec"]["containers"]]
    overlay = {i["name"]: i["newTag"] for i in load_yaml("deploy/k8s/overlays/production/kustomization.yaml")["images"]}
    for image in images:
        name, _, tag = image.rpartition(":") if ":" in image.split("/")[-1] else (image, "", overlay.get(image, ""))
        assert tag and tag != "latest" and re.search(r"\d", tag), f"{image} floats (pin a version)"


def test_compose_seeds_the_demo_registrar() -> None:
    assert compose_services()["registry"]["environment"]["SEED_DEMO_REGISTRAR"] == "true"


def test_compose_supporting_services() -> None:
    services = compose_services()
    assert services["rabbitmq"]["image"].startswith("rabbitmq:4.1.") and services["rabbitmq"]["image"].endswith("-management")
    assert {"5672:5672", "15672:15672", "15692:15692"} <= set(services["rabbitmq"]["ports"])
    assert "ping" in services["rabbitmq"]["healthcheck"]["test"]
    assert services["mongo"]["image"].startswith("mongo:8.0.")
    assert services["mongo"]["command"] == ["--replSet", "rs0", "--bind_ip_all"]
    mongo_check = " ".join(services["mongo"]["healthcheck"]["test"])
    assert "rs.initiate" in mongo_check and "host: 'mongo:27017'" in mongo_check
    assert {"1025:1025", "8025:8025"} <= set(services["mailpit"]["ports"])
    assert "9090:9090" in services["prometheus"]["ports"] and "3000:3000" in services["grafana"]["ports"]


def test_rabbitmq_enables_the_management_and_prometheus_plugins() -> None:
    mounted = {target: source for source, target in bind_mounts(compose_services()["rabbitmq"])}
    plugins = (ROOT / mounted["/etc/rabbitmq/enabled_plugins"]).read_text().strip()
    assert plugins.startswith("[") and plugins.endswith("].")
    assert set(plugins[1:-2].replace(" ", "").split(",")) == {"rabbitmq_management", "rabbitmq_prometheus"}


def test_every_bind_mounted_host_path_exists() -> None:
    mounts = [(name, source) for name, spec in compose_services().items() for source, _ in bind_mounts(spec)]
    assert len(mounts) >= 5
    for name, source in mounts:
        assert (ROOT / source).exists(), f"{name} mounts {source}, which is not in the repository"


def test_prometheus_loads_the_rules_file_compose_mounts() -> None:
    mounted = dict((target, source) for source, target in bind_mounts(compose_services()["prometheus"]))
    for rule_file in load_yaml("deploy/prometheus/prometheus.yml")["rule_files"]:
        assert Path(mounted[rule_file]).name == "alerts.yml"


def test_grafana_provisions_from_the_mounted_directories() -> None:
    mounted = {target: source for source, target in bind_mounts(compose_services()["grafana"])}
    assert mounted["/etc/grafana/provisioning"] == "./deploy/grafana/provisioning"
    providers = load_yaml("deploy/grafana/provisioning/dashboards/dashboards.yml")["providers"]
    (dashboards_dir,) = [p["options"]["path"] for p in providers if p["type"] == "file"]
    assert mounted[dashboards_dir] == "./deploy/grafana/dashboards"
    (datasource,) = load_yaml("deploy/grafana/provisioning/datasources/prometheus.yml")["datasources"]
    assert datasource["uid"] == "prometheus" and datasource["isDefault"] is True
    assert datasource["url"] == "http://prometheus:9090"


# --- Prometheus ---------------------------------------------------------------------------------------


def test_prometheus_scrapes_exactly_the_services_and_rabbitmq(default_port) -> None:
    jobs = {job["job_name"]: job for job in load_yaml("deploy/prometheus/prometheus.yml")["scrape_configs"]}
    targets = {name: [t for c in job["static_configs"] for t in c["targets"]] for name, job in jobs.items()}
    expected = {s: [f"{s}:{default_port(s)}"] for s in SERVICES} | {"rabbitmq": ["rabbitmq:15692"],
                                                                      "mongodb-exporter": ["mongodb-exporter:9216"],
                                                                      "console": ["console:8000"]}
    assert targets == expected
    assert all(jobs[s].get("metrics_path", "/metrics") == "/metrics" for s in SERVICES)
    assert jobs["rabbitmq"]["metrics_path"] == "/metrics/per-object"  # per-queue labels


def test_alert_rules_are_complete() -> None:
    rules = alert_rules()
    assert {r["alert"] for r in rules} >= {
        "ServiceDown", "OutboxBacklog", "OutboxRelayFailing", "DeadLetters", "EventsRetrying", "ConsumerLag",
    }
    for rule in rules:
        assert rule["expr"].strip() and re.fullmatch(r"\d+[smh]", rule["for"]), rule["alert"]
        assert rule["labels"]["severity"], rule["alert"]
        assert rule["annotations"]["summary"] and rule["annotations"]["runbook"], rule["alert"]


def test_alert_rules_use_metrics_the_code_defines() -> None:
    exprs = [rule["expr"] for rule in alert_rules()]
    used = set().union(*map(own_metrics, exprs))
    assert {"outbox_oldest_pending_age_seconds", "events_consumed_total"} <= used
    assert_metrics_exist(exprs, "an alert rule")


# --- Grafana ------------------------------------------------------------------------------------------


def test_the_dashboard_is_valid_grafana_json() -> None:
    board = dashboard()
    assert board["uid"] == "registry-platform" and board["title"] == "Registry platform"
    assert board["schemaVersion"] == 39
    ids = [p["id"] for p in board["panels"]]
    assert len(ids) == len(set(ids))
    for panel in dashboard_panels():
        assert panel["datasource"] == {"type": "prometheus", "uid": "prometheus"}, panel["title"]
        grid = panel["gridPos"]
        assert {"x", "y", "w", "h"} <= set(grid) and grid["x"] + grid["w"] <= 24, panel["title"]
        assert panel["targets"], panel["title"]
        refs = [t["refId"] for t in panel["targets"]]
        assert len(refs) == len(set(refs)), panel["title"]
        assert all(t["expr"].strip() for t in panel["targets"]), panel["title"]


def test_the_dashboard_shows_what_the_platform_exposes() -> None:
    exprs = " ".join(t["expr"] for p in dashboard_panels() for t in p["targets"])
    for name in [
        "up", "outbox_pending_events", "outbox_oldest_pending_age_seconds", "outbox_relayed_events_total",
        "events_consumed_total", "event_handling_seconds_bucket", "rabbitmq_queue_messages_ready",
    ]:
        assert re.search(rf"\b{name}\b", exprs), f"no panel shows {name}"
    assert "histogram_quantile(0.99" in exprs
    # events are published (shared/messaging/publisher.py) and consumed outside FastStream: no service has its metrics
    assert "faststream_" not in exprs


def test_the_dashboard_uses_metrics_the_code_defines() -> None:
    assert_metrics_exist([t["expr"] for p in dashboard_panels() for t in p["targets"]], "the dashboard")


# --- Kubernetes ---------------------------------------------------------------------------------------


def test_every_kubernetes_document_parses_and_names_its_kind() -> None:
    docs = k8s_documents()
    assert docs
    assert all(doc.get("kind") and doc.get("apiVersion") for doc in docs)


@pytest.mark.parametrize("service", SERVICES)
def test_deployment_runs_the_service_on_its_default_port(service: str, default_port) -> None:
    deployment = base_objects("Deployment")[service]
    container = container_of(deployment)
    command = container["command"]
    assert command[:2] == ["python", "-m"] and command[2] == f"services.{service}" and len(command) == 3
    assert (ROOT / "services" / service / "__main__.py").is_file()
    port = default_port(service)
    (http,) = [p for p in container["ports"] if p["name"] == "http"]
    assert http["containerPort"] == port
    assert {"name": "HTTP_PORT", "value": str(port)} in container["env"]
    assert deployment["spec"]["template"]["metadata"]["annotations"]["prometheus.io/port"] == str(port)
    ports = base_objects("Service")[service]["spec"]["ports"]
    (service_port,) = [p for p in ports if p["name"] == "http"]
    assert service_port["port"] == port and service_port["targetPort"] in ("http", port)
    if service == "registry":  # EPP: IANA's port 700 outside, 7700 in the unprivileged container
        assert {"name": "epp", "port": 700, "targetPort": "epp"} in ports
        assert {"name": "epp", "containerPort": 7700} in container["ports"]


@pytest.mark.parametrize("service", SERVICES)
def test_deployment_probes_security_and_resources(service: str) -> None:
    pod = base_objects("Deployment")[service]["spec"]["template"]["spec"]
    container = container_of(base_objects("Deployment")[service])
    assert container["readinessProbe"]["httpGet"]["path"] == "/health/ready"
    assert container["livenessProbe"]["httpGet"]["path"] == "/health/live"
    assert pod["securityContext"]["runAsNonRoot"] is True and pod["securityContext"]["runAsUser"] == 10001
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    assert set(container["resources"]) == {"requests", "limits"}


@pytest.mark.parametrize("service", SERVICES)
def test_deployment_takes_connections_from_the_secret_and_settings_from_the_configmap(service: str) -> None:
    container = container_of(base_objects("Deployment")[service])
    from_secret = [e for e in container["env"] if "secretKeyRef" in e.get("valueFrom", {})]
    refs = {e["name"]: e["valueFrom"]["secretKeyRef"] for e in from_secret}
    assert refs["AMQP_URL"] == {"name": CONNECTION_SECRET, "key": f"amqp-url-{service}"}
    assert refs["MONGODB_URL"] == {"name": CONNECTION_SECRET, "key": "mongodb-url"}
    assert {"configMapRef": {"name": "registry-platform-config"}} in container["envFrom"]
    # every variable the pod gets is a setting of this service (unknown names would be ignored silently), from
    # the shared ConfigMap and any of its own
    fields = settings_class(service).model_fields
    config_maps = base_objects("ConfigMap")
    names = [e["name"] for e in container["env"]]
    for source in container["envFrom"]:
        names += list(config_maps[source["configMapRef"]["name"]]["data"])
    assert [n for n in names if n.lower() not in fields] == []


def test_the_base_expects_the_connection_secret_and_the_readme_documents_its_keys() -> None:
    assert "Secret" not in {d["kind"] for d in k8s_documents("deploy/k8s/base")}
    readme = (ROOT / "deploy/k8s/README.md").read_text()
    keys = {
        e["valueFrom"]["secretKeyRef"]["key"]
        for d in base_objects("Deployment").values() for e in container_of(d)["env"]
        if "secretKeyRef" in e.get("valueFrom", {})
    }
    assert {*(f"amqp-url-{s}" for s in SERVICES), "mongodb-url", "token-signing-keys"} <= keys
    assert CONNECTION_SECRET in readme and all(f"{key}=" in readme for key in keys)
    assert "kubectl apply -k deploy/k8s/overlays/production" in readme


@pytest.mark.parametrize("service", SERVICES)
def test_each_service_has_a_disruption_budget_an_autoscaler_and_matching_selectors(service: str) -> None:
    deployment = base_objects("Deployment")[service]
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    def matches(selector: dict) -> bool:
        return selector.items() <= pod_labels.items()

    assert matches(deployment["spec"]["selector"]["matchLabels"])
    assert matches(base_objects("Service")[service]["spec"]["selector"])
    pdb = base_objects("PodDisruptionBudget")[service]
    assert pdb["spec"]["minAvailable"] == 1 and matches(pdb["spec"]["selector"]["matchLabels"])
    hpa = base_objects("HorizontalPodAutoscaler")[service]["spec"]
    assert hpa["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": service}
    assert 2 <= hpa["minReplicas"] < hpa["maxReplicas"]
    # the autoscaler owns the replica count; a fixed spec.replicas would be reset on every apply
    assert "replicas" not in deployment["spec"]


def test_every_kustomization_resource_exists() -> None:
    kustomizations = list((ROOT / "deploy/k8s").rglob("kustomization.yaml"))
    assert len(kustomizations) >= 2
    for path in kustomizations:
        for resource in yaml.safe_load(path.read_text())["resources"]:
            assert (path.parent / resource).exists(), f"{path}: {resource}"


def test_the_production_overlay_retargets_the_image_and_patches_existing_objects() -> None:
    overlay = load_yaml("deploy/k8s/overlays/production/kustomization.yaml")
    images = {container_of(d)["image"] for d in base_objects("Deployment").values()}
    assert {i["name"] for i in overlay["images"]} == images == {"registry-platform"}
    assert all(i["newName"] and i["newTag"] for i in overlay["images"])
    base = {(d["kind"], d["metadata"]["name"]) for d in k8s_documents("deploy/k8s/base") if "metadata" in d}
    assert overlay["patches"]
    for patch in overlay["patches"]:
        assert (patch["target"]["kind"], patch["target"]["name"]) in base


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl (with kustomize) is not installed")
def test_the_production_overlay_builds() -> None:
    built = subprocess.run(
        ["kubectl", "kustomize", str(ROOT / "deploy/k8s/overlays/production")],
        capture_output=True, text=True, timeout=120,
    )
    assert built.returncode == 0, built.stderr
    docs = [d for d in yaml.safe_load_all(built.stdout) if d]
    deployments = [d for d in docs if d["kind"] == "Deployment"
                   and d["metadata"]["labels"]["app.kubernetes.io/part-of"] == "registry-platform"]
    assert len(deployments) == len(SERVICES) + 1  # and the console
    (image,) = load_yaml("deploy/k8s/overlays/production/kustomization.yaml")["images"]
    assert {container_of(d)["image"] for d in deployments} == {f"{image['newName']}:{image['newTag']}"}


# --- the public face: publication and Knot DNS --------------------------------------------------------


def test_compose_runs_a_pinned_knot_configured_by_the_platform() -> None:
    services = compose_services()
    knot = services["knot"]
    image, tag = knot["image"].rsplit(":", 1)
    assert image == "cznic/knot" and tag != "latest" and tag[0] in "v0123456789"
    assert knot["command"] == ["knotd", "-c", "/storage/knot.conf"]
    config = services["knot-config"]
    assert config["command"][:3] == ["python", "-m", "services.publication.knotconf"]
    assert config["command"][3] == "/storage" and config["command"][4] == "53"
    assert knot["depends_on"] == {"knot-config": {"condition": "service_completed_successfully"}}
    environment = services["publication"]["environment"]
    assert (environment["DNS_HOST"], environment["DNS_PORT"]) == ("knot", "53")
    assert environment["DNS_TSIG_SECRET"] == config["environment"]["DNS_TSIG_SECRET"]  # one key, both sides


def test_kubernetes_runs_knot_as_a_statefulset_and_exposes_whois_and_das() -> None:
    knot = {d["metadata"]["name"]: d for d in k8s_documents("deploy/k8s/base") if d["kind"] == "StatefulSet"}["knot"]
    pod = knot["spec"]["template"]["spec"]
    (init,) = pod["initContainers"]
    assert init["command"][:3] == ["python", "-m", "services.publication.knotconf"]
    (server,) = pod["containers"]
    assert server["image"].startswith("cznic/knot:") and not server["image"].endswith(":latest")
    publication = container_of(base_objects("Deployment")["publication"])
    env = {e["name"]: e for e in publication["env"]}
    assert env["DNS_HOST"]["value"] == "knot" and env["DNS_TSIG_SECRET"]["valueFrom"]["secretKeyRef"]["key"] == \
        "dns-tsig-secret"
    ports = {p["name"]: p for p in base_objects("Service")["publication"]["spec"]["ports"]}
    assert (ports["whois"]["port"], ports["das"]["port"]) == (43, 4343)
    assert "dns-tsig-secret=" in (ROOT / "deploy/k8s/README.md").read_text()


def test_the_public_services_trusted_proxies_are_set_and_explained_in_compose_and_kubernetes(monkeypatch) -> None:
    cls = settings_class("publication")
    compose_text = (ROOT / "docker-compose.yml").read_text()
    environment = compose_services()["publication"]["environment"]
    config = base_objects("ConfigMap")["publication-config"]["data"]
    for values in (environment, config):
        for name in ("RDAP_TRUSTED_PROXIES", "WHOIS_TRUSTED_PROXIES"):
            monkeypatch.setenv(name, values[name])
        cls()  # valid networks
    assert "send-proxy-v2" in compose_text and "X-Forwarded-For" in compose_text
    # the ingress's pod network is trusted for RDAP; no PROXY header is believed until the balancer sends one
    assert config["RDAP_TRUSTED_PROXIES"] != "[]" and config["WHOIS_TRUSTED_PROXIES"] == "[]"
    deployment = container_of(base_objects("Deployment")["publication"])
    assert {"configMapRef": {"name": "publication-config"}} in deployment["envFrom"]
    public = base_objects("Service")["publication-public"]
    assert public["spec"]["type"] == "LoadBalancer" and public["spec"]["externalTrafficPolicy"] == "Local"
    # only the TCP protocols: a balancer sending the PROXY protocol must not stand in front of HTTP
    assert {p["name"]: p["port"] for p in public["spec"]["ports"]} == {"whois": 43, "das": 4343}
    manifest = (ROOT / "deploy/k8s/base/publication.yaml").read_text()
    assert "aws-load-balancer-proxy-protocol" in manifest and "WHOIS_TRUSTED_PROXIES" in manifest


def test_publication_has_its_panels_and_lag_alert() -> None:
    exprs = " ".join(t["expr"] for p in dashboard_panels() for t in p["targets"])
    for name in ("publication_lag_seconds_bucket", "publication_changes_pushed_total", "publication_zone_records",
                 "publication_rebuild_differences"):
        assert name in exprs, f"no panel shows {name}"
    assert any("publication_lag_seconds" in rule["expr"] for rule in alert_rules())
def test_the_rabbitmq_definitions_follow_the_event_catalogue() -> None:
    """deploy/rabbitmq/definitions.json is generated from shared/messaging/access.py: regenerate it when the
    catalogue changes (python -m shared.messaging.access definitions > deploy/rabbitmq/definitions.json)."""
    committed = json.loads((ROOT / "deploy/rabbitmq/definitions.json").read_text())
    generated = subprocess.run([sys.executable, "-m", "shared.messaging.access", "definitions"], cwd=ROOT,
                               capture_output=True, text=True, check=True).stdout
    assert committed == json.loads(generated)
    topics = {t["user"]: t for t in committed["topic_permissions"]}
    assert re.fullmatch(topics["hitpoints"]["write"], "registrar.blocked")
    assert not re.fullmatch(topics["hitpoints"]["write"], "domain.created")
    assert topics["subscriber-example"]["write"] == "^$"
    assert {"guest"} & {u["name"] for u in committed["users"]} == set()
    stream = committed["queues"][0]
    assert stream["name"] == "registry.events.history" and stream["arguments"]["x-queue-type"] == "stream"
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]["rabbitmq"]
    assert "./deploy/rabbitmq/definitions.json:/etc/rabbitmq/definitions.json:ro" in compose["volumes"]

# --- the web console: a sixth process, a client of the services' HTTP APIs (no broker, no database) ----------


def console_settings_fields() -> set[str]:
    from services.console.settings import ConsoleSettings

    return set(ConsoleSettings.model_fields)


def test_compose_runs_the_console_after_the_healthy_services() -> None:
    console = compose_services()["console"]
    assert console["command"] == ["python", "-m", "services.console"]
    assert console["environment"]["HTTP_PORT"] == "8000" and console["ports"] == ["8000:8000"]
    assert [n for n in console["environment"] if n.lower() not in console_settings_fields()] == []
    for service in API_SERVICES:
        url = console["environment"][f"{service.upper()}_URL"]
        assert url == f"http://{service}:{compose_services()[service]['environment']['HTTP_PORT']}"
        assert console["depends_on"][service] == {"condition": "service_healthy"}
    assert "AMQP_URL" not in console["environment"] and "MONGODB_URL" not in console["environment"]
    # the quarterly report's mailed link opens in the console
    assert compose_services()["reporting"]["environment"]["PUBLIC_URL"] == "http://localhost:8000"


def test_the_console_deployment_reaches_every_service_and_nothing_else(default_port) -> None:
    deployment = base_objects("Deployment")["console"]
    container = container_of(deployment)
    assert container["command"] == ["python", "-m", "services.console"]
    assert {"name": "HTTP_PORT", "value": "8000"} in container["env"]
    assert container["ports"] == [{"name": "http", "containerPort": 8000}]
    env = {e["name"]: e for e in container["env"]}
    assert [n for n in env if n.lower() not in console_settings_fields()] == []
    for service in API_SERVICES:
        assert env[f"{service.upper()}_URL"]["value"] == f"http://{service}:{default_port(service)}"
    assert env["INTERNAL_SECRET"]["valueFrom"]["secretKeyRef"]["name"] == CONNECTION_SECRET
    assert "AMQP_URL" not in env and "MONGODB_URL" not in env
    assert container["readinessProbe"]["httpGet"]["path"] == "/health/ready"
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert base_objects("Service")["console"]["spec"]["ports"] == [{"name": "http", "port": 8000, "targetPort": "http"}]
    assert base_objects("PodDisruptionBudget")["console"]["spec"]["minAvailable"] == 1
    assert base_objects("HorizontalPodAutoscaler")["console"]["spec"]["minReplicas"] >= 2
    assert "replicas" not in deployment["spec"]


def test_the_mailed_links_open_in_the_console_in_the_cluster_too() -> None:
    """The quarterly report's link (reporting's PUBLIC_URL) and the verification link (REGISTRANT_PAGES_URL) both
    open the console, which serves them with the browser's session: one public address, never reporting's own."""
    def env(service: str) -> dict[str, str]:
        return {e["name"]: e.get("value") for e in container_of(base_objects("Deployment")[service])["env"]}

    console = env("verification")["REGISTRANT_PAGES_URL"]
    assert console.startswith("https://") and env("reporting")["PUBLIC_URL"] == console
    assert compose_services()["reporting"]["environment"]["PUBLIC_URL"] == \
        f"http://localhost:{compose_services()['console']['environment']['HTTP_PORT']}"
