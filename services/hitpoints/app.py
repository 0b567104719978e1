"""The hitpoints service process. A skeleton: health, metrics, AsyncAPI, its database and broker connection;
its queue is declared when its issue gives it the events it handles."""

from __future__ import annotations

from fastapi import FastAPI

from services.hitpoints import __doc__ as DESCRIPTION
from services.hitpoints.settings import HitpointsSettings
from shared.runtime import ServiceSpec, create_app


def build(settings: HitpointsSettings | None = None) -> FastAPI:
    return create_app(
        ServiceSpec(
            name="hitpoints",
            settings=settings or HitpointsSettings(),
            description=DESCRIPTION,
        )
    )
