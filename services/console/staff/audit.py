"""Operators' pages: the audit trail (the five services' staff actions, merged by time) and the staff accounts
(create one with its 2-step QR code shown once, disable, reset the 2-step secret)."""

# no `from __future__ import annotations`: FastAPI must resolve the dependencies in the signatures

import asyncio
import json
from typing import Annotated, Any

from fastapi import APIRouter, Path
from fastapi.responses import HTMLResponse, Response

from services.console.client import ApiRefused, Service
from services.console.pages.auth import qr_svg
from services.console.staff.access import Staff
from services.console.staff.registrars import act

AUDITED: tuple[Service, ...] = ("registry", "hitpoints", "verification", "notifications", "reporting")
STAFF_ID = Annotated[str, Path(pattern=r"^[a-z][a-z0-9._-]{2,31}$")]


def shown(value: Any) -> str:
    """A request or an object of the trail, as compact text."""
    if value is None:
        return ""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def changes(before: dict[str, Any] | None, after: dict[str, Any] | None) -> list[tuple[str, str, str]]:
    """The fields that differ between before and after (all of them when one side is missing)."""
    before, after = before or {}, after or {}
    keys = sorted(set(before) | set(after))
    return [(k, shown(before.get(k)), shown(after.get(k))) for k in keys if before.get(k) != after.get(k)]


def router() -> APIRouter:
    api = APIRouter(prefix="/staff")

    @api.get("/audit", response_class=HTMLResponse)
    async def audit(page: Staff, actor: str | None = None, subject: str | None = None) -> Response:
        page.require_operator()
        params = {"actor": actor or None, "subject": subject or None, "limit": 200}

        async def trail(service: Service) -> list[dict[str, Any]]:
            try:
                return await page.api.get(service, "/api/operator/audit", **params)  # type: ignore[no-any-return]
            except (ApiRefused, OSError):
                return [{"service": service, "at": "", "actor": "", "action": "(this service's trail did not answer)",
                         "outcome": "unknown", "status": 0}]

        entries = [e for rows in await asyncio.gather(*(trail(s) for s in AUDITED)) for e in rows]
        entries.sort(key=lambda e: e.get("at") or "", reverse=True)
        for e in entries:
            e["changes"] = changes(e.get("before"), e.get("after"))
            e["request_text"] = shown(e.get("request"))
        return await page.show("audit.html", entries=entries[:200], actor=actor or "", subject=subject or "")

    @api.get("/accounts", response_class=HTMLResponse)
    async def accounts(page: Staff) -> Response:
        page.require_operator()
        rows = await page.api.get("registry", "/api/operator/staff")
        return await page.show("accounts.html", rows=rows, made=None, qr=None, refused=None, values={})

    async def with_secret(page: Any, made: dict[str, Any], what: str) -> Response:
        rows = await page.api.get("registry", "/api/operator/staff")
        return await page.show("accounts.html", rows=rows, made=made, qr=qr_svg(made["otpauth_uri"]), what=what,
                               refused=None, values={})

    @api.post("/accounts", response_class=HTMLResponse)
    async def create(page: Staff) -> Response:
        page.require_operator()
        form = await page.form()
        values = {k: str(form.get(k, "")).strip() for k in ("staff_id", "name", "role")}
        try:
            made = await page.api.post("registry", "/api/operator/staff",
                                       {**values, "password": str(form.get("password", ""))})
        except ApiRefused as exc:
            rows = await page.api.get("registry", "/api/operator/staff")
            return await page.show("accounts.html", status_code=exc.status, rows=rows, made=None, qr=None,
                                   refused=exc, values=values)
        return await with_secret(page, made, page._("Account {staff} created.").format(staff=made["staff_id"]))

    @api.post("/accounts/{staff_id}/active")
    async def active(staff_id: STAFF_ID, page: Staff) -> Response:
        page.require_operator()
        on = (await page.form()).get("active") == "true"
        return await act(page, "/staff/accounts", (page._("{staff} enabled.") if on else page._("{staff} disabled.")).format(staff=staff_id),
                         page.api.put("registry", f"/api/operator/staff/{staff_id}/active", {"active": on}))

    @api.post("/accounts/{staff_id}/two-step", response_class=HTMLResponse)
    async def two_step(staff_id: STAFF_ID, page: Staff) -> Response:
        page.require_operator()
        try:
            made = await page.api.post("registry", f"/api/operator/staff/{staff_id}/two-step")
        except ApiRefused as exc:
            return page.redirect("/staff/accounts", exc.message, "error")
        return await with_secret(page, made, page._("New 2-step secret for {staff}: the old one no longer works.").format(staff=staff_id))

    return api
