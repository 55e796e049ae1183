"""The ``Sptjm`` aggregate: the SPTJM a village signed for a program period's failed payouts.

Reconciliation of failed payouts (*rekonsiliasi gagal bayar*) is backed by an SPTJM
(*Surat Pernyataan Tanggung Jawab Mutlak*) signed by the village officials. Its
reference is entered once per village and program period; every reconciliation in that
village must cite it.
"""

from __future__ import annotations

import uuid
from typing import Any

from eventsourcing.domain import Aggregate, event

from bansos_payout.domain.payout import PayoutRefusedError

__all__ = ["SPTJM_NAMESPACE", "Sptjm", "sptjm_uuid"]

SPTJM_NAMESPACE = uuid.UUID("3e8d6b1f-9a2c-4f5e-b7d0-1c4a8e2f6b93")


def sptjm_uuid(program: str, period: str, village: str) -> uuid.UUID:
    """The aggregate id of a village's SPTJM for a program period."""
    return uuid.uuid5(SPTJM_NAMESPACE, f"{program}:{period}:{village}")


class Sptjm(Aggregate):
    """A village's SPTJM reference for one program period."""

    class Entered(Aggregate.Created):
        program: str
        period: str
        village: str
        reference: str
        actor: dict[str, Any]

    @staticmethod
    def create_id(program: str, period: str, village: str, **_: Any) -> uuid.UUID:
        return sptjm_uuid(program, period, village)

    @event(Entered)
    def __init__(
        self, program: str, period: str, village: str, reference: str, actor: dict[str, Any]
    ) -> None:
        self.program = program
        self.period = period
        self.village = village
        self.reference = reference
        self.entered_by = dict(actor)

    def check_same(self, reference: str) -> None:
        """Entering it again is fine only with the same reference."""
        if reference != self.reference:
            raise PayoutRefusedError(
                "SPTJM_ALREADY_ENTERED",
                f"village {self.village} already has SPTJM {self.reference} for"
                f" {self.program} {self.period}",
            )
