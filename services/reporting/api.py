"""Reporting's HTTP API.

Registrar users authenticate with the registry's session token (shared/auth.py) and see only their own
registrar's reports: the daily reports (CSV and XML, streamed from disk), Top 100, Top 30 and the
quarterly report (HTML and the raw-data ZIP). They need the REPORTS_PERMISSION. Operators (bearer
operator token) trigger generation; a run while another is under way (any replica) is refused with 409.
The portfolio counts are what the Top 100 shows: the list with the same permission, or the operator
token; one registrar's count only for that registrar (or the operator).
"""

# no `from __future__ import annotations`: FastAPI must resolve the dependencies in the signatures

import contextlib
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Query, status
from fastapi.responses import FileResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field

from services.reporting import daily
from services.reporting.periods import QUARTER, brussels_last_month, month_of, previous_month
from services.reporting.render import zip_name
from services.reporting.runs import RunInProgress
from services.reporting.service import REGISTRAR_ID, reporting_of
from services.reporting.toplists import position_of, rank
from shared.auth import SessionClaims, operator_guard
from shared.staff import Staff, StaffActor, audit_router, staff_guard
from shared.clock import brussels
from shared.openapi import EITHER_TOKEN
from shared.runtime import ServiceContext

# the registry's permission names (services/registry/users/model.py Permission): there is no separate reports
# permission, so reading reports needs access to My Registrations
REPORTS_PERMISSION = "MY_REGISTRATIONS"


class PortfolioView(BaseModel):
    registrar_id: str
    domains: int


class DailyFile(BaseModel):
    report: str
    title: str
    format: str
    url: str


class DailyReports(BaseModel):
    registrar_id: str
    generated_at: datetime | None = Field(description="when the reports were generated (Brussels time)")
    files: list[DailyFile]


class TopEntry(BaseModel):
    position: int
    registrar_id: str
    name: str
    count: int
    share_percent: float | None = None
    last_month_position: int | None = None


class TopList(BaseModel):
    period: str | None = Field(default=None, description="Top 30: the month counted")
    total: int = Field(description="all domains (Top 100) or all paying transactions (Top 30)")
    entries: list[TopEntry]
    own: TopEntry | None = Field(description="the asking registrar's own position (also when outside the list)")


class QuarterlyReport(BaseModel):
    quarter: str
    generated_at: datetime
    html_url: str
    zip_url: str
    zip_name: str


class GenerationResult(BaseModel):
    kind: str
    period: str
    registrars: int
    seconds: float
    rows: dict[str, int] = Field(default_factory=dict)


def router(ctx: ServiceContext) -> APIRouter:
    api = APIRouter(prefix="/api", tags=["reports"])
    auth = ctx.session_auth
    reader = auth.requires(REPORTS_PERMISSION)
    operator = operator_guard(ctx.settings.operator_token)  # type: ignore[attr-defined]
    Reader = Annotated[SessionClaims, Depends(reader)]
    # generating reports: staff (operators) or the automation's token, audited (shared/staff.py)
    operator_staff = staff_guard(ctx)
    Op = Annotated[StaffActor, Staff(operator_staff)]

    async def reader_or_operator(
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(HTTPBearer(auto_error=False))],
    ) -> str | None:
        """The reading registrar, or None for the operator (who reads every registrar's)."""
        with contextlib.suppress(HTTPException):
            await operator(credentials)
            return None
        return (await reader(credentials)).registrar_id  # its 401 / 403

    ReaderOrOp = Annotated[str | None, Depends(reader_or_operator)]

    def reporting():
        return reporting_of(ctx)

    # -- portfolios (issue 2) ---------------------------------------------------------------------------------

    @api.get("/portfolios", response_model=list[PortfolioView], openapi_extra=EITHER_TOKEN)
    async def all_portfolios(_: ReaderOrOp) -> list[PortfolioView]:
        """Every registrar's active registrations (outside quarantine), largest first."""
        ranked = rank(await reporting().portfolios())
        return [PortfolioView(registrar_id=r.registrar_id, domains=r.count) for r in ranked]

    @api.get("/portfolios/{registrar_id}", response_model=PortfolioView, openapi_extra=EITHER_TOKEN)
    async def portfolio(registrar_id: str, reader_id: ReaderOrOp) -> PortfolioView:
        """One registrar's count: a registrar reads its own (the list is where it sees the others'), the
        operator any."""
        if reader_id is not None and reader_id != registrar_id:
            raise HTTPException(status.HTTP_403_FORBIDDEN, "a registrar reads only its own portfolio here; "
                                "GET /api/portfolios lists every registrar's count")
        return PortfolioView(registrar_id=registrar_id, domains=(await reporting().portfolios()).get(registrar_id, 0))

    # -- daily reports ----------------------------------------------------------------------------------------

    @api.get("/reports/daily", response_model=DailyReports)
    async def my_daily_reports(user: Reader) -> DailyReports:
        """The user's registrar's daily reports and when they were generated."""
        generated = await reporting().daily_generated_at()
        directory = reporting().daily_dir(user.registrar_id)
        files = [DailyFile(report=k.name, title=k.title, format=fmt, url=f"/api/reports/daily/{k.name}.{fmt}")
                 for k in daily.KINDS.values() for fmt in daily.FORMATS if (directory / f"{k.name}.{fmt}").is_file()]
        return DailyReports(registrar_id=user.registrar_id,
                            generated_at=brussels(generated) if generated and files else None, files=files)

    @api.get("/reports/daily/{report}.{fmt}", response_class=FileResponse,
             responses={200: {"description": "the file, named REGISTRAR-REPORT-YYYYMMDDTHHMM.FMT (generation time)",
                              "content": {"text/csv": {"schema": {"type": "string"}},
                                          "application/xml": {"schema": {"type": "string"}}}},
                        404: {"description": "no such report, or not generated yet"}})
    async def daily_report(user: Reader, report: str, fmt: str) -> FileResponse:
        """One daily report file of the user's registrar, streamed."""
        if report not in daily.KINDS or fmt not in daily.FORMATS or not REGISTRAR_ID.match(user.registrar_id):
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"no daily report {report}.{fmt}: reports are "
                                f"{', '.join(daily.KINDS)} in {' or '.join(daily.FORMATS)}")
        path = reporting().daily_dir(user.registrar_id) / f"{report}.{fmt}"
        if not path.is_file():
            raise HTTPException(status.HTTP_404_NOT_FOUND, "not generated yet")
        stamp = brussels(datetime.fromtimestamp(path.stat().st_mtime).astimezone()).strftime("%Y%m%dT%H%M")
        media = "text/csv; charset=utf-8" if fmt == "csv" else "application/xml"
        return FileResponse(path, media_type=media, filename=f"{user.registrar_id}-{report}-{stamp}.{fmt}")

    # -- top lists --------------------------------------------------------------------------------------------

    @api.get("/reports/top100", response_model=TopList)
    async def top100(user: Reader) -> TopList:
        """Registrars by portfolio size, with their share of all domains, and the user's own position."""
        names = await reporting().names()
        ranked = rank(await reporting().portfolios())

        def entry(r):
            return TopEntry(position=r.position, registrar_id=r.registrar_id, name=names.get(r.registrar_id,
                            r.registrar_id), count=r.count, share_percent=r.share)

        own = position_of(ranked, user.registrar_id)
        return TopList(total=sum(r.count for r in ranked),
                       entries=[entry(r) for r in ranked[:reporting().settings.top_list_size]],
                       own=entry(own) if own else None)

    @api.get("/reports/top30", response_model=TopList)
    async def top30(user: Reader, month: Annotated[str | None, Query(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")] = None
                    ) -> TopList:
        """Registrars by paying transactions of the last calendar month (or `month`), with last month's position."""
        period = month or brussels_last_month(ctx.clock.now())
        names = await reporting().names()
        ranked = rank(await reporting().paying_by_registrar(period))
        before = {r.registrar_id: r.position for r in rank(await reporting().paying_by_registrar(previous_month(period)))}

        def entry(r):
            return TopEntry(position=r.position, registrar_id=r.registrar_id,
                            name=names.get(r.registrar_id, r.registrar_id), count=r.count,
                            last_month_position=before.get(r.registrar_id))

        own = position_of(ranked, user.registrar_id)
        return TopList(period=period, total=sum(r.count for r in ranked),
                       entries=[entry(r) for r in ranked[:reporting().settings.top_transactions_size]],
                       own=entry(own) if own else None)

    # -- quarterly --------------------------------------------------------------------------------------------

    Quarter = Annotated[str, Path(pattern=QUARTER.pattern)]

    def quarterly_view(doc: dict) -> QuarterlyReport:
        q = doc["quarter"]
        return QuarterlyReport(quarter=q, generated_at=brussels(doc["generated_at"]),
                               html_url=f"/api/reports/quarterly/{q}", zip_url=f"/api/reports/quarterly/{q}.zip",
                               zip_name=zip_name(q, doc["registrar_id"]))

    @api.get("/reports/quarterly", response_model=list[QuarterlyReport])
    async def my_quarterly_reports(user: Reader) -> list[QuarterlyReport]:
        """The quarters whose .be registrar report is ready for the user's registrar, with their links."""
        return [quarterly_view(d) for d in await reporting().quarters_of(user.registrar_id)]

    def quarterly_file(registrar_id: str, name: str) -> FileResponse:
        path = reporting().quarterly_dir(registrar_id) / name
        if not REGISTRAR_ID.match(registrar_id) or not path.is_file():
            raise HTTPException(status.HTTP_404_NOT_FOUND, "no report for that quarter")
        if name.endswith(".zip"):
            return FileResponse(path, media_type="application/zip", filename=name)
        return FileResponse(path, media_type="text/html; charset=utf-8")

    @api.get("/reports/quarterly/{quarter}.zip", response_class=FileResponse, responses={200: {
        "description": "a ZIP archive of CSV files",
        "content": {"application/zip": {"schema": {"type": "string", "format": "binary"}}}}})
    async def quarterly_zip(user: Reader, quarter: Quarter) -> FileResponse:
        """The raw data of the quarter: CSV files of the registrar and its benchmark groups."""
        return quarterly_file(user.registrar_id, zip_name(quarter, user.registrar_id))

    @api.get("/reports/quarterly/{quarter}", response_class=FileResponse, responses={200: {
        "description": "an HTML page", "content": {"text/html": {"schema": {"type": "string"}}}}})
    async def quarterly_html(user: Reader, quarter: Quarter) -> FileResponse:
        """The .be registrar report of the quarter, as a page with charts."""
        return quarterly_file(user.registrar_id, f"{quarter}.html")

    # -- operators --------------------------------------------------------------------------------------------

    @api.post("/operator/reports/daily", response_model=GenerationResult, tags=["operator"])
    async def run_daily(_: Op) -> GenerationResult:
        """Generate every registrar's daily reports now (409 while another run is under way)."""
        try:
            run = await reporting().generate_daily()
        except RunInProgress as exc:
            raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from exc
        return GenerationResult(kind="daily", period=run.day, registrars=run.registrars, seconds=round(run.seconds, 3),
                                rows=run.rows)

    @api.post("/operator/reports/quarterly/{quarter}", response_model=GenerationResult, tags=["operator"])
    async def run_quarterly(quarter: Quarter, _: Op) -> GenerationResult:
        """Generate every registrar's quarterly report for `quarter` (YYYY-Qn) and announce each, once: a re-run
        replaces the files without a second announcement."""
        if month_of(ctx.clock.now()) <= f"{quarter[:4]}-{3 * int(quarter[-1]):02d}":
            raise HTTPException(status.HTTP_409_CONFLICT, f"{quarter} has not ended yet")
        try:
            run = await reporting().generate_quarterly(quarter)
        except RunInProgress as exc:
            raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from exc
        return GenerationResult(kind="quarterly", period=quarter, registrars=run.registrars,
                                seconds=round(run.seconds, 3))

    api.include_router(audit_router(ctx, operator_staff, prefix="/operator"))
    return api
