"""Simulating a new ruleset version: gains and losses per village, with reasons."""

from __future__ import annotations

from typing import Any

import pytest

from bansos_contracts.enums import Program
from bansos_eligibility.rules import HouseholdFacts, Ruleset, shipped_rulesets, simulate

SHIPPED = {ruleset.program: ruleset for ruleset in shipped_rulesets()}
BLTS = SHIPPED[Program.BLTS_KESRA]
STRICTER = BLTS.model_copy(
    update={
        "version": 2,
        "rules": [{"check": "decile_at_most", "value": 3, "reason": "DECILE_ABOVE_MAX"}],
    }
)
NORTH = "35.17.01.2001"
SOUTH = "35.17.02.2003"
EAST = "35.17.03.2004"


def facts(number: int, village: str, decile: int, **changes: Any) -> HouseholdFacts:
    return HouseholdFacts(household_id=f"H{number:04d}", village=village, decile=decile, **changes)


def regency() -> list[HouseholdFacts]:
    return [
        # north: deciles 1..6, one each: only decile 4 changes
        *(facts(n, NORTH, n) for n in range(1, 7)),
        # south: three decile-4 households (one refused), a decile-3 and a decile-5
        facts(11, SOUTH, 4),
        facts(12, SOUTH, 4),
        facts(13, SOUTH, 4, refused=True),
        facts(14, SOUTH, 3),
        facts(15, SOUTH, 5),
        # east: nothing near the threshold
        facts(21, EAST, 9),
        facts(22, EAST, 1),
    ]


def test_lowering_the_decile_threshold_from_4_to_3() -> None:
    report = simulate(BLTS, STRICTER, regency())
    assert report.program is Program.BLTS_KESRA
    assert (report.old_version, report.new_version) == (1, 2)
    assert (report.old_hash, report.new_hash) == (BLTS.content_hash, STRICTER.content_hash)
    rows = {row.village: row for row in report.villages}
    assert list(rows) == [NORTH, SOUTH, EAST]
    north, south, east = rows[NORTH], rows[SOUTH], rows[EAST]
    assert (north.households, north.eligible_before, north.eligible_after) == (6, 4, 3)
    assert (north.gained, north.lost, north.loss_reasons) == (0, 1, {"DECILE_ABOVE_MAX": 1})
    assert (south.households, south.eligible_before, south.eligible_after) == (5, 3, 1)
    assert (south.gained, south.lost, south.loss_reasons) == (0, 2, {"DECILE_ABOVE_MAX": 2})
    assert (east.gained, east.lost, east.gain_reasons, east.loss_reasons) == (0, 0, {}, {})
    total = report.total
    assert (total.village, total.households, total.gained, total.lost) == ("TOTAL", 13, 0, 3)
    assert total.loss_reasons == {"DECILE_ABOVE_MAX": 3}


def test_raising_it_back_gains_with_the_reasons_that_no_longer_apply() -> None:
    report = simulate(STRICTER, BLTS, regency())
    assert report.total.gained == 3
    assert report.total.lost == 0
    assert report.total.gain_reasons == {"DECILE_ABOVE_MAX": 3}


def test_several_reasons_are_counted_per_code() -> None:
    bpnt = SHIPPED[Program.BPNT]
    stricter = bpnt.model_copy(
        update={
            "version": 2,
            "rules": [
                *bpnt.model_dump()["rules"][:2],
                {"check": "income_below", "value": 400_000, "reason": "INCOME_ABOVE_POVERTY_LINE"},
                {
                    "check": "not_enrolled_in_other",
                    "programs": ["PKH", "PBI_JKN"],
                    "reason": "DOUBLE_PROGRAM",
                },
            ],
        }
    )
    base: dict[str, Any] = {"has_elderly": True, "per_capita_income": 450_000}
    households = [
        facts(1, NORTH, 2, **base),  # loses: income
        facts(2, NORTH, 2, pbi_jkn=True, **base),  # loses: income and double
        facts(3, NORTH, 2, pbi_jkn=True, has_elderly=True, per_capita_income=300_000),
        facts(4, NORTH, 2, has_elderly=True, per_capita_income=300_000),  # stays eligible
    ]
    report = simulate(bpnt, stricter, households)
    assert report.total.lost == 3
    assert report.total.loss_reasons == {"INCOME_ABOVE_POVERTY_LINE": 2, "DOUBLE_PROGRAM": 2}
    assert report.total.eligible_after == 1


def test_format_is_a_plain_text_table() -> None:
    text = simulate(BLTS, STRICTER, regency()).format()
    lines = text.splitlines()
    assert lines[0].startswith("BLTS_KESRA: blts-kesra-2025q4 v1 (")
    assert "-> blts-kesra-2025q4 v2 (" in lines[0]
    header = lines[2]
    for column in ("village", "households", "eligible before", "eligible after", "gain", "lose"):
        assert column in header
    north = next(line for line in lines if line.startswith(NORTH))
    assert north.split()[1:7] == ["6", "4", "3", "0", "1", "-"]
    assert north.endswith("DECILE_ABOVE_MAX 1")
    assert lines[-1].startswith("TOTAL")
    assert lines[-1].endswith("DECILE_ABOVE_MAX 3")
    assert "\x1b" not in text  # no terminal styling


def test_empty_and_mismatched() -> None:
    empty = simulate(BLTS, STRICTER, [])
    assert empty.villages == ()
    assert empty.total.households == 0
    assert "TOTAL" in empty.format()
    with pytest.raises(ValueError, match="cannot compare BLTS_KESRA with BPNT"):
        simulate(BLTS, SHIPPED[Program.BPNT], [])


def test_simulate_consumes_an_iterator_once() -> None:
    report = simulate(BLTS, STRICTER, iter(regency()))
    assert report.total.households == 13
    assert isinstance(STRICTER, Ruleset)
