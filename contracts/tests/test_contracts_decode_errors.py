"""decode() refuses bad messages with a reason that names the problem; dead letters."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from uuid import uuid4

import pytest

from bansos_contracts import (
    ContractError,
    HouseholdDecileChanged,
    HouseholdRegistered,
    KafkaMessage,
    PayoutScheduled,
    dead_letter_message,
    decode,
    encode,
    example,
    header,
    read_dead_letter,
    topics,
)
from bansos_contracts.kafka import Headers


def _message() -> KafkaMessage:
    return encode(example(HouseholdDecileChanged))


def _replace(headers: Headers, name: str, value: str | None) -> list[tuple[str, bytes | None]]:
    kept = [(k, v) for k, v in headers if k != name]
    return kept if value is None else [*kept, (name, value.encode())]


def _body(**changes: object) -> bytes:
    message = _message()
    assert message.value is not None
    body = json.loads(message.value)
    body.update(changes)
    return json.dumps(body).encode()


def _reason(value: bytes | None, headers: Headers) -> str:
    with pytest.raises(ContractError) as caught:
        decode(value, headers)
    assert str(caught.value) == caught.value.reason
    return caught.value.reason


def test_garbage_bytes() -> None:
    reason = _reason(b"\x00\xffnot json{", _message().headers)
    assert reason.startswith("invalid JSON body")


def test_body_not_an_object() -> None:
    reason = _reason(b"[1, 2]", _message().headers)
    assert "(body)" in reason and "object" in reason.lower()


def test_tombstone() -> None:
    assert "no value" in _reason(None, _message().headers)


@pytest.mark.parametrize("name", ["ce_id", "ce_source"])
def test_missing_required_header(name: str) -> None:
    message = _message()
    assert _reason(message.value, _replace(message.headers, name, None)) == (
        f"missing header {name}"
    )


def test_unsupported_specversion() -> None:
    message = _message()
    reason = _reason(message.value, _replace(message.headers, "ce_specversion", "0.3"))
    assert "ce_specversion" in reason and "0.3" in reason


def test_unknown_type() -> None:
    message = _message()
    headers = _replace(message.headers, "ce_type", "bansos.registry.HouseholdExploded.v1")
    assert _reason(message.value, headers) == (
        "unknown event type 'bansos.registry.HouseholdExploded.v1'"
    )


def test_unknown_version_without_ce_type() -> None:
    message = _message()
    headers = _replace(message.headers, "ce_type", None)
    reason = _reason(_body(schema_version=7), headers)
    assert "unknown event type 'HouseholdDecileChanged' version 7" in reason


def test_invalid_field() -> None:
    message = _message()
    reason = _reason(_body(new_decile=11), message.headers)
    assert reason.startswith("invalid bansos.registry.HouseholdDecileChanged.v1 body")
    assert "field new_decile" in reason and "10" in reason


def test_several_invalid_fields_are_all_named() -> None:
    reason = _reason(_body(new_decile=0, subject_version=0, nik="3517..."), _message().headers)
    assert "field new_decile" in reason
    assert "field subject_version" in reason
    assert "field nik" in reason and "Extra inputs are not permitted" in reason


def test_naive_time_in_body() -> None:
    reason = _reason(_body(recorded_at="2025-11-21T08:00:00"), _message().headers)
    assert "field recorded_at" in reason and "timezone" in reason


def test_ce_id_mismatch() -> None:
    message = _message()
    other = str(uuid4())
    reason = _reason(message.value, _replace(message.headers, "ce_id", other))
    assert reason.startswith("header mismatch: ce_id") and other in reason


def test_ce_subject_mismatch() -> None:
    message = _message()
    reason = _reason(message.value, _replace(message.headers, "ce_subject", "HH-OTHER"))
    assert reason.startswith("header mismatch: ce_subject 'HH-OTHER'")


def test_ce_type_disagrees_with_body() -> None:
    message = _message()
    headers = _replace(message.headers, "ce_type", HouseholdRegistered.ce_type())
    reason = _reason(message.value, headers)
    assert reason.startswith("header mismatch: ce_type 'bansos.registry.HouseholdRegistered.v1'")
    assert "event_type" in reason


def test_ce_source_mismatch() -> None:
    message = _message()
    reason = _reason(message.value, _replace(message.headers, "ce_source", "bansos/payout"))
    assert reason.startswith("header mismatch: ce_source 'bansos/payout'")


def test_ce_time_mismatch_and_garbage() -> None:
    message = _message()
    reason = _reason(message.value, _replace(message.headers, "ce_time", "2001-01-01T00:00:00Z"))
    assert reason.startswith("header mismatch: ce_time")
    reason = _reason(message.value, _replace(message.headers, "ce_time", "yesterday"))
    assert "ce_time" in reason and "RFC 3339" in reason


def test_wrong_content_type() -> None:
    message = _message()
    reason = _reason(message.value, _replace(message.headers, "content-type", "text/plain"))
    assert "content-type" in reason


def test_header_not_utf8() -> None:
    message = _message()
    headers = [*_replace(message.headers, "ce_subject", None), ("ce_subject", b"\xff\xfe")]
    assert "ce_subject is not valid UTF-8" in _reason(message.value, headers)


def test_ce_type_falls_back_to_body() -> None:
    message = _message()
    event = decode(message.value, _replace(message.headers, "ce_type", None))
    assert event == example(HouseholdDecileChanged)


def test_body_only_message_decodes() -> None:
    message = _message()
    assert decode(message.value, []) == example(HouseholdDecileChanged)


def test_charset_parameter_is_accepted() -> None:
    message = _message()
    headers = _replace(message.headers, "content-type", "application/json; charset=utf-8")
    assert decode(message.value, headers) == example(HouseholdDecileChanged)


def test_header_helper() -> None:
    headers = [("a", b"1"), ("A", b"2"), ("b", None)]
    assert header(headers, "a") == "2"
    assert header(headers, "b") is None
    assert header(headers, "missing") is None


def test_dead_letter_keeps_the_original() -> None:
    original = encode(example(PayoutScheduled))
    failed_at = datetime(2025, 12, 9, 3, 0, tzinfo=UTC)
    letter = dead_letter_message(
        original.topic,
        3,
        1234,
        original.key,
        original.value,
        original.headers,
        "field amount: Input should be greater than or equal to 0",
        "bansos-payout",
        failed_at=failed_at,
    )
    assert letter.topic == topics.DEADLETTER == "bansos.deadletter.v1"
    assert letter.key == original.key
    assert letter.value == original.value
    assert letter.headers[: len(original.headers)] == original.headers
    assert letter.header("dlq_reason") == (
        "field amount: Input should be greater than or equal to 0"
    )
    assert letter.header("dlq_original_topic") == "bansos.payout.v1"
    assert letter.header("dlq_original_partition") == "3"
    assert letter.header("dlq_original_offset") == "1234"
    assert letter.header("dlq_consumer_group") == "bansos-payout"
    assert letter.header("dlq_failed_at") == "2025-12-09T03:00:00Z"
    info = read_dead_letter(letter.headers)
    assert (info.original_partition, info.original_offset, info.failed_at) == (
        3,
        1234,
        failed_at,
    )
    # the dead-lettered copy still decodes to the original event
    assert decode(letter.value, letter.headers) == example(PayoutScheduled)


def test_dead_letter_of_a_keyless_garbage_message() -> None:
    letter = dead_letter_message(
        "bansos.registry.v1", 0, 7, None, b"\xff", [], "invalid JSON body: x" * 1000, "g"
    )
    assert letter.key is None and letter.value == b"\xff"
    reason = letter.header("dlq_reason")
    assert reason is not None and len(reason) == 4000
    with pytest.raises(ContractError, match="dlq_reason"):
        read_dead_letter([])
