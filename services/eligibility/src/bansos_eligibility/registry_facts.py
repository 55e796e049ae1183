"""Household facts as the eligibility service sees them: folded from registry events.

``FactsBook`` applies the public events of ``bansos.registry.v1`` (registered, decile
changed, updated, deactivated) to one ``HouseholdFacts`` per household. Events for
unknown households, or of other types, are ignored; the fold is deterministic, so the
same events give the same facts.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from bansos_contracts.envelope import Event
from bansos_contracts.registry import (
    HouseholdDeactivated,
    HouseholdDecileChanged,
    HouseholdRegistered,
    HouseholdUpdated,
)
from bansos_eligibility.rules.facts import FLAG_NAMES, HouseholdFacts

_UPDATABLE: dict[str, str] = {
    "member_count": "member_count",
    "per_capita_income": "per_capita_income",
    "pbi_jkn": "pbi_jkn",
    "village_code": "village",
    **{name: name for name in FLAG_NAMES},
}


def fold_registry_event(current: HouseholdFacts | None, event: Event) -> HouseholdFacts | None:
    """The household's facts after one registry event (``current`` when it changes nothing).

    ``None`` when the event does not describe a known household (e.g. a change before
    the registration, or a ``SnapshotImported``).
    """
    if isinstance(event, HouseholdRegistered):
        return HouseholdFacts(
            household_id=event.household_id,
            village=event.region.village,
            decile=event.decile,
            member_count=event.member_count,
            per_capita_income=event.per_capita_income,
            pbi_jkn=bool(event.pbi_jkn) or "PBI_JKN" in event.programs,
            programs=frozenset(event.programs),
            **event.flags.model_dump(),
        )
    if current is None:
        return None
    update: dict[str, Any] = {}
    if isinstance(event, HouseholdDecileChanged):
        update["decile"] = event.new_decile
    elif isinstance(event, HouseholdDeactivated):
        update |= {"active": False, "deactivation_reason": event.reason}
    elif isinstance(event, HouseholdUpdated):
        for field, change in event.changes.items():
            if field == "active" and change.new is True:
                update |= {"active": True, "deactivation_reason": None}
            elif field == "programs":
                names = str(change.new or "")
                update["programs"] = frozenset(p for p in names.split(";") if p)
            elif field in _UPDATABLE:
                update[_UPDATABLE[field]] = change.new
    if not update:
        return current
    return HouseholdFacts.model_validate({**current.model_dump(), **update})


class FactsBook:
    """The current facts of every household seen on the registry topic."""

    def __init__(self) -> None:
        self._facts: dict[str, HouseholdFacts] = {}

    def __len__(self) -> int:
        return len(self._facts)

    def __iter__(self) -> Iterator[HouseholdFacts]:
        return iter(self._facts.values())

    def get(self, household_id: str) -> HouseholdFacts | None:
        """The facts of one household, if it is known."""
        return self._facts.get(household_id)

    def apply(self, event: Event) -> HouseholdFacts | None:
        """Fold one registry event in; returns the household's facts after it."""
        current = self._facts.get(getattr(event, "household_id", ""))
        facts = fold_registry_event(current, event)
        if facts is not None:
            self._facts[facts.household_id] = facts
        return facts
