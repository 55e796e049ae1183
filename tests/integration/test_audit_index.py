"""``bansosctl audit sync`` on the real broker: interrupted or killed, nothing is lost or
duplicated, and a later run reads only what is new.

Contract events of every service are published to this test's own prefixed topics
(``BANSOS_TOPIC_PREFIX``), with one message that is not an event and one event published
twice, as an at-least-once relay may.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from bansos_contracts.eligibility import BeneficiaryListApproved, EligibilityDecided
from bansos_contracts.enums import Program
from bansos_contracts.envelope import Event
from bansos_contracts.examples import example
from bansos_contracts.kafka import encode
from bansos_contracts.objections import CaseSubmitted
from bansos_contracts.payout import PayoutDisbursed, PayoutScheduled, payout_id
from bansos_contracts.registry import HouseholdDecileChanged, HouseholdRegistered
from bansos_libs.kafka import idempotent_producer, read_to_end
from bansosctl.audit.index import Index
from bansosctl.audit.sync import PUBLIC_TOPICS, sync
from bansosctl.audit.timeline import household_timeline
from bansosctl.main import app
from tests.fixtures.stack import create_topics
from tests.integration.processes import ServiceProcess

pytestmark = pytest.mark.integration

PERIOD = "2025-10..2025-12"
T0 = datetime(2025, 11, 1, tzinfo=UTC)
TRACE = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
POISON = b"\x00 not an event"
runner = CliRunner()


def household_events(number: int) -> list[Event]:
    """One household's events across the four services."""
    household = f"3517-HH-{number:06d}"
    payout = payout_id(Program.BLTS_KESRA, PERIOD, household)
    moment = T0 + timedelta(minutes=number)

    def made(cls: type[Event], step: int, version: int, subject: str, **fields: Any) -> Event:
        return example(
            cls, event_id=uuid.uuid4(), subject_id=subject, subject_version=version,
            occurred_at=moment + timedelta(seconds=step), household_id=household, **fields,
        )  # fmt: skip

    return [
        made(HouseholdRegistered, 1, 1, household, decile=5),
        made(HouseholdDecileChanged, 2, 2, household, new_decile=2, as_of=date(2025, 12, 1)),
        made(EligibilityDecided, 3, 1, household),
        made(CaseSubmitted, 4, 1, f"C-{number}", case_id=f"C-{number}"),
        made(PayoutScheduled, 5, 1, payout, payout_id=payout),
        made(PayoutDisbursed, 6, 2, payout, payout_id=payout),
    ]


def list_of(numbers: range) -> BeneficiaryListApproved:
    list_id = f"BLTS_KESRA:{PERIOD}:{numbers.start}"
    return example(
        BeneficiaryListApproved, event_id=uuid.uuid4(), list_id=list_id, subject_id=list_id,
        household_ids=tuple(f"3517-HH-{n:06d}" for n in numbers), exclusions=(),
    )  # fmt: skip


def run(coroutine: Any) -> Any:
    """Run a coroutine on a fresh loop in a thread (the tests themselves are sync)."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


async def publish(bootstrap: str, prefix: str, events: list[Event], poison: bool = False) -> None:
    producer = idempotent_producer(bootstrap, "audit-test")
    await producer.start()
    try:
        sent = []
        for event in events:
            message = encode(event, traceparent=TRACE)
            sent.append(
                await producer.send(
                    prefix + message.topic, message.value, key=message.key,
                    headers=list(message.headers),
                )
            )  # fmt: skip
        if poison:
            sent.append(await producer.send(prefix + PUBLIC_TOPICS[0], POISON, key=b"poison"))
        await asyncio.gather(*sent)
    finally:
        await producer.stop()


async def offsets_on_kafka(bootstrap: str, prefix: str) -> dict[tuple[str, int, int], str]:
    """(topic, partition, offset) → event id (or ``?``) of every message now on the topics."""
    found: dict[tuple[str, int, int], str] = {}
    for topic in PUBLIC_TOPICS:
        async for record in read_to_end(bootstrap, prefix + topic):
            ids = [v.decode() for k, v in record.headers if k == "ce_id" and v is not None]
            found[(record.topic, record.partition, record.offset)] = ids[0] if ids else "?"
    return found


def indexed(path: Path) -> dict[tuple[str, int, int], str]:
    with sqlite3.connect(path) as db:
        rows = db.execute("SELECT topic, kafka_partition, kafka_offset, event_id FROM events")
        found = {(t, p, o): e for t, p, o, e in rows}
        for t, p, o in db.execute("SELECT topic, kafka_partition, kafka_offset FROM unreadable"):
            found[(t, p, o)] = "?"
    return found


def positions(path: Path) -> dict[tuple[str, int], int]:
    with sqlite3.connect(path) as db:
        try:
            rows = db.execute("SELECT topic, kafka_partition, next_offset FROM positions")
        except sqlite3.OperationalError:  # the sync has not created its tables yet
            return {}
        return {(t, p): o for t, p, o in rows}


def consistent(path: Path, on_kafka: dict[tuple[str, int, int], str]) -> None:
    """The index holds exactly the messages before each partition's recorded position."""
    reached = positions(path)
    expected = {
        place: event_id
        for place, event_id in on_kafka.items()
        if place[2] < reached.get((place[0], place[1]), 0)
    }
    mine = indexed(path)
    duplicated = {p for p, e in expected.items() if e != "?" and mine.get(p) is None}
    # A re-published event is held once, at its first offset; only its copy may be absent.
    first_ids = set(mine.values())
    assert all(expected[p] in first_ids for p in duplicated)
    assert {p: e for p, e in expected.items() if p not in duplicated} == mine


def processes_with(text: str) -> list[int]:
    """Ids of the processes whose command line mentions ``text`` (Linux /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and text.encode() in (entry / "cmdline").read_bytes():
                found.append(int(entry.name))
        except OSError:
            continue
    return found


@pytest.fixture
def prefix(kafka_bootstrap: str) -> Iterator[str]:
    name = f"t{uuid.uuid4().hex[:8]}."
    run(create_topics(kafka_bootstrap, [name + topic for topic in PUBLIC_TOPICS], 3))
    yield name


def test_an_interrupted_sync_resumes_without_losing_or_repeating(
    kafka_bootstrap: str, prefix: str, tmp_path: Path
) -> None:
    events = [e for n in range(200) for e in household_events(n)]
    events += [list_of(range(start, start + 50)) for start in range(0, 200, 50)]
    republished = events[7]
    run(publish(kafka_bootstrap, prefix, [*events, republished], poison=True))
    on_kafka = run(offsets_on_kafka(kafka_bootstrap, prefix))
    assert len(on_kafka) == len(events) + 2
    path = tmp_path / "index.sqlite"

    async def sync_once(**options: Any) -> Any:
        with Index(path) as index:
            return await sync(index, kafka_bootstrap, prefix, **options)

    first = run(sync_once(max_batches=3, max_records=100))
    assert not first.complete
    assert 0 < first.read <= 3 * 100 < len(on_kafka)
    consistent(path, on_kafka)

    second = run(sync_once(max_records=100))
    assert second.complete
    assert first.read + second.read == len(on_kafka)  # nothing read twice
    consistent(path, on_kafka)
    with Index(path) as index:
        assert sum(index.counts_by_topic().values()) == len(events)
        assert sum(t.duplicates for t in (*first.topics.values(), *second.topics.values())) == 1
        [(topic, _, _, reason)] = index.unreadable()
        assert topic == prefix + PUBLIC_TOPICS[0] and "JSON" in reason
        [row] = index.query("SELECT * FROM events WHERE event_id = ?", [str(republished.event_id)])
        assert row["traceparent"] == TRACE
        # The Kafka record time, not the event's own (2025) time.
        assert row["recorded_at"] > "2026" or row["recorded_at"] > row["occurred_at"]
        timeline = household_timeline(index, "3517-HH-000042")
        assert [e.event_type for e in timeline] == [
            "HouseholdRegistered", "HouseholdDecileChanged", "EligibilityDecided",
            "CaseSubmitted", "PayoutScheduled", "PayoutDisbursed", "BeneficiaryListApproved",
        ]  # fmt: skip

    assert run(sync_once()).read == 0  # up to date: nothing to read
    more = [e for n in range(200, 205) for e in household_events(n)]
    run(publish(kafka_bootstrap, prefix, more))
    third = run(sync_once())
    assert (third.read, third.added) == (len(more), len(more))
    consistent(path, run(offsets_on_kafka(kafka_bootstrap, prefix)))


def test_a_killed_sync_loses_and_repeats_nothing(
    kafka_bootstrap: str, prefix: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    events = [e for n in range(4000) for e in household_events(n)]
    run(publish(kafka_bootstrap, prefix, events, poison=True))
    on_kafka = run(offsets_on_kafka(kafka_bootstrap, prefix))
    path = tmp_path / "index.sqlite"
    env = {"KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap, "BANSOS_TOPIC_PREFIX": prefix}
    command = ["audit", "sync", "--index", str(path), "--batch-size", "5000", "--workers", "2"]
    syncing = ServiceProcess("bansosctl", command, env, tmp_path / "sync.log").start()
    deadline = time.monotonic() + 120
    while not (path.exists() and sum(positions(path).values()) > 0):
        assert syncing.alive and time.monotonic() < deadline, (tmp_path / "sync.log").read_text()
        time.sleep(0.02)
    syncing.kill()
    # Its decoding workers notice and exit too.
    deadline = time.monotonic() + 10
    while processes_with(str(path)):
        assert time.monotonic() < deadline, f"workers left behind: {processes_with(str(path))}"
        time.sleep(0.1)
    consistent(path, on_kafka)
    killed_at = len(indexed(path))
    assert 0 < killed_at < len(on_kafka), "the sync finished before it could be killed"

    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", kafka_bootstrap)
    monkeypatch.setenv("BANSOS_TOPIC_PREFIX", prefix)
    monkeypatch.setenv("COLUMNS", "300")
    done = runner.invoke(app, ["audit", "sync", "--index", str(path)])
    assert done.exit_code == 0, done.output
    assert f"({len(on_kafka) - killed_at:,} messages read)" in done.output
    assert "up to date" in done.output
    consistent(path, on_kafka)
    assert len(indexed(path)) == len(on_kafka)

    done = runner.invoke(app, ["audit", "sync", "--index", str(path), "--json"])
    assert done.exit_code == 0, done.output
    assert '"read": 0' in done.output

    other = runner.invoke(
        app, ["audit", "sync", "--index", str(path), "--topic-prefix", "another."]
    )
    assert other.exit_code == 1 and "prefix" in other.output
