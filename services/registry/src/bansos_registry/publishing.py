"""What the registry publishes on ``bansos.registry.v1``: domain events → contract events.

Personal data never leaves: ``PersonalDataCorrected`` and ``FingerprintNoted`` are
private, and the public events carry the household id, region, decile and register
facts only.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from bansos_contracts.envelope import Event
from bansos_contracts.registry import (
    FieldChange,
    HouseholdDeactivated,
    HouseholdDecileChanged,
    HouseholdRegistered,
    HouseholdUpdated,
    SnapshotCounts,
    SnapshotImported,
)
from bansos_contracts.values import Region, VulnerabilityFlags
from bansos_libs.outbox import Envelope
from bansos_registry.domain.household import Household
from bansos_registry.domain.snapshot import SnapshotImport

FLAG_FIELDS = (
    "has_elderly",
    "has_disability",
    "has_child_under6",
    "has_school_child",
    "has_pregnant",
)


def _public_value(value: Any) -> Any:
    """Field values as JSON scalars (program lists are written ``PKH;BPNT``)."""
    if isinstance(value, list | tuple):
        return ";".join(str(v) for v in value)
    return value


def to_contract(domain_event: Any, envelope: Envelope) -> Event | None:
    """The public event for a stored registry event, or None for private ones."""
    if isinstance(domain_event, SnapshotImport.Imported):
        return SnapshotImported(
            **{**envelope, "subject_id": domain_event.snapshot_id},
            snapshot_id=domain_event.snapshot_id,
            regency=domain_event.regency,
            as_of=date.fromisoformat(domain_event.as_of),
            counts=SnapshotCounts(**domain_event.counts),
            content_hash=domain_event.content_sha256,
        )
    if isinstance(domain_event, Household.Registered):
        facts = domain_event.facts
        return HouseholdRegistered(
            **{**envelope, "subject_id": domain_event.household_id},
            household_id=domain_event.household_id,
            region=Region.of_village(facts["village_code"]),
            decile=domain_event.decile,
            member_count=facts["member_count"],
            flags=VulnerabilityFlags(**{name: facts[name] for name in FLAG_FIELDS}),
            programs=tuple(facts["programs"]),
            per_capita_income=facts["per_capita_income"],
            kks_bank=facts["bank"],
            pbi_jkn=facts["pbi_jkn"],
            snapshot_id=domain_event.snapshot_id,
            as_of=date.fromisoformat(domain_event.as_of),
        )
    return _change_event(domain_event, envelope)


def _change_event(domain_event: Any, envelope: Envelope) -> Event | None:
    subject = domain_event.household_id
    name = type(domain_event).__qualname__
    if name == "Household.DecileChanged":
        return HouseholdDecileChanged(
            **{**envelope, "subject_id": subject},
            household_id=subject,
            previous_decile=domain_event.previous_decile,
            new_decile=domain_event.new_decile,
            snapshot_id=domain_event.snapshot_id,
            as_of=date.fromisoformat(domain_event.as_of),
            recorded_at=domain_event.recorded_at,
        )
    if name == "Household.Updated":
        return HouseholdUpdated(
            **{**envelope, "subject_id": subject},
            household_id=subject,
            changes={
                field: FieldChange(old=_public_value(old), new=_public_value(new))
                for field, (old, new) in domain_event.changes.items()
            },
            snapshot_id=domain_event.snapshot_id,
        )
    if name == "Household.Reactivated":
        return HouseholdUpdated(
            **{**envelope, "subject_id": subject},
            household_id=subject,
            changes={"active": FieldChange(old=False, new=True)},
            snapshot_id=domain_event.snapshot_id,
        )
    if name == "Household.Deactivated":
        return HouseholdDeactivated(
            **{**envelope, "subject_id": subject},
            household_id=subject,
            reason=domain_event.reason,
            merged_into=domain_event.merged_into,
            snapshot_id=domain_event.snapshot_id,
        )
    return None
