"""Mapping decisions onto the public ``EligibilityDecided`` contract, and back.

Inputs with a field of their own in :class:`~bansos_contracts.eligibility.DecisionInputs`
(decile, vulnerability flags, programs, active, per-capita income) go there; the others
a ruleset reads (``deactivation_reason``, ``refused``, ``exclusions``, ``pbi_jkn``,
``regency``, ``ktp_regency``) go into ``extra`` as JSON scalars. ``exclusions`` is written
``"ALL"``, ``""`` (none) or program names joined by ``;``. :func:`recorded_inputs`
reverses the mapping for an auditor who holds only the published event.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bansos_contracts.eligibility import CaseOutcomeInput, DecisionInputs
from bansos_contracts.enums import EligibilityStatus, Program
from bansos_contracts.values import JsonScalar, VulnerabilityFlags
from bansos_eligibility.rules.facts import ALL_PROGRAMS, FLAG_NAMES, InputsError, InputValue
from bansos_eligibility.rules.model import Decision, Ruleset

__all__ = ["decision_inputs", "event_fields", "recorded_inputs", "to_decision_inputs"]

_OWN_FIELDS = frozenset({"decile", "programs", "active", "per_capita_income", *FLAG_NAMES})


def _scalar(name: str, value: InputValue) -> JsonScalar:
    if isinstance(value, list):
        return ";".join(value)
    return value


def to_decision_inputs(
    decision: Decision,
    *,
    village: str | None = None,
    case_outcomes: tuple[CaseOutcomeInput, ...] = (),
) -> DecisionInputs:
    """The contract's ``inputs`` of a decision; ``village`` and cases may be added."""
    return decision_inputs(decision.inputs, village=village, case_outcomes=case_outcomes)


def decision_inputs(
    inputs: Mapping[str, InputValue],
    *,
    village: str | None = None,
    case_outcomes: tuple[CaseOutcomeInput, ...] = (),
) -> DecisionInputs:
    """The contract's ``inputs`` of a decision's recorded inputs dict (e.g. as stored)."""
    read_flags = {name: bool(inputs[name]) for name in FLAG_NAMES if name in inputs}
    decile = inputs.get("decile")
    income = inputs.get("per_capita_income")
    programs = inputs.get("programs")
    return DecisionInputs(
        decile=decile if isinstance(decile, int) else None,
        flags=VulnerabilityFlags(**read_flags) if read_flags else None,
        programs=tuple(Program(p) for p in programs) if isinstance(programs, list) else (),
        active=bool(inputs["active"]),
        per_capita_income=income if isinstance(income, int) else None,
        village=village,
        case_outcomes=case_outcomes,
        extra={
            name: _scalar(name, value) for name, value in inputs.items() if name not in _OWN_FIELDS
        },
    )


def event_fields(
    decision: Decision, previous_status: EligibilityStatus | None = None
) -> dict[str, Any]:
    """The ``EligibilityDecided`` fields of a decision (the envelope is the caller's)."""
    return {
        "household_id": decision.household_id,
        "program": decision.program,
        "period": decision.period,
        "status": decision.status,
        "previous_status": previous_status,
        "reason_codes": decision.reason_codes,
        "ruleset_id": decision.ruleset_id,
        "ruleset_hash": decision.ruleset_hash,
        "inputs": to_decision_inputs(decision),
    }


def recorded_inputs(ruleset: Ruleset, inputs: DecisionInputs) -> dict[str, object]:
    """The recorded inputs dict of a published decision, for :func:`engine.redecide`."""
    result: dict[str, object] = {}
    for name in ruleset.input_names:
        if name in FLAG_NAMES:
            if inputs.flags is None:
                raise InputsError(f"the ruleset reads {name} but the event has no flags")
            result[name] = getattr(inputs.flags, name)
        elif name == "programs":
            result[name] = [program.value for program in inputs.programs]
        elif name in _OWN_FIELDS:
            result[name] = getattr(inputs, name)
        elif name not in inputs.extra:
            raise InputsError(f"the ruleset reads {name} but the event's extra has none")
        elif name == "exclusions":
            text = inputs.extra[name]
            if text == ALL_PROGRAMS:
                result[name] = ALL_PROGRAMS
            else:
                result[name] = [part for part in str(text).split(";") if part]
        else:
            result[name] = inputs.extra[name]
    return result
