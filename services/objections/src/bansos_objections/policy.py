"""Who may do what with cases, by role and region. Every refusal says why.

The chain of each kind (``chains.yaml``) names who reviews each stage; this module
names who may file, upload evidence and read. Region checks use the principal's scope:
a village operator acts on their village, a facilitator on their district, a regency
officer on their regency, a ministry officer everywhere. A citizen files for their own
household or about households in their own village, and reads only what they filed.
"""

from __future__ import annotations

from typing import Final

from bansos_contracts.enums import CaseKind
from bansos_libs.auth import Forbidden, Principal, Role
from bansos_libs.auth.roles import STAFF_ROLES

__all__ = [
    "FILERS",
    "READERS",
    "UPLOADERS",
    "check_filer",
    "check_reader",
    "check_uploader",
]

_FIELD: Final = frozenset({Role.VILLAGE_OPERATOR, Role.PKH_FACILITATOR, Role.TKSK})

FILERS: Final[dict[CaseKind, frozenset[Role]]] = {
    CaseKind.PROPOSAL: frozenset({Role.CITIZEN, *_FIELD}),
    CaseKind.OBJECTION: frozenset({Role.CITIZEN, *_FIELD}),
    CaseKind.COMPLAINT: frozenset({Role.CITIZEN, *_FIELD, Role.DISTRICT_OFFICER}),
    CaseKind.REFUSAL: frozenset({Role.CITIZEN, Role.VILLAGE_OPERATOR}),
}
"""Who may file each kind of case (staff on behalf of a family in their region)."""

UPLOADERS: Final = frozenset({Role.CITIZEN, *_FIELD, Role.DISTRICT_OFFICER})
"""Who may upload evidence: those who file cases and those who check them in the field."""

READERS: Final = STAFF_ROLES
"""Who may read the cases of their region (and list overdue ones); citizens read their own."""


def check_filer(principal: Principal, kind: CaseKind) -> None:
    """Refuse a principal whose role may not file ``kind``."""
    principal.require(FILERS[kind], action=f"file a {kind.value}")


def check_uploader(principal: Principal) -> None:
    """Refuse a principal whose role may not upload evidence."""
    principal.require(UPLOADERS, action="upload evidence")


def check_reader(principal: Principal, village: str, filer_id: str) -> None:
    """Refuse a principal who may not read a case of ``village`` filed by ``filer_id``."""
    if principal.role is Role.CITIZEN:
        if principal.subject != filer_id:
            raise Forbidden("a citizen may only read the cases they filed")
        return
    principal.require(READERS, region=village, action="read this case")
