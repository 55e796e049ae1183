"""The eligibility service without Kafka: consumed events in, decisions, lists and status out.

The same handler, views and mapper as the running service, on a SQLite event store;
the real-broker scenarios are in ``tests/integration/test_eligibility_service.py``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bansos_contracts.eligibility import BeneficiaryListApproved, EligibilityDecided
from bansos_contracts.enums import CaseEffect, CaseKind, CaseOutcome, DeactivationReason
from bansos_contracts.examples import example
from bansos_contracts.objections import CaseResolved, CaseSubmitted
from bansos_contracts.payout import PayoutScheduled
from bansos_contracts.registry import (
    HouseholdDeactivated,
    HouseholdDecileChanged,
    HouseholdRegistered,
    HouseholdUpdated,
)
from bansos_contracts.values import Region, VulnerabilityFlags
from bansos_eligibility.bootstrap import Eligibility, bootstrap
from bansos_eligibility.domain.beneficiary_list import ListError
from bansos_eligibility.lists import ListService
from bansos_eligibility.status import read_status
from bansos_libs.settings import ServiceSettings
from tests.fixtures.eligibility import feed, published

VILLAGE = "35.17.01.2001"
BLTS = ("BLTS_KESRA", "2025-10..2025-12")


@pytest.fixture
def service(tmp_path: Path) -> Iterator[Eligibility]:
    eligibility = bootstrap(ServiceSettings(service="eligibility", data_dir=tmp_path))
    yield eligibility
    eligibility.close()


def registered(household_id: str, decile: int, **overrides: Any) -> HouseholdRegistered:
    return example(
        HouseholdRegistered,
        household_id=household_id,
        decile=decile,
        region=Region.of_village(VILLAGE),
        programs=(),
        flags=VulnerabilityFlags(has_elderly=True),
        per_capita_income=400_000,
        **overrides,
    )


def blts(service: Eligibility, household_id: str) -> EligibilityDecided:
    decisions = [
        e
        for e in published(service)
        if isinstance(e, EligibilityDecided)
        and e.household_id == household_id
        and e.program == BLTS[0]
    ]
    return decisions[-1]


def test_a_first_decision_is_published_for_every_open_program(service: Eligibility) -> None:
    feed(service, registered("HH-1", 3))
    decisions = [e for e in published(service) if isinstance(e, EligibilityDecided)]
    assert {(d.program.value, d.period) for d in decisions} == {
        (r.program.value, r.period) for r in service.rulesets
    }
    assert all(d.previous_status is None for d in decisions)
    decision = blts(service, "HH-1")
    assert decision.status == "ELIGIBLE"
    assert decision.inputs.decile == 3
    assert (
        decision.ruleset_hash
        == next(r for r in service.rulesets if r.id == decision.ruleset_id).content_hash
    )


def test_decile_changes_re_decide_with_the_reason(service: Eligibility) -> None:
    feed(service, registered("HH-1", 3))
    feed(
        service,
        example(
            HouseholdDecileChanged,
            household_id="HH-1",
            previous_decile=3,
            new_decile=6,
            subject_version=2,
        ),
    )
    decision = blts(service, "HH-1")
    assert (decision.status, decision.previous_status) == ("INELIGIBLE", "ELIGIBLE")
    assert [(r.code, r.detail) for r in decision.reason_codes] == [("DECILE_ABOVE_MAX", "6>4")]
    feed(
        service,
        example(
            HouseholdDecileChanged,
            household_id="HH-1",
            previous_decile=6,
            new_decile=2,
            subject_version=3,
        ),
    )
    decision = blts(service, "HH-1")
    assert (decision.status, decision.previous_status) == ("ELIGIBLE", "INELIGIBLE")


def test_the_same_event_twice_or_an_irrelevant_change_publishes_nothing(
    service: Eligibility,
) -> None:
    event = registered("HH-1", 3)
    feed(service, event)
    before = len(published(service))
    # member count 4 -> 5: new facts, the same decisions
    feed(service, event, example(HouseholdUpdated, household_id="HH-1", subject_version=2))
    assert len(published(service)) == before


def test_replaying_a_household_from_its_first_event_publishes_nothing(service: Eligibility) -> None:
    history = [
        registered("HH-1", 3),
        example(
            HouseholdDecileChanged,
            household_id="HH-1",
            previous_decile=3,
            new_decile=6,
            subject_version=2,
        ),
    ]
    feed(service, *history)
    before = service.app.recorder.max_notification_id()
    feed(service, *history)
    assert service.app.recorder.max_notification_id() == before
    assert blts(service, "HH-1").status == "INELIGIBLE"


def test_an_upheld_refusal_makes_every_program_ineligible(service: Eligibility) -> None:
    feed(service, registered("HH-1", 1, pbi_jkn=True))
    feed(
        service,
        example(
            CaseSubmitted, case_id="C-1", household_id="HH-1", kind=CaseKind.REFUSAL, programs=()
        ),
    )
    status = read_status_of(service, "HH-1")
    assert [c.case_id for c in status.open_cases] == ["C-1"]
    feed(
        service,
        example(
            CaseResolved,
            case_id="C-1",
            household_id="HH-1",
            subject_version=2,
            kind=CaseKind.REFUSAL,
            outcome=CaseOutcome.UPHELD,
            effect=CaseEffect.OPT_OUT,
            programs=(),
        ),
    )
    status = read_status_of(service, "HH-1")
    assert status.open_cases == []
    assert {p.status for p in status.programs} == {"INELIGIBLE"}
    assert all(p.reasons[0].code == "REFUSED" for p in status.programs)
    decision = blts(service, "HH-1")
    assert [c.case_id for c in decision.inputs.case_outcomes] == ["C-1"]


def test_an_upheld_exclusion_applies_to_its_programs_only(service: Eligibility) -> None:
    feed(service, registered("HH-1", 1))
    feed(
        service,
        example(
            CaseResolved,
            case_id="C-2",
            household_id="HH-1",
            kind=CaseKind.OBJECTION,
            outcome=CaseOutcome.UPHELD,
            effect=CaseEffect.EXCLUSION,
        ),
    )
    by_program = {p.program: p for p in read_status_of(service, "HH-1").programs}
    assert by_program["BLTS_KESRA"].reasons[0].code == "EXCLUDED_BY_CASE"
    assert all(
        "EXCLUDED_BY_CASE" not in [r.code for r in p.reasons]
        for k, p in by_program.items()
        if k != "BLTS_KESRA"
    )


def test_a_dismissed_objection_changes_nothing(service: Eligibility) -> None:
    feed(service, registered("HH-1", 1))
    before = [e for e in published(service) if isinstance(e, EligibilityDecided)]
    feed(
        service,
        example(
            CaseResolved,
            case_id="C-3",
            household_id="HH-1",
            outcome=CaseOutcome.DISMISSED,
            effect=CaseEffect.NONE,
        ),
    )
    assert [e for e in published(service) if isinstance(e, EligibilityDecided)] == before


def test_deactivation_re_decides(service: Eligibility) -> None:
    feed(service, registered("HH-1", 1))
    feed(
        service,
        example(
            HouseholdDeactivated,
            household_id="HH-1",
            reason=DeactivationReason.DECEASED,
            subject_version=2,
            merged_into=None,
        ),
    )
    decision = blts(service, "HH-1")
    assert decision.status == "INELIGIBLE"
    assert [(r.code, r.detail) for r in decision.reason_codes] == [("DEACTIVATED", "DECEASED")]


def test_the_status_shows_the_payout(service: Eligibility) -> None:
    feed(service, registered("HH-1", 1))
    feed(
        service,
        example(PayoutScheduled, household_id="HH-1", payout_id="BLTS_KESRA:2025-10..2025-12:HH-1"),
    )
    program = next(p for p in read_status_of(service, "HH-1").programs if p.program == "BLTS_KESRA")
    assert program.payout is not None
    assert program.payout.state == "SCHEDULED"
    assert program.payout.windows


def read_status_of(service: Eligibility, household_id: str) -> Any:
    with service.view.database.transaction() as sql:
        found = read_status(sql, household_id)
    assert found is not None
    return found[0]


def actor(role: str, id: str) -> Any:
    return {"role": role, "id": id, "region": VILLAGE if role == "VILLAGE_OPERATOR" else "35.17"}


def test_a_list_is_verified_then_approved_by_someone_else(service: Eligibility) -> None:
    feed(service, registered("HH-1", 1), registered("HH-2", 2), registered("HH-3", 9))
    lists = ListService(service.app, service.view, service.rulesets)
    state = lists.state(*BLTS, VILLAGE)
    assert state.eligible == ["HH-1", "HH-2"]
    with pytest.raises(ListError, match="no verdict"):
        lists.verify(
            *BLTS,
            VILLAGE,
            valid=["HH-1"],
            excluded={},
            notes="",
            actor=actor("VILLAGE_OPERATOR", "op"),
        )
    with pytest.raises(ListError, match="not eligible"):
        lists.verify(
            *BLTS,
            VILLAGE,
            valid=["HH-1", "HH-2", "HH-3"],
            excluded={},
            notes="",
            actor=actor("VILLAGE_OPERATOR", "op"),
        )
    with pytest.raises(ListError, match="not been verified"):
        lists.approve(*BLTS, VILLAGE, actor=actor("REGENCY_OFFICER", "boss"))
    lists.verify(
        *BLTS,
        VILLAGE,
        valid=["HH-1"],
        excluded={"HH-2": {"reason": "MOVED", "note": "pindah ke Surabaya"}},
        notes="Musdesus 3 Nov",
        actor=actor("VILLAGE_OPERATOR", "op"),
    )
    with pytest.raises(ListError, match="four eyes"):
        lists.approve(*BLTS, VILLAGE, actor=actor("VILLAGE_OPERATOR", "op"))
    state = lists.approve(
        *BLTS, VILLAGE, actor=actor("REGENCY_OFFICER", "boss"), expected_households=1
    )
    assert state.stage == "REGENCY_APPROVED"
    lists.approve(*BLTS, VILLAGE, actor=actor("REGENCY_OFFICER", "boss"))  # idempotent
    events = [e for e in published(service) if isinstance(e, BeneficiaryListApproved)]
    assert [(e.stage.value, e.household_ids) for e in events] == [
        ("VILLAGE_VERIFIED", ("HH-1",)),
        ("REGENCY_APPROVED", ("HH-1",)),
    ]
    assert events[0].exclusions[0].reason == "MOVED"
    assert events[0].payment is None  # what is paid is fixed at regency approval
    approved = events[1]
    assert approved.ruleset_id == "blts-kesra-2025q4"
    assert approved.payment is not None
    assert approved.payment.amount == 900_000
    assert (approved.payment.existing_channel, approved.payment.new_channel) == ("BANK_KKS", "POS")
    assert set(approved.payment.existing_recipients_of) == {"PKH", "BPNT"}
    status = read_status_of(service, "HH-1")
    blts_status = next(p for p in status.programs if p.program == "BLTS_KESRA")
    assert (blts_status.list_stage, blts_status.list_verdict) == ("REGENCY_APPROVED", "VALID")
