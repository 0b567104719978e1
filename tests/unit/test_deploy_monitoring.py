"""Monitoring as deployed: Prometheus's and Alertmanager's own tools accept deploy/, the alerts fire on the
labels Kubernetes scraping gives as on compose's (promtool rule tests), alerts reach Alertmanager and
Alertmanager the operators' mail, and dashboards show HTTP, RabbitMQ and MongoDB.

promtool (Debian `prometheus`) and amtool (`prometheus-alertmanager`) are installed by `make test`
(deploy/local/test.sh); without them these tests fail, saying so."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
PROMETHEUS = ROOT / "deploy/prometheus"
ALERTMANAGER_CONFIGS = [ROOT / "deploy/alertmanager/alertmanager.yml", ROOT / "deploy/k8s/monitoring/alertmanager.yml"]


def tool(name: str, package: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise RuntimeError(f"{name} is not installed: `make test` installs it (apt-get install {package})")
    return path


def run(*args: str | Path, cwd: Path = ROOT) -> str:
    done = subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=120, cwd=cwd)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout + done.stderr


def load(path: Path) -> dict:
    return yaml.safe_load(path.read_text())


def compose() -> dict:
    return load(ROOT / "docker-compose.yml")["services"]


def alert_rules() -> list[dict]:
    return [r for g in load(PROMETHEUS / "alerts.yml")["groups"] for r in g["rules"]]


def dashboard_targets() -> list[dict]:
    board = json.loads((ROOT / "deploy/grafana/dashboards/platform.json").read_text())
    return [t for p in board["panels"] if p["type"] != "row" for t in p["targets"]]


def test_promtool_accepts_the_alert_rules() -> None:
    out = run(tool("promtool", "prometheus"), "check", "rules", PROMETHEUS / "alerts.yml")
    assert f"SUCCESS: {len(alert_rules())} rules found" in out


@pytest.mark.parametrize("config", ["prometheus.yml", "kubernetes.yml"])
def test_promtool_accepts_the_prometheus_configuration(config: str, tmp_path: Path) -> None:
    """Each configuration loads the rules from where the container mounts them: here, next to it. Debian's
    Prometheus is built without Kubernetes discovery, so the pods' discovery is swapped for an empty static
    list there; the relabelling that makes the `service` label is checked as written."""
    text = (PROMETHEUS / config).read_text().replace("/etc/prometheus/alerts.yml", str(PROMETHEUS / "alerts.yml"))
    text = text.replace("kubernetes_sd_configs: [{role: pod}]", "static_configs: [{targets: []}]")
    (tmp_path / config).write_text(text)
    run(tool("promtool", "prometheus"), "check", "config", tmp_path / config)


def test_the_alerts_fire_on_kubernetes_labels_as_on_compose_labels() -> None:
    run(tool("promtool", "prometheus"), "test", "rules", PROMETHEUS / "alerts.test.yml")


@pytest.mark.parametrize("config", ALERTMANAGER_CONFIGS, ids=lambda p: str(p.relative_to(ROOT)))
def test_amtool_accepts_the_alertmanager_configuration(config: Path) -> None:
    out = run(tool("amtool", "prometheus-alertmanager"), "check-config", config)
    assert "SUCCESS" in out


def test_every_alert_has_a_runbook_and_a_severity_that_is_routed() -> None:
    severities = {rule["labels"]["severity"] for rule in alert_rules()}
    assert severities == {"page", "ticket"}
    for rule in alert_rules():
        assert len(rule["annotations"]["runbook"]) > 40, rule["alert"]
    for config in ALERTMANAGER_CONFIGS:
        route = load(config)["route"]
        assert route["receiver"] and any('severity="page"' in m for r in route["routes"] for m in r["matchers"])


def test_alerts_and_dashboards_select_on_the_service_label_that_both_scrape_configs_set() -> None:
    """`job` is the scrape job's name: compose has one per service, Kubernetes one for all pods."""
    exprs = [r["expr"] for r in alert_rules()] + [t["expr"] for t in dashboard_targets()]
    assert [e for e in exprs if re.search(r"\bjob\b", e)] == []
    texts = [json.dumps(r["annotations"]) for r in alert_rules()] + [t.get("legendFormat", "") for t in dashboard_targets()]
    assert [t for t in texts if re.search(r"labels\.job\b|\{\{ ?job ?\}\}|\bjob *[=!]~?", t)] == []
    assert any('service="reporting"' in e for e in exprs) and any("up{service" in e for e in exprs)
    # compose: every job labels its targets with `service`
    for job in load(PROMETHEUS / "prometheus.yml")["scrape_configs"]:
        for static in job["static_configs"]:
            assert static["labels"]["service"], job["job_name"]
    # Kubernetes: `service` from the pods' app.kubernetes.io/name, which every Deployment sets
    (pods,) = load(PROMETHEUS / "kubernetes.yml")["scrape_configs"]
    relabel = {r.get("target_label"): r.get("source_labels") for r in pods["relabel_configs"]}
    assert relabel["service"] == ["__meta_kubernetes_pod_label_app_kubernetes_io_name"]
    for path in sorted((ROOT / "deploy/k8s").rglob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if doc and doc["kind"] == "Deployment":
                template = doc["spec"]["template"]["metadata"]
                assert template["labels"]["app.kubernetes.io/name"], path
                assert template["annotations"]["prometheus.io/scrape"] == "true", path


def test_compose_sends_alerts_to_alertmanager_which_mails_them_through_mailpit() -> None:
    services = compose()
    (target,) = [t for a in load(PROMETHEUS / "prometheus.yml")["alerting"]["alertmanagers"]
                 for s in a["static_configs"] for t in s["targets"]]
    host, port = target.split(":")
    assert host in services and f"{port}:{port}" in services[host]["ports"]
    mounted = {v.split(":")[1]: v.split(":")[0] for v in services[host]["volumes"]}
    assert (ROOT / mounted["/etc/alertmanager/alertmanager.yml"]).resolve() == ALERTMANAGER_CONFIGS[0]
    smarthost = load(ALERTMANAGER_CONFIGS[0])["global"]["smtp_smarthost"]
    assert smarthost == "mailpit:1025" and "1025:1025" in services["mailpit"]["ports"]
    for name, spec in services.items():
        if "image" in spec and "build" not in spec:
            assert not spec["image"].endswith(":latest"), name


def test_kubernetes_runs_alertmanager_and_the_mongodb_exporter_from_the_production_overlay() -> None:
    overlay = load(ROOT / "deploy/k8s/overlays/production/kustomization.yaml")
    assert "../../monitoring" in overlay["resources"]
    docs = [d for p in (ROOT / "deploy/k8s/monitoring").glob("*.yaml") for d in yaml.safe_load_all(p.read_text())
            if d and "metadata" in d]
    names = {(d["kind"], d["metadata"]["name"]) for d in docs}
    assert {("Deployment", "alertmanager"), ("Service", "alertmanager"), ("Deployment", "mongodb-exporter")} <= names
    (service,) = [d for d in docs if (d["kind"], d["metadata"]["name"]) == ("Service", "alertmanager")]
    (target,) = [t for a in load(PROMETHEUS / "kubernetes.yml")["alerting"]["alertmanagers"]
                 for s in a["static_configs"] for t in s["targets"]]
    assert target == f"alertmanager:{service['spec']['ports'][0]['port']}"
    kustomization = load(ROOT / "deploy/k8s/monitoring/kustomization.yaml")
    (generated,) = kustomization["configMapGenerator"]
    assert generated["files"] == ["alertmanager.yml"]


def test_the_dashboard_shows_http_rabbitmq_and_mongodb() -> None:
    exprs = " ".join(t["expr"] for t in dashboard_targets())
    for name in ["http_requests_total", "http_request_duration_seconds_bucket", "rabbitmq_global_messages_received_total",
                 "rabbitmq_connections", "rabbitmq_process_resident_memory_bytes", "mongodb_up", "mongodb_ss_opcounters"]:
        assert re.search(rf"\b{name}\b", exprs), f"no panel shows {name}"
    assert "mongodb-exporter:9216" in json.dumps(load(PROMETHEUS / "prometheus.yml"))
    assert compose()["mongodb-exporter"]["image"].startswith("percona/mongodb_exporter:0.")
