"""What the rules read about a household: :class:`HouseholdFacts` and recorded inputs.

A decision records only the inputs its ruleset reads, as a small JSON-ready dict
(:data:`InputValue` values, keyed by the names in :data:`INPUT_NAMES`). Facts are turned
into that dict by :func:`extract_inputs`; an auditor's copy of the dict is checked and
put back into the same canonical form by :func:`normalize_inputs`. The engine evaluates
its conditions on that dict only, so a decision re-run from its recorded inputs is
computed by exactly the same code as the original.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from operator import attrgetter
from typing import Any, Literal, get_args

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    TypeAdapter,
    ValidationError,
    model_validator,
)

from bansos_contracts.enums import DeactivationReason, Program
from bansos_contracts.values import (
    Decile,
    HouseholdId,
    RegencyCode,
    Rupiah,
    VillageCode,
    VulnerabilityFlags,
)

__all__ = [
    "ALL_PROGRAMS",
    "FLAG_NAMES",
    "INPUT_NAMES",
    "Extractor",
    "FlagName",
    "HouseholdFacts",
    "InputValue",
    "InputsError",
    "extract_inputs",
    "make_extractor",
    "normalize_inputs",
]

InputValue = bool | int | str | list[str] | None
"""A recorded input value: JSON-ready (a program set is a sorted list of names)."""

ALL_PROGRAMS: Literal["ALL"] = "ALL"
"""The ``exclusions`` value of an upheld case that excludes a household from every program."""

FlagName = Literal[
    "has_elderly",
    "has_disability",
    "has_child_under6",
    "has_school_child",
    "has_pregnant",
]
"""The name of a DTSEN vulnerability flag."""
FLAG_NAMES: tuple[FlagName, ...] = get_args(FlagName)
"""The five DTSEN vulnerability flags, in register order."""


class HouseholdFacts(BaseModel):
    """Everything eligibility knows about one household when it decides.

    Register facts come from ``bansos.registry.v1``; ``refused`` and ``exclusions`` are
    the effects of upheld cases from ``bansos.objections.v1``. The region is given by the
    village code; the district, regency and province are its prefixes.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    household_id: HouseholdId
    """The DTSEN household id."""
    village: VillageCode
    """Where the household lives, e.g. ``35.17.01.2001``."""
    ktp_regency: RegencyCode | None = None
    """The regency of the head's KTP (the NIK's first four digits), when known."""
    decile: Decile | None
    """Welfare decile 1-10; ``None`` when the register gives none."""
    member_count: int = Field(default=1, ge=1)
    """Members of the household."""
    per_capita_income: Rupiah | None = None
    """Monthly income per member, whole rupiah; ``None`` when unknown."""
    has_elderly: bool = False
    has_disability: bool = False
    has_child_under6: bool = False
    has_school_child: bool = False
    has_pregnant: bool = False
    pbi_jkn: bool = False
    """Registered as PBI-JKN (state-paid health insurance) in the register."""
    programs: frozenset[Program] = frozenset()
    """Programs the household currently receives, as the register says."""
    active: bool = True
    """Whether the household is active in the register."""
    deactivation_reason: DeactivationReason | None = None
    """Why it left the register; only for an inactive household."""
    refused: bool = False
    """An upheld refusal (*menolak*): ineligible for every program from then on."""
    exclusions: frozenset[Program] | Literal["ALL"] = frozenset()
    """Programs an upheld objection excludes the household from, or ``"ALL"``."""

    @model_validator(mode="after")
    def _consistent(self) -> HouseholdFacts:
        if self.active and self.deactivation_reason is not None:
            raise ValueError("an active household has no deactivation_reason")
        return self

    @property
    def district(self) -> str:
        """The district (kecamatan) code, e.g. ``35.17.01``."""
        return self.village[:8]

    @property
    def regency(self) -> str:
        """The regency code, e.g. ``35.17``."""
        return self.village[:5]

    @property
    def province(self) -> str:
        """The province code, e.g. ``35``."""
        return self.village[:2]

    @property
    def flags(self) -> VulnerabilityFlags:
        """The vulnerability flags as the contract's model."""
        return VulnerabilityFlags(**{name: getattr(self, name) for name in FLAG_NAMES})

    def excluded_from(self, program: Program) -> bool:
        """Whether an upheld case excludes the household from ``program``."""
        return self.exclusions == ALL_PROGRAMS or program in self.exclusions


class InputsError(ValueError):
    """Recorded inputs that do not fit the ruleset they are re-run with."""


# --- canonical forms ------------------------------------------------------------------


def _program_names(programs: Iterable[Program]) -> list[str]:
    # Program is a StrEnum whose values equal their names: str() is the value.
    return sorted(map(str, programs)) if programs else []


def _exclusions(value: frozenset[Program] | Literal["ALL"]) -> str | list[str]:
    return ALL_PROGRAMS if value == ALL_PROGRAMS else _program_names(value)


def _reason(value: DeactivationReason | None) -> str | None:
    return None if value is None else value.value


def _same(value: Any) -> InputValue:
    result: InputValue = value
    return result


# Each input: the HouseholdFacts attribute it comes from, and how that attribute's value
# is put into canonical form (None when it already is).
_SOURCES: dict[str, tuple[str, Callable[[Any], InputValue] | None]] = {
    "active": ("active", None),
    "deactivation_reason": ("deactivation_reason", _reason),
    "refused": ("refused", None),
    "exclusions": ("exclusions", _exclusions),
    "decile": ("decile", None),
    "per_capita_income": ("per_capita_income", None),
    **{name: (name, None) for name in FLAG_NAMES},
    "pbi_jkn": ("pbi_jkn", None),
    "programs": ("programs", _program_names),
    "regency": ("regency", None),
    "ktp_regency": ("ktp_regency", None),
}

INPUT_NAMES: tuple[str, ...] = tuple(_SOURCES)
"""Every input a rule may read, in the canonical order of a recorded inputs dict."""

# How a recorded value is checked (pydantic) and put back into canonical form.
_RECORDED: dict[str, tuple[TypeAdapter[Any], Callable[[Any], InputValue]]] = {
    "active": (TypeAdapter(StrictBool), _same),
    "deactivation_reason": (TypeAdapter(DeactivationReason | None), _reason),
    "refused": (TypeAdapter(StrictBool), _same),
    "exclusions": (TypeAdapter(Literal["ALL"] | frozenset[Program]), _exclusions),
    "decile": (TypeAdapter(Decile | None), _same),
    "per_capita_income": (TypeAdapter(Rupiah | None), _same),
    **{name: (TypeAdapter(StrictBool), _same) for name in FLAG_NAMES},
    "pbi_jkn": (TypeAdapter(StrictBool), _same),
    "programs": (TypeAdapter(frozenset[Program]), _program_names),
    "regency": (TypeAdapter(RegencyCode), _same),
    "ktp_regency": (TypeAdapter(RegencyCode | None), _same),
}


Extractor = Callable[[HouseholdFacts], dict[str, InputValue]]
"""A function from facts to the canonical inputs dict of a fixed list of names."""


def make_extractor(names: Iterable[str]) -> Extractor:
    """A fast extractor of the inputs ``names`` (one C-level getter, then fix-ups)."""
    wanted = tuple(names)
    if not wanted:
        return lambda facts: {}
    attributes = [_SOURCES[name][0] for name in wanted]
    fixups = tuple(
        (name, canonical) for name in wanted if (canonical := _SOURCES[name][1]) is not None
    )
    if len(wanted) == 1:
        only = wanted[0]
        fetch_one: Callable[[HouseholdFacts], InputValue] = attrgetter(attributes[0])

        def extract_one(facts: HouseholdFacts) -> dict[str, InputValue]:
            inputs: dict[str, InputValue] = {only: fetch_one(facts)}
            for name, canonical in fixups:
                inputs[name] = canonical(inputs[name])
            return inputs

        return extract_one

    fetch = attrgetter(*attributes)

    def extract(facts: HouseholdFacts) -> dict[str, InputValue]:
        inputs: dict[str, InputValue] = dict(zip(wanted, fetch(facts), strict=True))
        for name, canonical in fixups:
            inputs[name] = canonical(inputs[name])
        return inputs

    return extract


def extract_inputs(facts: HouseholdFacts, names: Iterable[str]) -> dict[str, InputValue]:
    """The canonical inputs dict of ``facts``, restricted to ``names``."""
    return make_extractor(names)(facts)


def normalize_inputs(recorded: Mapping[str, object], names: Iterable[str]) -> dict[str, InputValue]:
    """Check recorded inputs against the names a ruleset reads; return their canonical form.

    Raises :class:`InputsError` when a name is missing or unexpected, or a value has the
    wrong type (e.g. a decile of 11).
    """
    wanted = tuple(names)
    missing = [name for name in wanted if name not in recorded]
    unexpected = sorted(set(recorded) - set(wanted))
    if missing or unexpected:
        raise InputsError(
            f"recorded inputs do not match the ruleset: missing {missing}, unexpected {unexpected}"
        )
    result: dict[str, InputValue] = {}
    for name in wanted:
        adapter, canonical = _RECORDED[name]
        try:
            value = adapter.validate_python(recorded[name])
        except ValidationError as error:
            problem = error.errors()[0]["msg"]
            raise InputsError(f"recorded input {name}={recorded[name]!r}: {problem}") from None
        result[name] = canonical(value)
    return result
