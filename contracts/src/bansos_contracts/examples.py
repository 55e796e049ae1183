"""One valid, deterministic example of every event: for documentation and tests.

The AsyncAPI documents show these as message examples; services may use them as
fixtures (``example(HouseholdRegistered, household_id="HH-9")``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any, TypeVar
from uuid import NAMESPACE_URL, uuid5

from bansos_contracts.eligibility import (
    BeneficiaryListApproved,
    DecisionInputs,
    EligibilityDecided,
    Exclusion,
    ReasonCode,
)
from bansos_contracts.enums import (
    Bank,
    CancellationReason,
    CaseEffect,
    CaseKind,
    CaseOutcome,
    Channel,
    DeactivationReason,
    EligibilityStatus,
    ExclusionReason,
    ListStage,
    PayoutFailureReason,
    Program,
    ReconciliationOutcome,
    ReviewOutcome,
    ReviewStage,
    WindowKind,
)
from bansos_contracts.envelope import Actor, Event
from bansos_contracts.objections import (
    CaseResolved,
    CaseReviewed,
    CaseSubmitted,
    Evidence,
    GeoPoint,
)
from bansos_contracts.payout import (
    CollectionWindow,
    PayoutCancelled,
    PayoutDisbursed,
    PayoutFailed,
    PayoutReconciled,
    PayoutRecoveryFlagged,
    PayoutScheduled,
    payout_id,
)
from bansos_contracts.registry import (
    FieldChange,
    HouseholdDeactivated,
    HouseholdDecileChanged,
    HouseholdRegistered,
    HouseholdUpdated,
    SnapshotCounts,
    SnapshotImported,
)
from bansos_contracts.values import Region, VulnerabilityFlags

__all__ = ["example"]

E = TypeVar("E", bound=Event)

_HOUSEHOLD = "3517-HH-000042"
_VILLAGE = "35.17.01.2001"
_PERIOD = "2025-10..2025-12"
_HASH = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
_WHEN = datetime(2025, 11, 21, 1, 30, tzinfo=UTC)
_PAYOUT = payout_id(Program.BLTS_KESRA, _PERIOD, _HOUSEHOLD)
_FLAGS = VulnerabilityFlags(has_elderly=True, has_school_child=True)


def _envelope(cls: type[Event], subject_id: str, actor: Actor) -> dict[str, Any]:
    return {
        "event_id": uuid5(NAMESPACE_URL, f"urn:bansos:example:{cls.ce_type()}"),
        "occurred_at": _WHEN,
        "subject_id": subject_id,
        "subject_version": 1,
        "correlation_id": "import-JOMBANG-2025-11",
        "causation_id": None,
        "actor": actor,
    }


def _household_registered() -> dict[str, Any]:
    return {
        "household_id": _HOUSEHOLD,
        "region": Region.of_village(_VILLAGE),
        "decile": 2,
        "member_count": 4,
        "flags": _FLAGS,
        "programs": (Program.PKH,),
        "per_capita_income": 450_000,
        "kks_bank": Bank.BNI,
        "snapshot_id": "DTSEN-3517-2025-11",
        "as_of": date(2025, 11, 1),
    }


_FIELDS: dict[type[Event], Callable[[], dict[str, Any]]] = {
    HouseholdRegistered: _household_registered,
    HouseholdDecileChanged: lambda: {
        "household_id": _HOUSEHOLD,
        "previous_decile": 5,
        "new_decile": 1,
        "snapshot_id": "DTSEN-3517-2025-11",
        "as_of": date(2025, 11, 1),
        "recorded_at": _WHEN,
    },
    HouseholdUpdated: lambda: {
        "household_id": _HOUSEHOLD,
        "changes": {"member_count": FieldChange(old=4, new=5)},
        "snapshot_id": "DTSEN-3517-2025-11",
    },
    HouseholdDeactivated: lambda: {
        "household_id": _HOUSEHOLD,
        "reason": DeactivationReason.DUPLICATE,
        "merged_into": "3517-HH-000007",
        "snapshot_id": "DTSEN-3517-2025-11",
    },
    SnapshotImported: lambda: {
        "snapshot_id": "DTSEN-3517-2025-11",
        "regency": "35.17",
        "as_of": date(2025, 11, 1),
        "counts": SnapshotCounts(
            registered=136_259, changed=812, unchanged=0, deactivated=37, rejected=5
        ),
        "content_hash": _HASH,
    },
    CaseSubmitted: lambda: {
        "case_id": "CASE-2025-000123",
        "household_id": _HOUSEHOLD,
        "kind": CaseKind.OBJECTION,
        "village": _VILLAGE,
        "programs": (Program.BLTS_KESRA,),
        "reason_code": "NOT_POOR",
        "reason_text": "Keluarga ini sudah mampu.",
        "evidence": (
            Evidence(
                content_hash=_HASH,
                media_type="image/jpeg",
                label="HOUSE_FRONT",
                location=GeoPoint(latitude=-7.5459, longitude=112.2331),
            ),
        ),
    },
    CaseReviewed: lambda: {
        "case_id": "CASE-2025-000123",
        "household_id": _HOUSEHOLD,
        "stage": ReviewStage.VILLAGE_MUSDESUS,
        "outcome": ReviewOutcome.UPHELD,
        "notes": "Dibahas dalam Musdesus.",
    },
    CaseResolved: lambda: {
        "case_id": "CASE-2025-000123",
        "household_id": _HOUSEHOLD,
        "kind": CaseKind.OBJECTION,
        "outcome": CaseOutcome.UPHELD,
        "effect": CaseEffect.EXCLUSION,
        "programs": (Program.BLTS_KESRA,),
    },
    EligibilityDecided: lambda: {
        "household_id": _HOUSEHOLD,
        "program": Program.BLTS_KESRA,
        "period": _PERIOD,
        "status": EligibilityStatus.INELIGIBLE,
        "previous_status": EligibilityStatus.ELIGIBLE,
        "reason_codes": (ReasonCode(code="DECILE_ABOVE_MAX", detail="6>4"),),
        "ruleset_id": "BLTS_KESRA-2025",
        "ruleset_hash": _HASH,
        "inputs": DecisionInputs(decile=6, flags=_FLAGS, programs=(Program.PKH,), active=True),
    },
    BeneficiaryListApproved: lambda: {
        "list_id": f"BLTS_KESRA:{_PERIOD}:{_VILLAGE}",
        "program": Program.BLTS_KESRA,
        "period": _PERIOD,
        "village": _VILLAGE,
        "household_ids": (_HOUSEHOLD,),
        "stage": ListStage.VILLAGE_VERIFIED,
        "exclusions": (Exclusion(household_id="3517-HH-000099", reason=ExclusionReason.DECEASED),),
        "approved_by": Actor(role="village_head", id="kades-2001", region=_VILLAGE),
    },
    PayoutScheduled: lambda: {
        "payout_id": _PAYOUT,
        "household_id": _HOUSEHOLD,
        "program": Program.BLTS_KESRA,
        "period": _PERIOD,
        "amount": 900_000,
        "channel": Channel.POS,
        "location": "Kantor Pos Jombang",
        "collection_windows": (
            CollectionWindow(
                kind=WindowKind.COMMUNITY_POINT,
                starts_at=datetime(2025, 11, 25, 1, 0, tzinfo=UTC),
                ends_at=datetime(2025, 11, 30, 9, 0, tzinfo=UTC),
                place="Balai Desa",
            ),
            CollectionWindow(
                kind=WindowKind.POST_OFFICE,
                starts_at=datetime(2025, 12, 1, 1, 0, tzinfo=UTC),
                ends_at=datetime(2025, 12, 8, 9, 0, tzinfo=UTC),
                place="Kantor Pos Kecamatan",
            ),
        ),
    },
    PayoutDisbursed: lambda: {
        "payout_id": _PAYOUT,
        "household_id": _HOUSEHOLD,
        "channel_reference": "POS-JBG-20251125-0001",
        "at": _WHEN,
        "amount": 900_000,
    },
    PayoutFailed: lambda: {
        "payout_id": _PAYOUT,
        "household_id": _HOUSEHOLD,
        "reason": PayoutFailureReason.NOT_COLLECTED,
    },
    PayoutCancelled: lambda: {
        "payout_id": _PAYOUT,
        "household_id": _HOUSEHOLD,
        "reason": CancellationReason.INELIGIBLE,
        "caused_by": uuid5(NAMESPACE_URL, "urn:bansos:example:decision"),
    },
    PayoutReconciled: lambda: {
        "payout_id": _PAYOUT,
        "household_id": _HOUSEHOLD,
        "outcome": ReconciliationOutcome.RETURNED_TO_TREASURY,
        "sptjm_reference": "SPTJM/3517/2025/12/001",
    },
    PayoutRecoveryFlagged: lambda: {
        "payout_id": _PAYOUT,
        "household_id": _HOUSEHOLD,
        "reason": CancellationReason.INELIGIBLE,
        "caused_by": uuid5(NAMESPACE_URL, "urn:bansos:example:decision"),
        "amount": 900_000,
    },
}


def example(cls: type[E], **overrides: Any) -> E:
    """A valid example of event class ``cls``; ``overrides`` replace fields."""
    try:
        fields = _FIELDS[cls]()
    except KeyError:
        raise KeyError(f"no example for {cls.__name__}") from None
    system = cls.source in ("registry", "eligibility", "payout")
    actor = Actor.system(cls.source) if system else Actor(role="citizen", id="acct-77")
    subject = next(
        fields[name]
        for name in ("list_id", "payout_id", "case_id", "household_id", "snapshot_id")
        if name in fields
    )
    values = {**_envelope(cls, str(subject), actor), **fields, **overrides}
    return cls.model_validate(values)
