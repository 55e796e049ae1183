"""Reports over the payouts read model: the three-way reconciliation and the summary.

**Three-way reconciliation**, per village and channel: what was *instructed* (payouts
scheduled and not cancelled), what the *channel reported* (the counter application or
the bank's result file), what the *settlement file* says — with every mismatch, and
the totals in rupiah. It balances when every instructed rupiah is paid, failed or still
outstanding, and every reported payment is settled for the same amount.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from bansos_libs.views import Sql
from bansos_payout.views import BENEFICIARIES, FILE_LINES, PAYOUTS

__all__ = ["DistrictSummary", "Mismatch", "ReconciliationRow", "reconciliation", "summary"]


@dataclass(frozen=True)
class Mismatch:
    """One thing the three sources disagree on."""

    kind: str
    """``REPORTED_NOT_SETTLED``, ``SETTLED_AMOUNT_DIFFERS`` or a refused file line's code
    (``UNKNOWN_PAYOUT``, ``AMOUNT_DIFFERS``, ``DUPLICATE_LINE``…)."""
    payout_id: str | None
    detail: str
    amount: int | None = None


@dataclass
class ReconciliationRow:
    """One village and channel: counts and rupiah of each source, and the mismatches."""

    village: str
    channel: str
    instructed: int = 0
    instructed_amount: int = 0
    reported: int = 0
    reported_amount: int = 0
    settled: int = 0
    settled_amount: int = 0
    failed: int = 0
    failed_amount: int = 0
    outstanding: int = 0
    outstanding_amount: int = 0
    returned_to_treasury_amount: int = 0
    reissued_amount: int = 0
    cancelled: int = 0
    recovery_flagged: int = 0
    mismatches: list[Mismatch] = field(default_factory=list)

    @property
    def balanced(self) -> bool:
        """Every instructed rupiah is accounted for, and channel and settlement agree."""
        accounted = self.reported_amount + self.failed_amount + self.outstanding_amount
        return accounted == self.instructed_amount and not self.mismatches

    def as_dict(self) -> dict[str, Any]:
        """For JSON."""
        data = {k: v for k, v in self.__dict__.items() if k != "mismatches"}
        data["mismatches"] = [m.__dict__ for m in self.mismatches]
        data["balanced"] = self.balanced
        return data


def _region(sql: Sql, column: str, region: str) -> tuple[str, list[Any]]:
    return f"({column} = %s OR {column} LIKE %s)", [region, region + ".%"]


def reconciliation(sql: Sql, program: str, period: str, region: str) -> list[ReconciliationRow]:
    """The three-way reconciliation of every village and channel of ``region``."""
    where, params = _region(sql, "village", region)
    rows = sql.execute(
        "SELECT payout_id, village, channel, amount, state, reported_amount,"
        " settled_amount, outcome, recovery_flagged"
        f" FROM {PAYOUTS} WHERE program = %s AND period = %s AND {where}"
        " ORDER BY village, channel, payout_id",
        (program, period, *params),
    ).fetchall()
    report: dict[tuple[str, str], ReconciliationRow] = {}
    for payout_id, village, channel, amount, state, reported, settled, outcome, flag in rows:
        row = report.setdefault((village, channel), ReconciliationRow(village, channel))
        row.recovery_flagged += int(flag)
        if state == "CANCELLED":
            row.cancelled += 1
            continue
        row.instructed += 1
        row.instructed_amount += amount
        if reported is not None:
            row.reported += 1
            row.reported_amount += reported
            if settled is None:
                row.mismatches.append(
                    Mismatch("REPORTED_NOT_SETTLED", payout_id, "no settlement line", reported)
                )
        if settled is not None:
            row.settled += 1
            row.settled_amount += settled
            if reported is not None and settled != reported:
                row.mismatches.append(
                    Mismatch(
                        "SETTLED_AMOUNT_DIFFERS", payout_id,
                        f"reported Rp{reported:,}, settled Rp{settled:,}", settled,
                    )
                )  # fmt: skip
        if state in ("FAILED", "RECONCILED"):
            row.failed += 1
            row.failed_amount += amount
            if outcome == "RETURNED_TO_TREASURY":
                row.returned_to_treasury_amount += amount
            elif outcome == "REISSUED":
                row.reissued_amount += amount
        elif state == "SCHEDULED":
            row.outstanding += 1
            row.outstanding_amount += amount
    where, params = _region(sql, "l.village", region)
    refused = sql.execute(
        "SELECT l.village, COALESCE(p.channel, l.channel), l.payout_id, l.code, l.message,"
        f" l.amount FROM {FILE_LINES} l LEFT JOIN {PAYOUTS} p ON p.payout_id = l.payout_id"
        f" WHERE {where} AND (p.payout_id IS NULL OR (p.program = %s AND p.period = %s))"
        " ORDER BY l.village, l.file_key, l.line",
        (*params, program, period),
    ).fetchall()
    for village, channel, payout_id, code, message, amount in refused:
        row = report.setdefault((village, channel), ReconciliationRow(village, channel))
        row.mismatches.append(Mismatch(code, payout_id, message, amount))
    return [report[key] for key in sorted(report)]


def unplaced_lines(
    sql: Sql, program: str, period: str, region: str | None = None
) -> list[Mismatch]:
    """Refused file lines that name no known payout of the program period (unknown ids,
    unreadable lines): they belong to no village, so they are listed on their own — to
    callers whose ``region`` covers the region the file was imported for (None: all)."""
    scoped, params = ("", []) if region is None else _region(sql, "scope", region)
    rows = sql.execute(
        f"SELECT payout_id, code, message, amount FROM {FILE_LINES}"
        " WHERE village IS NULL AND (payout_id IS NULL OR payout_id LIKE %s)"
        + (f" AND {scoped}" if scoped else "")
        + " ORDER BY file_key, line",
        (f"{program}:{period}:%", *params),
    ).fetchall()
    return [Mismatch(code, payout_id, message, amount) for payout_id, code, message, amount in rows]


@dataclass
class DistrictSummary:
    """One district's period: households, payouts by outcome and channel, rupiah."""

    district: str
    households: int = 0
    payouts: int = 0
    paid_bank: int = 0
    paid_pos: int = 0
    paid_amount: int = 0
    outstanding: int = 0
    failed: int = 0
    failed_amount: int = 0
    returned_to_treasury: int = 0
    reissued: int = 0
    cancelled: int = 0
    recovery_flagged: int = 0


def summary(sql: Sql, program: str, period: str, region: str) -> list[DistrictSummary]:
    """Per district of ``region``: what the period paid."""
    districts: dict[str, DistrictSummary] = defaultdict(lambda: DistrictSummary(""))
    where, params = _region(sql, "district", region)
    for district, households in sql.execute(
        f"SELECT district, COUNT(*) FROM {BENEFICIARIES} WHERE active = 1 AND {where}"
        " GROUP BY district",
        tuple(params),
    ).fetchall():
        districts[district].households = households
    for district, channel, state, outcome, flags, count, amount, paid in sql.execute(
        "SELECT district, channel, state, outcome, SUM(recovery_flagged), COUNT(*),"
        f" SUM(amount), SUM(COALESCE(reported_amount, 0)) FROM {PAYOUTS}"
        f" WHERE program = %s AND period = %s AND {where}"
        " GROUP BY district, channel, state, outcome",
        (program, period, *params),
    ).fetchall():
        d = districts[district]
        d.recovery_flagged += int(flags or 0)
        if state == "CANCELLED":
            d.cancelled += count
            continue
        d.payouts += count
        if state == "DISBURSED":
            if channel == "POS":
                d.paid_pos += count
            else:
                d.paid_bank += count
            d.paid_amount += int(paid)
        elif state == "SCHEDULED":
            d.outstanding += count
        else:
            d.failed += count
            d.failed_amount += int(amount)
            if outcome == "RETURNED_TO_TREASURY":
                d.returned_to_treasury += count
            elif outcome == "REISSUED":
                d.reissued += count
    for code, d in districts.items():
        d.district = code
    return [districts[code] for code in sorted(districts)]
