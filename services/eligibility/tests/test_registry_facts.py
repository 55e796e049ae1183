"""Registry events folded into household facts."""

from __future__ import annotations

from bansos_contracts.examples import example
from bansos_contracts.registry import (
    FieldChange,
    HouseholdDeactivated,
    HouseholdDecileChanged,
    HouseholdRegistered,
    HouseholdUpdated,
)
from bansos_eligibility.registry_facts import FactsBook
from bansos_eligibility.rules import decide, shipped_rulesets


def test_a_household_folds_through_its_events() -> None:
    book = FactsBook()
    registered = example(HouseholdRegistered, decile=3)
    hid = registered.household_id
    facts = book.apply(registered)
    assert facts is not None and facts.decile == 3 and facts.active
    blts = next(r for r in shipped_rulesets() if r.program == "BLTS_KESRA")
    assert decide(blts, facts).status == "ELIGIBLE"

    book.apply(example(HouseholdDecileChanged, household_id=hid, previous_decile=3, new_decile=6))
    up = book.get(hid)
    assert up is not None and up.decile == 6
    decision = decide(blts, up)
    assert decision.status == "INELIGIBLE"
    assert [(r.code, r.detail) for r in decision.reason_codes] == [("DECILE_ABOVE_MAX", "6>4")]

    book.apply(
        example(
            HouseholdUpdated,
            household_id=hid,
            changes={
                "village_code": FieldChange(old=registered.region.village, new="35.17.02.2001"),
                "programs": FieldChange(old="", new="PKH;BPNT"),
                "has_elderly": FieldChange(old=False, new=True),
            },
        )
    )
    moved = book.get(hid)
    assert moved is not None
    assert (moved.village, moved.programs, moved.has_elderly) == (
        "35.17.02.2001",
        frozenset({"PKH", "BPNT"}),
        True,
    )
    book.apply(example(HouseholdDeactivated, household_id=hid, reason="DECEASED", merged_into=None))
    gone = book.get(hid)
    assert gone is not None and not gone.active and gone.deactivation_reason == "DECEASED"
    assert decide(blts, gone).reason_codes[0].code == "DEACTIVATED"


def test_events_of_unknown_households_are_ignored() -> None:
    book = FactsBook()
    change = example(HouseholdDecileChanged, previous_decile=2, new_decile=5)
    assert book.apply(change) is None
    assert len(book) == 0
