"""Deciding eligibility: pure, deterministic functions of a ruleset and a household.

:func:`decide` extracts the inputs the ruleset reads from the facts, then evaluates
every compiled condition on them (the universal ones first) and lists all that fail.
:func:`redecide` does the same from a decision's recorded inputs, so an auditor gets an
identical decision; :func:`verify` checks a recorded decision that way.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from bansos_eligibility.rules.facts import HouseholdFacts, InputValue, normalize_inputs
from bansos_eligibility.rules.model import CompiledRuleset, Decision, Ruleset

__all__ = ["decide", "decide_all", "redecide", "verify"]


def _evaluate(plan: CompiledRuleset, household_id: str, inputs: dict[str, InputValue]) -> Decision:
    reasons = []
    for check in plan.checks:
        reason = check(inputs)
        if reason is not None:
            reasons.append(reason)
    return Decision.trusted(household_id, plan, tuple(reasons), inputs)


def decide(ruleset: Ruleset, facts: HouseholdFacts) -> Decision:
    """Decide whether the household of ``facts`` is eligible under ``ruleset``.

    Reasons list every failing condition: ``DEACTIVATED``, ``REFUSED``,
    ``EXCLUDED_BY_CASE`` (in that order), then the program's own in file order.
    """
    plan = ruleset.compiled
    return _evaluate(plan, facts.household_id, plan.extract(facts))


def redecide(
    ruleset: Ruleset, recorded_inputs: Mapping[str, object], household_id: str
) -> Decision:
    """Re-run a decision from its recorded inputs (e.g. parsed back from JSON).

    The inputs must be exactly those ``ruleset`` reads (:attr:`Ruleset.input_names`);
    otherwise :class:`~bansos_eligibility.rules.facts.InputsError` is raised.
    """
    inputs = normalize_inputs(recorded_inputs, ruleset.input_names)
    return _evaluate(ruleset.compiled, household_id, inputs)


def verify(ruleset: Ruleset, decision: Decision) -> bool:
    """Whether ``decision`` was made with ``ruleset`` and re-running it gives the same."""
    if (decision.ruleset_id, decision.ruleset_version, decision.ruleset_hash) != (
        ruleset.id,
        ruleset.version,
        ruleset.content_hash,
    ):
        return False
    return redecide(ruleset, decision.inputs, decision.household_id) == decision


def decide_all(rulesets: Iterable[Ruleset], facts: HouseholdFacts) -> tuple[Decision, ...]:
    """Decide every ruleset (every open program period) for one household.

    This is what a decile change, a deactivation or a resolved case triggers.
    """
    return tuple(decide(ruleset, facts) for ruleset in rulesets)
