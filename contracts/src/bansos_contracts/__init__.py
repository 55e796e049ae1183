"""Public event contracts of the bansos system.

The CloudEvents envelope (:mod:`~bansos_contracts.envelope`), the v1 events of each
topic (:mod:`~bansos_contracts.registry`, :mod:`~bansos_contracts.objections`,
:mod:`~bansos_contracts.eligibility`, :mod:`~bansos_contracts.payout`), the topics
(:mod:`~bansos_contracts.topics`), the catalog (:mod:`~bansos_contracts.catalog`), Kafka
encoding and dead letters (:mod:`~bansos_contracts.kafka`), JSON Schema
(:mod:`~bansos_contracts.schemas`, :mod:`~bansos_contracts.compat`) and AsyncAPI
(:mod:`~bansos_contracts.asyncapi`).

This package imports nothing from the rest of the project.
"""

from __future__ import annotations

from bansos_contracts import topics
from bansos_contracts.asyncapi import ServiceSpec, asyncapi_document
from bansos_contracts.catalog import (
    ALL_EVENTS,
    EVENT_TYPES,
    UnknownEventTypeError,
    event_class,
    event_class_by_name,
    events_on_topic,
)
from bansos_contracts.compat import breaking_changes
from bansos_contracts.eligibility import (
    BeneficiaryListApproved,
    CaseOutcomeInput,
    DecisionInputs,
    EligibilityDecided,
    EligibilityEvent,
    Exclusion,
    PaymentTerms,
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
from bansos_contracts.envelope import ENVELOPE_FIELDS, SYSTEM_ROLE, Actor, Event
from bansos_contracts.examples import example
from bansos_contracts.kafka import (
    ContractError,
    DeadLetter,
    KafkaMessage,
    dead_letter_message,
    decode,
    encode,
    header,
    read_dead_letter,
)
from bansos_contracts.objections import (
    CaseEvent,
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
    PayoutEvent,
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
    HouseholdEvent,
    HouseholdRegistered,
    HouseholdUpdated,
    RegistryEvent,
    SnapshotCounts,
    SnapshotImported,
)
from bansos_contracts.values import (
    Decile,
    HouseholdId,
    Identifier,
    Period,
    Region,
    Rupiah,
    UtcDateTime,
    VulnerabilityFlags,
    make_period,
    period_bounds,
    quarter_period,
)

__version__ = "1.0.0"

__all__ = [
    "ALL_EVENTS",
    "ENVELOPE_FIELDS",
    "EVENT_TYPES",
    "SYSTEM_ROLE",
    "Actor",
    "Bank",
    "BeneficiaryListApproved",
    "CancellationReason",
    "CaseEffect",
    "CaseEvent",
    "CaseKind",
    "CaseOutcome",
    "CaseOutcomeInput",
    "CaseResolved",
    "CaseReviewed",
    "CaseSubmitted",
    "Channel",
    "CollectionWindow",
    "ContractError",
    "DeactivationReason",
    "DeadLetter",
    "Decile",
    "DecisionInputs",
    "EligibilityDecided",
    "EligibilityEvent",
    "EligibilityStatus",
    "Event",
    "Evidence",
    "Exclusion",
    "ExclusionReason",
    "FieldChange",
    "GeoPoint",
    "HouseholdDeactivated",
    "HouseholdDecileChanged",
    "HouseholdEvent",
    "HouseholdId",
    "HouseholdRegistered",
    "HouseholdUpdated",
    "Identifier",
    "KafkaMessage",
    "ListStage",
    "PaymentTerms",
    "PayoutCancelled",
    "PayoutDisbursed",
    "PayoutEvent",
    "PayoutFailed",
    "PayoutFailureReason",
    "PayoutReconciled",
    "PayoutRecoveryFlagged",
    "PayoutScheduled",
    "Period",
    "Program",
    "ReasonCode",
    "ReconciliationOutcome",
    "Region",
    "RegistryEvent",
    "ReviewOutcome",
    "ReviewStage",
    "Rupiah",
    "ServiceSpec",
    "SnapshotCounts",
    "SnapshotImported",
    "UnknownEventTypeError",
    "UtcDateTime",
    "VulnerabilityFlags",
    "WindowKind",
    "__version__",
    "asyncapi_document",
    "breaking_changes",
    "dead_letter_message",
    "decode",
    "encode",
    "event_class",
    "event_class_by_name",
    "events_on_topic",
    "example",
    "header",
    "make_period",
    "payout_id",
    "period_bounds",
    "quarter_period",
    "read_dead_letter",
    "topics",
]
