"""The browser session: one encrypted, signed cookie (Fernet) holding the API token and the CSRF token.

No server-side store, so any console replica serves any request. The cookie is HttpOnly, SameSite=Strict and
Secure (outside local runs); it ends after SESSION_IDLE_MINUTES without a request and with the API token. A
visitor who has not signed in gets a session too: the sign-in form needs its CSRF token.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

from cryptography.fernet import Fernet, InvalidToken
from pydantic import BaseModel, Field, ValidationError
from starlette.responses import Response

from services.console.settings import ConsoleSettings
from shared.sealing import derive_key

COOKIE = "console_session"
LANGUAGES = ("en", "nl", "fr")


class PendingSignIn(BaseModel):
    """A right password waiting for its 2-step code: the registry's pending token (5 minutes, one session),
    the account it is for, and where to go once signed in. `door` is "user" or "staff"."""

    door: str
    token: str
    account_id: str
    next_path: str = "/"
    expires_at: datetime


class Session(BaseModel):
    csrf: str = Field(default_factory=lambda: secrets.token_urlsafe(32))
    language: str | None = None  # chosen by the user; None: the registrar's first language, else English
    seen_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    # signed in:
    token: str | None = None
    user_id: str | None = None
    registrar_id: str | None = None
    permissions: list[str] = Field(default_factory=list)
    expires_at: datetime | None = None  # the session's end (the registry's SESSION_HOURS from sign-in)
    # the registry's access tokens are short-lived JWTs: the console renews them with the refresh token
    refresh_token: str | None = None
    token_expires_at: datetime | None = None
    # one message for the next page (after a redirect): "ok" or "error" and the text
    flash: tuple[str, str] | None = None
    # between the two pages of a sign-in (password, then the 2-step code)
    pending: PendingSignIn | None = None

    @property
    def signed_in(self) -> bool:
        return self.token is not None

    @property
    def is_admin(self) -> bool:
        return self.signed_in and self.user_id == self.registrar_id

    def has(self, permission: str) -> bool:
        return permission in self.permissions

    def pending_for(self, door: str, now: datetime) -> PendingSignIn | None:
        """The sign-in of this door waiting for its code, unless it has expired."""
        pending = self.pending
        return pending if pending is not None and pending.door == door and pending.expires_at > now else None

    def sign_out(self) -> Session:
        """A fresh anonymous session (new CSRF token) that keeps only the language choice."""
        return Session(language=self.language)


class SessionCodec:
    def __init__(self, settings: ConsoleSettings) -> None:
        import base64

        key = base64.urlsafe_b64encode(derive_key(settings.internal_secret, "console-session-cookie"))
        self.fernet = Fernet(key)
        self.idle = timedelta(minutes=settings.session_idle_minutes)
        self.secure = settings.cookie_secure

    def load(self, cookie: str | None, now: datetime) -> Session:
        if not cookie:
            return Session()
        try:
            session = Session.model_validate_json(self.fernet.decrypt(cookie.encode()))
        except (InvalidToken, ValidationError, ValueError):
            return Session()
        if session.seen_at + self.idle < now or (session.expires_at is not None and session.expires_at <= now):
            return session.sign_out() if session.signed_in else Session(language=session.language)
        return session.model_copy(update={"seen_at": now})

    def store(self, session: Session, response: Response) -> None:
        value = self.fernet.encrypt(session.model_dump_json().encode()).decode()
        response.set_cookie(COOKIE, value, httponly=True, samesite="strict", secure=self.secure, path="/",
                            max_age=int(self.idle.total_seconds()))
