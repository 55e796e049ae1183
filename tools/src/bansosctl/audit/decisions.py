"""``audit verify-decisions``: re-run every recorded eligibility decision and compare.

Each ``EligibilityDecided`` in the index names its ruleset by id and content hash and
records the inputs it was applied to. The ruleset files are loaded with the eligibility
service's own code (:func:`bansos_eligibility.rules.load_ruleset`); the recorded inputs
are mapped back with :func:`bansos_eligibility.rules.recorded_inputs` and decided again
with :func:`bansos_eligibility.rules.redecide`, the same engine the service runs. A
decision reproduces when the status and every reason (code and detail, in order) come
out the same. A decision whose ruleset version (id and hash) is in none of the given
folders cannot be checked and is reported as such.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import ValidationError

from bansos_contracts.eligibility import EligibilityDecided, ReasonCode
from bansos_eligibility.rules import (
    InputsError,
    Ruleset,
    RulesetError,
    load_ruleset,
    recorded_inputs,
    redecide,
)
from bansosctl.audit.index import Index

__all__ = [
    "Failure",
    "RulesetCatalog",
    "VerifyReport",
    "load_rulesets",
    "verify_decision",
    "verify_decisions",
]

RulesetCatalog = dict[tuple[str, str], Ruleset]
"""Rulesets by (id, content hash)."""


def load_rulesets(folders: Iterable[Path]) -> RulesetCatalog:
    """Every ruleset file (``*.yaml``, ``*.yml``) in ``folders`` and their subfolders.

    Several versions of one ruleset id may sit side by side (e.g. an ``archive/``
    folder of superseded versions). Raises ``RulesetError`` for a file that does not load.
    """
    catalog: RulesetCatalog = {}
    for folder in folders:
        if not folder.is_dir():
            raise RulesetError(str(folder), ["not a folder"])
        for path in sorted([*folder.rglob("*.yaml"), *folder.rglob("*.yml")]):
            ruleset = load_ruleset(path)
            catalog[(ruleset.id, ruleset.content_hash)] = ruleset
    return catalog


def _reasons(reasons: Sequence[ReasonCode]) -> str:
    return "; ".join(r.code + (f" {r.detail}" if r.detail else "") for r in reasons) or "-"


@dataclass(frozen=True)
class Failure:
    """A decision that did not reproduce, or could not be checked."""

    kind: Literal["NOT_REPRODUCED", "UNKNOWN_RULESET"]
    event_id: str
    household_id: str
    program: str
    period: str
    ruleset_id: str
    ruleset_hash: str
    expected: str
    """The recorded status and reasons."""
    recomputed: str
    """The status and reasons re-running gave, or why it could not run."""

    def as_json(self) -> dict[str, Any]:
        """The failure as JSON-ready data."""
        return {
            "kind": self.kind,
            "event_id": self.event_id,
            "household_id": self.household_id,
            "program": self.program,
            "period": self.period,
            "ruleset_id": self.ruleset_id,
            "ruleset_hash": self.ruleset_hash,
            "expected": self.expected,
            "recomputed": self.recomputed,
        }


@dataclass
class VerifyReport:
    """The outcome of :func:`verify_decisions`."""

    checked: int = 0
    reproduced: int = 0
    failures: list[Failure] = field(default_factory=list)

    @property
    def not_reproduced(self) -> list[Failure]:
        """Decisions that re-ran to another status or other reasons (or could not re-run)."""
        return [f for f in self.failures if f.kind == "NOT_REPRODUCED"]

    @property
    def unknown_ruleset(self) -> list[Failure]:
        """Decisions whose ruleset version is in none of the folders."""
        return [f for f in self.failures if f.kind == "UNKNOWN_RULESET"]

    def as_json(self) -> dict[str, Any]:
        """The report as JSON-ready data."""
        return {
            "checked": self.checked,
            "reproduced": self.reproduced,
            "not_reproduced": len(self.not_reproduced),
            "unknown_ruleset": len(self.unknown_ruleset),
            "failures": [f.as_json() for f in self.failures],
        }


def verify_decision(
    event: EligibilityDecided, rulesets: RulesetCatalog, event_id: str | None = None
) -> Failure | None:
    """``None`` when ``event`` reproduces under its ruleset version, else the failure."""
    expected = f"{event.status.value} [{_reasons(event.reason_codes)}]"

    def failure(kind: Literal["NOT_REPRODUCED", "UNKNOWN_RULESET"], recomputed: str) -> Failure:
        return Failure(
            kind=kind,
            event_id=event_id or str(event.event_id),
            household_id=event.household_id,
            program=event.program.value,
            period=event.period,
            ruleset_id=event.ruleset_id,
            ruleset_hash=event.ruleset_hash,
            expected=expected,
            recomputed=recomputed,
        )

    ruleset = rulesets.get((event.ruleset_id, event.ruleset_hash))
    if ruleset is None:
        known = sorted(h[:12] for i, h in rulesets if i == event.ruleset_id)
        return failure(
            "UNKNOWN_RULESET",
            "no ruleset file with this id and hash"
            + (f" (known versions: {', '.join(known)})" if known else ""),
        )
    if (ruleset.program, ruleset.period) != (event.program, event.period):
        return failure(
            "NOT_REPRODUCED",
            f"the ruleset is for {ruleset.program.value} {ruleset.period}, not the decision's",
        )
    try:
        decision = redecide(
            ruleset, recorded_inputs(ruleset, event.inputs), household_id=event.household_id
        )
    except InputsError as error:
        return failure("NOT_REPRODUCED", f"the recorded inputs do not fit the ruleset: {error}")
    if decision.status == event.status and decision.reason_codes == event.reason_codes:
        return None
    return failure("NOT_REPRODUCED", f"{decision.status.value} [{_reasons(decision.reason_codes)}]")


def verify_decisions(index: Index, rulesets: RulesetCatalog) -> VerifyReport:
    """Re-run every ``EligibilityDecided`` in the index, in Kafka order."""
    report = VerifyReport()
    rows = index.db.execute(
        "SELECT event_id, body FROM events WHERE event_type = 'EligibilityDecided'"
        " ORDER BY topic, kafka_partition, kafka_offset"
    )
    for event_id, body in rows:
        report.checked += 1
        try:
            event = EligibilityDecided.model_validate_json(body)
        except ValidationError as error:
            report.failures.append(
                Failure("NOT_REPRODUCED", event_id, "?", "?", "?", "?", "?", "?",
                        f"the recorded event no longer validates: {error.errors()[0]['msg']}")
            )  # fmt: skip
            continue
        found = verify_decision(event, rulesets, event_id)
        if found is None:
            report.reproduced += 1
        else:
            report.failures.append(found)
    return report
