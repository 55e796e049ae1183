"""One household's timeline across services, from the index, and what it adds up to.

:func:`household_timeline` returns every indexed event about a household, oldest first
(by ``occurred_at``, then the time Kafka recorded it): its register entries and deciles,
its cases and their reviews, its eligibility decisions, the beneficiary lists it was on
(or excluded from) and its payouts. Each :class:`Entry` carries its event id, its cause
(``causation_id``, and the cause's event type when the cause is indexed) and a one-line
summary. With ``as_of``, only events Kafka recorded at or before that instant count:
what the system knew then. :func:`summarize` folds the entries into the state they
describe (:class:`Standing`).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bansosctl.audit.index import EVENT_COLUMNS, Index, utc_text

__all__ = ["Entry", "Standing", "describe", "household_timeline", "summarize"]

_SELECTED = ", ".join(f"e.{name}" for name in EVENT_COLUMNS)


@dataclass(frozen=True)
class Entry:
    """One event of a household's timeline."""

    event_id: str
    event_type: str
    topic: str
    partition: int
    offset: int
    recorded_at: str
    """When Kafka recorded the message (UTC)."""
    occurred_at: str
    """When the event happened, as its producer says (UTC)."""
    subject_id: str
    subject_version: int
    actor: dict[str, Any]
    correlation_id: str
    causation_id: str | None
    cause_type: str | None
    """The event type of the cause, when the cause is in the index."""
    traceparent: str | None
    list_role: str | None
    """For a list approval: ``LISTED`` or ``EXCLUDED``; otherwise ``None``."""
    summary: str
    event: dict[str, Any]
    """The event's full JSON body."""

    def as_json(self) -> dict[str, Any]:
        """The entry as JSON-ready data."""
        return {
            "event_id": self.event_id,
            "event_type": self.event_type,
            "occurred_at": self.occurred_at,
            "recorded_at": self.recorded_at,
            "topic": self.topic,
            "partition": self.partition,
            "offset": self.offset,
            "subject_id": self.subject_id,
            "subject_version": self.subject_version,
            "actor": self.actor,
            "correlation_id": self.correlation_id,
            "causation_id": self.causation_id,
            "cause_type": self.cause_type,
            "traceparent": self.traceparent,
            "list_role": self.list_role,
            "summary": self.summary,
            "event": self.event,
        }


def household_timeline(
    index: Index, household_id: str, as_of: datetime | None = None
) -> list[Entry]:
    """Every indexed event about ``household_id``, oldest first.

    With ``as_of``, only events whose Kafka record time is at or before it.
    """
    recorded = "" if as_of is None else " AND e.recorded_at <= :as_of"
    sql = (
        "SELECT * FROM ("
        f" SELECT {_SELECTED}, c.event_type AS cause_type, NULL AS list_role"
        " FROM events e LEFT JOIN events c ON c.event_id = e.causation_id"
        f" WHERE e.household_id = :household{recorded}"
        " UNION ALL"
        f" SELECT {_SELECTED}, c.event_type AS cause_type,"
        " CASE m.listed WHEN 1 THEN 'LISTED' ELSE 'EXCLUDED' END AS list_role"
        " FROM list_members m JOIN events e ON e.event_id = m.event_id"
        " LEFT JOIN events c ON c.event_id = e.causation_id"
        f" WHERE m.household_id = :household{recorded}"
        ") ORDER BY occurred_at, recorded_at, subject_version, event_id"
    )
    parameters = {"household": household_id, "as_of": None if as_of is None else utc_text(as_of)}
    rows = index.query(sql, parameters)
    bodies = [json.loads(row["body"]) for row in rows]
    caused_by = _cause_types(index, bodies)
    return [
        Entry(
            event_id=row["event_id"],
            event_type=row["event_type"],
            topic=row["topic"],
            partition=row["kafka_partition"],
            offset=row["kafka_offset"],
            recorded_at=row["recorded_at"],
            occurred_at=row["occurred_at"],
            subject_id=row["subject_id"],
            subject_version=row["subject_version"],
            actor=json.loads(row["actor"]),
            correlation_id=row["correlation_id"],
            causation_id=row["causation_id"],
            cause_type=row["cause_type"],
            traceparent=row["traceparent"],
            list_role=row["list_role"],
            summary=describe(
                row["event_type"],
                body,
                list_role=row["list_role"],
                causes=caused_by,
                household_id=household_id,
            ),
            event=body,
        )
        for row, body in zip(rows, bodies, strict=True)
    ]


def _cause_types(index: Index, bodies: Iterable[dict[str, Any]]) -> dict[str, str]:
    """The event types of the decisions that ``caused_by`` fields name."""
    wanted = sorted({str(b["caused_by"]) for b in bodies if b.get("caused_by")})
    found: dict[str, str] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        marks = ", ".join("?" for _ in chunk)
        for row in index.query(
            f"SELECT event_id, event_type FROM events WHERE event_id IN ({marks})", chunk
        ):
            found[row["event_id"]] = row["event_type"]
    return found


# --- one line per event ---------------------------------------------------------------


def _rupiah(amount: Any) -> str:
    return "Rp" + f"{amount:,}".replace(",", ".") if isinstance(amount, int) else "-"


def _joined(values: Sequence[Any] | None, empty: str = "none") -> str:
    return ", ".join(str(v) for v in values) if values else empty


def _caused_by(body: dict[str, Any], causes: dict[str, str]) -> str:
    cause = body.get("caused_by")
    if not cause:
        return "no deciding event (administrative)"
    kind = causes.get(str(cause))
    return f"caused by {cause}" + (f" ({kind})" if kind else " (not in the index)")


def _registered(b: dict[str, Any], _: dict[str, str]) -> str:
    flags = [name.removeprefix("has_") for name, on in (b.get("flags") or {}).items() if on]
    return (
        f"registered: decile {b['decile']}, village {b['region']['village']},"
        f" {b['member_count']} members, flags {_joined(flags)}, programs"
        f" {_joined(b.get('programs'))}; snapshot {b['snapshot_id']} (BPS as of {b['as_of']})"
    )


def _decile(b: dict[str, Any], _: dict[str, str]) -> str:
    return (
        f"decile {b['previous_decile']} → {b['new_decile']}; snapshot {b['snapshot_id']}"
        f" (BPS as of {b['as_of']}, registry learned {b['recorded_at']})"
    )


def _updated(b: dict[str, Any], _: dict[str, str]) -> str:
    changes = "; ".join(
        f"{name} {change['old']} → {change['new']}" for name, change in b["changes"].items()
    )
    return f"updated: {changes}; snapshot {b['snapshot_id']}"


def _deactivated(b: dict[str, Any], _: dict[str, str]) -> str:
    merged = f" into {b['merged_into']}" if b.get("merged_into") else ""
    snapshot = f"; snapshot {b['snapshot_id']}" if b.get("snapshot_id") else ""
    return f"deactivated: {b['reason']}{merged}{snapshot}"


def _submitted(b: dict[str, Any], _: dict[str, str]) -> str:
    return (
        f"case {b['case_id']} submitted: {b['kind']} {b['reason_code']}, programs"
        f" {_joined(b.get('programs'), 'all')}, {len(b.get('evidence') or ())} evidence"
    )


def _reviewed(b: dict[str, Any], _: dict[str, str]) -> str:
    after = f" → next {b['next_stage']}" if b.get("next_stage") else " (chain ends)"
    due = f", due {b['due_at']}" if b.get("due_at") else ""
    notes = f"; notes: {b['notes']}" if b.get("notes") else ""
    return f"case {b['case_id']} reviewed at {b['stage']}: {b['outcome']}{after}{due}{notes}"


def _resolved(b: dict[str, Any], _: dict[str, str]) -> str:
    programs = f" ({_joined(b.get('programs'), 'all programs')})" if b["effect"] != "NONE" else ""
    return f"case {b['case_id']} resolved: {b['outcome']}, effect {b['effect']}{programs}"


def _decided(b: dict[str, Any], _: dict[str, str]) -> str:
    reasons = "; ".join(
        r["code"] + (f" {r['detail']}" if r.get("detail") else "") for r in b["reason_codes"]
    )
    inputs = b["inputs"]
    facts = [f"decile={inputs.get('decile')}", f"active={inputs.get('active')}"]
    if inputs.get("flags") is not None:
        flags = [name.removeprefix("has_") for name, on in inputs["flags"].items() if on]
        facts.append(f"flags={_joined(flags)}")
    if inputs.get("programs"):
        facts.append(f"programs={_joined(inputs['programs'])}")
    if inputs.get("per_capita_income") is not None:
        facts.append(f"income={inputs['per_capita_income']}")
    facts.extend(f"{name}={value}" for name, value in sorted((inputs.get("extra") or {}).items()))
    cases = inputs.get("case_outcomes") or ()
    facts.extend(f"case {c['case_id']} {c['outcome']}/{c['effect']}" for c in cases)
    return (
        f"{b['program']} {b['period']}: {b.get('previous_status') or 'first'} → {b['status']}"
        + (f" [{reasons}]" if reasons else "")
        + f"; ruleset {b['ruleset_id']} #{b['ruleset_hash'][:12]}; inputs {', '.join(facts)}"
    )


def _scheduled(b: dict[str, Any], _: dict[str, str]) -> str:
    via = b["channel"] + (f" {b['bank']}" if b.get("bank") else "")
    where = f" at {b['location']}" if b.get("location") else ""
    windows = b.get("collection_windows") or ()
    return (
        f"payout {b['payout_id']} scheduled: {_rupiah(b['amount'])} via {via}{where},"
        f" {len(windows)} collection windows"
    )


def _disbursed(b: dict[str, Any], _: dict[str, str]) -> str:
    return (
        f"payout {b['payout_id']} disbursed: {_rupiah(b['amount'])},"
        f" channel reference {b['channel_reference']}, at {b['at']}"
    )


def _failed(b: dict[str, Any], _: dict[str, str]) -> str:
    detail = f" ({b['detail']})" if b.get("detail") else ""
    reference = b.get("channel_reference")
    reference = f", channel reference {reference}" if reference else ""
    return f"payout {b['payout_id']} failed: {b['reason']}{detail}{reference}"


def _cancelled(b: dict[str, Any], causes: dict[str, str]) -> str:
    return f"payout {b['payout_id']} cancelled: {b['reason']}, {_caused_by(b, causes)}"


def _reconciled(b: dict[str, Any], _: dict[str, str]) -> str:
    return f"payout {b['payout_id']} reconciled: {b['outcome']}, SPTJM {b['sptjm_reference']}"


def _recovery(b: dict[str, Any], causes: dict[str, str]) -> str:
    return (
        f"payout {b['payout_id']} recovery flagged: {b['reason']}, {_rupiah(b['amount'])} paid,"
        f" {_caused_by(b, causes)}"
    )


_DESCRIBE: dict[str, Callable[[dict[str, Any], dict[str, str]], str]] = {
    "HouseholdRegistered": _registered,
    "HouseholdDecileChanged": _decile,
    "HouseholdUpdated": _updated,
    "HouseholdDeactivated": _deactivated,
    "CaseSubmitted": _submitted,
    "CaseReviewed": _reviewed,
    "CaseResolved": _resolved,
    "EligibilityDecided": _decided,
    "PayoutScheduled": _scheduled,
    "PayoutDisbursed": _disbursed,
    "PayoutFailed": _failed,
    "PayoutCancelled": _cancelled,
    "PayoutReconciled": _reconciled,
    "PayoutRecoveryFlagged": _recovery,
}


def describe(
    event_type: str,
    body: dict[str, Any],
    *,
    list_role: str | None = None,
    causes: dict[str, str] | None = None,
    household_id: str | None = None,
) -> str:
    """One line saying what an event means for the household ``household_id``.

    ``list_role`` says whether the household is on a list approval or excluded from it;
    ``causes`` gives the event types of the events that ``caused_by`` fields name.
    """
    if event_type == "BeneficiaryListApproved":
        approver = body["approved_by"]
        who = f"{approver['role']} {approver['id']}"
        if list_role == "EXCLUDED":
            exclusion = next(
                (x for x in body.get("exclusions", ()) if x["household_id"] == household_id),
                {"reason": "?"},
            )
            note = f" ({exclusion['note']})" if exclusion.get("note") else ""
            return (
                f"excluded from list {body['list_id']} ({body['program']} {body['period']},"
                f" {body['stage']} by {who}): {exclusion['reason']}{note}"
            )
        terms = ""
        if body.get("ruleset_id"):
            terms += f"; ruleset {body['ruleset_id']} #{(body.get('ruleset_hash') or '')[:12]}"
        if body.get("payment"):
            payment = body["payment"]
            terms += (
                f"; pays {_rupiah(payment['amount'])} ({payment['existing_channel']} for"
                f" recipients of {_joined(payment['existing_recipients_of'])},"
                f" else {payment['new_channel']})"
            )
        return (
            f"on list {body['list_id']} ({body['program']} {body['period']}, village"
            f" {body['village']}, {len(body['household_ids'])} households): {body['stage']}"
            f" by {who}{terms}"
        )
    describer = _DESCRIBE.get(event_type)
    if describer is None:
        return event_type
    try:
        return describer(body, causes or {})
    except (KeyError, TypeError):
        return event_type


# --- what the timeline adds up to ------------------------------------------------------


@dataclass
class Standing:
    """A household's state after a timeline: what the system knew then."""

    decile: int | None = None
    decile_snapshot: str | None = None
    active: bool | None = None
    statuses: dict[tuple[str, str], str] = field(default_factory=dict)
    """The latest status per (program, period)."""
    open_cases: dict[str, str] = field(default_factory=dict)
    """Open case ids and where each stands (its next stage, or ``SUBMITTED``)."""
    payouts: dict[str, str] = field(default_factory=dict)
    """The latest state per payout id."""

    @property
    def payouts_by_state(self) -> dict[str, int]:
        """How many payouts are in each state."""
        return dict(sorted(Counter(self.payouts.values()).items()))

    def line(self, as_of: str) -> str:
        """One line: decile, status per program period, open cases, payouts by state."""
        decile = "unknown" if self.decile is None else str(self.decile)
        if self.decile_snapshot:
            decile += f" ({self.decile_snapshot})"
        state = {None: "", True: ", active", False: ", deactivated"}[self.active]
        statuses = ", ".join(
            f"{program} {period} {status}"
            for (program, period), status in sorted(self.statuses.items())
        )
        cases = ", ".join(f"{case} ({stage})" for case, stage in sorted(self.open_cases.items()))
        payouts = ", ".join(f"{count} {state}" for state, count in self.payouts_by_state.items())
        return (
            f"as of {as_of}: decile {decile}{state}; status: {statuses or 'none'};"
            f" open cases: {cases or 'none'}; payouts: {payouts or 'none'}"
        )

    def as_json(self) -> dict[str, Any]:
        """The standing as JSON-ready data."""
        return {
            "decile": self.decile,
            "decile_snapshot": self.decile_snapshot,
            "active": self.active,
            "statuses": [
                {"program": p, "period": period, "status": s}
                for (p, period), s in sorted(self.statuses.items())
            ],
            "open_cases": self.open_cases,
            "payouts_by_state": self.payouts_by_state,
        }


_PAYOUT_STATES = {
    "PayoutScheduled": "SCHEDULED",
    "PayoutDisbursed": "DISBURSED",
    "PayoutFailed": "FAILED",
    "PayoutCancelled": "CANCELLED",
    "PayoutRecoveryFlagged": "RECOVERY_FLAGGED",
}


def summarize(entries: Iterable[Entry]) -> Standing:
    """Fold a timeline (oldest first) into the household's standing at its end."""
    standing = Standing()
    for entry in entries:
        body, kind = entry.event, entry.event_type
        if kind == "HouseholdRegistered":
            standing.decile, standing.decile_snapshot = body["decile"], body["snapshot_id"]
            standing.active = True
        elif kind == "HouseholdDecileChanged":
            standing.decile, standing.decile_snapshot = body["new_decile"], body["snapshot_id"]
        elif kind == "HouseholdDeactivated":
            standing.active = False
        elif kind == "CaseSubmitted":
            standing.open_cases[body["case_id"]] = "SUBMITTED"
        elif kind == "CaseReviewed":
            standing.open_cases[body["case_id"]] = body.get("next_stage") or body["stage"]
        elif kind == "CaseResolved":
            standing.open_cases.pop(body["case_id"], None)
        elif kind == "EligibilityDecided":
            standing.statuses[(body["program"], body["period"])] = body["status"]
        elif kind == "PayoutReconciled":
            standing.payouts[body["payout_id"]] = f"RECONCILED_{body['outcome']}"
        elif kind in _PAYOUT_STATES:
            standing.payouts[body["payout_id"]] = _PAYOUT_STATES[kind]
    return standing
