"""Events to and from Kafka messages, in CloudEvents 1.0 Kafka binary mode.

A message's value is the event's JSON body; its headers carry the CloudEvents
attributes:

=================  ==================================================================
header             value
=================  ==================================================================
``ce_specversion`` ``1.0``
``ce_id``          the ``event_id``
``ce_source``      ``bansos/<service>``, e.g. ``bansos/registry``: a relative URI
                   reference naming the producing service (stable across replicas
                   and environments, so it identifies the producer, not the pod)
``ce_type``        ``bansos.<service>.<EventType>.v<n>``
``ce_time``        ``occurred_at``, RFC 3339 in UTC with ``Z``
``ce_subject``     the ``subject_id`` (household, case, list or payout)
``content-type``   ``application/json``
``traceparent``    the W3C trace context, when given (and ``tracestate``)
=================  ==================================================================

The key is the event's :attr:`~bansos_contracts.envelope.Event.partition_key`, UTF-8.

:func:`decode` raises :class:`ContractError` with a human reason for anything wrong; a
consumer puts that reason into the dead-letter message built by
:func:`dead_letter_message`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from pydantic import ValidationError
from pydantic_core import from_json

from bansos_contracts import topics
from bansos_contracts.catalog import UnknownEventTypeError, event_class, event_class_by_name
from bansos_contracts.envelope import Event

__all__ = [
    "CONTENT_TYPE",
    "SPECVERSION",
    "ContractError",
    "DeadLetter",
    "Headers",
    "KafkaMessage",
    "dead_letter_message",
    "decode",
    "encode",
    "format_time",
    "header",
    "read_dead_letter",
]

SPECVERSION = "1.0"
CONTENT_TYPE = "application/json"
_TRACEPARENT = re.compile(r"^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$")
_MAX_REASON = 4000

Headers = Sequence[tuple[str, bytes | None]]
"""Kafka headers as clients give them: (name, value) pairs, names may repeat."""


class ContractError(ValueError):
    """A message does not satisfy the public contract; ``reason`` says why, for people."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class KafkaMessage:
    """A message ready to hand to a Kafka producer.

    ``key`` and ``value`` are ``None`` only in dead-letter copies of messages that had
    none.
    """

    topic: str
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes], ...]

    def header(self, name: str) -> str | None:
        """The value of header ``name`` (see :func:`header`)."""
        return header(self.headers, name)


def format_time(moment: datetime) -> str:
    """RFC 3339 in UTC with a ``Z`` suffix: ``2025-11-21T08:00:00Z``."""
    if moment.tzinfo is None:
        raise ValueError("cannot format a naive datetime")
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def encode(
    event: Event, *, traceparent: str | None = None, tracestate: str | None = None
) -> KafkaMessage:
    """The Kafka message of an event (CloudEvents binary mode) on the event's topic.

    Raises :class:`ValueError` for a malformed ``traceparent``.
    """
    cls = type(event)
    headers: list[tuple[str, bytes]] = [
        ("ce_specversion", SPECVERSION.encode()),
        ("ce_id", str(event.event_id).encode()),
        ("ce_source", cls.ce_source().encode()),
        ("ce_type", cls.ce_type().encode()),
        ("ce_time", format_time(event.occurred_at).encode()),
        ("ce_subject", event.subject_id.encode()),
        ("content-type", CONTENT_TYPE.encode()),
    ]
    if traceparent is not None:
        if not _TRACEPARENT.fullmatch(traceparent):
            raise ValueError(f"malformed traceparent {traceparent!r}")
        headers.append(("traceparent", traceparent.encode()))
        if tracestate:
            headers.append(("tracestate", tracestate.encode()))
    return KafkaMessage(
        topic=cls.topic,
        key=event.partition_key.encode(),
        value=event.model_dump_json().encode(),
        headers=tuple(headers),
    )


def header(headers: Headers, name: str) -> str | None:
    """The value of the header ``name`` (case-insensitive) as text, or ``None``.

    When the name repeats, the last one wins. Raises :class:`ContractError` when the
    value is not UTF-8.
    """
    return _get(_by_name(headers), name)


def _by_name(headers: Headers) -> dict[str, bytes | None]:
    """Headers by lower-cased name, the last one winning; built once per message."""
    return {key.lower(): value for key, value in headers}


def _get(by_name: Mapping[str, bytes | None], name: str) -> str | None:
    found = by_name.get(name.lower())
    if found is None:
        return None
    try:
        return found.decode("utf-8")
    except UnicodeDecodeError:
        raise ContractError(f"header {name} is not valid UTF-8") from None


def _required(headers: Mapping[str, bytes | None], name: str) -> str:
    value = _get(headers, name)
    if value is None:
        raise ContractError(f"missing header {name}")
    return value


def _describe(exc: ValidationError, ce_type: str) -> str:
    problems: list[str] = []
    for error in exc.errors(include_url=False, include_input=False):
        if error["type"] == "json_invalid":
            return f"invalid JSON body: {error['msg'].removeprefix('Invalid JSON: ')}"
        where = ".".join(str(part) for part in error["loc"]) or "(body)"
        problems.append(f"field {where}: {error['msg']}")
    return f"invalid {ce_type} body: " + "; ".join(problems)


def _class_from_body(value: bytes) -> type[Event]:
    try:
        body: Any = from_json(value)
    except ValueError as exc:
        raise ContractError(f"invalid JSON body: {exc}") from None
    if not isinstance(body, dict):
        raise ContractError("invalid JSON body: not a JSON object")
    name, version = body.get("event_type"), body.get("schema_version")
    if not isinstance(name, str) or not isinstance(version, int):
        raise ContractError("no ce_type header and the body has no event_type and schema_version")
    try:
        return event_class_by_name(name, version)
    except UnknownEventTypeError as exc:
        raise ContractError(str(exc)) from None


def decode(value: bytes | None, headers: Headers) -> Event:
    """The event in a Kafka message, validated against its contract.

    The class comes from the ``ce_type`` header or, without one, from the body's
    ``event_type`` and ``schema_version``. A message with no CloudEvents headers at all
    is decoded from its body alone; otherwise ``ce_specversion`` (``1.0``), ``ce_id``
    and ``ce_source`` are required, and every CloudEvents header present must agree
    with the body. Raises :class:`ContractError` naming the problem.
    """
    if value is None:
        raise ContractError("message has no value (tombstone)")
    by_name = _by_name(headers)
    binary = any(_get(by_name, name) is not None for name in ("ce_specversion", "ce_id"))
    ce_type = _get(by_name, "ce_type")
    if binary:
        specversion = _required(by_name, "ce_specversion")
        if specversion != SPECVERSION:
            raise ContractError(f"unsupported ce_specversion {specversion!r} (expected 1.0)")
        _required(by_name, "ce_id")
        _required(by_name, "ce_source")
    if ce_type is not None:
        try:
            cls = event_class(ce_type)
        except UnknownEventTypeError as exc:
            raise ContractError(str(exc)) from None
    else:
        cls = _class_from_body(value)
    try:
        event = cls.model_validate_json(value)
    except ValidationError as exc:
        if ce_type is not None:
            for error in exc.errors(include_url=False, include_input=False):
                if error["loc"] in (("event_type",), ("schema_version",)):
                    raise ContractError(
                        f"header mismatch: ce_type {ce_type!r} but body "
                        f"{error['loc'][0]}: {error['msg']}"
                    ) from None
        raise ContractError(_describe(exc, cls.ce_type())) from None
    _check_headers(event, by_name)
    return event


def _check_headers(event: Event, headers: Mapping[str, bytes | None]) -> None:
    cls = type(event)
    ce_id = _get(headers, "ce_id")
    if ce_id is not None and ce_id != str(event.event_id):
        try:
            same = UUID(ce_id) == event.event_id
        except ValueError:
            same = False
        if not same:
            raise ContractError(
                f"header mismatch: ce_id {ce_id!r} but body event_id {str(event.event_id)!r}"
            )
    ce_subject = _get(headers, "ce_subject")
    if ce_subject is not None and ce_subject != event.subject_id:
        raise ContractError(
            f"header mismatch: ce_subject {ce_subject!r} but body subject_id {event.subject_id!r}"
        )
    ce_source = _get(headers, "ce_source")
    if ce_source is not None and ce_source != cls.ce_source():
        raise ContractError(
            f"header mismatch: ce_source {ce_source!r} but {cls.ce_type()} comes from "
            f"{cls.ce_source()!r}"
        )
    ce_time = _get(headers, "ce_time")
    if ce_time is not None:
        try:
            moment = datetime.fromisoformat(ce_time)
        except ValueError:
            raise ContractError(f"header ce_time {ce_time!r} is not an RFC 3339 time") from None
        if moment.tzinfo is None or moment != event.occurred_at:
            raise ContractError(
                f"header mismatch: ce_time {ce_time!r} but body occurred_at "
                f"{format_time(event.occurred_at)!r}"
            )
    content_type = _get(headers, "content-type")
    if content_type is not None:
        media_type = content_type.split(";", 1)[0].strip().lower()
        if media_type != CONTENT_TYPE:
            raise ContractError(f"content-type {content_type!r} is not {CONTENT_TYPE}")


# --- dead letters -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """Why and from where a message was dead-lettered (read from its ``dlq_*`` headers)."""

    reason: str
    original_topic: str
    original_partition: int
    original_offset: int
    consumer_group: str
    failed_at: datetime


def dead_letter_message(
    original_topic: str,
    partition: int,
    offset: int,
    key: bytes | None,
    value: bytes | None,
    headers: Headers,
    reason: str,
    consumer_group: str,
    *,
    failed_at: datetime | None = None,
) -> KafkaMessage:
    """A copy of a failed message for ``bansos.deadletter.v1``.

    Key, value and headers are the original's, unchanged; the headers ``dlq_reason``,
    ``dlq_original_topic``, ``dlq_original_partition``, ``dlq_original_offset``,
    ``dlq_consumer_group`` and ``dlq_failed_at`` (RFC 3339 UTC, now by default) are
    appended. A reason longer than 4000 characters is cut.
    """
    moment = failed_at if failed_at is not None else datetime.now(UTC)
    if len(reason) > _MAX_REASON:
        reason = reason[: _MAX_REASON - 1] + "…"
    kept = tuple((name, data if data is not None else b"") for name, data in headers)
    added = (
        ("dlq_reason", reason),
        ("dlq_original_topic", original_topic),
        ("dlq_original_partition", str(partition)),
        ("dlq_original_offset", str(offset)),
        ("dlq_consumer_group", consumer_group),
        ("dlq_failed_at", format_time(moment)),
    )
    return KafkaMessage(
        topic=topics.DEADLETTER,
        key=key,
        value=value,
        headers=kept + tuple((name, text.encode()) for name, text in added),
    )


def read_dead_letter(headers: Headers) -> DeadLetter:
    """The ``dlq_*`` headers of a dead-letter message; :class:`ContractError` if absent."""
    by_name = _by_name(headers)
    try:
        return DeadLetter(
            reason=_required(by_name, "dlq_reason"),
            original_topic=_required(by_name, "dlq_original_topic"),
            original_partition=int(_required(by_name, "dlq_original_partition")),
            original_offset=int(_required(by_name, "dlq_original_offset")),
            consumer_group=_required(by_name, "dlq_consumer_group"),
            failed_at=datetime.fromisoformat(_required(by_name, "dlq_failed_at")),
        )
    except ValueError as exc:
        if isinstance(exc, ContractError):
            raise
        raise ContractError(f"malformed dead-letter header: {exc}") from None
