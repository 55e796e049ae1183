"""The ``Household`` aggregate: one DTSEN household and every change to it.

A household enters the register from a snapshot and changes only through later
snapshots: its decile (up or down, with the snapshot that said so, when BPS ranked it
and when we learned it), its other register facts, its personal data, and its
deactivation. Methods are commands; each records past-tense events. Personal data
(KK, head NIK and name, address, KKS card number) lives only in this service's
encrypted event store; the public events carry none of it.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from eventsourcing.domain import Aggregate, event

HOUSEHOLD_NAMESPACE = uuid.UUID("f4c7a3f1-5a1e-4d55-9a0e-2d1c6b7e8a90")

FACT_FIELDS: tuple[str, ...] = (
    "province_code",
    "regency_code",
    "district_code",
    "village_code",
    "member_count",
    "per_capita_income",
    "has_elderly",
    "has_disability",
    "has_child_under6",
    "has_school_child",
    "has_pregnant",
    "pbi_jkn",
    "programs",
    "bank",
)
"""Register facts other than the decile: public, compared field by field."""

PERSONAL_FIELDS: tuple[str, ...] = ("kk_number", "head_nik", "head_name", "address", "kks_number")
"""Personal data: kept encrypted in this service, never published."""

DEACTIVATION_REASONS = frozenset({"DECEASED", "MOVED", "DUPLICATE", "REMOVED_FROM_DTSEN"})


class HouseholdError(ValueError):
    """A command that the household's state does not allow."""


def household_uuid(household_id: str) -> uuid.UUID:
    """The aggregate id of a DTSEN household id (the same id everywhere, forever)."""
    return uuid.uuid5(HOUSEHOLD_NAMESPACE, household_id)


class Household(Aggregate):
    """A household of the register, identified by its DTSEN household id."""

    class Registered(Aggregate.Created):
        household_id: str
        decile: int
        facts: dict[str, Any]
        personal: dict[str, Any]
        nik_hash: str
        fingerprint: str
        snapshot_id: str
        as_of: str
        recorded_at: datetime

    @staticmethod
    def create_id(household_id: str, **_: Any) -> uuid.UUID:
        return household_uuid(household_id)

    @event(Registered)
    def __init__(
        self,
        household_id: str,
        decile: int,
        facts: dict[str, Any],
        personal: dict[str, Any],
        nik_hash: str,
        fingerprint: str,
        snapshot_id: str,
        as_of: str,
        recorded_at: datetime,
    ) -> None:
        self.household_id = household_id
        self.decile = decile
        self.facts = dict(facts)
        self.personal = dict(personal)
        self.nik_hash = nik_hash
        self.fingerprint = fingerprint
        self.active = True
        self.deactivation_reason: str | None = None
        self.last_snapshot_id = snapshot_id

    # --- commands -------------------------------------------------------------------

    def apply_snapshot(
        self,
        *,
        decile: int,
        facts: dict[str, Any],
        personal: dict[str, Any],
        nik_hash: str,
        fingerprint: str,
        snapshot_id: str,
        as_of: str,
        recorded_at: datetime,
    ) -> None:
        """Bring the household in line with its row in a later snapshot."""
        if fingerprint == self.fingerprint and self.active:
            return
        if not self.active:
            self._reactivated(
                household_id=self.household_id, snapshot_id=snapshot_id, fingerprint=fingerprint
            )
        if decile != self.decile:
            self._decile_changed(
                household_id=self.household_id,
                previous_decile=self.decile,
                new_decile=decile,
                snapshot_id=snapshot_id,
                as_of=as_of,
                recorded_at=recorded_at,
                fingerprint=fingerprint,
            )
        changes = {
            name: [self.facts.get(name), facts.get(name)]
            for name in FACT_FIELDS
            if self.facts.get(name) != facts.get(name)
        }
        if changes:
            self._updated(
                household_id=self.household_id,
                changes=changes,
                snapshot_id=snapshot_id,
                fingerprint=fingerprint,
            )
        if personal != self.personal or nik_hash != self.nik_hash:
            self._personal_data_corrected(
                household_id=self.household_id,
                personal=personal,
                nik_hash=nik_hash,
                snapshot_id=snapshot_id,
                fingerprint=fingerprint,
            )
        if fingerprint != self.fingerprint:  # e.g. only the line's formatting changed
            self._fingerprint_noted(
                household_id=self.household_id, fingerprint=fingerprint, snapshot_id=snapshot_id
            )

    def deactivate(self, *, reason: str, snapshot_id: str, merged_into: str | None = None) -> None:
        """Take the household out of the active register."""
        if reason not in DEACTIVATION_REASONS:
            raise HouseholdError(f"unknown deactivation reason {reason!r}")
        if not self.active:
            return
        if merged_into is not None and reason != "DUPLICATE":
            raise HouseholdError("only a DUPLICATE household is merged into another")
        self._deactivated(
            household_id=self.household_id,
            reason=reason,
            merged_into=merged_into,
            snapshot_id=snapshot_id,
        )

    # --- events ---------------------------------------------------------------------

    @event("DecileChanged")
    def _decile_changed(
        self,
        household_id: str,
        previous_decile: int,
        new_decile: int,
        snapshot_id: str,
        as_of: str,
        recorded_at: datetime,
        fingerprint: str,
    ) -> None:
        self.decile = new_decile
        self.fingerprint = fingerprint
        self.last_snapshot_id = snapshot_id

    @event("Updated")
    def _updated(
        self, household_id: str, changes: dict[str, list[Any]], snapshot_id: str, fingerprint: str
    ) -> None:
        for name, (_old, new) in changes.items():
            self.facts[name] = new
        self.fingerprint = fingerprint
        self.last_snapshot_id = snapshot_id

    @event("PersonalDataCorrected")
    def _personal_data_corrected(
        self,
        household_id: str,
        personal: dict[str, Any],
        nik_hash: str,
        snapshot_id: str,
        fingerprint: str,
    ) -> None:
        self.personal = dict(personal)
        self.nik_hash = nik_hash
        self.fingerprint = fingerprint

    @event("FingerprintNoted")
    def _fingerprint_noted(self, household_id: str, fingerprint: str, snapshot_id: str) -> None:
        self.fingerprint = fingerprint

    @event("Deactivated")
    def _deactivated(
        self, household_id: str, reason: str, merged_into: str | None, snapshot_id: str
    ) -> None:
        self.active = False
        self.deactivation_reason = reason
        self.last_snapshot_id = snapshot_id

    @event("Reactivated")
    def _reactivated(self, household_id: str, snapshot_id: str, fingerprint: str) -> None:
        self.active = True
        self.deactivation_reason = None
        self.last_snapshot_id = snapshot_id
