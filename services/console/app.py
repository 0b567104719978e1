"""Wires the console: the session middleware, CSRF on every POST, the pages and the static files."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_fastapi_instrumentator import Instrumentator
from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import PlainTextResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from services.console import registrant, staff
from services.console.client import ApiRefused, Services, SignedOut
from services.console.i18n import translator
from services.console.pages import account, auth, registrations, reports
from services.console.session import COOKIE
from services.console.settings import ConsoleSettings
from services.console.web import TEMPLATES, Console, NeedsSignIn, Page, csrf_check, now, sign_in_path

SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
                               "frame-ancestors 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def build(settings: ConsoleSettings | None = None, transport: httpx.AsyncBaseTransport | None = None) -> FastAPI:
    settings = settings or ConsoleSettings()
    settings.refuse_development_values()  # fail closed: ENVIRONMENT=production with a development secret

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        await app.state.console.services.close()

    app = FastAPI(title="Registry console", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None,
                  dependencies=[Depends(csrf_check)])
    app.state.console = Console(settings, Services(settings, transport))

    @app.middleware("http")
    async def sessions(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        codec = app.state.console.codec
        request.state.session = codec.load(request.cookies.get(COOKIE), now())
        response = await call_next(request)
        if not request.url.path.startswith(("/static/", "/health", "/metrics")):
            codec.store(request.state.session, response)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    @app.exception_handler(NeedsSignIn)
    async def needs_sign_in(request: Request, exc: NeedsSignIn) -> Response:
        return RedirectResponse(sign_in_path(exc.next_path), status_code=303)

    @app.exception_handler(SignedOut)
    async def signed_out(request: Request, exc: SignedOut) -> Response:
        session = request.state.session.sign_out()
        ended = translator(session.language or "en")("Your session has ended: sign in again.")
        request.state.session = session.model_copy(update={"flash": ("error", ended)})
        return RedirectResponse(sign_in_path(request.url.path), status_code=303)

    @app.exception_handler(ApiRefused)
    async def refused(request: Request, exc: ApiRefused) -> Response:
        """A read the API refused (blocked registrar, missing permission, no such object): said in words."""
        page = Page(request)
        return await page.render("error.html", status_code=exc.status, title=page._("Refused"), message=exc.message,
                                 refused=exc)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        if request.url.path.startswith("/static/"):
            return PlainTextResponse(str(exc.detail), status_code=exc.status_code)
        page = Page(request)
        # the console's own refusals are catalogue texts (tests/unit/test_console_catalogue.py)
        return await page.render("error.html", status_code=exc.status_code, message=page._(str(exc.detail)))

    @app.get("/health/ready", include_in_schema=False)
    async def ready() -> PlainTextResponse:
        return PlainTextResponse("ok")

    @app.get("/health/live", include_in_schema=False)
    async def live() -> PlainTextResponse:
        return PlainTextResponse("ok")

    app.mount("/static", StaticFiles(directory=str(Path(__file__).parent / "static")), name="static")
    for module in (auth, account, registrations, reports):
        app.include_router(module.router())
    app.include_router(account.balance_router())
    staff.install(app)  # services/console/staff: the registry staff's pages
    registrant.install(app)  # services/console/registrant: the registrant's verification pages
    app.state.templates = TEMPLATES
    # /metrics: requests per route template and status (never the raw path: registrant links carry tokens),
    # in the console's own registry, as every service does (shared/runtime.py)
    registry = CollectorRegistry()
    Instrumentator(should_group_status_codes=False, excluded_handlers=["/metrics", "/static/.*"],
                   registry=registry).instrument(app)

    @app.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    return app
