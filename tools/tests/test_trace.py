"""``bansosctl trace payout``: one payout's path across the services, from the index.

Events are contract events built with ``bansos_contracts.examples`` and indexed with
``Index.add_events`` (what ``audit sync`` does after decoding), each with the time Kafka
recorded it and a ``traceparent``.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import pytest
from typer.testing import CliRunner

from bansos_contracts.eligibility import BeneficiaryListApproved, EligibilityDecided, PaymentTerms
from bansos_contracts.enums import (
    Channel,
    EligibilityStatus,
    ListStage,
    PayoutFailureReason,
    Program,
)
from bansos_contracts.envelope import Event
from bansos_contracts.examples import example
from bansos_contracts.payout import (
    PayoutDisbursed,
    PayoutFailed,
    PayoutScheduled,
    payout_id,
)
from bansos_contracts.registry import HouseholdDecileChanged, HouseholdRegistered
from bansosctl.audit.index import Index, IndexedEvent
from bansosctl.audit.trace import (
    CAUSED_BY,
    LATEST_BEFORE,
    LISTED_IN,
    PAYOUT_ID,
    UnknownPayoutError,
    trace_id,
    trace_payout,
)
from bansosctl.main import app

E = TypeVar("E", bound=Event)
T0 = datetime(2025, 11, 1, 8, 0, tzinfo=UTC)
PERIOD = "2025-10..2025-12"
PAYOUT_1 = payout_id(Program.BLTS_KESRA, PERIOD, "HH-1")
PAYOUT_2 = payout_id(Program.BLTS_KESRA, PERIOD, "HH-2")
PAYOUT_3 = payout_id(Program.BLTS_KESRA, PERIOD, "HH-3")
TRACE_A, TRACE_B, TRACE_C = ("4bf92f3577b34da6a3ce929d0e0e4736", "a" * 32, "0123456789abcdef" * 2)
runner = CliRunner()


def day(n: float) -> datetime:
    return T0 + timedelta(days=n)


def event(cls: type[E], version: int = 1, **overrides: Any) -> E:
    """An example event with a fresh id; the subject follows the ids given."""
    ids = [n for n in ("list_id", "payout_id", "household_id") if n in cls.model_fields]
    if ids and ids[0] in overrides and "subject_id" not in overrides:
        overrides["subject_id"] = overrides[ids[0]]
    return example(cls, event_id=uuid.uuid4(), subject_version=version, **overrides)


def parent(trace: str) -> str:
    return f"00-{trace}-00f067aa0ba902b7-01"


@dataclass
class Story:
    """Events of HH-1 (explicit causes), HH-2 (fallbacks) and HH-3 (payout only)."""

    events: list[tuple[Event, timedelta, str | None]]
    """Each event, how long after ``occurred_at`` Kafka recorded it, and its trace."""
    by_name: dict[str, Event]


def story() -> Story:
    registered = event(HouseholdRegistered, household_id="HH-1", occurred_at=day(0))
    decile = event(
        HouseholdDecileChanged, 2, household_id="HH-1", previous_decile=5, new_decile=2,
        occurred_at=day(1),
    )  # fmt: skip
    decided = event(
        EligibilityDecided, household_id="HH-1", status=EligibilityStatus.ELIGIBLE,
        previous_status=None, reason_codes=(), causation_id=str(decile.event_id),
        occurred_at=day(1) + timedelta(seconds=2),
    )  # fmt: skip
    # Another program's decision, later: not the one the BLTS list came from.
    bpnt = event(
        EligibilityDecided, 2, household_id="HH-1", program=Program.BPNT, occurred_at=day(3.5),
        causation_id=str(decile.event_id),
    )  # fmt: skip
    registered_2 = event(HouseholdRegistered, household_id="HH-2", occurred_at=day(0))
    decided_2 = event(
        EligibilityDecided, household_id="HH-2", status=EligibilityStatus.ELIGIBLE,
        reason_codes=(), causation_id="reevaluate-2025-11", occurred_at=day(2),
    )  # fmt: skip
    # Recorded after the decision: the decision could not have seen it.
    decile_2 = event(
        HouseholdDecileChanged, 2, household_id="HH-2", previous_decile=2, new_decile=7,
        occurred_at=day(2.5),
    )  # fmt: skip
    verified = event(
        BeneficiaryListApproved, list_id="L-1", household_ids=("HH-1", "HH-2"), exclusions=(),
        occurred_at=day(3),
    )  # fmt: skip
    approved = event(
        BeneficiaryListApproved, 2, list_id="L-1", household_ids=("HH-1", "HH-2"),
        exclusions=(), stage=ListStage.REGENCY_APPROVED, ruleset_id="BLTS_KESRA-2025",
        ruleset_hash=decided.ruleset_hash, occurred_at=day(4),
        payment=PaymentTerms(
            amount=900_000, existing_recipients_of=(Program.PKH,),
            existing_channel=Channel.BANK_KKS, new_channel=Channel.POS,
        ),
    )  # fmt: skip
    # Re-decided after the list was approved: the list did not come from it.
    redecided = event(
        EligibilityDecided, 2, household_id="HH-1", status=EligibilityStatus.ELIGIBLE,
        reason_codes=(), occurred_at=day(4.5),
    )  # fmt: skip
    scheduled = event(
        PayoutScheduled, household_id="HH-1", payout_id=PAYOUT_1, occurred_at=day(5),
        causation_id=str(approved.event_id),
    )  # fmt: skip
    failed = event(
        PayoutFailed, 2, household_id="HH-1", payout_id=PAYOUT_1, occurred_at=day(6),
        reason=PayoutFailureReason.NOT_COLLECTED,
    )  # fmt: skip
    rerouted = event(
        PayoutScheduled, 3, household_id="HH-1", payout_id=PAYOUT_1,
        occurred_at=day(6) + timedelta(hours=1),
    )  # fmt: skip
    disbursed = event(
        PayoutDisbursed, 4, household_id="HH-1", payout_id=PAYOUT_1, occurred_at=day(7)
    )
    # HH-2's payout waited for its registry facts: caused by a registry event, not the list.
    scheduled_2 = event(
        PayoutScheduled, household_id="HH-2", payout_id=PAYOUT_2, occurred_at=day(5),
        causation_id=str(registered_2.event_id),
    )  # fmt: skip
    scheduled_3 = event(
        PayoutScheduled, household_id="HH-3", payout_id=PAYOUT_3, occurred_at=day(5)
    )
    ms = timedelta(milliseconds=1)
    events: list[tuple[Event, timedelta, str | None]] = [
        (registered, 1000 * ms, parent(TRACE_A)),
        (decile, 500 * ms, parent(TRACE_A)),
        (decided, 250 * ms, parent(TRACE_A)),
        (bpnt, 250 * ms, parent(TRACE_A)),
        (registered_2, 1000 * ms, None),
        (decided_2, 300 * ms, "not-a-traceparent"),
        (decile_2, 100 * ms, None),
        (verified, 1000 * ms, parent(TRACE_B)),
        (approved, 1000 * ms, parent(TRACE_B)),
        (redecided, 200 * ms, parent(TRACE_A)),
        (scheduled, 200 * ms, parent(TRACE_B)),
        (failed, 1000 * ms, parent(TRACE_C)),
        (rerouted, 400 * ms, parent(TRACE_C)),
        (disbursed, 600 * ms, parent(TRACE_C)),
        (scheduled_2, 200 * ms, parent(TRACE_B)),
        (scheduled_3, 200 * ms, None),
    ]
    names = [
        "registered", "decile", "decided", "bpnt", "registered_2", "decided_2", "decile_2",
        "verified", "approved", "redecided", "scheduled", "failed", "rerouted", "disbursed",
        "scheduled_2", "scheduled_3",
    ]  # fmt: skip
    return Story(events, dict(zip(names, (e for e, _, _ in events), strict=True)))


@pytest.fixture
def told(tmp_path: Path) -> Iterator[tuple[Index, Story]]:
    told = story()
    with Index(tmp_path / "index.sqlite") as index:
        index.add_events(
            IndexedEvent(e, e.topic, 0, n, e.occurred_at + lag, traceparent)
            for n, (e, lag, traceparent) in enumerate(told.events)
        )
        yield index, told


def test_a_payout_is_traced_through_its_causes_and_its_own_events(
    told: tuple[Index, Story],
) -> None:
    index, s = told
    trace = trace_payout(index, PAYOUT_1)
    assert (trace.household_id, trace.program, trace.period) == ("HH-1", "BLTS_KESRA", PERIOD)
    expected = [
        ("registry", "decile", CAUSED_BY, "decided"),
        ("eligibility", "decided", LATEST_BEFORE, "approved"),
        ("list", "approved", CAUSED_BY, "scheduled"),
        ("payout", "scheduled", PAYOUT_ID, None),
        ("channel", "failed", PAYOUT_ID, None),
        ("payout", "rerouted", PAYOUT_ID, None),
        ("channel", "disbursed", PAYOUT_ID, None),
    ]
    assert [(h.stage, h.event_id, h.link, h.linked_from) for h in trace.hops] == [
        (stage, str(s.by_name[name].event_id), link, came and str(s.by_name[came].event_id))
        for stage, name, link, came in expected
    ]
    assert [h.event_type for h in trace.hops] == [
        "HouseholdDecileChanged", "EligibilityDecided", "BeneficiaryListApproved",
        "PayoutScheduled", "PayoutFailed", "PayoutScheduled", "PayoutDisbursed",
    ]  # fmt: skip
    assert [h.service for h in trace.hops] == [
        "registry", "eligibility", "eligibility", "payout", "payout", "payout", "payout"
    ]  # fmt: skip
    assert trace.missing == ()

    decile, decision, listed, scheduled, failed, *_ = trace.hops
    assert decile.since_previous is None
    assert decile.publish_lag == pytest.approx(0.5)
    assert decision.since_previous == pytest.approx(1.75)
    assert decision.publish_lag == pytest.approx(0.25)
    assert decision.cause_type == "HouseholdDecileChanged"
    assert listed.since_previous == pytest.approx(3 * 86400 - 1.25)
    assert scheduled.since_previous == pytest.approx(86400 - 0.8)
    assert scheduled.publish_lag == pytest.approx(0.2)
    assert scheduled.cause_type == "BeneficiaryListApproved"
    assert failed.since_previous == pytest.approx(86400 + 0.8)
    assert trace.total_seconds == pytest.approx(6 * 86400 + 0.1)
    assert scheduled.recorded_at == "2025-11-06T08:00:00.200000Z"

    assert [h.trace_id for h in trace.hops] == [TRACE_A] * 2 + [TRACE_B] * 2 + [TRACE_C] * 3
    assert trace.trace_ids == [TRACE_A, TRACE_B, TRACE_C]
    assert "on list L-1" in listed.summary and "REGENCY_APPROVED" in listed.summary
    assert "first → ELIGIBLE" in decision.summary
    assert "NOT_COLLECTED" in failed.summary


def test_without_explicit_links_the_latest_event_before_each_hop_is_taken(
    told: tuple[Index, Story],
) -> None:
    index, s = told
    trace = trace_payout(index, PAYOUT_2)
    assert [(h.stage, h.event_id, h.link) for h in trace.hops] == [
        ("registry", str(s.by_name["registered_2"].event_id), LATEST_BEFORE),
        ("eligibility", str(s.by_name["decided_2"].event_id), LATEST_BEFORE),
        ("list", str(s.by_name["approved"].event_id), LISTED_IN),
        ("payout", str(s.by_name["scheduled_2"].event_id), PAYOUT_ID),
    ]
    registry, decision, *_ = trace.hops
    assert decision.causation_id == "reevaluate-2025-11" and decision.cause_type is None
    assert decision.trace_id is None and registry.trace_id is None
    assert trace.hops[-1].cause_type == "HouseholdRegistered"

    alone = trace_payout(index, PAYOUT_3)
    assert [h.stage for h in alone.hops] == ["payout"]
    assert alone.missing == ("list", "eligibility", "registry")


def test_an_unknown_payout_is_an_error_naming_it(told: tuple[Index, Story]) -> None:
    index, _ = told
    with pytest.raises(UnknownPayoutError, match="HH-404"):
        trace_payout(index, payout_id(Program.BLTS_KESRA, PERIOD, "HH-404"))
    with pytest.raises(UnknownPayoutError, match="no events of payout nonsense"):
        trace_payout(index, "nonsense")


def test_trace_ids_come_from_valid_traceparents_only() -> None:
    assert trace_id(parent(TRACE_A)) == TRACE_A
    assert trace_id(parent(TRACE_A).upper()) == TRACE_A
    for bad in (None, "", "not-a-traceparent", parent("0" * 32), f"00-{TRACE_A}-01"):
        assert trace_id(bad) is None


def test_the_command_prints_the_path_as_a_table_or_json(
    told: tuple[Index, Story], monkeypatch: pytest.MonkeyPatch
) -> None:
    index, s = told
    monkeypatch.setenv("COLUMNS", "400")
    done = runner.invoke(app, ["trace", "payout", PAYOUT_1, "--index", str(index.path)])
    assert done.exit_code == 0, done.output
    for name in ("decile", "decided", "approved", "scheduled", "disbursed"):
        assert str(s.by_name[name].event_id) in done.output
    shown = (CAUSED_BY, LATEST_BEFORE, TRACE_A, TRACE_C, "2025-11-06 08:00:00.200", "2d 23h 59m")
    for text in shown:
        assert text in done.output
    assert f"payout {PAYOUT_1} of household HH-1" in done.output
    assert "7 hops" in done.output and "3 trace ids" in done.output

    done = runner.invoke(app, ["trace", "payout", PAYOUT_1, "--index", str(index.path), "--json"])
    assert done.exit_code == 0, done.output
    body = json.loads(done.stdout)
    assert body["payout_id"] == PAYOUT_1 and body["missing"] == []
    assert [h["link"] for h in body["hops"]][:4] == [CAUSED_BY, LATEST_BEFORE, CAUSED_BY, PAYOUT_ID]
    assert body["hops"][1]["since_previous"] == pytest.approx(1.75)
    assert body["trace_ids"] == [TRACE_A, TRACE_B, TRACE_C]

    done = runner.invoke(app, ["trace", "payout", PAYOUT_3, "--index", str(index.path)])
    assert done.exit_code == 0, done.output
    assert "no registry event found" in done.output


def test_the_command_fails_clearly_on_an_unknown_payout_or_a_missing_index(
    told: tuple[Index, Story], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    index, _ = told
    monkeypatch.setenv("COLUMNS", "400")
    unknown = "BPNT:2025-04..2025-06:HH-9"
    done = runner.invoke(app, ["trace", "payout", unknown, "--index", str(index.path)])
    assert done.exit_code == 1
    assert f"no events of payout {unknown} in the index" in done.output
    missing = tmp_path / "nowhere.sqlite"
    done = runner.invoke(app, ["trace", "payout", PAYOUT_1, "--index", str(missing)])
    assert done.exit_code == 2
    assert f"no index at {missing}" in done.output and "audit sync" in done.output
    assert not missing.exists()
