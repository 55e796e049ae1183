"""Events on ``bansos.eligibility.v1``, produced by the eligibility service.

:class:`EligibilityDecided` is keyed by ``household_id``; :class:`BeneficiaryListApproved`
by ``list_id``. A decision records everything an auditor needs to re-check it: the
ruleset (id and content hash) and the inputs it was applied to.
"""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import Field, StringConstraints, model_validator

from bansos_contracts import topics
from bansos_contracts.enums import (
    CaseEffect,
    CaseKind,
    CaseOutcome,
    Channel,
    EligibilityStatus,
    ExclusionReason,
    ListStage,
    Program,
)
from bansos_contracts.envelope import Actor, Event
from bansos_contracts.values import (
    Code,
    ContractModel,
    Decile,
    HouseholdId,
    Identifier,
    JsonScalar,
    Period,
    Rupiah,
    Sha256Hex,
    VillageCode,
    VulnerabilityFlags,
)

__all__ = [
    "BeneficiaryListApproved",
    "CaseOutcomeInput",
    "DecisionInputs",
    "EligibilityDecided",
    "EligibilityEvent",
    "Exclusion",
    "PaymentTerms",
    "ReasonCode",
]


class EligibilityEvent(Event):
    """Base of the events on ``bansos.eligibility.v1``."""

    topic: ClassVar[str] = topics.ELIGIBILITY
    source: ClassVar[str] = "eligibility"


InputName = Annotated[str, StringConstraints(max_length=64, pattern=r"^[a-z][a-z0-9_]*$")]
"""The name of an extra decision input, in snake case."""


class ReasonCode(ContractModel):
    """One reason for a decision, e.g. ``{"code": "DECILE_ABOVE_MAX", "detail": "6>4"}``."""

    code: Code
    """Machine-readable reason code."""
    detail: Annotated[str, StringConstraints(max_length=500)] | None = None
    """The values that triggered it, for people."""


class CaseOutcomeInput(ContractModel):
    """A resolved case that a decision took into account."""

    case_id: Identifier
    kind: CaseKind
    outcome: CaseOutcome
    effect: CaseEffect = CaseEffect.NONE


class DecisionInputs(ContractModel):
    """The facts a decision was computed from, as eligibility knew them at the time.

    Inputs a future ruleset needs that have no field here go into ``extra``.
    """

    decile: Decile | None
    """The household's decile; null when it is not (or no longer) in the register."""
    flags: VulnerabilityFlags | None = None
    """Vulnerable members, when known."""
    programs: tuple[Program, ...] = ()
    """Programs the household is enrolled in (for no-double-benefit rules)."""
    active: bool
    """Whether the household is active in the register."""
    per_capita_income: Rupiah | None = None
    """Monthly income per member, when known."""
    village: VillageCode | None = None
    """The household's village, when known."""
    case_outcomes: tuple[CaseOutcomeInput, ...] = ()
    """Resolved cases about the household."""
    extra: dict[InputName, JsonScalar] = Field(default_factory=dict)
    """Further named inputs (e.g. ``poverty_line``), for rules these fields do not cover."""


class EligibilityDecided(EligibilityEvent):
    """Eligibility of one household for one program period was decided (or re-decided)."""

    event_type: Literal["EligibilityDecided"] = "EligibilityDecided"
    schema_version: Literal[1] = 1
    key_description: ClassVar[str] = "the household id"

    household_id: HouseholdId
    """The household decided on."""
    program: Program
    """The program."""
    period: Period
    """The program period, ``YYYY-MM..YYYY-MM``."""
    status: EligibilityStatus
    """The decision."""
    previous_status: EligibilityStatus | None = None
    """The previous decision for the same program period; null for the first."""
    reason_codes: tuple[ReasonCode, ...] = ()
    """Why; at least one reason when ``INELIGIBLE``."""
    ruleset_id: Identifier
    """The ruleset applied, e.g. ``BLTS_KESRA-2025``."""
    ruleset_hash: Sha256Hex
    """SHA-256 of the ruleset's canonical content: which version exactly."""
    inputs: DecisionInputs
    """The inputs the ruleset was applied to."""

    @model_validator(mode="after")
    def _explained(self) -> EligibilityDecided:
        if self.status is EligibilityStatus.INELIGIBLE and not self.reason_codes:
            raise ValueError("an INELIGIBLE decision needs at least one reason code")
        return self

    @property
    def partition_key(self) -> str:
        """The household id."""
        return self.household_id


class Exclusion(ContractModel):
    """A household the village left off a list, and why."""

    household_id: HouseholdId
    reason: ExclusionReason
    note: Annotated[str, StringConstraints(max_length=500)] | None = None
    """Free text, e.g. the Musdesus minute."""


class PaymentTerms(ContractModel):
    """What the ruleset says each household on an approved list is paid, and how.

    Households already enrolled in one of ``existing_recipients_of`` are paid through
    ``existing_channel`` (their KKS card); the others (expansion recipients) through
    ``new_channel``.
    """

    amount: Rupiah = Field(gt=0)
    """Per household for the whole period, paid at once (BLTS Kesra 2025: 900000)."""
    existing_recipients_of: tuple[Program, ...] = ()
    """Programs whose current recipients keep their channel (e.g. ``PKH``, ``BPNT``)."""
    existing_channel: Channel
    """The channel of existing recipients."""
    new_channel: Channel
    """The channel of new recipients."""


class BeneficiaryListApproved(EligibilityEvent):
    """A village's beneficiary list for one program period was verified or approved."""

    event_type: Literal["BeneficiaryListApproved"] = "BeneficiaryListApproved"
    schema_version: Literal[1] = 1
    key_description: ClassVar[str] = "the list id"

    list_id: Identifier
    """The list."""
    program: Program
    """The program."""
    period: Period
    """The program period, ``YYYY-MM..YYYY-MM``."""
    village: VillageCode
    """The village the list covers."""
    household_ids: tuple[HouseholdId, ...]
    """The households on the list, each once."""
    stage: ListStage
    """How far the list has been approved."""
    exclusions: tuple[Exclusion, ...] = ()
    """Households left off, with reasons."""
    approved_by: Actor
    """The official who approved (village head, regency officer)."""
    ruleset_id: Identifier | None = None
    """The ruleset of the program period, set on ``REGENCY_APPROVED`` lists."""
    ruleset_hash: Sha256Hex | None = None
    """Its content hash."""
    payment: PaymentTerms | None = None
    """What each listed household is paid, from the ruleset; set on ``REGENCY_APPROVED``
    lists of programs that pay money (null for e.g. PBI-JKN, or when the ruleset does not
    state an amount)."""

    @model_validator(mode="after")
    def _consistent(self) -> BeneficiaryListApproved:
        listed = set(self.household_ids)
        if len(listed) != len(self.household_ids):
            raise ValueError("household_ids lists a household more than once")
        excluded = [e.household_id for e in self.exclusions]
        if len(set(excluded)) != len(excluded):
            raise ValueError("exclusions lists a household more than once")
        both = listed.intersection(excluded)
        if both:
            raise ValueError(f"households both listed and excluded: {sorted(both)}")
        return self

    @property
    def partition_key(self) -> str:
        """The list id."""
        return self.list_id
