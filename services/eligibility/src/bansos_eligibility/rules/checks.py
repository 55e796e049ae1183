"""The conditions a ruleset may use, and the universal ones every program applies first.

Each condition is a frozen pydantic model selected by its ``check`` name and carries the
reason code it produces when it fails. :meth:`Condition.inputs` names the recorded
inputs it reads; :meth:`Condition.compile` turns it into a closure over a recorded
inputs dict that returns ``None`` (passed) or a :class:`ReasonCode` (failed, with the
values that made it fail as the detail, e.g. ``6>4``). Compiling happens once, when the
ruleset is loaded.

The universal conditions are not written in ruleset files: for every program, in this
order, ``DEACTIVATED`` (not active in the register), ``REFUSED`` (an upheld refusal) and
``EXCLUDED_BY_CASE`` (an upheld objection excluding the household from this program or
from all).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from bansos_contracts.eligibility import ReasonCode
from bansos_contracts.enums import DeactivationReason, Program
from bansos_contracts.values import Code, Decile, RegencyCode, Rupiah
from bansos_eligibility.rules._trusted import trusted
from bansos_eligibility.rules.facts import ALL_PROGRAMS, FLAG_NAMES, FlagName, InputValue

__all__ = [
    "CHECK_NAMES",
    "UNIVERSAL_REASONS",
    "CheckFn",
    "Condition",
    "DecileAtLeast",
    "DecileAtMost",
    "EnrolledIn",
    "HasAnyVulnerableMember",
    "IncomeBelow",
    "NotEnrolledInOther",
    "ResidentOfRegency",
    "Rule",
    "universal_checks",
]

Inputs = Mapping[str, InputValue]
CheckFn = Callable[[Inputs], ReasonCode | None]
"""A compiled condition: ``None`` when it holds, else the reason it fails."""

DEACTIVATED = "DEACTIVATED"
REFUSED = "REFUSED"
EXCLUDED_BY_CASE = "EXCLUDED_BY_CASE"
UNIVERSAL_REASONS: tuple[str, ...] = (DEACTIVATED, REFUSED, EXCLUDED_BY_CASE)
"""The universal reason codes, in the order they are checked (before any program rule)."""
UNIVERSAL_INPUTS: tuple[str, ...] = ("active", "deactivation_reason", "refused", "exclusions")
"""The inputs the universal conditions read."""

Note = Annotated[str, Field(max_length=2000)]


def _reasons(code: str, details: Mapping[object, str]) -> dict[object, ReasonCode]:
    """Prebuilt reason codes by input value, so that failing costs no allocation."""
    return {value: ReasonCode(code=code, detail=detail) for value, detail in details.items()}


def _reason(code: str, detail: str) -> ReasonCode:
    """A reason code built on the hot path (``code`` was validated at load time)."""
    return trusted(ReasonCode, {"code": code, "detail": detail})


def universal_checks(program: Program) -> tuple[CheckFn, ...]:
    """The universal conditions for ``program``, compiled, in their fixed order."""
    deactivated = _reasons(DEACTIVATED, {r.value: r.value for r in DeactivationReason})
    inactive = ReasonCode(code=DEACTIVATED, detail="inactive")
    refused = ReasonCode(code=REFUSED, detail="upheld refusal")
    excluded_all = ReasonCode(code=EXCLUDED_BY_CASE, detail=ALL_PROGRAMS)
    excluded_this = ReasonCode(code=EXCLUDED_BY_CASE, detail=program.value)
    name = program.value

    def check_active(inputs: Inputs) -> ReasonCode | None:
        if inputs["active"]:
            return None
        return deactivated.get(inputs["deactivation_reason"], inactive)

    def check_refused(inputs: Inputs) -> ReasonCode | None:
        return refused if inputs["refused"] else None

    def check_excluded(inputs: Inputs) -> ReasonCode | None:
        exclusions = inputs["exclusions"]
        if exclusions == ALL_PROGRAMS:
            return excluded_all
        if isinstance(exclusions, list) and name in exclusions:
            return excluded_this
        return None

    return (check_active, check_refused, check_excluded)


class Condition(BaseModel):
    """Base of a ruleset condition: the reason code it gives when it fails, and a note."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    reason: Code
    """The reason code recorded when the condition fails, e.g. ``DECILE_ABOVE_MAX``."""
    note: Note = ""
    """Where the figure comes from, for people; part of the content hash."""

    def inputs(self, program: Program) -> tuple[str, ...]:
        """The recorded inputs this condition reads, for a ruleset of ``program``."""
        raise NotImplementedError

    def compile(self, program: Program) -> CheckFn:
        """This condition as a closure over a recorded inputs dict."""
        raise NotImplementedError


def _decile_check(fails: Mapping[object, ReasonCode], unknown: ReasonCode) -> CheckFn:
    """A check that looks the decile up among the failing ones (``unknown`` if none)."""

    def check(inputs: Inputs) -> ReasonCode | None:
        decile = inputs["decile"]
        if decile is None:
            return unknown
        return fails.get(decile)

    return check


class DecileAtMost(Condition):
    """The household's decile is at most ``value`` (deciles 1..value qualify)."""

    check: Literal["decile_at_most"]
    value: Decile

    def inputs(self, program: Program) -> tuple[str, ...]:
        return ("decile",)

    def compile(self, program: Program) -> CheckFn:
        limit = self.value
        fails = _reasons(self.reason, {d: f"{d}>{limit}" for d in range(limit + 1, 11)})
        unknown = ReasonCode(code=self.reason, detail=f"none>{limit}")
        return _decile_check(fails, unknown)


class DecileAtLeast(Condition):
    """The household's decile is at least ``value``."""

    check: Literal["decile_at_least"]
    value: Decile

    def inputs(self, program: Program) -> tuple[str, ...]:
        return ("decile",)

    def compile(self, program: Program) -> CheckFn:
        limit = self.value
        fails = _reasons(self.reason, {d: f"{d}<{limit}" for d in range(1, limit)})
        unknown = ReasonCode(code=self.reason, detail=f"none<{limit}")
        return _decile_check(fails, unknown)


class HasAnyVulnerableMember(Condition):
    """At least one of ``flags`` (default: all five vulnerability flags) is set."""

    check: Literal["has_any_vulnerable_member"]
    flags: tuple[FlagName, ...] = FLAG_NAMES

    @field_validator("flags")
    @classmethod
    def _canonical(cls, value: tuple[FlagName, ...]) -> tuple[FlagName, ...]:
        if not value:
            raise ValueError("flags must name at least one vulnerability flag")
        return tuple(name for name in FLAG_NAMES if name in value)

    def inputs(self, program: Program) -> tuple[str, ...]:
        return tuple(self.flags)

    def compile(self, program: Program) -> CheckFn:
        flags = tuple(self.flags)
        failed = ReasonCode(code=self.reason, detail="none of " + ",".join(flags))

        def check(inputs: Inputs) -> ReasonCode | None:
            for flag in flags:
                if inputs[flag]:
                    return None
            return failed

        return check


class IncomeBelow(Condition):
    """Monthly per-capita income is strictly below the poverty line.

    ``value`` is the default line in rupiah per person per month; ``by_regency`` gives
    the line of particular regencies (poverty lines are regional data).
    """

    check: Literal["income_below"]
    value: Rupiah
    by_regency: dict[RegencyCode, Rupiah] = Field(default_factory=dict)

    def inputs(self, program: Program) -> tuple[str, ...]:
        return ("per_capita_income", "regency") if self.by_regency else ("per_capita_income",)

    def compile(self, program: Program) -> CheckFn:
        default = self.value
        lines = dict(self.by_regency)
        reason = self.reason

        def check(inputs: Inputs) -> ReasonCode | None:
            line = default
            if lines:
                regency = inputs["regency"]
                if isinstance(regency, str):
                    line = lines.get(regency, default)
            income = inputs["per_capita_income"]
            if income is None:
                return _reason(reason, f"unknown>={line}")
            if isinstance(income, int) and income < line:
                return None
            return _reason(reason, f"{income}>={line}")

        return check


def _enrolment_inputs(programs: tuple[Program, ...]) -> tuple[str, ...]:
    """PBI-JKN enrolment is the register's ``pbi_jkn`` flag; the others are in ``programs``."""
    names: list[str] = []
    if any(p is not Program.PBI_JKN for p in programs):
        names.append("programs")
    if Program.PBI_JKN in programs:
        names.append("pbi_jkn")
    return tuple(names)


def _enrolled(inputs: Inputs, program: Program) -> bool:
    if program is Program.PBI_JKN:
        return bool(inputs["pbi_jkn"])
    enrolled = inputs["programs"]
    return isinstance(enrolled, list) and program.value in enrolled


class NotEnrolledInOther(Condition):
    """Not already receiving any of ``programs`` (no double benefits)."""

    check: Literal["not_enrolled_in_other"]
    programs: tuple[Program, ...] = Field(min_length=1)

    @field_validator("programs")
    @classmethod
    def _canonical(cls, value: tuple[Program, ...]) -> tuple[Program, ...]:
        return tuple(sorted(set(value)))

    def inputs(self, program: Program) -> tuple[str, ...]:
        return _enrolment_inputs(self.programs)

    def compile(self, program: Program) -> CheckFn:
        names = tuple(p.value for p in self.programs if p is not Program.PBI_JKN)
        pbi = Program.PBI_JKN in self.programs
        reason = self.reason
        known: dict[tuple[str, ...], ReasonCode] = {}

        def check(inputs: Inputs) -> ReasonCode | None:
            enrolled = inputs["programs"] if names else None
            double = tuple(n for n in names if n in enrolled) if isinstance(enrolled, list) else ()
            if pbi and inputs["pbi_jkn"]:
                double = tuple(sorted((*double, Program.PBI_JKN.value)))
            if not double:
                return None
            found = known.get(double)
            if found is None:
                found = known[double] = _reason(reason, ",".join(double))
            return found

        return check


class EnrolledIn(Condition):
    """Registered in ``program`` (for PBI-JKN: the register's ``pbi_jkn`` flag)."""

    check: Literal["enrolled_in"]
    program: Program

    def inputs(self, program: Program) -> tuple[str, ...]:
        return _enrolment_inputs((self.program,))

    def compile(self, program: Program) -> CheckFn:
        wanted = self.program
        failed = ReasonCode(code=self.reason, detail=f"not {wanted.value}")

        def check(inputs: Inputs) -> ReasonCode | None:
            return None if _enrolled(inputs, wanted) else failed

        return check


class ResidentOfRegency(Condition):
    """The head's KTP is of the regency the household lives in (and of ``regencies``).

    When the KTP regency is unknown, the register's own regency stands for it. A non-empty
    ``regencies`` list restricts the program to those regencies (a regional scheme).
    """

    check: Literal["resident_of_regency"]
    regencies: tuple[RegencyCode, ...] = ()

    @field_validator("regencies")
    @classmethod
    def _canonical(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(sorted(set(value)))

    def inputs(self, program: Program) -> tuple[str, ...]:
        return ("regency", "ktp_regency")

    def compile(self, program: Program) -> CheckFn:
        allowed = frozenset(self.regencies)
        reason = self.reason

        def check(inputs: Inputs) -> ReasonCode | None:
            regency = inputs["regency"]
            ktp = inputs["ktp_regency"]
            if ktp is not None and ktp != regency:
                return _reason(reason, f"KTP {ktp}, lives in {regency}")
            if allowed and regency not in allowed:
                return _reason(reason, f"{regency} not in {','.join(sorted(allowed))}")
            return None

        return check


Rule = Annotated[
    DecileAtMost
    | DecileAtLeast
    | HasAnyVulnerableMember
    | IncomeBelow
    | NotEnrolledInOther
    | EnrolledIn
    | ResidentOfRegency,
    Field(discriminator="check"),
]
"""One condition of a ruleset file, chosen by its ``check``."""

CHECK_NAMES: tuple[str, ...] = (
    "decile_at_most",
    "decile_at_least",
    "has_any_vulnerable_member",
    "income_below",
    "not_enrolled_in_other",
    "enrolled_in",
    "resident_of_regency",
)
"""The ``check`` names a ruleset file may use."""
