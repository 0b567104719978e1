"""Sealed values: a secret that must cross the broker (the transfer code on its way to the registrant's
mail) travels encrypted and authenticated under a key derived from INTERNAL_SECRET, so a subscriber
without that secret, which is every subscriber outside the platform, cannot read it.

Fernet (AES-128-CBC with HMAC-SHA256) from `cryptography`; the key is derived per purpose with HKDF, so
the same secret never keys two uses.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from pydantic import SecretStr


class Unsealable(ValueError):
    """The sealed value was not made with this secret, or was altered."""


def derive_key(secret: SecretStr, purpose: str) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose.encode()).derive(
        secret.get_secret_value().encode()
    )


class Sealer:
    def __init__(self, secret: SecretStr, purpose: str) -> None:
        self._fernet = Fernet(base64.urlsafe_b64encode(derive_key(secret, f"seal:{purpose}")))
        self._digest_key = derive_key(secret, f"digest:{purpose}")

    def seal(self, value: str) -> str:
        return self._fernet.encrypt(value.encode()).decode()

    def open(self, sealed: str) -> str:
        try:
            return self._fernet.decrypt(sealed.encode()).decode()
        except InvalidToken as exc:
            raise Unsealable("sealed value cannot be opened with this secret") from exc

    def digest(self, value: str) -> str:
        """A keyed digest to compare a presented value against, without keeping the value readable."""
        return hmac.new(self._digest_key, value.encode(), hashlib.sha256).hexdigest()

    def matches(self, value: str, digest: str) -> bool:
        return hmac.compare_digest(self.digest(value), digest)
