"""What eligibility publishes on ``bansos.eligibility.v1``: stored events → contract events.

Decisions become ``EligibilityDecided`` (keyed by household); list verification and
approval become ``BeneficiaryListApproved`` (keyed by list id). Facts, cases and payouts
noted from other topics are private: they are the inputs, already public elsewhere.
"""

from __future__ import annotations

from typing import Any

from bansos_contracts.eligibility import (
    BeneficiaryListApproved,
    CaseOutcomeInput,
    EligibilityDecided,
    Exclusion,
    PaymentTerms,
    ReasonCode,
)
from bansos_contracts.enums import ListStage
from bansos_contracts.envelope import Actor, Event
from bansos_eligibility.domain.assessment import Assessment
from bansos_eligibility.domain.beneficiary_list import BeneficiaryList
from bansos_eligibility.rules.contract import decision_inputs
from bansos_libs.outbox import Envelope

__all__ = ["to_contract"]


def to_contract(domain_event: Any, envelope: Envelope) -> Event | None:
    """The public event for a stored eligibility event, or None for private ones."""
    if isinstance(domain_event, Assessment.Decided):
        e = domain_event
        return EligibilityDecided(
            **{**envelope, "subject_id": e.household_id},
            household_id=e.household_id,
            program=e.program,
            period=e.period,
            status=e.status,
            previous_status=e.previous_status,
            reason_codes=tuple(ReasonCode(**reason) for reason in e.reason_codes),
            ruleset_id=e.ruleset_id,
            ruleset_hash=e.ruleset_hash,
            inputs=decision_inputs(
                e.inputs,
                village=e.village,
                case_outcomes=tuple(CaseOutcomeInput(**case) for case in e.case_outcomes),
            ),
        )
    if isinstance(domain_event, BeneficiaryList.Verified | BeneficiaryList.Approved):
        lst = domain_event
        stage = (
            ListStage.VILLAGE_VERIFIED
            if isinstance(lst, BeneficiaryList.Verified)
            else ListStage.REGENCY_APPROVED
        )
        return BeneficiaryListApproved(
            **{**envelope, "subject_id": lst.list_id},
            list_id=lst.list_id,
            program=lst.program,
            period=lst.period,
            village=lst.village,
            household_ids=tuple(lst.household_ids),
            stage=stage,
            exclusions=tuple(Exclusion(**exclusion) for exclusion in lst.exclusions),
            approved_by=Actor(**lst.actor),
            **_ruleset_fields(getattr(lst, "ruleset", None)),
        )
    return None


def _ruleset_fields(ruleset: dict[str, Any] | None) -> dict[str, Any]:
    if ruleset is None:
        return {}
    payment = ruleset.get("payment")
    return {
        "ruleset_id": ruleset["id"],
        "ruleset_hash": ruleset["hash"],
        "payment": None if payment is None else PaymentTerms(**payment),
    }
