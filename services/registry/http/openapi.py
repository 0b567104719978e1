"""The registry's OpenAPI document: every operation described, registrar and operator security told apart,
and every refusal documented with the one error body (errors.ErrorBody) the app's handler answers.

Summaries and descriptions live here, one line per operation, so that the routes stay translation only."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from services.registry.http.errors import ErrorBody, FieldError
from services.registry.http.views import LoginRefused
from shared import openapi as shared_openapi

# one operation per entry: METHOD PATH | summary | description (continued on indented lines)
_TABLE = """
POST /api/login | Log in | A bearer token for a user of a registrar: the password, and the 2-step code once
    set up, in one call; or in two steps: without `code`, a right password of a user with 2-step answers 401
    with `two_step_required`, and a `pending` token (5 minutes) for POST /api/login/code. A wrong password
    and an unknown user id answer the same 401. 5 failures of one user id from one address in 15 minutes
    pause that address (429 with Retry-After); wrong codes count too.
POST /api/login/code | Log in: the 2-step code | The second step: the `pending` token of the password step
    and the 2-step code (or a temporary key). A wrong code answers 401, counts toward the pause and may be
    tried again while the token lives; the right one opens the session and uses the token up. An unknown,
    used or expired token answers 401 with `sign_in_again`.
POST /api/logout | Log out | Ends the session of the token sent: it no longer authenticates.
GET /api/registrar | Your registrar account | Profile, product URLs, EPP settings, e-mail categories,
    official address; balance and finance only with a financial permission.
PUT /api/registrar/profile | Update the profile | The registrar's public profile (WHOIS in part):
    address with an ISO 3166-1 country, phone as +CC.NUMBER, languages.
PUT /api/registrar/product-urls | Update the product URLs | Where the public 'find a registrar' list
    sends end users, per product.
PUT /api/registrar/epp-settings | Update the EPP settings | Poll on or off (off: structured messages go
    out as CPS e-mail) and up to 10 allowed IP addresses.
PUT /api/registrar/email-categories | Update the e-mail categories | Up to 5 addresses per category:
    newsletter, legal, technical, abuse.
GET /api/registrar/balance | Balance and ledger | The prepayment balance in cents and every booking
    (needs VIEW_FINANCIAL).
GET /api/registrar/users | List the users | Every user of the registrar with its permissions: the
    administrator's view only.
POST /api/registrar/users | Create a user | The administrator creates a user with a password and
    permissions (every permission needs MY_REGISTRATIONS).
PUT /api/registrar/users/{user_id}/permissions | Set a user's permissions | The administrator replaces a
    user's permissions.
DELETE /api/registrar/users/{user_id} | Delete a user | The administrator deletes a user; its sessions
    end.
PUT /api/registrar/users/{user_id}/password | Change a password | A user changes its own password
    (giving the current one); the administrator any of its users'.
PUT /api/registrar/epp-password | Change the EPP password | The administrator sets the registrar's EPP
    password (8-16 characters, mixed).
POST /api/registrar/users/{user_id}/two-step/reset | Reset a user's 2-step | The administrator removes a
    user's authenticator secret.
POST /api/registrar/users/{user_id}/two-step/temporary-key | Give a temporary key | A key that replaces
    the user's 2-step code once, within 90 seconds.
POST /api/registrar/two-step | Set up 2-step | A new authenticator secret for the calling user, shown
    once.
GET /api/registrar/users/{user_id}/login-attempts | Login attempts | A user's recent login attempts (its
    own, or any user's for the administrator).
POST /api/contacts | Create a contact | A registrant, billing, tech or onsite contact; aliases are
    unique registry-wide.
GET /api/contacts/check | Check contact aliases | Which aliases are still free.
GET /api/contacts/{alias} | A contact | One of your contacts (another's does not exist for you).
PUT /api/contacts/{alias} | Update a contact | Changes the fields given; a registrant's e-mail change
    may need verification.
DELETE /api/contacts/{alias} | Delete a contact | Refused (2305) while a domain uses it.
GET /api/domains | List your domains | A page of your domains in name order: `q` a name prefix, `after`
    the `next` of the previous page, `limit` up to 200.
GET /api/contacts | List your contacts | A page of your contacts in alias order: `q` an alias prefix,
    `after` the `next` of the previous page, `limit` up to 200.
GET /api/nsgroups | List your name-server groups | A page of your name-server groups by name, each with the
    number of domains using it: `q` a name prefix, `after` the `next` of the previous page, `limit` up to 200.
POST /api/nsgroups | Create a name-server group | A name and 1-9 name servers (no glue: in-zone name
    servers need individual glue).
PUT /api/nsgroups/{name} | Replace a name-server group | The whole list of name servers.
GET /api/nsgroups/{name} | A name-server group | Its name servers.
DELETE /api/nsgroups/{name} | Delete a name-server group | Refused (2305) while a domain uses it.
GET /api/keygroups | List your key groups | A page of your key groups by name, each with the number of
    domains using it: `q` a name prefix, `after` the `next` of the previous page, `limit` up to 200.
POST /api/keygroups | Create a key group | A name and 1-4 DNSSEC keys (flags 257, protocol 3, a
    supported algorithm, the public key in base64).
PUT /api/keygroups/{name} | Replace a key group | The whole list of keys.
GET /api/keygroups/{name} | A key group | Its keys.
DELETE /api/keygroups/{name} | Delete a key group | Refused (2305) while a domain uses it.
POST /api/domains | Register a domain | For one year, renewed automatically; debits the registration fee
    (402 when the prepayment does not cover it).
GET /api/domains/{name} | A domain | One of your domains (A-label and U-label), or another registrar's
    with its valid transfer code.
PUT /api/domains/{name} | Update a domain | Replaces its tech and onsite contacts, name servers and
    groups.
DELETE /api/domains/{name} | Delete a domain | Schedules the deletion on delete_date (a date with a time
    zone; past or none: as soon as the lifecycle job runs).
POST /api/domains/{name}/undelete | Cancel a deletion | Cancels a scheduled deletion.
POST /api/domains/{name}/reactivate | Reactivate from quarantine | The deleting registrar restores the
    domain as it was; priced as a reactivation.
POST /api/domains/{name}/transfer-code | Request a transfer code | Mailed to the registrant only: 5x3
    digits, valid 7 days, at most 4 sends.
POST /api/domains/{name}/transfer | Transfer a domain | With its valid transfer code, at once; the
    registrant an alias of yours or #AUTO#.
PUT /api/domains/{name}/transfer-lock | Set the transfer lock | clientTransferProhibited, on the
    registrant's request you keep as proof.
DELETE /api/domains/{name}/transfer-lock | Lift the transfer lock | Removes clientTransferProhibited.
POST /api/domains/{name}/lock-complaint/answer | Answer a lock complaint | The evidence the lock rests
    on, within 48 hours.
GET /api/registrar/lock-complaints | Your open lock complaints | Complaints about your transfer locks
    that wait for your answer.
POST /api/operator/registrars | Create an active registrar | The operator's shortcut; the onboarding
    flow goes through applications.
GET /api/operator/registrars/{registrar_id} | A registrar | Any registrar's account.
PUT /api/operator/registrars/{registrar_id}/official-address | Set the official address | The contract
    and invoice address (read-only for the registrar).
POST /api/operator/registrars/{registrar_id}/prepayments | Book a prepayment | Credits the registrar's
    balance.
PUT /api/operator/registrars/{registrar_id}/status | Suspend or reinstate a registrar | ACTIVE or
    SUSPENDED; a pending registrar becomes ACTIVE only by its own activation.
PUT /api/operator/registrars/{registrar_id}/lock-function | Withdraw or give back the lock function |
    Withdrawing lifts the registrar's client locks.
POST /api/operator/lifecycle/run | Run the lifecycle job | Deletions due, quarantine releases,
    unanswered lock complaints: now.
POST /api/operator/renewal/run | Run the renewal | The month-end renewal now; renews only what is due.
PUT /api/operator/domains/{name}/statuses/{status} | Set a server status | serverTransferProhibited,
    serverUpdateProhibited or serverDeleteProhibited.
DELETE /api/operator/domains/{name}/statuses/{status} | Clear a server status | Removes a server status.
POST /api/operator/domains/{name}/lock-complaints | File a lock complaint | The registrar answers within
    48 hours or its lock is lifted.
POST /api/operator/lock-complaints/{complaint_id}/decision | Decide a lock complaint | Upheld lifts the
    lock.
POST /api/operator/applications | Record an application | A registrar applicant's organisation, products
    and prepayment.
GET /api/operator/applications | List applications | Every application and its step.
GET /api/operator/applications/{application_id} | An application | One application and its step.
POST /api/operator/applications/{application_id}/contract | Record the contract | Creates the account,
    pending, and returns the 12-digit security code once.
POST /api/operator/applications/{application_id}/prepayment | Record the prepayment | Books the first
    prepayment.
POST /api/operator/applications/{application_id}/security-code | Issue a new security code | After five
    wrong codes locked the activation.
POST /api/activation | Activate your account | Registrar id, the security code of your letter, and your
    web and EPP passwords.
GET /api/public/registrars | Find a registrar | Active registrars offering a product, with their product
    URLs.
POST /api/token/refresh | Refresh the access token | A new access token (and refresh token) for a session
    that is still open; the refresh token sent no longer works.
GET /api/operator/registrars | List registrars | Every registrar by id (of one status with `status`), for
    the staff pages.
GET /api/operator/lock-complaints | List lock complaints | Every lock complaint, newest first (of one
    status with `status`).
GET /api/operator/domains/{name} | A domain as the registry holds it | Any registrar's domain, with its
    override, for the staff pages.
POST /api/staff/login | Staff sign in | Staff id, password and the 2-step code (always required) in one
    call; or in two steps: without `code`, a right password of an active account answers 401 with
    `two_step_required` and a `pending` token (5 minutes) for POST /api/staff/login/code. 5 failures from one
    address pause it (429 with Retry-After); wrong codes count too. Every sign-in is audited.
POST /api/staff/login/code | Staff sign in: the 2-step code | The second step: the `pending` token and the
    2-step code; as POST /api/login/code, and audited.
POST /api/staff/logout | Staff sign out | Ends the staff session of the token sent.
GET /api/staff/me | Who am I | The signed-in staff member's account and role.
GET /api/operator/staff | List staff | Every staff account with its role and whether it is active.
POST /api/operator/staff | Create a staff account | Its 2-step secret is in the answer, shown once.
PUT /api/operator/staff/{staff_id}/active | Disable or enable a staff account | Disabling ends its
    sessions.
POST /api/operator/staff/{staff_id}/two-step | Reset a staff member's 2-step | A new secret, shown once.
GET /api/operator/audit | The audit trail | The registry's staff actions, newest first: who did what to
    which subject, and how it ended.
"""


def _parse(table: str) -> dict[tuple[str, str], tuple[str, str]]:
    entries: list[str] = []
    for line in table.strip().splitlines():
        if line.startswith(" ") and entries:
            entries[-1] += " " + line.strip()
        else:
            entries.append(line.strip())
    docs = {}
    for entry in entries:
        operation, summary, description = (part.strip() for part in entry.split(" | ", 2))
        method, path = operation.split(" ", 1)
        docs[(method, path)] = (summary, description)
    return docs


DOCS = _parse(_TABLE)

_ERROR = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}}
_WHY = {401: "No valid token (log in first; the operator token on /api/operator)",
        402: "Not enough prepayment (2104)", 403: "Not allowed for this user or registrar (2201, 2202)",
        404: "No such object of yours (2303)",
        409: "The object's state or another object prohibits it (2302, 2304, 2305, 2308), or hitpoints block "
             "the registrar (2308, on every command)",
        422: "Invalid input (2003, 2005, 2306): errors name each field", 429: "Paused (2502): retry after Retry-After"}
_PAID = {("POST", "/api/domains"), ("POST", "/api/domains/{name}/transfer"),
         ("POST", "/api/domains/{name}/reactivate")}
_PAUSED = {("POST", "/api/login"), ("POST", "/api/activation"), ("POST", "/api/staff/login"),
           ("POST", "/api/login/code"), ("POST", "/api/staff/login/code")}
# the sign-in steps answer their 401 with LoginRefused (two_step_required, sign_in_again)
_SIGN_IN_STEPS = {("POST", "/api/login"), ("POST", "/api/staff/login"), ("POST", "/api/login/code"),
                  ("POST", "/api/staff/login/code")}
_LOGIN_REFUSED = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/LoginRefused"}}}}
_WHY_LOGIN = ("Refused (2200): a wrong or unknown user id or password, or a wrong 2-step code; with "
              "`two_step_required` the password was right and the code step follows with `pending`; with "
              "`sign_in_again` the pending token is unknown, used or expired")
_REFUSED_TOKEN = {("POST", "/api/token/refresh")}  # no bearer token, but a refresh token that may be refused


# which token an operation takes, by its path (the first prefix that matches)
_SECURITY = (("/api/operator", "operator"), ("/api/staff", "staff"), ("/", "registrar"))


def _error_codes(method: str, path: str, security: str | None) -> list[int]:
    codes = [422]
    if security is not None:  # a staff member whose role may not do it: 403, as a registrar user's permission
        codes += [401, 403] + ([404, 409] if security != "staff" else [])
    if (method, path) in _PAID:
        codes.append(402)
    if (method, path) in _PAUSED:
        codes += [401, 429]
    if (method, path) in _REFUSED_TOKEN:
        codes.append(401)
    return sorted(set(codes))


def document(app: FastAPI) -> dict[str, Any]:
    schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
    components = schema.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    schemas["ErrorBody"] = ErrorBody.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas["ErrorBody"].pop("$defs", None)
    schemas["FieldError"] = FieldError.model_json_schema()
    schemas["LoginRefused"] = LoginRefused.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas["LoginRefused"].pop("$defs", None)
    components["securitySchemes"] = {
        "registrar": {"type": "http", "scheme": "bearer",
                      "description": "a registrar user's session token from POST /api/login"},
        "operator": {"type": "http", "scheme": "bearer",
                     "description": "the registry operator token (automation), or a staff member's session token "
                                    "from POST /api/staff/login whose role may do it (audited)"},
        "staff": {"type": "http", "scheme": "bearer",
                  "description": "a staff member's session token from POST /api/staff/login"},
    }
    for path, operations in schema["paths"].items():
        for method, op in operations.items():
            summary, description = DOCS.get((method.upper(), path), (op.get("summary"), op.get("description")))
            op["summary"], op["description"] = summary, op.get("description") or description or summary
            security = None
            if op.pop("security", None) is not None:
                security = next(s for prefix, s in _SECURITY if path.startswith(prefix))
                op["security"] = [{security: []}]
            if not path.startswith("/api/"):
                continue
            for code in _error_codes(method.upper(), path, security):
                op["responses"][str(code)] = {"description": _WHY[code], **_ERROR}
            if (method.upper(), path) in _SIGN_IN_STEPS:
                op["responses"]["401"] = {"description": _WHY_LOGIN, **_LOGIN_REFUSED}
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    return schema


def install(app: FastAPI) -> None:
    shared_openapi.install(app, document)
