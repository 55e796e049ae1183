"""The payout service layer: what staff and channels ask of payouts, as commands.

Each command loads the payouts it needs, lets the domain decide, and commits all its
events at once (a file import is one transaction: a crash leaves it wholly done or not
done at all). Who may act on which region is checked by the API; commands take the
region they are confined to.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from eventsourcing.persistence import IntegrityError

from bansos_libs.context import ActorDict, command_context
from bansos_libs.eventstore import UnitOfWork
from bansos_libs.views import ViewUpdater
from bansos_payout.application import PayoutApplication
from bansos_payout.channels import windows_of
from bansos_payout.codes import CodeSigner
from bansos_payout.domain.channel_file import ChannelFile, channel_file_uuid
from bansos_payout.domain.payout import Payout, PayoutRefusedError, payout_uuid
from bansos_payout.domain.sptjm import Sptjm, sptjm_uuid
from bansos_payout.files import (
    CreditInstruction,
    LineError,
    parse_bank_result,
    parse_settlement,
    write_credit_instructions,
)
from bansos_payout.schedule import Schedule
from bansos_payout.views import PAYOUTS, SPTJM

__all__ = ["Collection", "FileReport", "LineOutcome", "PayoutNotFoundError", "PayoutService"]

CLOCK_SKEW = timedelta(minutes=5)
"""How far in the future a channel's timestamp may be (clocks differ)."""


class PayoutNotFoundError(LookupError):
    """No payout has this id (within the caller's region)."""


@dataclass(frozen=True)
class Collection:
    """A collection reported by the PT Pos counter application."""

    payout_id: str
    code: str
    amount: int
    at: datetime
    reference: str
    actor: ActorDict
    region: str | None = None
    """The region the reporting channel is confined to (None: national)."""


@dataclass(frozen=True)
class LineOutcome:
    """What one refused file line did (nothing), and why."""

    line: int
    payout_id: str | None
    code: str
    message: str
    amount: int | None = None
    village: str | None = None


@dataclass
class FileReport:
    """The result of importing a channel file, line by line."""

    sha256: str
    kind: str
    channel: str
    lines: int = 0
    accepted: int = 0
    unchanged: int = 0
    refused: list[LineOutcome] = field(default_factory=list)
    already_imported: bool = False
    """True when this exact file was imported before: nothing changed this time."""


def _in_region(village: str, region: str | None) -> bool:
    return region is None or village == region or village.startswith(region + ".")


class PayoutService:
    """Commands on payouts (collections, files, expiry, SPTJM, reconciliation)."""

    def __init__(
        self,
        app: PayoutApplication,
        view: ViewUpdater,
        schedules: dict[tuple[str, str], Schedule],
        signer: CodeSigner,
    ) -> None:
        self.app = app
        self.view = view
        self.schedules = schedules
        self.signer = signer

    # -- reads -------------------------------------------------------------------------

    def fresh(self) -> None:
        """Bring the read model up to date with the event store."""
        with contextlib.suppress(RuntimeError):  # another updater moved the view on: fine
            self.view.catch_up()

    def payout(self, payout_id: str, region: str | None = None) -> Payout:
        """A payout as the event store has it; not found outside ``region``."""
        found = self.app.unit_of_work().get(payout_uuid(payout_id), Payout)
        if found is None or not _in_region(found.village, region):
            raise PayoutNotFoundError(f"no payout {payout_id[:80]}")
        return found

    def collection_code(self, payout: Payout) -> str | None:
        """The code printed on the invitation letter (POS payouts still to collect)."""
        if payout.channel != "POS" or payout.state != "SCHEDULED":
            return None
        return self.signer.code_for(payout.payout_id, payout.attempt)

    # -- the PT Pos counter ------------------------------------------------------------

    def collect(
        self, *, payout_id: str, code: str, amount: int, at: datetime, reference: str,
        actor: ActorDict, region: str | None = None,
    ) -> tuple[Payout, bool]:  # fmt: skip
        """A collection reported by the counter; ``(payout, changed)``.

        Raises :class:`PayoutRefusedError` (code, window, state, amount) or
        :class:`PayoutNotFoundError`.
        """
        report = Collection(payout_id, code, amount, at, reference, actor, region)
        [result] = self.collect_many([report])
        if isinstance(result, Exception):
            raise result
        return result

    def collect_many(
        self, reports: Sequence[Collection]
    ) -> list[tuple[Payout, bool] | PayoutRefusedError | PayoutNotFoundError]:
        """Many collections in one transaction, each answered on its own: a refusal of
        one does not affect the others. Reports of the same payout are taken in order."""
        for _ in range(3):
            uow = self.app.unit_of_work()
            uow.preload(payout_uuid(r.payout_id) for r in reports)
            results: list[tuple[Payout, bool] | PayoutRefusedError | PayoutNotFoundError] = []
            for report in reports:
                try:
                    results.append(self._collect(uow, report))
                except (PayoutRefusedError, PayoutNotFoundError) as refusal:
                    results.append(refusal)
            if not uow.pending:
                return results
            try:
                self.app.commit(uow)
            except IntegrityError:
                # A payout changed meanwhile (another process): take them one by one,
                # each of which re-reads its payout.
                if len(reports) > 1:
                    return [result for r in reports for result in self.collect_many([r])]
                continue
            return results
        raise RuntimeError(f"payout {reports[0].payout_id} kept changing; retry")

    def _collect(self, uow: UnitOfWork, report: Collection) -> tuple[Payout, bool]:
        self._not_future(report.at)
        payout = uow.get(payout_uuid(report.payout_id), Payout)
        if payout is None or not _in_region(payout.village, report.region):
            raise PayoutNotFoundError(f"no payout {report.payout_id[:80]}")
        with command_context(report.actor):
            changed = payout.collect(
                code=report.code, check=self.signer.check, amount=report.amount, at=report.at,
                reference=report.reference, source="COUNTER",
            )  # fmt: skip
            if changed:
                uow.collect(payout)
        return payout, changed

    @staticmethod
    def _not_future(at: datetime) -> None:
        if at.tzinfo is None:
            raise PayoutRefusedError("NO_TIMEZONE", f"{at.isoformat()} has no UTC offset")
        if at > datetime.now(UTC) + CLOCK_SKEW:
            raise PayoutRefusedError("IN_THE_FUTURE", f"{at.isoformat()} is in the future")

    # -- channel files -----------------------------------------------------------------

    def import_settlement(
        self, text: str, *, channel: str, name: str | None, actor: ActorDict,
        region: str | None = None,
    ) -> FileReport:  # fmt: skip
        """A settlement file: what the channel (``POS`` or a bank) says it paid."""
        parsed = parse_settlement(text)
        report = FileReport(parsed.sha256, "SETTLEMENT", channel)
        if self._known_file(report, region):
            return report

        def apply(payout: Payout, line: Any) -> bool:
            if (payout.channel if channel == "POS" else payout.bank) != channel:
                raise PayoutRefusedError(
                    "WRONG_CHANNEL", f"payout {payout.payout_id} is not paid by {channel}"
                )
            self._not_future(line.paid_at)
            return payout.settle(
                code=line.collection_code, check=self.signer.check, amount=line.amount,
                at=line.paid_at, reference=line.channel_reference, file_sha256=parsed.sha256,
            )  # fmt: skip

        return self._import(report, parsed, apply, name=name, actor=actor, region=region)

    def import_bank_result(
        self, text: str, *, bank: str, name: str | None, actor: ActorDict,
        region: str | None = None,
    ) -> FileReport:  # fmt: skip
        """A bank's result file: each credit credited, or rejected (→ PT Pos)."""
        parsed = parse_bank_result(text)
        report = FileReport(parsed.sha256, "BANK_RESULT", bank)
        if self._known_file(report, region):
            return report

        def apply(payout: Payout, line: Any) -> bool:
            if payout.credit_bank != bank:
                raise PayoutRefusedError(
                    "WRONG_BANK", f"payout {payout.payout_id} is not paid by {bank}"
                )
            self._not_future(line.processed_at)
            schedule = self.schedules[(payout.program, payout.period)]
            windows = windows_of(schedule, payout.village)
            rejection = None if line.credited else {"reason": str(line.reason)}
            return payout.record_bank_result(
                credited=line.credited, amount=line.amount, reference=line.bank_reference,
                at=line.processed_at, rejection=rejection,
                fallback=(windows[0]["place"] if windows else None, windows),
            )  # fmt: skip

        return self._import(report, parsed, apply, name=name, actor=actor, region=region)

    def _known_file(self, report: FileReport, region: str | None) -> bool:
        """Whether this file was imported for this region before (then: its report)."""
        key = _file_key(report.sha256, region)
        known = self.app.unit_of_work().get(channel_file_uuid(key), ChannelFile)
        if known is None:
            return False
        report.lines, report.accepted, report.unchanged = known.lines, known.accepted, 0
        report.refused = [LineOutcome(**r) for r in known.refused]
        report.already_imported = True
        return True

    def _import(
        self, report: FileReport, parsed: Any, apply: Any, *, name: str | None,
        actor: ActorDict, region: str | None,
    ) -> FileReport:  # fmt: skip
        lines: Sequence[Any] = parsed.lines
        report.lines = len(lines) + len(parsed.errors) + len(parsed.duplicates)
        refused = [_refused(e, "INVALID_LINE") for e in parsed.errors]
        refused += [_refused(e, "DUPLICATE_LINE") for e in parsed.duplicates]
        uow = self.app.unit_of_work()
        uow.preload(payout_uuid(line.payout_id) for line in lines)
        changed: list[Payout] = []
        with command_context(actor):
            for line in lines:
                payout = uow.get(payout_uuid(line.payout_id), Payout)
                if payout is None or not _in_region(payout.village, region):
                    refused.append(
                        LineOutcome(
                            line.line, line.payout_id, "UNKNOWN_PAYOUT",
                            f"line {line.line}: no payout {line.payout_id}"
                            + ("" if region is None else f" in region {region}"),
                            line.amount,
                        )
                    )  # fmt: skip
                    continue
                try:
                    if apply(payout, line):
                        report.accepted += 1
                        changed.append(payout)
                    else:
                        report.unchanged += 1
                except PayoutRefusedError as refusal:
                    refused.append(
                        LineOutcome(
                            line.line, line.payout_id, refusal.code,
                            f"line {line.line}: {refusal}", line.amount, payout.village,
                        )
                    )  # fmt: skip
            report.refused = sorted(refused, key=lambda r: r.line)
            uow.collect(*changed)
            uow.collect(
                ChannelFile(
                    key=_file_key(report.sha256, region),
                    sha256=report.sha256, kind=report.kind, channel=report.channel, name=name,
                    lines=report.lines, accepted=report.accepted, unchanged=report.unchanged,
                    refused=[r.__dict__ for r in report.refused], actor=dict(actor),
                )
            )  # fmt: skip
        try:
            self.app.commit(uow)
        except IntegrityError:
            # The same file imported at the same moment, or a payout changed meanwhile:
            # nothing of this import was written; answer from what is there now.
            if self._known_file(report, region):
                return report
            raise
        return report

    def credit_instructions(self, program: str, period: str, bank: str, region: str) -> str:
        """The credit-instruction file for one bank: its payouts still to credit."""
        self.fresh()
        with self.view.database.transaction() as sql:
            rows = sql.execute(
                f"SELECT payout_id, household_id, bank, amount, program, period, village"
                f" FROM {PAYOUTS} WHERE program = %s AND period = %s AND bank = %s"
                " AND channel = 'BANK_KKS' AND state = 'SCHEDULED'"
                " AND (village = %s OR village LIKE %s) ORDER BY payout_id",
                (program, period, bank, region, region + ".%"),
            ).fetchall()
        return write_credit_instructions(CreditInstruction(*row) for row in rows)

    # -- the end of the period ---------------------------------------------------------

    def expire(
        self, *, program: str, period: str, region: str, now: datetime, actor: ActorDict
    ) -> int:
        """Fail every unpaid payout of ``region`` whose last window has ended by ``now``."""
        schedule = self.schedules.get((program, period))
        if schedule is None:
            raise PayoutNotFoundError(f"no payout schedule for {program} {period}")
        self.fresh()
        with self.view.database.transaction() as sql:
            ids = [
                row[0]
                for row in sql.execute(
                    f"SELECT payout_id FROM {PAYOUTS} WHERE program = %s AND period = %s"
                    " AND state = 'SCHEDULED' AND (village = %s OR village LIKE %s)",
                    (program, period, region, region + ".%"),
                ).fetchall()
            ]
        failed = 0
        for chunk in _chunks(ids, 1000):
            failed += self._each(
                chunk,
                actor,
                lambda p: p.expire(now=now, last_window_end=schedule.last_window_end(p.village)),
            )
        return failed

    def enter_sptjm(
        self, *, program: str, period: str, village: str, reference: str, actor: ActorDict
    ) -> bool:
        """Record the SPTJM a village signed; False when the same one was entered before."""
        uow = self.app.unit_of_work()
        known = uow.get(sptjm_uuid(program, period, village), Sptjm)
        if known is not None:
            known.check_same(reference)
            return False
        with command_context(actor):
            uow.collect(
                Sptjm(
                    program=program, period=period, village=village, reference=reference,
                    actor=dict(actor),
                )
            )  # fmt: skip
        try:
            self.app.commit(uow)
        except IntegrityError:
            return self.enter_sptjm(
                program=program, period=period, village=village, reference=reference, actor=actor
            )
        return True

    def reconcile(
        self, payout_ids: Iterable[str], *, outcome: str, sptjm_reference: str,
        actor: ActorDict, region: str | None = None,
    ) -> int:  # fmt: skip
        """Close failed payouts as returned to the treasury or reissued, backed by the
        SPTJM entered for each one's village; the number that changed."""
        ids = list(payout_ids)
        uow = self.app.unit_of_work()
        uow.preload(payout_uuid(i) for i in ids)
        changed: list[Payout] = []
        with command_context(actor):
            for payout_id in ids:
                payout = uow.get(payout_uuid(payout_id), Payout)
                if payout is None or not _in_region(payout.village, region):
                    raise PayoutNotFoundError(f"no payout {payout_id[:80]}")
                sptjm = uow.get(sptjm_uuid(payout.program, payout.period, payout.village), Sptjm)
                entered = None if sptjm is None else sptjm.reference
                if payout.reconcile(
                    outcome=outcome, sptjm_reference=sptjm_reference, village_sptjm=entered
                ):
                    changed.append(payout)
            uow.collect(*changed)
        self.app.commit(uow)
        return len(changed)

    def failed_in(self, program: str, period: str, village: str) -> list[str]:
        """The failed, unreconciled payouts of a village."""
        self.fresh()
        with self.view.database.transaction() as sql:
            rows = sql.execute(
                f"SELECT payout_id FROM {PAYOUTS} WHERE program = %s AND period = %s"
                " AND village = %s AND state = 'FAILED' ORDER BY payout_id",
                (program, period, village),
            ).fetchall()
        return [row[0] for row in rows]

    def sptjm_of(self, program: str, period: str, village: str) -> str | None:
        """The SPTJM reference entered for a village, if any."""
        self.fresh()
        with self.view.database.transaction() as sql:
            row = sql.execute(
                f"SELECT reference FROM {SPTJM} WHERE program = %s AND period = %s"
                " AND village = %s",
                (program, period, village),
            ).fetchone()
        return None if row is None else str(row[0])

    def _each(self, ids: Sequence[str], actor: ActorDict, change: Any) -> int:
        uow = self.app.unit_of_work()
        uow.preload(payout_uuid(i) for i in ids)
        changed = []
        with command_context(actor):
            for payout_id in ids:
                payout = uow.get(payout_uuid(payout_id), Payout)
                if payout is not None and change(payout):
                    changed.append(payout)
            uow.collect(*changed)
        self.app.commit(uow)
        return len(changed)


def _file_key(sha256: str, region: str | None) -> str:
    """A file is imported once per region it is confined to."""
    return f"{sha256}@{region or 'national'}"


def _refused(error: LineError, code: str) -> LineOutcome:
    return LineOutcome(error.line, error.payout_id, code, f"line {error.line}: {error.message}")


def _chunks(items: Sequence[str], size: int) -> Iterable[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
