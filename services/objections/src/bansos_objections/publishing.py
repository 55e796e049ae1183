"""The objections service's public events: stored ``Case`` events → ``bansos.objections.v1``.

``Submitted`` → ``CaseSubmitted``, ``Reviewed`` → ``CaseReviewed``, ``Resolved`` →
``CaseResolved``. A merged duplicate (``Supported``) and the ``Filer`` and ``OpenCases``
records are private: they change nothing another service acts on.
"""

from __future__ import annotations

from typing import Any

from bansos_contracts.envelope import Event
from bansos_contracts.objections import (
    CaseResolved,
    CaseReviewed,
    CaseSubmitted,
    Evidence,
    GeoPoint,
)
from bansos_libs.outbox import Envelope
from bansos_objections.domain.case import Case

__all__ = ["PUBLISHED", "to_contract"]

PUBLISHED = (CaseSubmitted, CaseReviewed, CaseResolved)


def _evidence(items: list[dict[str, Any]]) -> tuple[Evidence, ...]:
    return tuple(
        Evidence(
            content_hash=item["content_hash"],
            media_type=item["media_type"],
            label=item["label"],
            location=None if item.get("location") is None else GeoPoint(**item["location"]),
        )
        for item in items
    )


def to_contract(domain_event: Any, envelope: Envelope) -> Event | None:
    """The public event for a stored case event, or None for private ones."""
    e: Any = domain_event
    if not isinstance(domain_event, Case.Event):
        return None
    envelope = {**envelope, "subject_id": e.case_id}
    ids = {"case_id": e.case_id, "household_id": e.household_id}
    if isinstance(e, Case.Submitted):
        return CaseSubmitted(
            **envelope, **ids, kind=e.kind, village=e.village, programs=tuple(e.programs),
            reason_code=e.reason_code, reason_text=e.reason_text, evidence=_evidence(e.evidence),
            location=None if e.location is None else GeoPoint(**e.location),
        )  # fmt: skip
    if isinstance(e, Case.Reviewed):
        details = e.details
        location = details.get("location")
        return CaseReviewed(
            **envelope, **ids, stage=e.stage, outcome=e.outcome, notes=e.notes,
            visited_at=details.get("visited_at"),
            location=None if location is None else GeoPoint(**location),
            evidence=_evidence(details.get("evidence", [])),
            meeting_date=details.get("meeting_date"), attendance=details.get("attendance"),
            next_stage=e.next_stage, due_at=e.due_at,
        )  # fmt: skip
    if isinstance(e, Case.Resolved):
        return CaseResolved(
            **envelope, **ids, kind=e.kind, outcome=e.outcome, effect=e.effect,
            programs=tuple(e.programs), notes=e.notes,
        )  # fmt: skip
    return None
