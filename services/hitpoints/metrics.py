"""The hitpoints business figures on /metrics (README: hitpoints; deploy/grafana, deploy/prometheus).

Counters move inside the consumer's transaction; a transaction that is retried after a write conflict
counts its run twice, which is rare and only ever over-counts a graph, never a registrar.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class HitpointsMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        r = registry
        self.scored = Counter("hitpoints_scored", "Hitpoints given to registrars, by command type", ["command"], registry=r)
        self.failures = Counter(
            "hitpoints_failed_commands", "command.failed events applied, by the scoring rule that decided", ["rule"],
            registry=r,
        )
        self.warnings = Counter("hitpoints_warnings", "Warning levels reached (percent of the limit)", ["percent"],
                                registry=r)
        self.blocks = Counter(
            "hitpoints_blocks", "Blocks started, and running blocks pushed out by a later faulty command", ["kind"],
            registry=r,
        )
        self.unblocks = Counter("hitpoints_unblocks", "Blocks ended, by SELF, OPERATOR or EXPIRY", ["by"], registry=r)
        self.self_unblocks_refused = Counter(
            "hitpoints_self_unblocks_refused", "Self-unblocks refused because the month's allowance was used", registry=r
        )
        self.blocked = Gauge("hitpoints_registrars_blocked", "Registrars blocked now (refreshed by every replica)",
                             registry=r)
        self.block_latency = Histogram(
            "hitpoints_block_latency_seconds",
            "From the faulty command that reached the limit to the block committed here (service clock)",
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
            registry=r,
        )
        self.jobs_last_run = Gauge(
            "hitpoints_jobs_last_run_timestamp_seconds",
            "When the periodic job (block expiry, nightly limits) last completed, Unix time", registry=r,
        )
