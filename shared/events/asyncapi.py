"""The whole event catalogue as one AsyncAPI 3.0 document: what subscribers build against.

Generated from the pydantic models (deterministic: sorted, no timestamps), so a released copy
(contracts/asyncapi-<version>.json) can be compared with the current one (compat.py). Each event type and
version is a channel whose address is the routing key on the topic exchange `registry.events`.
"""

from __future__ import annotations

from typing import Any

from pydantic.json_schema import models_json_schema

from shared.events.catalogue import CATALOGUE, envelope_model
from shared.events.version import CONTRACT_VERSION

EXCHANGE = "registry.events"


def message_name(event_type: str, version: int) -> str:
    return f"{event_type}.v{version}"


def document() -> dict[str, Any]:
    keys = sorted(CATALOGUE)
    envelopes = [(envelope_model(CATALOGUE[key]), "validation") for key in keys]
    refs, schemas = models_json_schema(envelopes, ref_template="#/components/schemas/{model}")  # type: ignore[arg-type]
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    for key, (envelope, _) in zip(keys, envelopes, strict=True):
        event_type, version = key
        model = CATALOGUE[key]
        name = message_name(event_type, version)
        messages[name] = {
            "name": event_type,
            "title": f"{event_type} v{version}",
            "summary": (model.__doc__ or "").strip().split("\n\n")[0],
            "description": (model.__doc__ or "").strip(),
            "contentType": "application/json",
            "headers": {"type": "object", "properties": {"event-version": {"type": "integer", "const": version}}},
            "payload": refs[(envelope, "validation")],
            "bindings": {"amqp": {"messageType": event_type, "deliveryMode": 2}},
            "x-producer": model.producer,
            "x-event-version": version,
        }
        channels[name] = {
            "address": event_type,
            "messages": {name: {"$ref": f"#/components/messages/{name}"}},
            "bindings": {"amqp": {"is": "routingKey", "exchange": {"name": EXCHANGE, "type": "topic", "durable": True,
                                                                    "autoDelete": False, "vhost": "/"}}},
        }
        operations[f"{model.producer}.publishes.{name}"] = {
            "action": "send",
            "channel": {"$ref": f"#/channels/{name}"},
            "messages": [{"$ref": f"#/channels/{name}/messages/{name}"}],
        }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Registry platform events",
            "version": CONTRACT_VERSION,
            "description": "Every event the registry platform publishes on the topic exchange registry.events "
                           "(routing key = event type). Consumers deduplicate on event_id and ignore fields "
                           "they do not know; a breaking change moves the major version.",
        },
        "defaultContentType": "application/json",
        "servers": {"rabbitmq": {"host": "rabbitmq:5672", "protocol": "amqp", "protocolVersion": "0.9.1"}},
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": schemas.get("$defs", {})},
    }
