"""The reporting service's settings (README: reporting)."""

from pathlib import Path

from pydantic import Field, SecretStr

from shared.settings import ServiceSettings


class ReportingSettings(ServiceSettings):
    service_name: str = "reporting"
    http_port: int = 8005
    # registry staff trigger generation with this bearer token; empty disables the operator API
    operator_token: SecretStr = SecretStr("")
    # where report files live (compose and k8s mount a volume here); they stream from disk to HTTP
    reports_dir: Path = Path(".data/reports")
    # the base URL registrar users reach this service at, for the link in report.quarterly_ready
    public_url: str = "http://localhost:8005"
    # how often a replica checks (under a lease) whether today's daily or the last quarter's reports are due
    jobs_interval_seconds: float = Field(default=300.0, gt=0)
    # off: reports are generated only on an operator's request (tests, a replay of the read model)
    jobs_enabled: bool = True
    # daily reports are generated once per Brussels day from this hour on, and whenever the newest are older
    # than DAILY_MAX_AGE_HOURS: below 24, so a run has the rest to finish (they are never older than 24 hours)
    daily_hour: int = Field(default=2, ge=0, le=23)
    daily_max_age_hours: float = Field(default=23.0, gt=0, lt=24)
    # star boundaries per 100,000 domains (lower is better): below the first 3 stars, below the second 2,
    # below the third 1, else 0. Not published by .be (digest 6.1): ours, configurable.
    stars_revokes: tuple[float, float, float] = (5.0, 20.0, 50.0)
    stars_bounces: tuple[float, float, float] = (2.0, 10.0, 30.0)
    stars_infections: tuple[float, float, float] = (5.0, 20.0, 50.0)
    stars_support: tuple[float, float, float] = (5.0, 20.0, 50.0)
    # recurring bounce: the same address bounced again between these many days after its previous bounce
    recurring_bounce_min_days: int = Field(default=14, ge=0)
    recurring_bounce_max_days: int = Field(default=92, ge=1)
    top_list_size: int = Field(default=100, ge=1, le=1000)
    top_transactions_size: int = Field(default=30, ge=1, le=1000)
