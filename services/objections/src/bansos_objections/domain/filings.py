"""Two small aggregates that keep submissions honest, committed with the case they concern.

- ``Filer``: one per person who files (by role and pseudonymous id). It maps each of their
  request ids to the case it opened or joined, so a retried request never files twice,
  and counts their objections per month for the abuse limit.
- ``OpenCases``: one per household (or, for a family not yet registered, per filer and
  village). It names the open case of each kind, so a duplicate is merged into it.

Both are changed in the same transaction as the case, so two concurrent submissions
conflict on them and the loser retries against the winner's state.
"""

from __future__ import annotations

import uuid
from typing import Any

from eventsourcing.domain import Aggregate, event

__all__ = ["Filer", "OpenCases", "filer_uuid", "open_cases_key", "open_cases_uuid"]

FILER_NAMESPACE = uuid.UUID("a3c9e2d1-6b7f-4f08-8e5a-2d4c1b9f7e63")
OPEN_CASES_NAMESPACE = uuid.UUID("e1b4d7c2-3f6a-4c9e-a8d0-7b2f5e1c3a94")


def filer_uuid(role: str, actor_id: str) -> uuid.UUID:
    """The aggregate id of a filer."""
    return uuid.uuid5(FILER_NAMESPACE, f"{role}:{actor_id}")


def open_cases_key(household_id: str | None, village: str, filer_id: str) -> str:
    """What makes two submissions duplicates: the household, else the filer in a village."""
    if household_id is not None:
        return f"household:{household_id}"
    return f"unregistered:{village}:{filer_id}"


def open_cases_uuid(key: str) -> uuid.UUID:
    """The aggregate id of the open-case index for ``key``."""
    return uuid.uuid5(OPEN_CASES_NAMESPACE, key)


class Filer(Aggregate):
    """Someone who files cases: their requests and their filings by month."""

    class Registered(Aggregate.Created):
        role: str
        actor_id: str

    class Filed(Aggregate.Event):
        request_id: str
        case_id: str
        kind: str
        month: str
        """``YYYY-MM`` of the filing (UTC)."""
        merged: bool

    @staticmethod
    def create_id(role: str, actor_id: str, **_: Any) -> uuid.UUID:
        return filer_uuid(role, actor_id)

    @event(Registered)
    def __init__(self, role: str, actor_id: str) -> None:
        self.role = role
        self.actor_id = actor_id
        self.requests: dict[str, str] = {}
        self.monthly: dict[str, dict[str, int]] = {}

    def case_for(self, request_id: str) -> str | None:
        """The case a request of this filer opened or joined, if it was applied."""
        return self.requests.get(request_id)

    def filed(self, kinds: tuple[str, ...], month: str) -> int:
        """How many cases of ``kinds`` this filer filed in ``month``."""
        counts = self.monthly.get(month, {})
        return sum(counts.get(kind, 0) for kind in kinds)

    def file(self, *, request_id: str, case_id: str, kind: str, month: str, merged: bool) -> None:
        """Record a filing."""
        self._filed(request_id=request_id, case_id=case_id, kind=kind, month=month, merged=merged)

    @event(Filed)
    def _filed(self, request_id: str, case_id: str, kind: str, month: str, merged: bool) -> None:
        self.requests = {**self.requests, request_id: case_id}
        counts = dict(self.monthly.get(month, {}))
        counts[kind] = counts.get(kind, 0) + 1
        self.monthly = {**self.monthly, month: counts}


class OpenCases(Aggregate):
    """The open case of each kind for one household (or unregistered family)."""

    class Started(Aggregate.Created):
        key: str

    class Opened(Aggregate.Event):
        kind: str
        case_id: str

    class Closed(Aggregate.Event):
        kind: str
        case_id: str

    @staticmethod
    def create_id(key: str, **_: Any) -> uuid.UUID:
        return open_cases_uuid(key)

    @event(Started)
    def __init__(self, key: str) -> None:
        self.key = key
        self.open: dict[str, str] = {}

    def case_of(self, kind: str) -> str | None:
        """The open case of ``kind``, if any."""
        return self.open.get(kind)

    def opened(self, kind: str, case_id: str) -> None:
        """A case of ``kind`` was opened."""
        self._opened(kind=kind, case_id=case_id)

    def closed(self, kind: str, case_id: str) -> None:
        """The case of ``kind`` was resolved; a new submission opens a new case."""
        if self.open.get(kind) == case_id:
            self._closed(kind=kind, case_id=case_id)

    @event(Opened)
    def _opened(self, kind: str, case_id: str) -> None:
        self.open = {**self.open, kind: case_id}

    @event(Closed)
    def _closed(self, kind: str, case_id: str) -> None:
        self.open = {k: v for k, v in self.open.items() if k != kind}
