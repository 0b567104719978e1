"""The OpenAPI document of a service that takes the registry's tokens (hitpoints, verification,
notifications, reporting): which token each operation takes, and the refusals a token check answers.

FastAPI names every bearer check `HTTPBearer`; here an operation under /api/operator or /api/support takes a
staff member's token (or the operator token), any other one a registrar user's, unless the route says it takes
either (`openapi_extra=EITHER_TOKEN`: a registrar reads its own, staff any). A token check refuses with
401 (no valid token) or 403 (a permission or role that does not allow it), in FastAPI's error body. The
registry documents its own answers (services/registry/http/openapi.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel, Field

STAFF_PREFIXES = ("/api/operator", "/api/support")
SCHEMES = {
    "registrar": {"type": "http", "scheme": "bearer",
                  "description": "a registrar user's access token from the registry's POST /api/login"},
    "staff": {"type": "http", "scheme": "bearer",
              "description": "a staff member's token from the registry's POST /api/staff/login whose role may do "
                             "it, or the operator token"},
}


class Refusal(BaseModel):
    """FastAPI's error body: what was refused, in words."""

    detail: Any = Field(description="the reason (a text, or an object with a message)")


# marks a route that takes a registrar user's token or a staff token; `document` turns it into both schemes
EITHER_TOKEN = {"x-either-token": True}

_WHY = {401: "No valid token (log in at the registry first)",
        403: "The token's permission or role does not allow it"}


def document(app: FastAPI) -> dict[str, Any]:
    schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
    components = schema.setdefault("components", {})
    if components.pop("securitySchemes", None) is None:
        return schema  # no operation takes a token
    components["securitySchemes"] = SCHEMES
    components.setdefault("schemas", {})["Refusal"] = Refusal.model_json_schema()
    body = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Refusal"}}}}
    for path, operations in schema["paths"].items():
        for op in operations.values():
            if op.pop("security", None) is None:
                continue
            if op.pop("x-either-token", False):
                op["security"] = [{"registrar": []}, {"staff": []}]  # either one (OpenAPI: alternatives)
            else:
                op["security"] = [{"staff" if path.startswith(STAFF_PREFIXES) else "registrar": []}]
            for code, why in _WHY.items():
                op["responses"].setdefault(str(code), {"description": why, **body})
    return schema


def install(app: FastAPI, make: Callable[[FastAPI], dict[str, Any]] = document) -> None:
    """Serve `make`'s document at /openapi.json (made once, on the first request)."""
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = make(app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
