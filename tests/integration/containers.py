"""Start a service the way its container would, without Docker (bubblewrap).

What a container gets is read from the files that describe it, so drift between them and the code shows:
- the image: the Dockerfile's WORKDIR, ENV and COPY lines (a root-owned copy of what it copies);
- the environment: docker-compose.yml (x-service merged) or the Kubernetes base (env, envFrom of the
  ConfigMap, secretKeyRef and fieldRef) plus the image's ENV;
- the writable paths: /tmp and the volumes compose or the Deployment mount; everything else read-only.

Only what cannot be the same on a shared test machine is rewritten: the broker and database URLs point to
the local RabbitMQ and MongoDB stand-in, hosts named after other compose services to 127.0.0.1, ports the
service listens on to free ones, and a NAMESPACE keeps the run apart from the other tests.
"""

from __future__ import annotations

import os
import re
import secrets
import shlex
import shutil
import subprocess
import sys
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tests.integration.infra import AMQP_URL, MONGODB_URL, ROOT, free_port
from tests.settings_classes import settings_class

UID = 10001
K8S_BASE = ROOT / "deploy/k8s/base"


@dataclass
class Image:
    workdir: str
    env: dict[str, str]
    copies: list[tuple[str, str]]  # (source in the repository, destination in the image)


def read_dockerfile(path: Path = ROOT / "Dockerfile") -> Image:
    text = re.sub(r"\\\n", " ", path.read_text())  # join continued lines
    workdir, env, copies = "/", {}, []
    for line in (raw.strip() for raw in text.splitlines()):
        if not line or line.startswith("#"):
            continue
        instruction, _, rest = line.partition(" ")
        if instruction == "WORKDIR":
            workdir = rest.strip()
        elif instruction == "ENV":
            for pair in shlex.split(rest):
                name, _, value = pair.partition("=")
                env[name] = value
        elif instruction == "COPY":
            *sources, destination = rest.split()
            target = destination if destination.startswith("/") else f"{workdir}/{destination}"
            for source in sources:
                into = f"{target.rstrip('/')}/{Path(source).name}" if destination.endswith("/") else target
                copies.append((source, into))
    return Image(workdir=workdir, env=env, copies=copies)


@dataclass
class Container:
    """One service's container as its description gives it."""

    service: str
    command: list[str]
    env: dict[str, str]
    writable: list[str] = field(default_factory=list)  # mount points of volumes (tmpfs-like, empty)
    secret_files: dict[str, dict[str, bytes]] = field(default_factory=dict)  # mount point -> files


# --- compose -------------------------------------------------------------------------------------------


def compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def is_platform_service(spec: dict[str, Any]) -> bool:
    command = spec.get("command") or []
    # `python -m services.<name>`: a service; a one-shot job such as services.publication.knotconf is not
    return command[:2] == ["python", "-m"] and str(command[2]).startswith("services.") and str(command[2]).count(".") == 1


def compose_containers() -> list[Container]:
    services = compose()["services"]
    containers = []
    for name, spec in services.items():
        if not is_platform_service(spec):
            continue
        env = {k: str(v) for k, v in (spec.get("environment") or {}).items()}
        writable = []
        for volume in spec.get("volumes", []):
            source, target = (volume["source"], volume["target"]) if isinstance(volume, dict) else volume.split(":")[:2]
            if not source.startswith((".", "/")):  # a named volume: empty and writable
                writable.append(target)
        containers.append(Container(name, list(spec["command"]), env, writable))
    return containers


def compose_hosts() -> set[str]:
    return set(compose()["services"])


# --- Kubernetes ----------------------------------------------------------------------------------------


def k8s_documents() -> list[dict[str, Any]]:
    return [d for p in sorted(K8S_BASE.glob("*.yaml")) for d in yaml.safe_load_all(p.read_text()) if d]


def k8s_containers(secret_values: dict[str, str], tls: dict[str, bytes]) -> list[Container]:
    """The Deployments of the base, with `secret_values` for the keys of generic Secrets and `tls` for the
    files of TLS Secrets mounted as volumes."""
    docs = k8s_documents()
    config_maps = {d["metadata"]["name"]: d.get("data", {}) for d in docs if d["kind"] == "ConfigMap"}
    containers = []
    for deployment in (d for d in docs if d["kind"] == "Deployment"):
        pod = deployment["spec"]["template"]
        (spec,) = pod["spec"]["containers"]
        env: dict[str, str] = {}
        for source in spec.get("envFrom", []):
            env |= {k: str(v) for k, v in config_maps[source["configMapRef"]["name"]].items()}
        for item in spec.get("env", []):
            if "value" in item:
                env[item["name"]] = str(item["value"])
                continue
            ref = item["valueFrom"]
            if "secretKeyRef" in ref:
                key = ref["secretKeyRef"]["key"]
                if key not in secret_values and ref["secretKeyRef"].get("optional"):
                    continue
                env[item["name"]] = secret_values.setdefault(key, secrets.token_urlsafe(32))
            elif "configMapKeyRef" in ref:
                env[item["name"]] = str(config_maps[ref["configMapKeyRef"]["name"]][ref["configMapKeyRef"]["key"]])
            elif "fieldRef" in ref:
                env[item["name"]] = f"{deployment['metadata']['name']}-pod"
            else:
                raise AssertionError(f"{deployment['metadata']['name']}: unknown valueFrom {ref}")
        volumes = {v["name"]: v for v in pod["spec"].get("volumes", [])}
        writable, secret_files = [], {}
        for mount in spec.get("volumeMounts", []):
            volume = volumes[mount["name"]]
            if "secret" in volume:
                assert mount.get("readOnly"), f"{mount['name']}: mount secrets read-only"
                secret_files[mount["mountPath"]] = tls
            else:  # emptyDir, persistentVolumeClaim: writable
                writable.append(mount["mountPath"])
        containers.append(Container(deployment["metadata"]["name"], list(spec["command"]), env, writable,
                                    secret_files))
    return containers


# --- the rewrites for a shared machine -----------------------------------------------------------------


def listening_ports(service: str) -> list[str]:
    """Settings X_PORT whose X_HOST defaults to all addresses: what the service listens on."""
    fields = settings_class(service).model_fields
    return [
        name.upper() for name in fields
        if name.endswith("_port") and fields.get(name[:-5] + "_host") is not None
        and fields[name[:-5] + "_host"].default in ("0.0.0.0", "::")
    ]


def localise(container: Container, namespace: str, hosts: set[str]) -> dict[str, int]:
    """Rewrite the environment for this machine; returns the ports given (HTTP_PORT among them)."""
    env = container.env
    env["AMQP_URL"], env["MONGODB_URL"] = AMQP_URL, MONGODB_URL
    for name, value in list(env.items()):
        if value in hosts:
            env[name] = "127.0.0.1"
        elif "://" in value and (urllib.parse.urlsplit(value).hostname or "") in hosts:
            parts = urllib.parse.urlsplit(value)
            env[name] = value.replace(f"//{parts.netloc}", f"//{parts.netloc.replace(parts.hostname or '', '127.0.0.1')}", 1)
    ports = {name: free_port() for name in listening_ports(container.service)}
    env |= {name: str(port) for name, port in ports.items()}
    env["NAMESPACE"] = namespace
    return ports


# --- the sandbox ---------------------------------------------------------------------------------------


def require_bwrap() -> str:
    path = shutil.which("bwrap")
    if path is None:
        raise RuntimeError("bubblewrap (bwrap) is not installed: `make test` installs it (apt-get install bubblewrap)")
    return path


def image_root(image: Image, into: Path) -> Path:
    """A copy of the files the Dockerfile copies, laid out as in the image (owned by whoever runs the test:
    root under `make test`, as in the image)."""
    root = into / "image"
    for source, destination in image.copies:
        target = root / destination.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        if (ROOT / source).is_dir():
            shutil.copytree(ROOT / source, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(ROOT / source, target)
    return root


def host_tree(mount_points: list[str], directory: Path = Path("/")) -> list[str]:
    """Arguments that rebuild the host's file system read-only around the container's mount points.

    `--ro-bind / /` alone cannot take a mount at a path the host lacks (/app, /var/lib/registry/...): the
    new directory would be created in the read-only host root. So each directory on the way to a mount
    point is made afresh (then remounted read-only) and its other entries bound one by one."""
    args: list[str] = []
    for entry in sorted(directory.iterdir()):
        path = str(entry)
        if directory == Path("/") and entry.name in ("proc", "dev", "tmp"):
            continue
        below = [m for m in mount_points if m.startswith(path + "/")]
        if path in mount_points and not below:
            continue  # the mount replaces it
        if below and entry.is_dir() and not entry.is_symlink():
            args += ["--dir", path, *host_tree(mount_points, entry)]
        elif entry.is_symlink():
            args += ["--symlink", os.readlink(path), path]
        else:
            args += ["--ro-bind", path, path]
    return args


def sandboxed(container: Container, image: Image, files: Path, scratch: Path) -> list[str]:
    """The bwrap command line: uid 10001, read-only root, the image's files at their place, the
    repository's own code hidden (so only the copy can be imported), /tmp and the volumes writable."""
    mounts = [destination for _, destination in image.copies] + container.writable + list(container.secret_files)
    args = [
        require_bwrap(), "--unshare-user", "--uid", str(UID), "--gid", str(UID), "--die-with-parent",
        *host_tree(mounts), "--tmpfs", "/tmp", "--dev", "/dev", "--proc", "/proc",
    ]
    for source, destination in image.copies:  # the code as the image has it, read-only
        args += ["--ro-bind", str(files / destination.lstrip("/")), destination]
    for hidden in ("shared", "services"):  # never the working tree's copy
        args += ["--tmpfs", str(ROOT / hidden)]
    for n, mount in enumerate(container.writable):
        volume = scratch / f"volume{n}"
        volume.mkdir(parents=True)
        args += ["--bind", str(volume), mount]
    for n, (mount, secret) in enumerate(container.secret_files.items()):
        directory = scratch / f"secret{n}"
        directory.mkdir(parents=True)
        for name, content in secret.items():
            (directory / name).write_bytes(content)
        args += ["--ro-bind", str(directory), mount]
    # a checkout under /tmp (its virtualenv too) would vanish under the sandbox's /tmp (a tmpfs, or a volume
    # the manifests mount there): bind the interpreter's environment back, read-only, over whatever is there
    if Path(sys.prefix).is_relative_to("/tmp"):
        args += ["--ro-bind", sys.prefix, sys.prefix]
    args += ["--remount-ro", "/", "--chdir", image.workdir, "--clearenv"]
    for name, value in (image.env | container.env).items():
        args += ["--setenv", name, value]
    # the image's `python` is the interpreter that has the locked dependencies: here, this virtualenv's
    command = [sys.executable if container.command[0] == "python" else container.command[0], *container.command[1:]]
    return [*args, "--", *command]


def start(container: Container, image: Image, files: Path, scratch: Path, log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(sandboxed(container, image, files, scratch), stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
