"""What the eligibility service does with each consumed event (the consumer's handler).

- ``bansos.registry.v1``: fold the event into the household's register facts; when they
  changed, re-decide every open program period.
- ``bansos.objections.v1``: note the case (open cases show on the citizen's status);
  when an upheld case takes effect, re-decide.
- ``bansos.payout.v1``: note the payout's state, for the citizen's one answer.

Events that change nothing record nothing, so a replay from offset 0 is a no-op.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bansos_contracts.envelope import Event
from bansos_contracts.objections import CaseEvent, CaseResolved, CaseReviewed, CaseSubmitted
from bansos_contracts.payout import (
    PayoutCancelled,
    PayoutDisbursed,
    PayoutEvent,
    PayoutFailed,
    PayoutReconciled,
    PayoutScheduled,
)
from bansos_contracts.registry import RegistryEvent
from bansos_eligibility.domain.assessment import Assessment, CaseNote, assessment_uuid, reassess
from bansos_eligibility.registry_facts import fold_registry_event
from bansos_eligibility.rules.model import Ruleset
from bansos_libs.eventstore import UnitOfWork

__all__ = ["EligibilityHandler", "case_note", "payout_note"]


class EligibilityHandler:
    """The consumer's handler: one consumed contract event → the household's assessment."""

    def __init__(self, rulesets: Sequence[Ruleset]) -> None:
        self.rulesets = tuple(rulesets)

    def prefetch(self, events: Sequence[Event], uow: UnitOfWork) -> None:
        """Load the assessments of a whole batch with one query."""
        ids = (getattr(event, "household_id", None) for event in events)
        uow.preload(assessment_uuid(household_id) for household_id in ids if household_id)

    def __call__(self, event: Event, uow: UnitOfWork) -> None:
        household_id: str | None = getattr(event, "household_id", None)
        if household_id is None:  # a snapshot summary, or a case without a household
            return
        assessment = uow.get(assessment_uuid(household_id), Assessment)
        if isinstance(event, RegistryEvent):
            version = event.subject_version
            if assessment is not None and assessment.knows_registry_version(version):
                return
            facts = fold_registry_event(assessment.register if assessment else None, event)
            if facts is None:
                return
            if assessment is None:
                assessment = Assessment(
                    household_id=household_id,
                    facts=facts.model_dump(mode="json"),
                    registry_version=version,
                )
            elif not assessment.record_facts(facts, version):
                return
            reassess(assessment, self.rulesets)
        elif isinstance(event, CaseEvent):
            assessment = assessment or Assessment(household_id=household_id, facts=None)
            known = assessment.cases.get(event.case_id)
            if not assessment.note_case(case_note(known, event)):
                return
            reassess(assessment, self.rulesets)
        elif isinstance(event, PayoutEvent):
            assessment = assessment or Assessment(household_id=household_id, facts=None)
            if not assessment.note_payout(payout_note(event)):
                return
        else:
            return
        uow.collect(assessment)


def case_note(known: CaseNote | None, event: CaseEvent) -> CaseNote:
    """The case as known after ``event``."""
    note: dict[str, Any] = (
        dict(known)
        if known
        else {
            "case_id": event.case_id,
            "version": 0,
            "kind": None,
            "state": "OPEN",
            "stage": None,
            "outcome": None,
            "effect": "NONE",
            "programs": [],
            "submitted_at": event.occurred_at.isoformat(),
            "resolved_at": None,
        }
    )
    note["version"] = event.subject_version
    if isinstance(event, CaseSubmitted):
        note |= {"kind": event.kind.value, "programs": [p.value for p in event.programs]}
    elif isinstance(event, CaseReviewed):
        note |= {"stage": event.stage.value}
    elif isinstance(event, CaseResolved):
        note |= {
            "kind": event.kind.value,
            "state": "RESOLVED",
            "outcome": event.outcome.value,
            "effect": event.effect.value,
            "programs": [p.value for p in event.programs],
            "resolved_at": event.occurred_at.isoformat(),
        }
    return note


def payout_note(event: PayoutEvent) -> dict[str, Any]:
    """What the citizen needs to know of a payout after ``event``."""
    note: dict[str, Any] = {
        "payout_id": event.payout_id,
        "version": event.subject_version,
        "updated_at": event.occurred_at.isoformat(),
    }
    if isinstance(event, PayoutScheduled):
        note |= {
            "state": "SCHEDULED",
            "program": event.program.value,
            "period": event.period,
            "amount": event.amount,
            "channel": event.channel.value,
            "bank": None if event.bank is None else event.bank.value,
            "location": event.location,
            "windows": [w.model_dump(mode="json") for w in event.collection_windows],
            "reason": None,
        }
    elif isinstance(event, PayoutDisbursed):
        note |= {"state": "DISBURSED", "disbursed_at": event.at.isoformat()}
    elif isinstance(event, PayoutFailed):
        note |= {"state": "FAILED", "reason": event.reason.value}
    elif isinstance(event, PayoutCancelled):
        note |= {"state": "CANCELLED", "reason": event.reason.value}
    elif isinstance(event, PayoutReconciled):
        note |= {"state": "RECONCILED", "reason": event.outcome.value}
    return note
