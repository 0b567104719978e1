"""Service settings, read from environment variables (pydantic-settings).

Every service reads the same base; a service adds its own fields by subclassing. The README's
configuration table lists each variable with its default.
"""

from __future__ import annotations

import socket
import urllib.parse
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_INTERNAL_SECRET = "local-dev-internal-secret-change-me"
# what `make run` and compose give the operator API: public, so never accepted in production
DEVELOPMENT_OPERATOR_TOKEN = "operator-dev-token"
# the registry's development token-signing key (shared/auth.py)
DEVELOPMENT_SIGNING_KEY = "ZGV2ZWxvcG1lbnQtb25seS1zaWduaW5nLWtleS0wMDE"
# secret values published in this repository (code, compose, README): a production start refuses them
DEVELOPMENT_SECRETS = frozenset({DEFAULT_INTERNAL_SECRET, DEVELOPMENT_OPERATOR_TOKEN, DEVELOPMENT_SIGNING_KEY})
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1", "0.0.0.0", "::"})


class ProductionRefused(RuntimeError):
    """ENVIRONMENT=production with a development value: the service does not start."""

    def __init__(self, service: str, refusals: list[str]) -> None:
        self.refusals = refusals
        super().__init__(
            f"{service} refuses to start with ENVIRONMENT=production: " + "; ".join(refusals)
            + " (set ENVIRONMENT=development for a local run; README: production checklist)"
        )


def points_to_this_machine(url: str) -> bool:
    host = (urllib.parse.urlsplit(url).hostname or "").lower()
    return host in LOCAL_HOSTS or host.endswith(".localhost") or host.startswith("127.")


class FailClosedSettings(BaseSettings):
    """What every process of the platform shares: production (the default) refuses development values."""

    model_config = SettingsConfigDict(env_file=None, extra="ignore", frozen=True)

    service_name: str = Field(default="service", description="set by each service, not by the environment")
    # production (the default) refuses development values at start-up (production_refusals);
    # `make run` and the tests set development
    environment: Literal["production", "development"] = "production"

    def production_refusals(self) -> list[str]:
        """The settings that still hold a development value, each named as its environment variable.

        Every service checks its secrets (any SecretStr field) against the published development values and
        its public URLs (fields named *public*url*) against this machine; a service adds its own checks by
        extending this method.
        """
        refusals = []
        for name, value in self:
            variable = name.upper()
            secrets = value if isinstance(value, list) else [value]
            if any(isinstance(v, SecretStr) and v.get_secret_value() in DEVELOPMENT_SECRETS for v in secrets):
                refusals.append(f"{variable} has its published development value")
            elif "public" in name and name.endswith("url") and points_to_this_machine(str(value)):
                refusals.append(f"{variable} points to this machine ({value}): set the address users reach")
        return refusals

    def refuse_development_values(self) -> None:
        """Raise ProductionRefused in production while any development value is set (fail closed)."""
        if self.environment == "production" and (refusals := self.production_refusals()):
            raise ProductionRefused(self.service_name, refusals)


class ServiceSettings(FailClosedSettings):
    instance_id: str = Field(default_factory=socket.gethostname, description="this process, in logs and leases")

    amqp_url: str = "amqp://guest:guest@127.0.0.1:5672/"
    events_exchange: str = "registry.events"
    dead_letter_exchange: str = "registry.events.dlx"
    # redeliveries before a message is parked in the service's dead-letter queue
    delivery_limit: int = Field(default=5, ge=1, le=100)
    # deliveries in flight per consumer (the channel's prefetch), and the most it applies in one transaction: what
    # has arrived, up to the batch size. Prefetch above the batch lets the next batch arrive while one is applied
    # (shared/messaging/consumer.py; README "Benchmarks")
    prefetch_count: int = Field(default=200, ge=1, le=10_000)
    consume_batch_size: int = Field(default=100, ge=1, le=10_000)

    mongodb_url: str = "mongodb://127.0.0.1:27017/?retryWrites=false"
    # prefixes exchanges, queues and databases, so that several platforms (a test run beside `make run`)
    # share one broker and one database server without seeing each other's messages
    namespace: str = Field(default="", pattern=r"^[a-z0-9]{0,32}$")
    mongodb_timeout_ms: int = Field(default=5_000, ge=100)

    http_host: str = "0.0.0.0"
    http_port: int = Field(default=8000, ge=1, le=65535)
    # the peers whose X-Forwarded-For names the client (uvicorn's forwarded_allow_ips: addresses or networks,
    # comma-separated): the reverse proxy and the console, whose sign-ins the login pause counts per browser
    forwarded_allow_ips: str = "127.0.0.1"

    log_level: str = "INFO"
    log_format: str = Field(default="json", pattern="^(json|text)$")
    # traces (shared/observability/tracing.py) are exported over OTLP/HTTP only when this is set,
    # e.g. http://otel-collector:4318; empty: spans stay in the process (their ids still travel and are logged)
    otel_exporter_otlp_endpoint: str = ""

    outbox_batch_size: int = Field(default=200, ge=1, le=5_000)
    outbox_poll_seconds: float = Field(default=0.5, gt=0)
    outbox_lease_seconds: float = Field(default=10.0, gt=0)
    processed_event_ttl_days: int = Field(default=7, ge=1)

    # the platform's shared secret: seals event fields that only one consumer may read (the transfer code
    # for the registrant's mail). Session tokens are not signed with it: only the registry signs them
    # (TOKEN_SIGNING_KEYS, shared/auth.py).
    # The default is for local runs only; deployments mount their own (deploy/k8s secret, compose env).
    internal_secret: SecretStr = SecretStr(DEFAULT_INTERNAL_SECRET)
    # earlier INTERNAL_SECRETs, newest first: values sealed under them still open (MultiFernet), so the
    # secret rotates without losing a transfer code in flight; drop one once its sealed values expired
    internal_secret_previous: list[SecretStr] = Field(default_factory=list)

    # where the registry publishes its token keys (JWKS); empty: the development key's public half, which
    # only make run and the tests use. Fetched keys are kept this long; an unknown kid fetches again.
    jwks_url: str = ""
    jwks_cache_seconds: float = Field(default=300.0, gt=0)

    # AMQP user -> the producers (shared/events) whose event types it may publish; a consumer dead-letters an
    # event whose publisher (the AMQP user_id RabbitMQ validated) may not publish its type. "*": any type.
    event_publishers: dict[str, list[str]] = Field(default_factory=lambda: {
        **{s: [s] for s in ("registry", "hitpoints", "verification", "notifications", "reporting")},
        "feeds": ["external"],
    })

    # give up connecting at start-up after this long (tenacity, exponential back-off with jitter)
    connect_timeout_seconds: float = Field(default=60.0, gt=0)

    def production_refusals(self) -> list[str]:
        refusals = super().production_refusals()
        if not self.jwks_url and self.service_name != "registry":  # the registry signs: it knows its own keys
            refusals.append("JWKS_URL is empty: the service would trust the published development signing key")
        refusals += [f"EVENT_PUBLISHERS lets [{user}] publish every event type"
                     for user, producers in self.event_publishers.items() if "*" in producers]
        return refusals

    @property
    def amqp_user(self) -> str:
        """The user this service connects as (what RabbitMQ puts in user_id)."""
        return urllib.parse.unquote(urllib.parse.urlsplit(self.amqp_url).username or "guest")

    @property
    def sealing_secrets(self) -> list[SecretStr]:
        """INTERNAL_SECRET then INTERNAL_SECRET_PREVIOUS: the newest seals, each opens."""
        return [self.internal_secret, *self.internal_secret_previous]

    def _ns(self, name: str, sep: str = ".") -> str:
        return f"{self.namespace}{sep}{name}" if self.namespace else name

    @property
    def database_name(self) -> str:
        """Each service owns one database."""
        return self._ns(self.service_name, "_")

    @property
    def events_exchange_name(self) -> str:
        return self._ns(self.events_exchange)

    @property
    def dead_letter_exchange_name(self) -> str:
        return self._ns(self.dead_letter_exchange)

    @property
    def queue_name(self) -> str:
        return self._ns(f"{self.service_name}.events")
