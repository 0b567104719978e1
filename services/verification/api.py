"""The verification HTTP API.

- The registrant, on the verification URL's token (no login: the token is the credential; a wrong or
  expired one is a 404 that does not say why): see the case, start eID, upload documents.
- The eID provider's callback (404 while EID_PROVIDER names none), and the simulated provider's page
  (only with EID_PROVIDER=simulator: local runs and tests).
- The registrar (session token from the registry, MY_REGISTRATIONS; its own contacts only): case status,
  the verification URL (to inform the registrant itself), re-send the mail.
- Support (a support or operator staff token, or the operator token; audited): the review queue, documents, approve / reject / ask for more, raise the cap.
- Operators: the "verification at registrar" switch per registrar, the periodic job.
"""

# no `from __future__ import annotations`: FastAPI must resolve the dependencies in the signatures

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Request, Response, status
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import BaseModel, ConfigDict, Field

from services.verification.eid import InvalidCallback, SimulatedEid
from services.verification.service import (
    EID_UNAVAILABLE,
    ChangedMeanwhile,
    NotFound,
    Refused,
    verification_of,
)
from services.verification.transitions import AWAITING_REGISTRANT, CaseStatus, TransitionRefused
from services.verification.uploads import ACCEPTED_TYPES, BadUpload, read_uploads
from shared.auth import SessionClaims
from shared.staff import ANY_STAFF, Staff, StaffActor, audit_router, staff_guard
from shared.runtime import ServiceContext

VIEW_PERMISSION = "MY_REGISTRATIONS"
_CASE_ID = r"^[0-9a-f]{32}$"
_NOT_FOUND = HTTPException(status.HTTP_404_NOT_FOUND, {"message": "not found"})


class RegistrantView(BaseModel):
    status: str = Field(description="OPEN, EID_STARTED, IN_REVIEW, MORE_INFO, SUPPORT, APPROVED, FAILED, CANCELLED")
    contact: str
    domains: list[str]
    attempts_left: int
    can_start_eid: bool
    can_upload: bool
    deadline: datetime
    message: str | None = Field(default=None, description="what the registrant should do now")
    note: str | None = Field(default=None, description="support's last word: what it asks for, or why it rejected")
    language: str | None = Field(default=None, description="the contact's language (nl, fr, en), for the pages")
    accepted_types: list[str] = Field(default_factory=lambda: list(ACCEPTED_TYPES))
    max_document_bytes: int = 0
    max_documents_per_upload: int = 0


class CaseView(BaseModel):
    case_id: str
    contact: str
    registrar_id: str | None
    status: str
    why: str
    flagged: dict[str, str]
    domains: list[str]
    attempts: int
    allowed: int
    opened_at: datetime
    updated_at: datetime
    deadline: datetime
    method: str | None = None
    failure: str | None = None
    request: str | None = Field(default=None, description="what support last asked for")
    history: list[dict[str, Any]]


class DocumentListed(BaseModel):
    document_id: str
    filename: str
    content_type: str
    size: int = Field(description="bytes")
    uploaded_at: str = Field(description="ISO 8601")


class CaseDetail(BaseModel):
    case: CaseView
    documents: list[DocumentListed] = Field(description="what the registrant uploaded (the files: .../documents/{id})")


class Notice(BaseModel):
    """Something support should look at about a contact's verification."""

    model_config = ConfigDict(extra="allow")

    contact: str
    case_id: str | None = None
    reason: str
    at: str = Field(description="ISO 8601")
    done: bool | None = None


class VerificationLink(BaseModel):
    contact: str
    case_id: str
    url: str = Field(description="the registrant's verification page")


class LinkResent(BaseModel):
    contact: str
    case_id: str
    status: str = Field(examples=["resent"])


class JobsRun(BaseModel):
    expired: int = Field(description="cases failed past their deadline")
    abandoned: int = Field(description="eID attempts ended unanswered")
    documents_deleted: int = Field(description="uploaded documents past their retention")


class ContactVerification(BaseModel):
    contact: str
    status: str = Field(description="UNVERIFIED, PENDING, VERIFIED or FAILED")
    case: CaseView | None


class Review(BaseModel):
    decision: Literal["approve", "reject", "ask_more"]
    note: str | None = Field(default=None, max_length=2000)
    subject: str | None = Field(default=None, max_length=200,
                                description="the identity document's number: counts against the individual's cap")


class RaiseCap(BaseModel):
    extra: int = Field(default=1, ge=1, le=100)


class RegistrarSwitch(BaseModel):
    verifies_itself: bool


def _case_view(case: dict[str, Any]) -> CaseView:
    return CaseView(case_id=case["_id"], **{k: case.get(k) for k in CaseView.model_fields if k != "case_id"})


def _message(case: dict[str, Any]) -> str | None:
    s = CaseStatus(case["status"])
    if s is CaseStatus.SUPPORT:
        return "please contact support to finish the verification"
    if s is CaseStatus.MORE_INFO:
        return f"support asks for more documents: {case.get('request') or ''}".strip()
    if s is CaseStatus.IN_REVIEW:
        return "your documents are being reviewed (up to 5 days)"
    return None


def _refused(exc: Exception) -> HTTPException:
    """409 with the reason in words, and its `kind` (and `params`) for a page in another language."""
    return HTTPException(status.HTTP_409_CONFLICT, {"message": getattr(exc, "message", None) or str(exc),
                                                    "kind": getattr(exc, "refusal", "changed_meanwhile"),
                                                    "params": getattr(exc, "params", {})})


def router(ctx: ServiceContext) -> APIRouter:
    api = APIRouter(tags=["verification"])
    auth = ctx.session_auth
    Viewer = Annotated[SessionClaims, Depends(auth.requires(VIEW_PERMISSION))]
    async def case_subject(request: Request) -> dict[str, Any] | None:  # the audit's before and after
        case_id = request.path_params.get("case_id")
        if case_id is None:
            return None
        return await ctx.db["cases"].find_one({"_id": case_id}, {"status": 1, "attempts": 1, "allowed": 1,
                                                                 "request": 1, "failure": 1, "method": 1})

    operator_guard = staff_guard(ctx, subject=case_subject)
    Op = Annotated[StaffActor, Staff(operator_guard)]
    Support = Annotated[StaffActor, Staff(staff_guard(ctx, ANY_STAFF, subject=case_subject))]
    # who looked at a registrant's identity documents is written down too
    DocumentReader = Annotated[StaffActor, Staff(staff_guard(ctx, ANY_STAFF, audit_reads=True))]
    CaseId = Annotated[str, Path(pattern=_CASE_ID)]
    Alias = Annotated[str, Path(min_length=3, max_length=16)]

    def app():  # type: ignore[no-untyped-def]
        return verification_of(ctx)

    def callback_url() -> str:
        return f"{app().settings.registrant_base_url}/verify/eid/callback"

    async def guarded(call: Any) -> Any:
        try:
            return await call
        except NotFound as exc:
            raise _NOT_FOUND from exc
        except (TransitionRefused, Refused, ChangedMeanwhile) as exc:
            raise _refused(exc) from exc

    # -- the registrant ------------------------------------------------------------------------------------------

    @api.get("/verify/eid/callback", tags=["registrant"], response_model=RegistrantView)
    async def eid_callback(request: Request) -> RegistrantView:
        """Where the eID provider sends the registrant back with the outcome."""
        eid = app().eid
        if eid is None:
            raise _NOT_FOUND
        try:
            result = eid.read_callback(dict(request.query_params))
        except InvalidCallback as exc:
            raise _NOT_FOUND from exc
        outcome = await guarded(app().eid_callback(result, request.state.correlation_id))
        return _registrant_view(outcome.case, outcome.message)

    def _registrant_view(case: dict[str, Any], message: str | None = None) -> RegistrantView:
        s = CaseStatus(case["status"])
        left = max(int(case["allowed"]) - int(case["attempts"]), 0)
        can_act = s in AWAITING_REGISTRANT and left > 0
        eid = app().eid is not None
        upload_only = EID_UNAVAILABLE if can_act and not eid else None  # no eID here: the page says to upload
        settings = app().settings
        note = case.get("request") if s in (CaseStatus.MORE_INFO, CaseStatus.FAILED) else None
        return RegistrantView(status=s.value, contact=case["contact"], domains=case["domains"], attempts_left=left,
                              can_start_eid=can_act and eid, can_upload=can_act, deadline=case["deadline"],
                              message=message or _message(case) or upload_only, note=note,
                              language=case.get("language"), max_document_bytes=settings.max_document_bytes,
                              max_documents_per_upload=settings.max_documents_per_upload)

    @api.get("/verify/{token}", tags=["registrant"], response_model=RegistrantView)
    async def registrant_case(token: str) -> RegistrantView:
        """The verification page: which domains, what to do."""
        return _registrant_view(await guarded(app().case_by_token(token)))

    @api.post("/verify/{token}/eid", tags=["registrant"])
    async def start_eid(token: str) -> dict[str, str]:
        """Start an electronic identification: go to `redirect_url`. Uses one attempt."""
        outcome = await guarded(app().start_eid(token, callback_url()))
        return {"redirect_url": outcome.redirect_url or ""}

    @api.post("/verify/{token}/documents", tags=["registrant"], response_model=RegistrantView, status_code=201)
    async def upload(token: str, request: Request) -> RegistrantView:
        """Upload identity documents (multipart/form-data, or JSON {"documents": [{filename, content_type,
        content_base64}]}); they go to support's review queue. Uses one attempt."""
        s = app().settings
        await guarded(app().case_by_token(token))  # a wrong token is a 404 before the body is read
        try:
            length = request.headers.get("content-length")
            uploads = await read_uploads(request.headers.get("content-type", ""), request.stream(),
                                         s.max_document_bytes, s.max_documents_per_upload,
                                         int(length) if length and length.isdigit() else None)
        except BadUpload as exc:
            raise HTTPException(exc.status, {"message": str(exc), "kind": exc.kind, "params": exc.params}) from exc
        outcome = await guarded(app().upload(token, uploads))
        return _registrant_view(outcome.case)

    async def simulator(state: str, callback: str, outcome: Literal["success", "failure"] | None = None,
                        subject: str = "BE-SIM-00000001") -> Response:
        """The simulated eID provider: with `outcome` it 'identifies' `subject` and sends the registrant back."""
        eid = app().eid
        if not isinstance(eid, SimulatedEid):
            raise _NOT_FOUND
        if not callback.startswith(callback_url()):
            raise HTTPException(status.HTTP_400_BAD_REQUEST, {"message": "unknown callback"})
        if outcome is None:
            ok, ko = (eid.callback_url(callback, state, o, subject) for o in ("success", "failure"))
            return HTMLResponse(f'<p>eID simulator</p><a href="{ok}">identify {subject}</a> | <a href="{ko}">fail</a>')
        return RedirectResponse(eid.callback_url(callback, state, outcome, subject), status.HTTP_303_SEE_OTHER)

    # anyone holding a link approves itself with the simulator: it exists only where it was asked for
    if ctx.settings.eid_provider == "simulator":  # type: ignore[attr-defined]
        api.get("/eid-simulator/authorize", tags=["eid-simulator"], response_model=None)(simulator)

    # -- the registrar -------------------------------------------------------------------------------------------

    @api.get("/api/verification/contacts/{alias}", response_model=ContactVerification)
    async def contact_status(alias: Alias, user: Viewer) -> ContactVerification:
        """Your contact's verification status and its current case."""
        contact, case = await guarded(app().own_contact(user.registrar_id, alias))
        return ContactVerification(contact=alias, status=contact["status"], case=_case_view(case) if case else None)

    @api.get("/api/verification/contacts/{alias}/url", response_model=VerificationLink)
    async def contact_url(alias: Alias, user: Viewer) -> dict[str, str]:
        """The verification URL, for a registrar that informs its registrant itself."""
        case, link = await guarded(app().link_for_registrar(user.registrar_id, alias))
        return {"contact": alias, "case_id": case["_id"], "url": link}

    @api.post("/api/verification/contacts/{alias}/resend", status_code=202, response_model=LinkResent)
    async def resend(alias: Alias, user: Viewer, request: Request) -> dict[str, str]:
        """Send the verification mail to the registrant again. Asked for explicitly, so it is sent even when
        the registrar informs its registrants itself (such a registrar shows the URL from .../url instead)."""
        case = await guarded(app().resend(user.registrar_id, alias, request.state.correlation_id))
        return {"contact": alias, "case_id": case["_id"], "status": "resent"}

    # -- support -------------------------------------------------------------------------------------------------

    @api.get("/api/support/verification/queue", response_model=list[CaseView], tags=["support"])
    async def queue(_: Support) -> list[CaseView]:
        """Cases waiting for support (documents in review, registrants sent to support), oldest first."""
        return [_case_view(c) for c in await app().review_queue()]

    @api.get("/api/support/verification/cases/{case_id}", tags=["support"], response_model=CaseDetail)
    async def case(case_id: CaseId, _: Support) -> dict[str, Any]:
        """A case with the list of its documents."""
        c = await guarded(app().case(case_id))
        docs = await app().documents(case_id)
        return {"case": _case_view(c).model_dump(mode="json"),
                "documents": [{"document_id": d["_id"], "filename": d["filename"], "content_type": d["content_type"],
                               "size": d["size"], "uploaded_at": d["uploaded_at"].isoformat()} for d in docs]}

    @api.get("/api/support/verification/cases/{case_id}/documents/{document_id}", tags=["support"],
             response_class=Response, responses={200: {
                 "description": "the file as uploaded, as an attachment",
                 "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}}})
    async def document(case_id: CaseId, document_id: Annotated[str, Path(pattern=_CASE_ID)],
                       _: DocumentReader) -> Response:
        """One uploaded document, in the content type it was uploaded with (PDF, JPEG or PNG)."""
        for d in await app().documents(case_id, with_data=True):
            if d["_id"] == document_id:
                return Response(bytes(d["data"]), media_type=d["content_type"],
                                headers={"Content-Disposition": "attachment"})
        raise _NOT_FOUND

    @api.post("/api/support/verification/cases/{case_id}/review", response_model=CaseView, tags=["support"])
    async def review(case_id: CaseId, body: Review, who: Support, request: Request) -> CaseView:
        """Approve, reject (the note is shown to the registrant) or ask for more; the case's history names who."""
        return _case_view(await guarded(app().review(case_id, body.decision, body.note, body.subject,
                                                     request.state.correlation_id, by=who.actor)))

    @api.post("/api/support/verification/cases/{case_id}/raise-cap", response_model=CaseView, tags=["support"])
    async def raise_cap(case_id: CaseId, body: RaiseCap, who: Support, request: Request) -> CaseView:
        """The individual reached its cap of verifications: let it verify this case (and `extra` - 1 more)."""
        return _case_view(await guarded(app().raise_cap(case_id, body.extra, request.state.correlation_id,
                                                        by=who.actor)))

    @api.get("/api/support/verification/notices", tags=["support"], response_model=list[Notice])
    async def notices(_: Support) -> list[dict[str, Any]]:
        """The latest 500 notices for support, newest first."""
        return [n | {"at": n["at"].isoformat()} for n in await app().notices()]

    # -- operators -----------------------------------------------------------------------------------------------
    Registrar = Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9-]{2,31}$")]

    @api.put("/api/operator/verification/registrars/{registrar_id}", response_model=RegistrarSwitch,
             tags=["operator"])
    async def switch(registrar_id: Registrar, body: RegistrarSwitch, _: Op) -> RegistrarSwitch:
        """'Verification at registrar': its new contacts are verified at creation, existing ones on their next
        update, and its registrations are never selected."""
        await app().set_registrar(registrar_id, body.verifies_itself)
        return body

    @api.get("/api/operator/verification/registrars/{registrar_id}", response_model=RegistrarSwitch,
             tags=["operator"])
    async def switch_state(registrar_id: Registrar, _: Op) -> RegistrarSwitch:
        """Whether the registrar verifies its registrants itself."""
        return RegistrarSwitch(verifies_itself=await app().verifies_itself(registrar_id))

    @api.post("/api/operator/verification/jobs/run", tags=["operator"], response_model=JobsRun)
    async def run_jobs(_: Op) -> dict[str, int]:
        """What the periodic job does: end abandoned eID attempts, fail the cases past their deadline, refresh
        the gauges."""
        return await app().run_due()

    api.include_router(audit_router(ctx, operator_guard))
    return api
