"""What every service's operations endpoints answer (shared/runtime.py), as models for the OpenAPI document."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Liveness(BaseModel):
    status: str = Field(examples=["alive"])


class ReadinessChecks(BaseModel):
    broker: bool = Field(description="RabbitMQ answers a ping")
    database: bool = Field(description="MongoDB answers a ping")
    started: bool = Field(description="start-up (indexes, consumers, relay) has finished")


class Readiness(BaseModel):
    status: str = Field(description="`ready` (200) when every check holds, else `not ready` (503)",
                        examples=["ready"])
    checks: ReadinessChecks


class AsyncApiDocument(BaseModel):
    """The service's AsyncAPI 3 document: the events it publishes and consumes."""

    model_config = ConfigDict(extra="allow")

    asyncapi: str = Field(examples=["3.0.0"])
    info: dict[str, Any]
    channels: dict[str, Any] = Field(default_factory=dict)
    operations: dict[str, Any] = Field(default_factory=dict)
    components: dict[str, Any] = Field(default_factory=dict)
