"""Who may do what on the broker: one RabbitMQ user per service, read-only users for outside subscribers.

Derived from the event catalogue, so the broker's rules follow the contract:
  - each service configures, writes and reads only its own queues (`<service>.*`) and the events exchanges;
  - topic authorisation on `registry.events`: a service publishes only the event types it produces
    (`producer` in `shared/events/`), so RabbitMQ itself refuses anything else (channel closed, 403);
  - `feeds` publishes the `feed.*` events of the registry's other systems (producer `external`);
  - a subscriber reads the exchange and the history stream and owns `<subscriber>.*`; it publishes nothing.
Every publisher also sets the AMQP `user_id` property, which RabbitMQ checks against the connection's user;
consumers check that user against the event type's producer (`publisher_may_publish`, EVENT_PUBLISHERS).

  python -m shared.messaging.access definitions          the definitions (deploy/rabbitmq/definitions.json)
  python -m shared.messaging.access rabbitmqctl [--namespace NS] [--passwords FILE] [--subscriber NAME]...
                                                         the rabbitmqctl commands that apply the same
  python -m shared.messaging.access apply --passwords FILE   runs them (make run: deploy/local/rabbitmq-users.sh);
                                                         FILE gets random passwords the first time
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import re
import secrets
import shlex
import subprocess
import sys
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from shared.events.catalogue import CATALOGUE

SERVICES = ("registry", "hitpoints", "verification", "notifications", "reporting", "publication")
FEEDS_USER = "feeds"  # the registry's abuse, scanning, support and legal tools (producer "external")
EXAMPLE_SUBSCRIBER = "subscriber-example"
EVENTS_EXCHANGE = "registry.events"
HISTORY_STREAM = "registry.events.history"
# the users compose and k8s start with (development passwords in compose: "<user>-dev-password")
DEFAULT_PUBLISHERS: dict[str, list[str]] = {**{s: [s] for s in SERVICES}, FEEDS_USER: ["external"]}


# event type -> its producer (every version of a type has the same one); looked up for every message consumed
_PRODUCERS: dict[str, str] = {kind: model.producer for (kind, _), model in CATALOGUE.items()}


def producer_of(event_type: str) -> str | None:
    return _PRODUCERS.get(event_type)


def event_types_of(producer: str) -> list[str]:
    return sorted({kind for (kind, _), model in CATALOGUE.items() if model.producer == producer})


def publisher_may_publish(user: str | None, event_type: str, publishers: Mapping[str, Sequence[str]]) -> bool:
    """Whether the AMQP user that published a message (its validated `user_id`) may publish this type."""
    if not user:
        return False
    allowed = publishers.get(user, ())
    return "*" in allowed or producer_of(event_type) in allowed


def _alternatives(names: Iterable[str]) -> str:
    return "|".join(re.escape(n) for n in names)


@dataclass(frozen=True)
class AmqpUser:
    name: str
    configure: str
    write: str
    read: str
    topic_write: str  # routing keys it may publish on the events exchange
    topic_read: str = ".*"
    tags: str = ""


def _prefix(namespace: str) -> str:
    return re.escape(f"{namespace}.") if namespace else ""


def service_user(service: str, namespace: str = "", user: str | None = None) -> AmqpUser:
    p, own = _prefix(namespace), re.escape(service)
    exchanges = r"registry\.events(\.dlx|\.history)?" if service == "registry" else r"registry\.events(\.dlx)?"
    # EPP poll is a request/reply over the default exchange between the registry and notifications
    default = "|amq\\.default" if service in ("registry", "notifications") else ""
    return AmqpUser(
        name=user or service,
        configure=f"^{p}({exchanges}|{own}\\..*)$",
        # the dead-letter exchange: declaring a queue that dead-letters to it needs write on it
        write=f"^({p}(registry\\.events(\\.dlx)?|{own}\\..*){default})$",
        read=f"^{p}({exchanges}|{own}\\..*)$",
        topic_write=f"^({_alternatives(event_types_of(service))})$",
    )


def feeds_user(namespace: str = "", user: str = FEEDS_USER) -> AmqpUser:
    p = _prefix(namespace)
    return AmqpUser(name=user, configure="^$", write=f"^{p}registry\\.events$", read="^$",
                    topic_write=f"^({_alternatives(event_types_of('external'))})$", topic_read="^$")


def subscriber_user(name: str, namespace: str = "") -> AmqpUser:
    """An outside team: its own queues `<name>.*`, reads the events exchange and the history stream."""
    p, own = _prefix(namespace), re.escape(name)
    return AmqpUser(name=name, configure=f"^{p}{own}\\..*$", write=f"^{p}{own}\\..*$",
                    read=f"^{p}(registry\\.events|registry\\.events\\.history|{own}\\..*)$", topic_write="^$")


def history_stream_arguments(days: int) -> Mapping[str, str]:
    return {"x-queue-type": "stream", "x-max-age": f"{days}D"}


def user_name(name: str, namespace: str = "") -> str:
    """A namespaced platform (NAMESPACE) has users of its own, so it never changes another platform's."""
    return f"{namespace}-{name}" if namespace else name


def platform_users(namespace: str = "", subscribers: Sequence[str] = (EXAMPLE_SUBSCRIBER,)) -> list[AmqpUser]:
    return [*(service_user(s, namespace, user_name(s, namespace)) for s in SERVICES),
            feeds_user(namespace, user_name(FEEDS_USER, namespace)),
            *(subscriber_user(user_name(s, namespace), namespace) for s in subscribers)]


def publishers(namespace: str = "") -> dict[str, list[str]]:
    """EVENT_PUBLISHERS for the platform's users."""
    return {user_name(user, namespace): producers for user, producers in DEFAULT_PUBLISHERS.items()}


def password_hash(password: str, salt: bytes | None = None) -> str:
    """RabbitMQ's rabbit_password_hashing_sha256: base64(salt + sha256(salt + password)), 4-byte salt."""
    salt = salt if salt is not None else secrets.token_bytes(4)
    return base64.b64encode(salt + hashlib.sha256(salt + password.encode()).digest()).decode()


def development_password(user: str) -> str:
    return f"{user}-dev-password"


def definitions(users: Sequence[AmqpUser], passwords: Mapping[str, str], vhost: str = "/",
                admin: tuple[str, str] | None = None, history_days: int = 7) -> dict[str, object]:
    """RabbitMQ definitions (load_definitions): the users, their permissions and topic permissions, the
    exchanges and the history stream (the services declare the same at start-up)."""
    all_users = [{"name": u.name, "password_hash": password_hash(passwords[u.name], salt=_stable_salt(u.name)),
                  "hashing_algorithm": "rabbit_password_hashing_sha256", "tags": [t for t in u.tags.split(",") if t]}
                 for u in users]
    if admin is not None:
        all_users.insert(0, {"name": admin[0], "password_hash": password_hash(admin[1], salt=_stable_salt(admin[0])),
                             "hashing_algorithm": "rabbit_password_hashing_sha256", "tags": ["administrator"]})
    return {
        "users": all_users,
        "vhosts": [{"name": vhost}],
        "permissions": ([{"user": admin[0], "vhost": vhost, "configure": ".*", "write": ".*", "read": ".*"}]
                        if admin else [])
        + [{"user": u.name, "vhost": vhost, "configure": u.configure, "write": u.write, "read": u.read} for u in users],
        "topic_permissions": [{"user": u.name, "vhost": vhost, "exchange": EVENTS_EXCHANGE, "write": u.topic_write,
                               "read": u.topic_read} for u in users],
        "exchanges": [
            {"name": EVENTS_EXCHANGE, "vhost": vhost, "type": "topic", "durable": True, "auto_delete": False,
             "internal": False, "arguments": {}},
            {"name": f"{EVENTS_EXCHANGE}.dlx", "vhost": vhost, "type": "direct", "durable": True,
             "auto_delete": False, "internal": False, "arguments": {}},
        ],
        "queues": [{"name": HISTORY_STREAM, "vhost": vhost, "durable": True, "auto_delete": False,
                    "arguments": history_stream_arguments(history_days)}] if history_days else [],
        "bindings": [{"source": EVENTS_EXCHANGE, "vhost": vhost, "destination": HISTORY_STREAM,
                      "destination_type": "queue", "routing_key": "#", "arguments": {}}] if history_days else [],
    }


def _stable_salt(user: str) -> bytes:
    # the committed definitions file stays the same from one generation to the next (a test compares them)
    return hashlib.sha256(f"salt:{user}".encode()).digest()[:4]


def rabbitmqctl_commands(users: Sequence[AmqpUser], passwords: Mapping[str, str], vhost: str = "/",
                         namespace: str = "") -> list[list[str]]:
    """Create or update each user with its permissions; never touches other users."""
    exchange = f"{namespace}.{EVENTS_EXCHANGE}" if namespace else EVENTS_EXCHANGE
    commands: list[list[str]] = []
    for u in users:
        commands += _user_commands(u, passwords[u.name], vhost, exchange)
    return commands


def _user_commands(u: AmqpUser, password: str, vhost: str, exchange: str) -> list[list[str]]:
    tags = [t for t in u.tags.split(",") if t]
    return [
        # `--`: a password may start with '-' (1 in 64 of token_urlsafe's, or an operator's own), which
        # rabbitmqctl would read as an option; when the user exists this fails, and change_password runs instead
        ["add_user", "--", u.name, password],
        *([["set_user_tags", u.name, *tags]] if tags else []),
        ["set_permissions", "-p", vhost, u.name, u.configure, u.write, u.read],
        ["set_topic_permissions", "-p", vhost, u.name, exchange, u.topic_write, u.topic_read],
    ]


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m shared.messaging.access", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", choices=("definitions", "rabbitmqctl", "apply"))
    parser.add_argument("--namespace", default=os.environ.get("NAMESPACE", ""))
    parser.add_argument("--subscriber", action="append", default=None, help="outside subscribers (read-only users)")
    parser.add_argument("--passwords", help="JSON file of user -> password (default: development passwords)")
    parser.add_argument("--vhost", default="/")
    args = parser.parse_args(argv)
    users = platform_users(args.namespace, args.subscriber or [EXAMPLE_SUBSCRIBER])
    if args.what == "apply":
        if not args.passwords:
            parser.error("apply needs --passwords FILE (created with random passwords when missing)")
        apply(users, args.passwords, args.vhost, args.namespace)
        return
    passwords = {u.name: development_password(u.name) for u in users} | {"admin": development_password("admin")}
    if args.passwords:
        with open(args.passwords) as f:
            passwords |= json.load(f)
    if args.what == "definitions":
        print(json.dumps(definitions(users, passwords, vhost=args.vhost, admin=("admin", passwords["admin"])), indent=2))
    else:
        for command in rabbitmqctl_commands(users, passwords, vhost=args.vhost, namespace=args.namespace):
            print(shlex.join(command))


def apply(users: Sequence[AmqpUser], passwords_file: str, vhost: str, namespace: str) -> None:
    """Create the users with rabbitmqctl (the local broker); passwords kept in `passwords_file` (mode 600)."""
    try:
        with open(passwords_file) as f:
            passwords: dict[str, str] = json.load(f)
    except FileNotFoundError:
        passwords = {}
    if any(u.name not in passwords for u in users):
        passwords |= {u.name: secrets.token_hex(24) for u in users if u.name not in passwords}
        descriptor = os.open(passwords_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as f:
            json.dump(passwords, f, indent=2)
    exchange = f"{namespace}.{EVENTS_EXCHANGE}" if namespace else EVENTS_EXCHANGE

    def one_user(u: AmqpUser) -> None:
        for command in _user_commands(u, passwords[u.name], vhost, exchange):
            done = subprocess.run(["rabbitmqctl", "-q", *command], capture_output=True, text=True, timeout=120)
            if done.returncode != 0 and command[0] == "add_user":  # it exists: set the password we keep
                done = subprocess.run(["rabbitmqctl", "-q", "change_password", "--", u.name, passwords[u.name]],
                                      capture_output=True, text=True, timeout=120)
            if done.returncode != 0:
                raise SystemExit(f"rabbitmqctl {command[0]} {u.name} failed: {done.stderr.strip()}")

    # each rabbitmqctl call starts an Erlang VM (a second or two): the users in parallel
    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(one_user, users))


if __name__ == "__main__":
    main(sys.argv[1:])
