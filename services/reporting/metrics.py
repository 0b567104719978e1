"""The reporting business figures on /metrics (README: reporting; deploy/grafana panels 80-89,
deploy/prometheus group reporting)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class ReportingMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        r = registry
        # kept from the first read model (issue 2): dashboards graph it
        self.counted = Counter("reporting_domains_counted", "domain.created events applied to the portfolio read model",
                               ["tld"], registry=r)
        self.generated = Counter("reporting_reports_generated", "Report runs completed, by kind (daily, quarterly)",
                                 ["kind"], registry=r)
        self.failed = Counter("reporting_report_failures", "Report runs that failed, by kind", ["kind"], registry=r)
        self.duration = Histogram(
            "reporting_report_generation_seconds", "How long a run generating every registrar's reports took, by kind",
            ["kind"], buckets=(1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600), registry=r,
        )
        self.rows = Counter("reporting_report_rows", "Rows written into daily reports, by report", ["report"],
                            registry=r)
        self.last_generated = Gauge("reporting_last_generated_timestamp_seconds",
                                    "When the last run of each kind completed, Unix time", ["kind"], registry=r)
        # from the database, refreshed by every replica's periodic job: it exists after a restart, also while
        # runs fail (the gauge above is set only by a run that succeeded in this process)
        self.daily_age = Gauge("reporting_daily_reports_age_seconds",
                               "Age of the newest daily reports as stored (service clock; +Inf when none exist)",
                               registry=r)
        self.lag = Gauge("reporting_read_model_lag_seconds",
                         "From the occurrence of the newest event applied to the read model to now (service clock)",
                         registry=r)
        self.applied = Counter("reporting_events_applied", "Events applied to the read models, by type",
                               ["event_type"], registry=r)
