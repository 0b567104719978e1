"""Sign in in two steps (page 1: user id and password; page 2: the 2-step code, once set up), sign out, the language switch, the home
page and the 2-step set-up with its QR code."""

# no `from __future__ import annotations`: FastAPI must resolve the dependencies in the signatures

import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any
from urllib.parse import quote

import httpx
import qrcode
import qrcode.image.svg
from fastapi import APIRouter
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from services.console.client import Api, ApiRefused, SignedOut
from services.console.session import LANGUAGES, PendingSignIn, Session
from services.console.web import Anyone, Page, SignedIn, now

log = logging.getLogger(__name__)
SESSION_HOURS = 8  # the registry's API token lasts this long (services/registry/users/accounts.py)
PENDING_SECONDS = 300  # a pending sign-in's life when the registry does not say (services/registry/users/pending.py)
USER = "user"


def _safe_next(path: str | None) -> str:
    """Only a path of this site: never an open redirect."""
    return path if path and path.startswith("/") and not path.startswith("//") and "\\" not in path else "/"


async def sign_in_with(page: Page, signed: dict[str, Any]) -> None:
    """The registry's login answer becomes the browser's session. A new session (and CSRF token) at each
    sign-in: a session id planted before cannot be ridden."""
    session = Session(language=page.session.language, token=signed["token"], user_id=signed["user_id"],
                      registrar_id=signed["registrar_id"], permissions=signed["permissions"],
                      expires_at=now() + timedelta(hours=SESSION_HOURS), refresh_token=signed.get("refresh_token"),
                      token_expires_at=now() + timedelta(seconds=int(signed.get("expires_in", 0))))
    if session.language is None:
        session.language = await _registrar_language(page.console.services.as_user(session.token))
    page.request.state.session = page.session = session


def login_refusal_in_words(exc: ApiRefused, _: Callable[[str], str]) -> str:
    if exc.status == 429:
        minutes = max(1, -(-(exc.retry_after or 900) // 60))
        if minutes == 1:
            return _("Too many failed sign-ins for this user from your address: sign-in is paused for 1 minute. "
                     "Wait, then try again.")
        return _("Too many failed sign-ins for this user from your address: sign-in is paused for {minutes} minutes. "
                 "Wait, then try again.").format(minutes=minutes)
    if exc.status == 401:
        return _("Wrong user ID or password.")
    return exc.message


def code_refusal_in_words(exc: ApiRefused, _: Callable[[str], str]) -> str:
    """Page 2's refusal: a wrong code (it counts toward the pause), or the pause itself."""
    if exc.status == 401:
        return _("Wrong 2-step code. Enter the code your authenticator app shows now.")
    if exc.status == 422:
        return _("The 2-step code is the 6 digits of your authenticator app, or a temporary key.")
    return login_refusal_in_words(exc, _)


def qr_svg(data: str) -> str:
    image = qrcode.make(data, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    svg: str = image.to_string(encoding="unicode")
    return svg.replace("<svg ", '<svg role="img" aria-label="QR code for your authenticator app" ', 1)


def router() -> APIRouter:
    api = APIRouter()

    @api.get("/", response_class=HTMLResponse)
    async def home(page: SignedIn) -> Response:
        return await page.render("home.html")

    @api.get("/login", response_class=HTMLResponse)
    async def login_form(page: Anyone, next: str | None = None) -> Response:
        if page.session.signed_in:
            return page.redirect(_safe_next(next))
        return await page.render("login.html", next=_safe_next(next), values={}, error=None)

    @api.post("/login", response_class=HTMLResponse)
    async def login(page: Anyone) -> Response:
        """Page 1: user id and password. A user with 2-step goes on to page 2 (the code)."""
        form = await page.form()
        user_id, password = str(form.get("user_id", "")).strip(), str(form.get("password", ""))
        next_path = _safe_next(str(form.get("next", "/")))
        if not user_id or not password:
            return await page.render("login.html", status_code=400, next=next_path, values={"user_id": user_id},
                                     error=page._("Enter your user ID and your password."))
        try:
            signed = await page.api.post("registry", "/api/login", {"user_id": user_id, "password": password})
        except ApiRefused as exc:
            if exc.two_step_required and exc.pending:
                page.request.state.session = page.session.model_copy(update={"pending": PendingSignIn(
                    door=USER, token=exc.pending, account_id=user_id, next_path=next_path,
                    expires_at=now() + timedelta(seconds=exc.pending_expires_in or PENDING_SECONDS))})
                return RedirectResponse("/login/code", status_code=303)
            return await page.render("login.html", status_code=exc.status, next=next_path,
                                     values={"user_id": user_id}, error=login_refusal_in_words(exc, page._))
        await sign_in_with(page, signed)
        return RedirectResponse(next_path, status_code=303)

    @api.get("/login/code", response_class=HTMLResponse)
    async def code_form(page: Anyone) -> Response:
        if page.session.signed_in:
            return page.redirect("/")
        pending = page.session.pending_for(USER, now())
        if pending is None:
            return page.redirect("/login", page._("Your sign-in has expired: enter your user ID and password again."),
                                 "error")
        return await page.render("login_code.html", who=pending.account_id, error=None)

    @api.post("/login/code", response_class=HTMLResponse)
    async def login_code(page: Anyone) -> Response:
        """Page 2: the 2-step code (or a temporary key) for the password of page 1."""
        pending = page.session.pending_for(USER, now())
        if pending is None:
            return page.redirect("/login", page._("Your sign-in has expired: enter your user ID and password again."),
                                 "error")
        code = "".join(str((await page.form()).get("code", "")).split())
        if not code:
            return await page.render("login_code.html", status_code=400, who=pending.account_id,
                                     error=page._("Enter the 2-step code of your authenticator app."))
        try:
            signed = await page.api.post("registry", "/api/login/code", {"pending": pending.token, "code": code})
        except ApiRefused as exc:
            if exc.sign_in_again:
                page.session = page.session.model_copy(update={"pending": None})
                return page.redirect("/login", page._("Your sign-in has expired: enter your user ID and password "
                                                      "again."), "error")
            return await page.render("login_code.html", status_code=exc.status, who=pending.account_id,
                                     error=code_refusal_in_words(exc, page._))
        await sign_in_with(page, signed)
        return RedirectResponse(pending.next_path, status_code=303)

    @api.post("/logout")
    async def logout(page: Anyone) -> Response:
        if page.session.signed_in:
            try:
                await page.api.post("registry", "/api/logout")
            except (ApiRefused, SignedOut, httpx.HTTPError) as exc:  # signed out here whatever the API says
                log.info("logout at the registry failed: %s", exc)
        page.request.state.session = page.session.sign_out()
        return RedirectResponse("/login", status_code=303)

    @api.post("/language")
    async def language(page: Anyone) -> Response:
        form = await page.form()
        chosen = str(form.get("language", ""))
        if chosen in LANGUAGES:
            page.request.state.session = page.session.model_copy(update={"language": chosen})
        return RedirectResponse(_safe_next(str(form.get("next", "/"))), status_code=303)

    @api.get("/registrar/two-step", response_class=HTMLResponse)
    async def two_step(page: SignedIn) -> Response:
        return await page.render("two_step.html", qr=None, secret=None)

    @api.post("/registrar/two-step", response_class=HTMLResponse)
    async def set_up_two_step(page: SignedIn) -> Response:
        try:
            secret = (await page.api.post("registry", "/api/registrar/two-step"))["totp_secret"]
        except ApiRefused as exc:
            return await page.render("two_step.html", status_code=exc.status, qr=None, secret=None, refused=exc)
        issuer = page.console.settings.issuer
        uri = (f"otpauth://totp/{quote(issuer)}:{quote(page.session.user_id or '')}?secret={secret}"
               f"&issuer={quote(issuer)}&algorithm=SHA1&digits=6&period=30")
        return await page.render("two_step.html", qr=qr_svg(uri), secret=secret)

    return api


async def _registrar_language(api: Api) -> str | None:
    """The registrar's first language: the console's default until the user chooses."""
    try:
        account = await api.get("registry", "/api/registrar")
    except (ApiRefused, httpx.HTTPError):
        return None
    languages = (account.get("profile") or {}).get("languages") or []
    return languages[0] if languages and languages[0] in LANGUAGES else None
