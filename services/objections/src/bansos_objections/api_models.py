"""The objections API's request and response bodies."""

# No ``from __future__ import annotations``: FastAPI reads the annotations at runtime.
from datetime import date
from typing import Annotated, Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from bansos_contracts.enums import CaseEffect, CaseKind, Program, ReviewOutcome, ReviewStage
from bansos_objections.domain.case import Case
from bansos_objections.requests import EvidenceRef, Point, ReviewRequest, Submission, Withdrawal

__all__ = [
    "CaseOut",
    "CaseRowOut",
    "EvidenceIn",
    "OverdueOut",
    "PointIn",
    "ReviewIn",
    "StepOut",
    "StoredEvidenceOut",
    "SubmissionIn",
    "WithdrawalIn",
]

RequestId = Annotated[
    str,
    StringConstraints(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9._:-]+$"),
    Field(description="Chosen by the client, new for each request and the same on a retry."),
]
Text = Annotated[str, StringConstraints(max_length=4000)]
Hash = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
Id = Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._:-]+$")]
Village = Annotated[str, StringConstraints(pattern=r"^\d{2}\.\d{2}\.\d{2}\.\d{4}$")]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PointIn(_In):
    """A WGS84 location."""

    latitude: float = Field(ge=-90, le=90)
    longitude: float = Field(ge=-180, le=180)

    def value(self) -> Point:
        return Point(self.latitude, self.longitude)


class EvidenceIn(_In):
    """A photo uploaded earlier (``POST /evidence``), by its content hash."""

    content_hash: Hash
    label: Annotated[str, StringConstraints(max_length=32)] = Field(
        description="HOUSE_FRONT, HOUSE_SIDE, HOUSE_INSIDE, FIELD_VISIT, DOCUMENT or OTHER"
    )
    location: PointIn | None = None

    def value(self) -> EvidenceRef:
        return EvidenceRef(
            self.content_hash, self.label, None if self.location is None else self.location.value()
        )


class SubmissionIn(_In):
    """A new case. A citizen names their own household by NIK and name (never stored)."""

    request_id: RequestId
    kind: CaseKind
    reason_code: Annotated[str, StringConstraints(max_length=64)]
    reason_text: Text = ""
    household_id: Id | None = None
    village: Village | None = None
    nik: Annotated[str, StringConstraints(pattern=r"^\d{16}$")] | None = None
    name: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = None
    programs: list[Program] = Field(default_factory=list, max_length=8)
    evidence: list[EvidenceIn] = Field(default_factory=list, max_length=12)
    location: PointIn | None = None

    def value(self) -> Submission:
        return Submission(
            request_id=self.request_id, kind=self.kind, reason_code=self.reason_code,
            reason_text=self.reason_text, household_id=self.household_id, village=self.village,
            nik=self.nik, name=self.name, programs=tuple(p.value for p in self.programs),
            evidence=tuple(e.value() for e in self.evidence),
            location=None if self.location is None else self.location.value(),
        )  # fmt: skip


class ReviewIn(_In):
    """One stage's review. A field check gives ``visited_at``, ``location`` and photos; a
    Musdesus gives ``meeting_date`` and ``attendance``; the final stage may give ``effect``."""

    request_id: RequestId
    stage: ReviewStage
    outcome: ReviewOutcome
    notes: Text = ""
    effect: CaseEffect | None = None
    visited_at: AwareDatetime | None = None
    location: PointIn | None = None
    evidence: list[EvidenceIn] = Field(default_factory=list, max_length=12)
    meeting_date: date | None = None
    attendance: int | None = Field(default=None, ge=1, le=100_000)

    def value(self) -> ReviewRequest:
        return ReviewRequest(
            request_id=self.request_id, stage=self.stage.value, outcome=self.outcome.value,
            notes=self.notes, effect=None if self.effect is None else self.effect.value,
            visited_at=self.visited_at,
            location=None if self.location is None else self.location.value(),
            evidence=tuple(e.value() for e in self.evidence), meeting_date=self.meeting_date,
            attendance=self.attendance,
        )  # fmt: skip


class WithdrawalIn(_In):
    """The filer withdraws their case."""

    request_id: RequestId
    notes: Text = ""

    def value(self) -> Withdrawal:
        return Withdrawal(self.request_id, self.notes)


class StoredEvidenceOut(BaseModel):
    """An uploaded photo: cite it in a case or review by ``content_hash``."""

    content_hash: str
    media_type: str
    size: int


class StepOut(BaseModel):
    """One step of a case's history."""

    version: int
    step: str
    stage: str | None = None
    outcome: str | None = None
    actor_role: str
    actor_id: str
    at: str
    notes: str = ""
    details: dict[str, Any] = Field(default_factory=dict)


class CaseOut(BaseModel):
    """A case as it stands, with its history."""

    case_id: str
    kind: str
    household_id: str | None
    village: str
    reason_code: str
    chain: str
    state: str
    stage: str | None
    stage_roles: list[str]
    due_at: str | None
    filer_role: str
    supporters: int
    outcome: str | None
    effect: str | None
    submitted_at: str
    version: int
    changed: bool = True
    """False when this answer repeats an earlier request's result."""
    merged: bool = False
    """True when the submission joined an open case of the same household."""
    steps: list[StepOut] = Field(default_factory=list)

    @classmethod
    def of(
        cls, case: Case, steps: list[StepOut], *, changed: bool = True, merged: bool = False
    ) -> "CaseOut":
        stage = case.stage
        return cls(
            case_id=case.case_id, kind=case.kind, household_id=case.household_id,
            village=case.village, reason_code=case.reason_code, chain=case.chain,
            state=case.state, stage=None if stage is None else stage["stage"],
            stage_roles=[] if stage is None else list(stage["roles"]), due_at=case.due_at,
            filer_role=case.filer["role"], supporters=len(case.supporters),
            outcome=case.outcome, effect=case.effect, submitted_at=case.submitted_at,
            version=case.version, changed=changed, merged=merged, steps=steps,
        )  # fmt: skip


class CaseRowOut(BaseModel):
    """A case in a list."""

    case_id: str
    kind: str
    household_id: str | None
    village: str
    state: str
    stage: str | None
    due_at: str | None
    supporters: int
    outcome: str | None
    effect: str | None
    submitted_at: str


class OverdueOut(BaseModel):
    """An open case whose stage has outlived its service level."""

    case_id: str
    kind: str
    village: str
    stage: str
    due_at: str
    days_overdue: int
