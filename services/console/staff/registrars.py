"""Staff pages on registrars and domains: the registrar list and its page (status, official address, lock
function, hitpoints with the unblock button, verification at the registrar), a domain's server statuses and
lock complaint, and the lock complaints with their decisions."""

# no `from __future__ import annotations`: FastAPI must resolve the dependencies in the signatures

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Path
from fastapi.responses import HTMLResponse, Response

from services.console.client import ApiRefused
from services.console.staff.access import Staff, StaffPage

REGISTRAR_ID = Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9-]{2,31}$")]
DOMAIN = Annotated[str, Path(min_length=3, max_length=255, pattern=r"^[^/\\]+$")]
SERVER_STATUSES = ("serverTransferProhibited", "serverUpdateProhibited", "serverDeleteProhibited")
STATUSES = ("PENDING_ACTIVATION", "ACTIVE", "SUSPENDED")


def said(exc: ApiRefused, _: Callable[[str], str]) -> str:
    """A refusal in one line: the message, the result code and the reference, and the fields' errors (the
    service's own words stay as it said them)."""
    parts = [exc.message]
    if exc.result_code:
        parts.append(_("result code {code}").format(code=exc.result_code))
    if exc.reference:
        parts.append(_("reference {reference}").format(reference=exc.reference))
    text = " · ".join(parts)
    if exc.errors:
        text += ": " + "; ".join(f"{e.field or 'request'} {_(e.message)}" for e in exc.errors)
    return text


async def act(page: StaffPage, back: str, done: str, call: Any) -> Response:
    """Run a staff action; back to the page with what happened (the refusal in words)."""
    try:
        await call
    except ApiRefused as exc:
        return page.redirect(back, said(exc, page._), "error")
    return page.redirect(back, done)


def router() -> APIRouter:
    api = APIRouter(prefix="/staff")

    # -- registrars -----------------------------------------------------------------------------------------------

    @api.get("/registrars", response_class=HTMLResponse)
    async def registrars(page: Staff, status: str | None = None) -> Response:
        rows = await page.api.get("registry", "/api/operator/registrars", status=status or None)
        return await page.show("registrars.html", rows=rows, status=status or "", statuses=STATUSES)

    @api.get("/registrars/{registrar_id}", response_class=HTMLResponse)
    async def registrar(registrar_id: REGISTRAR_ID, page: Staff) -> Response:
        account: dict[str, Any] | None = None
        if page.is_operator:  # the full account (official address ...) is the operators'
            account = await page.found("registry", f"/api/operator/registrars/{registrar_id}")
        else:
            listed = await page.api.get("registry", "/api/operator/registrars")
            account = next((r for r in listed if r["registrar_id"] == registrar_id), None)
        if account is None:
            return await page.show("missing.html", status_code=404, what=page._("registrar {id}").format(id=registrar_id))
        hitpoints = await page.api.get("hitpoints", f"/api/operator/hitpoints/{registrar_id}")
        verifies = None
        if page.is_operator:
            verifies = (await page.api.get("verification",
                                           f"/api/operator/verification/registrars/{registrar_id}"))["verifies_itself"]
        return await page.show("registrar.html", r=account, hp=hitpoints, verifies_itself=verifies,
                               statuses=STATUSES)

    @api.post("/registrars/{registrar_id}/status")
    async def set_status(registrar_id: REGISTRAR_ID, page: Staff) -> Response:
        page.require_operator()
        status = str((await page.form()).get("status", ""))
        return await act(page, f"/staff/registrars/{registrar_id}", page._("Status set to {status}.").format(status=status),
                         page.api.put("registry", f"/api/operator/registrars/{registrar_id}/status", {"status": status}))

    @api.post("/registrars/{registrar_id}/official-address")
    async def official_address(registrar_id: REGISTRAR_ID, page: Staff) -> Response:
        page.require_operator()
        form = await page.form()
        text = {k: str(form.get(k, "")).strip() for k in ("org1", "org2", "street1", "street2", "street3",
                                                         "postal_code", "city", "province", "country", "phone",
                                                         "fax", "email")}
        body = {"organisation": [v for v in (text["org1"], text["org2"]) if v],
                "address": {"street": [v for v in (text["street1"], text["street2"], text["street3"]) if v],
                            "postal_code": text["postal_code"], "city": text["city"],
                            "province": text["province"] or None, "country": text["country"]},
                "phone": text["phone"] or None, "fax": text["fax"] or None, "email": text["email"] or None}
        return await act(page, f"/staff/registrars/{registrar_id}", page._("Official address saved."),
                         page.api.put("registry", f"/api/operator/registrars/{registrar_id}/official-address", body))

    @api.post("/registrars/{registrar_id}/lock-function")
    async def lock_function(registrar_id: REGISTRAR_ID, page: Staff) -> Response:
        page.require_operator()
        enabled = (await page.form()).get("enabled") == "true"
        done = page._("Lock function given back.") if enabled else \
            page._("Lock function withdrawn: its client locks are lifted.")
        return await act(page, f"/staff/registrars/{registrar_id}", done,
                         page.api.put("registry", f"/api/operator/registrars/{registrar_id}/lock-function",
                                      {"enabled": enabled}))

    @api.post("/registrars/{registrar_id}/unblock")
    async def unblock(registrar_id: REGISTRAR_ID, page: Staff) -> Response:
        return await act(page, f"/staff/registrars/{registrar_id}", page._("Unblocked: the hitpoints are back to zero."),
                         page.api.post("hitpoints", f"/api/operator/hitpoints/{registrar_id}/unblock"))

    @api.post("/registrars/{registrar_id}/verification")
    async def verification_switch(registrar_id: REGISTRAR_ID, page: Staff) -> Response:
        page.require_operator()
        on = (await page.form()).get("verifies_itself") == "true"
        return await act(page, f"/staff/registrars/{registrar_id}",
                         page._("The registrar verifies its registrants itself.") if on
                         else page._("Registrant verification by the registry."),
                         page.api.put("verification", f"/api/operator/verification/registrars/{registrar_id}",
                                      {"verifies_itself": on}))

    # -- domains --------------------------------------------------------------------------------------------------

    @api.get("/domains", response_class=HTMLResponse)
    async def find_domain(page: Staff, name: str | None = None) -> Response:
        if name:
            return page.redirect(f"/staff/domains/{name.strip().lower()}")
        return await page.show("domain_search.html")

    @api.get("/domains/{name}", response_class=HTMLResponse)
    async def domain(name: DOMAIN, page: Staff) -> Response:
        d = await page.found("registry", f"/api/operator/domains/{name}")
        if d is None:
            return await page.show("missing.html", status_code=404, what=page._("domain {name}").format(name=name))
        return await page.show("domain.html", d=d, server_statuses=SERVER_STATUSES)

    @api.post("/domains/{name}/statuses")
    async def server_status(name: DOMAIN, page: Staff) -> Response:
        page.require_operator()
        form = await page.form()
        status, on = str(form.get("status", "")), form.get("set") == "true"
        if status not in SERVER_STATUSES:
            return page.redirect(f"/staff/domains/{name}", page._("Choose one of the server statuses."), "error")
        path = f"/api/operator/domains/{name}/statuses/{status}"
        call = page.api.put("registry", path) if on else page.api.delete("registry", path)
        return await act(page, f"/staff/domains/{name}", (page._("{status} set.") if on else page._("{status} removed.")).format(status=status), call)

    @api.post("/domains/{name}/lock-complaint")
    async def file_complaint(name: DOMAIN, page: Staff) -> Response:
        page.require_operator()
        note = str((await page.form()).get("note", "")).strip()
        return await act(page, f"/staff/domains/{name}",
                         page._("Lock complaint filed: the registrar has 48 hours to answer."),
                         page.api.post("registry", f"/api/operator/domains/{name}/lock-complaints", {"note": note}))

    # -- lock complaints ------------------------------------------------------------------------------------------

    @api.get("/lock-complaints", response_class=HTMLResponse)
    async def complaints(page: Staff, status: str | None = None) -> Response:
        page.require_operator()
        rows = await page.api.get("registry", "/api/operator/lock-complaints", status=status or None)
        return await page.show("complaints.html", rows=rows)

    @api.post("/lock-complaints/{complaint_id}/decision")
    async def decide(complaint_id: Annotated[str, Path(max_length=64, pattern=r"^[A-Za-z0-9_-]+$")],
                     page: Staff) -> Response:
        page.require_operator()
        upheld = (await page.form()).get("upheld") == "true"
        done = page._("Upheld: the lock stays.") if upheld else page._("Rejected: the client lock is lifted.")
        return await act(page, "/staff/lock-complaints", done,
                         page.api.post("registry", f"/api/operator/lock-complaints/{complaint_id}/decision",
                                       {"upheld": upheld}))

    return api
