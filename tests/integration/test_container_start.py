"""Every service starts the way its container does: as uid 10001 on a read-only root file system, from a
root-owned copy of the image's files, with only the environment docker-compose.yml or the Kubernetes
manifests give it (tests/integration/containers.py says what is rewritten for a shared machine). The
services are read from the descriptions, so a service added there is started here too."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import secrets
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import httpx
import pytest

from services.registry.epp.tls import development_certificate
from shared.auth import new_signing_key
from tests.integration.infra import ROOT
from tests.integration.containers import (
    Container,
    compose_containers,
    compose_hosts,
    image_root,
    k8s_containers,
    localise,
    read_dockerfile,
    start,
)

READY_TIMEOUT = 120.0  # the machine is shared; a service connects in seconds when it is quiet


def test_the_descriptions_name_every_service_with_a_package() -> None:
    services = {c.service for c in compose_containers()}
    assert services == {c.service for c in k8s_containers({}, {})}
    packages = {p.parent.name for p in (ROOT / "services").glob("*/__main__.py")}
    assert services == packages, "docker-compose.yml and deploy/k8s must run every service package"


def tls_secret() -> dict[str, bytes]:
    with tempfile.TemporaryDirectory() as directory:
        cert, key = development_certificate(Path(directory), host="epp.registry.example.org")
        return {"tls.crt": cert.read_bytes(), "tls.key": key.read_bytes()}


async def start_all(containers: list[Container], namespace: str, where: Path) -> dict[str, str]:
    """Start every container, wait for each /health/ready; returns what went wrong per service."""
    image = read_dockerfile()
    files = image_root(image, where)
    hosts = compose_hosts()
    started: dict[str, tuple[subprocess.Popen[bytes], int, Path]] = {}
    for container in containers:
        ports = localise(container, namespace, hosts)
        log = where / f"{container.service}.log"
        process = start(container, image, files, where / container.service, log)
        started[container.service] = (process, ports["HTTP_PORT"], log)
    failures: dict[str, str] = {}
    try:
        async with httpx.AsyncClient(timeout=3) as http:
            deadline = time.monotonic() + READY_TIMEOUT
            waiting = set(started)
            while waiting and time.monotonic() < deadline:
                for service in sorted(waiting):
                    process, port, log = started[service]
                    if process.poll() is not None:
                        failures[service] = f"exited with {process.returncode}:\n{log.read_text()[-4000:]}"
                        waiting.discard(service)
                        continue
                    try:
                        if (await http.get(f"http://127.0.0.1:{port}/health/ready")).status_code == 200:
                            waiting.discard(service)
                    except httpx.TransportError:
                        pass
                await asyncio.sleep(0.5)
            for service in waiting:
                failures[service] = f"not ready after {READY_TIMEOUT}s:\n{started[service][2].read_text()[-4000:]}"
    finally:
        for process, _, _ in started.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process, _, _ in started.values():
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(5)
    return failures


async def test_every_service_starts_with_the_compose_environment(namespace: str, tmp_path: Path) -> None:
    containers = compose_containers()
    assert len(containers) >= 5
    # compose is a development stack (its demo registrar, tokens and eID simulator): it says so itself
    assert {c.env.get("ENVIRONMENT") for c in containers} == {"development"}
    assert await start_all(containers, namespace, tmp_path) == {}


async def test_every_service_starts_in_production_with_the_kubernetes_environment(namespace: str,
                                                                                   tmp_path: Path) -> None:
    # what the operator puts in the Secrets (deploy/k8s/README.md); the URLs are rewritten to this machine
    containers = k8s_containers({"amqp-url": "set below", "mongodb-url": "set below",
                                 # values of the right form: an Ed25519 key list, a base64 TSIG key
                                 "token-signing-keys": json.dumps([new_signing_key()]),
                                 "dns-tsig-secret": base64.b64encode(secrets.token_bytes(32)).decode()},
                                tls_secret())
    assert len(containers) >= 5
    # production is not set per Deployment: it comes from the ConfigMap or the image's default
    assert {c.env.get("ENVIRONMENT", read_dockerfile().env["ENVIRONMENT"]) for c in containers} == {"production"}
    assert await start_all(containers, namespace, tmp_path) == {}


@pytest.mark.parametrize("service", [c.service for c in compose_containers()])
def test_a_production_start_with_compose_development_values_refuses_and_names_them(service: str,
                                                                                   tmp_path: Path) -> None:
    """compose's values with ENVIRONMENT=production (the image's default): the process exits at once and
    names each development value it found."""
    (container,) = [c for c in compose_containers() if c.service == service]
    localise(container, "tprodrefused", compose_hosts())
    container.env["ENVIRONMENT"] = "production"
    image = read_dockerfile()
    log = tmp_path / "log"
    process = start(container, image, image_root(image, tmp_path), tmp_path / "run", log)
    try:
        returncode = process.wait(60)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    output = log.read_text()
    assert returncode != 0, output[-3000:]
    assert "refuses to start with ENVIRONMENT=production" in output
    assert "INTERNAL_SECRET" in output  # compose leaves it at the development default everywhere
    if "OPERATOR_TOKEN" in container.env:
        assert "OPERATOR_TOKEN has its published development value" in output
    for name in ("EID_PROVIDER", "SEED_DEMO_REGISTRAR", "PUBLIC_BASE_URL", "PUBLIC_URL", "REGISTRANT_PAGES_URL"):
        if name in container.env:
            assert name in output, f"{service}: {name}={container.env[name]} was not refused"
