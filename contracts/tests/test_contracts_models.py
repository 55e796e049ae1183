"""Validation rules of the envelope, the value types and the events."""

from __future__ import annotations

import typing
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from bansos_contracts import (
    ALL_EVENTS,
    Actor,
    BeneficiaryListApproved,
    CaseResolved,
    CaseSubmitted,
    Channel,
    EligibilityDecided,
    Event,
    HouseholdDeactivated,
    HouseholdDecileChanged,
    HouseholdRegistered,
    HouseholdUpdated,
    PayoutScheduled,
    Region,
    SnapshotImported,
    example,
    make_period,
    payout_id,
    period_bounds,
    quarter_period,
)
from bansos_contracts.enums import CaseEffect, CaseKind, CaseOutcome, Program


def _models(cls: type[BaseModel], seen: set[type[BaseModel]]) -> None:
    if cls in seen:
        return
    seen.add(cls)
    for info in cls.model_fields.values():
        stack: list[Any] = [info.annotation]
        while stack:
            hint = stack.pop()
            if isinstance(hint, type) and issubclass(hint, BaseModel):
                _models(hint, seen)
            stack.extend(typing.get_args(hint))


def all_models() -> set[type[BaseModel]]:
    seen: set[type[BaseModel]] = set()
    for cls in ALL_EVENTS:
        _models(cls, seen)
    return seen


def test_no_personal_identity_fields() -> None:
    models = all_models()
    assert HouseholdRegistered in models and Region in models
    for model in models:
        for name in model.model_fields:
            lowered = name.lower()
            assert "nik" not in lowered, f"{model.__name__}.{name}"
            assert "kk_number" not in lowered, f"{model.__name__}.{name}"
            assert lowered not in {"head_name", "name", "address", "kks_number"}


def test_events_are_frozen_and_closed() -> None:
    event = example(HouseholdDecileChanged)
    with pytest.raises(ValidationError):
        event.new_decile = 3  # type: ignore[misc]
    with pytest.raises(ValidationError, match="Extra inputs"):
        HouseholdDecileChanged.model_validate({**event.model_dump(), "head_nik": "1" * 16})


def test_naive_datetime_rejected_and_aware_normalised_to_utc() -> None:
    event = example(HouseholdDecileChanged)
    with pytest.raises(ValidationError, match="timezone"):
        example(HouseholdDecileChanged, occurred_at=datetime(2025, 11, 21, 8, 0))
    wib = timezone(timedelta(hours=7))
    moved = example(HouseholdDecileChanged, occurred_at=datetime(2025, 11, 21, 15, 0, tzinfo=wib))
    assert moved.occurred_at == datetime(2025, 11, 21, 8, 0, tzinfo=UTC)
    assert moved.occurred_at.tzinfo is UTC
    assert '"occurred_at":"2025-11-21T08:00:00Z"' in moved.model_dump_json()
    assert event.recorded_at.tzinfo is UTC


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("province", "3"),
        ("regency", "35-17"),
        ("district", "35.17.1"),
        ("village", "35.17.01.201"),
        ("village", "35.17.01.20011"),
    ],
)
def test_region_codes_are_validated(field: str, value: str) -> None:
    good = Region.of_village("35.17.01.2001").model_dump()
    with pytest.raises(ValidationError, match=field):
        Region.model_validate({**good, field: value})


def test_region_levels_nest() -> None:
    with pytest.raises(ValidationError, match="not in district"):
        Region(province="35", regency="35.17", district="35.17.01", village="35.17.02.2001")
    assert Region.of_village("35.17.01.2001").regency == "35.17"


@pytest.mark.parametrize("decile", [0, 11, -1])
def test_decile_bounds(decile: int) -> None:
    with pytest.raises(ValidationError, match="decile"):
        example(HouseholdRegistered, decile=decile)


def test_decile_change_must_change() -> None:
    with pytest.raises(ValidationError, match="nothing changed"):
        example(HouseholdDecileChanged, previous_decile=3, new_decile=3)
    assert example(HouseholdDecileChanged).direction == "DOWN"


def test_money_is_whole_non_negative_rupiah() -> None:
    with pytest.raises(ValidationError, match="amount"):
        example(PayoutScheduled, amount=-1)
    with pytest.raises(ValidationError, match="amount"):
        example(PayoutScheduled, amount=1.5)


def test_periods() -> None:
    assert quarter_period(2025, 4) == "2025-10..2025-12"
    assert make_period(2025, 4, 2025, 6) == "2025-04..2025-06"
    assert period_bounds("2025-10..2025-12") == ((2025, 10), (2025, 12))
    for bad in ["2025-Q4", "2025-13..2025-12", "2025-12..2025-10", "2025-10", "25-10..25-12"]:
        with pytest.raises(ValidationError, match="period"):
            example(PayoutScheduled, period=bad)
    with pytest.raises(ValueError, match="starts after"):
        period_bounds("2026-01..2025-12")


def test_payout_id_is_derived() -> None:
    assert payout_id(Program.PKH, "2025-10..2025-12", "HH1") == "PKH:2025-10..2025-12:HH1"


def test_actor() -> None:
    assert Actor.system("registry") == Actor(role="system", id="registry", region=None)
    assert Actor.system("registry").is_system
    with pytest.raises(ValidationError, match="NIK"):
        Actor(role="citizen", id="3517010101900001")
    with pytest.raises(ValidationError, match="region"):
        Actor(role="village_officer", id="u1", region="35.17.01.20")
    for scope in ["35", "35.17", "35.17.01", "35.17.01.2001"]:
        assert Actor(role="officer", id="u1", region=scope).region == scope


def test_household_updated_refuses_personal_fields() -> None:
    assert example(HouseholdUpdated).changes["member_count"].new == 5
    for name in ["head_nik", "kk_number", "head_name", "address"]:
        with pytest.raises(ValidationError, match="personal data"):
            example(HouseholdUpdated, changes={name: {"old": "a", "new": "b"}})


def test_household_updated_keeps_scalar_types() -> None:
    event = example(
        HouseholdUpdated,
        changes={
            "flags.has_elderly": {"old": False, "new": True},
            "member_count": {"old": 4, "new": 5},
            "kks_bank": {"old": None, "new": "BNI"},
        },
    )
    again = HouseholdUpdated.model_validate_json(event.model_dump_json())
    assert again.changes["flags.has_elderly"].new is True
    assert again.changes["member_count"].new == 5
    assert again.changes["kks_bank"].old is None


def test_deactivation_merge_target() -> None:
    with pytest.raises(ValidationError, match="DUPLICATE"):
        example(HouseholdDeactivated, reason="MOVED")
    with pytest.raises(ValidationError, match="itself"):
        example(HouseholdDeactivated, merged_into="3517-HH-000042")


def test_case_rules() -> None:
    with pytest.raises(ValidationError, match="needs a household_id"):
        example(CaseSubmitted, kind=CaseKind.REFUSAL, household_id=None)
    proposal = example(CaseSubmitted, kind=CaseKind.PROPOSAL, household_id=None)
    assert proposal.partition_key == proposal.case_id
    with pytest.raises(ValidationError, match="effect NONE"):
        example(CaseResolved, outcome=CaseOutcome.DISMISSED, effect=CaseEffect.EXCLUSION)


def test_ineligible_needs_a_reason() -> None:
    with pytest.raises(ValidationError, match="reason code"):
        example(EligibilityDecided, reason_codes=())
    decided = example(EligibilityDecided)
    assert decided.reason_codes[0].code == "DECILE_ABOVE_MAX"
    assert decided.reason_codes[0].detail == "6>4"


def test_ruleset_hash_is_sha256_hex() -> None:
    with pytest.raises(ValidationError, match="ruleset_hash"):
        example(EligibilityDecided, ruleset_hash="abc")


def test_list_consistency() -> None:
    with pytest.raises(ValidationError, match="more than once"):
        example(BeneficiaryListApproved, household_ids=("A", "A"))
    with pytest.raises(ValidationError, match="both listed and excluded"):
        example(BeneficiaryListApproved, household_ids=("3517-HH-000099",))


def test_bank_matches_channel() -> None:
    with pytest.raises(ValidationError, match="needs a bank"):
        example(PayoutScheduled, channel=Channel.BANK_KKS)
    with pytest.raises(ValidationError, match="no bank"):
        example(PayoutScheduled, bank="BNI")
    assert example(PayoutScheduled, channel=Channel.BANK_KKS, bank="BRI").bank == "BRI"


def test_window_must_end_after_start() -> None:
    start = datetime(2025, 11, 25, tzinfo=UTC)
    window = {"kind": "POST_OFFICE", "starts_at": start, "ends_at": start, "place": "x"}
    with pytest.raises(ValidationError, match="end after"):
        example(PayoutScheduled, collection_windows=(window,))


@pytest.mark.parametrize("cls", ALL_EVENTS, ids=lambda cls: cls.__name__)
def test_partition_keys(cls: type[Event]) -> None:
    event = example(cls)
    if cls is BeneficiaryListApproved:
        assert event.partition_key == event.list_id  # type: ignore[attr-defined]
    elif cls is SnapshotImported:
        assert event.partition_key == event.snapshot_id  # type: ignore[attr-defined]
    else:
        assert event.partition_key == event.household_id  # type: ignore[attr-defined]


def test_event_type_and_version_are_pinned() -> None:
    with pytest.raises(ValidationError, match="event_type"):
        example(HouseholdRegistered, event_type="HouseholdDecileChanged")
    with pytest.raises(ValidationError, match="schema_version"):
        example(HouseholdRegistered, schema_version=2)
