"""The citizen's status (the Cek Bansos screen), read from the eligibility read models.

One answer per household: per open program period its status with the reasons in plain
Indonesian and English, the list stage, and — once scheduled — the payout's channel,
amount and collection windows; plus the household's open cases.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel

from bansos_eligibility.domain.beneficiary_list import list_id_for
from bansos_eligibility.explain import (
    Text,
    explain_reason,
    format_rupiah,
    payout_state_text,
    program_name,
    status_text,
)
from bansos_eligibility.views import CASES, DECISIONS, ENTRIES, LISTS, PAYOUTS
from bansos_libs.views import Sql

__all__ = ["CaseOut", "PayoutOut", "ProgramStatus", "StatusAnswer", "TextOut", "read_status"]


class TextOut(BaseModel):
    """A sentence in Indonesian (``id``) and English (``en``)."""

    id: str
    en: str

    @classmethod
    def of(cls, text: Text) -> TextOut:
        return cls(id=text.id, en=text.en)


class ReasonOut(BaseModel):
    """One reason of a decision, machine-readable and in words."""

    code: str
    detail: str | None
    text: TextOut


class WindowOut(BaseModel):
    """When and where a payout can be collected."""

    kind: str
    starts_at: str
    ends_at: str
    place: str


class PayoutOut(BaseModel):
    """The payout of a program period, as far as it has gone."""

    payout_id: str
    state: str
    state_text: TextOut
    amount: int | None
    amount_text: str | None
    channel: str | None
    bank: str | None
    location: str | None
    windows: list[WindowOut]
    reason: str | None


class ProgramStatus(BaseModel):
    """The household's standing in one program period."""

    program: str
    program_name: TextOut
    period: str
    status: str
    status_text: TextOut
    reasons: list[ReasonOut]
    decided_at: str
    ruleset_id: str
    list_stage: str | None
    """``VILLAGE_VERIFIED`` or ``REGENCY_APPROVED`` once the village list got that far."""
    list_verdict: str | None
    """The household's verdict on that list: ``VALID`` or an exclusion reason."""
    payout: PayoutOut | None


class CaseOut(BaseModel):
    """A case about the household that is still open."""

    case_id: str
    kind: str | None
    stage: str | None
    submitted_at: str


class StatusAnswer(BaseModel):
    """What a citizen sees about their household."""

    household_id: str
    head_name: str | None = None
    """The head's name, masked (e.g. ``SU****** WI****``); only when identified by name."""
    programs: list[ProgramStatus]
    open_cases: list[CaseOut]


def _payout(row: tuple[Any, ...]) -> PayoutOut:
    payout_id, state, amount, channel, bank, location, windows, reason = row
    return PayoutOut(
        payout_id=payout_id,
        state=state,
        state_text=TextOut.of(payout_state_text(state)),
        amount=amount,
        amount_text=None if amount is None else format_rupiah(amount),
        channel=channel,
        bank=bank,
        location=location,
        windows=[WindowOut(**w) for w in json.loads(windows)] if windows else [],
        reason=reason,
    )


def read_status(sql: Sql, household_id: str) -> tuple[StatusAnswer, str] | None:
    """The household's status and its village, or None when eligibility never decided on it."""
    decisions = sql.execute(
        f"SELECT program, period, status, reasons, decided_at, ruleset_id, village "
        f"FROM {DECISIONS} WHERE household_id = %s ORDER BY program, period",
        (household_id,),
    ).fetchall()
    if not decisions:
        return None
    payouts = {
        (row[0], row[1]): _payout(row[2:])
        for row in sql.execute(
            f"SELECT program, period, payout_id, state, amount, channel, bank, location, windows,"
            f" reason FROM {PAYOUTS} WHERE household_id = %s",
            (household_id,),
        ).fetchall()
    }
    programs = []
    for program, period, status, reasons, decided_at, ruleset_id, village in decisions:
        list_id = list_id_for(program, period, village)
        stage = sql.execute(f"SELECT stage FROM {LISTS} WHERE list_id = %s", (list_id,)).fetchone()
        verdict = sql.execute(
            f"SELECT verdict FROM {ENTRIES} WHERE list_id = %s AND household_id = %s",
            (list_id, household_id),
        ).fetchone()
        programs.append(
            ProgramStatus(
                program=program,
                program_name=TextOut.of(program_name(program)),
                period=period,
                status=status,
                status_text=TextOut.of(status_text(status)),
                reasons=[
                    ReasonOut(
                        code=r["code"],
                        detail=r.get("detail"),
                        text=TextOut.of(explain_reason(r["code"], r.get("detail"))),
                    )
                    for r in json.loads(reasons)
                ],
                decided_at=decided_at,
                ruleset_id=ruleset_id,
                list_stage=stage[0] if stage and verdict else None,
                list_verdict=verdict[0] if verdict else None,
                payout=payouts.get((program, period)),
            )
        )
    cases = sql.execute(
        f"SELECT case_id, kind, stage, submitted_at FROM {CASES} "
        "WHERE household_id = %s AND state = 'OPEN' ORDER BY submitted_at",
        (household_id,),
    ).fetchall()
    answer = StatusAnswer(
        household_id=household_id,
        programs=programs,
        open_cases=[CaseOut(case_id=c[0], kind=c[1], stage=c[2], submitted_at=c[3]) for c in cases],
    )
    return answer, decisions[0][6]
