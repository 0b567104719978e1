"""Sealed values: a secret that must cross the broker (the transfer code on its way to the registrant's
mail) travels encrypted and authenticated under a key derived from INTERNAL_SECRET, so a subscriber
without that secret, which is every subscriber outside the platform, cannot read it.

Fernet (AES-128-CBC with HMAC-SHA256) from `cryptography`; the key is derived per purpose with HKDF, so
the same secret never keys two uses. The secret rotates: a Sealer takes the current secret and the previous
ones (INTERNAL_SECRET, then INTERNAL_SECRET_PREVIOUS, newest first); it seals and digests with the newest,
and opens (MultiFernet) and matches with any, so values sealed before a rotation still open.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Sequence

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
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
    def __init__(self, secret: SecretStr | Sequence[SecretStr], purpose: str) -> None:
        secrets = [secret] if isinstance(secret, SecretStr) else list(secret)
        if not secrets:
            raise ValueError("a Sealer needs at least one secret")
        self._fernet = MultiFernet([Fernet(base64.urlsafe_b64encode(derive_key(s, f"seal:{purpose}"))) for s in secrets])
        self._digest_keys = [derive_key(s, f"digest:{purpose}") for s in secrets]

    def seal(self, value: str) -> str:
        return self._fernet.encrypt(value.encode()).decode()

    def open(self, sealed: str) -> str:
        try:
            return self._fernet.decrypt(sealed.encode()).decode()
        except InvalidToken as exc:
            raise Unsealable("sealed value cannot be opened with this secret") from exc

    def digest(self, value: str) -> str:
        """A keyed digest to compare a presented value against, without keeping the value readable."""
        return self._digest(self._digest_keys[0], value)

    def digests(self, value: str) -> list[str]:
        """The value's digest under each secret, newest first: look a stored digest up with any of them."""
        return [self._digest(key, value) for key in self._digest_keys]

    def matches(self, value: str, digest: str) -> bool:
        return any(hmac.compare_digest(self._digest(key, value), digest) for key in self._digest_keys)

    def reseal(self, sealed: str) -> str:
        """The value sealed under the newest secret (to re-encrypt stored values after a rotation)."""
        try:
            return self._fernet.rotate(sealed.encode()).decode()
        except InvalidToken as exc:
            raise Unsealable("sealed value cannot be opened with this secret") from exc

    @staticmethod
    def _digest(key: bytes, value: str) -> str:
        return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()
