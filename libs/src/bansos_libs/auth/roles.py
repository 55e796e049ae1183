"""The roles of the people and systems that use bansos, and the scope each must have.

Every role is bound to the region level(s) its scope may have: a village operator acts on
one village, a regency officer (Dinas Sosial) on one regency, a ministry officer on the
whole nation. A token whose region does not fit its role is refused when minted and when
verified.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final

from bansos_libs.auth.regions import RegionCode, RegionLevel

__all__ = ["ROLE_SCOPE_LEVELS", "Role", "RoleRegionMismatchError", "UnknownRoleError"]


class UnknownRoleError(ValueError):
    """A text that names no :class:`Role`; the message lists the known roles."""


class RoleRegionMismatchError(ValueError):
    """A region whose level does not fit the role it is paired with."""


class Role(StrEnum):
    """Who is acting. The value is the upper-case name used in tokens and events."""

    CITIZEN = "CITIZEN"
    """A member of the public (Cek Bansos): checks status, proposes, objects, refuses."""
    VILLAGE_OPERATOR = "VILLAGE_OPERATOR"
    """Desa/kelurahan staff acting on one village (verification, Musdesus outcomes)."""
    PKH_FACILITATOR = "PKH_FACILITATOR"
    """Pendamping PKH: field checks of cases and registrations in the district they serve."""
    TKSK = "TKSK"
    """Tenaga Kesejahteraan Sosial Kecamatan: the district social worker."""
    DISTRICT_OFFICER = "DISTRICT_OFFICER"
    """Kecamatan staff."""
    REGENCY_OFFICER = "REGENCY_OFFICER"
    """Dinas Sosial of a regency/city: reviews cases, approves beneficiary lists."""
    PROVINCE_OFFICER = "PROVINCE_OFFICER"
    """Provincial social office staff."""
    MINISTRY_OFFICER = "MINISTRY_OFFICER"
    """Kemensos / Pusdatin staff, national scope; owns the register."""
    AUDITOR = "AUDITOR"
    """Read-only access to history, at national, province or regency scope."""
    CHANNEL_OPERATOR = "CHANNEL_OPERATOR"
    """A payout channel (PT Pos counter application or a Himbara bank) reporting collections."""
    SYSTEM = "SYSTEM"
    """Service-to-service calls and automated processes; national scope."""

    @classmethod
    def parse(cls, value: str | Role) -> Role:
        """The role named by ``value``, case-insensitively (``regency-officer`` is accepted).

        Raises :class:`UnknownRoleError` naming the known roles.
        """
        if isinstance(value, Role):
            return value
        if not isinstance(value, str):
            raise UnknownRoleError(f"a role must be text, not {type(value).__name__}")
        key = value.strip().upper().replace("-", "_").replace(" ", "_")
        try:
            return cls(key)
        except ValueError:
            known = ", ".join(role.value for role in cls)
            raise UnknownRoleError(f"unknown role {value!r}; known roles: {known}") from None

    @property
    def scope_levels(self) -> frozenset[RegionLevel]:
        """The region levels a scope of this role may have."""
        return ROLE_SCOPE_LEVELS[self]

    @property
    def is_read_only(self) -> bool:
        """Whether this role may only read (the auditor)."""
        return self is Role.AUDITOR

    def fits(self, region: RegionCode | str) -> bool:
        """Whether ``region``'s level is one this role may be scoped at."""
        return RegionCode.parse(region).level in ROLE_SCOPE_LEVELS[self]

    def check_region(self, region: RegionCode | str) -> RegionCode:
        """Return ``region`` parsed, or raise :class:`RoleRegionMismatchError` saying why it does
        not fit this role (an invalid code raises ``InvalidRegionCodeError``)."""
        code = RegionCode.parse(region)
        levels = ROLE_SCOPE_LEVELS[self]
        if code.level not in levels:
            phrases = [_scope_phrase(level) for level in sorted(levels, key=lambda lv: lv.depth)]
            wanted = (
                phrases[0] if len(phrases) == 1 else ", ".join(phrases[:-1]) + " or " + phrases[-1]
            )
            raise RoleRegionMismatchError(
                f"region {code.describe()} is not valid for role {self.value}: "
                f"it must be scoped to {wanted}"
            )
        return code


def _scope_phrase(level: RegionLevel) -> str:
    if level is RegionLevel.NATIONAL:
        return f"the nation ({level.example})"
    return f"a {level.label} (e.g. {level.example})"


ROLE_SCOPE_LEVELS: Final[dict[Role, frozenset[RegionLevel]]] = {
    Role.CITIZEN: frozenset({RegionLevel.VILLAGE}),
    Role.VILLAGE_OPERATOR: frozenset({RegionLevel.VILLAGE}),
    Role.PKH_FACILITATOR: frozenset({RegionLevel.DISTRICT}),
    Role.TKSK: frozenset({RegionLevel.DISTRICT}),
    Role.DISTRICT_OFFICER: frozenset({RegionLevel.DISTRICT}),
    Role.REGENCY_OFFICER: frozenset({RegionLevel.REGENCY}),
    Role.PROVINCE_OFFICER: frozenset({RegionLevel.PROVINCE}),
    Role.MINISTRY_OFFICER: frozenset({RegionLevel.NATIONAL}),
    Role.AUDITOR: frozenset({RegionLevel.NATIONAL, RegionLevel.PROVINCE, RegionLevel.REGENCY}),
    Role.CHANNEL_OPERATOR: frozenset(
        {RegionLevel.NATIONAL, RegionLevel.PROVINCE, RegionLevel.REGENCY, RegionLevel.DISTRICT}
    ),
    Role.SYSTEM: frozenset({RegionLevel.NATIONAL}),
}
"""The region levels each role may be scoped at (see ``DOMAIN.md``)."""


STAFF_ROLES: Final[frozenset[Role]] = frozenset(
    {
        Role.VILLAGE_OPERATOR,
        Role.PKH_FACILITATOR,
        Role.TKSK,
        Role.DISTRICT_OFFICER,
        Role.REGENCY_OFFICER,
        Role.PROVINCE_OFFICER,
        Role.MINISTRY_OFFICER,
        Role.AUDITOR,
        Role.SYSTEM,
    }
)
"""Everyone who may read household data within their region: staff, auditors, services
(not citizens, not payout channels)."""
