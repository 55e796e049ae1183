"""Deciding eligibility: the programs' rules, the universal ones, and re-running decisions."""

from __future__ import annotations

import json
import random
from typing import Any, Literal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bansos_contracts.eligibility import EligibilityDecided, ReasonCode
from bansos_contracts.enums import DeactivationReason, EligibilityStatus, Program
from bansos_eligibility.rules import (
    ALL_PROGRAMS,
    Decision,
    HouseholdFacts,
    InputsError,
    decide,
    decide_all,
    event_fields,
    parse_ruleset,
    recorded_inputs,
    redecide,
    shipped_rulesets,
    to_decision_inputs,
    verify,
)

SHIPPED = {ruleset.program: ruleset for ruleset in shipped_rulesets()}
BLTS = SHIPPED[Program.BLTS_KESRA]
BPNT = SHIPPED[Program.BPNT]
PBI = SHIPPED[Program.PBI_JKN]
PKH = SHIPPED[Program.PKH]
POVERTY_LINE = 609_160

VILLAGES = ("35.17.01.2001", "35.17.01.2002", "35.17.02.2001", "35.17.03.1005")
FLAGS = ("has_elderly", "has_disability", "has_child_under6", "has_school_child", "has_pregnant")


def household(**changes: Any) -> HouseholdFacts:
    """An active decile-3 PKH household: it qualifies for every shipped program but BPNT."""
    values: dict[str, Any] = {
        "household_id": "3517010001",
        "village": "35.17.01.2001",
        "decile": 3,
        "member_count": 4,
        "per_capita_income": 400_000,
        "has_elderly": True,
        "pbi_jkn": True,
        "programs": frozenset({Program.PKH}),
    }
    values.update(changes)
    return HouseholdFacts(**values)


def qualifying(program: Program, **changes: Any) -> HouseholdFacts:
    """A household that qualifies for ``program`` before ``changes``."""
    if program is Program.BPNT:
        changes = {"programs": frozenset({Program.BPNT}), **changes}
    return household(**changes)


def codes(decision: Decision) -> list[str]:
    return [reason.code for reason in decision.reason_codes]


exclusions = st.one_of(
    st.just(ALL_PROGRAMS), st.frozensets(st.sampled_from(list(Program)), max_size=2)
)


@st.composite
def facts(draw: st.DrawFn) -> HouseholdFacts:
    active = draw(st.sampled_from([True, True, True, False]))  # mostly active
    return HouseholdFacts(
        household_id=draw(st.from_regex(r"[0-9]{10}", fullmatch=True)),
        village=draw(st.sampled_from(VILLAGES)),
        ktp_regency=draw(st.sampled_from([None, None, "35.17", "33.20"])),
        decile=draw(st.one_of(st.integers(1, 10), st.none())),
        member_count=draw(st.integers(1, 9)),
        per_capita_income=draw(st.one_of(st.integers(0, 3_000_000), st.none())),
        **{flag: draw(st.booleans()) for flag in FLAGS},
        pbi_jkn=draw(st.booleans()),
        programs=draw(st.frozensets(st.sampled_from(list(Program)))),
        active=active,
        deactivation_reason=None
        if active
        else draw(st.one_of(st.none(), st.sampled_from(list(DeactivationReason)))),
        refused=draw(st.integers(0, 4)) == 0,
        exclusions=draw(st.one_of(st.just(frozenset[Program]()), exclusions)),
    )


# --- BLTS Kesra -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "status", "reasons"),
    [
        ({"decile": 1}, "ELIGIBLE", []),
        ({"decile": 4}, "ELIGIBLE", []),
        ({"decile": 4, "programs": frozenset(), "pbi_jkn": False}, "ELIGIBLE", []),
        ({"decile": 5}, "INELIGIBLE", [("DECILE_ABOVE_MAX", "5>4")]),
        ({"decile": 6}, "INELIGIBLE", [("DECILE_ABOVE_MAX", "6>4")]),
        ({"decile": 10}, "INELIGIBLE", [("DECILE_ABOVE_MAX", "10>4")]),
        ({"decile": None}, "INELIGIBLE", [("DECILE_ABOVE_MAX", "none>4")]),
        ({"refused": True}, "INELIGIBLE", [("REFUSED", "upheld refusal")]),
        (
            {"active": False, "deactivation_reason": DeactivationReason.DECEASED},
            "INELIGIBLE",
            [("DEACTIVATED", "DECEASED")],
        ),
        ({"active": False}, "INELIGIBLE", [("DEACTIVATED", "inactive")]),
        ({"exclusions": "ALL"}, "INELIGIBLE", [("EXCLUDED_BY_CASE", "ALL")]),
        (
            {"exclusions": frozenset({Program.BLTS_KESRA})},
            "INELIGIBLE",
            [("EXCLUDED_BY_CASE", "BLTS_KESRA")],
        ),
        ({"exclusions": frozenset({Program.BPNT})}, "ELIGIBLE", []),
        ({"per_capita_income": 5_000_000, "has_elderly": False}, "ELIGIBLE", []),
        (
            {
                "decile": 7,
                "refused": True,
                "active": False,
                "deactivation_reason": DeactivationReason.MOVED,
                "exclusions": "ALL",
            },
            "INELIGIBLE",
            [
                ("DEACTIVATED", "MOVED"),
                ("REFUSED", "upheld refusal"),
                ("EXCLUDED_BY_CASE", "ALL"),
                ("DECILE_ABOVE_MAX", "7>4"),
            ],
        ),
    ],
)
def test_blts_kesra_table(
    changes: dict[str, Any], status: str, reasons: list[tuple[str, str]]
) -> None:
    decision = decide(BLTS, household(**changes))
    assert decision.status == status
    assert [(r.code, r.detail) for r in decision.reason_codes] == reasons


@settings(max_examples=300)
@given(facts())
def test_blts_kesra_eligible_iff_active_poor_not_refused_not_excluded(
    household_facts: HouseholdFacts,
) -> None:
    expected = (
        household_facts.active
        and household_facts.decile is not None
        and household_facts.decile <= 4
        and not household_facts.refused
        and not household_facts.excluded_from(Program.BLTS_KESRA)
    )
    decision = decide(BLTS, household_facts)
    assert decision.eligible == expected
    assert (decision.status is EligibilityStatus.ELIGIBLE) == expected
    assert bool(decision.reason_codes) != expected


def test_decision_records_ruleset_and_only_the_inputs_read() -> None:
    decision = decide(BLTS, household(decile=6))
    assert decision.ruleset_id == "blts-kesra-2025q4"
    assert decision.ruleset_version == 1
    assert decision.ruleset_hash == BLTS.content_hash
    assert (decision.program, decision.period) == (Program.BLTS_KESRA, "2025-10..2025-12")
    assert decision.inputs == {
        "active": True,
        "deactivation_reason": None,
        "refused": False,
        "exclusions": [],
        "decile": 6,
    }
    assert decision.codes == ("DECILE_ABOVE_MAX",)


def test_decile_change_3_to_6_and_6_to_2() -> None:
    before = decide(BLTS, household(decile=3))
    assert before.status is EligibilityStatus.ELIGIBLE
    up = decide(BLTS, household(decile=6))
    assert up.status is EligibilityStatus.INELIGIBLE
    assert up.reason_codes == (ReasonCode(code="DECILE_ABOVE_MAX", detail="6>4"),)
    down = decide(BLTS, household(decile=2))
    assert down.status is EligibilityStatus.ELIGIBLE
    assert down.reason_codes == ()


def test_decile_change_redecides_every_open_program() -> None:
    rulesets = list(SHIPPED.values())
    before = {d.program: d for d in decide_all(rulesets, household(decile=3))}
    after = {d.program: d for d in decide_all(rulesets, household(decile=6))}
    assert {p: d.codes for p, d in before.items()} == {
        Program.BLTS_KESRA: (),
        Program.BPNT: ("DOUBLE_PROGRAM",),  # a PKH family gets no BPNT
        Program.PBI_JKN: (),
        Program.PKH: (),
    }
    assert {p: d.codes for p, d in after.items()} == {
        Program.BLTS_KESRA: ("DECILE_ABOVE_MAX",),
        Program.BPNT: ("DECILE_ABOVE_MAX", "DOUBLE_PROGRAM"),
        Program.PBI_JKN: ("DECILE_ABOVE_MAX",),
        Program.PKH: (),  # PKH has no rule beyond the register
    }
    gone = decide_all(rulesets, household(active=False, deactivation_reason="REMOVED_FROM_DTSEN"))
    assert [d.codes[0] for d in gone] == ["DEACTIVATED"] * 4
    assert not any(d.eligible for d in gone)


# --- BPNT ------------------------------------------------------------------------------


def bpnt_household(**changes: Any) -> HouseholdFacts:
    return qualifying(Program.BPNT, **changes)


def test_bpnt_eligible_when_all_four_conditions_hold() -> None:
    decision = decide(BPNT, bpnt_household())
    assert decision.eligible, decision.reason_codes


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"decile": 5}, ReasonCode(code="DECILE_ABOVE_MAX", detail="5>4")),
        (
            {"has_elderly": False},
            ReasonCode(code="NOT_VULNERABLE", detail="none of " + ",".join(FLAGS)),
        ),
        (
            {"per_capita_income": POVERTY_LINE},
            ReasonCode(code="INCOME_ABOVE_POVERTY_LINE", detail="609160>=609160"),
        ),
        (
            {"per_capita_income": None},
            ReasonCode(code="INCOME_ABOVE_POVERTY_LINE", detail="unknown>=609160"),
        ),
        (
            {"programs": frozenset({Program.PKH, Program.BPNT})},
            ReasonCode(code="DOUBLE_PROGRAM", detail="PKH"),
        ),
    ],
)
def test_bpnt_each_condition_has_its_own_reason(
    changes: dict[str, Any], reason: ReasonCode
) -> None:
    decision = decide(BPNT, bpnt_household(**changes))
    assert decision.reason_codes == (reason,)


@pytest.mark.parametrize("flag", FLAGS)
def test_bpnt_any_vulnerable_member_will_do(flag: str) -> None:
    decision = decide(BPNT, bpnt_household(**{"has_elderly": False, flag: True}))
    assert decision.eligible


def test_bpnt_lists_every_failing_condition_in_file_order() -> None:
    decision = decide(
        BPNT,
        bpnt_household(
            decile=8,
            has_elderly=False,
            per_capita_income=1_800_000,
            programs=frozenset({Program.PKH}),
            refused=True,
        ),
    )
    assert codes(decision) == [
        "REFUSED",
        "DECILE_ABOVE_MAX",
        "NOT_VULNERABLE",
        "INCOME_ABOVE_POVERTY_LINE",
        "DOUBLE_PROGRAM",
    ]
    assert decision.reason_codes[3].detail == "1800000>=609160"


def test_bpnt_income_just_below_the_line_and_regional_lines() -> None:
    assert decide(BPNT, bpnt_household(per_capita_income=POVERTY_LINE - 1)).eligible
    data = BPNT.model_dump()
    data["rules"][2]["by_regency"] = {"35.17": 450_000}
    regional = parse_ruleset(data)
    decision = decide(regional, bpnt_household(per_capita_income=500_000))
    assert decision.reason_codes == (
        ReasonCode(code="INCOME_ABOVE_POVERTY_LINE", detail="500000>=450000"),
    )
    assert decision.inputs["regency"] == "35.17"
    other = decide(regional, bpnt_household(per_capita_income=500_000, village="33.20.01.2001"))
    assert other.eligible


# --- PBI-JKN and PKH -------------------------------------------------------------------


@pytest.mark.parametrize("decile", range(1, 11))
@pytest.mark.parametrize("pbi_jkn", [True, False])
def test_pbi_jkn_needs_deciles_1_to_5_and_the_flag(decile: int, pbi_jkn: bool) -> None:
    decision = decide(PBI, household(decile=decile, pbi_jkn=pbi_jkn, programs=frozenset()))
    assert decision.eligible == (decile <= 5 and pbi_jkn)
    expected = [] if pbi_jkn else ["NOT_REGISTERED_PBI"]
    expected += ["DECILE_ABOVE_MAX"] if decile > 5 else []
    assert codes(decision) == expected


def test_pbi_jkn_ktp_of_the_regency() -> None:
    assert decide(PBI, household(ktp_regency="35.17")).eligible
    moved = decide(PBI, household(ktp_regency="33.20"))
    assert moved.reason_codes == (
        ReasonCode(code="NOT_RESIDENT", detail="KTP 33.20, lives in 35.17"),
    )
    data = PBI.model_dump()
    data["rules"][0]["regencies"] = ["33.20"]  # a regional scheme (Jepara)
    jepara = parse_ruleset(data)
    assert decide(jepara, household(village="33.20.01.2001")).eligible
    assert codes(decide(jepara, household())) == ["NOT_RESIDENT"]


def test_pkh_follows_the_register() -> None:
    assert decide(PKH, household(decile=9, programs=frozenset({Program.PKH}))).eligible
    decision = decide(PKH, household(programs=frozenset({Program.BPNT})))
    assert decision.reason_codes == (ReasonCode(code="NOT_REGISTERED_PKH", detail="not PKH"),)


# --- universal rules -------------------------------------------------------------------


@pytest.mark.parametrize("program", list(Program))
def test_refusal_overrides_everything_for_every_program(program: Program) -> None:
    assert decide(SHIPPED[program], qualifying(program)).eligible
    decision = decide(SHIPPED[program], qualifying(program, refused=True))
    assert decision.status is EligibilityStatus.INELIGIBLE
    assert codes(decision) == ["REFUSED"]


@settings(max_examples=200)
@given(facts(), st.sampled_from(list(Program)))
def test_refused_is_never_eligible(household_facts: HouseholdFacts, program: Program) -> None:
    refused = household_facts.model_copy(update={"refused": True})
    decision = decide(SHIPPED[program], refused)
    assert not decision.eligible
    assert "REFUSED" in codes(decision)


@pytest.mark.parametrize("program", list(Program))
def test_excluded_by_case_per_program_and_for_all(program: Program) -> None:
    ruleset = SHIPPED[program]
    this = decide(ruleset, qualifying(program, exclusions=frozenset({program})))
    assert this.reason_codes == (ReasonCode(code="EXCLUDED_BY_CASE", detail=program.value),)
    everything = decide(ruleset, qualifying(program, exclusions=ALL_PROGRAMS))
    assert everything.reason_codes == (ReasonCode(code="EXCLUDED_BY_CASE", detail="ALL"),)
    others = frozenset(set(Program) - {program})
    assert decide(ruleset, qualifying(program, exclusions=others)).eligible


@pytest.mark.parametrize("reason", list(DeactivationReason))
@pytest.mark.parametrize("program", list(Program))
def test_deactivated(program: Program, reason: DeactivationReason) -> None:
    facts = qualifying(program, active=False, deactivation_reason=reason)
    decision = decide(SHIPPED[program], facts)
    assert decision.reason_codes == (ReasonCode(code="DEACTIVATED", detail=reason.value),)


def test_universal_reasons_come_first_in_fixed_order() -> None:
    decision = decide(
        PBI,
        household(
            decile=9,
            pbi_jkn=False,
            active=False,
            refused=True,
            exclusions=frozenset({Program.PBI_JKN}),
        ),
    )
    assert codes(decision) == [
        "DEACTIVATED",
        "REFUSED",
        "EXCLUDED_BY_CASE",
        "NOT_REGISTERED_PBI",
        "DECILE_ABOVE_MAX",
    ]


def test_active_household_has_no_deactivation_reason() -> None:
    with pytest.raises(ValueError, match="no deactivation_reason"):
        household(deactivation_reason=DeactivationReason.MOVED)


# --- a generated regency ---------------------------------------------------------------


def generated_regency(count: int, seed: int) -> list[HouseholdFacts]:
    rng = random.Random(seed)
    result = []
    for index in range(count):
        decile = rng.randint(1, 10)
        active = rng.random() > 0.03
        exclusion: frozenset[Program] | Literal["ALL"] = frozenset()
        if rng.random() < 0.02:
            exclusion = ALL_PROGRAMS if rng.random() < 0.5 else frozenset({Program.BPNT})
        result.append(
            HouseholdFacts(
                household_id=f"35170{index:06d}",
                village=rng.choice(VILLAGES),
                decile=decile,
                per_capita_income=rng.randint(150_000 * decile, 300_000 * decile),
                **{flag: rng.random() < 0.25 for flag in FLAGS},
                pbi_jkn=rng.random() < (0.9 if decile <= 5 else 0.1),
                programs=frozenset(p for p in (Program.PKH, Program.BPNT) if rng.random() < 0.2),
                active=active,
                deactivation_reason=None if active else DeactivationReason.DECEASED,
                refused=rng.random() < 0.02,
                exclusions=exclusion,
            )
        )
    return result


def test_generated_regency_eligible_sets() -> None:
    households = generated_regency(3000, seed=7)

    def open_to(f: HouseholdFacts, program: Program) -> bool:
        return f.active and not f.refused and not f.excluded_from(program)

    def eligible(program: Program) -> set[str]:
        return {f.household_id for f in households if decide(SHIPPED[program], f).eligible}

    assert eligible(Program.BLTS_KESRA) == {
        f.household_id
        for f in households
        if open_to(f, Program.BLTS_KESRA) and f.decile is not None and f.decile <= 4
    }
    assert eligible(Program.BPNT) == {
        f.household_id
        for f in households
        if open_to(f, Program.BPNT)
        and f.decile is not None
        and f.decile <= 4
        and any(getattr(f, flag) for flag in FLAGS)
        and f.per_capita_income is not None
        and f.per_capita_income < POVERTY_LINE
        and Program.PKH not in f.programs
    }
    assert eligible(Program.PBI_JKN) == {
        f.household_id
        for f in households
        if open_to(f, Program.PBI_JKN) and f.pbi_jkn and f.decile is not None and f.decile <= 5
    }
    assert eligible(Program.PKH) == {
        f.household_id for f in households if open_to(f, Program.PKH) and Program.PKH in f.programs
    }
    assert eligible(Program.BLTS_KESRA)  # the sample is not degenerate
    assert eligible(Program.BPNT)


# --- auditing: re-running decisions -----------------------------------------------------


@settings(max_examples=300)
@given(facts(), st.sampled_from(list(Program)))
def test_redecide_from_recorded_inputs_is_identical(
    household_facts: HouseholdFacts, program: Program
) -> None:
    ruleset = SHIPPED[program]
    decision = decide(ruleset, household_facts)
    assert redecide(ruleset, decision.inputs, decision.household_id) == decision
    # as the auditor reads it back from JSON
    stored = json.loads(json.dumps(decision.model_dump(mode="json")))
    assert Decision.model_validate(stored) == decision
    assert redecide(ruleset, stored["inputs"], stored["household_id"]) == decision
    assert verify(ruleset, decision)
    # and from the published EligibilityDecided inputs
    published = to_decision_inputs(decision)
    again = redecide(ruleset, recorded_inputs(ruleset, published), decision.household_id)
    assert again == decision


def test_verify_rejects_another_ruleset_version() -> None:
    decision = decide(BLTS, household(decile=4))
    stricter = BLTS.model_copy(
        update={
            "version": 2,
            "rules": [{"check": "decile_at_most", "value": 3, "reason": "DECILE_ABOVE_MAX"}],
        }
    )
    assert verify(BLTS, decision)
    assert not verify(stricter, decision)
    tampered = decision.model_copy(update={"status": EligibilityStatus.INELIGIBLE})
    assert not verify(BLTS, tampered)


def test_redecide_rejects_inputs_that_do_not_fit() -> None:
    decision = decide(BLTS, household())
    with pytest.raises(InputsError, match="missing \\['decile'\\]"):
        redecide(BLTS, {k: v for k, v in decision.inputs.items() if k != "decile"}, "h")
    with pytest.raises(InputsError, match="unexpected \\['pbi_jkn'\\]"):
        redecide(BLTS, {**decision.inputs, "pbi_jkn": True}, "h")
    with pytest.raises(InputsError, match="decile=11"):
        redecide(BLTS, {**decision.inputs, "decile": 11}, "h")
    with pytest.raises(InputsError, match="refused='no'"):
        redecide(BLTS, {**decision.inputs, "refused": "no"}, "h")


@settings(max_examples=100)
@given(facts(), st.sampled_from(list(Program)))
def test_decisions_map_onto_the_contract(household_facts: HouseholdFacts, program: Program) -> None:
    decision = decide(SHIPPED[program], household_facts)
    event = EligibilityDecided(
        event_id="00000000-0000-4000-8000-000000000001",
        occurred_at="2025-11-21T08:00:00Z",
        subject_id=decision.household_id,
        subject_version=1,
        correlation_id="test",
        actor={"role": "system", "id": "eligibility"},
        **event_fields(decision),
    )
    assert event.reason_codes == decision.reason_codes
    assert event.ruleset_hash == SHIPPED[program].content_hash
    assert event.inputs.active == household_facts.active
    round_trip = EligibilityDecided.model_validate_json(event.model_dump_json())
    assert recorded_inputs(SHIPPED[program], round_trip.inputs) == decision.inputs


def test_contract_inputs_of_bpnt() -> None:
    decision = decide(BPNT, bpnt_household(exclusions=frozenset({Program.PKH, Program.BPNT})))
    inputs = to_decision_inputs(decision)
    assert inputs.decile == 3
    assert inputs.flags is not None and inputs.flags.has_elderly
    assert inputs.programs == (Program.BPNT,)
    assert inputs.per_capita_income == 400_000
    assert inputs.extra == {
        "deactivation_reason": None,
        "refused": False,
        "exclusions": "BPNT;PKH",
    }
