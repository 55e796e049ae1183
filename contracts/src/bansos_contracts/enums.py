"""Closed vocabularies of the v1 events.

Every enum is a :class:`~enum.StrEnum` whose values equal their names, so the JSON is
the upper-case word itself. Adding a value is a compatible change; removing or renaming
one is a breaking change (see :mod:`bansos_contracts.compat`).
"""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "Bank",
    "CancellationReason",
    "CaseEffect",
    "CaseKind",
    "CaseOutcome",
    "Channel",
    "DeactivationReason",
    "EligibilityStatus",
    "ExclusionReason",
    "ListStage",
    "PayoutFailureReason",
    "Program",
    "ReconciliationOutcome",
    "ReviewOutcome",
    "ReviewStage",
    "SettlementChannel",
    "WindowKind",
]


class Program(StrEnum):
    """A social-assistance program."""

    BLTS_KESRA = "BLTS_KESRA"
    """Bantuan Langsung Tunai Sementara Kesejahteraan Rakyat: temporary direct cash aid."""
    BPNT = "BPNT"
    """Bantuan Pangan Non-Tunai (Sembako): non-cash food aid."""
    PBI_JKN = "PBI_JKN"
    """Penerima Bantuan Iuran JKN: health-insurance premium paid by the state."""
    PKH = "PKH"
    """Program Keluarga Harapan: conditional cash transfer."""


class Bank(StrEnum):
    """A Himbara (state-owned) bank that issues KKS cards."""

    BNI = "BNI"
    BRI = "BRI"
    MANDIRI = "MANDIRI"
    BSI = "BSI"


class Channel(StrEnum):
    """How a payout reaches the household."""

    BANK_KKS = "BANK_KKS"
    """Credited by a Himbara bank to the household's KKS card."""
    POS = "POS"
    """Paid in cash by PT Pos Indonesia."""


class SettlementChannel(StrEnum):
    """Who sends a settlement file: PT Pos, or a Himbara bank (by name)."""

    POS = "POS"
    BNI = "BNI"
    BRI = "BRI"
    MANDIRI = "MANDIRI"
    BSI = "BSI"


class DeactivationReason(StrEnum):
    """Why a household left the register."""

    DECEASED = "DECEASED"
    MOVED = "MOVED"
    DUPLICATE = "DUPLICATE"
    REMOVED_FROM_DTSEN = "REMOVED_FROM_DTSEN"
    """Missing from a later full snapshot of its regency."""


class CaseKind(StrEnum):
    """The kind of a citizen case."""

    PROPOSAL = "PROPOSAL"
    """Usulan: a family asks to receive aid."""
    OBJECTION = "OBJECTION"
    """Sanggahan: an objection against a recipient or against register data."""
    REFUSAL = "REFUSAL"
    """Menolak: a family refuses aid it no longer needs."""
    COMPLAINT = "COMPLAINT"
    """Pengaduan: a report about an ineligible recipient or a wrong payment."""


class ReviewStage(StrEnum):
    """A step of the verification chain a case goes through."""

    FIELD_CHECK = "FIELD_CHECK"
    """Field verification by a Pendamping PKH or TKSK."""
    VILLAGE_MUSDESUS = "VILLAGE_MUSDESUS"
    """Special village deliberation (Musdesus)."""
    REGENCY = "REGENCY"
    """The regency social office (Dinas Sosial)."""
    MINISTRY = "MINISTRY"
    """Pusdatin Kemensos."""


class ReviewOutcome(StrEnum):
    """What one review stage concluded about a case."""

    UPHELD = "UPHELD"
    """The stage supports the case and passes it on."""
    DISMISSED = "DISMISSED"
    """The stage finds the case unfounded."""
    RETURNED = "RETURNED"
    """Sent back for more evidence or a new field check."""


class CaseOutcome(StrEnum):
    """The final outcome of a case."""

    UPHELD = "UPHELD"
    DISMISSED = "DISMISSED"
    WITHDRAWN = "WITHDRAWN"


class CaseEffect(StrEnum):
    """What a resolved case asks the rest of the system to do."""

    NONE = "NONE"
    OPT_OUT = "OPT_OUT"
    """The household refused aid: exclude it from the programs named."""
    EXCLUSION = "EXCLUSION"
    """An objection was upheld: exclude the household from the programs named."""
    INCLUSION_REQUESTED = "INCLUSION_REQUESTED"
    """A proposal was upheld: the household is proposed to the ministry."""
    RERANKING_REQUESTED = "RERANKING_REQUESTED"
    """The household's decile is to be re-assessed by the centre."""


class EligibilityStatus(StrEnum):
    """The outcome of an eligibility decision."""

    ELIGIBLE = "ELIGIBLE"
    INELIGIBLE = "INELIGIBLE"


class ListStage(StrEnum):
    """How far a beneficiary list has been approved."""

    VILLAGE_VERIFIED = "VILLAGE_VERIFIED"
    """Verified and validated by the village (after Musdesus)."""
    REGENCY_APPROVED = "REGENCY_APPROVED"
    """Approved by the regency."""


class ExclusionReason(StrEnum):
    """Why the village left a household off a beneficiary list."""

    DECEASED = "DECEASED"
    MOVED = "MOVED"
    NOT_FOUND = "NOT_FOUND"
    DUPLICATE = "DUPLICATE"


class WindowKind(StrEnum):
    """Where a collection window takes place."""

    COMMUNITY_POINT = "COMMUNITY_POINT"
    """A village or district hall used for mass payment."""
    POST_OFFICE = "POST_OFFICE"
    HOME_DELIVERY = "HOME_DELIVERY"
    """Delivered to the house (elderly, disabled)."""
    BANK_BRANCH = "BANK_BRANCH"
    BANK_AGENT = "BANK_AGENT"
    """A bank agent or e-warong."""


class PayoutFailureReason(StrEnum):
    """Why a payout failed."""

    NOT_COLLECTED = "NOT_COLLECTED"
    """The household did not collect within any window."""
    ACCOUNT_INVALID = "ACCOUNT_INVALID"
    ACCOUNT_DORMANT = "ACCOUNT_DORMANT"
    CARD_BLOCKED = "CARD_BLOCKED"
    DECEASED = "DECEASED"
    MOVED = "MOVED"
    REJECTED_BY_CHANNEL = "REJECTED_BY_CHANNEL"
    OTHER = "OTHER"


class CancellationReason(StrEnum):
    """Why a scheduled payout was cancelled before it was paid."""

    INELIGIBLE = "INELIGIBLE"
    """A later decision made the household ineligible for the period."""
    HOUSEHOLD_DEACTIVATED = "HOUSEHOLD_DEACTIVATED"
    OPTED_OUT = "OPTED_OUT"
    EXCLUDED_FROM_LIST = "EXCLUDED_FROM_LIST"
    ADMINISTRATIVE = "ADMINISTRATIVE"


class ReconciliationOutcome(StrEnum):
    """How a failed payout was settled in reconciliation (rekonsiliasi gagal bayar)."""

    RETURNED_TO_TREASURY = "RETURNED_TO_TREASURY"
    REISSUED = "REISSUED"
