"""The ``Beneficiary`` aggregate: what the payout service knows of one household.

From the registry: its village, the programs it is enrolled in and its KKS bank, which
choose the channel. From eligibility: the latest decision per program period that is
not simply "eligible", which cancels or reinstates its payouts. And the approved list
entries that arrived before the registry facts did (topics are read in parallel, so a
list may overtake the household's registration): those wait here and are scheduled as
soon as the facts arrive.

Each source is taken once, by its version, so re-reading any topic changes nothing.
"""

from __future__ import annotations

import functools
import uuid
from typing import Any

from eventsourcing.domain import Aggregate, event

__all__ = ["BENEFICIARY_NAMESPACE", "Beneficiary", "beneficiary_uuid"]

BENEFICIARY_NAMESPACE = uuid.UUID("7c1e9a3d-2b4f-4e6a-8d0c-5f3b1a9e7d21")

Facts = dict[str, Any]
"""``{"village", "programs": [..], "bank", "active"}``."""
Entry = dict[str, Any]
"""A list entry waiting for facts: ``{"list_id", "program", "period", "village",
"ruleset_id", "payment"}``."""


@functools.lru_cache(maxsize=262_144)
def beneficiary_uuid(household_id: str) -> uuid.UUID:
    """The aggregate id of a household's beneficiary record."""
    return uuid.uuid5(BENEFICIARY_NAMESPACE, household_id)


class Beneficiary(Aggregate):
    """One household as the payout service sees it."""

    class Noted(Aggregate.Created):
        household_id: str
        facts: Facts | None = None
        """The register facts, when the household was first seen on the registry topic."""
        registry_version: int = 0

    class FactsRecorded(Aggregate.Event):
        household_id: str
        facts: Facts
        registry_version: int

    class DecisionNoted(Aggregate.Event):
        program: str
        period: str
        status: str
        reason: str
        decision_id: str
        version: int

    class EntryAwaited(Aggregate.Event):
        entry: Entry

    class EntryTaken(Aggregate.Event):
        list_id: str

    @staticmethod
    def create_id(household_id: str, **_: Any) -> uuid.UUID:
        return beneficiary_uuid(household_id)

    @event(Noted)
    def __init__(
        self, household_id: str, facts: Facts | None = None, registry_version: int = 0
    ) -> None:
        self.household_id = household_id
        self.facts: Facts | None = None if facts is None else dict(facts)
        self.registry_version = registry_version
        self.decision_version = 0
        self.decisions: dict[str, dict[str, str]] = {}
        self.awaiting: dict[str, Entry] = {}

    def knows_registry_version(self, version: int) -> bool:
        """Whether a registry event of this version was already taken."""
        return version <= self.registry_version

    def knows_decision_version(self, version: int) -> bool:
        """Whether an eligibility decision of this version was already taken."""
        return version <= self.decision_version

    def decision(self, program: str, period: str) -> dict[str, str] | None:
        """The latest noted decision for a program period (None: none, or eligible)."""
        return self.decisions.get(f"{program}:{period}")

    def record_facts(self, facts: Facts, version: int) -> bool:
        """New register facts; False if they change nothing the payout uses."""
        if self.knows_registry_version(version):
            return False
        self._facts_recorded(household_id=self.household_id, facts=facts, registry_version=version)
        return True

    def note_decision(
        self, *, program: str, period: str, status: str, reason: str, decision_id: str,
        version: int,
    ) -> bool:  # fmt: skip
        """A decision; only changes of status are kept (eligible is the default)."""
        if self.knows_decision_version(version):
            return False
        known = self.decision(program, period)
        if (known["status"] if known else "ELIGIBLE") == status:
            return False
        self._decision_noted(
            program=program, period=period, status=status, reason=reason,
            decision_id=decision_id, version=version,
        )  # fmt: skip
        return True

    def await_facts(self, entry: Entry) -> bool:
        """Keep a list entry until the household's facts arrive."""
        if entry["list_id"] in self.awaiting:
            return False
        self._entry_awaited(entry=entry)
        return True

    def take_entry(self, list_id: str) -> None:
        """The awaited entry was scheduled."""
        self._entry_taken(list_id=list_id)

    @event(FactsRecorded)
    def _facts_recorded(self, household_id: str, facts: Facts, registry_version: int) -> None:
        self.facts = dict(facts)
        self.registry_version = registry_version

    @event(DecisionNoted)
    def _decision_noted(
        self, program: str, period: str, status: str, reason: str, decision_id: str,
        version: int,
    ) -> None:  # fmt: skip
        self.decisions = {
            **self.decisions,
            f"{program}:{period}": {"status": status, "reason": reason, "decision_id": decision_id},
        }
        self.decision_version = version

    @event(EntryAwaited)
    def _entry_awaited(self, entry: Entry) -> None:
        self.awaiting = {**self.awaiting, entry["list_id"]: dict(entry)}

    @event(EntryTaken)
    def _entry_taken(self, list_id: str) -> None:
        self.awaiting = {k: v for k, v in self.awaiting.items() if k != list_id}
