"""The auditor's index: rows, duplicates, tracked positions and undecodable messages.

Events are contract events built with ``bansos_contracts.examples``, indexed with the
function ``sync`` itself uses after decoding (``Index.add_events``), or as raw Kafka
messages through ``decode_records``, the decoding step of ``sync``.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import pytest

from bansos_contracts.eligibility import BeneficiaryListApproved, Exclusion
from bansos_contracts.enums import ExclusionReason
from bansos_contracts.envelope import Event
from bansos_contracts.examples import example
from bansos_contracts.kafka import encode
from bansos_contracts.payout import PayoutScheduled
from bansos_contracts.registry import HouseholdDecileChanged, HouseholdRegistered
from bansosctl.audit.index import Index, IndexedEvent, Prepared, utc_text
from bansosctl.audit.sync import decode_records

E = TypeVar("E", bound=Event)
T0 = datetime(2025, 11, 1, 8, 0, tzinfo=UTC)
TRACE = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def event(cls: type[E], version: int = 1, **overrides: Any) -> E:
    """An example event with a fresh id; the subject follows the ids given."""
    ids = [n for n in ("list_id", "payout_id", "case_id", "household_id") if n in cls.model_fields]
    if ids and ids[0] in overrides and "subject_id" not in overrides:
        overrides["subject_id"] = overrides[ids[0]]
    return example(cls, event_id=uuid.uuid4(), subject_version=version, **overrides)


def placed(events: list[Event], first_offset: int = 0) -> list[IndexedEvent]:
    """Events as read from partition 0 of their topic, one minute apart from T0."""
    return [
        IndexedEvent(e, e.topic, 0, first_offset + n, T0 + timedelta(minutes=n), TRACE)
        for n, e in enumerate(events)
    ]


@pytest.fixture
def index(tmp_path: Path) -> Iterator[Index]:
    with Index(tmp_path / "index.sqlite") as opened:
        yield opened


def test_an_event_row_keeps_its_place_its_envelope_and_its_body(index: Index) -> None:
    registered = event(HouseholdRegistered, household_id="HH-1", causation_id="cmd-1")
    index.add_events(placed([registered], first_offset=41))
    [row] = index.query("SELECT * FROM events")
    assert row["event_id"] == str(registered.event_id)
    assert (row["topic"], row["kafka_partition"], row["kafka_offset"]) == (
        "bansos.registry.v1",
        0,
        41,
    )
    assert row["recorded_at"] == "2025-11-01T08:00:00.000000Z"
    assert row["occurred_at"] == utc_text(registered.occurred_at)
    assert (row["event_type"], row["subject_id"], row["subject_version"]) == (
        "HouseholdRegistered",
        "HH-1",
        1,
    )
    assert (row["household_id"], row["snapshot_id"], row["case_id"]) == (
        "HH-1",
        "DTSEN-3517-2025-11",
        None,
    )
    assert (row["correlation_id"], row["causation_id"]) == (
        registered.correlation_id,
        "cmd-1",
    )
    assert json.loads(row["actor"]) == {"role": "system", "id": "registry"}
    assert row["traceparent"] == TRACE
    assert HouseholdRegistered.model_validate_json(row["body"]) == registered


def test_times_are_stored_in_utc_with_a_fixed_width() -> None:
    from datetime import timezone

    wib = timezone(timedelta(hours=7))
    assert utc_text(datetime(2025, 11, 1, 15, 0, tzinfo=wib)) == "2025-11-01T08:00:00.000000Z"
    assert utc_text(datetime(2025, 11, 1, 8, 0)) == "2025-11-01T08:00:00.000000Z"
    assert utc_text(datetime(2025, 11, 1, 8, 0, 0, 5, tzinfo=UTC)) == (
        "2025-11-01T08:00:00.000005Z"
    )


def test_a_second_delivery_of_an_event_is_ignored(index: Index) -> None:
    events: list[Event] = [
        event(HouseholdRegistered, household_id="HH-1"),
        event(HouseholdDecileChanged, 2, household_id="HH-1"),
        event(BeneficiaryListApproved, household_ids=("HH-1", "HH-2")),
    ]
    assert index.add_events(placed(events)) == {
        "bansos.registry.v1": 2,
        "bansos.eligibility.v1": 1,
    }
    # The same events again, at later offsets (a re-publication): nothing new.
    assert index.add_events(placed(events, first_offset=10)) == {
        "bansos.registry.v1": 0,
        "bansos.eligibility.v1": 0,
    }
    assert index.counts_by_topic() == {"bansos.eligibility.v1": 1, "bansos.registry.v1": 2}
    offsets = [row["kafka_offset"] for row in index.query("SELECT * FROM events")]
    assert sorted(offsets) == [0, 1, 2]
    [(members,)] = index.db.execute("SELECT count(*) FROM list_members")
    assert members == 3  # HH-1, HH-2 listed; HH-000099 excluded (the example's)


def test_list_members_name_the_listed_and_the_excluded(index: Index) -> None:
    approval = event(
        BeneficiaryListApproved,
        household_ids=("HH-1", "HH-2"),
        exclusions=(Exclusion(household_id="HH-3", reason=ExclusionReason.MOVED),),
    )
    index.add_events(placed([approval]))
    rows = index.db.execute(
        "SELECT household_id, list_id, listed FROM list_members ORDER BY household_id"
    ).fetchall()
    assert rows == [
        ("HH-1", approval.list_id, 1),
        ("HH-2", approval.list_id, 1),
        ("HH-3", approval.list_id, 0),
    ]


def test_positions_are_written_with_their_batch_and_never_go_back(index: Index) -> None:
    first = placed([event(HouseholdRegistered, household_id=f"HH-{n}") for n in range(3)])
    index.add_events(first, {("bansos.registry.v1", 0): 3, ("bansos.payout.v1", 2): 7})
    assert index.positions() == {("bansos.registry.v1", 0): 3, ("bansos.payout.v1", 2): 7}
    index.add_events([], {("bansos.registry.v1", 0): 2})
    assert index.positions()[("bansos.registry.v1", 0)] == 3


def test_a_batch_that_fails_writes_neither_rows_nor_positions(index: Index) -> None:
    good = placed([event(HouseholdRegistered, household_id="HH-1")])
    index.add_events(good, {("bansos.registry.v1", 0): 1})
    broken = Prepared()
    broken.events.append(
        (str(uuid.uuid4()), "bansos.registry.v1", 0, 1, "x", "x", "X", "HH-2", 1,
         None, None, None, None, None, None, None, "{}", None, "{}")  # type: ignore[arg-type]
    )  # fmt: skip
    broken.unreadable.append(("bansos.registry.v1", 0, 2, "bad"))
    with pytest.raises(sqlite3.IntegrityError):
        index.write(broken, {("bansos.registry.v1", 0): 3})
    assert index.positions() == {("bansos.registry.v1", 0): 1}
    assert index.counts_by_topic() == {"bansos.registry.v1": 1}
    assert index.unreadable() == []


def test_decoding_raw_messages_keeps_the_bytes_and_records_the_unreadable() -> None:
    scheduled = event(PayoutScheduled)
    message = encode(scheduled, traceparent=TRACE)
    assert message.value is not None
    wrong_subject = tuple(
        (name, b"someone-else" if name == "ce_subject" else value)
        for name, value in message.headers
    )
    stamp = int(T0.timestamp() * 1000) + 123
    prepared = decode_records(
        [
            ("p.bansos.payout.v1", 4, 10, stamp, message.value, message.headers),
            ("p.bansos.payout.v1", 4, 11, stamp, b"not json", ()),
            ("p.bansos.payout.v1", 4, 12, stamp, None, message.headers),
            ("p.bansos.payout.v1", 4, 13, stamp, message.value, wrong_subject),
        ]
    )
    [row] = prepared.events
    assert row[:5] == (
        str(scheduled.event_id),
        "p.bansos.payout.v1",
        4,
        10,
        "2025-11-01T08:00:00.123000Z",
    )
    assert row[11] == scheduled.payout_id
    assert row[-2] == TRACE
    assert row[-1] == message.value.decode()  # the body exactly as it was on Kafka
    reasons = {offset: reason for _, _, offset, reason in prepared.unreadable}
    assert sorted(reasons) == [11, 12, 13]
    assert "invalid JSON" in reasons[11] or "no ce_type" in reasons[11]
    assert "tombstone" in reasons[12]
    assert "ce_subject" in reasons[13]


def test_worker_processes_decode_exactly_as_this_process_does() -> None:
    from bansosctl.audit.sync import RawRecord, _decode_in, _new_pool

    records: list[RawRecord] = []
    for offset in range(5000):
        message = encode(event(HouseholdRegistered, household_id=f"HH-{offset}"), traceparent=TRACE)
        records.append(("bansos.registry.v1", 1, offset, 1_762_000_000_000 + offset,
                        message.value, message.headers))  # fmt: skip
    records[4321] = ("bansos.registry.v1", 1, 4321, 1_762_000_000_000, b"{}", ())
    records.append(
        ("bansos.eligibility.v1", 0, 0, 1_762_000_000_000,
         encode(event(BeneficiaryListApproved)).value, ())
    )  # fmt: skip
    pool = _new_pool(2)
    try:
        in_workers = asyncio.run(_decode_in(pool, records))
    finally:
        pool.shutdown()
    here = decode_records(records)
    assert len(in_workers.events) == 5000 and len(in_workers.members) == 2
    assert in_workers.events == here.events
    assert in_workers.members == here.members
    assert in_workers.unreadable == here.unreadable != []
