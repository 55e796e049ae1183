"""JSON Schemas of the public events, and the committed copies in ``contracts/schemas/``.

One file per event, named by its CloudEvents type
(``bansos.registry.HouseholdDecileChanged.v1.json``), plus the envelope
(``bansos.envelope.v1.json``) and the CloudEvents Kafka headers
(``bansos.cloudevents-headers.v1.json``). Files are JSON with sorted keys, 2-space
indent and a trailing newline.

Command line::

    python -m bansos_contracts.schemas write [--allow-breaking] [--dir DIR]
    python -m bansos_contracts.schemas check [--dir DIR]

``check`` exits 1 naming every backward-incompatible change between the committed
schemas and the models (file, JSON path, what changed), and also when a schema changed
compatibly but was not rewritten. ``write`` rewrites the files but refuses (exit 1) to
overwrite or delete a committed schema with a breaking change unless
``--allow-breaking`` is given.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bansos_contracts.catalog import ALL_EVENTS
from bansos_contracts.compat import breaking_changes
from bansos_contracts.envelope import Event

__all__ = [
    "DEFAULT_DIR",
    "ENVELOPE_FILE",
    "HEADERS_FILE",
    "JSON_SCHEMA_DIALECT",
    "Report",
    "check",
    "cloudevents_headers_schema",
    "event_schema",
    "file_name",
    "generate",
    "main",
    "render",
    "write",
]

JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
ENVELOPE_FILE = "bansos.envelope.v1.json"
HEADERS_FILE = "bansos.cloudevents-headers.v1.json"
DEFAULT_DIR = Path(__file__).resolve().parents[2] / "schemas"
"""``contracts/schemas/`` of the source tree."""

_REMEDY = "run `make schemas` (python -m bansos_contracts.schemas write)"


def file_name(cls: type[Event]) -> str:
    """The schema file name of an event class: ``<ce_type>.json``."""
    return f"{cls.ce_type()}.json"


def event_schema(cls: type[Event]) -> dict[str, Any]:
    """The JSON Schema of one event class's JSON body (as :func:`decode` accepts it)."""
    schema = cls.model_json_schema(mode="validation")
    return {
        "$schema": JSON_SCHEMA_DIALECT,
        **schema,
        "x-cloudevents-type": cls.ce_type(),
        "x-cloudevents-source": cls.ce_source(),
        "x-kafka-topic": cls.topic,
        "x-kafka-key": cls.key_description,
    }


def cloudevents_headers_schema(cls: type[Event] | None = None) -> dict[str, Any]:
    """The JSON Schema of the Kafka headers (CloudEvents binary mode) of an event.

    With ``cls``, ``ce_type`` and ``ce_source`` are pinned to that class's values.
    """
    ce_type: dict[str, Any] = {"type": "string", "pattern": r"^bansos\.[a-z]+\.[A-Za-z]+\.v[0-9]+$"}
    ce_source: dict[str, Any] = {"type": "string", "pattern": r"^bansos/[a-z]+$"}
    if cls is not None:
        ce_type = {"type": "string", "const": cls.ce_type()}
        ce_source = {"type": "string", "const": cls.ce_source()}
    properties: dict[str, Any] = {
        "ce_specversion": {"type": "string", "const": "1.0"},
        "ce_id": {"type": "string", "format": "uuid", "description": "The event_id."},
        "ce_source": {**ce_source, "description": "The producing service."},
        "ce_type": {**ce_type, "description": "bansos.<service>.<EventType>.v<version>"},
        "ce_time": {
            "type": "string",
            "format": "date-time",
            "description": "occurred_at, RFC 3339 UTC.",
        },
        "ce_subject": {"type": "string", "description": "The subject_id."},
        "content-type": {"type": "string", "const": "application/json"},
        "traceparent": {
            "type": "string",
            "pattern": "^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$",
            "description": "W3C trace context.",
        },
        "tracestate": {"type": "string", "description": "W3C trace state."},
    }
    return {
        "type": "object",
        "title": "CloudEventsKafkaHeaders",
        "description": "CloudEvents 1.0 attributes as Kafka headers (binary content mode).",
        "properties": properties,
        "required": [
            "ce_specversion",
            "ce_id",
            "ce_source",
            "ce_type",
            "ce_time",
            "ce_subject",
            "content-type",
        ],
    }


def generate() -> dict[str, dict[str, Any]]:
    """Every schema file: file name -> JSON Schema."""
    files: dict[str, dict[str, Any]] = {file_name(cls): event_schema(cls) for cls in ALL_EVENTS}
    files[ENVELOPE_FILE] = {"$schema": JSON_SCHEMA_DIALECT, **Event.model_json_schema()}
    files[HEADERS_FILE] = {"$schema": JSON_SCHEMA_DIALECT, **cloudevents_headers_schema()}
    return files


def render(schema: dict[str, Any]) -> str:
    """The committed text of a schema: sorted keys, 2-space indent, trailing newline."""
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


@dataclass
class Report:
    """The outcome of :func:`check` or :func:`write`."""

    breaking: list[str] = field(default_factory=list)
    """Backward-incompatible changes: ``file: path: what``."""
    stale: list[str] = field(default_factory=list)
    """Files that differ compatibly (or are new) and need rewriting."""
    written: list[str] = field(default_factory=list)
    """Files written or deleted by :func:`write`."""

    @property
    def ok(self) -> bool:
        """Whether nothing is broken or stale."""
        return not self.breaking and not self.stale


def _compare(directory: Path) -> tuple[Report, dict[str, str], list[str]]:
    report = Report()
    wanted = {name: render(schema) for name, schema in generate().items()}
    for name, text in sorted(wanted.items()):
        path = directory / name
        if not path.exists():
            report.stale.append(f"{name}: not written yet")
            continue
        committed_text = path.read_text(encoding="utf-8")
        if committed_text == text:
            continue
        try:
            committed = json.loads(committed_text)
        except json.JSONDecodeError as exc:
            report.stale.append(f"{name}: committed file is not JSON ({exc})")
            continue
        breaks = breaking_changes(committed, json.loads(text))
        report.breaking.extend(f"{name}: {problem}" for problem in breaks)
        if not breaks:
            report.stale.append(f"{name}: changed compatibly but not rewritten")
    removed = sorted(path.name for path in directory.glob("*.json") if path.name not in wanted)
    report.breaking.extend(f"{name}: $: schema removed" for name in removed)
    return report, wanted, removed


def check(directory: Path = DEFAULT_DIR) -> Report:
    """Compare the committed schemas in ``directory`` with the models."""
    return _compare(directory)[0]


def write(directory: Path = DEFAULT_DIR, *, allow_breaking: bool = False) -> Report:
    """Rewrite the schemas in ``directory``; with breaking changes, only if allowed.

    When breaking changes exist and are not allowed, nothing is written and the report
    lists them.
    """
    report, wanted, removed = _compare(directory)
    if report.breaking and not allow_breaking:
        return report
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in sorted(wanted.items()):
        path = directory / name
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            report.written.append(name)
    for name in removed:
        (directory / name).unlink()
        report.written.append(name)
    report.stale.clear()
    return report


def main(argv: Sequence[str] | None = None) -> int:
    """The command line; returns the exit status."""
    parser = argparse.ArgumentParser(
        prog="python -m bansos_contracts.schemas",
        description="Write or check the committed JSON Schemas of the public events.",
    )
    parser.add_argument("command", choices=["write", "check"])
    parser.add_argument("--dir", type=Path, default=DEFAULT_DIR, help="schema directory")
    parser.add_argument("--allow-breaking", action="store_true", help="write even breaking changes")
    args = parser.parse_args(argv)
    directory: Path = args.dir
    if args.command == "check":
        report = check(directory)
        for line in report.breaking:
            print(f"BREAKING {line}", file=sys.stderr)
        for line in report.stale:
            print(f"STALE    {line}", file=sys.stderr)
        if report.stale and not report.breaking:
            print(f"schemas are out of date: {_REMEDY}", file=sys.stderr)
        elif report.breaking:
            print(
                "breaking schema changes: publish a new event version instead, or "
                "`python -m bansos_contracts.schemas write --allow-breaking` if you must",
                file=sys.stderr,
            )
        else:
            print(f"{len(generate())} schemas up to date in {directory}")
        return 0 if report.ok else 1
    report = write(directory, allow_breaking=args.allow_breaking)
    for line in report.breaking:
        print(f"BREAKING {line}", file=sys.stderr)
    if report.breaking and not args.allow_breaking:
        print("refusing to write breaking changes without --allow-breaking", file=sys.stderr)
        return 1
    for name in report.written:
        print(f"wrote {directory / name}")
    print(f"{len(report.written)} schema file(s) changed")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
