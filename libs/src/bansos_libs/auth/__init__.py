"""Authorisation shared by every bansos service: who is calling, and may they do this.

* :mod:`~bansos_libs.auth.regions` — :class:`RegionCode`, Kemendagri codes as scopes.
* :mod:`~bansos_libs.auth.roles` — :class:`Role` and the region level each must have.
* :mod:`~bansos_libs.auth.principal` — :class:`Principal`, :class:`Forbidden`,
  :class:`Unauthenticated`.
* :mod:`~bansos_libs.auth.tokens` — :class:`TokenIssuer` (development) and
  :class:`TokenVerifier` (development key or OIDC).
* :mod:`~bansos_libs.auth.settings` — :class:`AuthSettings` (``BANSOS_AUTH_*``) and
  factories.
* :mod:`~bansos_libs.auth.fastapi` — the FastAPI dependency; import it explicitly (it is
  the only module that needs FastAPI).
"""

from bansos_libs.auth.keys import load_or_create_dev_key
from bansos_libs.auth.principal import AuthError, Forbidden, Principal, Unauthenticated
from bansos_libs.auth.regions import InvalidRegionCodeError, RegionCode, RegionLevel
from bansos_libs.auth.roles import (
    ROLE_SCOPE_LEVELS,
    Role,
    RoleRegionMismatchError,
    UnknownRoleError,
)
from bansos_libs.auth.settings import (
    AuthSettings,
    issuer_from_settings,
    verifier_from_settings,
)
from bansos_libs.auth.tokens import TokenIssuer, TokenVerifier

__all__ = [
    "ROLE_SCOPE_LEVELS",
    "AuthError",
    "AuthSettings",
    "Forbidden",
    "InvalidRegionCodeError",
    "Principal",
    "RegionCode",
    "RegionLevel",
    "Role",
    "RoleRegionMismatchError",
    "TokenIssuer",
    "TokenVerifier",
    "Unauthenticated",
    "UnknownRoleError",
    "issuer_from_settings",
    "load_or_create_dev_key",
    "verifier_from_settings",
]
