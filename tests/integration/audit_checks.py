"""What an auditor checks after a workflow ran: everything is in the audit trail.

Called at the end of workflow tests, with the services still running:

- the services' relays have chained every event and attested the whole log with
  checkpoints, and ``bansosctl audit verify`` finds every link intact;
- the auditor's index, built from the topics alone, holds every decile change the
  registry recorded (with its snapshot and BPS date) and the latest status decision of
  every household, program and period that eligibility recorded, each with its cause;
- ``verify-decisions`` reproduces every recorded decision;
- a copy of the topics with one byte flipped in one event fails ``audit verify``, which
  names that event first.
"""

from __future__ import annotations

import asyncio
import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from typer.testing import CliRunner

from bansos_contracts import topics
from bansos_contracts.integrity import is_checkpoint
from bansos_eligibility.application import EligibilitySettings
from bansos_libs.kafka import idempotent_producer, read_to_end
from bansosctl.audit.decisions import load_rulesets, verify_decisions
from bansosctl.audit.index import Index
from bansosctl.audit.sync import sync
from bansosctl.audit.timeline import Entry, household_timeline
from bansosctl.audit.verify import ProblemKind, verify_topics
from bansosctl.main import app
from tests.fixtures.stack import create_topics
from tests.integration.services import ServiceStack

runner = CliRunner()
CAUSED = {"EligibilityDecided", "PayoutScheduled", "PayoutCancelled", "CaseReviewed",
          "CaseResolved"}  # fmt: skip
"""Events a service records because of an earlier event or a person's command."""


@dataclass(frozen=True)
class AuditFigures:
    """What the checks covered, for the test to assert on and report."""

    events: int
    households: int
    decile_changes: int
    decisions: int
    checkpoints: int


def _run(coroutine: Any) -> Any:
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def _producer_topics(stack: ServiceStack, prefix: str | None = None) -> list[str]:
    return [(stack.prefix if prefix is None else prefix) + t for t in topics.PRODUCERS]


def wait_until_attested(stack: ServiceStack, seconds: float = 60) -> int:
    """Wait until a checkpoint covers the last event of every topic; the checkpoints."""
    found: dict[str, int] = {}

    def attested() -> bool:
        reports = _run(verify_topics(stack.kafka, _producer_topics(stack)))
        found["checkpoints"] = sum(r.checkpoints for r in reports)
        return all(r.intact and r.attested_upto == r.last_position for r in reports)

    stack.wait_for(attested, seconds, "checkpoints over every topic's last event")
    return found["checkpoints"]


def _cause_is_known(entry: Entry) -> bool:
    """Caused by an event the index holds, or by a person's command (then it has no
    causation and its actor is that person)."""
    if entry.causation_id is None:
        return entry.actor.get("role") != "system"
    return entry.cause_type is not None


def check_audit_trail(stack: ServiceStack) -> AuditFigures:
    """Run every check of this module; the figures of what was checked."""
    checkpoints = wait_until_attested(stack)
    answer = runner.invoke(app, ["audit", "verify", "--bootstrap-servers", stack.kafka,
                                 "--topic-prefix", stack.prefix])  # fmt: skip
    assert answer.exit_code == 0, answer.output
    assert "every chain and checkpoint holds" in answer.output

    index = Index(stack.folder / "audit.sqlite")
    report = _run(sync(index, stack.kafka, stack.prefix, workers=0))
    assert report.complete and report.added > 0

    history = stack.query(
        "registry",
        "SELECT household_id, version, new_decile, snapshot_id, as_of"
        " FROM registry_decile_history ORDER BY household_id, version",
    )
    decisions = stack.query(
        "eligibility",
        "SELECT household_id, program, period, status, version FROM eligibility_decisions",
    )
    households = sorted({row[0] for row in history} | {row[0] for row in decisions})
    timelines = {h: household_timeline(index, h) for h in households}

    for household, version, decile, snapshot, as_of in history:
        entries = [
            e for e in timelines[household]
            if e.topic.endswith(topics.REGISTRY) and e.subject_version == version
        ]  # fmt: skip
        assert len(entries) == 1, (household, version, entries)
        body = entries[0].event
        assert body.get("new_decile", body.get("decile")) == decile, (household, version)
        assert body["snapshot_id"] == snapshot and str(body["as_of"]) == str(as_of)[:10]
        # A decile change is caused by its snapshot: the import that carried it.
        assert entries[0].correlation_id == f"snapshot:{snapshot}", entries[0]

    caused = [e for t in timelines.values() for e in t if e.event_type in CAUSED]
    assert all(_cause_is_known(e) for e in caused), [
        (e.event_type, e.event_id) for e in caused if not _cause_is_known(e)
    ][:5]

    for household, program, period, status, version in decisions:
        entries = [
            e for e in timelines[household]
            if e.event_type == "EligibilityDecided" and e.event["program"] == program
            and e.event["period"] == period
        ]  # fmt: skip
        latest = max(entries, key=lambda e: e.subject_version)
        assert (latest.subject_version, latest.event["status"]) == (version, status), household

    catalog = load_rulesets([EligibilitySettings().rulesets_dir])
    reproduced = verify_decisions(index, catalog)
    assert reproduced.checked >= len(decisions) and not reproduced.failures, reproduced.failures[:3]
    events = sum(index.counts_by_topic().values())
    index.close()
    check_a_flipped_byte_is_named(stack)
    return AuditFigures(events, len(households), len(history), reproduced.checked, checkpoints)


def check_a_flipped_byte_is_named(stack: ServiceStack) -> None:
    """Copy the topics with one byte of one registry event flipped: ``verify`` names it."""
    tampered = "x" + stack.prefix
    target = _run(_copy_flipping_one_byte(stack, tampered))
    answer = runner.invoke(app, ["audit", "verify", "--bootstrap-servers", stack.kafka,
                                 "--topic-prefix", tampered, "--json"])  # fmt: skip
    assert answer.exit_code == 1, answer.output
    found = json.loads(answer.output)
    problems = [p for t in found["topics"] for p in t["problems"]]
    first = problems[0]
    assert first["kind"] == ProblemKind.ALTERED
    assert (first["topic"], first["partition"], first["offset"]) == target[:3]
    assert first["subject"] == target[3]
    assert found["first_broken_link"].endswith(target[4])  # named by its event id
    assert {p["kind"] for p in problems} <= {ProblemKind.ALTERED, ProblemKind.CHECKPOINT_MISMATCH}
    assert sum(p["kind"] == ProblemKind.ALTERED for p in problems) == 1


async def _copy_flipping_one_byte(
    stack: ServiceStack, prefix: str
) -> tuple[str, int, int, str, str]:
    """Copy every producer topic to ``prefix``, partition for partition and offset for
    offset, flipping one byte of the registry's last decile change (or registration, if
    no decile changed); where it was."""
    names = _producer_topics(stack, prefix)
    await create_topics(stack.kafka, names, 3)
    producer = idempotent_producer(stack.kafka, "tamper")
    await producer.start()
    target: tuple[str, int, int, str, str] | None = None
    sent: list[asyncio.Future[Any]] = []
    try:
        for source, copy in zip(_producer_topics(stack), names, strict=True):
            records = [r async for r in read_to_end(stack.kafka, source, checkpoints=True)]
            events = [r for r in records if not is_checkpoint(r.headers)]
            victim = (  # the last decile change, else the last registration
                max(events, key=lambda r: (b"HouseholdDecileChanged" in r.value, r.offset))
                if source.endswith(topics.REGISTRY)
                else None
            )
            for record in records:
                value = record.value
                if victim is not None and record is victim:
                    flipped = bytearray(value)
                    flipped[len(value) // 2] ^= 0x01
                    value = bytes(flipped)
                    headers = dict(record.headers)
                    subject, event_id = headers["ce_subject"].decode(), headers["ce_id"].decode()
                    target = (copy, record.partition, record.offset, subject, event_id)
                sent.append(
                    await producer.send(
                        copy, value, key=record.key, headers=list(record.headers),
                        partition=record.partition,
                    )
                )  # fmt: skip
        await asyncio.gather(*sent)
    finally:
        await producer.stop()
    assert target is not None, "the registry published nothing"
    return target
