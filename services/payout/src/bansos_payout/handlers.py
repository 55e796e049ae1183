"""What the payout service does with each consumed event (the consumer's handler).

- ``bansos.registry.v1``: note the household's village, programs and KKS bank (they
  choose the channel); schedule any approved list entry that was waiting for them.
- ``bansos.eligibility.v1``:
  - a regency-approved list that pays money → one ``Payout`` per listed household;
  - a decision that makes a household ineligible → its payout is cancelled (or, if
    already paid, flagged for recovery); eligible again → a cancelled payout is
    reinstated.

Payout ids are derived from (program, period, household) and every source is taken
once by its version, so re-reading any topic from offset 0 changes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from bansos_contracts.eligibility import BeneficiaryListApproved, EligibilityDecided
from bansos_contracts.enums import CancellationReason, ListStage
from bansos_contracts.envelope import Event
from bansos_contracts.payout import payout_id
from bansos_contracts.registry import (
    HouseholdDeactivated,
    HouseholdEvent,
    HouseholdRegistered,
    HouseholdUpdated,
)
from bansos_libs.eventstore import UnitOfWork
from bansos_payout.channels import assign_channel, windows_of
from bansos_payout.domain.beneficiary import Beneficiary, Entry, Facts, beneficiary_uuid
from bansos_payout.domain.payout import Payout, Window, payout_uuid
from bansos_payout.schedule import Schedule

__all__ = ["NoScheduleError", "PayoutHandler", "cancellation_reason", "fold_facts"]

Schedules = Mapping[tuple[str, str], Schedule]


class NoScheduleError(LookupError):
    """An approved list pays money but its program period has no payout schedule."""


class PayoutHandler:
    """The consumer's handler: one consumed contract event → beneficiaries and payouts."""

    def __init__(self, schedules: Schedules) -> None:
        self.schedules = dict(schedules)
        self._windows: dict[tuple[str, str, str], list[Window]] = {}

    def windows(self, program: str, period: str, village: str) -> list[Window]:
        """A village's collection windows for a program period (computed once)."""
        key = (program, period, village)
        if key not in self._windows:
            self._windows[key] = windows_of(self.schedules[(program, period)], village)
        return self._windows[key]

    def prefetch(self, events: Sequence[Event], uow: UnitOfWork) -> None:
        """Load the beneficiaries and payouts a whole batch touches, with one query."""
        ids = []
        for event in events:
            if isinstance(event, BeneficiaryListApproved):
                if event.stage is ListStage.REGENCY_APPROVED and event.payment is not None:
                    for household in event.household_ids:
                        ids.append(beneficiary_uuid(household))
                        ids.append(payout_uuid(payout_id(event.program, event.period, household)))
            elif isinstance(event, EligibilityDecided):
                if (event.program.value, event.period) in self.schedules:
                    ids.append(beneficiary_uuid(event.household_id))
                    ids.append(
                        payout_uuid(payout_id(event.program, event.period, event.household_id))
                    )
            elif isinstance(event, HouseholdEvent):
                ids.append(beneficiary_uuid(event.household_id))
        uow.preload(ids)

    def __call__(self, event: Event, uow: UnitOfWork) -> None:
        if isinstance(event, BeneficiaryListApproved):
            self.list_approved(event, uow)
        elif isinstance(event, EligibilityDecided):
            self.decided(event, uow)
        elif isinstance(event, HouseholdEvent):
            self.registry_changed(event, uow)

    # -- registry ----------------------------------------------------------------------

    def registry_changed(self, event: HouseholdEvent, uow: UnitOfWork) -> None:
        """Fold the registry event into the household's facts; schedule what waited."""
        household_id = event.household_id
        beneficiary = uow.get(beneficiary_uuid(household_id), Beneficiary)
        if beneficiary is not None and beneficiary.knows_registry_version(event.subject_version):
            return
        facts = fold_facts(beneficiary.facts if beneficiary else None, event)
        if facts is None or (beneficiary is not None and facts == beneficiary.facts):
            return
        if beneficiary is None:  # first seen: one event with the facts
            beneficiary = Beneficiary(
                household_id=household_id, facts=facts, registry_version=event.subject_version
            )
        else:
            beneficiary.record_facts(facts, event.subject_version)
        for entry in list(beneficiary.awaiting.values()):
            self._schedule(uow, beneficiary, entry)
            beneficiary.take_entry(entry["list_id"])
        uow.collect(beneficiary)

    # -- eligibility -------------------------------------------------------------------

    def list_approved(self, event: BeneficiaryListApproved, uow: UnitOfWork) -> None:
        """One payout per household of a regency-approved list that pays money."""
        if event.stage is not ListStage.REGENCY_APPROVED or event.payment is None:
            return
        key = (event.program.value, event.period)
        if key not in self.schedules:
            raise NoScheduleError(
                f"list {event.list_id} pays Rp{event.payment.amount:,} but there is no payout"
                f" schedule for {key[0]} {key[1]}: add one to BANSOS_SCHEDULES_DIR and"
                " re-deliver this event from the dead-letter topic"
            )
        entry: Entry = {
            "list_id": event.list_id,
            "program": key[0],
            "period": key[1],
            "village": event.village,
            "ruleset_id": event.ruleset_id,
            "payment": event.payment.model_dump(mode="json"),
        }
        for household_id in event.household_ids:
            the_payout_id = payout_id(event.program, event.period, household_id)
            if uow.get(payout_uuid(the_payout_id), Payout):
                continue
            beneficiary = uow.get(beneficiary_uuid(household_id), Beneficiary)
            beneficiary = beneficiary or Beneficiary(household_id=household_id)
            if beneficiary.facts is None:
                if beneficiary.await_facts(entry):
                    uow.collect(beneficiary)
                continue
            self._schedule(uow, beneficiary, entry, known_new=True)

    def decided(self, event: EligibilityDecided, uow: UnitOfWork) -> None:
        """Cancel or reinstate the household's payout when its status changes."""
        key = (event.program.value, event.period)
        schedule = self.schedules.get(key)
        if schedule is None:
            return
        beneficiary = uow.get(beneficiary_uuid(event.household_id), Beneficiary)
        beneficiary = beneficiary or Beneficiary(household_id=event.household_id)
        reason = cancellation_reason(event)
        if not beneficiary.note_decision(
            program=key[0], period=key[1], status=event.status.value, reason=reason,
            decision_id=str(event.event_id), version=event.subject_version,
        ):  # fmt: skip
            return
        uow.collect(beneficiary)
        payout = uow.get(
            payout_uuid(payout_id(event.program, event.period, event.household_id)), Payout
        )
        if payout is None:
            return
        if event.status.value == "INELIGIBLE":
            changed = payout.cancel(reason=reason, caused_by=str(event.event_id))
        else:
            changed = payout.reinstate(
                caused_by=str(event.event_id),
                windows=self.windows(key[0], key[1], payout.village),
            )
        if changed:
            uow.collect(payout)

    def _schedule(
        self, uow: UnitOfWork, beneficiary: Beneficiary, entry: Entry, *, known_new: bool = False
    ) -> None:
        program, period, household_id = entry["program"], entry["period"], beneficiary.household_id
        if not known_new and uow.get(payout_uuid(payout_id(program, period, household_id)), Payout):
            return
        facts = beneficiary.facts
        assert facts is not None
        channel, bank, location, windows = assign_channel(
            entry["payment"], facts, self.windows(program, period, entry["village"])
        )
        payout = Payout.schedule(
            program=program, period=period, household_id=household_id,
            village=entry["village"], list_id=entry["list_id"], ruleset_id=entry["ruleset_id"],
            amount=entry["payment"]["amount"], channel=channel, bank=bank, location=location,
            windows=windows,
        )  # fmt: skip
        decision = beneficiary.decision(program, period)
        if decision is not None and decision["status"] == "INELIGIBLE":
            # The household became ineligible after the list was approved (the decision
            # overtook the list on another partition): schedule, then cancel, on record.
            payout.cancel(reason=decision["reason"], caused_by=decision["decision_id"])
        uow.collect(payout)


def cancellation_reason(event: EligibilityDecided) -> str:
    """Why a payout is cancelled by this decision, from its reason codes."""
    codes = {reason.code for reason in event.reason_codes}
    if "REFUSED" in codes:
        return CancellationReason.OPTED_OUT.value
    if "DEACTIVATED" in codes:
        return CancellationReason.HOUSEHOLD_DEACTIVATED.value
    if "EXCLUDED_BY_CASE" in codes:
        return CancellationReason.EXCLUDED_FROM_LIST.value
    return CancellationReason.INELIGIBLE.value


def fold_facts(current: Facts | None, event: HouseholdEvent) -> Facts | None:
    """The facts the payout uses after one registry event (None: household unknown)."""
    if isinstance(event, HouseholdRegistered):
        return {
            "village": event.region.village,
            "programs": sorted(p.value for p in event.programs),
            "bank": None if event.kks_bank is None else event.kks_bank.value,
            "active": True,
        }
    if current is None:
        return None
    facts = dict(current)
    if isinstance(event, HouseholdDeactivated):
        facts["active"] = False
    elif isinstance(event, HouseholdUpdated):
        for field, change in event.changes.items():
            facts |= _updated(field, change.new)
    return facts


def _updated(field: str, new: Any) -> dict[str, Any]:
    if field in ("village_code", "region.village"):
        return {"village": new}
    if field == "programs":
        names = new.split(";") if isinstance(new, str) else list(new or ())
        return {"programs": sorted(p for p in names if p)}
    if field in ("bank", "kks_bank"):
        return {"bank": new or None}
    if field == "active":
        return {"active": bool(new)}
    return {}
