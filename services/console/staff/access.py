"""Staff sign-in in two steps (staff id and password, then the 2-step code, always), sign-out, the staff home, and the dependency
every staff page uses: a signed-in staff session of the right role, else the staff sign-in page."""

# no `from __future__ import annotations`: FastAPI must resolve the dependencies in the signatures

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

import httpx
from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from services.console.client import ApiRefused, Service, SignedOut
from services.console.pages.auth import PENDING_SECONDS
from services.console.session import PendingSignIn, Session
from services.console.templating import add_templates
from services.console.staff.texts import translator as staff_translator
from services.console.web import Page, now

log = logging.getLogger(__name__)
ROLE_PREFIX = "staff:"  # the staff role travels as this permission (shared/staff.py)
OPERATOR, SUPPORT = "operator", "support"
STAFF = "staff"  # the door of a pending sign-in (services/console/session.py)

add_templates(Path(__file__).parent / "templates")


def staff_role(session: Session) -> str | None:
    return next((p.removeprefix(ROLE_PREFIX) for p in session.permissions if p.startswith(ROLE_PREFIX)), None)


class StaffSignIn(Exception):
    def __init__(self, next_path: str) -> None:
        self.next_path = next_path


class StaffPage(Page):
    """A staff page: the session is a staff member's, the calls carry their token."""

    def __init__(self, request: Request) -> None:
        super().__init__(request)
        self._ = staff_translator(self.language)  # the staff pages' own words, then the console's

    @property
    def role(self) -> str:
        return staff_role(self.session) or ""

    @property
    def is_operator(self) -> bool:
        return self.role == OPERATOR

    def require_operator(self) -> None:
        if not self.is_operator:
            raise HTTPException(403, "Only registry operators may do this.")

    async def found(self, service: Service, path: str) -> Any:
        """The object at `path`, or None when the service answers 404."""
        try:
            return await self.api.get(service, path)
        except ApiRefused as exc:
            if exc.status != 404:
                raise
            return None

    async def show(self, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
        return await self.render(f"staff/{template}", status_code=status_code, role=self.role, brand=self._("Registry staff"),
                                 logout_path="/staff/logout", **context)


def staff_page(request: Request) -> StaffPage:
    session: Session = request.state.session
    if not session.signed_in or staff_role(session) is None:
        raise StaffSignIn(request.url.path + (f"?{request.url.query}" if request.url.query else ""))
    return StaffPage(request)


Staff = Annotated[StaffPage, Depends(staff_page)]


def _safe_next(path: str | None) -> str:
    ok = path and path.startswith("/staff") and not path.startswith("//") and "\\" not in path
    return path if ok else "/staff"  # type: ignore[return-value]


def _refusal_in_words(exc: ApiRefused, _: Callable[[str], str]) -> str:
    if exc.status == 429:
        minutes = max(1, -(-(exc.retry_after or 900) // 60))
        return _("Too many failed sign-ins from your address: sign-in is paused for {minutes} minutes.").format(
            minutes=minutes)
    if exc.status == 401:
        return _("Wrong staff ID or password (or the account is disabled).")
    return _("The 2-step code is 6 digits.") if exc.status == 422 else exc.message


def _signed_in(request: Request, page: StaffPage, signed: dict[str, Any], next_path: str) -> Response:
    # a fresh session (new CSRF token) at sign-in
    request.state.session = Session(language=page.session.language, token=signed["token"],
                                    user_id=signed["staff_id"], registrar_id=None,
                                    permissions=[f"{ROLE_PREFIX}{signed['role']}"],
                                    expires_at=datetime.fromisoformat(signed["expires_at"]))
    return RedirectResponse(next_path, status_code=303)


def install(app: FastAPI) -> None:
    @app.exception_handler(StaffSignIn)
    async def to_staff_sign_in(request: Request, exc: StaffSignIn) -> Response:
        return RedirectResponse("/staff/login?next=" + quote(exc.next_path, safe="/"), status_code=303)


def router() -> APIRouter:
    api = APIRouter(prefix="/staff")

    @api.get("/login", response_class=HTMLResponse)
    async def sign_in_form(request: Request, next: str | None = None) -> Response:
        page = StaffPage(request)
        if staff_role(page.session):
            return page.redirect(_safe_next(next))
        return await page.show("login.html", next=_safe_next(next), values={}, error=None)

    @api.post("/login", response_class=HTMLResponse)
    async def sign_in(request: Request) -> Response:
        """Page 1: staff id and password; page 2 asks for the 2-step code."""
        page = StaffPage(request)
        form = await page.form()
        staff_id, password = str(form.get("staff_id", "")).strip(), str(form.get("password", ""))
        next_path = _safe_next(str(form.get("next", "")))
        if not staff_id or not password:
            return await page.show("login.html", status_code=400, next=next_path, values={"staff_id": staff_id},
                                   error=page._("Enter your staff ID and your password."))
        try:
            signed = await page.api.post("registry", "/api/staff/login", {"staff_id": staff_id, "password": password})
        except ApiRefused as exc:
            if exc.two_step_required and exc.pending:
                request.state.session = page.session.model_copy(update={"pending": PendingSignIn(
                    door=STAFF, token=exc.pending, account_id=staff_id, next_path=next_path,
                    expires_at=now() + timedelta(seconds=exc.pending_expires_in or PENDING_SECONDS))})
                return RedirectResponse("/staff/login/code", status_code=303)
            return await page.show("login.html", status_code=exc.status, next=next_path,
                                   values={"staff_id": staff_id}, error=_refusal_in_words(exc, page._))
        return _signed_in(request, page, signed, next_path)

    @api.get("/login/code", response_class=HTMLResponse)
    async def code_form(request: Request) -> Response:
        page = StaffPage(request)
        if staff_role(page.session):
            return page.redirect("/staff")
        pending = page.session.pending_for(STAFF, now())
        if pending is None:
            return page.redirect("/staff/login", page._("Your sign-in has expired: enter your staff ID and password "
                                                        "again."), "error")
        return await page.show("login_code.html", who=pending.account_id, error=None)

    @api.post("/login/code", response_class=HTMLResponse)
    async def sign_in_code(request: Request) -> Response:
        """Page 2: the 2-step code for the password of page 1."""
        page = StaffPage(request)
        pending = page.session.pending_for(STAFF, now())
        if pending is None:
            return page.redirect("/staff/login", page._("Your sign-in has expired: enter your staff ID and password "
                                                        "again."), "error")
        code = "".join(str((await page.form()).get("code", "")).split())
        if not code:
            return await page.show("login_code.html", status_code=400, who=pending.account_id,
                                   error=page._("Enter the 2-step code of your authenticator app."))
        try:
            signed = await page.api.post("registry", "/api/staff/login/code", {"pending": pending.token, "code": code})
        except ApiRefused as exc:
            if exc.sign_in_again:
                page.session = page.session.model_copy(update={"pending": None})
                return page.redirect("/staff/login", page._("Your sign-in has expired: enter your staff ID and "
                                                            "password again."), "error")
            error = page._("Wrong 2-step code. Enter the code your authenticator app shows now.") \
                if exc.status == 401 else _refusal_in_words(exc, page._)
            return await page.show("login_code.html", status_code=exc.status, who=pending.account_id, error=error)
        return _signed_in(request, page, signed, pending.next_path)

    @api.post("/logout")
    async def sign_out(request: Request) -> Response:
        page = StaffPage(request)
        if page.session.signed_in:
            try:
                await page.api.post("registry", "/api/staff/logout")
            except (ApiRefused, SignedOut, httpx.HTTPError) as exc:  # signed out here whatever the API says
                log.info("staff sign-out at the registry failed: %s", exc)
        request.state.session = page.session.sign_out()
        return RedirectResponse("/staff/login", status_code=303)

    @api.get("", response_class=HTMLResponse)
    async def home(page: Staff) -> Response:
        return await page.show("home.html")

    return api
