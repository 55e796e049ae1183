"""A case's history as steps: who did what at which stage, and when.

Used by the read model (``case_steps``) and by the API, which reads a case's steps
straight from the event store so that an answer never lags behind the command.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from bansos_objections.domain.case import Case

__all__ = ["step_of", "steps_of"]


def step_of(e: Any) -> dict[str, Any] | None:
    """The step a stored case event records, or None for events that are not steps."""
    common = {"case_id": e.case_id, "version": e.originator_version, "at": e.at}
    if isinstance(e, Case.Submitted):
        return {
            **common, "step": "SUBMITTED", "stage": None, "outcome": None, "actor": e.filer,
            "notes": e.reason_text, "details": {"evidence": e.evidence, "location": e.location},
        }  # fmt: skip
    if isinstance(e, Case.Supported):
        return {
            **common, "step": "SUPPORTED", "stage": None, "outcome": None, "actor": e.supporter,
            "notes": e.reason_text, "details": {"evidence": e.evidence},
        }  # fmt: skip
    if isinstance(e, Case.Reviewed):
        return {
            **common, "step": "REVIEWED", "stage": e.stage, "outcome": e.outcome,
            "actor": e.reviewer, "notes": e.notes, "details": e.details,
        }  # fmt: skip
    if isinstance(e, Case.Resolved):
        return {
            **common, "step": "RESOLVED", "stage": None, "outcome": e.outcome, "actor": e.actor,
            "notes": e.notes, "details": {"effect": e.effect},
        }  # fmt: skip
    return None


def steps_of(events: Iterable[Any]) -> list[dict[str, Any]]:
    """The steps of a case's stored events, in order."""
    return [step for step in map(step_of, events) if step is not None]
