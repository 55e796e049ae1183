"""breaking_changes() finds every backward-incompatible change and only those."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from bansos_contracts import ALL_EVENTS, breaking_changes
from bansos_contracts.schemas import event_schema

BASE: dict[str, Any] = {
    "$defs": {
        "Bank": {"enum": ["BNI", "BRI"], "type": "string"},
        "Window": {
            "additionalProperties": False,
            "properties": {
                "place": {"type": "string", "minLength": 1, "maxLength": 50},
                "starts_at": {"type": "string", "format": "date-time"},
            },
            "required": ["place"],
            "type": "object",
        },
    },
    "properties": {
        "amount": {"type": "integer", "minimum": 0},
        "bank": {"anyOf": [{"$ref": "#/$defs/Bank"}, {"type": "null"}], "default": None},
        "code": {"type": "string", "pattern": "^[0-9]{2}$"},
        "windows": {"items": {"$ref": "#/$defs/Window"}, "type": "array"},
        "changes": {"additionalProperties": {"type": "string"}, "type": "object"},
        "inputs": {
            "patternProperties": {"^[a-z]+$": {"type": "string"}},
            "propertyNames": {"maxLength": 64},
            "type": "object",
        },
        "note": {"anyOf": [{"type": "string"}, {"type": "null"}], "default": None},
        "kind": {"const": "Thing", "type": "string"},
    },
    "required": ["amount", "code", "kind"],
    "type": "object",
    "x-kafka-topic": "bansos.payout.v1",
}


def changed(edit: Any) -> list[str]:
    new = copy.deepcopy(BASE)
    edit(new)
    return breaking_changes(BASE, new)


def test_identical_is_compatible() -> None:
    assert breaking_changes(BASE, copy.deepcopy(BASE)) == []


BREAKING: list[tuple[str, Any, str]] = [
    ("property removed", lambda s: s["properties"].pop("note"), "$.note: property removed"),
    (
        "nested property removed",
        lambda s: s["$defs"]["Window"]["properties"].pop("starts_at"),
        "$.windows[].starts_at: property removed",
    ),
    (
        "type changed",
        lambda s: s["properties"]["amount"].update(type="string"),
        "$.amount: type changed from integer to string",
    ),
    (
        "type narrowed",
        lambda s: (
            s["properties"].update(amount={"type": "integer", "minimum": 0})
            or s["properties"].update(note={"type": "string"})
        ),
        "$.note: no longer accepts null",
    ),
    (
        "new required property",
        lambda s: s["properties"].update(extra={"type": "string"}) or s["required"].append("extra"),
        "$.extra: new required property",
    ),
    (
        "property became required",
        lambda s: s["required"].append("note"),
        "$.note: property became required",
    ),
    (
        "nested new required property",
        lambda s: s["$defs"]["Window"]["required"].append("starts_at"),
        "$.windows[].starts_at: property became required",
    ),
    (
        "enum value removed",
        lambda s: s["$defs"]["Bank"].update(enum=["BNI"]),
        "$.bank: enum value(s) removed: ['BRI']",
    ),
    (
        "const changed",
        lambda s: s["properties"]["kind"].update(const="Other"),
        "$.kind: const changed from 'Thing' to 'Other'",
    ),
    (
        "pattern tightened",
        lambda s: s["properties"]["code"].update(pattern="^[0-9]{2}\\.[0-9]{2}$"),
        "$.code: pattern changed",
    ),
    (
        "pattern added",
        lambda s: s["$defs"]["Window"]["properties"]["place"].update(pattern="^[A-Z]"),
        "$.windows[].place: pattern '^[A-Z]' added",
    ),
    (
        "minimum raised",
        lambda s: s["properties"]["amount"].update(minimum=1),
        "$.amount: minimum tightened from 0 to 1",
    ),
    (
        "maximum added",
        lambda s: s["properties"]["amount"].update(maximum=10),
        "$.amount: maximum tightened from None to 10",
    ),
    (
        "maxLength lowered",
        lambda s: s["$defs"]["Window"]["properties"]["place"].update(maxLength=20),
        "$.windows[].place: maxLength tightened from 50 to 20",
    ),
    (
        "minItems added",
        lambda s: s["properties"]["windows"].update(minItems=1),
        "$.windows: minItems tightened from None to 1",
    ),
    (
        "format added",
        lambda s: s["properties"]["code"].update(format="uuid"),
        "$.code: format 'uuid' added",
    ),
    (
        "additionalProperties closed",
        lambda s: s.update(additionalProperties=False),
        "$: additionalProperties closed",
    ),
    (
        "map values narrowed",
        lambda s: s["properties"]["changes"].update(additionalProperties={"type": "integer"}),
        "$.changes.*: type changed from string to integer",
    ),
    (
        "key pattern changed",
        lambda s: s["properties"]["inputs"].update(patternProperties={"^[a-z_]+$": {}}),
        "$.inputs: key pattern '^[a-z]+$' removed or changed",
    ),
    (
        "pattern-keyed values narrowed",
        lambda s: s["properties"]["inputs"]["patternProperties"].update(
            {"^[a-z]+$": {"type": "integer"}}
        ),
        "$.inputs.*: type changed from string to integer",
    ),
    (
        "key length tightened",
        lambda s: s["properties"]["inputs"]["propertyNames"].update(maxLength=10),
        "$.inputs.<key>: maxLength tightened from 64 to 10",
    ),
    (
        "topic changed",
        lambda s: s.update({"x-kafka-topic": "bansos.other.v1"}),
        "$: x-kafka-topic changed",
    ),
    (
        "alternative dropped",
        lambda s: s["properties"]["note"].update(anyOf=[{"type": "integer"}, {"type": "null"}]),
        "$.note: alternative type string no longer accepted",
    ),
]


@pytest.mark.parametrize(("title", "edit", "expected"), BREAKING, ids=[b[0] for b in BREAKING])
def test_breaking_change_is_detected(title: str, edit: Any, expected: str) -> None:
    problems = changed(edit)
    assert any(problem.startswith(expected) for problem in problems), problems


COMPATIBLE: list[tuple[str, Any]] = [
    ("optional property added", lambda s: s["properties"].update(extra={"type": "string"})),
    (
        "optional nested property added",
        lambda s: s["$defs"]["Window"]["properties"].update(ends_at={"type": "string"}),
    ),
    ("enum value added", lambda s: s["$defs"]["Bank"]["enum"].append("BSI")),
    ("description changed", lambda s: s["properties"]["amount"].update(description="x")),
    ("default changed", lambda s: s["properties"]["note"].update(default="")),
    ("minimum loosened", lambda s: s["properties"]["amount"].pop("minimum")),
    (
        "maxLength raised",
        lambda s: s["$defs"]["Window"]["properties"]["place"].update(maxLength=99),
    ),
    ("pattern removed", lambda s: s["properties"]["code"].pop("pattern")),
    ("requirement dropped", lambda s: s["required"].remove("code")),
    ("integer widened to number", lambda s: s["properties"]["amount"].update(type="number")),
    (
        "null accepted",
        lambda s: s["properties"].update(
            code={"anyOf": [{"type": "string", "pattern": "^[0-9]{2}$"}, {"type": "null"}]}
        ),
    ),
    (
        "def renamed but same shape",
        lambda s: (
            s["$defs"].update(Bank2=s["$defs"].pop("Bank"))
            or s["properties"]["bank"]["anyOf"][0].update({"$ref": "#/$defs/Bank2"})
        ),
    ),
    ("additionalProperties opened", lambda s: s["$defs"]["Window"].pop("additionalProperties")),
]


@pytest.mark.parametrize(("title", "edit"), COMPATIBLE, ids=[c[0] for c in COMPATIBLE])
def test_compatible_change_is_not_reported(title: str, edit: Any) -> None:
    assert changed(edit) == []


def test_every_generated_event_schema_is_compatible_with_itself() -> None:
    for cls in ALL_EVENTS:
        schema = event_schema(cls)
        assert breaking_changes(schema, copy.deepcopy(schema)) == []


def test_closing_a_real_event_is_detected() -> None:
    from bansos_contracts import PayoutScheduled

    old = event_schema(PayoutScheduled)
    new = copy.deepcopy(old)
    new["$defs"]["Bank"]["enum"].remove("BSI")
    new["properties"].pop("location")
    problems = breaking_changes(old, new)
    assert "$.bank: enum value(s) removed: ['BSI']" in problems
    assert "$.location: property removed" in problems


def test_recursive_refs_terminate() -> None:
    tree = {
        "$defs": {
            "Node": {
                "type": "object",
                "properties": {"children": {"type": "array", "items": {"$ref": "#/$defs/Node"}}},
            }
        },
        "$ref": "#/$defs/Node",
    }
    assert breaking_changes(tree, copy.deepcopy(tree)) == []
