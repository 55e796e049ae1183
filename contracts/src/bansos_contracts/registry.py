"""Events on ``bansos.registry.v1``, produced by the registry service (DTSEN households).

Household events are keyed by ``household_id``; :class:`SnapshotImported` by its
``snapshot_id``. None of them carries a NIK, KK number, name or address.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, ClassVar, Literal

from pydantic import Field, StringConstraints, field_validator, model_validator

from bansos_contracts import topics
from bansos_contracts.enums import Bank, DeactivationReason, Program
from bansos_contracts.envelope import Event
from bansos_contracts.values import (
    ContractModel,
    Decile,
    HouseholdId,
    Identifier,
    JsonScalar,
    RegencyCode,
    Region,
    Rupiah,
    Sha256Hex,
    UtcDateTime,
    VulnerabilityFlags,
)

__all__ = [
    "FieldChange",
    "HouseholdDeactivated",
    "HouseholdDecileChanged",
    "HouseholdEvent",
    "HouseholdRegistered",
    "HouseholdUpdated",
    "RegistryEvent",
    "SnapshotCounts",
    "SnapshotImported",
]


class RegistryEvent(Event):
    """Base of the events on ``bansos.registry.v1``."""

    topic: ClassVar[str] = topics.REGISTRY
    source: ClassVar[str] = "registry"
    key_description: ClassVar[str] = "the snapshot id"


class HouseholdEvent(RegistryEvent):
    """A registry event about one household; keyed by ``household_id``."""

    key_description: ClassVar[str] = "the household id"

    household_id: HouseholdId
    """The DTSEN household id."""

    @property
    def partition_key(self) -> str:
        """The household id."""
        return self.household_id


class HouseholdRegistered(HouseholdEvent):
    """A household entered the register from a DTSEN snapshot."""

    event_type: Literal["HouseholdRegistered"] = "HouseholdRegistered"
    schema_version: Literal[1] = 1

    region: Region
    """Where the household lives."""
    decile: Decile
    """Its welfare decile as ranked by BPS."""
    member_count: int = Field(ge=1)
    """Number of members."""
    flags: VulnerabilityFlags
    """Vulnerable members."""
    programs: tuple[Program, ...] = ()
    """Programs the household is currently enrolled in."""
    per_capita_income: Rupiah | None = None
    """Monthly income per member in rupiah, when DTSEN has it."""
    kks_bank: Bank | None = None
    """The bank that issued the household's KKS card, if it has one."""
    pbi_jkn: bool | None = None
    """Registered as PBI-JKN (state-paid health insurance); null when not stated."""
    snapshot_id: Identifier
    """The snapshot the household came from."""
    as_of: date
    """The date the snapshot describes."""


class HouseholdDecileChanged(HouseholdEvent):
    """A household's decile changed between two snapshots (up or down)."""

    event_type: Literal["HouseholdDecileChanged"] = "HouseholdDecileChanged"
    schema_version: Literal[1] = 1

    previous_decile: Decile
    """The decile before."""
    new_decile: Decile
    """The decile now."""
    snapshot_id: Identifier
    """The snapshot that carried the new decile."""
    as_of: date
    """When BPS ranked the household (the snapshot's date)."""
    recorded_at: UtcDateTime
    """When the registry learned of the change."""

    @model_validator(mode="after")
    def _changed(self) -> HouseholdDecileChanged:
        if self.previous_decile == self.new_decile:
            raise ValueError("previous_decile and new_decile are equal: nothing changed")
        return self

    @property
    def direction(self) -> Literal["UP", "DOWN"]:
        """``UP`` when the decile number rose (richer), ``DOWN`` when it fell (poorer)."""
        return "UP" if self.new_decile > self.previous_decile else "DOWN"


class FieldChange(ContractModel):
    """The old and new value of one changed field."""

    old: JsonScalar
    """The value before (null when it was empty)."""
    new: JsonScalar
    """The value after (null when it is now empty)."""


_PERSONAL_FIELD = re.compile(r"nik|kk_number|kks_number|head_name|address", re.IGNORECASE)

ChangedField = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$")]
"""A changed field's name, dotted for sub-fields: ``member_count``, ``region.village``,
``flags.has_elderly``."""


class HouseholdUpdated(HouseholdEvent):
    """Register data of a household other than its decile changed in a snapshot."""

    event_type: Literal["HouseholdUpdated"] = "HouseholdUpdated"
    schema_version: Literal[1] = 1

    changes: dict[ChangedField, FieldChange] = Field(min_length=1)
    """Changed fields by name (``member_count``, ``region.village``, ``flags.has_elderly``,
    ``programs``, ``kks_bank``...) with old and new values. Personal fields (NIK, KK,
    names, addresses) are never listed."""
    snapshot_id: Identifier
    """The snapshot that carried the change."""

    @field_validator("changes")
    @classmethod
    def _no_personal_data(cls, value: dict[str, FieldChange]) -> dict[str, FieldChange]:
        for name in value:
            if _PERSONAL_FIELD.search(name):
                raise ValueError(f"field {name!r} is personal data and must not be published")
        return value


class HouseholdDeactivated(HouseholdEvent):
    """A household left the register."""

    event_type: Literal["HouseholdDeactivated"] = "HouseholdDeactivated"
    schema_version: Literal[1] = 1

    reason: DeactivationReason
    """Why it left."""
    merged_into: HouseholdId | None = None
    """For ``DUPLICATE``: the household it was merged into."""
    snapshot_id: Identifier | None = None
    """The snapshot that caused the deactivation, if one did."""

    @model_validator(mode="after")
    def _merge_target(self) -> HouseholdDeactivated:
        if self.merged_into is not None:
            if self.reason is not DeactivationReason.DUPLICATE:
                raise ValueError("merged_into is only allowed when reason is DUPLICATE")
            if self.merged_into == self.household_id:
                raise ValueError("a household cannot be merged into itself")
        return self


class SnapshotCounts(ContractModel):
    """How the rows of a snapshot were applied."""

    registered: int = Field(ge=0)
    """New households."""
    changed: int = Field(ge=0)
    """Households whose data or decile changed."""
    unchanged: int = Field(ge=0)
    """Households already up to date."""
    deactivated: int = Field(ge=0)
    """Households of the regency missing from the snapshot."""
    rejected: int = Field(ge=0)
    """Rows rejected (see the rejects report)."""


class SnapshotImported(RegistryEvent):
    """A DTSEN snapshot of one regency was imported; keyed by ``snapshot_id``."""

    event_type: Literal["SnapshotImported"] = "SnapshotImported"
    schema_version: Literal[1] = 1

    snapshot_id: Identifier
    """The snapshot's id as given to the import."""
    regency: RegencyCode
    """The regency the snapshot covers."""
    as_of: date
    """The date the snapshot describes."""
    counts: SnapshotCounts
    """What the import did."""
    content_hash: Sha256Hex
    """SHA-256 of the file's bytes."""

    @property
    def partition_key(self) -> str:
        """The snapshot id."""
        return self.snapshot_id
