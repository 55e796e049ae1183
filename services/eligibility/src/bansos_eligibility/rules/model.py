"""Rulesets as versioned data, and the decisions made with them.

A :class:`Ruleset` is one program for one period, read from a YAML file in
``bansos_eligibility/programs/``: its id and version, amounts, payment-channel policy and
its conditions (:mod:`bansos_eligibility.rules.checks`). Its :attr:`Ruleset.content_hash`
is the SHA-256 of the canonical JSON of the parsed content, so reformatting the file or
reordering its keys leaves it unchanged while any change of value changes it. Conditions
are checked and compiled when the ruleset is loaded: a ruleset that loads can decide.

A :class:`Decision` records the ruleset (id, version, hash), the status, every failing
reason and exactly the inputs the ruleset read, so it can be re-run by an auditor.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Annotated, Any, Self

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from bansos_contracts.eligibility import ReasonCode
from bansos_contracts.enums import Channel, EligibilityStatus, Program
from bansos_contracts.values import (
    HouseholdId,
    Identifier,
    Period,
    Rupiah,
    Sha256Hex,
    period_bounds,
)
from bansos_eligibility.rules._trusted import trusted
from bansos_eligibility.rules.checks import (
    CHECK_NAMES,
    UNIVERSAL_INPUTS,
    UNIVERSAL_REASONS,
    CheckFn,
    NotEnrolledInOther,
    Rule,
    universal_checks,
)
from bansos_eligibility.rules.facts import (
    INPUT_NAMES,
    Extractor,
    HouseholdFacts,
    InputValue,
    make_extractor,
)

__all__ = [
    "PROGRAMS_DIR",
    "Amount",
    "ChannelPolicy",
    "CompiledRuleset",
    "Decision",
    "HouseholdFacts",
    "Ruleset",
    "RulesetError",
    "canonical_json",
    "load_ruleset",
    "load_rulesets",
    "parse_ruleset",
    "shipped_rulesets",
]

PROGRAMS_DIR = Path(__file__).resolve().parent.parent / "programs"
"""The folder of the shipped ruleset files."""

Text = Annotated[str, Field(max_length=4000)]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Amount(_Frozen):
    """What a household receives for the period, in whole rupiah."""

    total: Rupiah | None
    """Per household for the whole period; ``None`` when this ruleset does not set it."""
    per_month: Rupiah | None = None
    """Per household per month, when the program states a monthly amount."""
    paid_at_once: bool = False
    """Whether the whole period is paid in one payout."""
    premium_per_member_per_month: Rupiah | None = None
    """A premium the state pays for each member (PBI-JKN), not money to the household."""
    note: Text = ""
    """Where the figures come from."""


class ChannelPolicy(_Frozen):
    """How payouts reach households: a hint for the payout service, as data.

    Households already receiving one of ``existing_recipients_of`` are paid through
    ``existing`` (their KKS card); the others ("expansion" recipients) through ``new``.
    """

    existing_recipients_of: tuple[Program, ...] = ()
    existing: Channel
    new: Channel
    note: Text = ""

    @field_validator("existing_recipients_of")
    @classmethod
    def _canonical(cls, value: tuple[Program, ...]) -> tuple[Program, ...]:
        return tuple(sorted(set(value)))

    def channel_for(self, programs: Iterable[Program]) -> Channel:
        """The channel for a household enrolled in ``programs``."""
        enrolled = set(programs)
        return self.existing if enrolled.intersection(self.existing_recipients_of) else self.new


class CompiledRuleset:
    """A ruleset ready to run: identity, the inputs it reads and its compiled conditions."""

    __slots__ = (
        "checks",
        "content_hash",
        "extract",
        "id",
        "input_names",
        "period",
        "program",
        "version",
    )

    def __init__(
        self,
        *,
        program: Program,
        period: str,
        id: str,
        version: int,
        content_hash: str,
        input_names: tuple[str, ...],
        extract: Extractor,
        checks: tuple[CheckFn, ...],
    ) -> None:
        self.program = program
        self.period = period
        self.id = id
        self.version = version
        self.content_hash = content_hash
        self.input_names = input_names
        self.extract = extract
        """Extracts the recorded inputs from facts."""
        self.checks = checks
        """The compiled conditions: the universal ones, then the program's own."""

    def __eq__(self, other: object) -> bool:
        """Equal when compiled from the same content (so equal rulesets compare equal)."""
        if not isinstance(other, CompiledRuleset):
            return NotImplemented
        return self.content_hash == other.content_hash

    def __hash__(self) -> int:
        return hash(self.content_hash)


def canonical_json(data: object) -> bytes:
    """JSON with sorted keys, no whitespace, UTF-8: the same bytes for the same content."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


class Ruleset(_Frozen):
    """The rules, amounts and period of one program, as loaded from a ruleset file.

    Construct it with :func:`load_ruleset` or :func:`parse_ruleset` (or
    ``Ruleset.model_validate``); ``model_copy(update=...)`` re-validates and recompiles.
    """

    id: Identifier
    """Stable id of the program period, e.g. ``blts-kesra-2025q4``."""
    version: int = Field(ge=1)
    """Version of this ruleset; a new version of the same id supersedes the older."""
    program: Program
    period: Period
    """The months covered, ``YYYY-MM..YYYY-MM``."""
    title: Text = ""
    amount: Amount
    channels: ChannelPolicy | None = None
    """Payment channel hints; ``None`` when nothing is paid to the household."""
    rules: tuple[Rule, ...] = ()
    """The program's own conditions, checked after the universal ones, in this order."""
    sources: tuple[Text, ...] = ()
    """Where the rules and figures come from."""

    _plan: CompiledRuleset | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _coherent(self) -> Ruleset:
        problems: list[str] = []
        seen: set[str] = set()
        for index, rule in enumerate(self.rules):
            if rule.reason in UNIVERSAL_REASONS:
                problems.append(f"rules[{index}]: reason {rule.reason} is reserved (universal)")
            if rule.reason in seen:
                problems.append(f"rules[{index}]: reason {rule.reason} is used twice")
            seen.add(rule.reason)
            if isinstance(rule, NotEnrolledInOther) and self.program in rule.programs:
                problems.append(f"rules[{index}]: {self.program.value} is this ruleset's program")
        amount = self.amount
        if amount.per_month is not None and amount.total is not None:
            (y0, m0), (y1, m1) = period_bounds(self.period)
            months = (y1 - y0) * 12 + m1 - m0 + 1
            if amount.per_month * months != amount.total:
                problems.append(
                    f"amount: total {amount.total} is not per_month {amount.per_month}"
                    f" x {months} months"
                )
        if problems:
            raise ValueError("\n".join(problems))  # one problem a line (see _problems)
        return self

    def model_post_init(self, context: Any, /) -> None:
        """Hash the content and compile the conditions (once, at load time)."""
        read = set(UNIVERSAL_INPUTS)
        for rule in self.rules:
            read.update(rule.inputs(self.program))
        names = tuple(name for name in INPUT_NAMES if name in read)
        self._plan = CompiledRuleset(
            program=self.program,
            period=self.period,
            id=self.id,
            version=self.version,
            content_hash=hashlib.sha256(canonical_json(self.model_dump(mode="json"))).hexdigest(),
            input_names=names,
            extract=make_extractor(names),
            checks=universal_checks(self.program)
            + tuple(rule.compile(self.program) for rule in self.rules),
        )

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Self:
        """A validated copy with ``update`` applied (hash and conditions recomputed)."""
        data = self.model_dump()
        data.update(update or {})
        return type(self).model_validate(data)

    @property
    def compiled(self) -> CompiledRuleset:
        """The ruleset as compiled at load time (what the engine runs)."""
        # Read the private storage directly: pydantic's private-attribute lookup costs
        # microseconds, and the engine asks once per decision.
        private = self.__pydantic_private__
        plan = private["_plan"] if private else None
        if plan is None:  # only for model_construct(), which skips validation
            raise ValueError(f"ruleset {self.id} was not validated; use parse_ruleset()")
        result: CompiledRuleset = plan
        return result

    @property
    def content_hash(self) -> str:
        """SHA-256 (hex) of the canonical JSON of the parsed ruleset."""
        return self.compiled.content_hash

    @property
    def input_names(self) -> tuple[str, ...]:
        """The recorded inputs a decision with this ruleset reads, in canonical order."""
        return self.compiled.input_names

    @property
    def months(self) -> int:
        """How many months the period covers."""
        (y0, m0), (y1, m1) = period_bounds(self.period)
        return (y1 - y0) * 12 + m1 - m0 + 1


class Decision(_Frozen):
    """The eligibility of one household for one program period, with everything behind it."""

    household_id: HouseholdId
    program: Program
    period: Period
    status: EligibilityStatus
    reason_codes: tuple[ReasonCode, ...] = ()
    """Every failing condition, universal ones first; empty when ``ELIGIBLE``."""
    ruleset_id: Identifier
    ruleset_version: int
    ruleset_hash: Sha256Hex
    inputs: dict[str, InputValue]
    """Exactly the inputs the ruleset read, in canonical form (see ``facts``); read-only."""

    @classmethod
    def trusted(
        cls,
        household_id: str,
        plan: CompiledRuleset,
        reason_codes: tuple[ReasonCode, ...],
        inputs: dict[str, InputValue],
    ) -> Decision:
        """Build a decision from engine-made values without re-validating them.

        Equivalent to ``model_construct`` with every field given, at a fraction of its
        cost; only the engine calls it, with values that are valid by construction.
        """
        return trusted(
            cls,
            {
                "household_id": household_id,
                "program": plan.program,
                "period": plan.period,
                "status": _INELIGIBLE if reason_codes else _ELIGIBLE,
                "reason_codes": reason_codes,
                "ruleset_id": plan.id,
                "ruleset_version": plan.version,
                "ruleset_hash": plan.content_hash,
                "inputs": inputs,
            },
        )

    @property
    def eligible(self) -> bool:
        """Whether the status is ``ELIGIBLE``."""
        return self.status is EligibilityStatus.ELIGIBLE

    @property
    def codes(self) -> tuple[str, ...]:
        """The reason codes alone, in order."""
        return tuple(reason.code for reason in self.reason_codes)


_ELIGIBLE = EligibilityStatus.ELIGIBLE
_INELIGIBLE = EligibilityStatus.INELIGIBLE


class RulesetError(ValueError):
    """A ruleset file that cannot be loaded; the message names the file and each problem."""

    def __init__(self, source: str, problems: Iterable[str]) -> None:
        self.source = source
        self.problems = tuple(problems)
        lines = "".join(f"\n  - {problem}" for problem in self.problems)
        super().__init__(f"{source}: invalid ruleset:{lines}")


def _location(loc: tuple[int | str, ...]) -> str:
    text = ""
    previous: int | str | None = None
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        elif isinstance(previous, int) and part in CHECK_NAMES:
            text += f" ({part})"
        else:
            text += f".{part}" if text else part
        previous = part
    return text or "ruleset"


def _problems(error: ValidationError) -> list[str]:
    known = ", ".join(CHECK_NAMES)
    problems: list[str] = []
    for item in error.errors():
        where = _location(item["loc"])
        given = item.get("input")
        if item["type"] == "union_tag_invalid" and isinstance(given, Mapping):
            message = f"unknown check {given.get('check')!r} (known checks: {known})"
        elif item["type"] == "union_tag_not_found":
            message = f"no check given (known checks: {known})"
        elif item["loc"] == ("period",):
            message = f"{given!r} is not a period YYYY-MM..YYYY-MM (e.g. 2025-10..2025-12)"
            if item["type"] == "value_error":
                message = item["msg"].removeprefix("Value error, ")
        elif not item["loc"]:  # the ruleset's own checks, already located
            problems.extend(item["msg"].removeprefix("Value error, ").splitlines())
            continue
        else:
            message = item["msg"].removeprefix("Value error, ")
        problems.append(f"{where}: {message}")
    return problems


def parse_ruleset(data: object, source: str = "<ruleset>") -> Ruleset:
    """Validate parsed YAML/JSON content as a ruleset; errors name ``source``."""
    if not isinstance(data, Mapping):
        raise RulesetError(source, [f"expected a mapping at the top, got {type(data).__name__}"])
    try:
        return Ruleset.model_validate(data)
    except ValidationError as error:
        raise RulesetError(source, _problems(error)) from None


def load_ruleset(path: str | Path) -> Ruleset:
    """Load one ruleset file (YAML). Raises :class:`RulesetError` naming the file."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise RulesetError(str(path), [f"not valid YAML: {error}"]) from None
    return parse_ruleset(data, str(path))


def load_rulesets(folder: str | Path) -> tuple[Ruleset, ...]:
    """Load every ``*.yaml``/``*.yml`` file of ``folder``, sorted by program and period.

    Ids, and (program, period) pairs, must be unique within the folder.
    """
    folder = Path(folder)
    files = sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")])
    rulesets = [load_ruleset(path) for path in files]
    by_id: dict[str, Path] = {}
    by_period: dict[tuple[Program, str], Path] = {}
    for path, ruleset in zip(files, rulesets, strict=True):
        if ruleset.id in by_id:
            raise RulesetError(str(path), [f"id {ruleset.id} also in {by_id[ruleset.id]}"])
        key = (ruleset.program, ruleset.period)
        if key in by_period:
            raise RulesetError(
                str(path),
                [f"{ruleset.program.value} {ruleset.period} also in {by_period[key]}"],
            )
        by_id[ruleset.id] = path
        by_period[key] = path
    return tuple(sorted(rulesets, key=lambda r: (r.program.value, r.period)))


def shipped_rulesets() -> tuple[Ruleset, ...]:
    """The rulesets shipped in :data:`PROGRAMS_DIR`."""
    return load_rulesets(PROGRAMS_DIR)
