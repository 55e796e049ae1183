"""Audit and replay throughput: the index build, the chain verifier and a read-model replay.

N realistic contract events are published (untimed) on the four public topics under a
fresh prefix, shaped like a regency's period: per household ``HouseholdRegistered``,
``HouseholdDecileChanged``, 2-4 ``EligibilityDecided``, ``PayoutScheduled`` and
``PayoutDisbursed``, a case on the objections topic for one household in 50, and one
``BeneficiaryListApproved`` per village of 400. Every message carries the relay's
``bansos_position`` and ``bansos_chain`` headers, with a checkpoint after every
``CHECKPOINT_EVERY`` events and one over the tail, so the topics verify intact. Then:

- index build: ``audit sync`` into an empty index (default workers, as the CLI);
- verify: ``audit verify`` (every chain and checkpoint) over the same topics;
- replay: the payout service's read models rebuilt into a scratch database, as
  ``bansosctl replay payout`` does, from N stored events (SQLite; PostgreSQL too with
  ``BENCH_AUDIT_POSTGRES=1``), filled in-process through the service's aggregates.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient

from bansos_contracts import eligibility as el
from bansos_contracts import integrity, topics
from bansos_contracts.enums import EligibilityStatus, ListStage, Program
from bansos_contracts.envelope import Actor, Event
from bansos_contracts.examples import example
from bansos_contracts.kafka import KafkaMessage, encode
from bansos_contracts.objections import CaseResolved, CaseReviewed, CaseSubmitted
from bansos_contracts.payout import PayoutDisbursed, PayoutScheduled, payout_id
from bansos_contracts.registry import HouseholdDecileChanged, HouseholdRegistered
from bansos_contracts.values import Region
from bansos_libs.kafka import partition_for
from bansos_libs.replay import ScratchDatabase
from bansos_libs.settings import ServiceSettings
from bansos_payout.domain.beneficiary import Beneficiary
from bansos_payout.domain.payout import Payout
from bansosctl.audit.index import Index
from bansosctl.audit.sync import PUBLIC_TOPICS, sync
from bansosctl.audit.verify import verify_topics
from bansosctl.replay import definition_of
from benchmarks.pipeline import _produce
from benchmarks.stack import KAFKA, drop_database, new_database
from tests.fixtures.payout import BLTS_TERMS
from tests.fixtures.stack import create_topics

TARGET = 20_000.0
"""Events per second each measure is held against."""
PARTITIONS = 6  # as `make run` creates the topics
VILLAGE_SIZE = 400
PERIOD = "2025-10..2025-12"
PROGRAMS = (Program.BLTS_KESRA, Program.BPNT, Program.PKH, Program.PBI_JKN)
T0 = datetime(2025, 9, 1, 2, tzinfo=UTC)
# Placeholders in the templates, replaced per event by bytes.replace.
_HH, _CASE = "3517-HH-XXXXXXX", "CASE-XXXXXXX"
_EID = uuid.UUID("ffffffff-ffff-4fff-bfff-ffffffffffff")
_HH_B, _CASE_B, _EID_B = _HH.encode(), _CASE.encode(), str(_EID).encode()
_WINDOWS = [
    {"kind": "POST_OFFICE", "starts_at": "2025-11-25T01:00:00+00:00",
     "ends_at": "2025-12-08T09:00:00+00:00", "place": "Kantor Pos Kecamatan"},
]  # fmt: skip
_PAID, _CLOSED = datetime(2025, 11, 26, 3, tzinfo=UTC), datetime(2025, 12, 8, 9, tzinfo=UTC)

Message = tuple[bytes, bytes, list[tuple[str, bytes]], int]
"""key, value, headers, partition: what ``benchmarks.pipeline._produce`` sends."""


@functools.cache
def _partition(key: bytes) -> int:
    """The partition the relay would send a key to (as ``bansos_libs.outbox`` does)."""
    return partition_for(key, list(range(PARTITIONS)))


def _village(number: int) -> str:
    return f"35.17.{1 + number // 20:02d}.{2001 + number % 20}"


class _Topic:
    """One topic's messages as its relay would publish them: positioned, chained and
    checkpointed."""

    def __init__(self, name: str, producer: str) -> None:
        self.name, self.producer = name, producer
        self.messages: list[Message] = []
        self.heads: dict[bytes, str] = {}
        self.log: str | None = None
        self.events = self.checkpointed = 0

    def add(self, key: bytes, value: bytes, headers: tuple[tuple[str, bytes], ...]) -> None:
        self.events += 1
        position = self.events
        subject = headers[5][1]  # ce_subject, as encode() orders the headers
        chain = self.heads[subject] = integrity.chain_hash(self.heads.get(subject), value)
        self.log = integrity.log_hash(self.log, position, chain)
        placed = (integrity.POSITION_HEADER, str(position).encode())
        chained = (integrity.CHAIN_HEADER, chain.encode())
        self.messages.append((key, value, [*headers, placed, chained], _partition(key)))
        if position % integrity.CHECKPOINT_EVERY == 0:
            self.checkpoint()

    def checkpoint(self) -> None:
        """A checkpoint over every event so far (none if there is no new one)."""
        if self.events == self.checkpointed or self.log is None:
            return
        done = integrity.Checkpoint(self.name, self.producer, self.events, self.events, self.log)
        key, headers = integrity.CHECKPOINT_KEY, list(integrity.checkpoint_headers(done))
        self.messages.append((key, done.to_json(), headers, _partition(key)))
        self.checkpointed = self.events


def _templates(village: str) -> dict[str, KafkaMessage]:
    """One encoded event per kind for a village, with placeholder ids."""

    def made(cls: type[Event], days: int, version: int, **fields: Any) -> KafkaMessage:
        subject = fields.get("case_id") or fields.get("payout_id") or _HH
        event = example(
            cls, event_id=_EID, subject_id=subject, subject_version=version,
            occurred_at=T0 + timedelta(days=days), household_id=_HH, **fields,
        )  # fmt: skip
        message = encode(event)
        assert message.headers[5][0] == "ce_subject"
        return message

    paid = payout_id(Program.BLTS_KESRA, PERIOD, _HH)
    inputs = el.DecisionInputs(decile=2, programs=(Program.PKH,), active=True, village=village)
    found = {
        "HR": made(HouseholdRegistered, 0, 1, region=Region.of_village(village), decile=3),
        "HDC": made(
            HouseholdDecileChanged, 30, 2, previous_decile=3, new_decile=2, as_of=date(2025, 9, 1)
        ),
        "CS": made(CaseSubmitted, 35, 1, case_id=_CASE, village=village),
        "CR": made(CaseReviewed, 40, 2, case_id=_CASE),
        "CRES": made(CaseResolved, 45, 3, case_id=_CASE),
        "PS": made(PayoutScheduled, 60, 1, payout_id=paid),
        "PD": made(PayoutDisbursed, 75, 2, payout_id=paid),
    }
    for i, program in enumerate(PROGRAMS):
        found[f"ED{i}"] = made(
            el.EligibilityDecided, 31, 2 + i, program=program, status=EligibilityStatus.ELIGIBLE,
            previous_status=None, reason_codes=(el.ReasonCode(code="DECILE_WITHIN_MAX"),),
            ruleset_id=f"{program.value}-2025", inputs=inputs,
        )  # fmt: skip
    return found


def _plan() -> Iterator[tuple[str, KafkaMessage, bytes, bytes]]:
    """Every event of an endless regency, in the order its services would record them:
    (topic, template, household id, case id)."""
    number = 0
    for v in itertools.count():
        village, made = _village(v), _templates(_village(v))
        households = [f"3517-HH-{number + i:07d}".encode() for i in range(VILLAGE_SIZE)]
        for n, hh in enumerate(households, number):
            case = f"CASE-{n:07d}".encode()
            yield topics.REGISTRY, made["HR"], hh, case
            yield topics.REGISTRY, made["HDC"], hh, case
            for i in range(2 + n % 3):
                yield topics.ELIGIBILITY, made[f"ED{i}"], hh, case
            if n % 50 == 0:
                for kind in ("CS", "CR", "CRES"):
                    yield topics.OBJECTIONS, made[kind], hh, case
        list_id = f"BLTS_KESRA:{PERIOD}:{village}"
        approved = example(
            el.BeneficiaryListApproved, event_id=_EID, subject_id=list_id, subject_version=2,
            list_id=list_id, village=village, household_ids=tuple(h.decode() for h in households),
            exclusions=(), stage=ListStage.REGENCY_APPROVED, ruleset_id="BLTS_KESRA-2025",
            approved_by=Actor(role="regency_officer", id="dinsos-3517", region="35.17"),
            payment=BLTS_TERMS, occurred_at=T0 + timedelta(days=50),
        )  # fmt: skip
        yield topics.ELIGIBILITY, encode(approved), b"", b""
        for hh in households:
            yield topics.PAYOUT, made["PS"], hh, b""
            yield topics.PAYOUT, made["PD"], hh, b""
        number += VILLAGE_SIZE


def generate(events: int, prefix: str) -> list[_Topic]:
    """``events`` events on the four topics (each with ``prefix``), ready to publish."""
    out = {t: _Topic(prefix + t, topics.PRODUCERS[t]) for t in PUBLIC_TOPICS}
    run = uuid.uuid4().hex[:8]
    for i, (topic, made, hh, case) in enumerate(itertools.islice(_plan(), events)):
        pairs = ((_EID_B, f"{run}-0000-4000-8000-{i:012x}".encode()), (_HH_B, hh), (_CASE_B, case))
        key, value, headers = made.key or b"", made.value or b"", made.headers
        for old, new in pairs:
            key, value = key.replace(old, new), value.replace(old, new)
            headers = tuple((name, found.replace(old, new)) for name, found in headers)
        out[topic].add(key, value, headers)
    for topic in out.values():
        topic.checkpoint()  # the tail, as an idle relay does
    return list(out.values())


async def _drop_topics(names: list[str]) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=KAFKA)
    await admin.start()
    try:
        await admin.delete_topics(names)
    finally:
        await admin.close()


def _household(number: int, steps: int) -> list[Any]:
    """A household's payout aggregates with ``steps`` (1-3) new events: ``Beneficiary.Noted``,
    ``Payout.Scheduled``, then a bank credit, a counter collection or (one POS payout in
    five) ``Payout.Failed``."""
    hh, village = f"3517-HH-{number:07d}", _village(number // VILLAGE_SIZE)
    bank = "BNI" if number % 2 else None
    facts = {"village": village, "programs": ["PKH"] if bank else [], "bank": bank, "active": True}
    beneficiary = Beneficiary(household_id=hh, facts=facts, registry_version=1)
    if steps == 1:
        return [beneficiary]
    payout = Payout.schedule(
        program="BLTS_KESRA", period=PERIOD, household_id=hh, village=village,
        list_id=f"BLTS_KESRA:{PERIOD}:{village}", ruleset_id="BLTS_KESRA-2025", amount=900_000,
        channel="BANK_KKS" if bank else "POS", bank=bank,
        location=None if bank else "Kantor Pos Kecamatan", windows=_WINDOWS,
    )  # fmt: skip
    if steps == 3 and bank:
        payout.record_bank_result(
            credited=True, amount=900_000, reference=f"BNI-{number:09d}", at=_PAID,
            rejection=None, fallback=None,
        )  # fmt: skip
    elif steps == 3 and number % 10 == 0:
        payout.expire(now=_CLOSED, last_window_end=_CLOSED)
    elif steps == 3:
        payout.collect(
            code="", check=lambda *_: True, amount=900_000, at=_PAID,
            reference=f"POS-{number:09d}", source="COUNTER",
        )  # fmt: skip
    return [beneficiary, payout]


def fill_payout(settings: ServiceSettings, events: int, batch: int = 4000) -> None:
    """``events`` stored payout events, made by the service's own aggregates and committed
    through its units of work, ``batch`` households per transaction."""
    app = definition_of("payout").application(settings)
    made = number = 0
    try:
        while made < events:
            uow = app.unit_of_work()
            for _ in range(batch):
                if made >= events:
                    break
                steps = min(3, events - made)
                uow.collect(*_household(number, steps))
                made, number = made + steps, number + 1
            app.commit(uow)
    finally:
        app.close()


def _replay(events: int, settings: ServiceSettings, result: dict[str, float], name: str) -> None:
    """Fill the payout store (untimed), then time every payout view rebuilt into a scratch
    database from the whole log, as ``bansosctl replay`` does (without comparing)."""
    started = time.perf_counter()
    fill_payout(settings, events)
    result[f"{name}_fill_seconds"] = time.perf_counter() - started
    definition = definition_of("payout")
    app = definition.application(settings)
    updaters = list(definition.views(app, settings)) if definition.views else []
    try:
        started, replayed = time.perf_counter(), 0
        for updater in updaters:
            with ScratchDatabase(app, updater.view) as scratch:
                replayed += scratch.replay()
        seconds = time.perf_counter() - started
    finally:
        for updater in updaters:
            updater.database.close()
        app.close()
    if replayed != events:
        raise RuntimeError(f"replay {name}: {replayed} events replayed, {events} stored")
    result[f"{name}_events_per_s"] = replayed / seconds


def _audit(events: int, prefix: str, tmp: Path, result: dict[str, float]) -> None:
    """Publish, then time ``audit sync`` and ``audit verify``; raises when either finds
    the topics other than they were made (the generator or the code under test is wrong)."""
    names = [prefix + t for t in PUBLIC_TOPICS]
    asyncio.run(create_topics(KAFKA, names, PARTITIONS))
    started = time.perf_counter()
    logs = generate(events, prefix)
    result["generate_seconds"] = time.perf_counter() - started
    started = time.perf_counter()
    for topic in logs:
        asyncio.run(_produce(topic.name, topic.messages))
    result["publish_seconds"] = time.perf_counter() - started
    del logs
    with Index(tmp / "index.sqlite") as index:
        started = time.perf_counter()
        report = asyncio.run(sync(index, KAFKA, prefix))
        seconds = time.perf_counter() - started
        held = sum(index.counts_by_topic().values())
        if not report.complete or report.added != events or held != events:
            raise RuntimeError(
                f"audit sync on {prefix}*: {report.added} added, {held} indexed, {events}"
                f" published, complete={report.complete}, unreadable={index.unreadable()[:3]}"
            )
    result["sync_workers"] = report.workers
    result["index_events_per_s"] = events / seconds
    started = time.perf_counter()
    reports = asyncio.run(verify_topics(KAFKA, names))
    seconds = time.perf_counter() - started
    problems = [p.describe() for r in reports for p in r.problems[:3]]
    verified = sum(r.events for r in reports)
    if problems or verified != events or any(r.unattested for r in reports):
        raise RuntimeError(
            f"audit verify: the topics {prefix}* (kept) do not verify: {verified} of {events}"
            f" events, unattested {[r.unattested for r in reports]}, problems {problems}"
        )
    result["verify_events_per_s"] = events / seconds
    asyncio.run(_drop_topics(names))


def run(events: int, postgres: bool = False) -> dict[str, float]:
    """The three rates (and, with ``postgres``, the replay from PostgreSQL), with their
    ratios to :data:`TARGET` and the untimed preparation's durations."""
    result: dict[str, float] = {"events": events, "target_events_per_s": TARGET}
    with tempfile.TemporaryDirectory(prefix="bansos-bench-audit-") as folder:
        tmp = Path(folder)
        _audit(events, f"bench{uuid.uuid4().hex[:6]}.", tmp, result)
        sqlite = ServiceSettings(service="payout", database_url=None, data_dir=tmp / "data")
        _replay(events, sqlite, result, "replay_payout_sqlite")
        if postgres:
            url = new_database()
            try:
                settings = ServiceSettings(service="payout", database_url=url, data_dir=tmp)
                _replay(events, settings, result, "replay_payout_postgres")
            finally:
                drop_database(url)
    rates = ("index", "verify", "replay_payout_sqlite", "replay_payout_postgres")
    for name in rates:
        if f"{name}_events_per_s" in result:
            result[f"{name}_to_target"] = result[f"{name}_events_per_s"] / TARGET
    return result
