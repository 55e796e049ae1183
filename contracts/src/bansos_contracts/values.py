"""Value types shared by the v1 events.

Identifiers, Kemendagri region codes, deciles, rupiah amounts, UTC times, program
periods and the small sub-models (:class:`Region`, :class:`VulnerabilityFlags`) that
several events carry.

**Period format.** A program period is an inclusive range of calendar months written
``YYYY-MM..YYYY-MM``: ``2025-10..2025-12`` is October to December 2025 (the BLTS Kesra
quarter), ``2025-04..2025-06`` the BPNT quarter, ``2025-01..2025-12`` a year and
``2025-11..2025-11`` a single month. The start is never after the end. Use
:func:`make_period`, :func:`quarter_period` and :func:`period_bounds` rather than string
formatting.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

__all__ = [
    "DISTRICT_PATTERN",
    "IDENTIFIER_PATTERN",
    "PERIOD_PATTERN",
    "PROVINCE_PATTERN",
    "REGENCY_PATTERN",
    "REGION_CODE_PATTERN",
    "VILLAGE_PATTERN",
    "Code",
    "ContractModel",
    "Decile",
    "DistrictCode",
    "HouseholdId",
    "Identifier",
    "JsonScalar",
    "Period",
    "ProvinceCode",
    "RegencyCode",
    "Region",
    "RegionCode",
    "Rupiah",
    "Sha256Hex",
    "UtcDateTime",
    "VillageCode",
    "VulnerabilityFlags",
    "make_period",
    "period_bounds",
    "quarter_period",
]


class ContractModel(BaseModel):
    """Base of every contract model: immutable, closed to unknown fields.

    Attribute docstrings become ``description`` in the JSON Schema.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)


# --- region codes (Kemendagri, dotted) -------------------------------------------------

PROVINCE_PATTERN = r"^[0-9]{2}$"
REGENCY_PATTERN = r"^[0-9]{2}\.[0-9]{2}$"
DISTRICT_PATTERN = r"^[0-9]{2}\.[0-9]{2}\.[0-9]{2}$"
VILLAGE_PATTERN = r"^[0-9]{2}\.[0-9]{2}\.[0-9]{2}\.[0-9]{4}$"
REGION_CODE_PATTERN = r"^[0-9]{2}(\.[0-9]{2}(\.[0-9]{2}(\.[0-9]{4})?)?)?$"
"""A region code of any level: province, regency, district or village."""

ProvinceCode = Annotated[str, StringConstraints(pattern=PROVINCE_PATTERN), Field(examples=["35"])]
"""Kemendagri province code, e.g. ``35`` (Jawa Timur)."""
RegencyCode = Annotated[str, StringConstraints(pattern=REGENCY_PATTERN), Field(examples=["35.17"])]
"""Kemendagri regency (kabupaten/kota) code, e.g. ``35.17`` (Jombang)."""
DistrictCode = Annotated[
    str, StringConstraints(pattern=DISTRICT_PATTERN), Field(examples=["35.17.01"])
]
"""Kemendagri district (kecamatan) code, e.g. ``35.17.01``."""
VillageCode = Annotated[
    str, StringConstraints(pattern=VILLAGE_PATTERN), Field(examples=["35.17.01.2001"])
]
"""Kemendagri village (desa/kelurahan) code, e.g. ``35.17.01.2001``."""
RegionCode = Annotated[str, StringConstraints(pattern=REGION_CODE_PATTERN)]
"""A Kemendagri code of any level (province, regency, district or village)."""


class Region(ContractModel):
    """Where a household lives: the four Kemendagri codes, each nested in the one above."""

    province: ProvinceCode
    """Province code, e.g. ``35``."""
    regency: RegencyCode
    """Regency code, e.g. ``35.17``."""
    district: DistrictCode
    """District (kecamatan) code, e.g. ``35.17.01``."""
    village: VillageCode
    """Village (desa/kelurahan) code, e.g. ``35.17.01.2001``."""

    @model_validator(mode="after")
    def _nested(self) -> Region:
        if not self.regency.startswith(self.province + "."):
            raise ValueError(f"regency {self.regency} is not in province {self.province}")
        if not self.district.startswith(self.regency + "."):
            raise ValueError(f"district {self.district} is not in regency {self.regency}")
        if not self.village.startswith(self.district + "."):
            raise ValueError(f"village {self.village} is not in district {self.district}")
        return self

    @classmethod
    def of_village(cls, village: str) -> Region:
        """The region of a village code: ``Region.of_village("35.17.01.2001")``."""
        parts = village.split(".")
        return cls(
            province=parts[0],
            regency=".".join(parts[:2]),
            district=".".join(parts[:3]),
            village=village,
        )


# --- identifiers ----------------------------------------------------------------------

IDENTIFIER_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]*$"

Identifier = Annotated[
    str, StringConstraints(min_length=1, max_length=128, pattern=IDENTIFIER_PATTERN)
]
"""An opaque id: letters, digits and ``. _ : -``, at most 128 characters."""
HouseholdId = Annotated[
    str,
    StringConstraints(min_length=1, max_length=128, pattern=IDENTIFIER_PATTERN),
    Field(description="The DTSEN household_id of the snapshot file, unchanged."),
]
"""The DTSEN ``household_id`` (a register number, not personal data)."""
Code = Annotated[str, StringConstraints(max_length=64, pattern=r"^[A-Z][A-Z0-9_]*$")]
"""An upper-case machine code such as ``DECILE_ABOVE_MAX``."""
Sha256Hex = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
"""A SHA-256 digest as 64 lower-case hex digits."""

# --- numbers --------------------------------------------------------------------------

Decile = Annotated[int, Field(ge=1, le=10)]
"""Welfare decile (desil): 1 is the poorest tenth, 10 the richest."""
Rupiah = Annotated[int, Field(ge=0)]
"""An amount of money: a whole number of rupiah, never negative."""

JsonScalar = str | int | Annotated[float, Field(allow_inf_nan=False)] | bool | None
"""A JSON scalar value (finite numbers only) or null."""

# --- time -----------------------------------------------------------------------------


def _to_utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


UtcDateTime = Annotated[AwareDatetime, AfterValidator(_to_utc)]
"""A timezone-aware instant, normalised to UTC; naive datetimes are rejected.

Serialised as ISO-8601 with a ``Z`` suffix, e.g. ``2025-11-21T08:00:00Z``.
"""

# --- periods --------------------------------------------------------------------------

PERIOD_PATTERN = r"^[0-9]{4}-(0[1-9]|1[0-2])\.\.[0-9]{4}-(0[1-9]|1[0-2])$"
_PERIOD_RE = re.compile(r"^([0-9]{4})-(0[1-9]|1[0-2])\.\.([0-9]{4})-(0[1-9]|1[0-2])$")


def period_bounds(period: str) -> tuple[tuple[int, int], tuple[int, int]]:
    """Parse a period into ``((start_year, start_month), (end_year, end_month))``.

    Raises :class:`ValueError` when the text is not ``YYYY-MM..YYYY-MM`` or the start is
    after the end.
    """
    match = _PERIOD_RE.fullmatch(period)
    if match is None:
        raise ValueError(f"period {period!r} is not YYYY-MM..YYYY-MM (e.g. 2025-10..2025-12)")
    start = (int(match[1]), int(match[2]))
    end = (int(match[3]), int(match[4]))
    if start > end:
        raise ValueError(f"period {period!r} starts after it ends")
    return start, end


def make_period(start_year: int, start_month: int, end_year: int, end_month: int) -> str:
    """Format a period: ``make_period(2025, 10, 2025, 12) == "2025-10..2025-12"``."""
    text = f"{start_year:04d}-{start_month:02d}..{end_year:04d}-{end_month:02d}"
    period_bounds(text)
    return text


def quarter_period(year: int, quarter: int) -> str:
    """The period of a calendar quarter: ``quarter_period(2025, 4) == "2025-10..2025-12"``."""
    if not 1 <= quarter <= 4:
        raise ValueError(f"quarter must be 1..4, not {quarter}")
    first = 3 * quarter - 2
    return make_period(year, first, year, first + 2)


def _check_period(value: str) -> str:
    period_bounds(value)
    return value


Period = Annotated[
    str,
    StringConstraints(pattern=PERIOD_PATTERN),
    AfterValidator(_check_period),
    Field(
        description="Inclusive range of months YYYY-MM..YYYY-MM, e.g. 2025-10..2025-12.",
        examples=["2025-10..2025-12"],
    ),
]
"""A program period: an inclusive month range ``YYYY-MM..YYYY-MM``."""

# --- vulnerability --------------------------------------------------------------------


class VulnerabilityFlags(ContractModel):
    """Vulnerable members of a household, as recorded in DTSEN."""

    has_elderly: bool = False
    """A member aged 60 or over."""
    has_disability: bool = False
    """A member with a disability."""
    has_child_under6: bool = False
    """A child under six years old."""
    has_school_child: bool = False
    """A child of school age."""
    has_pregnant: bool = False
    """A pregnant member."""

    @property
    def any_set(self) -> bool:
        """Whether any vulnerability flag is set."""
        return any(self.model_dump().values())
