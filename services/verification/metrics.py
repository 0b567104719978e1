"""The verification business figures on /metrics (README: verification; deploy/grafana, deploy/prometheus).

Counters move inside the consumer's or the request's transaction; a transaction retried after a write
conflict counts twice, which only ever over-counts a graph. The gauges are refreshed by the periodic job.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class VerificationMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        r = registry
        self.scored = Counter("verification_registrations_scored", "New registrations scored", registry=r)
        self.selected = Counter("verification_registrations_selected",
                                "Registrations selected for verification, by why: scored, pending (the contact "
                                "was already pending), reselected (failed before), transfer", ["why"], registry=r)
        self.rule_hits = Counter("verification_rule_hits", "Scoring rules that flagged a registration", ["rule"],
                                 registry=r)
        self.waiting = Counter("verification_registrations_waited",
                               "Registrations scored late because their contact arrived after them", registry=r)
        self.transitions = Counter("verification_case_transitions", "Case transitions, by action and new status",
                                   ["action", "status"], registry=r)
        self.outcomes = Counter("verification_outcomes", "Contacts verified, failed or undone, by method or reason",
                                ["outcome", "how"], registry=r)
        self.time_to_verification = Histogram(
            "verification_time_to_verification_seconds", "From selection to approval, by method", ["method"],
            buckets=(60, 600, 3600, 4 * 3600, 86400, 2 * 86400, 5 * 86400, 10 * 86400, 30 * 86400), registry=r)
        self.attempts_exhausted = Counter("verification_attempts_exhausted",
                                          "Cases whose registrant used every attempt and was sent to support",
                                          registry=r)
        self.documents_deleted = Counter("verification_documents_deleted",
                                         "Identity documents deleted DOCUMENT_RETENTION_DAYS after their case closed",
                                         registry=r)
        self.cap_reached = Counter("verification_individual_cap_reached",
                                   "eID verifications refused because the individual reached its cap", registry=r)
        self.contacts = Gauge("verification_contacts", "Registrant contacts by verification status", ["status"],
                              registry=r)
        self.cases_open = Gauge("verification_cases_open", "Open cases by status", ["status"], registry=r)
        self.review_oldest = Gauge("verification_review_oldest_age_seconds",
                                   "Age of the oldest case waiting for support (in review or sent to support)",
                                   registry=r)
        self.jobs_last_run = Gauge("verification_jobs_last_run_timestamp_seconds",
                                   "When the periodic job (expiry, gauges) last completed, Unix time", registry=r)
