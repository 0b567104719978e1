"""The verification service process. A skeleton: health, metrics, AsyncAPI, its database and broker connection;
its queue is declared when its issue gives it the events it handles."""

from __future__ import annotations

from fastapi import FastAPI

from services.verification import __doc__ as DESCRIPTION
from services.verification.settings import VerificationSettings
from shared.runtime import ServiceSpec, create_app


def build(settings: VerificationSettings | None = None) -> FastAPI:
    return create_app(
        ServiceSpec(
            name="verification",
            settings=settings or VerificationSettings(),
            description=DESCRIPTION,
        )
    )
