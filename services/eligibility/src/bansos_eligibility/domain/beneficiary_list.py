"""The ``BeneficiaryList`` aggregate: one village's list for one program period.

The eligible households of a village form its list. The village verifies it in Musdesus
(each household ``VALID`` or excluded as ``DECEASED``, ``MOVED``, ``NOT_FOUND`` or
``DUPLICATE``); the regency then approves the verified list. Only households on a
regency-approved list may be paid. The village may verify again until the regency has
approved; an approved list is final. Whoever verified a list cannot approve it.

Who may act on which region is checked by the service layer; the rules of the list
itself (stages, four eyes, completeness) are checked here.
"""

from __future__ import annotations

import uuid
from collections import Counter
from typing import Any

from eventsourcing.domain import Aggregate, event

from bansos_contracts.enums import ExclusionReason, ListStage, Program

LIST_NAMESPACE = uuid.UUID("5d2b8a4c-1e7f-4b3a-9c6d-8e0f2a4b6c13")

__all__ = ["BeneficiaryList", "ListError", "list_id_for", "list_uuid"]


class ListError(ValueError):
    """A list command that the list's state does not allow; the message says why."""

    def __init__(self, message: str, *, conflict: bool = False) -> None:
        super().__init__(message)
        self.conflict = conflict
        """True when the request was valid but the list has moved on (HTTP 409)."""


def list_id_for(program: Program | str, period: str, village: str) -> str:
    """The list id of a village's list for a program period, e.g.
    ``BLTS_KESRA:2025-10..2025-12:35.17.01.2001``."""
    return f"{Program(program).value}:{period}:{village}"


def list_uuid(list_id: str) -> uuid.UUID:
    """The aggregate id of a list."""
    return uuid.uuid5(LIST_NAMESPACE, list_id)


Exclusions = dict[str, dict[str, Any]]
"""household id → ``{"reason": ExclusionReason, "note": str | None}``."""


class BeneficiaryList(Aggregate):
    """A village's beneficiary list for one program period, and how far it is approved."""

    class Opened(Aggregate.Created):
        list_id: str
        program: str
        period: str
        village: str

    class Verified(Aggregate.Event):
        list_id: str
        program: str
        period: str
        village: str
        household_ids: list[str]
        exclusions: list[dict[str, Any]]
        actor: dict[str, Any]
        notes: str

    class Approved(Aggregate.Event):
        list_id: str
        program: str
        period: str
        village: str
        household_ids: list[str]
        exclusions: list[dict[str, Any]]
        actor: dict[str, Any]
        ruleset: dict[str, Any] | None = None
        """``{"id", "hash", "payment"}`` of the program period's ruleset at approval."""

    @staticmethod
    def create_id(list_id: str, **_: Any) -> uuid.UUID:
        return list_uuid(list_id)

    @event(Opened)
    def __init__(self, list_id: str, program: str, period: str, village: str) -> None:
        self.list_id = list_id
        self.program = program
        self.period = period
        self.village = village
        self.stage: ListStage | None = None
        self.household_ids: list[str] = []
        self.exclusions: list[dict[str, Any]] = []
        self.verified_by: dict[str, Any] | None = None
        self.approved_by: dict[str, Any] | None = None

    @classmethod
    def open(cls, program: Program | str, period: str, village: str) -> BeneficiaryList:
        """A new, not yet verified list."""
        return cls(
            list_id=list_id_for(program, period, village),
            program=Program(program).value,
            period=period,
            village=village,
        )

    def verify(
        self,
        *,
        eligible: set[str],
        valid: list[str],
        excluded: Exclusions,
        actor: dict[str, Any],
        notes: str = "",
    ) -> bool:
        """Record the village's Musdesus verdict on every eligible household.

        ``valid`` and ``excluded`` together must be exactly ``eligible`` (the households
        eligible now), each once. False when the same verdict is already recorded.
        """
        if self.stage is ListStage.REGENCY_APPROVED:
            raise ListError(
                f"list {self.list_id} is already approved by the regency", conflict=True
            )
        problems = _coverage_problems(eligible, valid, excluded)
        if problems:
            raise ListError("; ".join(problems), conflict=True)
        household_ids = sorted(valid)
        exclusions = [
            {"household_id": hid, "reason": ExclusionReason(e["reason"]).value, "note": e["note"]}
            for hid, e in sorted(excluded.items())
        ]
        if (
            self.stage is ListStage.VILLAGE_VERIFIED
            and household_ids == self.household_ids
            and exclusions == self.exclusions
            and self.verified_by == actor
        ):
            return False
        self._verified(
            list_id=self.list_id,
            program=self.program,
            period=self.period,
            village=self.village,
            household_ids=household_ids,
            exclusions=exclusions,
            actor=actor,
            notes=notes,
        )
        return True

    @event(Verified)
    def _verified(
        self,
        list_id: str,
        program: str,
        period: str,
        village: str,
        household_ids: list[str],
        exclusions: list[dict[str, Any]],
        actor: dict[str, Any],
        notes: str,
    ) -> None:
        self.stage = ListStage.VILLAGE_VERIFIED
        self.household_ids = list(household_ids)
        self.exclusions = list(exclusions)
        self.verified_by = dict(actor)

    def approve(
        self,
        *,
        actor: dict[str, Any],
        expected_households: int | None = None,
        ruleset: dict[str, Any] | None = None,
    ) -> bool:
        """The regency approves the verified list; False if it already did (same approver).

        ``ruleset`` (``{"id", "hash", "payment"}``) records what the approved list pays.
        ``expected_households``, when given, must equal the number on the verified list:
        the approver approves what they saw, not a list the village changed since.
        """
        if self.stage is None:
            raise ListError(f"list {self.list_id} has not been verified by the village yet")
        if self.stage is ListStage.REGENCY_APPROVED:
            if self.approved_by is not None and self.approved_by.get("id") == actor.get("id"):
                return False
            raise ListError(
                f"list {self.list_id} is already approved by the regency", conflict=True
            )
        if self.verified_by is not None and self.verified_by.get("id") == actor.get("id"):
            raise ListError(
                f"{actor.get('id')} verified list {self.list_id} and so cannot approve it "
                "(four eyes: another official must approve)"
            )
        if expected_households is not None and expected_households != len(self.household_ids):
            raise ListError(
                f"list {self.list_id} now has {len(self.household_ids)} households, not "
                f"{expected_households}: the village verified it again; review it and retry",
                conflict=True,
            )
        self._approved(
            list_id=self.list_id,
            program=self.program,
            period=self.period,
            village=self.village,
            household_ids=list(self.household_ids),
            exclusions=list(self.exclusions),
            actor=actor,
            ruleset=ruleset,
        )
        return True

    @event(Approved)
    def _approved(
        self,
        list_id: str,
        program: str,
        period: str,
        village: str,
        household_ids: list[str],
        exclusions: list[dict[str, Any]],
        actor: dict[str, Any],
        ruleset: dict[str, Any] | None = None,
    ) -> None:
        self.stage = ListStage.REGENCY_APPROVED
        self.approved_by = dict(actor)


def _coverage_problems(eligible: set[str], valid: list[str], excluded: Exclusions) -> list[str]:
    problems: list[str] = []
    counts = Counter(valid)
    twice = sorted({hid for hid, n in counts.items() if n > 1} | (set(valid) & set(excluded)))
    if twice:
        problems.append(f"households given more than one verdict: {_few(twice)}")
    given = set(valid) | set(excluded)
    missing = sorted(eligible - given)
    if missing:
        problems.append(
            f"{len(missing)} eligible households have no verdict "
            f"(the list changed since it was loaded?): {_few(missing)}"
        )
    unknown = sorted(given - eligible)
    if unknown:
        problems.append(
            f"{len(unknown)} households are not eligible for this list now: {_few(unknown)}"
        )
    return problems


def _few(ids: list[str], limit: int = 10) -> str:
    shown = ", ".join(ids[:limit])
    return shown + (f" and {len(ids) - limit} more" if len(ids) > limit else "")
