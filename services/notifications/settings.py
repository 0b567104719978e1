"""The notifications service's settings (README: notifications)."""

from typing import Literal

from pydantic import Field, SecretStr

from shared.settings import ServiceSettings


class NotificationsSettings(ServiceSettings):
    service_name: str = "notifications"
    http_port: int = 8004
    # registry staff send category mail and report bounces with this bearer token; empty disables them
    operator_token: SecretStr = SecretStr("")

    # SMTP: in `make run` the local catcher (deploy/local/mailcatcher.py), in compose mailpit
    smtp_host: str = "127.0.0.1"
    smtp_port: int = Field(default=1025, ge=1, le=65535)
    smtp_username: str = ""
    smtp_password: SecretStr = SecretStr("")
    smtp_starttls: bool = False
    smtp_timeout_seconds: float = Field(default=10.0, gt=0)
    mail_from: str = "notifications@registry.example"
    # the registry's support desk: what verification asks support to look at (verification.support_notice)
    support_email: str = "support@registry.example"
    support_language: Literal["nl", "fr", "en"] = "en"

    # delivery: quick in-process retries of a transient failure (tenacity), then the mail waits
    # retry_after_seconds * 2^attempts (capped) and is tried again, until max_attempts, then it is failed
    smtp_quick_retries: int = Field(default=3, ge=1, le=10)
    mail_max_attempts: int = Field(default=12, ge=1)
    mail_retry_after_seconds: float = Field(default=5.0, gt=0)
    mail_retry_max_seconds: float = Field(default=1800.0, gt=0)
    mail_concurrency: int = Field(default=8, ge=1, le=100)
    mail_batch: int = Field(default=100, ge=1, le=1000)
    # a claimed mail is someone else's for this long (a crashed sender's mails are taken over after it)
    mail_lease_seconds: float = Field(default=60.0, gt=0)
    dispatch_poll_seconds: float = Field(default=0.5, gt=0)

    poll_retention_days: int = Field(default=365, ge=1, description="unacknowledged poll messages expire after")
    acked_retention_days: int = Field(default=90, ge=1, description="acknowledged messages are kept this long")
    sent_mail_retention_days: int = Field(default=400, ge=1, description="the record of each send")
    # an EPP poll request older than this is dropped unanswered: the EPP server stopped waiting long ago
    poll_request_ttl_ms: int = Field(default=10_000, ge=1_000)
    # an EPP ack is recorded in the registrar's poll head; its message is marked acknowledged and its event written
    # this long after, with the registrar's other acks of that moment in one transaction (poll_settlement.py)
    poll_settle_seconds: float = Field(default=0.1, gt=0, le=10)
    # every replica settles what any head holds (a crashed process's acks) at start-up and this often
    poll_settle_sweep_seconds: float = Field(default=60.0, gt=0)
    # how often each replica refreshes the queue-depth and pending-mail gauges
    gauges_interval_seconds: float = Field(default=15.0, gt=0)
