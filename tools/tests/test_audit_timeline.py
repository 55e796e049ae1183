"""``bansosctl audit household``: one household's timeline across services, with causes,
and what the system knew at a moment (by the time Kafka recorded each event)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import pytest
from typer.testing import CliRunner

from bansos_contracts.eligibility import (
    BeneficiaryListApproved,
    EligibilityDecided,
    Exclusion,
    ReasonCode,
)
from bansos_contracts.enums import (
    CancellationReason,
    EligibilityStatus,
    ExclusionReason,
    Program,
    ReviewOutcome,
    ReviewStage,
)
from bansos_contracts.envelope import Actor, Event
from bansos_contracts.examples import example
from bansos_contracts.objections import CaseReviewed, CaseSubmitted
from bansos_contracts.payout import PayoutCancelled, PayoutScheduled, payout_id
from bansos_contracts.registry import (
    FieldChange,
    HouseholdDecileChanged,
    HouseholdRegistered,
    HouseholdUpdated,
)
from bansosctl.audit.cli import parse_as_of
from bansosctl.audit.index import Index, IndexedEvent
from bansosctl.audit.timeline import household_timeline, summarize
from bansosctl.main import app

E = TypeVar("E", bound=Event)
T0 = datetime(2025, 11, 1, 8, 0, tzinfo=UTC)
PERIOD = "2025-10..2025-12"
PAYOUT = payout_id(Program.BLTS_KESRA, PERIOD, "HH-1")
runner = CliRunner()


def day(n: float) -> datetime:
    return T0 + timedelta(days=n)


def event(cls: type[E], version: int = 1, **overrides: Any) -> E:
    """An example event with a fresh id; the subject follows the ids given."""
    ids = [n for n in ("list_id", "payout_id", "case_id", "household_id") if n in cls.model_fields]
    if ids and ids[0] in overrides and "subject_id" not in overrides:
        overrides["subject_id"] = overrides[ids[0]]
    return example(cls, event_id=uuid.uuid4(), subject_version=version, **overrides)


@dataclass
class Story:
    """HH-1's events, each with the time Kafka recorded it."""

    registered: HouseholdRegistered
    decile: HouseholdDecileChanged
    decision: EligibilityDecided
    submitted: CaseSubmitted
    late_update: HouseholdUpdated
    reviewed: CaseReviewed
    listed: BeneficiaryListApproved
    excluded: BeneficiaryListApproved
    scheduled: PayoutScheduled
    cancelled: PayoutCancelled
    recorded: dict[uuid.UUID, datetime]


def story() -> Story:
    registered = event(
        HouseholdRegistered, household_id="HH-1", decile=3, programs=(), occurred_at=day(0)
    )
    decile = event(
        HouseholdDecileChanged, 2, household_id="HH-1", previous_decile=3, new_decile=6,
        snapshot_id="DTSEN-3517-2025-12", as_of=date(2025, 12, 1), occurred_at=day(1),
    )  # fmt: skip
    decision = event(
        EligibilityDecided, 1, household_id="HH-1", occurred_at=day(1) + timedelta(seconds=2),
        causation_id=str(decile.event_id), ruleset_id="blts-kesra-2025q4",
        status=EligibilityStatus.INELIGIBLE, previous_status=EligibilityStatus.ELIGIBLE,
        reason_codes=(ReasonCode(code="DECILE_ABOVE_MAX", detail="6>4"),),
    )  # fmt: skip
    submitted = event(CaseSubmitted, household_id="HH-1", case_id="C-1", occurred_at=day(2))
    # Occurred on day 2, but the registry's relay only published it on day 9.
    late_update = event(
        HouseholdUpdated, 3, household_id="HH-1", occurred_at=day(2) + timedelta(hours=1),
        changes={"member_count": FieldChange(old=4, new=5)},
    )  # fmt: skip
    reviewed = event(
        CaseReviewed, 2, household_id="HH-1", case_id="C-1", occurred_at=day(3),
        stage=ReviewStage.FIELD_CHECK, outcome=ReviewOutcome.UPHELD,
        next_stage=ReviewStage.VILLAGE_MUSDESUS, causation_id=str(submitted.event_id),
        actor=Actor(role="field_officer", id="fo-1", region="35.17.01.2001"),
    )  # fmt: skip
    listed = event(
        BeneficiaryListApproved, list_id="L-BLTS", household_ids=("HH-1", "HH-2"),
        exclusions=(), occurred_at=day(4),
    )  # fmt: skip
    moved = Exclusion(household_id="HH-1", reason=ExclusionReason.MOVED, note="ke Jepara")
    excluded = event(
        BeneficiaryListApproved, list_id="L-BPNT", program=Program.BPNT,
        period="2025-04..2025-06", household_ids=("HH-2",), occurred_at=day(4.1),
        exclusions=(moved,),
    )  # fmt: skip
    scheduled = event(
        PayoutScheduled, household_id="HH-1", payout_id=PAYOUT, occurred_at=day(5),
        causation_id=str(listed.event_id),
    )  # fmt: skip
    cancelled = event(
        PayoutCancelled, 2, household_id="HH-1", payout_id=PAYOUT, occurred_at=day(6),
        reason=CancellationReason.INELIGIBLE, caused_by=decision.event_id,
        causation_id=str(decision.event_id),
    )  # fmt: skip
    recorded: dict[uuid.UUID, datetime] = {
        e.event_id: e.occurred_at + timedelta(seconds=1)
        for e in (registered, decile, decision, submitted, reviewed, listed, excluded)
    }
    recorded |= {
        late_update.event_id: day(9),
        scheduled.event_id: day(5) + timedelta(seconds=1),
        cancelled.event_id: day(6) + timedelta(seconds=1),
    }
    return Story(
        registered, decile, decision, submitted, late_update, reviewed, listed, excluded,
        scheduled, cancelled, recorded,
    )  # fmt: skip


@pytest.fixture
def told(tmp_path: Path) -> Iterator[tuple[Index, Story]]:
    told = story()
    other = event(HouseholdRegistered, household_id="HH-2", occurred_at=day(0))
    events: list[Event] = [
        told.registered, told.decile, told.decision, told.submitted, told.late_update,
        told.reviewed, told.listed, told.excluded, told.scheduled, told.cancelled, other,
    ]  # fmt: skip
    with Index(tmp_path / "index.sqlite") as index:
        index.add_events(
            IndexedEvent(e, e.topic, 0, n, told.recorded.get(e.event_id, day(0)))
            for n, e in enumerate(events)
        )
        yield index, told


def test_the_timeline_has_every_service_s_events_oldest_first(
    told: tuple[Index, Story],
) -> None:
    index, s = told
    entries = household_timeline(index, "HH-1")
    assert [e.event_id for e in entries] == [
        str(x.event_id)
        for x in (
            s.registered, s.decile, s.decision, s.submitted, s.late_update, s.reviewed,
            s.listed, s.excluded, s.scheduled, s.cancelled,
        )
    ]  # fmt: skip
    by_type = {e.event_type: e for e in entries}
    decile = by_type["HouseholdDecileChanged"]
    assert "decile 3 → 6" in decile.summary
    assert "DTSEN-3517-2025-12" in decile.summary and "2025-12-01" in decile.summary

    decision = by_type["EligibilityDecided"]
    assert decision.causation_id == str(s.decile.event_id)
    assert decision.cause_type == "HouseholdDecileChanged"
    for part in ("ELIGIBLE → INELIGIBLE", "DECILE_ABOVE_MAX 6>4", "blts-kesra-2025q4"):
        assert part in decision.summary
    assert s.decision.ruleset_hash[:12] in decision.summary
    assert "decile=6" in decision.summary

    reviewed = by_type["CaseReviewed"]
    assert reviewed.actor == {"role": "field_officer", "id": "fo-1", "region": "35.17.01.2001"}
    assert reviewed.cause_type == "CaseSubmitted"
    assert "FIELD_CHECK: UPHELD → next VILLAGE_MUSDESUS" in reviewed.summary

    on, off = (e for e in entries if e.event_type == "BeneficiaryListApproved")
    assert (on.list_role, off.list_role) == ("LISTED", "EXCLUDED")
    assert "on list L-BLTS" in on.summary and "village_head kades-2001" in on.summary
    assert "excluded from list L-BPNT" in off.summary and "MOVED (ke Jepara)" in off.summary

    scheduled = by_type["PayoutScheduled"]
    assert scheduled.cause_type == "BeneficiaryListApproved"
    cancelled = by_type["PayoutCancelled"]
    assert f"caused by {s.decision.event_id} (EligibilityDecided)" in cancelled.summary
    assert cancelled.event == json.loads(s.cancelled.model_dump_json())


def test_as_of_counts_only_what_kafka_had_recorded_by_then(
    told: tuple[Index, Story],
) -> None:
    index, s = told
    moment = day(5) + timedelta(hours=1)
    entries = household_timeline(index, "HH-1", moment)
    ids = [e.event_id for e in entries]
    # The update happened on day 2 but was recorded on day 9: not known on day 5.
    assert str(s.late_update.event_id) not in ids
    assert str(s.cancelled.event_id) not in ids
    assert str(s.scheduled.event_id) in ids
    standing = summarize(entries)
    assert standing.decile == 6 and standing.active is True
    assert standing.statuses == {("BLTS_KESRA", PERIOD): "INELIGIBLE"}
    assert standing.open_cases == {"C-1": "VILLAGE_MUSDESUS"}
    assert standing.payouts_by_state == {"SCHEDULED": 1}
    line = standing.line("2025-11-06T09:00:00Z")
    assert line.startswith("as of 2025-11-06T09:00:00Z: decile 6 (DTSEN-3517-2025-12), active")
    assert "C-1 (VILLAGE_MUSDESUS)" in line and "1 SCHEDULED" in line

    exactly = s.recorded[s.cancelled.event_id]
    assert str(s.cancelled.event_id) in [
        e.event_id for e in household_timeline(index, "HH-1", exactly)
    ]
    before = exactly - timedelta(microseconds=1)
    assert str(s.cancelled.event_id) not in [
        e.event_id for e in household_timeline(index, "HH-1", before)
    ]
    assert summarize(household_timeline(index, "HH-1")).payouts_by_state == {"CANCELLED": 1}
    assert household_timeline(index, "HH-1", day(0)) == []


def test_as_of_times_are_read_as_utc_and_a_date_means_its_end() -> None:
    assert parse_as_of("2025-11-06") == datetime(2025, 11, 6, 23, 59, 59, 999999, tzinfo=UTC)
    assert parse_as_of("2025-11-06T09:00:00") == datetime(2025, 11, 6, 9, tzinfo=UTC)
    assert parse_as_of("2025-11-06T16:00:00+07:00") == datetime(2025, 11, 6, 9, tzinfo=UTC)
    assert parse_as_of("2025-11-06T09:00:00Z") == datetime(2025, 11, 6, 9, tzinfo=UTC)


def test_the_command_prints_the_timeline_and_the_standing(
    told: tuple[Index, Story], monkeypatch: pytest.MonkeyPatch
) -> None:
    index, s = told
    monkeypatch.setenv("COLUMNS", "400")
    done = runner.invoke(
        app, ["audit", "household", "HH-1", "--index", str(index.path), "--as-of", "2025-11-06"]
    )
    assert done.exit_code == 0, done.output
    assert str(s.decision.event_id) in done.output
    assert f"{s.decile.event_id} (HouseholdDecileChanged)" in done.output
    assert str(s.cancelled.event_id) not in done.output
    assert "as of 2025-11-06T23:59:59.999999Z: decile 6" in done.output
    assert "1 SCHEDULED" in done.output

    done = runner.invoke(app, ["audit", "household", "HH-1", "--index", str(index.path), "--json"])
    assert done.exit_code == 0, done.output
    entries = json.loads(done.stdout)
    assert [e["event_type"] for e in entries][:3] == [
        "HouseholdRegistered",
        "HouseholdDecileChanged",
        "EligibilityDecided",
    ]
    assert entries[2]["cause_type"] == "HouseholdDecileChanged"
    assert entries[2]["event"]["ruleset_hash"] == s.decision.ruleset_hash
    assert {"recorded_at", "occurred_at", "actor", "causation_id", "summary"} <= set(entries[0])


def test_the_command_says_when_there_is_nothing_to_show(
    told: tuple[Index, Story], tmp_path: Path
) -> None:
    index, _ = told
    done = runner.invoke(app, ["audit", "household", "HH-404", "--index", str(index.path)])
    assert done.exit_code == 1
    assert "no events about household HH-404" in done.output
    missing = tmp_path / "nowhere.sqlite"
    done = runner.invoke(app, ["audit", "household", "HH-1", "--index", str(missing)])
    assert done.exit_code == 2
    assert "audit sync" in done.output
    assert not missing.exists()
