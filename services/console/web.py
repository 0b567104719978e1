"""What every page shares: the session, the API client as the signed-in user, CSRF on every POST, the
layout's data (menu, block banner, language) and redirects with a one-time message."""

# no `from __future__ import annotations`: FastAPI must resolve the dependencies in the signatures

import asyncio
import secrets
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

import httpx
from fastapi import Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates
from starlette.datastructures import FormData

from services.console.client import Api, ApiRefused, Services, SignedOut
from services.console.i18n import LANGUAGE_NAMES, translator
from services.console.menu import MY_REGISTRATIONS, can_change, menu
from services.console.session import Session, SessionCodec
from services.console.settings import ConsoleSettings

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
BRUSSELS = ZoneInfo("Europe/Brussels")


def cet(value: str | datetime | None) -> str:
    """A time as the seed shows it: Brussels time (CET, or CEST in summer), named."""
    if not value:
        return ""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(BRUSSELS).strftime("%d/%m/%Y %H:%M:%S %Z")


TEMPLATES.env.filters["cet"] = cet


class NeedsSignIn(Exception):
    def __init__(self, next_path: str) -> None:
        self.next_path = next_path


class Console:
    """The process's shared parts (app.state.console)."""

    def __init__(self, settings: ConsoleSettings, services: Services) -> None:
        self.settings = settings
        self.services = services
        self.codec = SessionCodec(settings)


def console_of(request: Request) -> Console:
    return request.app.state.console  # type: ignore[no-any-return]


def session_of(request: Request) -> Session:
    return request.state.session  # type: ignore[no-any-return]


async def csrf_check(request: Request) -> None:
    """Every POST carries the session's CSRF token in its form (field `csrf`)."""
    if request.method != "POST":
        return
    form = await request.form()
    sent = form.get("csrf")
    if not isinstance(sent, str) or not secrets.compare_digest(sent, session_of(request).csrf):
        raise HTTPException(403, "The form has expired or did not come from this site: reload the page and try again.")


class Page:
    """One request's view of the console: who, in which language, and how to answer."""

    def __init__(self, request: Request, prefetch_banner: bool = False) -> None:
        self.request = request
        self.console = console_of(request)
        self.session = session_of(request)
        self.correlation_id = uuid.uuid4().hex
        self.client_address = request.client.host if request.client else None
        self.api: Api = self.console.services.as_user(self.session.token, self.correlation_id, self.client_address)
        self.language = self.session.language or "en"
        self._ = translator(self.language)
        # the block banner's call runs beside the page's own calls, not after them
        self._banner: asyncio.Task[dict[str, Any] | None] | None = (
            asyncio.create_task(self._fetch_banner()) if prefetch_banner and self.session.signed_in else None)

    async def form(self) -> FormData:
        return await self.request.form()

    def redirect(self, path: str, message: str | None = None, kind: str = "ok") -> RedirectResponse:
        if message:
            self.request.state.session = self.session = self.session.model_copy(update={"flash": (kind, message)})
        return RedirectResponse(path, status_code=303)

    async def block_banner(self) -> dict[str, Any] | None:
        if self._banner is None:
            self._banner = asyncio.create_task(self._fetch_banner())
        return await self._banner

    async def _fetch_banner(self) -> dict[str, Any] | None:
        """The hitpoints block, shown on every screen while it lasts (seed 000)."""
        if not self.session.has(MY_REGISTRATIONS):
            return None
        try:
            standing = await self.api.get("hitpoints", "/api/hitpoints")
        except (ApiRefused, SignedOut, httpx.HTTPError, OSError):  # the page itself says what is wrong
            return None
        return standing if standing and standing.get("blocked") else None

    async def render(self, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
        flash = self.session.flash
        if flash:
            self.request.state.session = self.session = self.session.model_copy(update={"flash": None})
        signed_in = self.session.signed_in
        return TEMPLATES.TemplateResponse(self.request, template, status_code=status_code, context={
            "_": self._, "lang": self.language, "languages": LANGUAGE_NAMES, "s": self.session,
            "csrf": self.session.csrf, "flash": flash, "menu": menu(self.session) if signed_in else [],
            "can_change": can_change(self.session), "block": await self.block_banner() if signed_in else None,
            "path": self.request.url.path, **context,
        })


# renew the access token this long before it expires, so no call of the page meets an expired one
RENEW_BEFORE = timedelta(seconds=60)


async def renew_token(request: Request) -> None:
    """The registry's access tokens live minutes (a JWT each); the session lasts hours. Renew the token with
    the refresh token (used once: the registry answers a new one) when it is about to expire."""
    session = session_of(request)
    if session.refresh_token is None or session.token_expires_at is None or session.token_expires_at - now() > RENEW_BEFORE:
        return
    console: Console = request.app.state.console
    try:
        renewed = await console.services.as_user(None).post("registry", "/api/token/refresh",
                                                            {"refresh_token": session.refresh_token})
    except ApiRefused as exc:  # the session ended at the registry (logout elsewhere, password changed)
        raise NeedsSignIn(request.url.path) from exc
    request.state.session = session.model_copy(update={
        "token": renewed["token"], "refresh_token": renewed["refresh_token"], "permissions": renewed["permissions"],
        "token_expires_at": now() + timedelta(seconds=int(renewed["expires_in"]))})


async def signed_in_page(request: Request) -> Page:
    if not session_of(request).signed_in:
        raise NeedsSignIn(request.url.path + (f"?{request.url.query}" if request.url.query else ""))
    await renew_token(request)
    return Page(request, prefetch_banner=request.method == "GET")


async def any_page(request: Request) -> Page:
    return Page(request)


SignedIn = Annotated[Page, Depends(signed_in_page)]
Anyone = Annotated[Page, Depends(any_page)]


def sign_in_path(next_path: str) -> str:
    return "/login?next=" + quote(next_path, safe="/")


def now() -> datetime:
    return datetime.now(UTC)
