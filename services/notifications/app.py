"""The notifications service process. A skeleton: health, metrics, AsyncAPI, its database and broker connection;
its queue is declared when its issue gives it the events it handles."""

from __future__ import annotations

from fastapi import FastAPI

from services.notifications import __doc__ as DESCRIPTION
from services.notifications.settings import NotificationsSettings
from shared.runtime import ServiceSpec, create_app


def build(settings: NotificationsSettings | None = None) -> FastAPI:
    return create_app(
        ServiceSpec(
            name="notifications",
            settings=settings or NotificationsSettings(),
            description=DESCRIPTION,
        )
    )
