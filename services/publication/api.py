"""HTTP: RDAP under /rdap/ (RFC 7480: application/rdap+json, CORS open, 400/404/429 as RDAP error objects)
and the landing page for any overridden name (by the Host header). Translation only: the answers are built
by rdap.py and landing.py from what service.py reads."""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from services.publication import landing, rdap, rdap_models
from services.publication.names import InvalidName, host_name, to_a_label
from services.publication.ratelimit import client_address
from services.publication.service import publication_of
from shared.runtime import ServiceContext

CORS = {"Access-Control-Allow-Origin": "*"}


def _json(body: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(body, status_code=status, media_type=rdap.MEDIA_TYPE, headers=CORS | (headers or {}))


class RdapJSON(JSONResponse):
    media_type = rdap.MEDIA_TYPE


def _answers(what: str, *codes: int) -> dict[str, Any]:
    """The OpenAPI of an RDAP query: its answer's model, and the error objects it may answer instead."""
    why = {400: "a malformed query", 404: "nothing registered by that name", 429: "too many queries a minute "
           "from this address (Retry-After)"}
    return {"response_class": RdapJSON, "response_model": _MODELS[what], "description": _DOCS[what],
            "responses": {code: {"model": rdap_models.ErrorAnswer, "description": why[code]} for code in codes}}


_MODELS: dict[str, type[rdap_models.RdapModel]] = {
    "domain": rdap_models.DomainAnswer, "entity": rdap_models.EntityAnswer,
    "nameserver": rdap_models.NameserverAnswer, "help": rdap_models.HelpAnswer}
_DOCS = {"domain": "A domain name (U-label or A-label): status, events, registrar, the registrant redacted, "
                   "name servers and DS records.",
         "entity": "A registrar by its id, or a contact by its alias (its personal data redacted).",
         "nameserver": "A name server by its name, with the addresses the zone publishes for it.",
         "help": "What this server answers and its terms of use."}


def router(ctx: ServiceContext) -> APIRouter:
    r = APIRouter(tags=["rdap"])

    def base() -> str:
        return publication_of(ctx).settings.rdap_base_url

    def limited(request: Request) -> JSONResponse | None:
        pub = publication_of(ctx)
        peer = request.client.host if request.client else "?"
        address = client_address(peer, request.headers.getlist("x-forwarded-for"), pub.settings.rdap_trusted_proxies)
        allowed, retry = pub.rdap_limit.allow(address, time.monotonic())
        if allowed:
            return None
        pub.metrics.queries.labels("rdap", "limited").inc()
        return _json(rdap.error(429, "Too Many Requests",
                                f"at most {pub.settings.rdap_rate_per_minute} queries a minute per address"),
                     429, {"Retry-After": str(int(retry) + 1)})

    def outcome(status: int) -> None:
        labels = {200: "answered", 400: "invalid", 404: "not found"}
        publication_of(ctx).metrics.queries.labels("rdap", labels.get(status, str(status))).inc()

    def not_found(what: str) -> JSONResponse:
        outcome(404)
        return _json(rdap.error(404, "Not Found", f"{what} is not registered here"), 404)

    def bad(reason: str) -> JSONResponse:
        outcome(400)
        return _json(rdap.error(400, "Bad Request", reason), 400)

    @r.get("/rdap/domain/{name}", **_answers("domain", 400, 404, 429))
    async def domain(name: str, request: Request) -> Response:
        if (refused := limited(request)) is not None:
            return refused
        pub = publication_of(ctx)
        try:
            a_label = to_a_label(name, pub.settings.tlds)
        except InvalidName as exc:
            return bad(f"malformed domain name: {exc}")
        found = await pub.domain(a_label)
        if found is None:
            return not_found(f"domain {a_label}")
        outcome(200)
        return _json(rdap.domain(found, base()))

    @r.get("/rdap/entity/{handle}", **_answers("entity", 400, 404, 429))
    async def entity(handle: str, request: Request) -> Response:
        if (refused := limited(request)) is not None:
            return refused
        if not handle or len(handle) > 64 or not handle.replace("-", "").replace("_", "").replace(".", "").isalnum():
            return bad("malformed handle")
        pub = publication_of(ctx)
        registrar = await pub.registrar(handle)
        if registrar is not None:
            outcome(200)
            return _json(rdap.registrar_entity(rdap.registrar_of(registrar), base(), top=True))
        contact = await pub.contact(handle)
        if contact is not None:
            outcome(200)
            roles = ["registrant"] if contact.get("type") == "REGISTRANT" else ["technical"]
            return _json(rdap.contact_entity(handle, roles, base(), top=True))
        return not_found(f"entity {handle}")

    @r.get("/rdap/nameserver/{name}", **_answers("nameserver", 400, 404, 429))
    async def nameserver(name: str, request: Request) -> Response:
        if (refused := limited(request)) is not None:
            return refused
        try:
            host = host_name(name)
        except InvalidName as exc:
            return bad(f"malformed name server name: {exc}")
        addresses = await publication_of(ctx).nameserver(host)
        if addresses is None:
            return not_found(f"name server {host}")
        outcome(200)
        return _json(rdap.nameserver(host, addresses, base()))

    @r.get("/rdap/help", **_answers("help", 429))
    async def help_(request: Request) -> Response:
        if (refused := limited(request)) is not None:
            return refused
        outcome(200)
        return _json(rdap.help_(base()))

    # any other path under /rdap/ is a query this server does not answer: 400 (RFC 7480), not an operation
    @r.get("/rdap/{rest:path}", include_in_schema=False)
    async def unknown(rest: str) -> Response:
        return bad(f"not an RDAP query this server answers: {rest[:100]}")

    @r.get("/", include_in_schema=False)
    @r.get("/{path:path}", include_in_schema=False)
    async def landing_page(request: Request, path: str = "") -> Response:
        """Any overridden name that points here (its landing name servers resolve to this server)."""
        raw = (request.headers.get("host") or "").rsplit(":", 1)[0].lower().rstrip(".")
        raw = raw.removeprefix("www.")
        pub = publication_of(ctx)
        try:
            name = to_a_label(raw, pub.settings.tlds)
        except InvalidName:
            return Response("Not Found\n", status_code=404, media_type="text/plain")
        overridden, reason = await pub.overridden(name)
        if not overridden:
            return Response("Not Found\n", status_code=404, media_type="text/plain")
        return HTMLResponse(landing.page(name, reason))

    return r
