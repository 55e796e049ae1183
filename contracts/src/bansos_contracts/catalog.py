"""The catalog of every public event class, looked up by CloudEvents type."""

from __future__ import annotations

from bansos_contracts.eligibility import BeneficiaryListApproved, EligibilityDecided
from bansos_contracts.envelope import Event
from bansos_contracts.objections import CaseResolved, CaseReviewed, CaseSubmitted
from bansos_contracts.payout import (
    PayoutCancelled,
    PayoutDisbursed,
    PayoutFailed,
    PayoutReconciled,
    PayoutRecoveryFlagged,
    PayoutScheduled,
)
from bansos_contracts.registry import (
    HouseholdDeactivated,
    HouseholdDecileChanged,
    HouseholdRegistered,
    HouseholdUpdated,
    SnapshotImported,
)

__all__ = [
    "ALL_EVENTS",
    "EVENT_TYPES",
    "UnknownEventTypeError",
    "event_class",
    "event_class_by_name",
    "events_on_topic",
]

ALL_EVENTS: tuple[type[Event], ...] = (
    HouseholdRegistered,
    HouseholdDecileChanged,
    HouseholdUpdated,
    HouseholdDeactivated,
    SnapshotImported,
    CaseSubmitted,
    CaseReviewed,
    CaseResolved,
    EligibilityDecided,
    BeneficiaryListApproved,
    PayoutScheduled,
    PayoutDisbursed,
    PayoutFailed,
    PayoutCancelled,
    PayoutReconciled,
    PayoutRecoveryFlagged,
)
"""Every public event class, in catalog order."""

EVENT_TYPES: dict[str, type[Event]] = {cls.ce_type(): cls for cls in ALL_EVENTS}
"""Event classes by CloudEvents type, e.g. ``bansos.registry.HouseholdDecileChanged.v1``."""

_BY_NAME: dict[tuple[str, int], type[Event]] = {
    (cls.event_name(), cls.event_version()): cls for cls in ALL_EVENTS
}

if len(EVENT_TYPES) != len(ALL_EVENTS) or len(_BY_NAME) != len(ALL_EVENTS):
    raise RuntimeError("two event classes share a CloudEvents type or an event name")


class UnknownEventTypeError(KeyError):
    """No event class is registered for a type."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "unknown event type"


def event_class(ce_type: str) -> type[Event]:
    """The event class of a CloudEvents type; raises :class:`UnknownEventTypeError`."""
    try:
        return EVENT_TYPES[ce_type]
    except KeyError:
        raise UnknownEventTypeError(f"unknown event type {ce_type!r}") from None


def event_class_by_name(event_type: str, schema_version: int) -> type[Event]:
    """The event class of a body's ``event_type`` and ``schema_version``.

    Raises :class:`UnknownEventTypeError`.
    """
    try:
        return _BY_NAME[(event_type, schema_version)]
    except KeyError:
        raise UnknownEventTypeError(
            f"unknown event type {event_type!r} version {schema_version}"
        ) from None


def events_on_topic(topic: str) -> tuple[type[Event], ...]:
    """The event classes published on a topic, in catalog order."""
    return tuple(cls for cls in ALL_EVENTS if cls.topic == topic)
