"""The ``Payout`` aggregate: one household's payment for one program period.

Its id is derived from (program, period, household), so no replay or redelivery can
ever create a second one. Its life::

    SCHEDULED ──collected / credited──► DISBURSED ──ineligible──► (flagged for recovery)
        │  ▲ │
        │  │ └──bank rejected──► SCHEDULED again, by POS (a new attempt, a new code)
        │  └──eligible again── CANCELLED ◄──ineligible── SCHEDULED
        └──last window ended──► FAILED ──SPTJM──► RECONCILED

Every refusal is a :class:`PayoutRefusedError` whose ``code`` says why in one word and whose
message says it for people. Repeating an accepted report (same channel reference)
changes nothing and is not an error: channels retry.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from eventsourcing.domain import Aggregate, event

from bansos_contracts.payout import payout_id as derive_payout_id

__all__ = [
    "PAYOUT_NAMESPACE",
    "Payout",
    "PayoutRefusedError",
    "PayoutState",
    "payout_uuid",
]

PAYOUT_NAMESPACE = uuid.UUID("0b6f1c8e-52a4-4d7e-9f3b-7a1d2c5e8f40")

Window = dict[str, str]
"""``{"kind", "starts_at", "ends_at", "place"}``, instants as ISO 8601 UTC."""
CodeCheck = Callable[[str, int, str], bool]
"""``(payout_id, attempt, code) -> valid``: the signer's check, a port to the domain."""


class PayoutState:
    """The states a payout can be in (strings, as stored)."""

    SCHEDULED = "SCHEDULED"
    DISBURSED = "DISBURSED"
    CANCELLED = "CANCELLED"
    FAILED = "FAILED"
    RECONCILED = "RECONCILED"


class PayoutRefusedError(ValueError):
    """A report or command the payout's state does not allow; ``code`` says why."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        """``ALREADY_COLLECTED``, ``OUTSIDE_WINDOW``, ``CANCELLED``, ``INVALID_CODE``, …"""


@functools.lru_cache(maxsize=262_144)
def payout_uuid(payout_id: str) -> uuid.UUID:
    """The aggregate id of a payout."""
    return uuid.uuid5(PAYOUT_NAMESPACE, payout_id)


class Payout(Aggregate):
    """One household's payout for one program period."""

    class Scheduled(Aggregate.Created):
        payout_id: str
        household_id: str
        program: str
        period: str
        village: str
        list_id: str
        ruleset_id: str | None
        amount: int
        channel: str
        bank: str | None
        location: str | None
        windows: list[Window]

    class Rerouted(Aggregate.Event):
        """The bank rejected the credit: the payout goes to PT Pos (a new attempt)."""

        payout_id: str
        household_id: str
        attempt: int
        schedule: dict[str, Any]
        """The payout's schedule now (as in ``Scheduled``): published as ``PayoutScheduled``."""
        rejection: dict[str, Any]

    class Disbursed(Aggregate.Event):
        payout_id: str
        household_id: str
        channel: str
        channel_reference: str
        at: str
        amount: int
        source: str
        """``COUNTER`` (PT Pos application), ``SETTLEMENT`` (a settlement file) or
        ``BANK_RESULT`` (a bank's result file)."""

    class Settled(Aggregate.Event):
        """A settlement file confirmed the payment (the third way of reconciliation)."""

        payout_id: str
        household_id: str
        channel_reference: str
        at: str
        amount: int
        file_sha256: str

    class Cancelled(Aggregate.Event):
        payout_id: str
        household_id: str
        reason: str
        caused_by: str | None

    class Reinstated(Aggregate.Event):
        """Eligible again before the period closed: scheduled again (a new attempt)."""

        payout_id: str
        household_id: str
        attempt: int
        caused_by: str
        schedule: dict[str, Any]
        """The payout's schedule now (as in ``Scheduled``): published as ``PayoutScheduled``."""

    class RecoveryFlagged(Aggregate.Event):
        payout_id: str
        household_id: str
        reason: str
        caused_by: str
        amount: int

    class Failed(Aggregate.Event):
        payout_id: str
        household_id: str
        reason: str
        detail: str | None

    class Reconciled(Aggregate.Event):
        payout_id: str
        household_id: str
        outcome: str
        sptjm_reference: str

    @staticmethod
    def create_id(payout_id: str, **_: Any) -> uuid.UUID:
        return payout_uuid(payout_id)

    @event(Scheduled)
    def __init__(
        self,
        payout_id: str,
        household_id: str,
        program: str,
        period: str,
        village: str,
        list_id: str,
        ruleset_id: str | None,
        amount: int,
        channel: str,
        bank: str | None,
        location: str | None,
        windows: list[Window],
    ) -> None:
        self.payout_id = payout_id
        self.household_id = household_id
        self.program = program
        self.period = period
        self.village = village
        self.amount = amount
        self.channel = channel
        self.bank = bank
        self.credit_bank = bank
        """The KKS bank first instructed (kept after a fallback to PT Pos)."""
        self.location = location
        self.windows = list(windows)
        self.attempt = 1
        self.state = PayoutState.SCHEDULED
        self.disbursed: dict[str, Any] | None = None
        self.settled: dict[str, Any] | None = None
        self.cancelled: dict[str, Any] | None = None
        self.recovery: list[str] = []
        self.outcome: str | None = None

    @classmethod
    def schedule(
        cls,
        *,
        program: str,
        period: str,
        household_id: str,
        village: str,
        list_id: str,
        ruleset_id: str | None,
        amount: int,
        channel: str,
        bank: str | None,
        location: str | None,
        windows: Sequence[Window],
    ) -> Payout:
        """A new payout, its id derived from (program, period, household)."""
        return cls(
            payout_id=derive_payout_id(program, period, household_id),  # type: ignore[arg-type]
            household_id=household_id,
            program=program,
            period=period,
            village=village,
            list_id=list_id,
            ruleset_id=ruleset_id,
            amount=amount,
            channel=channel,
            bank=bank,
            location=location,
            windows=list(windows),
        )

    # -- reports from the channels ---------------------------------------------------

    def collect(
        self,
        *,
        code: str,
        check: CodeCheck,
        amount: int,
        at: datetime,
        reference: str,
        source: str,
    ) -> bool:
        """PT Pos paid the household at the counter; False when already recorded so.

        Checked against the payout's state, the collection code of its current attempt,
        its windows and its amount.
        """
        if self._same_disbursement(reference, amount):
            return False
        self._require_payable("POS", at)
        if not check(self.payout_id, self.attempt, code):
            raise PayoutRefusedError(
                "INVALID_CODE",
                f"payout {self.payout_id}: the collection code is not valid for it (a code"
                " from another payout, an earlier letter, or mistyped)",
            )
        self._require_amount(amount)
        self._disbursed(
            payout_id=self.payout_id,
            household_id=self.household_id,
            channel=self.channel, channel_reference=reference, at=at.isoformat(),
            amount=amount, source=source,
        )  # fmt: skip
        return True

    def record_bank_result(
        self,
        *,
        credited: bool,
        amount: int,
        reference: str,
        at: datetime,
        rejection: dict[str, Any] | None,
        fallback: tuple[str | None, Sequence[Window]] | None,
    ) -> bool:
        """The bank credited the KKS card, or rejected the credit and the payout falls back
        to PT Pos (``fallback``: location and windows). False when already recorded."""
        if credited and self._same_disbursement(reference, amount):
            return False
        if not credited and self.channel == "POS" and self.attempt > 1:
            return False  # the rejection was already taken: the payout went to PT Pos
        if self.channel != "BANK_KKS":
            raise PayoutRefusedError(
                "WRONG_CHANNEL", f"payout {self.payout_id} is paid by {self.channel}, not a bank"
            )
        self._require_state(PayoutState.SCHEDULED)
        if credited:
            self._require_amount(amount)
            self._disbursed(
            payout_id=self.payout_id,
            household_id=self.household_id,
                channel=self.channel, channel_reference=reference, at=at.isoformat(),
                amount=amount, source="BANK_RESULT",
            )  # fmt: skip
            return True
        if fallback is None:
            raise PayoutRefusedError("NO_FALLBACK", f"payout {self.payout_id}: no PT Pos schedule")
        location, windows = fallback
        self._rerouted(
            payout_id=self.payout_id,
            household_id=self.household_id,
            attempt=self.attempt + 1,
            schedule=self._schedule_now(
                channel="POS", bank=None, location=location, windows=windows
            ),
            rejection=dict(rejection or {}, bank_reference=reference),
        )
        return True

    def settle(
        self, *, code: str | None, check: CodeCheck, amount: int, at: datetime, reference: str,
        file_sha256: str,
    ) -> bool:  # fmt: skip
        """A settlement file line says the channel paid this payout.

        When no report came before, the line is the report (and is checked like one).
        When one did, the line must agree with it; a disagreement is refused, so the
        mismatch shows in the reconciliation report and nothing changes.
        """
        if self.settled is not None:
            if self.settled["channel_reference"] == reference and self.settled["amount"] == amount:
                return False
            if self.settled["amount"] != amount:
                raise PayoutRefusedError(
                    "AMOUNT_DIFFERS",
                    f"payout {self.payout_id}: this line says Rp{amount:,} but it was settled"
                    f" for Rp{self.settled['amount']:,}",
                )
            raise PayoutRefusedError(
                "ALREADY_SETTLED",
                f"payout {self.payout_id} was already settled as"
                f" {self.settled['channel_reference']} for Rp{self.settled['amount']:,}",
            )
        if self.state == PayoutState.SCHEDULED and self.channel == "POS":
            self.collect(
                code=code or "", check=check, amount=amount, at=at, reference=reference,
                source="SETTLEMENT",
            )  # fmt: skip
        elif self.state == PayoutState.SCHEDULED:
            raise PayoutRefusedError(
                "NOT_REPORTED",
                f"payout {self.payout_id} is paid by bank and the bank has not reported it"
                " credited",
            )
        self._require_state(PayoutState.DISBURSED)
        assert self.disbursed is not None
        if amount != self.disbursed["amount"]:
            raise PayoutRefusedError(
                "AMOUNT_DIFFERS",
                f"payout {self.payout_id}: settled Rp{amount:,} but the channel reported"
                f" Rp{self.disbursed['amount']:,}",
            )
        if reference != self.disbursed["channel_reference"]:
            raise PayoutRefusedError(
                "REFERENCE_DIFFERS",
                f"payout {self.payout_id}: settled as {reference[:40]} but the channel reported"
                f" {self.disbursed['channel_reference']}",
            )
        self._settled(
            payout_id=self.payout_id,
            household_id=self.household_id,
            channel_reference=reference,
            at=at.astimezone(UTC).isoformat(),
            amount=amount,
            file_sha256=file_sha256,
        )
        return True

    # -- decisions ---------------------------------------------------------------------

    def cancel(self, *, reason: str, caused_by: str | None) -> bool:
        """The household became ineligible: cancel before payment, flag after."""
        if self.state == PayoutState.SCHEDULED:
            self._cancelled(
                payout_id=self.payout_id,
                household_id=self.household_id,
                reason=reason,
                caused_by=caused_by,
            )
            return True
        if self.state == PayoutState.DISBURSED and caused_by and caused_by not in self.recovery:
            self._recovery_flagged(
                payout_id=self.payout_id,
                household_id=self.household_id,
                reason=reason,
                caused_by=caused_by,
                amount=self.amount,
            )
            return True
        return False

    def reinstate(self, *, caused_by: str, windows: Sequence[Window]) -> bool:
        """Eligible again: a payout cancelled by a decision is scheduled again."""
        if self.state != PayoutState.CANCELLED or self.cancelled is None:
            return False
        if self.cancelled["caused_by"] is None:  # an administrative cancellation stays
            return False
        self._reinstated(
            payout_id=self.payout_id,
            household_id=self.household_id,
            attempt=self.attempt + 1,
            caused_by=caused_by,
            schedule=self._schedule_now(windows=windows if self.channel == "POS" else self.windows),
        )
        return True

    # -- the end of the period ---------------------------------------------------------

    def expire(self, *, now: datetime, last_window_end: datetime) -> bool:
        """After the last window, an unpaid payout fails as ``NOT_COLLECTED``."""
        if self.state != PayoutState.SCHEDULED or now < last_window_end:
            return False
        detail = (
            f"no credit result from {self.bank} by {last_window_end.isoformat()}"
            if self.channel == "BANK_KKS"
            else f"not collected by {last_window_end.isoformat()}"
        )
        self._failed(
            payout_id=self.payout_id,
            household_id=self.household_id,
            reason="NOT_COLLECTED",
            detail=detail,
        )
        return True

    def reconcile(self, *, outcome: str, sptjm_reference: str, village_sptjm: str | None) -> bool:
        """Close a failed payout, backed by the SPTJM entered for its village."""
        if self.state == PayoutState.RECONCILED and self.outcome == outcome:
            return False
        self._require_state(PayoutState.FAILED)
        if village_sptjm is None:
            raise PayoutRefusedError(
                "NO_SPTJM",
                f"no SPTJM has been entered for village {self.village}: enter it first",
            )
        if sptjm_reference != village_sptjm:
            raise PayoutRefusedError(
                "SPTJM_DIFFERS",
                f"SPTJM {sptjm_reference[:40]} is not the one entered for village"
                f" {self.village} ({village_sptjm})",
            )
        self._reconciled(
            payout_id=self.payout_id,
            household_id=self.household_id,
            outcome=outcome,
            sptjm_reference=sptjm_reference,
        )
        return True

    # -- checks ------------------------------------------------------------------------

    def _same_disbursement(self, reference: str, amount: int) -> bool:
        d = self.disbursed
        return d is not None and d["channel_reference"] == reference and d["amount"] == amount

    def _require_state(self, wanted: str) -> None:
        if self.state == wanted:
            return
        if self.state == PayoutState.DISBURSED and self.disbursed is not None:
            d = self.disbursed
            raise PayoutRefusedError(
                "ALREADY_COLLECTED",
                f"payout {self.payout_id} was already paid at {d['at']} ({d['channel_reference']})",
            )
        if self.state == PayoutState.CANCELLED and self.cancelled is not None:
            raise PayoutRefusedError(
                "CANCELLED",
                f"payout {self.payout_id} was cancelled ({self.cancelled['reason']}): the"
                " household is no longer eligible",
            )
        raise PayoutRefusedError(
            self.state, f"payout {self.payout_id} is {self.state}, not {wanted}"
        )

    def _require_payable(self, channel: str, at: datetime) -> None:
        self._require_state(PayoutState.SCHEDULED)
        if self.channel != channel:
            raise PayoutRefusedError(
                "WRONG_CHANNEL", f"payout {self.payout_id} is paid by {self.channel}, not {channel}"
            )
        stamp = at.astimezone(UTC).isoformat()
        if not any(
            datetime.fromisoformat(w["starts_at"]) <= at < datetime.fromisoformat(w["ends_at"])
            for w in self.windows
        ):
            opened = ", ".join(f"{w['starts_at']}..{w['ends_at']}" for w in self.windows)
            raise PayoutRefusedError(
                "OUTSIDE_WINDOW",
                f"payout {self.payout_id}: collected at {stamp}, outside its windows ({opened})",
            )

    def _require_amount(self, amount: int) -> None:
        if amount != self.amount:
            raise PayoutRefusedError(
                "AMOUNT_DIFFERS",
                f"payout {self.payout_id} is Rp{self.amount:,}, not Rp{amount:,}",
            )

    # -- events ------------------------------------------------------------------------

    def _schedule_now(self, **changes: Any) -> dict[str, Any]:
        now = {
            "program": self.program,
            "period": self.period,
            "amount": self.amount,
            "channel": self.channel,
            "bank": self.bank,
            "location": self.location,
            "windows": list(self.windows),
        }
        return now | {k: (list(v) if k == "windows" else v) for k, v in changes.items()}

    def _apply_schedule(self, schedule: dict[str, Any]) -> None:
        self.channel = schedule["channel"]
        self.bank = schedule["bank"]
        self.location = schedule["location"]
        self.windows = list(schedule["windows"])

    @event(Rerouted)
    def _rerouted(
        self, payout_id: str, household_id: str, attempt: int, schedule: dict[str, Any],
        rejection: dict[str, Any],
    ) -> None:  # fmt: skip
        self.attempt = attempt
        self._apply_schedule(schedule)

    @event(Disbursed)
    def _disbursed(
        self,
        payout_id: str,
        household_id: str,
        channel: str,
        channel_reference: str,
        at: str,
        amount: int,
        source: str,
    ) -> None:
        self.state = PayoutState.DISBURSED
        self.disbursed = {"channel_reference": channel_reference, "at": at, "amount": amount}

    @event(Settled)
    def _settled(
        self,
        payout_id: str,
        household_id: str,
        channel_reference: str,
        at: str,
        amount: int,
        file_sha256: str,
    ) -> None:
        self.settled = {"channel_reference": channel_reference, "at": at, "amount": amount}

    @event(Cancelled)
    def _cancelled(
        self, payout_id: str, household_id: str, reason: str, caused_by: str | None
    ) -> None:
        self.state = PayoutState.CANCELLED
        self.cancelled = {"reason": reason, "caused_by": caused_by}

    @event(Reinstated)
    def _reinstated(
        self,
        payout_id: str,
        household_id: str,
        attempt: int,
        caused_by: str,
        schedule: dict[str, Any],
    ) -> None:
        self.state = PayoutState.SCHEDULED
        self.attempt = attempt
        self.cancelled = None
        self._apply_schedule(schedule)

    @event(RecoveryFlagged)
    def _recovery_flagged(
        self, payout_id: str, household_id: str, reason: str, caused_by: str, amount: int
    ) -> None:
        self.recovery = [*self.recovery, caused_by]

    @event(Failed)
    def _failed(self, payout_id: str, household_id: str, reason: str, detail: str | None) -> None:
        self.state = PayoutState.FAILED

    @event(Reconciled)
    def _reconciled(
        self, payout_id: str, household_id: str, outcome: str, sptjm_reference: str
    ) -> None:
        self.state = PayoutState.RECONCILED
        self.outcome = outcome
