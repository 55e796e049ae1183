"""The AsyncAPI document of a sample service has the expected channels, operations, messages."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bansos_contracts import (
    EligibilityDecided,
    HouseholdDecileChanged,
    HouseholdRegistered,
    PayoutCancelled,
    PayoutScheduled,
    ServiceSpec,
    asyncapi_document,
    events_on_topic,
    topics,
)

SPEC = ServiceSpec(
    name="payout",
    title="bansos payout",
    description="Channel assignment, schedules, collection, failure and reconciliation.",
    publishes={topics.PAYOUT: events_on_topic(topics.PAYOUT)},
    subscribes={
        topics.ELIGIBILITY: (EligibilityDecided,),
        topics.REGISTRY: (HouseholdRegistered, HouseholdDecileChanged),
    },
    group_id="bansos-payout",
)


@pytest.fixture(scope="module")
def doc() -> dict[str, Any]:
    return asyncapi_document(SPEC)


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [ref for value in node.values() for ref in _refs(value)]
    if isinstance(node, list):
        return [ref for value in node for ref in _refs(value)]
    return []


def _resolve(doc: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/"), ref
    node: Any = doc
    for part in ref[2:].split("/"):
        node = node[part]
    return node


def test_header(doc: dict[str, Any]) -> None:
    assert doc["asyncapi"] == "3.0.0"
    assert doc["info"]["title"] == "bansos payout"
    assert doc["info"]["version"] == "1.0.0"
    assert doc["defaultContentType"] == "application/json"
    assert doc["servers"]["local"] == {
        "host": "localhost:9092",
        "protocol": "kafka",
        "description": "Kafka (local)",
    }


def test_channels(doc: dict[str, Any]) -> None:
    channels = doc["channels"]
    assert set(channels) == {"bansos_payout_v1", "bansos_eligibility_v1", "bansos_registry_v1"}
    payout = channels["bansos_payout_v1"]
    assert payout["address"] == "bansos.payout.v1"
    assert payout["bindings"]["kafka"]["topic"] == "bansos.payout.v1"
    assert set(payout["messages"]) == {cls.ce_type() for cls in events_on_topic(topics.PAYOUT)}
    assert set(channels["bansos_registry_v1"]["messages"]) == {
        HouseholdRegistered.ce_type(),
        HouseholdDecileChanged.ce_type(),
    }


def test_operations(doc: dict[str, Any]) -> None:
    operations = doc["operations"]
    assert set(operations) == {
        "send_bansos_payout_v1",
        "receive_bansos_eligibility_v1",
        "receive_bansos_registry_v1",
    }
    send = operations["send_bansos_payout_v1"]
    assert send["action"] == "send"
    assert send["channel"] == {"$ref": "#/channels/bansos_payout_v1"}
    assert len(send["messages"]) == 6
    assert "bindings" not in send
    receive = operations["receive_bansos_eligibility_v1"]
    assert receive["action"] == "receive"
    assert receive["messages"] == [
        {"$ref": f"#/channels/bansos_eligibility_v1/messages/{EligibilityDecided.ce_type()}"}
    ]
    assert receive["bindings"]["kafka"]["groupId"] == {"type": "string", "enum": ["bansos-payout"]}


def test_messages(doc: dict[str, Any]) -> None:
    messages = doc["components"]["messages"]
    assert len(messages) == 9
    scheduled = messages[PayoutScheduled.ce_type()]
    assert scheduled["name"] == "PayoutScheduled"
    assert scheduled["contentType"] == "application/json"
    assert scheduled["payload"] == {"$ref": f"#/components/schemas/{PayoutScheduled.ce_type()}"}
    headers = scheduled["headers"]
    assert headers["properties"]["ce_type"]["const"] == PayoutScheduled.ce_type()
    assert headers["properties"]["ce_source"]["const"] == "bansos/payout"
    assert "traceparent" in headers["properties"]
    assert {"ce_specversion", "ce_id", "ce_type", "ce_subject"} <= set(headers["required"])
    assert scheduled["bindings"]["kafka"]["key"]["type"] == "string"
    assert "household id" in scheduled["bindings"]["kafka"]["key"]["description"]
    example = scheduled["examples"][0]
    assert example["headers"]["ce_type"] == PayoutScheduled.ce_type()
    assert example["payload"]["amount"] == 900000
    cancelled = messages[PayoutCancelled.ce_type()]
    assert cancelled["summary"].startswith("A scheduled payout was withdrawn")


def test_payload_schemas_and_refs_resolve(doc: dict[str, Any]) -> None:
    schemas = doc["components"]["schemas"]
    payload = schemas[PayoutScheduled.ce_type()]
    assert "$defs" not in payload and "$schema" not in payload
    assert payload["properties"]["channel"]["$ref"] == "#/components/schemas/Channel"
    assert schemas["Channel"]["enum"] == ["BANK_KKS", "POS"]
    for ref in _refs(doc):
        assert not ref.startswith("#/$defs/"), ref
        assert _resolve(doc, ref) is not None, ref


def test_serialisable_as_json_and_yaml(doc: dict[str, Any]) -> None:
    assert json.loads(json.dumps(doc)) == doc
    yaml = pytest.importorskip("yaml")
    assert yaml.safe_load(yaml.safe_dump(doc)) == doc


def test_publisher_only_service() -> None:
    spec = ServiceSpec(
        name="registry",
        title="bansos registry",
        description="DTSEN households.",
        publishes={topics.REGISTRY: events_on_topic(topics.REGISTRY)},
        subscribes={},
        group_id="bansos-registry",
    )
    doc = asyncapi_document(spec)
    assert list(doc["operations"]) == ["send_bansos_registry_v1"]
    assert len(doc["components"]["messages"]) == 5
