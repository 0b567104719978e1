"""The 'Registrar' menu of seed 000: profile (4 sections), product URLs, EPP settings, e-mail addresses,
users, hitpoints, Top 100 / Top 30, change password, login attempts, and the balance."""

# no `from __future__ import annotations`: FastAPI must resolve the dependencies in the signatures

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, HTTPException
from fastapi.responses import HTMLResponse, Response

from services.console import forms
from services.console.client import ApiRefused
from services.console.menu import TRANSACTIONS, UPDATE_EPP_SETTINGS, VIEW_FINANCIAL
from services.console.pages.auth import sign_in_with
from services.console.web import Page, SignedIn

EMAIL_CATEGORIES = [
    ("newsletter", "Communication", "The DNS Belgium newsletter only; no fallback to your general address."),
    ("legal", "Legal", "Legal communications; defaults to the general e-mail address."),
    ("technical", "Technical", "Updates, releases, maintenance; defaults to the general e-mail address."),
    ("abuse", "Abuse", "Phishing, malware, defacing ...; defaults to the general e-mail address."),
]
PERMISSIONS = [
    ("MY_REGISTRATIONS", "Access to 'My registrations'", "alone it is read-only: no transactions"),
    ("TRANSACTIONS", "Execute transactions", "create, update and delete domains, contacts, groups"),
    ("VIEW_FINANCIAL", "View financial data", "the account's balance; online payments"),
    ("UPDATE_EPP_SETTINGS", "Update registrar EPP settings", "EPP poll and the addresses that connect"),
    ("INVOICING_INFO", "Invoicing info for billing", "all invoicing info; online payments"),
]


def _require(page: Page, permission: str) -> None:
    if not page.session.has(permission):
        raise HTTPException(403, "Your user has no permission for this: ask your administrator user.")


def _require_admin(page: Page) -> None:
    if not page.session.is_admin:
        raise HTTPException(403, "Only the administrator user manages users.")


def router() -> APIRouter:
    api = APIRouter(prefix="/registrar")

    async def account(page: Page) -> dict[str, Any]:
        return await page.api.get("registry", "/api/registrar")  # type: ignore[no-any-return]

    # -- profile ------------------------------------------------------------------------------------------------

    @api.get("/profile", response_class=HTMLResponse)
    async def profile(page: SignedIn) -> Response:
        return await page.render("registrar/profile.html", title="Profile", account=await account(page))

    @api.get("/profile/edit", response_class=HTMLResponse)
    async def edit_profile(page: SignedIn) -> Response:
        _require(page, TRANSACTIONS)
        current = (await account(page)).get("profile") or {}
        return await page.render("registrar/profile_edit.html", title="Profile", values=forms.profile_values(current),
                                 choices=forms.LANGUAGE_CHOICES)

    @api.post("/profile/edit", response_class=HTMLResponse)
    async def update_profile(page: SignedIn) -> Response:
        form = await page.form()
        current = (await account(page)).get("profile") or {}
        body = forms.profile_body(form, current)
        try:
            await page.api.put("registry", "/api/registrar/profile", body)
        except ApiRefused as refused:
            values: dict[str, Any] = {k: v for k, v in form.items() if isinstance(v, str)}
            values["inform_registrant_myself"] = forms.checked(form, "inform_registrant_myself")
            return await page.render("registrar/profile_edit.html", status_code=refused.status, title="Profile",
                                     values=values, choices=forms.LANGUAGE_CHOICES, refused=refused)
        return page.redirect("/registrar/profile", page._("Your profile has been updated."))

    # -- product URLs ---------------------------------------------------------------------------------------------

    @api.get("/product-urls", response_class=HTMLResponse)
    async def product_urls(page: SignedIn) -> Response:
        return await page.render("registrar/product_urls.html", title="Product URLs", account=await account(page),
                                 editing=False, values=None)

    @api.get("/product-urls/edit", response_class=HTMLResponse)
    async def edit_product_urls(page: SignedIn) -> Response:
        _require(page, TRANSACTIONS)
        return await page.render("registrar/product_urls.html", title="Product URLs", account=await account(page),
                                 editing=True, values=None)

    @api.post("/product-urls/edit", response_class=HTMLResponse)
    async def update_product_urls(page: SignedIn) -> Response:
        form = await page.form()
        current = await account(page)
        try:
            await page.api.put("registry", "/api/registrar/product-urls",
                               forms.product_urls_body(form, current.get("products") or []))
        except ApiRefused as refused:
            return await page.render("registrar/product_urls.html", status_code=refused.status, title="Product URLs",
                                     account=current, editing=True, refused=refused,
                                     values={k: v for k, v in form.items() if isinstance(v, str)})
        return page.redirect("/registrar/product-urls",
                             page._("Your product URLs have been updated; the 'Find a registrar' tool shows them within 30 minutes."))

    # -- EPP settings -----------------------------------------------------------------------------------------------

    @api.get("/epp-settings", response_class=HTMLResponse)
    async def epp_settings(page: SignedIn, edit: bool = False) -> Response:
        if edit:
            _require(page, UPDATE_EPP_SETTINGS)
        settings = (await account(page)).get("epp_settings") or {"poll": False, "ip_addresses": []}
        return await page.render("registrar/epp_settings.html", title="EPP settings", settings=settings, editing=edit,
                                 values={"ip_addresses": "\n".join(settings.get("ip_addresses") or []),
                                         "poll": settings.get("poll")})

    @api.post("/epp-settings", response_class=HTMLResponse)
    async def update_epp_settings(page: SignedIn) -> Response:
        form = await page.form()
        body = {"poll": forms.checked(form, "poll"), "ip_addresses": forms.lines(form, "ip_addresses")}
        try:
            await page.api.put("registry", "/api/registrar/epp-settings", body)
        except ApiRefused as refused:
            settings = (await account(page)).get("epp_settings") or {}
            return await page.render("registrar/epp_settings.html", status_code=refused.status, title="EPP settings",
                                     settings=settings, editing=True, refused=refused,
                                     values={"ip_addresses": forms.text(form, "ip_addresses"), "poll": body["poll"]})
        return page.redirect("/registrar/epp-settings", page._("Your EPP settings have been updated."))

    # -- e-mail addresses ----------------------------------------------------------------------------------------------

    @api.get("/email-addresses", response_class=HTMLResponse)
    async def email_addresses(page: SignedIn, edit: bool = False) -> Response:
        if edit:
            _require(page, TRANSACTIONS)
        current = await account(page)
        categories = current.get("email_categories") or {}
        return await page.render("registrar/email_addresses.html", title="E-mail addresses", categories=categories,
                                 general=(current.get("profile") or {}).get("email"), editing=edit,
                                 kinds=EMAIL_CATEGORIES,
                                 values={k: "\n".join(categories.get(k) or []) for k, _, _ in EMAIL_CATEGORIES})

    @api.post("/email-addresses", response_class=HTMLResponse)
    async def update_email_addresses(page: SignedIn) -> Response:
        form = await page.form()
        body = {kind: forms.lines(form, kind) for kind, _, _ in EMAIL_CATEGORIES}
        try:
            await page.api.put("registry", "/api/registrar/email-categories", body)
        except ApiRefused as refused:
            current = await account(page)
            return await page.render("registrar/email_addresses.html", status_code=refused.status,
                                     title="E-mail addresses", categories=current.get("email_categories") or {},
                                     general=(current.get("profile") or {}).get("email"), editing=True,
                                     kinds=EMAIL_CATEGORIES, refused=refused,
                                     values={k: forms.text(form, k) for k, _, _ in EMAIL_CATEGORIES})
        return page.redirect("/registrar/email-addresses", page._("Your e-mail addresses have been updated."))

    # -- users --------------------------------------------------------------------------------------------------------------

    @api.get("/users", response_class=HTMLResponse)
    async def users(page: SignedIn, q: str = "") -> Response:
        _require_admin(page)
        everyone = await page.api.get("registry", "/api/registrar/users")
        found = [u for u in everyone if q.strip().lower() in u["user_id"].lower()]
        return await page.render("registrar/users.html", title="Users", users=found, q=q)

    @api.get("/users/new", response_class=HTMLResponse)
    async def new_user(page: SignedIn) -> Response:
        _require_admin(page)
        return await page.render("registrar/user_new.html", title="Users", values={}, permissions=PERMISSIONS,
                                 granted={"MY_REGISTRATIONS"})

    @api.post("/users/new", response_class=HTMLResponse)
    async def create_user(page: SignedIn) -> Response:
        form = await page.form()
        granted = set(form.getlist("permissions"))
        user_id = forms.text(form, "user_id")
        try:
            await page.api.post("registry", "/api/registrar/users", {
                "user_id": user_id, "password": str(form.get("password") or ""), "permissions": sorted(granted)})
        except ApiRefused as refused:
            return await page.render("registrar/user_new.html", status_code=refused.status, title="Users",
                                     values={"user_id": user_id}, permissions=PERMISSIONS, granted=granted,
                                     refused=refused)
        return page.redirect(f"/registrar/users/{quote(user_id)}", page._("User {user} has been created.").format(user=user_id))

    async def user_screen(page: Page, user_id: str, status_code: int = 200, **extra: Any) -> Response:
        _require_admin(page)
        everyone = await page.api.get("registry", "/api/registrar/users")
        user = next((u for u in everyone if u["user_id"] == user_id), None)
        if user is None:
            raise HTTPException(404, page._("There is no user {user}.").format(user=user_id))
        attempts = await page.api.get("registry", f"/api/registrar/users/{quote(user_id)}/login-attempts")
        return await page.render("registrar/user.html", status_code=status_code, title="Users", user=user,
                                 permissions=PERMISSIONS, attempts=attempts, **extra)

    @api.get("/users/{user_id}", response_class=HTMLResponse)
    async def user_details(page: SignedIn, user_id: str) -> Response:
        return await user_screen(page, user_id)

    @api.post("/users/{user_id}/{action}", response_class=HTMLResponse)
    async def user_action(page: SignedIn, user_id: str, action: str) -> Response:
        _require_admin(page)
        form = await page.form()
        path = f"/api/registrar/users/{quote(user_id)}"
        try:
            if action == "permissions":
                await page.api.put("registry", f"{path}/permissions", {"permissions": sorted(form.getlist("permissions"))})
                done = page._("The permissions have been updated.")
            elif action == "password":
                new = str(form.get("new_password") or "")
                if new != str(form.get("new_password_again") or ""):
                    return await user_screen(page, user_id, 400, password_error=page._("The two new passwords differ."))
                await page.api.put("registry", f"{path}/password", {"new_password": new})
                done = page._("The password has been changed.")
            elif action == "reset-two-step":
                await page.api.post("registry", f"{path}/two-step/reset")
                done = page._("2-step verification has been reset: the user sets it up again on the new device.")
            elif action == "temporary-key":
                key = await page.api.post("registry", f"{path}/two-step/temporary-key")
                return await user_screen(page, user_id, temporary_key=key)
            elif action == "delete":
                if forms.text(form, "confirm") != user_id:
                    return await user_screen(page, user_id, 400,
                                             delete_error=page._("Type the user ID to confirm that it is to be deleted."))
                await page.api.delete("registry", path)
                return page.redirect("/registrar/users", page._("User {user} has been deleted.").format(user=user_id))
            else:
                raise HTTPException(404, "No such action.")
        except ApiRefused as refused:
            return await user_screen(page, user_id, refused.status, refused=refused)
        return page.redirect(f"/registrar/users/{quote(user_id)}", done)

    # -- hitpoints -------------------------------------------------------------------------------------------------------------

    @api.get("/hitpoints", response_class=HTMLResponse)
    async def hitpoints(page: SignedIn) -> Response:
        standing = await page.api.get("hitpoints", "/api/hitpoints")
        return await page.render("registrar/hitpoints.html", title="Hitpoints", standing=standing)

    @api.post("/hitpoints/unblock", response_class=HTMLResponse)
    async def unblock(page: SignedIn) -> Response:
        try:
            await page.api.post("hitpoints", "/api/hitpoints/unblock")
        except ApiRefused as refused:
            standing = await page.api.get("hitpoints", "/api/hitpoints")
            return await page.render("registrar/hitpoints.html", status_code=refused.status, title="Hitpoints",
                                     standing=standing, refused=refused)
        return page.redirect("/registrar/hitpoints", page._("Your account has been unblocked; your hitpoints are reset to zero."))

    # -- top lists ----------------------------------------------------------------------------------------------------------------

    @api.get("/top100", response_class=HTMLResponse)
    async def top100(page: SignedIn) -> Response:
        return await page.render("registrar/top.html", title="Top 100", top=await page.api.get("reporting", "/api/reports/top100"),
                                 kind="top100")

    @api.get("/top30", response_class=HTMLResponse)
    async def top30(page: SignedIn) -> Response:
        return await page.render("registrar/top.html", title="Top 30", top=await page.api.get("reporting", "/api/reports/top30"),
                                 kind="top30")

    # -- own password, login attempts -----------------------------------------------------------------------------------------------

    @api.get("/password", response_class=HTMLResponse)
    async def password(page: SignedIn) -> Response:
        return await page.render("registrar/password.html", title="Change password")

    @api.post("/password/{which}", response_class=HTMLResponse)
    async def change_password(page: SignedIn, which: str) -> Response:
        form = await page.form()
        prefix = "epp_" if which == "epp" else ""
        current, new = str(form.get("current_password") or ""), str(form.get(f"{prefix}new_password") or "")
        if (which == "web" and not current) or not new or new != str(form.get(f"{prefix}new_password_again") or ""):
            return await page.render("registrar/password.html", status_code=400, title="Change password", which=which,
                                     error=page._("Enter the current password and the new one twice, the same both times.")
                                     if which == "web" else page._("Enter the new EPP password twice, the same both times."))
        body = {"current_password": current or None, "new_password": new}
        try:
            if which == "web":
                await page.api.put("registry", f"/api/registrar/users/{quote(page.session.user_id or '')}/password", body)
            elif which == "epp":
                await page.api.put("registry", "/api/registrar/epp-password", body)
            else:
                raise HTTPException(404, "No such password.")
        except ApiRefused as refused:
            return await page.render("registrar/password.html", status_code=refused.status, title="Change password",
                                     which=which, refused=refused)
        if which == "epp":
            return page.redirect("/registrar/password", page._("The EPP password has been changed."))
        # a password change ends every session of the user at every service, this one too: sign in again
        # with the new password; a user with 2-step verification gives the code on the sign-in page
        try:
            signed = await page.console.services.as_user(None, client_address=page.client_address).post(
                "registry", "/api/login", {"user_id": page.session.user_id, "password": new})
        except ApiRefused:
            page.request.state.session = page.session = page.session.sign_out()
            return page.redirect("/login", page._("Your password has been changed: sign in with the new one."))
        await sign_in_with(page, signed)
        return page.redirect("/registrar/password", page._("Your password has been changed."))

    @api.get("/login-attempts", response_class=HTMLResponse)
    async def login_attempts(page: SignedIn) -> Response:
        attempts = await page.api.get("registry", f"/api/registrar/users/{quote(page.session.user_id or '')}/login-attempts")
        return await page.render("registrar/login_attempts.html", title="Login attempts", attempts=attempts)

    return api


def balance_router() -> APIRouter:
    api = APIRouter()

    @api.get("/balance", response_class=HTMLResponse)
    async def balance(page: SignedIn) -> Response:
        _require(page, VIEW_FINANCIAL)
        return await page.render("balance.html", title="Balance", account=await page.api.get("registry", "/api/registrar/balance"))

    return api
