"""The notifications business figures on /metrics (README: notifications; deploy/grafana, deploy/prometheus).

Labels stay bounded: message keys come from the catalogue, registrars appear only as counts per
queue-depth bucket. Counters that move in the consumer's transaction may over-count a retried batch.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

# poll queue depth buckets: how many registrars have this many unacknowledged messages
DEPTH_BUCKETS = ((1, 10, "1-10"), (11, 100, "11-100"), (101, 1000, "101-1000"), (1001, None, "1001+"))


def depth_bucket(depth: int) -> str:
    for low, high, name in DEPTH_BUCKETS:
        if depth >= low and (high is None or depth <= high):
            return name
    return "0"


class NotificationsMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        r = registry
        self.messages = Counter("notifications_messages", "Messages queued, by catalogue entry and channel "
                                "(poll, cps, mail)", ["message", "channel"], registry=r)
        self.poll_requests = Counter("notifications_poll_requests", "EPP / web poll requests, by op and result code",
                                     ["op", "code"], registry=r)
        self.queue_registrars = Gauge("notifications_poll_queue_registrars", "Registrars by poll queue depth bucket",
                                      ["bucket"], registry=r)
        self.queue_messages = Gauge("notifications_poll_queue_messages", "Unacknowledged poll messages, all registrars",
                                    registry=r)
        self.oldest_poll_seconds = Gauge("notifications_poll_oldest_message_age_seconds",
                                         "Age of the oldest unacknowledged poll message", registry=r)
        self.acks_settled = Counter("notifications_poll_acks_settled", "EPP acks recorded in poll heads and then "
                                    "settled by this replica (the message marked acknowledged, its event written)",
                                    registry=r)
        self.mails_sent = Counter("notifications_mails_sent", "Mails accepted by the SMTP server, by kind", ["kind"],
                                  registry=r)
        self.mails_retried = Counter("notifications_mails_retried", "Transient SMTP failures that were retried",
                                     registry=r)
        self.mails_bounced = Counter("notifications_mails_bounced", "Mails refused for good (5xx at sending, reported "
                                     "bounces, or retries exhausted)", ["reason"], registry=r)
        self.mails_pending = Gauge("notifications_mails_pending", "Mails waiting to be sent", registry=r)
        self.oldest_pending_seconds = Gauge("notifications_mail_oldest_pending_seconds",
                                            "Age of the oldest mail waiting to be sent", registry=r)
        self.delivery = Histogram("notifications_mail_delivery_seconds", "From the mail being queued to the SMTP "
                                  "server accepting it", buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800),
                                  registry=r)
        self.gauges_refreshed = Gauge("notifications_gauges_last_refresh_timestamp_seconds",
                                      "When this replica last refreshed its gauges, Unix time", registry=r)
