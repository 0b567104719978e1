"""The verification service's settings (README: verification). The scoring rules, weights and threshold
are ours (DNS Belgium does not publish its parameters); attempts (3) and the review time (5 days) follow
the seed on registrant verification."""

from typing import Literal, Self

from pydantic import Field, SecretStr, model_validator

from shared.settings import ServiceSettings, points_to_this_machine

DEFAULT_WEIGHTS = {
    "country_phone_mismatch": 1.0,
    "disposable_email": 1.0,
    "implausible_address": 1.0,
    "implausible_name": 1.0,
    "burst_from_new_contact": 1.0,
}
DEFAULT_DISPOSABLE = (
    "mailinator.com", "guerrillamail.com", "10minutemail.com", "tempmail.com", "temp-mail.org", "yopmail.com",
    "trashmail.com", "sharklasers.com", "getnada.com", "dispostable.com", "maildrop.cc", "throwawaymail.com",
)


class VerificationSettings(ServiceSettings):
    service_name: str = "verification"
    http_port: int = 8003
    # support staff and operators use /api/support/verification and /api/operator/verification with this
    # bearer token; empty disables them
    operator_token: SecretStr = SecretStr("")

    # scoring (services/verification/scoring.py): a registration is selected when the weights of the
    # rules that flag it add up to the threshold
    rule_weights: dict[str, float] = Field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
    selection_threshold: float = Field(default=2.0, gt=0)
    disposable_email_domains: tuple[str, ...] = DEFAULT_DISPOSABLE
    new_contact_hours: float = Field(default=48.0, gt=0, description="a contact this young is 'new'")
    burst_window_hours: float = Field(default=24.0, gt=0)
    burst_registrations: int = Field(default=5, ge=2, description="registrations in the window that flag a new contact")

    # the registrant's side
    public_base_url: str = "http://127.0.0.1:8003"
    # the registrant's pages (the console's /verify/...): the mailed link and the eID return point there;
    # empty: at this service's own JSON endpoints (public_base_url)
    registrant_pages_url: str = ""
    max_attempts: int = Field(default=3, ge=1)
    proof_deadline_days: float = Field(default=14.0, gt=0, description="without proof by then the case fails")
    review_days: float = Field(default=5.0, gt=0, description="support's target for a document review (alerts)")
    verifications_per_individual: int = Field(default=10, ge=1)
    max_document_bytes: int = Field(default=2_000_000, ge=1_000, le=12_000_000)
    max_documents_per_upload: int = Field(default=5, ge=1, le=20)
    # identity documents are personal data kept only for the case: deleted this long after it closed
    # (approved, failed or cancelled), by the periodic job
    document_retention_days: float = Field(default=30.0, ge=0)

    # the eID provider (eid.py), chosen explicitly: empty means none, so eID is unavailable and registrants
    # upload documents; "simulator" lets whoever holds a link approve itself: local runs and tests only
    eid_provider: Literal["", "simulator"] = ""
    eid_timeout_minutes: float = Field(default=30.0, gt=0, description="an eID attempt without the "
                                       "provider's callback by then was abandoned: it counts as failed")

    jobs_interval_seconds: float = Field(default=60.0, gt=0)

    def production_refusals(self) -> list[str]:
        refusals = super().production_refusals()
        if self.eid_provider == "simulator":
            refusals.append("EID_PROVIDER is simulator: anyone holding a verification link could approve itself")
        if self.registrant_pages_url and points_to_this_machine(self.registrant_pages_url):
            # like the PUBLIC_*URL settings: a registrant's mailed link must leave this machine
            refusals.append(f"REGISTRANT_PAGES_URL points to this machine ({self.registrant_pages_url}): the mailed "
                            "verification links would not open anywhere else")
        return refusals

    @model_validator(mode="after")
    def _known_rules(self) -> Self:
        unknown = set(self.rule_weights) - set(DEFAULT_WEIGHTS)
        if unknown:
            raise ValueError(f"RULE_WEIGHTS names unknown rules: {', '.join(sorted(unknown))}")
        return self

    @property
    def registrant_base_url(self) -> str:
        return (self.registrant_pages_url or self.public_base_url).rstrip("/")
