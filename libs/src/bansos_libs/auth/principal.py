"""Who is calling: the authenticated principal, and the two ways a call is refused."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from bansos_libs.auth.regions import RegionCode
from bansos_libs.auth.roles import Role

__all__ = ["AuthError", "Forbidden", "Principal", "Unauthenticated", "looks_like_nik_or_kk"]

_SIXTEEN_DIGITS: Final = re.compile(r"(?<!\d)\d{16}(?!\d)")


def looks_like_nik_or_kk(text: str) -> bool:
    """Whether ``text`` contains a 16-digit number (a NIK or a KK number, personal data
    that never belongs in a token, a log line or an event's actor)."""
    return _SIXTEEN_DIGITS.search(text) is not None


class AuthError(Exception):
    """Base of the authentication and authorisation errors; ``reason`` says why plainly."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Unauthenticated(AuthError):  # noqa: N818 (named by the API brief)
    """The caller could not be identified: no token, or a token that is not acceptable
    (expired, bad signature, unknown role, region not valid for the role, ...)."""


class Forbidden(AuthError):  # noqa: N818 (named by the API brief)
    """The caller is known but may not do this: wrong role, or outside their region."""


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated caller: who (``subject``), as what (``role``), where (``region``).

    Construction checks that the region's level fits the role (raising
    ``RoleRegionMismatchError``) and that the subject is not a NIK/KK number (``ValueError``),
    so a principal in hand is always coherent.
    """

    subject: str
    role: Role
    region: RegionCode
    name: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.subject, str) or not self.subject.strip():
            raise ValueError("a principal needs a non-empty subject")
        if looks_like_nik_or_kk(self.subject):
            raise ValueError("the subject looks like a NIK/KK number; use a pseudonymous id")
        role = Role.parse(self.role)
        object.__setattr__(self, "role", role)
        object.__setattr__(self, "region", role.check_region(self.region))

    @classmethod
    def system(cls, service: str) -> Principal:
        """The principal of a service acting on its own (consumers, schedulers)."""
        return cls(subject=service, role=Role.SYSTEM, region=RegionCode.national(), name=service)

    def can_act_on(self, region_code: RegionCode | str) -> bool:
        """Whether ``region_code`` equals this principal's region or lies inside it."""
        return self.region.covers(region_code)

    def require(
        self,
        roles: Iterable[Role | str] | Role | None = None,
        *,
        region: RegionCode | str | None = None,
        action: str | None = None,
    ) -> Principal:
        """Check that this principal has one of ``roles`` and that its scope covers
        ``region``; return the principal, or raise :class:`Forbidden` saying why.

        ``action`` (e.g. ``"approve a beneficiary list"``) makes the reason more specific.
        ``None`` skips a check. An invalid region code raises ``InvalidRegionCodeError``.
        """
        doing = action if action else "do this"
        if roles is not None:
            allowed = _role_set(roles)
            if self.role not in allowed:
                names = ", ".join(sorted(role.value for role in allowed)) or "nobody"
                raise Forbidden(
                    f"role {self.role.value} may not {doing}: allowed roles are {names}"
                )
        if region is not None:
            target = RegionCode.parse(region)
            if not self.region.covers(target):
                what = f"{doing} on {target}" if action else f"act on {target}"
                raise Forbidden(
                    f"role {self.role.value} for {self.region} may not {what}: outside your region"
                )
        return self

    def actor(self) -> dict[str, str | None]:
        """The ``actor`` of an event envelope: ``{"role", "id", "region"}``; the region is
        null for national scope, as the envelope has no code for the whole country."""
        region = None if self.region == RegionCode.national() else str(self.region)
        return {"role": self.role.value, "id": self.subject, "region": region}


def _role_set(roles: Iterable[Role | str] | Role) -> frozenset[Role]:
    if isinstance(roles, Role):
        return frozenset({roles})
    if isinstance(roles, str):
        return frozenset({Role.parse(roles)})
    return frozenset(Role.parse(role) for role in roles)
