"""The example subscriber against the real platform: the registry (in-process) registers a domain, the
subscriber's own quorum queue receives domain.created, a republished copy is recognised as a duplicate, a
poison message lands in its dead-letter queue, and a new store replays the last hour from the history stream."""

from __future__ import annotations

import contextlib
import json
import secrets
import subprocess
import urllib.parse
import uuid
from datetime import UTC, datetime
from pathlib import Path

import aio_pika
from subscriber.app import build
from subscriber.config import Config
from subscriber.replay import replay, since
from subscriber.store import Store

from services.registry.app import build as build_registry
from services.registry.settings import RegistrySettings
from shared.messaging.access import rabbitmqctl_commands, subscriber_user
from tests.integration.infra import (
    AMQP_URL,
    AMQP_USER,
    EventTap,
    delete_namespace,
    eventually,
    login,
    queue_depth,
    running,
)


async def test_the_example_subscriber_receives_deduplicates_dead_letters_and_replays_the_last_hour(tmp_path: Path) -> None:
    namespace = f"t{uuid.uuid4().hex[:10]}"
    # a read-only subscriber user of its own, with the permissions make run and the definitions give
    reader = subscriber_user(f"{namespace}-subscriber", namespace)
    password = secrets.token_urlsafe(16)
    for command in rabbitmqctl_commands([reader], {reader.name: password}, namespace=namespace):
        done = subprocess.run(["rabbitmqctl", "-q", *command], capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
    parts = urllib.parse.urlsplit(AMQP_URL)
    as_reader = urllib.parse.urlunsplit(parts._replace(netloc=f"{reader.name}:{password}@{parts.hostname}:{parts.port or 5672}"))
    config = Config(amqp_url=as_reader, exchange=f"{namespace}.registry.events",
                    history_stream=f"{namespace}.registry.events.history", queue=f"{namespace}.{reader.name}.events",
                    bindings=("domain.*",), delivery_limit=2, database=str(tmp_path / "live.sqlite3"))
    settings = RegistrySettings(namespace=namespace, seed_demo_registrar=True, outbox_poll_seconds=0.05, epp_port=0,
                                event_history_days=1)
    store = Store(config.database)
    outcomes: list[bool] = []
    apply = store.apply
    store.apply = lambda event: outcomes.append(apply(event)) or outcomes[-1]  # type: ignore[method-assign]
    try:
        async with running(build_registry(settings)) as registry, EventTap(namespace, "domain.created") as tap:
            broker, _, bind = build(config, store)
            await broker.start()
            await bind()
            try:
                headers = await login(registry)
                created = await registry.post("/api/domains", headers=headers,
                                              json={"name": "subscribed.be", "registrant": "a100001-demo"})
                assert created.status_code == 201, created.text
                await eventually(lambda: _value(store.domains()), lambda names: names == ["subscribed.be"])

                # the same event again (a redelivery, a republish): recognised, applied once
                event = (await tap.wait_for("domain.created"))[0]
                connection = await aio_pika.connect(AMQP_URL)
                async with connection:
                    channel = await connection.channel(publisher_confirms=True)
                    exchange = await channel.get_exchange(config.exchange)
                    for body, key in ((json.dumps(event).encode(), "domain.created"),
                                      (json.dumps(event).encode(), "domain.created"), (b"{not an event", "domain.x")):
                        await exchange.publish(aio_pika.Message(body, message_id=event["event_id"], user_id=AMQP_USER,
                                                                content_type="application/json"), routing_key=key)
                await eventually(lambda: _value(list(outcomes)), lambda seen: seen == [True, False, False])
                assert len(store.processed()) == 1
                # the poison message is parked, not retried
                await eventually(lambda: queue_depth(config.dead_letter_queue), lambda n: n == 1)
            finally:
                await broker.stop()

            # a new subscriber: history from the stream, the last hour, applied once
            newcomer = Store(str(tmp_path / "history.sqlite3"))
            counts = await replay(config, newcomer, since("1h"), idle_seconds=1.5)
            assert newcomer.domains() == ["subscribed.be"]
            assert counts["applied"] >= 1 and counts["duplicate"] >= 2 and counts["undecodable"] == 1, counts
            assert [p["event_id"] for p in newcomer.processed() if p["event_type"] == "domain.created"] == [event["event_id"]]
            again = await replay(config, newcomer, "first", idle_seconds=1.5)  # from an offset: all known already
            assert again["applied"] == 0 and again["duplicate"] >= 3, again
            later = await replay(config, Store(str(tmp_path / "empty.sqlite3")), datetime.now(UTC), idle_seconds=1.5)
            assert later["applied"] == 0, later  # nothing happened after now
    finally:
        subprocess.run(["rabbitmqctl", "-q", "delete_user", reader.name], capture_output=True, timeout=120)
        await delete_namespace(namespace)
        connection = await aio_pika.connect(AMQP_URL)
        async with connection:
            for queue in (config.queue, config.dead_letter_queue):
                with contextlib.suppress(Exception):
                    await (await connection.channel()).queue_delete(queue)
            with contextlib.suppress(Exception):
                await (await connection.channel()).exchange_delete(config.dead_letter_exchange)


async def _value(value: object) -> object:
    return value
