"""The secured event bus on the real local broker: a service's own RabbitMQ user may publish only its event
types (topic authorisation from shared/messaging/access.py, applied with rabbitmqctl as `make run` does);
RabbitMQ refuses a forged user_id; a read-only subscriber publishes nothing; a consumer dead-letters an
event whose publisher may not publish its type. The test's users are its own and deleted afterwards."""

from __future__ import annotations

import contextlib
import secrets
import subprocess
import urllib.parse
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import aio_pika
import pytest
from aiormq.exceptions import ChannelAccessRefused, ChannelPreconditionFailed

from services.reporting import journal
from services.reporting.app import build as build_reporting
from services.reporting.settings import ReportingSettings
from shared.clock import SystemClock
from shared.events import EventEnvelope, new_event
from shared.events.domains import DomainCreated
from shared.events.feeds import DomainRevoked
from shared.events.hitpoints import RegistrarBlocked
from shared.messaging.access import AmqpUser, rabbitmqctl_commands, service_user, subscriber_user
from tests.integration.infra import AMQP_URL, AMQP_USER, eventually, queue_depth, running


def rabbitmqctl(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["rabbitmqctl", "-q", *args], capture_output=True, text=True, timeout=60)


@contextlib.contextmanager
def broker_users(namespace: str, users: list[AmqpUser], prefix: str = "") -> Iterator[dict[str, str]]:
    passwords = {u.name: prefix + secrets.token_urlsafe(16) for u in users}
    try:
        for command in rabbitmqctl_commands(users, passwords, namespace=namespace):  # as make run applies them
            done = rabbitmqctl(*command)
            assert done.returncode == 0, (command[0], done.stderr)
        yield passwords
    finally:
        for user in users:  # only the test's own users
            rabbitmqctl("delete_user", user.name)


def url_for(user: str, password: str) -> str:
    parts = urllib.parse.urlsplit(AMQP_URL)
    return urllib.parse.urlunsplit(parts._replace(netloc=f"{user}:{password}@{parts.hostname}:{parts.port or 5672}"))


@contextlib.asynccontextmanager
async def channel_of(user: str, password: str) -> AsyncIterator[aio_pika.abc.AbstractChannel]:
    connection = await aio_pika.connect(url_for(user, password))
    async with connection:
        yield await connection.channel(publisher_confirms=True)


def event_message(event: object, user_id: str | None) -> aio_pika.Message:
    return aio_pika.Message(event.to_json(), message_id=str(event.event_id), type=event.event_type,  # type: ignore[attr-defined]
                            content_type="application/json", user_id=user_id)


@pytest.fixture
async def events_exchange(namespace: str) -> str:
    name = f"{namespace}.registry.events"
    connection = await aio_pika.connect(AMQP_URL)
    async with connection:
        await (await connection.channel()).declare_exchange(name, aio_pika.ExchangeType.TOPIC, durable=True)
    return name


async def test_a_service_publishing_another_services_event_type_is_refused_by_rabbitmq(
    namespace: str, events_exchange: str
) -> None:
    hitpoints = service_user("hitpoints", namespace, user=f"{namespace}-hitpoints")
    reader = subscriber_user(f"{namespace}-reader", namespace)
    clock = SystemClock()
    blocked = new_event(RegistrarBlocked(blocked_until=clock.now(), exceeded_at=clock.now(), hitpoints=100, limit=100),
                        registrar_id="a100001", correlation_id=None, clock=clock)
    created = domain_created(clock)
    with broker_users(namespace, [hitpoints, reader]) as passwords:
        async with channel_of(hitpoints.name, passwords[hitpoints.name]) as channel:
            exchange = await channel.get_exchange(events_exchange)
            await exchange.publish(event_message(blocked, hitpoints.name), routing_key=blocked.event_type)  # its own
            with pytest.raises(ChannelAccessRefused, match="domain.created"):
                await exchange.publish(event_message(created, hitpoints.name), routing_key=created.event_type)
        async with channel_of(hitpoints.name, passwords[hitpoints.name]) as channel:
            exchange = await channel.get_exchange(events_exchange)
            with pytest.raises(ChannelPreconditionFailed, match="user_id"):  # claiming to be another user
                await exchange.publish(event_message(blocked, "registry"), routing_key=blocked.event_type)
        async with channel_of(hitpoints.name, passwords[hitpoints.name]) as channel:
            with pytest.raises(ChannelAccessRefused):  # another service's queue
                await channel.declare_queue(f"{namespace}.notifications.events", durable=True)
        # a read-only subscriber: its own queue bound to the exchange, but no publishing at all
        async with channel_of(reader.name, passwords[reader.name]) as channel:
            queue = await channel.declare_queue(f"{namespace}.{reader.name}.events", auto_delete=True)
            await queue.bind(events_exchange, routing_key="domain.*")
            exchange = await channel.get_exchange(events_exchange)
            with pytest.raises(ChannelAccessRefused):
                await exchange.publish(event_message(created, reader.name), routing_key=created.event_type)


async def test_a_password_beginning_with_a_dash_is_a_password_not_an_option(namespace: str) -> None:
    """rabbitmqctl reads an argument beginning with '-' as an option unless `--` ends them (access.py): one
    token_urlsafe password in 64 begins with one, and an operator's own may."""
    reader = subscriber_user(f"{namespace}-dash", namespace)
    with broker_users(namespace, [reader], prefix="-") as passwords:
        assert passwords[reader.name].startswith("-")
        async with channel_of(reader.name, passwords[reader.name]) as channel:
            await channel.declare_queue(f"{namespace}.{reader.name}.events", auto_delete=True)


async def test_a_consumer_dead_letters_an_event_whose_publisher_may_not_publish_its_type(
    namespace: str, tmp_path: Path
) -> None:
    # here the broker's test user speaks for the registry only: the feed.* events are another publisher's
    settings = ReportingSettings(namespace=namespace, reports_dir=tmp_path, jobs_enabled=False,
                                 event_publishers={AMQP_USER: ["registry"]})
    clock = SystemClock()
    app = build_reporting(settings)
    async with running(app):
        connection = await aio_pika.connect(AMQP_URL)
        async with connection:
            channel = await connection.channel(publisher_confirms=True)
            exchange = await channel.get_exchange(f"{namespace}.registry.events")
            revoked = new_event(DomainRevoked(name="r.be", revoke_type="Phishing", revoked_at=clock.now()),
                                registrar_id="a100001", correlation_id=None, clock=clock)
            anonymous = domain_created(clock)
            allowed = domain_created(clock)
            await exchange.publish(event_message(revoked, AMQP_USER), routing_key=revoked.event_type)
            await exchange.publish(event_message(anonymous, None), routing_key=anonymous.event_type)
            await exchange.publish(event_message(allowed, AMQP_USER), routing_key=allowed.event_type)
        await eventually(lambda: queue_depth(f"{namespace}.reporting.events.dlq"), lambda n: n == 2)
        db = app.state.ctx.db  # reporting records what it applied in its journal
        applied = await eventually(lambda: journal.event_ids(db), lambda ids: len(ids) >= 1)
        assert applied == [str(allowed.event_id)]


def domain_created(clock: SystemClock) -> EventEnvelope[DomainCreated]:
    return new_event(DomainCreated(name=f"x{secrets.token_hex(3)}.be", tld="be", registrant="x",
                                   registered_at=clock.now()), registrar_id="a100001", correlation_id=None, clock=clock)
