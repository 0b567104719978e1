"""The registrant's verification pages over the verification service's registrant API."""

# no `from __future__ import annotations`: FastAPI must resolve the dependencies in the signatures

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Path as PathParam, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic_settings import BaseSettings, SettingsConfigDict
from starlette.datastructures import UploadFile

from services.console.client import ApiRefused
from services.console.registrant.texts import refusal_in_words, translator
from services.console.session import LANGUAGES
from services.console.templating import add_templates
from services.console.web import Page

add_templates(Path(__file__).parent / "templates")

TOKEN = Annotated[str, PathParam(min_length=10, max_length=100, pattern=r"^[A-Za-z0-9_-]+$")]
# the eID provider sends the registrant back without the link's token: this cookie (Lax, so that it comes along
# on that top-level return from another site) takes it there, for the "back to the verification page" link
RETURN_COOKIE = "verify_return"


class SupportContact(BaseSettings):
    """How registrants reach support (SUPPORT_EMAIL, SUPPORT_PHONE)."""

    model_config = SettingsConfigDict(env_prefix="SUPPORT_", extra="ignore")
    email: str = "support@registry.example"
    phone: str = ""


class RegistrantPage(Page):
    """A registrant's page: the language is the visitor's choice, else the contact's, else English."""

    def speak(self, contact_language: str | None) -> None:
        chosen = self.session.language or (contact_language if contact_language in LANGUAGES else None)
        self.language = chosen or "en"
        self._ = translator(self.language)

    async def refused(self, exc: ApiRefused, view: dict[str, Any], token: str) -> HTMLResponse:
        """The verification page again, with the refusal in the registrant's language (texts.REFUSALS)."""
        # path: where the language switch comes back to (this answer's own address takes a POST only)
        return await self.show("verify.html", status_code=exc.status, v=view, token=token, refused=exc,
                               refusal=refusal_in_words(exc.kind, exc.params, exc.message, self._), uploaded=False,
                               via_eid=False, path=f"/verify/{token}")

    async def show(self, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
        return await self.render(f"registrant/{template}", status_code=status_code, support=SupportContact(),
                                 brand=self._("Registrant verification"), lang=self.language, **context)


def router() -> APIRouter:
    api = APIRouter(prefix="/verify")

    async def case(page: RegistrantPage, token: str) -> dict[str, Any] | None:
        try:
            view: dict[str, Any] = await page.api.get("verification", f"/verify/{token}")
        except ApiRefused as exc:
            if exc.status == 404:
                return None
            raise
        page.speak(view.get("language"))
        return view

    async def not_found(page: RegistrantPage) -> HTMLResponse:
        page.speak(None)
        return await page.show("gone.html", status_code=404)

    # declared before /{token}: "eid" is not a token
    @api.get("/eid/callback", response_class=HTMLResponse)
    async def eid_return(request: Request) -> Response:
        """Where the eID provider sends the registrant back: the outcome of the identification."""
        page = RegistrantPage(request)
        remembered = request.cookies.get(RETURN_COOKIE, "")
        token, _, language = remembered.partition("|")
        try:
            view = await page.api.get("verification", "/verify/eid/callback", **dict(request.query_params))
        except ApiRefused:
            return await not_found(page)
        page.speak(view.get("language") or language or None)
        return await page.show("outcome.html", v=view, token=token if token.replace("-", "").replace("_", "").isalnum()
                               else None, via_eid=True)

    @api.get("/{token}", response_class=HTMLResponse)
    async def verification(token: TOKEN, request: Request, uploaded: bool = False) -> Response:
        page = RegistrantPage(request)
        view = await case(page, token)
        if view is None:
            return await not_found(page)
        template = "verify.html" if view["can_upload"] or view["can_start_eid"] else "outcome.html"
        return await page.show(template, v=view, token=token, refused=None, uploaded=uploaded, via_eid=False)

    @api.post("/{token}/eid", response_class=HTMLResponse)
    async def start_eid(token: TOKEN, request: Request) -> Response:
        """Start the identification (one attempt), then a link to the provider: a form may only post to this
        site (CSP form-action), so the registrant follows a link there."""
        page = RegistrantPage(request)
        view = await case(page, token)
        if view is None:
            return await not_found(page)
        try:
            started = await page.api.post("verification", f"/verify/{token}/eid")
        except ApiRefused as exc:
            return await page.refused(exc, view, token)
        response = await page.show("eid_go.html", v=view, token=token, redirect_url=started["redirect_url"])
        response.set_cookie(RETURN_COOKIE, f"{token}|{page.language}", max_age=3600, httponly=True, samesite="lax",
                            secure=page.console.settings.cookie_secure, path="/verify")
        return response

    @api.post("/{token}/documents", response_class=HTMLResponse)
    async def upload(token: TOKEN, request: Request) -> Response:
        page = RegistrantPage(request)
        view = await case(page, token)
        if view is None:
            return await not_found(page)
        form = await page.form()
        files = [f for f in form.getlist("documents") if isinstance(f, UploadFile) and f.filename]
        try:
            if not files:
                raise ApiRefused(400, "no document in the upload", kind="no_document")
            parts = [("documents", (f.filename or "document", await f.read(), f.content_type or "")) for f in files]
            await page.api.raw("verification", "POST", f"/verify/{token}/documents", files=parts)
        except ApiRefused as exc:
            return await page.refused(exc, view, token)
        return RedirectResponse(f"/verify/{token}?uploaded=true", status_code=303)

    return api
