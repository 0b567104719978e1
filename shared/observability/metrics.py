"""One Prometheus registry per service, holding the platform's own metrics; services add theirs to it.

Names (documented in the README and used by deploy/grafana and deploy/prometheus rules):
  outbox_pending_events, outbox_oldest_pending_age_seconds, outbox_relayed_events_total{event_type},
  outbox_relay_errors_total, events_consumed_total{event_type,outcome}, event_handling_seconds{event_type},
  service_info{service,version}
Events are published and consumed outside FastStream (shared/messaging/publisher.py, consumer.py): these count them,
and no FastStream metrics are exposed.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Info


class ServiceMetrics:
    def __init__(self, service: str, version: str = "0.1.0") -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        Info("service", "The service and its version", registry=r).info({"service": service, "version": version})
        self.outbox_pending = Gauge(
            "outbox_pending_events", "Events written to the outbox and not yet confirmed by the broker", registry=r
        )
        self.outbox_oldest_age = Gauge(
            "outbox_oldest_pending_age_seconds", "Age of the oldest event waiting in the outbox", registry=r
        )
        self.outbox_relayed = Counter(
            "outbox_relayed_events", "Events published from the outbox with a broker confirm", ["event_type"], registry=r
        )
        self.outbox_errors = Counter(
            "outbox_relay_errors", "Failed relay rounds (the events stay in the outbox and are retried)", registry=r
        )
        self.events_consumed = Counter(
            "events_consumed",
            "Events taken from the service's queue, by outcome: "
            "processed, duplicate (already applied), rejected (dead-lettered), retried (requeued)",
            ["event_type", "outcome"],
            registry=r,
        )
        self.event_handling = Histogram(
            "event_handling_seconds",
            "Time to apply one event, transaction included",
            ["event_type"],
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
            registry=r,
        )
