"""What integration tests share: a namespace of their own on the real broker and database, running
services in-process or as real processes, and waiting for eventual outcomes."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import aio_pika
import httpx
from fastapi import FastAPI
from pymongo import AsyncMongoClient

ROOT = Path(__file__).resolve().parents[2]
AMQP_URL = os.environ.get("AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")
# RabbitMQ checks a message's user_id against the connection's user; consumers check it against the type's producer
AMQP_USER = urllib.parse.unquote(urllib.parse.urlsplit(AMQP_URL).username or "guest")
MONGODB_URL = os.environ.get("MONGODB_URL", "mongodb://127.0.0.1:27017/?retryWrites=false")
DEMO_AUTH = ("a100001", "Demo-Web-2026")
OPERATOR = {"Authorization": "Bearer operator-dev-token"}


async def login(client: httpx.AsyncClient, user_id: str = DEMO_AUTH[0], password: str = DEMO_AUTH[1],
                code: str | None = None) -> dict[str, str]:
    """Log in over the registry's HTTP API; returns the Authorization header to send."""
    response = await client.post("/api/login", json={"user_id": user_id, "password": password, "code": code})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}
T = TypeVar("T")


def require_reachable(url: str, default_port: int, what: str, how: str) -> None:
    """Integration tests never skip: an unreachable dependency fails them loudly, saying what to do."""
    parts = urllib.parse.urlsplit(url)
    try:
        socket.create_connection((parts.hostname or "127.0.0.1", parts.port or default_port), timeout=3).close()
    except OSError as exc:
        raise RuntimeError(f"{what} at {parts.hostname}:{parts.port or default_port} is unreachable ({exc}); {how}")


async def eventually(probe: Callable[[], Awaitable[T]], accept: Callable[[T], bool], *, timeout: float = 20.0) -> T:
    """Poll `probe` until `accept` holds; fail with the last value seen."""
    deadline = time.monotonic() + timeout
    value = await probe()
    while not accept(value):
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s; last value: {value!r}")
        await asyncio.sleep(0.05)
        value = await probe()
    return value


@contextlib.asynccontextmanager
async def running(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """Start a service app in this process (its lifespan: database, broker, relay) and give an HTTP client."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://service") as client:
            yield client


async def queue_depth(queue: str) -> int:
    connection = await aio_pika.connect(AMQP_URL)
    async with connection:
        channel = await connection.channel()
        declared = await channel.declare_queue(queue, passive=True)
        return declared.declaration_result.message_count or 0


async def delete_namespace(namespace: str) -> None:
    """Remove the namespace's databases, queues and exchanges."""
    client: AsyncMongoClient = AsyncMongoClient(MONGODB_URL)
    try:
        for name in await client.list_database_names():
            if name.startswith(f"{namespace}_"):
                await client.drop_database(name)
    finally:
        await client.close()
    connection = await aio_pika.connect(AMQP_URL)
    async with connection:
        for service in ("registry", "hitpoints", "verification", "notifications", "reporting", "publication", "flaky"):
            for queue in (f"{namespace}.{service}.events", f"{namespace}.{service}.events.dlq"):
                channel = await connection.channel()
                with contextlib.suppress(Exception):
                    await channel.queue_delete(queue)
        channel = await connection.channel()
        with contextlib.suppress(Exception):  # the registry's history stream (shared/messaging/topology.py)
            await channel.queue_delete(f"{namespace}.registry.events.history")
        channel = await connection.channel()
        with contextlib.suppress(Exception):  # the EPP poll request queue (shared/poll_rpc.py)
            await channel.queue_delete(f"{namespace}.notifications.poll")
        for exchange in (f"{namespace}.registry.events", f"{namespace}.registry.events.dlx"):
            channel = await connection.channel()
            with contextlib.suppress(Exception):
                await channel.exchange_delete(exchange)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServiceProcess:
    """A service as a real process (python -m services.<name>), for tests that kill and restart it."""

    def __init__(self, name: str, namespace: str, log_dir: Path, **env: str) -> None:
        self.name = name
        self.port = free_port()
        self.env = os.environ | {
            "NAMESPACE": namespace,
            "HTTP_HOST": "127.0.0.1",
            "HTTP_PORT": str(self.port),
            "LOG_FORMAT": "text",
            "AMQP_URL": AMQP_URL,
            "MONGODB_URL": MONGODB_URL,
        } | env
        self.log_path = log_dir / f"{name}.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.url = f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", f"services.{self.name}"], cwd=ROOT, env=self.env, stdout=log, stderr=log
        )
        async with httpx.AsyncClient(base_url=self.url) as http:

            async def ready() -> int:
                if self.process is not None and self.process.poll() is not None:
                    raise AssertionError(f"{self.name} exited: {self.log_path.read_text()[-3000:]}")
                try:
                    return (await http.get("/health/ready")).status_code
                except httpx.TransportError:
                    return 0

            await eventually(ready, lambda code: code == 200, timeout=30)

    def kill(self) -> None:
        """SIGKILL: no shutdown hook runs, as in a crash."""
        if self.process is not None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()


class EventTap:
    """An exclusive queue on the namespace's events exchange: what the platform really published."""

    def __init__(self, namespace: str, binding: str = "#") -> None:
        self.exchange = f"{namespace}.registry.events"
        self.binding = binding
        self.events: list[dict] = []

    async def __aenter__(self) -> EventTap:
        import json

        self.connection = await aio_pika.connect(AMQP_URL)
        channel = await self.connection.channel()
        exchange = await channel.declare_exchange(self.exchange, aio_pika.ExchangeType.TOPIC, durable=True)
        queue = await channel.declare_queue(exclusive=True)
        await queue.bind(exchange, routing_key=self.binding)

        async def on_message(message: aio_pika.abc.AbstractIncomingMessage) -> None:
            async with message.process():
                self.events.append(json.loads(message.body))

        await queue.consume(on_message)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.connection.close()

    def of(self, event_type: str) -> list[dict]:
        return [e for e in self.events if e["event_type"] == event_type]

    async def wait_for(self, event_type: str, count: int = 1, timeout: float = 15) -> list[dict]:
        async def found() -> list[dict]:
            return self.of(event_type)

        return await eventually(found, lambda found: len(found) >= count, timeout=timeout)
