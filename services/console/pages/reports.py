"""Reports (the daily files with their generation time; the quarterly report in the browser and its ZIP) and
Messages (the poll queue, with acknowledge).

The quarterly report's mail links to `<public url>/api/reports/quarterly/<quarter>`: with reporting's PUBLIC_URL
set to the console's address, that link opens here with the browser's session (signing in first if need be)."""

# no `from __future__ import annotations`: FastAPI must resolve the dependencies in the signatures

import re

from fastapi import APIRouter, HTTPException
from fastapi.responses import HTMLResponse, Response

from services.console.client import ApiRefused
from services.console.web import SignedIn

_REPORT = re.compile(r"^[a-z0-9_-]{1,40}$")
_QUARTER = re.compile(r"^\d{4}-Q[1-4]$")
_MSG_ID = re.compile(r"^([0-9]{1,18}|[0-9a-f]{24})$")  # as notifications: a number; older messages an ObjectId
# the quarterly report is the reporting service's self-contained page (inline styles and charts): it runs
# sandboxed, in an origin of its own, never with the console's cookies or forms
REPORT_CSP = ("sandbox allow-scripts; default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; "
              "img-src data:; font-src data:")


def _file(upstream_content: bytes, media_type: str, disposition: str | None, csp: str | None = None) -> Response:
    headers = {"Content-Disposition": disposition} if disposition else {}
    if csp:
        headers["Content-Security-Policy"] = csp
    return Response(upstream_content, media_type=media_type, headers=headers)


def router() -> APIRouter:
    api = APIRouter()

    @api.get("/reports", response_class=HTMLResponse)
    async def reports(page: SignedIn) -> Response:
        daily = await page.api.get("reporting", "/api/reports/daily")
        quarterly = await page.api.get("reporting", "/api/reports/quarterly")
        return await page.render("reports.html", title="Reports", daily=daily, quarterly=quarterly)

    @api.get("/reports/daily/{report}.{fmt}")
    async def daily_file(page: SignedIn, report: str, fmt: str) -> Response:
        if not _REPORT.match(report) or fmt not in ("csv", "xml"):
            raise HTTPException(404, "No such report.")
        upstream = await page.api.raw("reporting", "GET", f"/api/reports/daily/{report}.{fmt}")
        return _file(upstream.content, upstream.headers.get("content-type", "application/octet-stream"),
                     upstream.headers.get("content-disposition"))

    @api.get("/reports/quarterly/{quarter}.zip")
    @api.get("/api/reports/quarterly/{quarter}.zip")
    async def quarterly_zip(page: SignedIn, quarter: str) -> Response:
        if not _QUARTER.match(quarter):
            raise HTTPException(404, "No such quarter.")
        upstream = await page.api.raw("reporting", "GET", f"/api/reports/quarterly/{quarter}.zip")
        return _file(upstream.content, "application/zip", upstream.headers.get("content-disposition"))

    @api.get("/reports/quarterly/{quarter}")
    @api.get("/api/reports/quarterly/{quarter}")
    async def quarterly_html(page: SignedIn, quarter: str) -> Response:
        if not _QUARTER.match(quarter):
            raise HTTPException(404, "No such quarter.")
        upstream = await page.api.raw("reporting", "GET", f"/api/reports/quarterly/{quarter}")
        return _file(upstream.content, "text/html; charset=utf-8", None, csp=REPORT_CSP)

    # -- messages (the poll queue) -------------------------------------------------------------------------------------

    @api.get("/messages", response_class=HTMLResponse)
    async def messages(page: SignedIn) -> Response:
        queue = await page.api.get("notifications", "/api/poll/messages", limit=100)
        return await page.render("messages.html", title="Messages", queue=queue)

    @api.post("/messages/{msg_id}/ack", response_class=HTMLResponse)
    async def ack(page: SignedIn, msg_id: str) -> Response:
        if not _MSG_ID.match(msg_id):
            raise HTTPException(404, "No such message.")
        try:
            await page.api.post("notifications", f"/api/poll/messages/{msg_id}/ack")
        except ApiRefused as refused:
            queue = await page.api.get("notifications", "/api/poll/messages", limit=100)
            return await page.render("messages.html", status_code=refused.status, title="Messages", queue=queue,
                                     refused=refused)
        return page.redirect("/messages", page._("The message has been acknowledged."))

    return api
