"""The electronic identification provider (itsme, eID, iDIN ... in production) as a pluggable adapter.

The service sends the registrant to `authorisation_url(state, callback_url)`; the provider sends it back to
the callback with the outcome, which `read_callback` checks (a signature, a back-channel call: the
provider's business) and turns into an EidResult. `state` is a single-use nonce the service keeps (as a
digest) on the case, so a callback can only finish the attempt it belongs to.

SimulatedEid stands in for a provider in local runs and tests: its authorisation page is served by this
service (/eid-simulator/authorize) and signs the outcome with a key derived from INTERNAL_SECRET. Anyone
holding a verification link can approve itself with it, so it runs only when EID_PROVIDER=simulator.

A real provider plugs in as a class with the two methods of EidProvider, its name added to
VerificationSettings.eid_provider and to provider_for() below, and its own settings (client id, secrets).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlencode

from pydantic import SecretStr

from services.verification.settings import VerificationSettings
from shared.sealing import derive_key


class InvalidCallback(ValueError):
    """The callback was not made by the provider (or was altered)."""


@dataclass(frozen=True)
class EidResult:
    state: str
    ok: bool
    subject: str | None = None  # the provider's stable identifier of the individual (counted per individual)
    reason: str | None = None


class EidProvider(Protocol):
    def authorisation_url(self, state: str, callback_url: str) -> str: ...

    def read_callback(self, params: Mapping[str, str]) -> EidResult: ...


class SimulatedEid:
    def __init__(self, secret: SecretStr, base_url: str) -> None:
        self._key = derive_key(secret, "eid-simulator")
        self.base_url = base_url.rstrip("/")

    def _signature(self, state: str, outcome: str, subject: str) -> str:
        return hmac.new(self._key, f"{state}|{outcome}|{subject}".encode(), hashlib.sha256).hexdigest()

    def authorisation_url(self, state: str, callback_url: str) -> str:
        return f"{self.base_url}/eid-simulator/authorize?" + urlencode({"state": state, "callback": callback_url})

    def callback_url(self, callback: str, state: str, outcome: str, subject: str) -> str:
        """Where the simulated provider sends the registrant back after it 'identified' `subject`."""
        query = {"state": state, "outcome": outcome, "subject": subject,
                 "sig": self._signature(state, outcome, subject)}
        return f"{callback}?{urlencode(query)}"

    def read_callback(self, params: Mapping[str, str]) -> EidResult:
        state, outcome, subject = params.get("state", ""), params.get("outcome", ""), params.get("subject", "")
        if not state or outcome not in ("success", "failure") \
                or not hmac.compare_digest(self._signature(state, outcome, subject), params.get("sig", "")):
            raise InvalidCallback("the callback is not signed by the provider")
        if outcome == "success" and subject:
            return EidResult(state, True, subject)
        return EidResult(state, False, None, params.get("reason") or "identification failed")


def provider_for(settings: VerificationSettings) -> EidProvider | None:
    """The provider EID_PROVIDER names; None when it names none (eID unavailable: documents only)."""
    if settings.eid_provider == "simulator":
        return SimulatedEid(settings.internal_secret, settings.public_base_url)
    return None
