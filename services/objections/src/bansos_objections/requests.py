"""The commands the objections service accepts, as plain values (no HTTP, no SQL)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from bansos_contracts.enums import CaseKind

__all__ = ["EvidenceRef", "Point", "ReviewRequest", "Submission", "Withdrawal"]


@dataclass(frozen=True)
class Point:
    """A WGS84 location."""

    latitude: float
    longitude: float


@dataclass(frozen=True)
class EvidenceRef:
    """Evidence uploaded earlier, named by its content hash."""

    content_hash: str
    label: str
    location: Point | None = None


@dataclass(frozen=True)
class Submission:
    """Open a case (or join the open one of the same kind for the same household).

    A citizen names their own household by ``nik`` and ``name`` (checked by the registry
    against their village; neither is kept), another household by ``household_id``, or
    no household for a family not yet registered. Staff name a ``household_id``, or the
    ``village`` of an unregistered family.
    """

    request_id: str
    kind: CaseKind
    reason_code: str
    reason_text: str = ""
    household_id: str | None = None
    village: str | None = None
    nik: str | None = None
    name: str | None = None
    programs: tuple[str, ...] = ()
    evidence: tuple[EvidenceRef, ...] = ()
    location: Point | None = None


@dataclass(frozen=True)
class ReviewRequest:
    """One stage's review of a case."""

    request_id: str
    stage: str
    outcome: str
    notes: str = ""
    effect: str | None = None
    visited_at: datetime | None = None
    location: Point | None = None
    evidence: tuple[EvidenceRef, ...] = ()
    meeting_date: date | None = None
    attendance: int | None = None


@dataclass(frozen=True)
class Withdrawal:
    """The filer withdraws their case."""

    request_id: str
    notes: str = ""
