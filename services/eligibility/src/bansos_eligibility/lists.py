"""Beneficiary lists, the service layer: village verification and regency approval.

The eligible households of a village come from the decisions read model; the list's
own rules (stages, completeness, four eyes) are the ``BeneficiaryList`` aggregate's.
Who may act on which region is the API's check, before it calls in here.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Any

from eventsourcing.persistence import IntegrityError

from bansos_contracts.enums import EligibilityStatus
from bansos_eligibility.application import EligibilityApplication
from bansos_eligibility.domain.beneficiary_list import (
    BeneficiaryList,
    Exclusions,
    ListError,
    list_id_for,
    list_uuid,
)
from bansos_eligibility.rules.model import Ruleset
from bansos_eligibility.views import DECISIONS, ENTRIES, LISTS
from bansos_libs.context import ActorDict, command_context
from bansos_libs.views import ViewUpdater

__all__ = ["ListService", "ListState", "UnknownProgramPeriodError"]


class UnknownProgramPeriodError(LookupError):
    """No open ruleset for the program period asked for."""


@dataclass
class ListState:
    """A village list as it stands: who is eligible now and what was verified/approved."""

    list_id: str
    program: str
    period: str
    village: str
    stage: str | None
    eligible: list[str]
    entries: list[dict[str, Any]] = field(default_factory=list)
    verified_by: str | None = None
    approved_by: str | None = None


class ListService:
    """Reads and changes village lists."""

    def __init__(
        self, app: EligibilityApplication, view: ViewUpdater, rulesets: tuple[Ruleset, ...]
    ) -> None:
        self.app = app
        self.view = view
        self.open_periods = {(r.program.value, r.period) for r in rulesets}
        self.rulesets = {(r.program.value, r.period): r for r in rulesets}

    def _check_open(self, program: str, period: str) -> None:
        if (program, period) not in self.open_periods:
            known = ", ".join(f"{p} {q}" for p, q in sorted(self.open_periods))
            raise UnknownProgramPeriodError(
                f"no open program period {program} {period} (open: {known})"
            )

    def _fresh(self) -> None:
        with contextlib.suppress(RuntimeError):  # another updater moved the view on: fine
            self.view.catch_up()

    def eligible(self, program: str, period: str, village: str) -> list[str]:
        """The households of ``village`` eligible for the program period now."""
        with self.view.database.transaction() as sql:
            rows = sql.execute(
                f"SELECT household_id FROM {DECISIONS} WHERE program = %s AND period = %s "
                "AND village = %s AND status = %s ORDER BY household_id",
                (program, period, village, EligibilityStatus.ELIGIBLE.value),
            ).fetchall()
        return [row[0] for row in rows]

    def state(self, program: str, period: str, village: str) -> ListState:
        """The list of a village for a program period."""
        self._check_open(program, period)
        self._fresh()
        list_id = list_id_for(program, period, village)
        with self.view.database.transaction() as sql:
            row = sql.execute(
                f"SELECT stage, verified_by, approved_by FROM {LISTS} WHERE list_id = %s",
                (list_id,),
            ).fetchone()
            entries = sql.execute(
                f"SELECT household_id, verdict, note FROM {ENTRIES} WHERE list_id = %s "
                "ORDER BY household_id",
                (list_id,),
            ).fetchall()
        return ListState(
            list_id=list_id,
            program=program,
            period=period,
            village=village,
            stage=row[0] if row else None,
            eligible=self.eligible(program, period, village),
            entries=[{"household_id": h, "verdict": v, "note": n} for h, v, n in entries],
            verified_by=row[1] if row else None,
            approved_by=row[2] if row else None,
        )

    def verify(
        self,
        program: str,
        period: str,
        village: str,
        *,
        valid: list[str],
        excluded: Exclusions,
        notes: str,
        actor: ActorDict,
    ) -> ListState:
        """Record the village's verdict on each eligible household (Musdesus)."""
        self._check_open(program, period)
        self._fresh()
        eligible = set(self.eligible(program, period, village))

        def change(bl: BeneficiaryList) -> bool:
            return bl.verify(
                eligible=eligible, valid=valid, excluded=excluded, actor=dict(actor), notes=notes
            )

        self._change(program, period, village, actor, change)
        return self.state(program, period, village)

    def approve(
        self,
        program: str,
        period: str,
        village: str,
        *,
        actor: ActorDict,
        expected_households: int | None = None,
    ) -> ListState:
        """The regency approves the village's verified list."""
        self._check_open(program, period)

        terms = approval_terms(self.rulesets[(program, period)])

        def change(bl: BeneficiaryList) -> bool:
            return bl.approve(
                actor=dict(actor), expected_households=expected_households, ruleset=terms
            )

        self._change(program, period, village, actor, change)
        return self.state(program, period, village)

    def _change(
        self, program: str, period: str, village: str, actor: ActorDict, change: Any
    ) -> None:
        uow = self.app.unit_of_work()
        list_id = list_id_for(program, period, village)
        with command_context(actor):
            bl = uow.get(list_uuid(list_id), BeneficiaryList) or BeneficiaryList.open(
                program, period, village
            )
            if not change(bl):
                return
            uow.collect(bl)
        try:
            self.app.commit(uow)
        except IntegrityError:
            raise ListError(
                f"list {list_id} was changed by someone else at the same time; load it and retry",
                conflict=True,
            ) from None


def approval_terms(ruleset: Ruleset) -> dict[str, Any]:
    """What an approved list records of its ruleset: id, hash and what each household is
    paid (``payment`` is None when the ruleset pays no money or states no amount)."""
    total, channels = ruleset.amount.total, ruleset.channels
    payment = None
    if total and channels is not None:
        payment = {
            "amount": total,
            "existing_recipients_of": [p.value for p in channels.existing_recipients_of],
            "existing_channel": channels.existing.value,
            "new_channel": channels.new.value,
        }
    return {"id": ruleset.id, "hash": ruleset.content_hash, "payment": payment}
