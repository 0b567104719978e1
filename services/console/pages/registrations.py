"""'My registrations': contacts (with their verification), domains (search and pages over 10,000+ names, the
override banner, lock, transfer, delete), name-server and key groups, and lock complaints."""

# no `from __future__ import annotations`: FastAPI must resolve the dependencies in the signatures

from datetime import datetime
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, HTTPException
from fastapi.responses import HTMLResponse, Response

from services.console import forms
from services.console.client import ApiRefused
from services.console.web import BRUSSELS, Page, SignedIn

PAGE_SIZE = 50
CONTACT_TYPES = ("REGISTRANT", "BILLING", "TECH", "ONSITE")
GROUPS = {"nsgroups": ("Name server groups", "name server group"), "keygroups": ("Key groups", "key group")}
# a refused form goes back with what was typed: these hold lists the API wants, shown as the user typed them
_TEXT_FIELDS = ("name_servers", "nsgroups", "keygroups", "tech", "onsite", "keys")


def _typed(form: Any) -> dict[str, Any]:
    return {k: v for k, v in form.items() if isinstance(v, str)}


def _list_params(q: str, after: str | None) -> dict[str, Any]:
    return {"q": q or None, "after": after or None, "limit": PAGE_SIZE}


def router() -> APIRouter:
    api = APIRouter()

    # -- contacts -------------------------------------------------------------------------------------------------

    @api.get("/contacts", response_class=HTMLResponse)
    async def contacts(page: SignedIn, q: str = "", after: str = "") -> Response:
        listed = await page.api.get("registry", "/api/contacts", **_list_params(q, after))
        return await page.render("contacts/list.html", title="Contacts", listed=listed, q=q, after=after)

    @api.get("/contacts/new", response_class=HTMLResponse)
    async def new_contact(page: SignedIn) -> Response:
        return await page.render("contacts/form.html", title="Contacts", values={"type": "REGISTRANT", "country": "BE"},
                                 creating=True, types=CONTACT_TYPES)

    @api.post("/contacts/new", response_class=HTMLResponse)
    async def create_contact(page: SignedIn) -> Response:
        form = await page.form()
        try:
            created = await page.api.post("registry", "/api/contacts", forms.contact_body(form, with_identity=True))
        except ApiRefused as refused:
            return await page.render("contacts/form.html", status_code=refused.status, title="Contacts",
                                     values=_typed(form), creating=True, types=CONTACT_TYPES, refused=refused)
        alias = created.get("alias") or forms.text(form, "alias")
        return page.redirect(f"/contacts/{quote(alias)}", page._("Contact {alias} has been created.").format(alias=alias))

    async def contact_screen(page: Page, alias: str, status_code: int = 200, **extra: Any) -> Response:
        contact = await page.api.get("registry", f"/api/contacts/{quote(alias)}")
        verification, url = None, None
        if contact.get("type") == "REGISTRANT":
            try:
                verification = await page.api.get("verification", f"/api/verification/contacts/{quote(alias)}")
            except ApiRefused:
                verification = None  # the verification service has not heard of it yet
        informs_itself = False
        if verification and verification.get("status") in ("PENDING", "FAILED"):
            account = await page.api.get("registry", "/api/registrar")
            informs_itself = bool((account.get("profile") or {}).get("inform_registrant_myself"))
            if informs_itself:
                try:
                    url = (await page.api.get("verification", f"/api/verification/contacts/{quote(alias)}/url"))["url"]
                except ApiRefused:
                    url = None
        return await page.render("contacts/view.html", status_code=status_code, title="Contacts", contact=contact,
                                 verification=verification, url=url, informs_itself=informs_itself, **extra)

    @api.get("/contacts/{alias}", response_class=HTMLResponse)
    async def view_contact(page: SignedIn, alias: str) -> Response:
        return await contact_screen(page, alias)

    @api.get("/contacts/{alias}/edit", response_class=HTMLResponse)
    async def edit_contact(page: SignedIn, alias: str) -> Response:
        contact = await page.api.get("registry", f"/api/contacts/{quote(alias)}")
        return await page.render("contacts/form.html", title="Contacts", values=forms.contact_values(contact),
                                 creating=False, types=CONTACT_TYPES, alias=alias)

    @api.post("/contacts/{alias}/edit", response_class=HTMLResponse)
    async def update_contact(page: SignedIn, alias: str) -> Response:
        form = await page.form()
        try:
            await page.api.put("registry", f"/api/contacts/{quote(alias)}", forms.contact_body(form, with_identity=False))
        except ApiRefused as refused:
            return await page.render("contacts/form.html", status_code=refused.status, title="Contacts",
                                     values=_typed(form), creating=False, types=CONTACT_TYPES, alias=alias,
                                     refused=refused)
        return page.redirect(f"/contacts/{quote(alias)}", page._("Contact {alias} has been updated.").format(alias=alias))

    @api.post("/contacts/{alias}/delete", response_class=HTMLResponse)
    async def delete_contact(page: SignedIn, alias: str) -> Response:
        try:
            await page.api.delete("registry", f"/api/contacts/{quote(alias)}")
        except ApiRefused as refused:
            return await contact_screen(page, alias, refused.status, refused=refused)
        return page.redirect("/contacts", page._("Contact {alias} has been deleted.").format(alias=alias))

    @api.post("/contacts/{alias}/resend-verification", response_class=HTMLResponse)
    async def resend_verification(page: SignedIn, alias: str) -> Response:
        try:
            await page.api.post("verification", f"/api/verification/contacts/{quote(alias)}/resend")
        except ApiRefused as refused:
            return await contact_screen(page, alias, refused.status, refused=refused)
        return page.redirect(f"/contacts/{quote(alias)}", page._("The verification mail has been sent to the registrant again."))

    # -- domains ----------------------------------------------------------------------------------------------------

    @api.get("/domains", response_class=HTMLResponse)
    async def domains(page: SignedIn, q: str = "", after: str = "") -> Response:
        listed = await page.api.get("registry", "/api/domains", **_list_params(q, after))
        return await page.render("domains/list.html", title="Domains", listed=listed, q=q, after=after)

    @api.get("/domains/new", response_class=HTMLResponse)
    async def new_domain(page: SignedIn) -> Response:
        return await page.render("domains/form.html", title="Domains", values={}, creating=True)

    def domain_body(form: Any, creating: bool) -> dict[str, Any]:
        body: dict[str, Any] = {"tech": forms.names(form, "tech"), "onsite": forms.names(form, "onsite"),
                                "name_servers": forms.name_servers(form), "nsgroups": forms.names(form, "nsgroups"),
                                "keygroups": forms.names(form, "keygroups")}
        if creating:
            body |= {"name": forms.text(form, "name"), "registrant": forms.text(form, "registrant")}
        return body

    @api.post("/domains/new", response_class=HTMLResponse)
    async def create_domain(page: SignedIn) -> Response:
        form = await page.form()
        try:
            created = await page.api.post("registry", "/api/domains", domain_body(form, creating=True))
        except ApiRefused as refused:
            return await page.render("domains/form.html", status_code=refused.status, title="Domains",
                                     values=_typed(form), creating=True, refused=refused)
        return page.redirect(f"/domains/{quote(created['name'])}", page._("{name} has been registered.").format(name=created["name"]))

    async def domain_screen(page: Page, name: str, status_code: int = 200, **extra: Any) -> Response:
        domain = await page.api.get("registry", f"/api/domains/{quote(name)}")
        return await page.render("domains/view.html", status_code=status_code, title="Domains", domain=domain, **extra)

    @api.get("/domains/{name}", response_class=HTMLResponse)
    async def view_domain(page: SignedIn, name: str) -> Response:
        return await domain_screen(page, name)

    @api.get("/domains/{name}/edit", response_class=HTMLResponse)
    async def edit_domain(page: SignedIn, name: str) -> Response:
        domain = await page.api.get("registry", f"/api/domains/{quote(name)}")
        values = {"name_servers": "\n".join(" ".join([h["name"], *h.get("addresses", [])])
                                            for h in ([] if domain.get("name_servers_overridden") else domain["name_servers"])),
                  "nsgroups": " ".join(domain.get("nsgroups") or []), "keygroups": " ".join(domain.get("keygroups") or []),
                  "tech": " ".join(domain.get("tech") or []), "onsite": " ".join(domain.get("onsite") or [])}
        return await page.render("domains/form.html", title="Domains", values=values, creating=False, domain=domain)

    @api.post("/domains/{name}/edit", response_class=HTMLResponse)
    async def update_domain(page: SignedIn, name: str) -> Response:
        form = await page.form()
        try:
            await page.api.put("registry", f"/api/domains/{quote(name)}", domain_body(form, creating=False))
        except ApiRefused as refused:
            domain = await page.api.get("registry", f"/api/domains/{quote(name)}")
            return await page.render("domains/form.html", status_code=refused.status, title="Domains",
                                     values=_typed(form), creating=False, domain=domain, refused=refused)
        return page.redirect(f"/domains/{quote(name)}", page._("{name} has been updated.").format(name=name))

    @api.post("/domains/{name}/{action}", response_class=HTMLResponse)
    async def domain_action(page: SignedIn, name: str, action: str) -> Response:
        form = await page.form()
        path = f"/api/domains/{quote(name)}"
        try:
            if action == "lock":
                await page.api.put("registry", f"{path}/transfer-lock",
                                   {"registrant_request": forms.text(form, "registrant_request")})
                done = page._("The transfer lock is set.")
            elif action == "unlock":
                await page.api.delete("registry", f"{path}/transfer-lock")
                done = page._("The transfer lock is lifted.")
            elif action == "transfer-code":
                sent = await page.api.post("registry", f"{path}/transfer-code", {"url": forms.optional(form, "url")})
                done = page._("A transfer code has been mailed to the registrant; it is valid until {until}.").format(
                    until=sent["valid_until"])
            elif action == "delete":
                date = forms.text(form, "delete_date")
                try:  # the day starts at midnight in Brussels (CET or CEST)
                    params = {"delete_date": datetime.fromisoformat(date).replace(tzinfo=BRUSSELS).isoformat()} \
                        if date else {}
                except ValueError:
                    return await domain_screen(page, name, 400, action=action, typed=_typed(form),
                                               date_error=page._("Give the date as YYYY-MM-DD."))
                result = await page.api.call("registry", "DELETE", path, params=params)
                done = page._("{name} will be deleted on {date}.").format(name=name, date=result["delete_date"])
            elif action == "undelete":
                await page.api.post("registry", f"{path}/undelete")
                done = page._("The deletion has been cancelled.")
            elif action == "reactivate":
                await page.api.post("registry", f"{path}/reactivate")
                done = page._("{name} has been reactivated.").format(name=name)
            elif action == "answer-complaint":
                await page.api.post("registry", f"{path}/lock-complaint/answer", {"evidence": forms.text(form, "evidence")})
                return page.redirect("/lock-complaints", page._("Your answer has been sent to the registry."))
            else:
                raise HTTPException(404, "No such action.")
        except ApiRefused as refused:
            if action == "answer-complaint":
                return await complaints_screen(page, refused.status, refused=refused, answering=name,
                                               evidence=forms.text(form, "evidence"))
            return await domain_screen(page, name, refused.status, refused=refused, action=action, typed=_typed(form))
        return page.redirect(f"/domains/{quote(name)}", done)

    @api.get("/transfer", response_class=HTMLResponse)
    async def transfer_form(page: SignedIn) -> Response:
        return await page.render("domains/transfer.html", title="Domains", values={})

    @api.post("/transfer", response_class=HTMLResponse)
    async def transfer_in(page: SignedIn) -> Response:
        form = await page.form()
        name = forms.text(form, "name")
        body = {"transfer_code": forms.text(form, "transfer_code"), "registrant": forms.text(form, "registrant"),
                "tech": forms.names(form, "tech"), "onsite": forms.names(form, "onsite")}
        try:
            await page.api.post("registry", f"/api/domains/{quote(name)}/transfer", body)
        except ApiRefused as refused:
            return await page.render("domains/transfer.html", status_code=refused.status, title="Domains",
                                     values=_typed(form), refused=refused)
        return page.redirect(f"/domains/{quote(name)}", page._("{name} has been transferred to you.").format(name=name))

    # -- name-server and key groups --------------------------------------------------------------------------------------

    def group_kind(kind: str) -> tuple[str, str]:
        if kind not in GROUPS:
            raise HTTPException(404, "No such group kind.")
        return GROUPS[kind]

    @api.get("/groups/{kind}", response_class=HTMLResponse)
    async def groups(page: SignedIn, kind: str, q: str = "", after: str = "") -> Response:
        title, label = group_kind(kind)
        listed = await page.api.get("registry", f"/api/{kind}", **_list_params(q, after))
        return await page.render("groups/list.html", title=title, label=label, kind=kind, listed=listed, q=q, after=after)

    def group_body(kind: str, form: Any, name: str) -> dict[str, Any]:
        if kind == "nsgroups":
            return {"name": name, "name_servers": forms.names(form, "name_servers")}
        return {"name": name, "keys": forms.keys(form)}

    @api.get("/groups/{kind}/new", response_class=HTMLResponse)
    async def new_group(page: SignedIn, kind: str) -> Response:
        title, label = group_kind(kind)
        return await page.render("groups/form.html", title=title, label=label, kind=kind, values={}, creating=True)

    @api.post("/groups/{kind}/new", response_class=HTMLResponse)
    async def create_group(page: SignedIn, kind: str) -> Response:
        title, label = group_kind(kind)
        form = await page.form()
        name = forms.text(form, "name")
        try:
            await page.api.post("registry", f"/api/{kind}", group_body(kind, form, name))
        except ApiRefused as refused:
            return await page.render("groups/form.html", status_code=refused.status, title=title, label=label, kind=kind,
                                     values=_typed(form), creating=True, refused=refused)
        return page.redirect(f"/groups/{kind}/{quote(name)}", page._("The {group} {name} has been created.").format(group=page._(label), name=name))

    @api.get("/groups/{kind}/{name}", response_class=HTMLResponse)
    async def view_group(page: SignedIn, kind: str, name: str) -> Response:
        title, label = group_kind(kind)
        group = await page.api.get("registry", f"/api/{kind}/{quote(name)}")
        values = {"name": name, "name_servers": "\n".join(group.get("name_servers") or []),
                  "keys": "\n".join(f"{k['flags']} {k['protocol']} {k['algorithm']} {k['public_key']}"
                                    for k in group.get("keys") or [])}
        return await page.render("groups/form.html", title=title, label=label, kind=kind, values=values, creating=False,
                                 group=group)

    @api.post("/groups/{kind}/{name}", response_class=HTMLResponse)
    async def update_group(page: SignedIn, kind: str, name: str) -> Response:
        title, label = group_kind(kind)
        form = await page.form()
        try:
            if forms.text(form, "action") == "delete":
                await page.api.delete("registry", f"/api/{kind}/{quote(name)}")
                return page.redirect(f"/groups/{kind}", page._("The {group} {name} has been deleted.").format(group=page._(label), name=name))
            await page.api.put("registry", f"/api/{kind}/{quote(name)}", group_body(kind, form, name))
        except ApiRefused as refused:
            return await page.render("groups/form.html", status_code=refused.status, title=title, label=label, kind=kind,
                                     values=_typed(form) | {"name": name}, creating=False, refused=refused)
        return page.redirect(f"/groups/{kind}/{quote(name)}", page._("The {group} {name} has been updated.").format(group=page._(label), name=name))

    # -- lock complaints ----------------------------------------------------------------------------------------------------

    async def complaints_screen(page: Page, status_code: int = 200, **extra: Any) -> Response:
        complaints = await page.api.get("registry", "/api/registrar/lock-complaints")
        return await page.render("complaints.html", status_code=status_code, title="Lock complaints",
                                 complaints=complaints, **extra)

    @api.get("/lock-complaints", response_class=HTMLResponse)
    async def lock_complaints(page: SignedIn) -> Response:
        return await complaints_screen(page)

    return api
