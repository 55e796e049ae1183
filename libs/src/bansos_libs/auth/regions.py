"""Kemendagri region codes and the scopes they describe.

A region code names one administrative area in the Ministry of Home Affairs (Kemendagri)
hierarchy, written with dots:

========================  ==================  ============
code                      level               example area
========================  ==================  ============
``ID`` (or empty)         national            Indonesia
``35``                    province            Jawa Timur
``35.17``                 regency             Kabupaten Jombang
``35.17.01``              district            a kecamatan
``35.17.01.2001``         village             a desa / kelurahan
========================  ==================  ============

Every part is two digits except the village part, which is four. A code *covers* another
when the other equals it or lies inside it (village ⊂ district ⊂ regency ⊂ province ⊂
national); that is how a staff member's scope is checked against the area they act on.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Final

__all__ = ["NATIONAL_CODE", "InvalidRegionCodeError", "RegionCode", "RegionLevel"]

NATIONAL_CODE: Final = "ID"
"""The canonical text of the national scope (the empty string is accepted too)."""


class RegionLevel(StrEnum):
    """The level of a region in the Kemendagri hierarchy, from the nation down."""

    NATIONAL = "NATIONAL"
    PROVINCE = "PROVINCE"
    REGENCY = "REGENCY"
    DISTRICT = "DISTRICT"
    VILLAGE = "VILLAGE"

    @property
    def depth(self) -> int:
        """How many dotted parts a code of this level has (0 for national, 4 for village)."""
        return _LEVELS.index(self)

    @property
    def label(self) -> str:
        """A short English noun for messages ("village", "regency", ...)."""
        return _LABELS[self]

    @property
    def example(self) -> str:
        """An example code of this level, for error messages."""
        return _EXAMPLES[self]

    @classmethod
    def from_depth(cls, depth: int) -> RegionLevel:
        """The level whose codes have ``depth`` parts (0 to 4)."""
        if not 0 <= depth < len(_LEVELS):
            raise ValueError(f"a region code has 0 to 4 parts, not {depth}")
        return _LEVELS[depth]


_LEVELS: Final[tuple[RegionLevel, ...]] = (
    RegionLevel.NATIONAL,
    RegionLevel.PROVINCE,
    RegionLevel.REGENCY,
    RegionLevel.DISTRICT,
    RegionLevel.VILLAGE,
)
_LABELS: Final[dict[RegionLevel, str]] = {
    RegionLevel.NATIONAL: "national",
    RegionLevel.PROVINCE: "province",
    RegionLevel.REGENCY: "regency",
    RegionLevel.DISTRICT: "district",
    RegionLevel.VILLAGE: "village",
}
_EXAMPLES: Final[dict[RegionLevel, str]] = {
    RegionLevel.NATIONAL: NATIONAL_CODE,
    RegionLevel.PROVINCE: "35",
    RegionLevel.REGENCY: "35.17",
    RegionLevel.DISTRICT: "35.17.01",
    RegionLevel.VILLAGE: "35.17.01.2001",
}
# Digits each part must have, indexed by position (province, regency, district, village).
_PART_WIDTHS: Final[tuple[int, ...]] = (2, 2, 2, 4)
_UNDOTTED_HINTS: Final[dict[int, str]] = {4: "35.17", 6: "35.17.01", 10: "35.17.01.2001"}


class InvalidRegionCodeError(ValueError):
    """A text that is not a valid Kemendagri region code; the message says why."""


def _parse_parts(text: str) -> tuple[str, ...]:
    """Split and validate a region code, returning its parts (empty for national)."""
    if not isinstance(text, str):
        raise InvalidRegionCodeError(f"a region code must be text, not {type(text).__name__}")
    code = text.strip()
    if code == "" or code.upper() == NATIONAL_CODE:
        return ()
    parts = tuple(code.split("."))
    if len(parts) > len(_PART_WIDTHS):
        raise InvalidRegionCodeError(
            f"invalid region code {text!r}: at most 4 parts "
            "(province.regency.district.village, e.g. 35.17.01.2001)"
        )
    if len(parts) == 1 and code.isascii() and code.isdigit() and len(code) in _UNDOTTED_HINTS:
        raise InvalidRegionCodeError(
            f"invalid region code {text!r}: write it with dots, e.g. {_UNDOTTED_HINTS[len(code)]}"
        )
    for position, (part, width) in enumerate(zip(parts, _PART_WIDTHS, strict=False)):
        label = _LEVELS[position + 1].label
        if part == "":
            raise InvalidRegionCodeError(f"invalid region code {text!r}: the {label} part is empty")
        if not (part.isascii() and part.isdigit() and len(part) == width):
            raise InvalidRegionCodeError(
                f"invalid region code {text!r}: the {label} part {part!r} must be {width} digits"
            )
        if int(part) == 0:
            raise InvalidRegionCodeError(
                f"invalid region code {text!r}: the {label} part {part!r} cannot be all zeros"
            )
    return parts


@functools.total_ordering
@dataclass(frozen=True, slots=True, eq=False)
class RegionCode:
    """A validated Kemendagri region code, usable as a scope.

    ``RegionCode("35.17")`` parses and validates (raising :class:`InvalidRegionCodeError` with
    the reason); ``str()`` gives the canonical text (``"ID"`` for the nation). Codes are
    immutable, hashable, equal when they name the same area, and sort parents first.
    """

    code: str
    parts: tuple[str, ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        parts = _parse_parts(self.code)
        object.__setattr__(self, "parts", parts)
        object.__setattr__(self, "code", ".".join(parts) if parts else NATIONAL_CODE)

    @classmethod
    def parse(cls, value: str | RegionCode) -> RegionCode:
        """Return ``value`` as a region code, validating it if it is text."""
        return value if isinstance(value, RegionCode) else cls(value)

    @classmethod
    def national(cls) -> RegionCode:
        """The national scope (all of Indonesia)."""
        return cls(NATIONAL_CODE)

    @classmethod
    def from_parts(cls, *parts: str) -> RegionCode:
        """Build a code from its parts: ``from_parts("35", "17")`` is ``35.17``."""
        return cls(".".join(parts))

    @property
    def level(self) -> RegionLevel:
        """The administrative level of this code."""
        return _LEVELS[len(self.parts)]

    @property
    def is_national(self) -> bool:
        """Whether this is the national scope."""
        return not self.parts

    @property
    def parent(self) -> RegionCode | None:
        """The enclosing region (a village's district, ...); ``None`` for the nation."""
        if not self.parts:
            return None
        return RegionCode.from_parts(*self.parts[:-1])

    def ancestors(self) -> tuple[RegionCode, ...]:
        """Every enclosing region, nearest first, ending with the nation."""
        result: list[RegionCode] = []
        current = self.parent
        while current is not None:
            result.append(current)
            current = current.parent
        return tuple(result)

    def at_level(self, level: RegionLevel) -> RegionCode:
        """This code cut to ``level``: ``35.17.01.2001`` at REGENCY is ``35.17``.

        Raises :class:`InvalidRegionCodeError` when ``level`` is below this code's own level.
        """
        if level.depth > len(self.parts):
            raise InvalidRegionCodeError(
                f"{self.level.label} code {self} has no {level.label} part"
            )
        return RegionCode.from_parts(*self.parts[: level.depth])

    def covers(self, other: RegionCode | str) -> bool:
        """Whether ``other`` equals this region or lies inside it.

        Text is parsed first (an invalid code raises :class:`InvalidRegionCodeError`).
        """
        inner = RegionCode.parse(other)
        depth = len(self.parts)
        return inner.parts[:depth] == self.parts

    def describe(self) -> str:
        """The level and code in words, e.g. ``"regency 35.17"`` or ``"national ID"``."""
        return f"{self.level.label} {self}"

    def __str__(self) -> str:
        return self.code

    def __eq__(self, other: object) -> bool:
        if isinstance(other, RegionCode):
            return self.parts == other.parts
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.parts)

    def __lt__(self, other: object) -> bool:
        if isinstance(other, RegionCode):
            return self.parts < other.parts
        return NotImplemented
