"""What a new ruleset version would change, household by household, without publishing.

:func:`simulate` decides every household under the old and the new ruleset and counts,
per village, who would gain eligibility (and which old reasons no longer apply) and who
would lose it (and which new reasons now apply). :meth:`SimulationReport.format` renders
a plain-text table. No I/O: the caller supplies the households and prints the report.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping

from pydantic import BaseModel, ConfigDict, Field

from bansos_contracts.enums import Program
from bansos_eligibility.rules.engine import decide
from bansos_eligibility.rules.facts import HouseholdFacts
from bansos_eligibility.rules.model import Ruleset

__all__ = ["SimulationReport", "VillageChanges", "simulate"]

TOTAL = "TOTAL"


class VillageChanges(BaseModel):
    """The changes in one village (or, with village ``TOTAL``, in all of them)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    village: str
    households: int = 0
    eligible_before: int = 0
    eligible_after: int = 0
    gained: int = 0
    """Households INELIGIBLE under the old ruleset and ELIGIBLE under the new."""
    lost: int = 0
    """Households ELIGIBLE under the old ruleset and INELIGIBLE under the new."""
    gain_reasons: dict[str, int] = Field(default_factory=dict)
    """For the gains: how often each old reason code no longer applies."""
    loss_reasons: dict[str, int] = Field(default_factory=dict)
    """For the losses: how often each new reason code applies."""


class SimulationReport(BaseModel):
    """Gains and losses of eligibility per village between two rulesets of one program."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    program: Program
    old_id: str
    old_version: int
    old_hash: str
    new_id: str
    new_version: int
    new_hash: str
    villages: tuple[VillageChanges, ...]
    """One row per village, sorted by village code."""
    total: VillageChanges

    def format(self) -> str:
        """A plain-text table: one line per village, then the total."""
        header = (
            "village",
            "households",
            "eligible before",
            "eligible after",
            "gain",
            "lose",
            "why gain",
            "why lose",
        )
        rows = [header] + [_row(v) for v in (*self.villages, self.total)]
        widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
        lines = [
            f"{self.program.value}: {self.old_id} v{self.old_version} ({self.old_hash[:12]})"
            f" -> {self.new_id} v{self.new_version} ({self.new_hash[:12]})",
            "",
        ]
        for index, row in enumerate(rows):
            cells = [
                cell.ljust(widths[i]) if i in (0, 6, 7) else cell.rjust(widths[i])
                for i, cell in enumerate(row)
            ]
            lines.append("  ".join(cells).rstrip())
            if index == 0 or index == len(rows) - 2:
                lines.append("  ".join("-" * width for width in widths))
        return "\n".join(lines) + "\n"


def _reasons_text(reasons: Mapping[str, int]) -> str:
    if not reasons:
        return "-"
    ordered = sorted(reasons.items(), key=lambda item: (-item[1], item[0]))
    return ", ".join(f"{code} {count}" for code, count in ordered)


def _row(changes: VillageChanges) -> tuple[str, ...]:
    return (
        changes.village,
        str(changes.households),
        str(changes.eligible_before),
        str(changes.eligible_after),
        str(changes.gained),
        str(changes.lost),
        _reasons_text(changes.gain_reasons),
        _reasons_text(changes.loss_reasons),
    )


class _Tally:
    def __init__(self) -> None:
        self.households = 0
        self.before = 0
        self.after = 0
        self.gained = 0
        self.lost = 0
        self.gain_reasons: Counter[str] = Counter()
        self.loss_reasons: Counter[str] = Counter()

    def add(self, other: _Tally) -> None:
        self.households += other.households
        self.before += other.before
        self.after += other.after
        self.gained += other.gained
        self.lost += other.lost
        self.gain_reasons.update(other.gain_reasons)
        self.loss_reasons.update(other.loss_reasons)

    def freeze(self, village: str) -> VillageChanges:
        return VillageChanges(
            village=village,
            households=self.households,
            eligible_before=self.before,
            eligible_after=self.after,
            gained=self.gained,
            lost=self.lost,
            gain_reasons=dict(sorted(self.gain_reasons.items())),
            loss_reasons=dict(sorted(self.loss_reasons.items())),
        )


def simulate(old: Ruleset, new: Ruleset, households: Iterable[HouseholdFacts]) -> SimulationReport:
    """Compare ``old`` and ``new`` (same program) over ``households``; publishes nothing.

    Raises :class:`ValueError` when the two rulesets are for different programs.
    """
    if old.program is not new.program:
        raise ValueError(f"cannot compare {old.program.value} with {new.program.value}")
    tallies: dict[str, _Tally] = {}
    for facts in households:
        tally = tallies.get(facts.village)
        if tally is None:
            tally = tallies[facts.village] = _Tally()
        before = decide(old, facts)
        after = decide(new, facts)
        tally.households += 1
        tally.before += before.eligible
        tally.after += after.eligible
        if after.eligible and not before.eligible:
            tally.gained += 1
            tally.gain_reasons.update(set(before.codes))
        elif before.eligible and not after.eligible:
            tally.lost += 1
            tally.loss_reasons.update(set(after.codes))
    total = _Tally()
    for tally in tallies.values():
        total.add(tally)
    return SimulationReport(
        program=old.program,
        old_id=old.id,
        old_version=old.version,
        old_hash=old.content_hash,
        new_id=new.id,
        new_version=new.version,
        new_hash=new.content_hash,
        villages=tuple(tallies[village].freeze(village) for village in sorted(tallies)),
        total=total.freeze(TOTAL),
    )
