"""The ``Case`` aggregate on its own: the review chains as ``chains.yaml`` defines them,
who may review, what each review must carry, and what a closed case refuses.

Also the loading of a chains file: every mistake in one is a ValueError naming the file
and what is wrong.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from bansos_contracts.enums import CaseKind
from bansos_objections.domain.case import Case, CaseRefusedError, CaseState
from bansos_objections.domain.chains import CHAINS_FILE, ChainBook, KindRules, load_chains

AT = "2025-11-03T08:00:00+00:00"
VILLAGE = "35.17.01.2001"
HASH = "ab" * 32

Actor = dict[str, Any]

FILER: Actor = {"role": "CITIZEN", "id": "citizen-1", "region": VILLAGE}
SUPPORTER: Actor = {"role": "CITIZEN", "id": "citizen-2", "region": VILLAGE}
PKH: Actor = {"role": "PKH_FACILITATOR", "id": "pkh-1", "region": "35.17.01"}
TKSK: Actor = {"role": "TKSK", "id": "tksk-1", "region": "35.17.01"}
OPERATOR: Actor = {"role": "VILLAGE_OPERATOR", "id": "operator-1", "region": VILLAGE}
OTHER_OPERATOR: Actor = {"role": "VILLAGE_OPERATOR", "id": "operator-2", "region": VILLAGE}
REGENCY: Actor = {"role": "REGENCY_OFFICER", "id": "regency-1", "region": "35.17"}
OTHER_REGENCY: Actor = {"role": "REGENCY_OFFICER", "id": "regency-2", "region": "35.17"}
MINISTRY: Actor = {"role": "MINISTRY_OFFICER", "id": "ministry-1", "region": None}

FIELD_DETAILS: dict[str, Any] = {
    "visited_at": "2025-11-05T02:00:00+00:00",
    "location": {"latitude": -7.55, "longitude": 112.23},
    "evidence": [
        {"content_hash": HASH, "media_type": "image/png", "label": "FIELD_VISIT", "location": None}
    ],
}
MUSDESUS_DETAILS: dict[str, Any] = {"meeting_date": "2025-11-10", "attendance": 23}
DETAILS = {"FIELD_CHECK": FIELD_DETAILS, "VILLAGE_MUSDESUS": MUSDESUS_DETAILS}
REVIEWERS: dict[str, Actor] = {
    "FIELD_CHECK": PKH,
    "VILLAGE_MUSDESUS": OPERATOR,
    "REGENCY": REGENCY,
    "MINISTRY": MINISTRY,
}
FULL = ["FIELD_CHECK", "VILLAGE_MUSDESUS", "REGENCY", "MINISTRY"]
LOCAL = ["VILLAGE_MUSDESUS", "REGENCY"]


@pytest.fixture(scope="module")
def book() -> ChainBook:
    return load_chains()


def later(days: int, at: str = AT) -> str:
    return (datetime.fromisoformat(at) + timedelta(days=days)).isoformat()


def submit(
    book: ChainBook,
    kind: CaseKind = CaseKind.OBJECTION,
    *,
    reason_code: str | None = None,
    household_id: str | None = "HH-1",
    filer: dict[str, Any] = FILER,
) -> Case:
    rules = book.rules(kind)
    case = Case.submit(
        case_id="C-TEST", rules=rules, household_id=household_id, village=VILLAGE,
        programs=["PKH"], reason_code=reason_code or rules.reasons[0], reason_text="why",
        evidence=[], location=None, filer=filer, request_id="submit-1", at=AT,
    )  # fmt: skip
    pending(case)
    return case


class Counter:
    """Fresh request ids."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self) -> str:
        self.count += 1
        return f"request-{self.count}"


def review(
    case: Case,
    stage: str | None = None,
    outcome: str = "UPHELD",
    *,
    reviewer: dict[str, Any] | None = None,
    notes: str = "",
    details: dict[str, Any] | None = None,
    request_id: str | None = None,
    at: str = AT,
    effect: str | None = None,
) -> bool:
    """Review ``case`` at ``stage`` (its current one by default), with the details and
    the reviewer the stage needs unless told otherwise."""
    if stage is None:
        assert case.stage is not None
        stage = str(case.stage["stage"])
    if outcome in ("DISMISSED", "RETURNED") and not notes:
        notes = "needs a second look"
    return case.review(
        stage=stage, outcome=outcome, notes=notes,
        reviewer=REVIEWERS.get(stage, PKH) if reviewer is None else reviewer,
        request_id=request_id or f"{stage}-{outcome}-{at}",
        details=DETAILS.get(stage, {}) if details is None else details, at=at, effect=effect,
    )  # fmt: skip


def refused(code: str, command: Callable[[], object]) -> str:
    """Run a command that must be refused with ``code``; the message says why."""
    with pytest.raises(CaseRefusedError) as caught:
        command()
    assert caught.value.code == code, caught.value
    message = str(caught.value)
    assert message.strip()
    return message


def pending(case: Case) -> list[Any]:
    """The events a case has recorded since last asked."""
    return list(case.collect_events())


def stage_of(case: Case) -> str | None:
    return None if case.stage is None else str(case.stage["stage"])


# --- the chains as loaded ------------------------------------------------------------------


def test_the_packaged_chains(book: ChainBook) -> None:
    assert book.source == str(CHAINS_FILE)
    rules: dict[CaseKind, KindRules] = book.kinds
    assert set(rules) == set(CaseKind)
    assert [s.stage.value for s in rules[CaseKind.OBJECTION].stages] == FULL
    assert [s.stage.value for s in rules[CaseKind.REFUSAL].stages] == LOCAL
    assert rules[CaseKind.PROPOSAL].chain_name == rules[CaseKind.COMPLAINT].chain_name == "FULL"
    field = rules[CaseKind.OBJECTION].stages[0].as_dict()
    assert field == {"stage": "FIELD_CHECK", "roles": ["PKH_FACILITATOR", "TKSK"], "sla_days": 14}


# --- walking the chains ---------------------------------------------------------------------


def test_the_full_chain_walks_to_the_ministry_and_resolves_with_the_default_effect(
    book: ChainBook,
) -> None:
    case = submit(book)
    assert (case.state, stage_of(case), case.due_at) == (CaseState.OPEN, "FIELD_CHECK", later(14))
    assert case.stage is not None
    assert case.stage["roles"] == ["PKH_FACILITATOR", "TKSK"]

    day = 0
    for stage, following, sla in (
        ("FIELD_CHECK", "VILLAGE_MUSDESUS", 14),
        ("VILLAGE_MUSDESUS", "REGENCY", 14),
        ("REGENCY", "MINISTRY", 30),
    ):
        day += 3
        at = later(day)
        assert review(case, stage, at=at) is True
        assert (case.state, stage_of(case)) == (CaseState.OPEN, following)
        assert case.stage_entered_at == at
        assert case.due_at == later(sla, at)  # the next stage's service level, from now
        [event] = pending(case)
        assert isinstance(event, Case.Reviewed)
        assert (event.stage, event.next_stage, event.due_at) == (stage, following, case.due_at)
        assert event.details == DETAILS.get(stage, {})

    assert review(case, "MINISTRY", at=later(20)) is True
    assert (case.state, stage_of(case), case.due_at) == (CaseState.RESOLVED, None, None)
    assert (case.outcome, case.effect) == ("UPHELD", "EXCLUSION")  # the objection's default
    reviewed, resolved = pending(case)
    assert isinstance(reviewed, Case.Reviewed) and isinstance(resolved, Case.Resolved)
    assert (reviewed.next_stage, reviewed.due_at) == (None, None)
    assert (resolved.kind, resolved.outcome, resolved.effect) == (
        "OBJECTION",
        "UPHELD",
        "EXCLUSION",
    )
    assert resolved.programs == ["PKH"]
    assert resolved.actor == MINISTRY
    assert [r["id"] for r in case.reviewers] == ["pkh-1", "operator-1", "regency-1", "ministry-1"]


@pytest.mark.parametrize(
    ("kind", "effect"),
    [
        (CaseKind.OBJECTION, "RERANKING_REQUESTED"),
        (CaseKind.PROPOSAL, "INCLUSION_REQUESTED"),
        (CaseKind.PROPOSAL, "RERANKING_REQUESTED"),
        (CaseKind.COMPLAINT, "EXCLUSION"),
    ],
)
def test_the_final_review_may_choose_an_allowed_effect(
    book: ChainBook, kind: CaseKind, effect: str
) -> None:
    case = submit(book, kind)
    for stage in FULL[:-1]:
        review(case, stage)
    assert review(case, "MINISTRY", effect=effect) is True
    assert (case.outcome, case.effect) == ("UPHELD", effect)


@pytest.mark.parametrize("effect", ["OPT_OUT", "INCLUSION_REQUESTED", "NONE", "NOPE"])
def test_an_effect_the_kind_does_not_allow_is_refused(book: ChainBook, effect: str) -> None:
    case = submit(book)
    for stage in FULL[:-1]:
        review(case, stage)
    pending(case)
    before = dict(case.__dict__)
    message = refused("EFFECT_NOT_ALLOWED", lambda: review(case, "MINISTRY", effect=effect))
    assert "EXCLUSION, RERANKING_REQUESTED" in message
    # Refused means untouched: no pending event, the same reviewers, due date and requests.
    assert pending(case) == []
    assert case.__dict__ == before
    assert (case.is_open, stage_of(case)) == (True, "MINISTRY")


def test_only_the_final_upheld_review_gives_an_effect(book: ChainBook) -> None:
    case = submit(book)
    refused("EFFECT_NOT_ALLOWED", lambda: review(case, "FIELD_CHECK", effect="EXCLUSION"))
    for stage in FULL[:-1]:
        review(case, stage)
    refused(
        "EFFECT_NOT_ALLOWED",
        lambda: review(case, "MINISTRY", "DISMISSED", notes="no", effect="EXCLUSION"),
    )
    assert case.is_open


def test_the_local_chain_of_a_refusal_resolves_at_the_regency_with_opt_out(
    book: ChainBook,
) -> None:
    case = submit(book, CaseKind.REFUSAL, reason_code="SELF_SUFFICIENT")
    assert (case.chain, stage_of(case), case.due_at) == ("LOCAL", "VILLAGE_MUSDESUS", later(14))
    assert case.effects == ["OPT_OUT"]
    review(case, "VILLAGE_MUSDESUS", at=later(2))
    assert (stage_of(case), case.due_at) == ("REGENCY", later(16))
    review(case, "REGENCY", at=later(5))
    assert (case.state, case.outcome, case.effect) == (CaseState.RESOLVED, "UPHELD", "OPT_OUT")


@pytest.mark.parametrize("index", range(len(FULL)))
def test_dismissed_at_any_stage_resolves_with_no_effect(book: ChainBook, index: int) -> None:
    case = submit(book)
    for stage in FULL[:index]:
        review(case, stage)
    pending(case)
    assert review(case, FULL[index], "DISMISSED", notes="the family is poor") is True
    assert (case.state, case.outcome, case.effect, case.due_at) == (
        CaseState.RESOLVED,
        "DISMISSED",
        "NONE",
        None,
    )
    reviewed, resolved = pending(case)
    assert (reviewed.outcome, reviewed.next_stage) == ("DISMISSED", None)
    assert (resolved.outcome, resolved.effect, resolved.notes) == (
        "DISMISSED",
        "NONE",
        "the family is poor",
    )


def test_dismissed_in_the_local_chain_resolves_too(book: ChainBook) -> None:
    case = submit(book, CaseKind.REFUSAL, reason_code="OTHER")
    review(case, "VILLAGE_MUSDESUS", "DISMISSED", notes="the family still needs aid")
    assert (case.outcome, case.effect) == ("DISMISSED", "NONE")


def test_returned_goes_back_one_stage_and_restarts_its_service_level(book: ChainBook) -> None:
    case = submit(book)
    review(case, "FIELD_CHECK", at=later(1))
    review(case, "VILLAGE_MUSDESUS", at=later(2))
    assert stage_of(case) == "REGENCY"
    pending(case)

    at = later(9)
    assert review(case, "REGENCY", "RETURNED", notes="hold a new Musdesus", at=at) is True
    assert (case.state, stage_of(case)) == (CaseState.OPEN, "VILLAGE_MUSDESUS")
    assert (case.stage_entered_at, case.due_at) == (at, later(14, at))
    [event] = pending(case)
    assert (event.outcome, event.next_stage, event.due_at) == (
        "RETURNED",
        "VILLAGE_MUSDESUS",
        later(14, at),
    )


def test_returned_at_the_first_stage_stays_there_with_a_new_due_date(book: ChainBook) -> None:
    case = submit(book)
    at = later(10)
    review(case, "FIELD_CHECK", "RETURNED", notes="send a photo of the kitchen", at=at)
    assert (case.is_open, stage_of(case)) == (True, "FIELD_CHECK")
    assert (case.stage_entered_at, case.due_at) == (at, later(14, at))
    assert case.due_at != later(14)


def test_a_returned_case_can_be_reviewed_again_by_the_same_stages_reviewer(
    book: ChainBook,
) -> None:
    """A stage's reviewer is not "an earlier stage's" reviewer: after a RETURNED the case
    comes back to people who already looked at it, and they may look again (a village has
    one operator to record its Musdesus)."""
    case = submit(book)
    review(case, "FIELD_CHECK", "RETURNED", notes="more photos, please")
    assert review(case, "FIELD_CHECK", request_id="second-visit") is True  # the same facilitator
    review(case, "VILLAGE_MUSDESUS", "RETURNED", notes="check the roof again")
    assert stage_of(case) == "FIELD_CHECK"
    assert review(case, "FIELD_CHECK", request_id="third-visit") is True
    assert review(case, "VILLAGE_MUSDESUS", request_id="second-musdesus") is True  # same operator
    assert stage_of(case) == "REGENCY"
    # …but someone who reviewed at another stage is still not independent here.
    refused(
        "NOT_INDEPENDENT",
        lambda: review(case, "REGENCY", reviewer={**REGENCY, "id": "operator-1"}),
    )


# --- what a review needs --------------------------------------------------------------------


@pytest.mark.parametrize("outcome", ["DISMISSED", "RETURNED"])
@pytest.mark.parametrize("notes", ["", "   \n"])
def test_dismissed_and_returned_need_notes(book: ChainBook, outcome: str, notes: str) -> None:
    case = submit(book)
    message = refused(
        "NOTES_REQUIRED",
        lambda: case.review(
            stage="FIELD_CHECK",
            outcome=outcome,
            notes=notes,
            reviewer=PKH,
            request_id="r-1",
            details=FIELD_DETAILS,
            at=AT,
        ),
    )
    assert outcome in message
    assert (case.is_open, stage_of(case), pending(case)) == (True, "FIELD_CHECK", [])


def test_upheld_needs_no_notes(book: ChainBook) -> None:
    case = submit(book)
    assert review(case, "FIELD_CHECK", notes="") is True


@pytest.mark.parametrize("missing", ["visited_at", "location", "evidence"])
def test_a_field_check_needs_the_visit_its_location_and_photos(
    book: ChainBook, missing: str
) -> None:
    case = submit(book)
    details = {k: v for k, v in FIELD_DETAILS.items() if k != missing}
    for outcome in ("UPHELD", "DISMISSED"):
        message = refused(
            "DETAILS_REQUIRED", partial(review, case, "FIELD_CHECK", outcome, details=details)
        )
        assert missing in message and "FIELD_CHECK" in message
    message = refused("DETAILS_REQUIRED", lambda: review(case, "FIELD_CHECK", details={}))
    assert "visited_at, location, evidence" in message
    assert pending(case) == []


@pytest.mark.parametrize("missing", ["meeting_date", "attendance"])
def test_a_musdesus_needs_its_date_and_attendance(book: ChainBook, missing: str) -> None:
    case = submit(book)
    review(case, "FIELD_CHECK")
    details = {k: v for k, v in MUSDESUS_DETAILS.items() if k != missing}
    message = refused("DETAILS_REQUIRED", lambda: review(case, "VILLAGE_MUSDESUS", details=details))
    assert missing in message
    assert stage_of(case) == "VILLAGE_MUSDESUS"


def test_the_regency_and_ministry_need_no_details(book: ChainBook) -> None:
    case = submit(book)
    for stage in FULL:
        assert review(case, stage, details=DETAILS.get(stage, {})) is True
    assert case.state == CaseState.RESOLVED


# --- who reviews ----------------------------------------------------------------------------


@pytest.mark.parametrize("stage", ["VILLAGE_MUSDESUS", "REGENCY", "MINISTRY"])
def test_a_review_of_another_stage_than_the_current_is_refused(book: ChainBook, stage: str) -> None:
    case = submit(book)
    message = refused("WRONG_STAGE", lambda: review(case, stage))
    assert "awaits FIELD_CHECK" in message
    assert (stage_of(case), pending(case)) == ("FIELD_CHECK", [])


@pytest.mark.parametrize(
    ("stage", "allowed", "refused_roles"),
    [
        ("FIELD_CHECK", ["PKH_FACILITATOR", "TKSK"], ["VILLAGE_OPERATOR", "REGENCY_OFFICER"]),
        ("VILLAGE_MUSDESUS", ["VILLAGE_OPERATOR"], ["TKSK", "DISTRICT_OFFICER", "CITIZEN"]),
        ("REGENCY", ["REGENCY_OFFICER"], ["PROVINCE_OFFICER", "MINISTRY_OFFICER", "AUDITOR"]),
        ("MINISTRY", ["MINISTRY_OFFICER"], ["REGENCY_OFFICER", "SYSTEM"]),
    ],
)
def test_each_stage_is_reviewed_by_its_roles_only(
    book: ChainBook, stage: str, allowed: list[str], refused_roles: list[str]
) -> None:
    case = submit(book)
    for earlier in FULL[: FULL.index(stage)]:
        review(case, earlier)
    for role in refused_roles:
        reviewer = {"role": role, "id": f"someone-{role}", "region": None}
        message = refused("WRONG_ROLE", partial(review, case, stage, reviewer=reviewer))
        assert role in message and ", ".join(allowed) in message
    assert stage_of(case) == stage
    for number, role in enumerate(allowed):
        fresh = submit(book)
        for earlier in FULL[: FULL.index(stage)]:
            review(fresh, earlier)
        reviewer = {"role": role, "id": f"reviewer-{number}", "region": None}
        assert review(fresh, stage, reviewer=reviewer) is True


def test_the_filer_may_not_review(book: ChainBook) -> None:
    case = submit(book, filer=OPERATOR)  # a village operator filed on a family's behalf
    review(case, "FIELD_CHECK")
    message = refused("NOT_INDEPENDENT", lambda: review(case, "VILLAGE_MUSDESUS"))
    assert "VILLAGE_MUSDESUS must be reviewed by someone else" in message
    assert review(case, "VILLAGE_MUSDESUS", reviewer=OTHER_OPERATOR) is True


def test_a_supporter_may_not_review(book: ChainBook) -> None:
    case = submit(book)
    staff = {"role": "TKSK", "id": "tksk-9", "region": "35.17.01"}
    assert case.support(
        supporter=staff, request_id="support-1", reason_text="seen it too", evidence=[], at=AT
    )
    assert len(case.supporters) == 1
    refused("NOT_INDEPENDENT", lambda: review(case, "FIELD_CHECK", reviewer=staff))
    assert review(case, "FIELD_CHECK", reviewer=TKSK) is True


def test_a_reviewer_of_an_earlier_stage_may_not_review_a_later_one(book: ChainBook) -> None:
    case = submit(book)
    review(case, "FIELD_CHECK", reviewer={**TKSK, "id": "dual-1"})
    same_person = {**OPERATOR, "id": "dual-1"}  # the same person, now as village operator
    refused("NOT_INDEPENDENT", lambda: review(case, "VILLAGE_MUSDESUS", reviewer=same_person))
    review(case, "VILLAGE_MUSDESUS")
    refused(
        "NOT_INDEPENDENT",
        lambda: review(case, "REGENCY", reviewer={**REGENCY, "id": OPERATOR["id"]}),
    )
    assert review(case, "REGENCY", reviewer=OTHER_REGENCY) is True


# --- withdrawal and closed cases ------------------------------------------------------------


def test_only_the_filer_withdraws(book: ChainBook) -> None:
    case = submit(book)
    for actor in (SUPPORTER, PKH, OPERATOR):
        message = refused(
            "NOT_FILER",
            partial(case.withdraw, actor=actor, request_id="w-1", notes="", at=AT),
        )
        assert "only whoever filed" in message
    assert case.is_open
    assert case.withdraw(actor=FILER, request_id="w-2", notes="settled", at=later(1)) is True
    assert (case.state, case.outcome, case.effect, case.due_at) == (
        CaseState.RESOLVED,
        "WITHDRAWN",
        "NONE",
        None,
    )
    [resolved] = pending(case)
    assert (resolved.outcome, resolved.actor, resolved.notes) == ("WITHDRAWN", FILER, "settled")


@pytest.mark.parametrize("how", ["upheld", "dismissed", "withdrawn"])
def test_a_closed_case_refuses_everything(book: ChainBook, how: str) -> None:
    case = submit(book)
    if how == "upheld":
        for stage in FULL:
            review(case, stage)
    elif how == "dismissed":
        review(case, "FIELD_CHECK", "DISMISSED", notes="unfounded")
    else:
        case.withdraw(actor=FILER, request_id="withdraw-1", notes="", at=AT)
    pending(case)
    for stage in FULL:
        message = refused(
            "CASE_CLOSED",
            partial(review, case, stage, reviewer=OTHER_REGENCY, request_id="late-1"),
        )
        assert "already resolved" in message
    refused(
        "CASE_CLOSED",
        lambda: case.withdraw(actor=FILER, request_id="withdraw-2", notes="", at=AT),
    )
    refused(
        "CASE_CLOSED",
        lambda: case.support(
            supporter=SUPPORTER, request_id="support-9", reason_text="", evidence=[], at=AT
        ),
    )
    assert pending(case) == []


# --- repeated requests ----------------------------------------------------------------------


def test_a_repeated_request_changes_nothing(book: ChainBook) -> None:
    case = submit(book)
    assert review(case, "FIELD_CHECK", request_id="r-field") is True
    assert len(pending(case)) == 1
    version = case.version
    # The same request again: not applied twice, not even refused for the stage it names.
    assert review(case, "FIELD_CHECK", request_id="r-field") is False
    assert case.support(
        supporter=SUPPORTER, request_id="r-support", reason_text="", evidence=[], at=AT
    )
    assert not case.support(
        supporter=SUPPORTER, request_id="r-support", reason_text="", evidence=[], at=AT
    )
    assert len(case.supporters) == 1
    pending(case)
    assert case.withdraw(actor=FILER, request_id="r-withdraw", notes="", at=AT) is True
    pending(case)
    # After it closed, a repeated request still answers "already applied", not CASE_CLOSED.
    assert case.withdraw(actor=FILER, request_id="r-withdraw", notes="", at=AT) is False
    assert review(case, "FIELD_CHECK", request_id="r-field") is False
    assert pending(case) == []
    assert case.version == version + 2
    assert case.knows("submit-1") and case.knows("r-field") and not case.knows("r-other")


def test_a_case_replays_from_its_events_to_the_same_state(book: ChainBook) -> None:
    rules = book.rules(CaseKind.OBJECTION)
    case = Case.submit(
        case_id="C-REPLAY", rules=rules, household_id="HH-1", village=VILLAGE, programs=[],
        reason_code="NOT_POOR", reason_text="", evidence=[], location=None, filer=FILER,
        request_id="submit-1", at=AT,
    )  # fmt: skip
    review(case, "FIELD_CHECK", "RETURNED", notes="again")
    review(case, "FIELD_CHECK", request_id="again")
    case.support(supporter=SUPPORTER, request_id="s-1", reason_text="", evidence=[], at=AT)
    review(case, "VILLAGE_MUSDESUS")
    events = pending(case)
    copy: Case | None = None
    for event in events:
        copy = event.mutate(copy)
    assert copy is not None
    assert copy.__dict__ == case.__dict__


# --- submitting -----------------------------------------------------------------------------


def test_an_unknown_reason_code_is_refused(book: ChainBook) -> None:
    rules = book.rules(CaseKind.REFUSAL)
    message = refused(
        "UNKNOWN_REASON",
        lambda: Case.submit(
            case_id="C-X",
            rules=rules,
            household_id="HH-1",
            village=VILLAGE,
            programs=[],
            reason_code="NOT_POOR",
            reason_text="",
            evidence=[],
            location=None,
            filer=FILER,
            request_id="submit-x",
            at=AT,
        ),
    )
    assert "'NOT_POOR'" in message and "SELF_SUFFICIENT, OTHER" in message


@pytest.mark.parametrize(("kind", "days"), [(CaseKind.PROPOSAL, 14), (CaseKind.REFUSAL, 14)])
def test_a_submitted_case_is_due_at_its_first_stages_service_level(
    book: ChainBook, kind: CaseKind, days: int
) -> None:
    case = submit(book, kind)
    assert (case.submitted_at, case.stage_entered_at, case.due_at) == (AT, AT, later(days))
    assert (case.household_id, case.village, case.programs) == ("HH-1", VILLAGE, ["PKH"])
    assert case.stages == [stage.as_dict() for stage in book.rules(kind).stages]


def test_the_due_date_follows_the_chain_file(tmp_path: Path) -> None:
    text = CHAINS_FILE.read_text(encoding="utf-8")
    path = tmp_path / "chains.yaml"
    path.write_text(
        text.replace("roles: [PKH_FACILITATOR, TKSK], sla_days: 14", "roles: [TKSK], sla_days: 3")
    )
    case = submit(load_chains(path))
    assert (case.due_at, case.stages[0]["roles"]) == (later(3), ["TKSK"])
    refused("WRONG_ROLE", lambda: review(case, "FIELD_CHECK"))  # PKH no longer reviews it


# --- loading chains files -------------------------------------------------------------------

GOOD = CHAINS_FILE.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        pytest.param(
            lambda t: t.replace("chain: LOCAL", "chain: SHORT"),
            "kind REFUSAL names an unknown chain 'SHORT'",
            id="unknown chain",
        ),
        pytest.param(
            lambda t: t.replace(
                "sla_days: 30}\n",
                "sla_days: 30}\n      - {stage: FIELD_CHECK, roles: [TKSK], sla_days: 3}\n",
            ),
            "chain FULL names a stage twice",
            id="duplicate stage",
        ),
        pytest.param(
            lambda t: t.split("  COMPLAINT:")[0],
            "no rules for the kind(s) COMPLAINT",
            id="missing kind",
        ),
        pytest.param(
            lambda t: t.replace("effects: [OPT_OUT]", "effects: [NONE]"),
            "kind REFUSAL needs at least one effect other than NONE",
            id="effect NONE",
        ),
        pytest.param(
            lambda t: t.replace("reasons: [SELF_SUFFICIENT, OTHER]", "reasons: []"),
            "kind REFUSAL needs at least one reason code",
            id="no reasons",
        ),
        pytest.param(
            lambda t: t.replace("sla_days: 30", "sla_days: 0"),
            "every stage of chain FULL needs roles and sla_days of 1 or more",
            id="zero sla",
        ),
        pytest.param(
            lambda t: t.replace("roles: [MINISTRY_OFFICER]", "roles: []"),
            "every stage of chain FULL needs roles",
            id="no roles",
        ),
        pytest.param(
            lambda t: t.replace("roles: [VILLAGE_OPERATOR]", "roles: [VILLAGE_HEAD]"),
            "unknown role 'VILLAGE_HEAD'",
            id="unknown role",
        ),
        pytest.param(
            lambda t: t.replace("stage: MINISTRY", "stage: PRESIDENT"),
            "'PRESIDENT'",
            id="unknown stage",
        ),
        pytest.param(
            lambda t: t.replace("  OBJECTION:\n", "  SANGGAHAN:\n"),
            "'SANGGAHAN'",
            id="unknown kind",
        ),
        pytest.param(lambda t: "kinds: {}\n", "needs a 'chains' mapping", id="no chains"),
        pytest.param(
            lambda t: t.split("kinds:")[0] + "kinds: [PROPOSAL, OBJECTION]\n",
            "needs a 'kinds' mapping",
            id="kinds not a mapping",
        ),
        pytest.param(
            lambda t: t.replace("    effects: [OPT_OUT]\n", ""),
            "the entry 'effects' is missing",
            id="missing entry",
        ),
        pytest.param(
            lambda t: t.replace("sla_days: 30", "sla_days: a month"),
            "invalid literal for int()",
            id="sla not a number",
        ),
        pytest.param(lambda t: t + "\n  : [\n", "cannot read the review chains", id="bad yaml"),
    ],
)
def test_a_bad_chains_file_is_a_value_error_naming_the_problem(
    tmp_path: Path, change: Callable[[str], str], problem: str
) -> None:
    path = tmp_path / "chains.yaml"
    text = change(GOOD)
    assert text != GOOD
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError) as caught:
        load_chains(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: "), message
    assert problem in message, message


def test_a_missing_chains_file_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.yaml"
    with pytest.raises(ValueError, match="cannot read the review chains") as caught:
        load_chains(path)
    assert str(path) in str(caught.value)
