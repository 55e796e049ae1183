"""Events on ``bansos.payout.v1``, produced by the payout service; keyed by household.

A payout id is derived from (program, period, household) by :func:`payout_id`, so one
household can never hold two payouts for one program period.
"""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal
from uuid import UUID

from pydantic import StringConstraints, model_validator

from bansos_contracts import topics
from bansos_contracts.enums import (
    Bank,
    CancellationReason,
    Channel,
    PayoutFailureReason,
    Program,
    ReconciliationOutcome,
    WindowKind,
)
from bansos_contracts.envelope import Event
from bansos_contracts.values import (
    ContractModel,
    HouseholdId,
    Identifier,
    Period,
    Rupiah,
    UtcDateTime,
    period_bounds,
)

__all__ = [
    "CollectionWindow",
    "PayoutCancelled",
    "PayoutDisbursed",
    "PayoutEvent",
    "PayoutFailed",
    "PayoutReconciled",
    "PayoutRecoveryFlagged",
    "PayoutScheduled",
    "payout_id",
]

ShortText = Annotated[str, StringConstraints(min_length=1, max_length=256)]


def payout_id(program: Program, period: str, household_id: str) -> str:
    """The payout id of a household's payout for a program period.

    ``payout_id(Program.BLTS_KESRA, "2025-10..2025-12", "HH1") ==
    "BLTS_KESRA:2025-10..2025-12:HH1"``.
    """
    period_bounds(period)
    return f"{Program(program).value}:{period}:{household_id}"


class PayoutEvent(Event):
    """Base of the events on ``bansos.payout.v1``: one payout of one household."""

    topic: ClassVar[str] = topics.PAYOUT
    source: ClassVar[str] = "payout"
    key_description: ClassVar[str] = "the household id"

    payout_id: Identifier
    """The payout (see :func:`payout_id`)."""
    household_id: HouseholdId
    """The household paid."""

    @property
    def partition_key(self) -> str:
        """The household id."""
        return self.household_id


class CollectionWindow(ContractModel):
    """When and where a household can collect a payout."""

    kind: WindowKind
    """What kind of place."""
    starts_at: UtcDateTime
    """Opening, UTC."""
    ends_at: UtcDateTime
    """Closing, UTC."""
    place: ShortText
    """Where, e.g. ``Balai Desa Sukoharjo`` or ``Kantor Pos Jepara``."""

    @model_validator(mode="after")
    def _ordered(self) -> CollectionWindow:
        if self.ends_at <= self.starts_at:
            raise ValueError("a collection window must end after it starts")
        return self


class PayoutScheduled(PayoutEvent):
    """A payout was assigned a channel, an amount and collection windows."""

    event_type: Literal["PayoutScheduled"] = "PayoutScheduled"
    schema_version: Literal[1] = 1

    program: Program
    """The program paying."""
    period: Period
    """The program period, ``YYYY-MM..YYYY-MM``."""
    amount: Rupiah
    """Total amount for the period in rupiah (BLTS Kesra 2025: 900000)."""
    channel: Channel
    """Bank to the KKS card, or PT Pos."""
    bank: Bank | None = None
    """The paying bank; required for ``BANK_KKS``, null for ``POS``."""
    location: ShortText | None = None
    """The paying office or point, e.g. ``Kantor Pos Jombang``."""
    collection_windows: tuple[CollectionWindow, ...] = ()
    """When and where to collect (``POS``); may be empty for bank credits."""

    @model_validator(mode="after")
    def _bank_matches_channel(self) -> PayoutScheduled:
        if self.channel is Channel.BANK_KKS and self.bank is None:
            raise ValueError("a BANK_KKS payout needs a bank")
        if self.channel is Channel.POS and self.bank is not None:
            raise ValueError("a POS payout has no bank")
        return self


class PayoutDisbursed(PayoutEvent):
    """The household received the money."""

    event_type: Literal["PayoutDisbursed"] = "PayoutDisbursed"
    schema_version: Literal[1] = 1

    channel_reference: ShortText
    """The bank's or PT Pos's transaction reference."""
    at: UtcDateTime
    """When the channel paid, UTC."""
    amount: Rupiah
    """Amount paid in rupiah."""


class PayoutFailed(PayoutEvent):
    """The channel could not pay."""

    event_type: Literal["PayoutFailed"] = "PayoutFailed"
    schema_version: Literal[1] = 1

    reason: PayoutFailureReason
    """Why."""
    detail: Annotated[str, StringConstraints(max_length=1000)] | None = None
    """The channel's own explanation."""
    channel_reference: ShortText | None = None
    """The channel's reference for the failed attempt, if any."""


class PayoutCancelled(PayoutEvent):
    """A scheduled payout was withdrawn before it was paid."""

    event_type: Literal["PayoutCancelled"] = "PayoutCancelled"
    schema_version: Literal[1] = 1

    reason: CancellationReason
    """Why."""
    caused_by: UUID | None
    """The ``event_id`` of the decision that cancelled it (e.g. an ``EligibilityDecided``);
    null only for an administrative cancellation."""


class PayoutReconciled(PayoutEvent):
    """A failed payout was settled in reconciliation, backed by a signed SPTJM."""

    event_type: Literal["PayoutReconciled"] = "PayoutReconciled"
    schema_version: Literal[1] = 1

    outcome: ReconciliationOutcome
    """Returned to the treasury, or reissued."""
    sptjm_reference: ShortText
    """The reference of the SPTJM signed by the village officials."""


class PayoutRecoveryFlagged(PayoutEvent):
    """A paid payout's household became ineligible for the period: the money may have to
    be recovered. The payout itself stays paid; recovery is decided outside this system."""

    event_type: Literal["PayoutRecoveryFlagged"] = "PayoutRecoveryFlagged"
    schema_version: Literal[1] = 1

    reason: CancellationReason
    """What made the household ineligible (as a cancellation would have said)."""
    caused_by: UUID
    """The ``event_id`` of the decision that made it ineligible."""
    amount: Rupiah
    """The amount paid, in rupiah."""
