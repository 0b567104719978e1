"""Settings from the environment (all have local defaults)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Config:
    # your read-only user (make run creates subscriber-example; compose: subscriber-example-dev-password)
    amqp_url: str = field(default_factory=lambda: os.environ.get(
        "AMQP_URL", "amqp://subscriber-example:subscriber-example-dev-password@127.0.0.1:5672/"))
    exchange: str = field(default_factory=lambda: os.environ.get("EVENTS_EXCHANGE", "registry.events"))
    history_stream: str = field(default_factory=lambda: os.environ.get("HISTORY_STREAM", "registry.events.history"))
    # your own queue: its name must start with your user name (that is all your user may create)
    queue: str = field(default_factory=lambda: os.environ.get("QUEUE", "subscriber-example.events"))
    # the event types you want, or patterns: domain.* , #
    bindings: tuple[str, ...] = field(default_factory=lambda: tuple(
        os.environ.get("BINDINGS", "domain.*,registrar.*").split(",")))
    delivery_limit: int = field(default_factory=lambda: int(os.environ.get("DELIVERY_LIMIT", "5")))
    database: str = field(default_factory=lambda: os.environ.get("DATABASE", "subscriber.sqlite3"))

    @property
    def dead_letter_queue(self) -> str:
        return f"{self.queue}.dlq"

    @property
    def dead_letter_exchange(self) -> str:
        return f"{self.queue}.dlx"
