from typing import Annotated

from pydantic import Field, SecretStr

from shared.auth import DEVELOPMENT_SIGNING_KEY
from shared.events.money import TransactionKind
from shared.settings import ServiceSettings


class RegistrySettings(ServiceSettings):
    service_name: str = "registry"
    http_port: int = 8001
    # the products (TLDs) this registry serves; a registrar registers only in those it is accredited for
    tlds: tuple[str, ...] = ("be", "vlaanderen", "brussels")
    # registry staff authenticate to /api/operator with this bearer token; empty disables the operator API
    operator_token: SecretStr = SecretStr("")
    # the Ed25519 keys that sign session tokens, newest first (python -m shared.auth new-key makes one): the
    # newest signs, all are published at /.well-known/jwks.json. Only the registry holds them.
    token_signing_keys: list[SecretStr] = Field(default_factory=lambda: [SecretStr(DEVELOPMENT_SIGNING_KEY)],
                                                min_length=1)
    # access tokens are short-lived; the refresh token (rotated at each use) lasts the session
    access_token_minutes: int = Field(default=15, ge=1, le=24 * 60)
    session_hours: int = Field(default=8, ge=1, le=24 * 30)
    # the stream registry.events.history keeps every event this many days for new subscribers (0: no stream)
    event_history_days: int = Field(default=7, ge=0)
    # prices in euro cents (DNS Belgium's published fees)
    prices: dict[TransactionKind, int] = Field(
        default_factory=lambda: {
            TransactionKind.CREATE: 400,
            TransactionKind.RENEWAL: 400,
            TransactionKind.TRANSFER: 400,
            TransactionKind.REACTIVATION: 1000,
            TransactionKind.TRANSFER_FROM_QUARANTINE: 4000,
        }
    )
    # balance levels (cents) whose downward crossing publishes payment.watermark_reached
    watermarks_cents: tuple[int, ...] = (1_000_000, 500_000, 250_000, 100_000, 50_000, 25_000)
    minimum_prepayment_cents: int = 250_000
    # what a domain publishes while its name servers are overridden (the registry's landing page)
    override_name_servers: tuple[str, ...] = ("ns1.landing.registry.invalid", "ns2.landing.registry.invalid")
    transfer_code_days: int = Field(default=7, ge=1)
    quarantine_days: int = Field(default=40, ge=1)
    # how often the lifecycle job moves due deletions into quarantine and releases ended quarantines
    lifecycle_interval_seconds: float = Field(default=60.0, gt=0)
    # how often the renewal job looks for domains whose anniversary fell in a past month (Brussels time);
    # it renews them on its first run after the month's end, so this bounds the delay past midnight
    renewal_interval_seconds: float = Field(default=900.0, gt=0)
    # the EPP server (RFC 5734 over TLS) runs inside the registry process, beside the HTTP API
    epp_enabled: bool = True
    epp_host: str = "0.0.0.0"
    epp_port: int = Field(default=7700, ge=0, le=65535, description="IANA's is 700; 0 picks a free port (tests)")
    epp_cert_file: str = Field(default="", description="PEM certificate; empty: a development one in EPP_CERT_DIR")
    epp_key_file: str = ""
    epp_cert_dir: str = ".data/epp"
    epp_server_id: str = "EPP server of the registry platform"
    epp_idle_timeout_seconds: float = Field(default=240.0, gt=0)
    epp_max_sessions_per_registrar: int = Field(default=4, ge=1)
    # a session slot's lease in MongoDB, renewed every third of it: how long a crashed replica's sessions still
    # count against their registrars' cap
    epp_session_lease_seconds: float = Field(default=30.0, gt=0)
    epp_max_frame_bytes: int = Field(default=65_536, ge=1_024)
    # how long an EPP session reuses its registrar's standing (status, block, products) before reading it again;
    # a change another replica makes reaches the session's commands within it (registrars/standing.py)
    epp_standing_seconds: float = Field(default=1.0, ge=0)
    # EPP commands that change something (create, update, ...) running at once in this process; more wait their turn
    # so that checks and infos do not queue behind them (epp/admission.py); 0: no limit. 10, one create batch's
    # worth (registrars/batches.py MAX_BATCH): 4 kept reads faster but cut one registrar's creates by a third
    epp_writes_in_flight: int = Field(default=10, ge=0)
    # per registrar, per 60 seconds (digest 7.4)
    # per registrar and 60 s (digest 7.4): check-domain v1.0 360, check-domain v2.0 60 (its answer costs more),
    # info 180, poll 60; contact and group checks count as checks
    # (each counted command's time is kept in MongoDB until it leaves the window: at most 10,000 per class; a class
    # left out is not limited and costs no round trip)
    epp_rate_limits: dict[str, Annotated[int, Field(ge=1, le=10_000)]] = Field(
        default_factory=lambda: {"info": 180, "check": 360, "check-v2": 60, "poll": 60})
    # make run seeds a demo registrar so a person can try the platform at once (README: demo registrar)
    seed_demo_registrar: bool = False
    demo_registrar_id: str = Field(default="a100001", pattern=r"^[a-z0-9][a-z0-9-]{2,31}$")
    demo_registrar_name: str = "Demo Registrar BV"
    demo_web_password: SecretStr = SecretStr("Demo-Web-2026")
    demo_epp_password: SecretStr = SecretStr("Demo-Epp-2026")

    def production_refusals(self) -> list[str]:
        refusals = super().production_refusals()
        if self.seed_demo_registrar:
            refusals.append("SEED_DEMO_REGISTRAR is true: the demo registrar's passwords are published")
        if self.epp_enabled and not self.epp_cert_file:
            refusals.append("EPP_CERT_FILE is empty: EPP would serve a self-signed development certificate")
        return refusals
