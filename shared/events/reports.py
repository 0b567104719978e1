"""Report events (published by the reporting service). Notifications mails the registrar when a new quarterly
report is ready."""

from __future__ import annotations

from pydantic import Field

from shared.events.envelope import EventPayload


class QuarterlyReportReady(EventPayload):
    """A registrar's quarterly .be registrar report was generated (envelope registrar_id: whose report)."""

    event_type = "report.quarterly_ready"
    producer = "reporting"

    quarter: str = Field(description="the quarter reported on, e.g. 2026-Q3")
    url: str = Field(description="where a user with the reports permission reads it (HTML)")
    zip_name: str = Field(description="the raw-data archive's file name")


class DailyReportsGenerated(EventPayload):
    """The daily reports of every registrar were generated (no registrar_id: one event per run)."""

    event_type = "report.daily_generated"
    producer = "reporting"

    day: str = Field(description="the Brussels day of the run, YYYY-MM-DD")
    registrars: int = Field(description="how many registrars got their reports")
    domains: int = Field(description="registration rows written")
    seconds: float = Field(description="how long the generation took")
