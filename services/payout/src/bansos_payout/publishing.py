"""The payout service's public events: stored ``Payout`` events → ``bansos.payout.v1``.

``Rerouted`` (a bank rejected the credit, PT Pos pays) and ``Reinstated`` (eligible
again) are published as a new ``PayoutScheduled`` of the same payout id: consumers keep
the latest schedule. ``Settled`` and the ``Beneficiary`` and ``Sptjm`` events are private.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bansos_contracts.envelope import Event
from bansos_contracts.payout import (
    CollectionWindow,
    PayoutCancelled,
    PayoutDisbursed,
    PayoutFailed,
    PayoutReconciled,
    PayoutRecoveryFlagged,
    PayoutScheduled,
)
from bansos_libs.outbox import Envelope
from bansos_payout.domain.payout import Payout

__all__ = ["PUBLISHED", "to_contract"]

PUBLISHED = (
    PayoutScheduled,
    PayoutDisbursed,
    PayoutFailed,
    PayoutCancelled,
    PayoutReconciled,
    PayoutRecoveryFlagged,
)


def _scheduled(e: Any, envelope: Envelope, schedule: dict[str, Any]) -> PayoutScheduled:
    return PayoutScheduled(
        **envelope,
        payout_id=e.payout_id,
        household_id=e.household_id,
        program=schedule["program"],
        period=schedule["period"],
        amount=schedule["amount"],
        channel=schedule["channel"],
        bank=schedule["bank"],
        location=schedule["location"],
        collection_windows=tuple(CollectionWindow(**w) for w in schedule["windows"]),
    )


def to_contract(domain_event: Any, envelope: Envelope) -> Event | None:
    """The public event for a stored payout event, or None for private ones."""
    e: Any = domain_event
    if not isinstance(domain_event, Payout.Event):
        return None
    envelope = {**envelope, "subject_id": e.payout_id}
    ids = {"payout_id": e.payout_id, "household_id": e.household_id}
    if isinstance(e, Payout.Scheduled):
        return _scheduled(e, envelope, e.__dict__)
    if isinstance(e, Payout.Rerouted | Payout.Reinstated):
        return _scheduled(e, envelope, e.schedule)
    if isinstance(e, Payout.Disbursed):
        return PayoutDisbursed(
            **envelope, **ids, channel_reference=e.channel_reference,
            at=datetime.fromisoformat(e.at), amount=e.amount,
        )  # fmt: skip
    if isinstance(e, Payout.Failed):
        return PayoutFailed(**envelope, **ids, reason=e.reason, detail=e.detail)
    if isinstance(e, Payout.Cancelled):
        return PayoutCancelled(**envelope, **ids, reason=e.reason, caused_by=e.caused_by)
    if isinstance(e, Payout.RecoveryFlagged):
        return PayoutRecoveryFlagged(
            **envelope, **ids, reason=e.reason, caused_by=e.caused_by, amount=e.amount
        )
    if isinstance(e, Payout.Reconciled):
        return PayoutReconciled(
            **envelope, **ids, outcome=e.outcome, sptjm_reference=e.sptjm_reference
        )
    return None
