"""Support's pages: the verification review queue, a case with its uploaded documents (viewed through the
console with the staff member's token), the decision (approve / reject with a note / ask for more), raising
the cap of verifications per individual, and the support notices."""

# no `from __future__ import annotations`: FastAPI must resolve the dependencies in the signatures

from typing import Annotated

from fastapi import APIRouter, Path
from fastapi.responses import HTMLResponse, Response

from services.console.client import ApiRefused
from services.console.staff.access import Staff
from services.console.staff.registrars import act, said

CASE_ID = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$")]
DECISIONS = {"approve": "Approved: the registrant's domains are delegated again.",
             "reject": "Rejected: the registrant sees your note.",
             "ask_more": "Asked for more: the registrant may upload once more and sees your note."}


def router() -> APIRouter:
    api = APIRouter(prefix="/staff")

    @api.get("/verification", response_class=HTMLResponse)
    async def queue(page: Staff) -> Response:
        cases = await page.api.get("verification", "/api/support/verification/queue")
        return await page.show("queue.html", cases=cases)

    @api.get("/verification/{case_id}", response_class=HTMLResponse)
    async def case(case_id: CASE_ID, page: Staff) -> Response:
        found = await page.found("verification", f"/api/support/verification/cases/{case_id}")
        if found is None:
            return await page.show("missing.html", status_code=404, what=page._("verification case {id}").format(id=case_id))
        return await page.show("case.html", c=found["case"], documents=found["documents"])

    @api.get("/verification/{case_id}/documents/{document_id}")
    async def document(case_id: CASE_ID, document_id: CASE_ID, page: Staff) -> Response:
        upstream = await page.api.raw("verification", "GET",
                                      f"/api/support/verification/cases/{case_id}/documents/{document_id}")
        content_type = upstream.headers.get("content-type", "application/octet-stream")
        # an image is shown in the browser, in a sandbox (it can run nothing on the console's origin); a PDF is
        # downloaded, to be opened by the reader's PDF viewer
        disposition = "inline" if content_type.startswith("image/") else f'attachment; filename="{document_id}.pdf"'
        return Response(upstream.content, media_type=content_type, headers={
            "Content-Disposition": disposition, "Content-Security-Policy": "sandbox; default-src 'none'; img-src 'self'",
            "X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"})

    @api.post("/verification/{case_id}/review")
    async def review(case_id: CASE_ID, page: Staff) -> Response:
        form = await page.form()
        decision = str(form.get("decision", ""))
        note = str(form.get("note", "")).strip() or None
        subject = str(form.get("subject", "")).strip() or None
        if decision not in DECISIONS:
            return page.redirect(f"/staff/verification/{case_id}", page._("Choose a decision."), "error")
        if decision in ("reject", "ask_more") and not note:
            return page.redirect(f"/staff/verification/{case_id}",
                                 page._("Write a note for the registrant: it says why, and what to do."), "error")
        try:
            await page.api.post("verification", f"/api/support/verification/cases/{case_id}/review",
                                {"decision": decision, "note": note, "subject": subject})
        except ApiRefused as exc:
            return page.redirect(f"/staff/verification/{case_id}", said(exc, page._), "error")
        return page.redirect("/staff/verification", page._(DECISIONS[decision]))

    @api.post("/verification/{case_id}/raise-cap")
    async def raise_cap(case_id: CASE_ID, page: Staff) -> Response:
        extra = str((await page.form()).get("extra", "1")).strip()
        return await act(page, f"/staff/verification/{case_id}", page._("The cap is raised and the case approved."),
                         page.api.post("verification", f"/api/support/verification/cases/{case_id}/raise-cap",
                                       {"extra": int(extra) if extra.isdigit() else 0}))

    @api.get("/notices", response_class=HTMLResponse)
    async def notices(page: Staff) -> Response:
        rows = await page.api.get("verification", "/api/support/verification/notices")
        return await page.show("notices.html", rows=rows)

    return api
