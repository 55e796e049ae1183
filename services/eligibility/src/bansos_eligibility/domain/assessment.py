"""The ``Assessment`` aggregate: everything eligibility knows and decided about one household.

One assessment per DTSEN household. It records the household's register facts (as
folded from ``bansos.registry.v1``), the cases about it (``bansos.objections.v1``), the
payouts made to it (``bansos.payout.v1``, for the citizen's one answer) and, per program
period, the last decision. A decision is recorded when it is the first for its program
period, or when its status or its reasons differ from the last one: an unchanged decision
records nothing, so re-reading any topic from offset 0 changes nothing.

Each input is taken once: the source's own version of the household, case or payout
(the envelope's ``subject_version``) is kept, and an older or equal one is ignored, so a
topic consumed again from offset 0 changes nothing.

The effects of upheld cases (a refusal, an exclusion) are applied to the register facts
here, so that every decision sees them; the register itself is never changed.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from eventsourcing.domain import Aggregate, event

from bansos_contracts.enums import CaseEffect, CaseKind, CaseOutcome, EligibilityStatus, Program
from bansos_eligibility.rules.engine import decide
from bansos_eligibility.rules.facts import ALL_PROGRAMS, HouseholdFacts
from bansos_eligibility.rules.model import Decision, Ruleset

ASSESSMENT_NAMESPACE = uuid.UUID("0b6f6f3e-8d0f-4c5e-a2b8-3c1f1f7d9e21")

__all__ = ["Assessment", "CaseNote", "assessment_uuid", "reassess"]


def assessment_uuid(household_id: str) -> uuid.UUID:
    """The aggregate id of a household's assessment."""
    return uuid.uuid5(ASSESSMENT_NAMESPACE, household_id)


CaseNote = dict[str, Any]
"""A case as eligibility keeps it: ``case_id, version`` (the case's version on its
topic), ``kind, state (OPEN|RESOLVED), stage, outcome, effect, programs`` (names; empty
means all), ``submitted_at, resolved_at``."""


class Assessment(Aggregate):
    """One household as the eligibility service sees it."""

    class Opened(Aggregate.Created):
        household_id: str
        facts: dict[str, Any] | None
        registry_version: int

    class FactsRecorded(Aggregate.Event):
        household_id: str
        facts: dict[str, Any]
        registry_version: int

    class CaseNoted(Aggregate.Event):
        household_id: str
        case: dict[str, Any]

    class Decided(Aggregate.Event):
        household_id: str
        program: str
        period: str
        status: str
        previous_status: str | None
        reason_codes: list[dict[str, Any]]
        ruleset_id: str
        ruleset_version: int
        ruleset_hash: str
        inputs: dict[str, Any]
        village: str
        case_outcomes: list[dict[str, Any]]

    class PayoutNoted(Aggregate.Event):
        household_id: str
        payout: dict[str, Any]

    @staticmethod
    def create_id(household_id: str, **_: Any) -> uuid.UUID:
        return assessment_uuid(household_id)

    @event(Opened)
    def __init__(
        self, household_id: str, facts: dict[str, Any] | None, registry_version: int = 0
    ) -> None:
        self.household_id = household_id
        self.registry_version = registry_version
        """The registry's version of the household that the facts reflect."""
        self.register: HouseholdFacts | None = (
            None if facts is None else HouseholdFacts.model_validate(facts)
        )
        self.cases: dict[str, CaseNote] = {}
        self.decisions: dict[tuple[str, str], dict[str, Any]] = {}
        """(program, period) → the last recorded decision's status and reasons."""
        self.payouts: dict[str, dict[str, Any]] = {}

    # --- queries ------------------------------------------------------------------------

    @property
    def facts(self) -> HouseholdFacts | None:
        """The register facts with the effects of upheld cases; None before registration."""
        if self.register is None:
            return None
        refused, exclusions = self._case_effects()
        if not refused and not exclusions:
            return self.register
        update: dict[str, Any] = {"refused": refused}
        if exclusions:
            update["exclusions"] = exclusions
        return self.register.model_copy(update=update)

    def status_of(self, program: Program | str, period: str) -> EligibilityStatus | None:
        """The last recorded status for a program period, if any."""
        last = self.decisions.get((str(program), period))
        return None if last is None else EligibilityStatus(last["status"])

    def open_cases(self) -> list[CaseNote]:
        """Cases submitted and not yet resolved, oldest first."""
        return [case for case in self.cases.values() if case["state"] == "OPEN"]

    def effective_cases(self) -> list[dict[str, Any]]:
        """The resolved cases whose effect decisions take into account (contract shape)."""
        return [
            {
                "case_id": case["case_id"],
                "kind": case["kind"],
                "outcome": case["outcome"],
                "effect": case["effect"],
            }
            for case in self.cases.values()
            if _takes_effect(case)
        ]

    def _case_effects(self) -> tuple[bool, frozenset[Program] | str]:
        refused = False
        excluded: set[Program] = set()
        excluded_all = False
        for case in self.cases.values():
            if not _takes_effect(case):
                continue
            if case["effect"] == CaseEffect.OPT_OUT or case["kind"] == CaseKind.REFUSAL:
                refused = True
            if case["effect"] == CaseEffect.EXCLUSION:
                if case["programs"]:
                    excluded.update(Program(p) for p in case["programs"])
                else:
                    excluded_all = True
        exclusions: frozenset[Program] | str = ALL_PROGRAMS if excluded_all else frozenset(excluded)
        return refused, exclusions

    # --- commands -----------------------------------------------------------------------

    def knows_registry_version(self, version: int) -> bool:
        """Whether the facts already reflect the registry's ``version`` of the household."""
        return version <= self.registry_version

    def record_facts(self, facts: HouseholdFacts, registry_version: int) -> bool:
        """Take the register's facts as of its ``registry_version``; False when they are
        already known (an older or the same version, or the same facts)."""
        if self.knows_registry_version(registry_version) or facts == self.register:
            return False
        self._facts_recorded(
            household_id=self.household_id,
            facts=facts.model_dump(mode="json"),
            registry_version=registry_version,
        )
        return True

    @event(FactsRecorded)
    def _facts_recorded(
        self, household_id: str, facts: dict[str, Any], registry_version: int
    ) -> None:
        self.register = HouseholdFacts.model_validate(facts)
        self.registry_version = registry_version

    def note_case(self, case: CaseNote) -> bool:
        """Record a case as of its ``version``; False when that version is already known."""
        known = self.cases.get(case["case_id"])
        if known is not None and known["version"] >= case["version"]:
            return False
        self._case_noted(household_id=self.household_id, case=case)
        return True

    @event(CaseNoted)
    def _case_noted(self, household_id: str, case: dict[str, Any]) -> None:
        self.cases[case["case_id"]] = dict(case)

    def decide(self, decision: Decision) -> bool:
        """Record a decision if it is the first for its period or differs from the last."""
        key = (str(decision.program), decision.period)
        reasons = [reason.model_dump(mode="json") for reason in decision.reason_codes]
        last = self.decisions.get(key)
        if last is not None and last["status"] == decision.status and last["reasons"] == reasons:
            return False
        assert self.register is not None, "decisions need the register's facts"
        self._decided(
            household_id=self.household_id,
            program=key[0],
            period=key[1],
            status=decision.status.value,
            previous_status=None if last is None else last["status"],
            reason_codes=reasons,
            ruleset_id=decision.ruleset_id,
            ruleset_version=decision.ruleset_version,
            ruleset_hash=decision.ruleset_hash,
            inputs=dict(decision.inputs),
            village=self.register.village,
            case_outcomes=self.effective_cases(),
        )
        return True

    @event(Decided)
    def _decided(
        self,
        household_id: str,
        program: str,
        period: str,
        status: str,
        previous_status: str | None,
        reason_codes: list[dict[str, Any]],
        ruleset_id: str,
        ruleset_version: int,
        ruleset_hash: str,
        inputs: dict[str, Any],
        village: str,
        case_outcomes: list[dict[str, Any]],
    ) -> None:
        self.decisions[(program, period)] = {"status": status, "reasons": reason_codes}

    def note_payout(self, payout: dict[str, Any]) -> bool:
        """Record a payout's state as of its ``version``; False when that is known."""
        known = self.payouts.get(payout["payout_id"])
        if known is not None and known["version"] >= payout["version"]:
            return False
        self._payout_noted(household_id=self.household_id, payout=payout)
        return True

    @event(PayoutNoted)
    def _payout_noted(self, household_id: str, payout: dict[str, Any]) -> None:
        self.payouts[payout["payout_id"]] = {**self.payouts.get(payout["payout_id"], {}), **payout}


def _takes_effect(case: CaseNote) -> bool:
    """Whether a case changes decisions: upheld, and a refusal, an opt-out or an exclusion."""
    return (
        case["state"] == "RESOLVED"
        and case["outcome"] == CaseOutcome.UPHELD
        and (
            case["kind"] == CaseKind.REFUSAL
            or case["effect"] in (CaseEffect.OPT_OUT, CaseEffect.EXCLUSION)
        )
    )


def reassess(assessment: Assessment, rulesets: Sequence[Ruleset]) -> int:
    """Decide every open program period for the household; how many decisions were new.

    Nothing is decided before the register's facts are known.
    """
    facts = assessment.facts
    if facts is None:
        return 0
    return sum(assessment.decide(decide(ruleset, facts)) for ruleset in rulesets)
