"""One payout's path across the services, from the audit index (``bansosctl trace payout``).

:func:`trace_payout` walks back from the payout's first ``PayoutScheduled`` to the list
approval, the eligibility decision and the registry event it came from, then forward
through every later event of the payout. Each :class:`Hop` says how it was found:

- ``caused by``: the hop it was found from names it as its ``causation_id``;
- ``listed in``: no cause named; the latest ``BeneficiaryListApproved`` listing the
  household for the payout's program period (regency-approved lists first);
- ``latest before``: no cause named; the household's latest event of that kind (for a
  decision: of the program period), i.e. what the producing service could have seen;
- ``payout id``: an event of the payout itself.

"Latest" and "before" compare Kafka record times (``recorded_at``: one clock for every
topic). Lags are seconds: ``since_previous`` is a hop's record time minus the previous
hop's, ``publish_lag`` its record time minus its own ``occurred_at``.
"""

from __future__ import annotations

import json
import re
import sqlite3
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from bansos_contracts import topics
from bansosctl.audit.index import Index
from bansosctl.audit.timeline import describe

__all__ = [
    "CAUSED_BY", "LATEST_BEFORE", "LISTED_IN", "PAYOUT_ID", "Hop", "PayoutTrace",
    "UnknownPayoutError", "trace_id", "trace_payout",
]  # fmt: skip

CAUSED_BY = "caused by"
LISTED_IN = "listed in"
LATEST_BEFORE = "latest before"
PAYOUT_ID = "payout id"

_REGISTRY = ("HouseholdRegistered", "HouseholdDecileChanged")
_DECISION = ("EligibilityDecided",)
_LIST = ("BeneficiaryListApproved",)
_TRACEPARENT = re.compile(r"[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}")


class UnknownPayoutError(LookupError):
    """No indexed event belongs to the payout id."""

    def __init__(self, payout_id: str) -> None:
        super().__init__(f"no events of payout {payout_id} in the index")
        self.payout_id = payout_id


@dataclass(frozen=True)
class Hop:
    """One event on a payout's path, with how it was found and how long it took."""

    stage: str
    """``registry``, ``eligibility``, ``list``, ``payout`` or ``channel``."""
    link: str
    """``caused by``, ``listed in``, ``latest before`` or ``payout id``."""
    linked_from: str | None
    """The event id of the hop it was found from (None for the payout's own events)."""
    event_id: str
    event_type: str
    occurred_at: str
    recorded_at: str
    topic: str
    partition: int
    offset: int
    service: str
    actor: dict[str, Any]
    causation_id: str | None
    cause_type: str | None
    traceparent: str | None
    trace_id: str | None
    since_previous: float | None
    publish_lag: float
    summary: str

    def as_json(self) -> dict[str, Any]:
        """The hop as JSON-ready data."""
        return asdict(self)


@dataclass(frozen=True)
class PayoutTrace:
    """A payout's path, oldest hop first, and the upstream stages that were not found."""

    payout_id: str
    household_id: str
    program: str | None
    period: str | None
    hops: tuple[Hop, ...]
    missing: tuple[str, ...]

    @property
    def trace_ids(self) -> list[str]:
        """The distinct trace ids along the path, in path order."""
        return list(dict.fromkeys(h.trace_id for h in self.hops if h.trace_id))

    @property
    def total_seconds(self) -> float:
        """From the first hop's record time to the last one's."""
        return _seconds(self.hops[0].recorded_at, self.hops[-1].recorded_at)

    def as_json(self) -> dict[str, Any]:
        """The trace as JSON-ready data."""
        data = asdict(self)
        hops = data.pop("hops")
        return {**data, "total_seconds": self.total_seconds, "trace_ids": self.trace_ids,
                "hops": hops}  # fmt: skip


def trace_id(traceparent: str | None) -> str | None:
    """The trace id (the 32-hex middle part) of a W3C ``traceparent``, if it is valid."""
    match = _TRACEPARENT.fullmatch((traceparent or "").strip().lower())
    if match is None or set(match[1]) == {"0"}:
        return None
    return match[1]


def trace_payout(index: Index, payout_id: str) -> PayoutTrace:
    """The path of ``payout_id``: registry → eligibility → list → payout → channel.

    Raises :class:`UnknownPayoutError` when no indexed event belongs to the payout.
    """
    own = _payout_events(index, payout_id)
    if not own:
        raise UnknownPayoutError(payout_id)
    anchor = next((row for row in own if row["event_type"] == "PayoutScheduled"), own[0])
    household: str = anchor["household_id"]
    body = json.loads(anchor["body"])
    parts = payout_id.split(":", 2)
    program = body.get("program") or (parts[0] if len(parts) == 3 else None)
    period = body.get("period") or (parts[1] if len(parts) == 3 else None)
    upstream: list[tuple[str, str, sqlite3.Row, str | None]] = []
    current, missing = anchor, []
    for stage, kinds in (("list", _LIST), ("eligibility", _DECISION), ("registry", _REGISTRY)):
        found, link = _cause(index, current, kinds), CAUSED_BY
        if found is None:
            of = (program, period) if stage != "registry" else (None, None)
            found = _latest(index, household, kinds, current, *of)
            link = LISTED_IN if stage == "list" else LATEST_BEFORE
        if found is None:
            missing.append(stage)
            continue
        upstream.append((stage, link, found, current["event_id"]))
        current = found
    if anchor["event_type"] != "PayoutScheduled":
        missing.append("payout")
    path = [*reversed(upstream)]
    for row in own:
        stage = "payout" if row["event_type"] == "PayoutScheduled" else "channel"
        path.append((stage, PAYOUT_ID, row, None))
    hops: list[Hop] = []
    for stage, link, row, linked_from in path:
        previous = hops[-1].recorded_at if hops else None
        hops.append(_hop(index, row, stage, link, linked_from, previous, household))
    return PayoutTrace(payout_id, household, program, period, tuple(hops), tuple(missing))


# --- queries ------------------------------------------------------------------------------


def _payout_events(index: Index, payout_id: str) -> list[sqlite3.Row]:
    """The payout's own events in the payout's order (its versions, then record time)."""
    order = " ORDER BY subject_version, recorded_at, event_id"
    parts = payout_id.split(":", 2)
    if len(parts) == 3:  # PROGRAM:PERIOD:HOUSEHOLD: the household index finds it fast
        rows = index.query(
            "SELECT * FROM events WHERE household_id = ? AND payout_id = ?" + order,
            (parts[2], payout_id),
        )
        if rows:
            return rows
    return index.query("SELECT * FROM events WHERE payout_id = ?" + order, (payout_id,))


def _cause(index: Index, row: sqlite3.Row, kinds: tuple[str, ...]) -> sqlite3.Row | None:
    """The event ``row`` names as its cause, if it is indexed and of one of ``kinds``."""
    if not row["causation_id"]:
        return None
    found = index.query("SELECT * FROM events WHERE event_id = ?", (row["causation_id"],))
    return found[0] if found and found[0]["event_type"] in kinds else None


def _latest(
    index: Index,
    household: str,
    kinds: tuple[str, ...],
    before: sqlite3.Row,
    program: str | None = None,
    period: str | None = None,
) -> sqlite3.Row | None:
    """The household's latest event of ``kinds`` recorded by ``before``'s record time, of
    the program period when given. A list approval must list the household; a
    regency-approved one comes before any other."""
    order = "e.recorded_at DESC, e.subject_version DESC"
    if kinds == _LIST:
        sql = "SELECT e.* FROM list_members m JOIN events e ON e.event_id = m.event_id"
        sql += " WHERE m.household_id = ? AND m.listed = 1"
        order = f"json_extract(e.body, '$.stage') = 'REGENCY_APPROVED' DESC, {order}"
    else:
        sql = "SELECT e.* FROM events e WHERE e.household_id = ?"
    sql += f" AND e.event_type IN ({', '.join('?' for _ in kinds)}) AND e.recorded_at <= ?"
    values = [household, *kinds, before["recorded_at"]]
    if program is not None and period is not None:
        sql += " AND json_extract(e.body, '$.program') = ? AND json_extract(e.body, '$.period') = ?"
        values += [program, period]
    rows = index.query(f"{sql} ORDER BY {order} LIMIT 1", values)
    return rows[0] if rows else None


def _event_types(index: Index, event_ids: set[str]) -> dict[str, str]:
    wanted = sorted(event_ids)
    if not wanted:
        return {}
    marks = ", ".join("?" for _ in wanted)
    sql = f"SELECT event_id, event_type FROM events WHERE event_id IN ({marks})"
    return {row["event_id"]: row["event_type"] for row in index.query(sql, wanted)}


# --- hops ---------------------------------------------------------------------------------


def _seconds(start: str, end: str) -> float:
    return (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds()


def _service(topic: str) -> str:
    for name, service in topics.PRODUCERS.items():
        if topic.endswith(name):
            return service
    return topic


def _hop(
    index: Index,
    row: sqlite3.Row,
    stage: str,
    link: str,
    linked_from: str | None,
    previous: str | None,
    household: str,
) -> Hop:
    body: dict[str, Any] = json.loads(row["body"])
    named = {str(c) for c in (row["causation_id"], body.get("caused_by")) if c}
    causes = _event_types(index, named)
    role = "LISTED" if row["event_type"] == "BeneficiaryListApproved" else None
    same = ("event_id", "event_type", "occurred_at", "recorded_at", "topic", "causation_id")
    return Hop(
        stage=stage, link=link, linked_from=linked_from, **{name: row[name] for name in same},
        partition=row["kafka_partition"], offset=row["kafka_offset"],
        service=_service(row["topic"]), actor=json.loads(row["actor"]),
        cause_type=causes.get(row["causation_id"] or ""),
        traceparent=row["traceparent"], trace_id=trace_id(row["traceparent"]),
        since_previous=None if previous is None else _seconds(previous, row["recorded_at"]),
        publish_lag=_seconds(row["occurred_at"], row["recorded_at"]),
        summary=describe(
            row["event_type"], body, list_role=role, causes=causes, household_id=household
        ),
    )  # fmt: skip
