"""The shapes of the payout API's requests and answers, and what answers never carry.

Every message that leaves the API passes :func:`redact`: no collection code (except on
the invitation letter) and no NIK-like number ever appears in an answer.
"""

# No ``from __future__ import annotations``: FastAPI reads the annotations at runtime.
import json
import re
from typing import Annotated, Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from bansos_contracts.enums import ReconciliationOutcome
from bansos_payout.service import FileReport

COLUMNS = (
    "payout_id, household_id, program, period, village, district, regency, list_id, amount,"
    " channel, bank, location, windows, attempt, state, scheduled_at, reported_amount,"
    " reported_reference, reported_at, reported_source, settled_amount, settled_reference,"
    " settled_at, failure_reason, failure_detail, cancel_reason, caused_by, recovery_flagged,"
    " outcome, sptjm_reference, updated_at, version"
)
"""The ``payouts`` columns a :class:`PayoutOut` is read from, in order."""

Text = Annotated[str, Field(min_length=1, max_length=256, pattern=r"^[^\x00-\x1f\x7f]*$")]

# A value the file parser quoted after the collection_code column, and NIK-like numbers
# (16 digits not preceded by ":", so the household part of a payout id stays).
_QUOTED_CODE = re.compile(r"""collection_code (?:'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")…?""")
_SIXTEEN_DIGITS = re.compile(r"(?<![\d:])\d{16}(?!\d)")


def redact(message: str) -> str:
    """``message`` without any collection code the parser quoted or NIK-like number."""
    message = _QUOTED_CODE.sub("collection_code (value not shown)", message)
    return _SIXTEEN_DIGITS.sub("(16 digits not shown)", message)


# --- the shapes of requests and answers ------------------------------------------------


class PayoutOut(BaseModel):
    """A payout as the read model has it: the instruction, what the channel reported,
    what the settlement file says, and how it ended."""

    payout_id: str
    household_id: str
    program: str
    period: str
    village: str
    district: str
    regency: str
    list_id: str
    amount: int = Field(description="Whole rupiah.")
    channel: str = Field(description="POS or BANK_KKS.")
    bank: str | None
    location: str | None
    windows: list[dict[str, str]] = Field(
        description="Collection windows: kind, starts_at, ends_at (UTC), place."
    )
    attempt: int = Field(description="1, then one more each time it is rerouted or reinstated.")
    state: str = Field(description="SCHEDULED, DISBURSED, CANCELLED, FAILED or RECONCILED.")
    scheduled_at: str
    reported_amount: int | None
    reported_reference: str | None
    reported_at: str | None
    reported_source: str | None = Field(description="COUNTER, SETTLEMENT or BANK_RESULT.")
    settled_amount: int | None
    settled_reference: str | None
    settled_at: str | None
    failure_reason: str | None
    failure_detail: str | None
    cancel_reason: str | None
    caused_by: str | None
    recovery_flagged: bool
    outcome: str | None = Field(description="RETURNED_TO_TREASURY or REISSUED, once reconciled.")
    sptjm_reference: str | None
    updated_at: str
    version: int

    @classmethod
    def of(cls, row: tuple[Any, ...]) -> "PayoutOut":
        """From a row of :data:`COLUMNS`."""
        data = dict(zip((c.strip() for c in COLUMNS.split(",")), row, strict=True))
        data["windows"] = json.loads(data["windows"])
        data["recovery_flagged"] = bool(data["recovery_flagged"])
        return cls.model_validate(data)


class InvitationOut(BaseModel):
    """What the invitation letter (surat undangan) of a POS payout prints."""

    payout_id: str
    household_id: str
    program: str
    period: str
    amount: int
    windows: list[dict[str, str]]
    location: str | None
    collection_code: str = Field(description="The signed one-time code (the barcode).")


class CollectionIn(BaseModel):
    """A collection at the PT Pos counter, as the counter application reports it."""

    payout_id: str = Field(min_length=1, max_length=128)
    collection_code: str = Field(min_length=1, max_length=64, description="From the letter.")
    amount: int = Field(ge=0, le=10**15, description="Whole rupiah paid out.")
    channel_reference: Text = Field(description="PT Pos's transaction reference.")
    collected_at: AwareDatetime = Field(description="When, with a UTC offset.")


class CollectionOut(BaseModel):
    """The payout after the report; ``recorded`` is false when it was recorded before."""

    payout_id: str
    state: str
    recorded: bool


class RefusedLineOut(BaseModel):
    """A line of a channel file that changed nothing, and why."""

    line: int
    payout_id: str | None
    code: str
    message: str
    amount: int | None


class FileReportOut(BaseModel):
    """The outcome of importing a channel file, line by line."""

    sha256: str
    kind: str
    channel: str
    lines: int
    accepted: int
    unchanged: int
    refused: list[RefusedLineOut]
    already_imported: bool = Field(
        description="This exact file was imported before: nothing changed this time."
    )

    @classmethod
    def of(cls, report: FileReport) -> "FileReportOut":
        """From the service's report, messages redacted."""
        return cls(
            sha256=report.sha256,
            kind=report.kind,
            channel=report.channel,
            lines=report.lines,
            accepted=report.accepted,
            unchanged=report.unchanged,
            refused=[
                RefusedLineOut(
                    line=r.line,
                    payout_id=r.payout_id,
                    code=r.code,
                    message=redact(r.message),
                    amount=r.amount,
                )
                for r in report.refused
            ],
            already_imported=report.already_imported,
        )


class ExpiryIn(BaseModel):
    """Close a region's windows: its unpaid payouts whose last window ended fail."""

    region: str = Field(min_length=1, max_length=20, description="e.g. 35.17")
    as_of: AwareDatetime | None = Field(
        default=None, description="The moment to judge by (default now; not in the future)."
    )


class ExpiryOut(BaseModel):
    """How many payouts failed as NOT_COLLECTED."""

    failed: int


class SptjmIn(BaseModel):
    """The reference of the SPTJM the village officials signed."""

    reference: Text


class SptjmOut(BaseModel):
    """The SPTJM entered for a village; ``created`` is false when entered before."""

    program: str
    period: str
    village: str
    reference: str
    created: bool


class ReconciliationIn(BaseModel):
    """Close a village's failed payouts, backed by its SPTJM."""

    program: str = Field(min_length=1, max_length=64)
    period: str = Field(min_length=1, max_length=32)
    village: str = Field(min_length=1, max_length=20)
    outcome: ReconciliationOutcome
    sptjm_reference: Text
    payout_ids: list[Annotated[str, Field(min_length=1, max_length=128)]] | None = Field(
        default=None,
        max_length=100_000,
        description="The payouts to close; null for every failed payout of the village.",
    )


class ReconciledOut(BaseModel):
    """How many payouts changed."""

    reconciled: int


class MismatchOut(BaseModel):
    """One thing the channel report, the settlement file and the instruction disagree on."""

    kind: str
    payout_id: str | None
    detail: str
    amount: int | None


class ReconciliationRowOut(BaseModel):
    """One village and channel of the three-way reconciliation."""

    model_config = ConfigDict(extra="allow")

    village: str
    channel: str
    instructed: int
    instructed_amount: int
    reported: int
    reported_amount: int
    settled: int
    settled_amount: int
    failed: int
    failed_amount: int
    outstanding: int
    outstanding_amount: int
    returned_to_treasury_amount: int
    reissued_amount: int
    cancelled: int
    recovery_flagged: int
    mismatches: list[MismatchOut]
    balanced: bool


class TotalsOut(BaseModel):
    """The rupiah of every row added up."""

    instructed_amount: int
    reported_amount: int
    settled_amount: int
    failed_amount: int
    outstanding_amount: int


class ReconciliationReportOut(BaseModel):
    """The three-way reconciliation of a region's program period."""

    program: str
    period: str
    region: str
    rows: list[ReconciliationRowOut]
    unplaced: list[MismatchOut] = Field(
        description="Refused lines naming no known payout, from files imported for the"
        " caller's region or within it."
    )
    totals: TotalsOut
    balanced: bool = Field(description="Every row balances and no line is unplaced.")


class DistrictSummaryOut(BaseModel):
    """One district's period: households, payouts by outcome and channel, rupiah."""

    model_config = ConfigDict(extra="allow")

    district: str
    households: int
    payouts: int
    paid_bank: int
    paid_pos: int
    paid_amount: int
    outstanding: int
    failed: int
    failed_amount: int
    returned_to_treasury: int
    reissued: int
    cancelled: int
    recovery_flagged: int
