"""The publication figures on /metrics (README: publication; deploy/grafana panels 90-95, deploy/prometheus
group publication)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class PublicationMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        r = registry
        self.lag = Histogram(
            "publication_lag_seconds", "From the occurrence of a change to its commit in Knot (the oldest change "
            "of the domain not yet published)", buckets=(0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 900, 3600),
            registry=r)
        self.pushed = Counter("publication_changes_pushed", "Domains whose records were pushed to Knot, by zone",
                              ["zone"], registry=r)
        self.push_failures = Counter("publication_push_failures", "Pushes to Knot that failed (tried again)",
                                     registry=r)
        self.pending = Gauge("publication_pending_domains", "Change records awaiting the pusher (about one per changed domain)", registry=r)
        self.zone_records = Gauge("publication_zone_records",
                                  "Records in the live zone outside Knot's own (SOA, DNSSEC), at the last check",
                                  ["zone"], registry=r)
        self.differences = Gauge("publication_rebuild_differences",
                                 "Differences between the live zone (AXFR) and the zone rebuilt from the read model, "
                                 "at the last check", ["zone"], registry=r)
        self.last_check = Gauge("publication_last_check_timestamp_seconds", "When the last AXFR-vs-rebuild check "
                                "finished, Unix time", registry=r)
        self.queries = Counter("publication_queries", "Public queries answered, by protocol and outcome",
                               ["protocol", "outcome"], registry=r)
