"""The hitpoints service's settings (README: hitpoints). Defaults follow the .be rules; the limit formula
is ours (the .be documentation gives only its range, 100 to 1000)."""

from typing import Self

from pydantic import Field, SecretStr, model_validator

from shared.settings import ServiceSettings


class HitpointsSettings(ServiceSettings):
    service_name: str = "hitpoints"
    http_port: int = 8002
    # a runaway script sends failures in bursts: larger batches mean fewer transactions (one counter write per
    # registrar and day, one document of offences per registrar and day, per batch); the prefetch keeps the next
    # batch arriving meanwhile. 1000 against 500: about 7 % less CPU per event (store and consumer together,
    # bench_hitpoints); larger gains little more, and a batch that conflicts with another replica's is retried whole
    prefetch_count: int = Field(default=2000, ge=1, le=10_000)
    consume_batch_size: int = Field(default=1000, ge=1, le=10_000)
    # registry staff use /api/operator/hitpoints with this bearer token; empty disables the operator API
    operator_token: SecretStr = SecretStr("")

    # limit = clamp(LIMIT_BASE + domains // LIMIT_DOMAINS_PER_HITPOINT, LIMIT_MIN, LIMIT_MAX), fixed every
    # night at 00:00 Brussels time from the portfolio (services/hitpoints/limits.py)
    limit_min: int = Field(default=100, ge=1)
    limit_max: int = Field(default=1000, ge=1)
    limit_base: int = Field(default=100, ge=0)
    limit_domains_per_hitpoint: int = Field(default=10, ge=1)
    # the warning levels, in percent of the limit; 100 also blocks
    warning_percentages: tuple[int, ...] = (80, 100)

    # scoring (services/hitpoints/scoring.py)
    points_faulty_command: int = Field(default=1, ge=0)
    points_name_exists: int = Field(default=10, ge=0, description="a domain create refused with 2302")
    create_grace_seconds: float = Field(default=10.0, ge=0, description="after another registrar registered the name")
    # refusals for these causes do not score: a blocked registrar's refused commands would otherwise
    # extend its own block for ever
    unscored_causes: tuple[str, ...] = ("registrar_blocked",)

    block_hours: float = Field(default=24.0, gt=0, description="a block lasts this long after the last faulty command")
    self_unblocks_per_month: int = Field(default=1, ge=0)

    # how often a replica looks for ended blocks and a due nightly recalculation (under a lease), and
    # refreshes the blocked-registrars gauge
    jobs_interval_seconds: float = Field(default=30.0, gt=0)
    # counters and offending transactions are kept this long (TTL)
    retention_days: int = Field(default=90, ge=1)
    screen_transactions: int = Field(default=500, ge=1, le=10_000, description="rows on the hitpoints screen")

    @model_validator(mode="after")
    def _limits_in_order(self) -> Self:
        if self.limit_min > self.limit_max:
            raise ValueError("LIMIT_MIN must not exceed LIMIT_MAX")
        if not self.warning_percentages or 100 not in self.warning_percentages:
            raise ValueError("WARNING_PERCENTAGES must include 100 (the level that blocks)")
        if any(not 0 < p <= 100 for p in self.warning_percentages):
            raise ValueError("WARNING_PERCENTAGES are between 1 and 100")
        return self
