"""The ``Case`` aggregate: one proposal, objection, refusal or complaint and its review.

A case walks the stages of the chain it was submitted under (``domain.chains``)::

    OPEN at stage 1 ──UPHELD──► stage 2 ──UPHELD──► … last ──UPHELD──► RESOLVED (UPHELD, effect)
        │   ▲                     │
        │   └────RETURNED─────────┘  (back one stage, for more evidence or a new check)
        ├──DISMISSED at any stage──► RESOLVED (DISMISSED)
        └──withdrawn by its filer──► RESOLVED (WITHDRAWN)

A duplicate submission (same kind, same household, while this case is open) is merged
into it as a ``Supported`` event instead of opening a second case.

Every refusal is a :class:`CaseRefusedError` whose ``code`` says why in one word and whose
message says it for people. Repeating a request (same ``request_id``) changes nothing.
"""

from __future__ import annotations

import functools
import uuid
from datetime import datetime, timedelta
from typing import Any

from eventsourcing.domain import Aggregate, event

from bansos_objections.domain.chains import KindRules

__all__ = ["CASE_NAMESPACE", "Case", "CaseRefusedError", "CaseState", "case_uuid"]

CASE_NAMESPACE = uuid.UUID("4d2a7f1e-9c3b-4a8e-b6d5-1e0f2c7a9b35")

Actor = dict[str, Any]
"""``{"role", "id", "region"}`` of the person acting (a pseudonymous id, never a NIK)."""
Evidence = dict[str, Any]
"""``{"content_hash", "media_type", "label", "location"}``: as in the contract."""


class CaseState:
    """The states of a case (strings, as stored)."""

    OPEN = "OPEN"
    RESOLVED = "RESOLVED"


class CaseRefusedError(ValueError):
    """A command the case's state or rules do not allow; ``code`` says why."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@functools.lru_cache(maxsize=65_536)
def case_uuid(case_id: str) -> uuid.UUID:
    """The aggregate id of a case."""
    return uuid.uuid5(CASE_NAMESPACE, case_id)


def _due(at: str, days: int) -> str:
    return (datetime.fromisoformat(at) + timedelta(days=days)).isoformat()


class Case(Aggregate):
    """One citizen case and the record of its review."""

    class Submitted(Aggregate.Created):
        case_id: str
        kind: str
        household_id: str | None
        village: str
        programs: list[str]
        reason_code: str
        reason_text: str
        evidence: list[Evidence]
        location: dict[str, float] | None
        chain: str
        stages: list[dict[str, Any]]
        effects: list[str]
        filer: Actor
        request_id: str
        at: str
        due_at: str

    class Supported(Aggregate.Event):
        """A duplicate submission, merged into this open case."""

        case_id: str
        household_id: str | None
        supporter: Actor
        request_id: str
        reason_text: str
        evidence: list[Evidence]
        at: str

    class Reviewed(Aggregate.Event):
        case_id: str
        household_id: str | None
        stage: str
        outcome: str
        notes: str
        reviewer: Actor
        request_id: str
        details: dict[str, Any]
        """Field check: ``visited_at``, ``location``, ``evidence``; Musdesus:
        ``meeting_date``, ``attendance``."""
        at: str
        next_stage: str | None
        due_at: str | None

    class Resolved(Aggregate.Event):
        case_id: str
        household_id: str | None
        kind: str
        outcome: str
        effect: str
        programs: list[str]
        notes: str
        actor: Actor
        request_id: str
        at: str

    @staticmethod
    def create_id(case_id: str, **_: Any) -> uuid.UUID:
        return case_uuid(case_id)

    @event(Submitted)
    def __init__(
        self, case_id: str, kind: str, household_id: str | None, village: str,
        programs: list[str], reason_code: str, reason_text: str, evidence: list[Evidence],
        location: dict[str, float] | None, chain: str, stages: list[dict[str, Any]],
        effects: list[str], filer: Actor, request_id: str, at: str, due_at: str,
    ) -> None:  # fmt: skip
        self.case_id = case_id
        self.kind = kind
        self.household_id = household_id
        self.village = village
        self.programs = list(programs)
        self.reason_code = reason_code
        self.chain = chain
        self.stages = [dict(stage) for stage in stages]
        self.effects = list(effects)
        self.filer = dict(filer)
        self.supporters: list[Actor] = []
        self.merged_since_step = 0
        """``Supported`` events since the last step of the review (which are published;
        merges are not), so the next step can name the last published one as its cause."""
        self.reviewers: list[Actor] = []
        self.reviewed_stages: list[str] = []
        """The stage each of ``reviewers`` reviewed."""
        self.requests: set[str] = {request_id}
        self.state = CaseState.OPEN
        self.stage_index = 0
        self.stage_entered_at = at
        self.due_at: str | None = due_at
        self.outcome: str | None = None
        self.effect: str | None = None
        self.submitted_at = at

    @classmethod
    def submit(
        cls, *, case_id: str, rules: KindRules, household_id: str | None, village: str,
        programs: list[str], reason_code: str, reason_text: str, evidence: list[Evidence],
        location: dict[str, float] | None, filer: Actor, request_id: str, at: str,
    ) -> Case:  # fmt: skip
        """Open a case under ``rules`` (its kind's chain, effects and reason codes)."""
        if reason_code not in rules.reasons:
            raise CaseRefusedError(
                "UNKNOWN_REASON",
                f"reason code {reason_code!r} is not one for a {rules.kind.value}:"
                f" choose one of {', '.join(rules.reasons)}",
            )
        first = rules.stages[0]
        return cls(
            case_id=case_id, kind=rules.kind.value, household_id=household_id, village=village,
            programs=programs, reason_code=reason_code, reason_text=reason_text,
            evidence=evidence, location=location, chain=rules.chain_name,
            stages=[stage.as_dict() for stage in rules.stages],
            effects=[effect.value for effect in rules.effects], filer=filer,
            request_id=request_id, at=at, due_at=_due(at, first.sla_days),
        )  # fmt: skip

    # -- what it is now ------------------------------------------------------------------

    @property
    def last_step_version(self) -> int:
        """The version of the case's last step: submission, review or resolution."""
        return self.version - self.merged_since_step

    @property
    def is_open(self) -> bool:
        """Whether the case still awaits a review."""
        return self.state == CaseState.OPEN

    @property
    def stage(self) -> dict[str, Any] | None:
        """The stage awaiting review (``{"stage", "roles", "sla_days"}``), None when closed."""
        return self.stages[self.stage_index] if self.is_open else None

    def involved(self, actor_id: str, stage: str | None = None) -> bool:
        """Whether ``actor_id`` filed, supported or already reviewed this case (at a stage
        other than ``stage``: a case RETURNED to a stage comes back to its reviewer)."""
        reviewers = [
            reviewer
            for reviewer, reviewed in zip(self.reviewers, self.reviewed_stages, strict=True)
            if reviewed != stage
        ]
        people = [self.filer, *self.supporters, *reviewers]
        return any(person["id"] == actor_id for person in people)

    def knows(self, request_id: str) -> bool:
        """Whether a request with this id was already applied."""
        return request_id in self.requests

    # -- commands ------------------------------------------------------------------------

    def support(
        self, *, supporter: Actor, request_id: str, reason_text: str, evidence: list[Evidence],
        at: str,
    ) -> bool:  # fmt: skip
        """Merge a duplicate submission into this case; False if already merged."""
        if self.knows(request_id):
            return False
        self._refuse_unless_open()
        self._supported(
            case_id=self.case_id, household_id=self.household_id, supporter=supporter,
            request_id=request_id, reason_text=reason_text, evidence=evidence, at=at,
        )  # fmt: skip
        return True

    def review(
        self, *, stage: str, outcome: str, notes: str, reviewer: Actor, request_id: str,
        details: dict[str, Any], at: str, effect: str | None = None,
    ) -> bool:  # fmt: skip
        """One stage's review; False when this request was already applied.

        The final stage's ``UPHELD`` resolves the case with ``effect`` (the kind's default
        when None); ``DISMISSED`` at any stage resolves it as dismissed.
        """
        if self.knows(request_id):
            return False
        current = self._current_stage(stage)
        self._check_reviewer(current, reviewer)
        self._check_details(stage, outcome, notes, details)
        final = self.stage_index == len(self.stages) - 1
        if effect is not None and not (final and outcome == "UPHELD"):
            raise CaseRefusedError(
                "EFFECT_NOT_ALLOWED", "only the final stage's UPHELD review gives an effect"
            )
        resolves = outcome == "DISMISSED" or (outcome == "UPHELD" and final)
        # The effect is checked before anything is recorded: a refused review changes nothing.
        chosen = self._effect(effect) if resolves and outcome == "UPHELD" else "NONE"
        if outcome == "UPHELD" and not final:
            index = self.stage_index + 1
        elif outcome == "RETURNED":
            index = max(self.stage_index - 1, 0)
        else:
            index = None
        next_stage = None if index is None else self.stages[index]
        self._reviewed(
            case_id=self.case_id, household_id=self.household_id, stage=stage, outcome=outcome,
            notes=notes, reviewer=reviewer, request_id=request_id, details=details, at=at,
            next_stage=None if next_stage is None else next_stage["stage"],
            due_at=None if next_stage is None else _due(at, next_stage["sla_days"]),
        )  # fmt: skip
        if resolves:
            self._resolve(outcome, chosen, notes, reviewer, request_id, at)
        return True

    def withdraw(self, *, actor: Actor, request_id: str, notes: str, at: str) -> bool:
        """The filer withdraws the case; False when this request was already applied."""
        if self.knows(request_id):
            return False
        self._refuse_unless_open()
        if actor["id"] != self.filer["id"]:
            raise CaseRefusedError("NOT_FILER", "only whoever filed a case may withdraw it")
        self._resolve("WITHDRAWN", "NONE", notes, actor, request_id, at)
        return True

    # -- checks --------------------------------------------------------------------------

    def _refuse_unless_open(self) -> None:
        if not self.is_open:
            raise CaseRefusedError(
                "CASE_CLOSED", f"case {self.case_id} is already resolved ({self.outcome})"
            )

    def _current_stage(self, stage: str) -> dict[str, Any]:
        self._refuse_unless_open()
        current = self.stages[self.stage_index]
        if current["stage"] != stage:
            raise CaseRefusedError(
                "WRONG_STAGE", f"case {self.case_id} awaits {current['stage']}, not {stage}"
            )
        return current

    def _check_reviewer(self, current: dict[str, Any], reviewer: Actor) -> None:
        if reviewer["role"] not in current["roles"]:
            raise CaseRefusedError(
                "WRONG_ROLE",
                f"role {reviewer['role']} may not review stage {current['stage']}:"
                f" it is reviewed by {', '.join(current['roles'])}",
            )
        if self.involved(reviewer["id"], current["stage"]):
            raise CaseRefusedError(
                "NOT_INDEPENDENT",
                f"you filed, supported or reviewed at another stage case {self.case_id};"
                f" stage {current['stage']} must be reviewed by someone else",
            )

    @staticmethod
    def _check_details(stage: str, outcome: str, notes: str, details: dict[str, Any]) -> None:
        if outcome in ("DISMISSED", "RETURNED") and not notes.strip():
            raise CaseRefusedError("NOTES_REQUIRED", f"a {outcome} review must say why in notes")
        needed: tuple[str, ...] = ()
        if stage == "FIELD_CHECK":
            needed = ("visited_at", "location", "evidence")
        elif stage == "VILLAGE_MUSDESUS":
            needed = ("meeting_date", "attendance")
        missing = [name for name in needed if not details.get(name)]
        if missing:
            raise CaseRefusedError(
                "DETAILS_REQUIRED", f"a {stage} review needs {', '.join(missing)}"
            )

    def _effect(self, effect: str | None) -> str:
        if effect is None:
            return self.effects[0]
        if effect not in self.effects:
            raise CaseRefusedError(
                "EFFECT_NOT_ALLOWED",
                f"an upheld {self.kind} may have effect {', '.join(self.effects)}, not {effect}",
            )
        return effect

    def _resolve(
        self, outcome: str, effect: str, notes: str, actor: Actor, request_id: str, at: str
    ) -> None:
        self._resolved(
            case_id=self.case_id, household_id=self.household_id, kind=self.kind,
            outcome=outcome, effect=effect, programs=self.programs, notes=notes, actor=actor,
            request_id=request_id, at=at,
        )  # fmt: skip

    # -- events --------------------------------------------------------------------------

    @event(Supported)
    def _supported(
        self, case_id: str, household_id: str | None, supporter: Actor, request_id: str,
        reason_text: str, evidence: list[Evidence], at: str,
    ) -> None:  # fmt: skip
        self.supporters = [*self.supporters, dict(supporter)]
        self.requests = self.requests | {request_id}
        self.merged_since_step += 1

    @event(Reviewed)
    def _reviewed(
        self, case_id: str, household_id: str | None, stage: str, outcome: str, notes: str,
        reviewer: Actor, request_id: str, details: dict[str, Any], at: str,
        next_stage: str | None, due_at: str | None,
    ) -> None:  # fmt: skip
        self.reviewers = [*self.reviewers, dict(reviewer)]
        self.reviewed_stages = [*self.reviewed_stages, stage]
        self.requests = self.requests | {request_id}
        self.merged_since_step = 0
        if next_stage is not None:
            self.stage_index = [s["stage"] for s in self.stages].index(next_stage)
            self.stage_entered_at = at
        self.due_at = due_at

    @event(Resolved)
    def _resolved(
        self, case_id: str, household_id: str | None, kind: str, outcome: str, effect: str,
        programs: list[str], notes: str, actor: Actor, request_id: str, at: str,
    ) -> None:  # fmt: skip
        self.state = CaseState.RESOLVED
        self.outcome = outcome
        self.effect = effect
        self.due_at = None
        self.requests = self.requests | {request_id}
