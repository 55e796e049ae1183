"""Kafka topic names of the public interface and what each one is keyed by.

Partition counts are fixed once a topic exists: keying by household keeps one
household's history in order on one partition across every topic.
"""

from __future__ import annotations

from typing import Final

__all__ = [
    "ALL",
    "DEADLETTER",
    "ELIGIBILITY",
    "KEYS",
    "OBJECTIONS",
    "PAYOUT",
    "PRODUCERS",
    "REGISTRY",
]

REGISTRY: Final = "bansos.registry.v1"
"""Households and deciles; produced by the registry service."""
OBJECTIONS: Final = "bansos.objections.v1"
"""Citizen cases and their review chain; produced by the objections service."""
ELIGIBILITY: Final = "bansos.eligibility.v1"
"""Eligibility decisions and beneficiary-list approvals; produced by eligibility."""
PAYOUT: Final = "bansos.payout.v1"
"""Payout schedules, disbursements, failures and reconciliation; produced by payout."""
DEADLETTER: Final = "bansos.deadletter.v1"
"""Messages a consumer could not process, with the reason in ``dlq_*`` headers."""

ALL: Final[tuple[str, ...]] = (REGISTRY, OBJECTIONS, ELIGIBILITY, PAYOUT, DEADLETTER)
"""Every topic of the public interface."""

PRODUCERS: Final[dict[str, str]] = {
    REGISTRY: "registry",
    OBJECTIONS: "objections",
    ELIGIBILITY: "eligibility",
    PAYOUT: "payout",
}
"""The service that produces each event topic (the dead-letter topic has no owner)."""

KEYS: Final[dict[str, str]] = {
    REGISTRY: "the household id (SnapshotImported: the snapshot id)",
    OBJECTIONS: "the household id, or the case id where the case has no household",
    ELIGIBILITY: "the household id (BeneficiaryListApproved: the list id)",
    PAYOUT: "the household id",
    DEADLETTER: "the original message's key",
}
"""What the Kafka message key of each topic is."""
