"""Every operation of every service's OpenAPI document is described and types its success answer.

The apps are built as the services build them (services/*/app.py, found on disk) and their documents read
from app.openapi(); nothing is started. An operation passes when it has a description and a 2xx answer
whose content has a schema that says what it holds: a model ($ref), a list of typed items, an object with
properties, a map of typed values, or text (a string) for a non-JSON media type. A 204 has no content."""

from __future__ import annotations

import importlib
from typing import Any

import pytest

from tests.settings_classes import SERVICES

WITH_HTTP_API = [s for s in SERVICES if s != "console"]  # the console serves pages and has no OpenAPI


def typed(schema: dict[str, Any] | None, components: dict[str, Any], media_type: str = "application/json",
          top: bool = True) -> bool:
    if not schema:
        return False
    if "$ref" in schema:
        return typed(components[schema["$ref"].rsplit("/", 1)[1]], components, media_type, top)
    for alternatives in ("anyOf", "oneOf", "allOf"):
        if alternatives in schema:
            return all(typed(s, components, media_type, top) or s.get("type") == "null" for s in schema[alternatives])
    kind = schema.get("type")
    if kind == "array":
        return typed(schema.get("items"), components, media_type, top=False)
    if kind == "object" or "properties" in schema:
        values = schema.get("additionalProperties")
        return bool(schema.get("properties")) or (isinstance(values, dict) and typed(values, components, top=False))
    if kind == "string":  # a JSON answer that is only "a string" says nothing; text, or a string inside, does
        return not top or not media_type.endswith("json")
    return kind in ("integer", "number", "boolean")


def untyped_operations(service: str) -> list[str]:
    app = importlib.import_module(f"services.{service}.app").build()
    spec = app.openapi()
    components = spec.get("components", {}).get("schemas", {})
    wrong = []
    for path, operations in spec["paths"].items():
        for method, op in operations.items():
            where = f"{service}: {method.upper()} {path}"
            if not (op.get("description") or "").strip():
                wrong.append(f"{where}: no description")
            answers = {code: answer for code, answer in op["responses"].items() if code.startswith("2")}
            if not any(code == "204" and not answer.get("content") or any(
                    typed(media.get("schema"), components, media_type)
                    for media_type, media in (answer.get("content") or {}).items())
                       for code, answer in answers.items()):
                wrong.append(f"{where}: no typed 2xx answer")
    return wrong


@pytest.mark.parametrize("service", WITH_HTTP_API)
def test_every_operation_is_described_and_types_its_answer(service: str) -> None:
    assert untyped_operations(service) == []


@pytest.mark.parametrize("service", WITH_HTTP_API)
def test_every_secured_operation_says_whose_token_it_takes_and_documents_its_refusal(service: str) -> None:
    """Registrar or staff/operator security, not FastAPI's anonymous `HTTPBearer`; 401 documented."""
    spec = importlib.import_module(f"services.{service}.app").build().openapi()
    schemes = set(spec.get("components", {}).get("securitySchemes", {}))
    assert schemes <= {"registrar", "operator", "staff"}, schemes
    for path, operations in spec["paths"].items():
        for method, op in operations.items():
            requirements = op.get("security", [])
            for requirement in requirements:
                assert set(requirement) <= schemes and requirement, (service, method, path, requirement)
                assert "401" in op["responses"], (service, method, path)
            if requirements:  # a registrar's token is one of the ways in exactly where the path is not staff's
                staff = path.startswith(("/api/operator", "/api/support", "/api/staff"))
                registrar = any("registrar" in requirement for requirement in requirements)
                assert registrar is not staff, (service, method, path, requirements)


def test_an_operation_that_takes_either_token_documents_both() -> None:
    """Reporting's portfolios answer a registrar user (its own) and staff (any): both schemes, as alternatives."""
    spec = importlib.import_module("services.reporting.app").build().openapi()
    for path in ("/api/portfolios", "/api/portfolios/{registrar_id}"):
        assert spec["paths"][path]["get"]["security"] == [{"registrar": []}, {"staff": []}], path


def test_the_check_tells_a_typed_answer_from_an_untyped_one() -> None:
    components = {"M": {"type": "object", "properties": {"a": {"type": "string"}}}, "Free": {"type": "object"}}
    assert typed({"$ref": "#/components/schemas/M"}, components)
    assert typed({"type": "array", "items": {"$ref": "#/components/schemas/M"}}, components)
    assert typed({"type": "object", "additionalProperties": {"type": "boolean"}}, components)
    assert typed({"type": "object", "additionalProperties": {"type": "string"}}, components)
    assert typed({"type": "string"}, components, "text/plain")
    assert not typed({}, components)
    assert not typed({"type": "object", "additionalProperties": True}, components)
    assert not typed({"$ref": "#/components/schemas/Free"}, components)
    assert not typed({"type": "array", "items": {"type": "object", "additionalProperties": True}}, components)
    assert not typed({"type": "string"}, components)  # JSON that is only "a string" says nothing
