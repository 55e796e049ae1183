"""AsyncAPI 3.0.0 documents for one service, built from plain data.

A service declares what it publishes and consumes::

    SPEC = ServiceSpec(
        name="eligibility",
        title="bansos eligibility",
        description="Program rules, decisions and beneficiary lists.",
        publishes={topics.ELIGIBILITY: events_on_topic(topics.ELIGIBILITY)},
        subscribes={topics.REGISTRY: (HouseholdRegistered, HouseholdDecileChanged)},
        group_id="bansos-eligibility",
    )

and serves ``asyncapi_document(SPEC)`` (a JSON-ready dict; ``yaml.safe_dump`` of it is
the YAML form) at ``/asyncapi``. Payloads are the events' JSON Schemas (their ``$defs``
lifted into ``components.schemas``); headers are the CloudEvents Kafka headers; Kafka
bindings give the message key, the topic and the consumer group.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from bansos_contracts import topics
from bansos_contracts.envelope import Event
from bansos_contracts.examples import example
from bansos_contracts.kafka import encode

__all__ = ["ASYNCAPI_VERSION", "KAFKA_BINDING_VERSION", "ServiceSpec", "asyncapi_document"]

ASYNCAPI_VERSION = "3.0.0"
KAFKA_BINDING_VERSION = "0.5.0"
_DEFS_PREFIX = "#/$defs/"
_SCHEMAS_PREFIX = "#/components/schemas/"


@dataclass(frozen=True)
class ServiceSpec:
    """What one service publishes and consumes on Kafka."""

    name: str
    """Service name, e.g. ``payout``."""
    title: str
    """Document title."""
    description: str
    """What the service does."""
    publishes: dict[str, tuple[type[Event], ...]]
    """Topic -> the event classes the service produces on it."""
    subscribes: dict[str, tuple[type[Event], ...]]
    """Topic -> the event classes the service accepts from it."""
    group_id: str
    """The Kafka consumer group of the service's consumers."""
    version: str = "1.0.0"
    """Version of the service's API (``info.version``)."""
    servers: dict[str, str] = field(default_factory=lambda: {"local": "localhost:9092"})
    """Kafka bootstrap servers by name, e.g. ``{"local": "localhost:9092"}``."""


def _channel_id(topic: str) -> str:
    return topic.replace(".", "_")


def _rewrite_refs(node: Any) -> Any:
    if isinstance(node, dict):
        rewritten = {key: _rewrite_refs(value) for key, value in node.items()}
        ref = rewritten.get("$ref")
        if isinstance(ref, str) and ref.startswith(_DEFS_PREFIX):
            rewritten["$ref"] = _SCHEMAS_PREFIX + ref[len(_DEFS_PREFIX) :]
        return rewritten
    if isinstance(node, list):
        return [_rewrite_refs(value) for value in node]
    return node


def _add_schema(schemas: dict[str, Any], name: str, schema: dict[str, Any]) -> None:
    if name in schemas and schemas[name] != schema:
        raise ValueError(f"two different schemas are both named {name!r}")
    schemas[name] = schema


def _payload(cls: type[Event], schemas: dict[str, Any]) -> dict[str, Any]:
    # imported here so that importing the package does not import the schemas CLI
    # module (``python -m bansos_contracts.schemas`` would then warn)
    from bansos_contracts.schemas import event_schema

    schema = dict(event_schema(cls))
    schema.pop("$schema", None)
    for name, definition in schema.pop("$defs", {}).items():
        _add_schema(schemas, name, _rewrite_refs(definition))
    _add_schema(schemas, cls.ce_type(), _rewrite_refs(schema))
    return {"$ref": _SCHEMAS_PREFIX + cls.ce_type()}


def _message(cls: type[Event], schemas: dict[str, Any]) -> dict[str, Any]:
    from bansos_contracts.schemas import cloudevents_headers_schema

    doc = (cls.__doc__ or cls.__name__).strip()
    sample = example(cls)
    message = encode(sample)
    sample_headers = {name: value.decode() for name, value in message.headers}
    return {
        "name": cls.event_name(),
        "title": cls.ce_type(),
        "summary": doc.splitlines()[0],
        "description": doc,
        "contentType": "application/json",
        "headers": cloudevents_headers_schema(cls),
        "payload": _payload(cls, schemas),
        "correlationId": {
            "description": "Shared by all events of one business flow.",
            "location": "$message.payload#/correlation_id",
        },
        "bindings": {
            "kafka": {
                "key": {"type": "string", "description": f"Kafka key: {cls.key_description}"},
                "bindingVersion": KAFKA_BINDING_VERSION,
            }
        },
        "examples": [
            {
                "name": "example",
                "summary": f"A {cls.event_name()} event",
                "headers": sample_headers,
                "payload": json.loads(sample.model_dump_json()),
            }
        ],
    }


def asyncapi_document(spec: ServiceSpec) -> dict[str, Any]:
    """The AsyncAPI 3.0.0 document of a service, as a JSON-ready dict."""
    schemas: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    all_topics = list(dict.fromkeys([*spec.publishes, *spec.subscribes]))
    for topic in all_topics:
        classes = dict.fromkeys([*spec.publishes.get(topic, ()), *spec.subscribes.get(topic, ())])
        for cls in classes:
            if cls.ce_type() not in messages:
                messages[cls.ce_type()] = _message(cls, schemas)
        channel_id = _channel_id(topic)
        channels[channel_id] = {
            "address": topic,
            "title": topic,
            "description": f"Kafka topic {topic}; key: {topics.KEYS.get(topic, 'see messages')}.",
            "messages": {
                cls.ce_type(): {"$ref": f"#/components/messages/{cls.ce_type()}"} for cls in classes
            },
            "bindings": {"kafka": {"topic": topic, "bindingVersion": KAFKA_BINDING_VERSION}},
        }
    for action, declared in (("send", spec.publishes), ("receive", spec.subscribes)):
        for topic, accepted in declared.items():
            channel_id = _channel_id(topic)
            operation: dict[str, Any] = {
                "action": action,
                "channel": {"$ref": f"#/channels/{channel_id}"},
                "title": f"{'Publish to' if action == 'send' else 'Consume'} {topic}",
                "messages": [
                    {"$ref": f"#/channels/{channel_id}/messages/{cls.ce_type()}"}
                    for cls in accepted
                ],
            }
            if action == "receive":
                operation["bindings"] = {
                    "kafka": {
                        "groupId": {"type": "string", "enum": [spec.group_id]},
                        "bindingVersion": KAFKA_BINDING_VERSION,
                    }
                }
            operations[f"{action}_{channel_id}"] = operation
    return {
        "asyncapi": ASYNCAPI_VERSION,
        "id": f"urn:bansos:{spec.name}",
        "info": {"title": spec.title, "version": spec.version, "description": spec.description},
        "defaultContentType": "application/json",
        "servers": {
            name: {"host": host, "protocol": "kafka", "description": f"Kafka ({name})"}
            for name, host in spec.servers.items()
        },
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": dict(sorted(schemas.items()))},
    }
