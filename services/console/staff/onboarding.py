"""Staff pages on becoming a registrar: the applications, recording one, and its onboarding steps (contract
signed with the security code shown once, prepayment received, a new security code)."""

# no `from __future__ import annotations`: FastAPI must resolve the dependencies in the signatures

from typing import Annotated, Any

from fastapi import APIRouter, Path
from fastapi.responses import HTMLResponse, Response

from services.console.client import ApiRefused
from services.console.staff.access import Staff
from services.console.staff.registrars import said

APPLICATION_ID = Annotated[str, Path(max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
PRODUCTS = ("be", "vlaanderen", "brussels")
FIELDS = ("official_name", "first_name", "last_name", "street", "postal_code", "city", "country", "phone", "mobile",
          "email", "website", "vat", "contract_language", "prepayment_euro", "iana_id", "agreement")


def _cents(euro: str) -> int:
    try:
        return round(float(euro.replace(",", ".")) * 100)
    except ValueError:
        return 0


def application_body(values: dict[str, str], products: list[str], standing_order: bool) -> dict[str, Any]:
    body: dict[str, Any] = {
        "organisation": {
            "official_name": values["official_name"],
            "representative": {"first_name": values["first_name"], "last_name": values["last_name"]},
            "address": {"street": [values["street"]], "postal_code": values["postal_code"], "city": values["city"],
                        "country": values["country"]},
            "phone": values["phone"], "mobile": values["mobile"], "email": values["email"],
            "website": values["website"], "vat": values["vat"]},
        "contract_language": values["contract_language"] or "en",
        "prepayment_cents": _cents(values["prepayment_euro"]),
        "standing_order": standing_order,
        "products": products,
    }
    if values["iana_id"]:
        body["accreditation"] = {"iana_id": int(values["iana_id"]) if values["iana_id"].isdigit() else 0,
                                 "agreement": values["agreement"]}
    return body


def router() -> APIRouter:
    api = APIRouter(prefix="/staff/applications")

    @api.get("", response_class=HTMLResponse)
    async def applications(page: Staff) -> Response:
        page.require_operator()
        rows = await page.api.get("registry", "/api/operator/applications")
        return await page.show("applications.html", rows=rows, values={"contract_language": "en",
                                                                       "prepayment_euro": "2500", "country": "BE"},
                               products=PRODUCTS, chosen=["be"], refused=None)

    @api.post("", response_class=HTMLResponse)
    async def record(page: Staff) -> Response:
        page.require_operator()
        form = await page.form()
        values = {k: str(form.get(k, "")).strip() for k in FIELDS}
        chosen = [str(p) for p in form.getlist("products") if p in PRODUCTS]
        try:
            done = await page.api.post("registry", "/api/operator/applications",
                                       application_body(values, chosen, form.get("standing_order") == "on"))
        except ApiRefused as exc:
            rows = await page.api.get("registry", "/api/operator/applications")
            return await page.show("applications.html", status_code=exc.status, rows=rows, values=values,
                                   products=PRODUCTS, chosen=chosen, refused=exc)
        return page.redirect(f"/staff/applications/{done['application_id']}", page._("Application recorded."))

    @api.get("/{application_id}", response_class=HTMLResponse)
    async def application(application_id: APPLICATION_ID, page: Staff) -> Response:
        page.require_operator()
        a = await page.api.get("registry", f"/api/operator/applications/{application_id}")
        return await page.show("application.html", a=a, code=None)

    async def step(page: Any, application_id: str, name: str, body: Any, done: str) -> Response:
        try:
            result = await page.api.post("registry", f"/api/operator/applications/{application_id}/{name}", body)
        except ApiRefused as exc:
            return page.redirect(f"/staff/applications/{application_id}", said(exc, page._), "error")
        if result.get("security_code"):  # shown this once, for the letter: never kept by the console
            a = await page.api.get("registry", f"/api/operator/applications/{application_id}")
            return await page.show("application.html", a=a, code=result["security_code"], done=done)
        return page.redirect(f"/staff/applications/{application_id}", done)

    @api.post("/{application_id}/contract", response_class=HTMLResponse)
    async def contract(application_id: APPLICATION_ID, page: Staff) -> Response:
        page.require_operator()
        form = await page.form()
        body = {k: str(form.get(k, "")).strip() or None for k in ("registrar_id", "reference")}
        return await step(page, application_id, "contract", body, page._("Contract signed: the account is created."))

    @api.post("/{application_id}/prepayment", response_class=HTMLResponse)
    async def prepayment(application_id: APPLICATION_ID, page: Staff) -> Response:
        page.require_operator()
        form = await page.form()
        body: dict[str, Any] = {"amount_cents": _cents(str(form.get("amount_euro", "")))}
        if str(form.get("reference", "")).strip():
            body["reference"] = str(form.get("reference")).strip()
        return await step(page, application_id, "prepayment", body, page._("Prepayment booked."))

    @api.post("/{application_id}/security-code", response_class=HTMLResponse)
    async def security_code(application_id: APPLICATION_ID, page: Staff) -> Response:
        page.require_operator()
        return await step(page, application_id, "security-code", None, page._("A new security code was issued."))

    return api
