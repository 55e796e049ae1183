"""How ``bansosctl cases …`` shows the objections service's answers: tables and lines.

Only formatting: every function takes the service's JSON (as ``dict``/``list``) and a
console, and prints. Values from the service are printed with markup off or escaped.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

__all__ = ["print_case", "print_cases", "print_chains", "print_overdue", "print_result", "when"]


def when(value: str | None) -> str:
    """An ISO 8601 time as ``YYYY-MM-DD HH:MM`` (with ``UTC`` or its offset); ``-`` for none."""
    if not value:
        return "-"
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value
    offset = moment.utcoffset()
    if offset is None:
        return moment.strftime("%Y-%m-%d %H:%M")
    if not offset:
        return moment.strftime("%Y-%m-%d %H:%M UTC")
    return moment.isoformat(sep=" ", timespec="minutes")


def _cell(value: Any) -> str:
    return "-" if value is None or value == "" else escape(str(value))


def _ending(outcome: str | None, effect: str | None) -> str:
    if outcome is None:
        return "-"
    return outcome if effect in (None, "NONE") else f"{outcome} → {effect}"


def print_cases(console: Console, rows: list[dict[str, Any]], offset: int) -> None:
    """The table of ``GET /cases``."""
    table = Table(
        "case", "kind", "household", "village", "state", "stage", "due", "supporters", "outcome"
    )
    for row in rows:
        table.add_row(
            _cell(row["case_id"]),
            _cell(row["kind"]),
            _cell(row["household_id"]),
            _cell(row["village"]),
            _cell(row["state"]),
            _cell(row["stage"]),
            when(row["due_at"]),
            str(row["supporters"]),
            escape(_ending(row["outcome"], row["effect"])),
        )
    console.print(table)
    console.print(f"{len(rows)} cases (from {offset + 1})" if rows else "no cases", markup=False)


def _details(details: dict[str, Any]) -> str:
    """A step's details in a few words: scalars as ``key=value``, lists by their length."""
    parts: list[str] = []
    for key, value in sorted(details.items()):
        if value is None or value == [] or value == {}:
            continue
        if isinstance(value, list):
            parts.append(f"{key}: {len(value)}")
        elif isinstance(value, dict) and {"latitude", "longitude"} <= value.keys():
            parts.append(f"{key}={value['latitude']},{value['longitude']}")
        else:
            parts.append(f"{key}={value}")
    return "; ".join(parts)


def print_case(console: Console, case: dict[str, Any]) -> None:
    """A case (``GET /cases/{id}``) and one line per step of its history."""
    lines = [
        ("case", case["case_id"]),
        ("kind", f"{case['kind']} ({case['reason_code']}), chain {case['chain']}"),
        ("household", f"{case['household_id'] or '-'} in village {case['village']}"),
        ("filed", f"{when(case['submitted_at'])} by a {case['filer_role']}"),
        ("supporters", str(case["supporters"])),
        ("state", case["state"]),
    ]
    if case["stage"] is not None:
        roles = ", ".join(case["stage_roles"])
        lines.append(("awaits", f"{case['stage']} by {roles}, due {when(case['due_at'])}"))
    else:
        lines.append(("outcome", _ending(case["outcome"], case["effect"])))
    lines.append(("version", str(case["version"])))
    for label, text in lines:
        console.print(f"{label:<11}{text}", markup=False, highlight=False)
    console.print("history:", markup=False)
    for step in case["steps"]:
        notes = " ".join(str(step["notes"]).split())
        extra = _details(step.get("details") or {})
        console.print(
            f"  v{step['version']:<3} {step['step']:<9} {step['stage'] or '-':<16}"
            f" {step['outcome'] or '-':<9} {step['actor_role']}/{step['actor_id']}"
            f"  {when(step['at'])}"
            + (f"  {notes}" if notes else "")
            + (f"  [{extra}]" if extra else ""),
            markup=False,
            highlight=False,
            soft_wrap=True,
        )


def print_overdue(console: Console, rows: list[dict[str, Any]]) -> None:
    """The table of ``GET /cases/overdue`` and a count per district."""
    if not rows:
        console.print("no overdue cases", markup=False)
        return
    table = Table("case", "kind", "village", "stage", "due", "days overdue")
    for row in rows:
        table.add_row(
            _cell(row["case_id"]),
            _cell(row["kind"]),
            _cell(row["village"]),
            _cell(row["stage"]),
            when(row["due_at"]),
            str(row["days_overdue"]),
        )
    console.print(table)
    districts = Counter(str(row["village"]).rsplit(".", 1)[0] for row in rows)
    counts = ", ".join(f"{district} {count}" for district, count in sorted(districts.items()))
    console.print(f"{len(rows)} overdue cases by district: {counts}", markup=False)


def print_chains(console: Console, chains: dict[str, Any]) -> None:
    """Each kind's review chain: its stages with their reviewers and service levels."""
    for kind, rules in chains.items():
        console.print(f"{kind}: chain {rules['chain']}", markup=False, style="bold")
        for number, stage in enumerate(rules["stages"], start=1):
            roles = ", ".join(stage["roles"])
            console.print(
                f"  {number}. {stage['stage']:<16} {roles:<30} {stage['sla_days']} days",
                markup=False,
                highlight=False,
            )
        console.print(f"  effects: {', '.join(rules['effects'])}", markup=False)
        console.print(f"  reasons: {', '.join(rules['reasons'])}", markup=False)


def print_result(console: Console, case: dict[str, Any], done: str) -> None:
    """One line after filing, reviewing or withdrawing: what was done, where the case is."""
    if not case["changed"]:
        done = "the request was applied before, nothing changed"
    if case["state"] == "OPEN":
        now = f"awaits {case['stage']} by {', '.join(case['stage_roles'])}"
        now += f", due {when(case['due_at'])}"
    else:
        now = f"resolved {_ending(case['outcome'], case['effect'])}"
    console.print(f"case {case['case_id']}: {done}; {now}", markup=False, highlight=False)
