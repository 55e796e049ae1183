"""Events on ``bansos.objections.v1``, produced by the objections service (citizen cases).

Every event of a case carries the case's ``household_id`` when it has one, and is then
keyed by it; a case without a household (a proposal for a family not yet in the
register) is keyed by its ``case_id``. A producer keeps ``household_id`` the same for
every event of one case, so the case stays on one partition.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, ClassVar, Literal

from pydantic import Field, StringConstraints, model_validator

from bansos_contracts import topics
from bansos_contracts.enums import (
    CaseEffect,
    CaseKind,
    CaseOutcome,
    Program,
    ReviewOutcome,
    ReviewStage,
)
from bansos_contracts.envelope import Event
from bansos_contracts.values import (
    Code,
    ContractModel,
    HouseholdId,
    Identifier,
    Sha256Hex,
    UtcDateTime,
    VillageCode,
)

__all__ = [
    "CaseEvent",
    "CaseResolved",
    "CaseReviewed",
    "CaseSubmitted",
    "Evidence",
    "GeoPoint",
]

Text = Annotated[str, StringConstraints(max_length=4000)]


class CaseEvent(Event):
    """Base of the events on ``bansos.objections.v1``: one case, maybe one household."""

    topic: ClassVar[str] = topics.OBJECTIONS
    source: ClassVar[str] = "objections"
    key_description: ClassVar[str] = "the household id, or the case id when there is none"

    case_id: Identifier
    """The case."""
    household_id: HouseholdId | None = None
    """The household the case is about; null for a proposal of an unregistered family."""

    @property
    def partition_key(self) -> str:
        """The household id, or the case id when the case has no household."""
        return self.household_id if self.household_id is not None else self.case_id


class GeoPoint(ContractModel):
    """A WGS84 location."""

    latitude: float = Field(ge=-90, le=90)
    longitude: float = Field(ge=-180, le=180)


class Evidence(ContractModel):
    """One piece of evidence, referred to by the hash of its content (never the content)."""

    content_hash: Sha256Hex
    """SHA-256 of the uploaded file."""
    media_type: Annotated[str, StringConstraints(max_length=128)] | None = None
    """The file's media type, e.g. ``image/jpeg``."""
    label: Annotated[str, StringConstraints(max_length=128)] | None = None
    """What it shows, e.g. ``HOUSE_FRONT``."""
    location: GeoPoint | None = None
    """Where it was taken."""


class CaseSubmitted(CaseEvent):
    """A citizen or staff member opened a case (usulan, sanggahan, menolak, pengaduan)."""

    event_type: Literal["CaseSubmitted"] = "CaseSubmitted"
    schema_version: Literal[1] = 1

    kind: CaseKind
    """What kind of case."""
    village: VillageCode | None = None
    """The village that reviews the case (for scoping); null when not yet known."""
    programs: tuple[Program, ...] = ()
    """The programs the case concerns; empty when all or unspecified."""
    reason_code: Code
    """Machine-readable reason, e.g. ``NOT_POOR``, ``SELF_SUFFICIENT``, ``MISSING``."""
    reason_text: Text = ""
    """The submitter's own words."""
    evidence: tuple[Evidence, ...] = ()
    """Photos and documents, by content hash, with coordinates."""
    location: GeoPoint | None = None
    """Where the family lives (a self-registration's GPS coordinates)."""

    @model_validator(mode="after")
    def _household_needed(self) -> CaseSubmitted:
        if self.kind in (CaseKind.OBJECTION, CaseKind.REFUSAL) and self.household_id is None:
            raise ValueError(f"a {self.kind.value} case needs a household_id")
        return self


class CaseReviewed(CaseEvent):
    """One stage of the verification chain reviewed a case."""

    event_type: Literal["CaseReviewed"] = "CaseReviewed"
    schema_version: Literal[1] = 1

    stage: ReviewStage
    """Which stage reviewed it."""
    outcome: ReviewOutcome
    """What the stage concluded."""
    notes: Text = ""
    """The reviewer's notes."""
    visited_at: UtcDateTime | None = None
    """Field check: when the household was visited."""
    location: GeoPoint | None = None
    """Field check: where the visit took place."""
    evidence: tuple[Evidence, ...] = ()
    """Field check: photos taken on the visit, by content hash."""
    meeting_date: date | None = None
    """Musdesus: the day of the village deliberation."""
    attendance: int | None = Field(default=None, ge=1)
    """Musdesus: how many people took part."""
    next_stage: ReviewStage | None = None
    """The stage the case goes to now; null when this review ended the chain."""
    due_at: UtcDateTime | None = None
    """When the next stage's service level ends."""


class CaseResolved(CaseEvent):
    """A case was closed with a final outcome and its effect on the household."""

    event_type: Literal["CaseResolved"] = "CaseResolved"
    schema_version: Literal[1] = 1

    kind: CaseKind
    """The kind of the case, repeated so consumers need not keep case state."""
    outcome: CaseOutcome
    """The final outcome."""
    effect: CaseEffect = CaseEffect.NONE
    """What the outcome asks of the rest of the system; ``NONE`` unless upheld."""
    programs: tuple[Program, ...] = ()
    """The programs the effect applies to; empty means all programs."""
    notes: Text = ""
    """Why it was resolved so."""

    @model_validator(mode="after")
    def _effect_needs_upheld(self) -> CaseResolved:
        if self.outcome is not CaseOutcome.UPHELD and self.effect is not CaseEffect.NONE:
            raise ValueError(f"a {self.outcome.value} case can only have effect NONE")
        return self
