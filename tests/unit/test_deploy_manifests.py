"""The container and cluster descriptions match the code: modules, ports, mounts, metrics.
(Docker and kubectl do not run here; these checks read the files.)"""

import importlib
import inspect
import json
import re
from pathlib import Path

import pytest
import yaml

from shared.settings import ServiceSettings

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ["registry", "hitpoints", "verification", "notifications", "reporting"]


def default_port(service: str, monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.delenv("HTTP_PORT", raising=False)
    module = importlib.import_module(f"services.{service}.settings")
    (cls,) = [c for _, c in inspect.getmembers(module, inspect.isclass)
              if issubclass(c, ServiceSettings) and c is not ServiceSettings]
    return cls().http_port


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def k8s_documents() -> list[dict]:
    return [doc for path in sorted((ROOT / "deploy/k8s").rglob("*.yaml"))
            for doc in yaml.safe_load_all(path.read_text()) if doc]


def defined_metric_names() -> str:
    return "\n".join(p.read_text() for p in [*ROOT.glob("shared/**/*.py"), *ROOT.glob("services/**/*.py")])


@pytest.mark.parametrize("service", SERVICES)
def test_compose_runs_each_service_module_on_its_port(service: str, monkeypatch: pytest.MonkeyPatch) -> None:
    spec = compose()["services"][service]
    assert spec["command"] == ["python", "-m", f"services.{service}"]
    assert (ROOT / "services" / service / "__main__.py").exists()
    port = default_port(service, monkeypatch)
    assert spec["environment"]["HTTP_PORT"] == str(port)
    assert spec["ports"] == [f"{port}:{port}"]
    assert f"127.0.0.1:{port}/health/ready" in " ".join(spec["healthcheck"]["test"])
    assert spec["depends_on"] == {"rabbitmq": {"condition": "service_healthy"}, "mongo": {"condition": "service_healthy"}}
    assert "rabbitmq:5672" in spec["environment"]["AMQP_URL"] and "replicaSet=rs0" in spec["environment"]["MONGODB_URL"]


def test_compose_has_the_supporting_cast_and_its_mounts_exist() -> None:
    services = compose()["services"]
    assert {"rabbitmq", "mongo", "prometheus", "grafana", "mailpit"} <= set(services)
    assert "healthcheck" in services["rabbitmq"] and "rs.initiate" in " ".join(services["mongo"]["healthcheck"]["test"])
    for spec in services.values():
        for volume in spec.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("./"):
                assert (ROOT / source).exists(), source


def test_prometheus_scrapes_every_service_and_rabbitmq(monkeypatch: pytest.MonkeyPatch) -> None:
    config = yaml.safe_load((ROOT / "deploy/prometheus/prometheus.yml").read_text())
    targets = {job["job_name"]: job["static_configs"][0]["targets"] for job in config["scrape_configs"]}
    expected = {s: [f"{s}:{default_port(s, monkeypatch)}"] for s in SERVICES} | {"rabbitmq": ["rabbitmq:15692"]}
    assert targets == expected


def test_alert_rules_are_complete_and_use_metrics_the_code_defines() -> None:
    rules = yaml.safe_load((ROOT / "deploy/prometheus/alerts.yml").read_text())["groups"][0]["rules"]
    assert len(rules) >= 5
    code = defined_metric_names()
    for rule in rules:
        assert rule["expr"] and rule["for"] and rule["labels"]["severity"] and rule["annotations"]["summary"]
        for name in _own_metrics(rule["expr"]):
            assert f'"{_base(name)}"' in code, f"{rule['alert']} uses {name}, which no code defines"


def test_the_dashboard_parses_and_its_metrics_exist() -> None:
    dashboard = json.loads((ROOT / "deploy/grafana/dashboards/platform.json").read_text())
    assert dashboard["uid"] == "registry-platform"
    exprs = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
    assert len(exprs) >= 10
    code = defined_metric_names()
    for expr in exprs:
        for name in _own_metrics(expr):
            assert f'"{_base(name)}"' in code, f"the dashboard uses {name}, which no code defines"


def test_kubernetes_deployments_match_the_services(monkeypatch: pytest.MonkeyPatch) -> None:
    docs = k8s_documents()
    deployments = {d["metadata"]["name"]: d for d in docs if d["kind"] == "Deployment"}
    services = {d["metadata"]["name"]: d for d in docs if d["kind"] == "Service"}
    assert set(deployments) == set(SERVICES) == set(services)
    for name, deployment in deployments.items():
        container = deployment["spec"]["template"]["spec"]["containers"][0]
        assert container["command"] == ["python", "-m", f"services.{name}"]
        port = default_port(name, monkeypatch)
        assert container["ports"][0]["containerPort"] == port
        assert services[name]["spec"]["ports"][0]["port"] == port
        assert container["readinessProbe"]["httpGet"]["path"] == "/health/ready"
        assert container["securityContext"]["readOnlyRootFilesystem"] is True
        env = {e["name"] for e in container["env"]}
        assert {"AMQP_URL", "MONGODB_URL", "HTTP_PORT"} <= env


def test_every_kustomization_resource_exists() -> None:
    for path in (ROOT / "deploy/k8s").rglob("kustomization.yaml"):
        for resource in yaml.safe_load(path.read_text())["resources"]:
            assert (path.parent / resource).exists(), f"{path}: {resource}"


_OWN = re.compile(r"\b((?:outbox|events_consumed|event_handling|reporting|registry)_[a-z_]+)")


def _own_metrics(expr: str) -> set[str]:
    return set(_OWN.findall(expr))


def _base(name: str) -> str:
    # prometheus-client adds these suffixes to the names given in code
    return re.sub(r"_(total|bucket|sum|count|created)$", "", name)
