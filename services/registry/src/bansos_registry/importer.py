"""Importing a DTSEN snapshot: only its differences become events.

The file is checked whole first (header, encoding, CSV structure, data ganda) and
refused before anything is written if it is malformed. Then it is streamed in batches:
for each batch one query to the households view tells which rows are new, unchanged or
changed; new households are registered, changed ones loaded and brought in line, and
the batch's events are committed together. Households of the regency that the snapshot
no longer lists are deactivated (``REMOVED_FROM_DTSEN``). Last, a ``SnapshotImport``
records the snapshot and its counts, so the same snapshot imported twice changes nothing.

An import that crashes can simply be run again: what it saved shows up as unchanged.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import IO, Any

from bansos_libs.context import ActorDict, command_context
from bansos_libs.eventstore import UnitOfWork
from bansos_libs.views import Sql, ViewUpdater
from bansos_registry.application import NikHasher, RegistryApplication
from bansos_registry.domain.household import FACT_FIELDS, PERSONAL_FIELDS, Household, household_uuid
from bansos_registry.domain.snapshot import SnapshotImport, snapshot_uuid
from bansos_registry.regions import RegionRegister
from bansos_registry.snapshot_file import Rejection, SnapshotRow, check_file, read_rows
from bansos_registry.views import HOUSEHOLDS

SEEN = "registry_import_seen"


class ImportRefusedError(ValueError):
    """The snapshot cannot be imported (e.g. its id was used for different content)."""


@dataclass
class ImportSummary:
    """What an import did."""

    snapshot_id: str
    regency: str
    as_of: date
    registered: int = 0
    changed: int = 0
    unchanged: int = 0
    deactivated: int = 0
    rejected: int = 0
    already_imported: bool = False

    @property
    def counts(self) -> dict[str, int]:
        """The counts recorded with the snapshot."""
        return {
            k: getattr(self, k)
            for k in ("registered", "changed", "unchanged", "deactivated", "rejected")
        }


class RejectsReport:
    """The rejects report: one CSV line per rejected row (line, column, reason)."""

    HEADER = ("line", "column", "reason", "household_id")

    def __init__(self, stream: IO[str] | None) -> None:
        self._writer = csv.writer(stream) if stream is not None else None
        if self._writer is not None:
            self._writer.writerow(self.HEADER)

    def add(self, rejection: Rejection) -> None:
        """Write one rejection."""
        if self._writer is not None:
            self._writer.writerow(
                (rejection.line, rejection.column, rejection.reason, rejection.household_id or "")
            )


def snapshot_regency(path: Path, register: RegionRegister) -> str:
    """The snapshot's regency: that of the first row naming a real regency."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        for row in csv.DictReader(handle):
            code = (row.get("regency_code") or "").strip()
            if register.level(code) == 2:
                return code
    raise ImportRefusedError(f"{path.name} has no row with a valid regency_code")


class SnapshotImporter:
    """Imports snapshot files into the registry."""

    def __init__(
        self,
        app: RegistryApplication,
        view: ViewUpdater,
        register: RegionRegister,
        hasher: NikHasher,
        batch_size: int = 1000,
    ) -> None:
        self.app = app
        self.view = view
        self.register = register
        self.hasher = hasher
        self.batch_size = batch_size
        self._committing: Future[None] | None = None
        self._committer = ThreadPoolExecutor(1, thread_name_prefix="registry-import")
        with view.database.transaction() as sql:
            sql.execute(
                f"CREATE TABLE IF NOT EXISTS {SEEN} (snapshot_id TEXT NOT NULL,"
                " household_id TEXT NOT NULL, PRIMARY KEY (snapshot_id, household_id))"
            )

    def run(
        self,
        path: Path,
        snapshot_id: str,
        as_of: date,
        *,
        actor: ActorDict,
        rejects: IO[str] | None = None,
        progress: Callable[[int, int], None] | None = None,
    ) -> ImportSummary:
        """Import ``path`` as snapshot ``snapshot_id`` of the date ``as_of``."""
        check = check_file(path)
        regency = snapshot_regency(path, self.register)
        summary = ImportSummary(snapshot_id=snapshot_id, regency=regency, as_of=as_of)
        done = self._already_imported(snapshot_id, check.content_sha256)
        if done is not None:
            for key, value in done.counts.items():
                setattr(summary, key, value)
            summary.already_imported = True
            return summary
        self.view.catch_up()
        report = RejectsReport(rejects)
        recorded_at = datetime.now(UTC)
        with command_context(actor, correlation_id=f"snapshot:{snapshot_id}"):
            batch: list[SnapshotRow] = []
            lines = 0
            for item in read_rows(path, check, self.register, regency=regency):
                lines += 1
                if isinstance(item, Rejection):
                    summary.rejected += 1
                    report.add(item)
                    if item.household_id:  # a bad row does not mean the household left
                        self._mark_seen(snapshot_id, [item.household_id])
                    continue
                batch.append(item)
                if len(batch) >= self.batch_size:
                    self._save(batch, summary, report, recorded_at)
                    batch = []
                    if progress:
                        progress(lines, check.rows)
            self._save(batch, summary, report, recorded_at)
            self._wait_for_commit()
            if progress:
                progress(lines, check.rows)
            self._deactivate_missing(summary)
            uow = self.app.unit_of_work()
            uow.collect(
                SnapshotImport(
                    snapshot_id=snapshot_id,
                    regency=regency,
                    as_of=as_of.isoformat(),
                    content_sha256=check.content_sha256,
                    counts=summary.counts,
                    imported_at=datetime.now(UTC),
                )
            )
            self.app.commit(uow)
        with self.view.database.transaction() as sql:
            sql.execute(f"DELETE FROM {SEEN} WHERE snapshot_id = %s", (snapshot_id,))
        # The service's relay process brings the views up to date from here (and the
        # next import catches up first), so an import is not slowed down by them.
        return summary

    def _already_imported(self, snapshot_id: str, content_sha256: str) -> SnapshotImport | None:
        done = self.app.unit_of_work().get(snapshot_uuid(snapshot_id), SnapshotImport)
        if done is not None and done.content_sha256 != content_sha256:
            raise ImportRefusedError(
                f"snapshot {snapshot_id} was already imported from a different file "
                f"(sha256 {done.content_sha256[:12]}…); give this file its own snapshot id"
            )
        return done

    def _mark_seen(self, snapshot_id: str, household_ids: Sequence[str]) -> None:
        with self.view.database.transaction() as sql:
            self._insert_seen(sql, snapshot_id, household_ids)

    @staticmethod
    def _insert_seen(sql: Sql, snapshot_id: str, household_ids: Iterable[str]) -> None:
        sql.insert_many(
            SEEN,
            ("snapshot_id", "household_id"),
            [(snapshot_id, h) for h in household_ids],
            ("text", "text"),
        )

    def _save(
        self,
        batch: list[SnapshotRow],
        summary: ImportSummary,
        report: RejectsReport,
        recorded_at: datetime,
    ) -> None:
        if not batch:
            return
        hashes = {row.line: self.hasher(row.head_nik) for row in batch}
        known, heads = self._lookup(batch, hashes, summary.snapshot_id)
        uow = self.app.unit_of_work()
        touched: list[Household] = []
        for row in batch:
            state = known.get(row.household_id)
            head_of = heads.get(hashes[row.line])
            if head_of is not None and head_of != row.household_id:
                summary.rejected += 1
                report.add(
                    Rejection(
                        row.line,
                        "head_nik",
                        f"head_nik already heads household {head_of} (data ganda)",
                        row.household_id,
                    )
                )
                continue
            if state is None:
                touched.append(Household(**self._snapshot_args(row, hashes, summary, recorded_at)))
                summary.registered += 1
            elif state == (row.fingerprint, 1):
                summary.unchanged += 1
            else:
                touched.append(self._change(uow, row, hashes, summary, recorded_at))
                summary.changed += 1
        uow.collect(*touched)  # one command context for the whole batch
        # The database works on this batch while the next one is read and built.
        self._wait_for_commit()
        self._committing = self._committer.submit(self.app.commit, uow)

    def _wait_for_commit(self) -> None:
        """Wait for the batch being committed (raising its error, if it failed)."""
        if self._committing is not None:
            committing, self._committing = self._committing, None
            committing.result()

    def _lookup(
        self, batch: list[SnapshotRow], hashes: dict[int, str], snapshot_id: str
    ) -> tuple[dict[str, tuple[str, int]], dict[str, str]]:
        ids = [row.household_id for row in batch]
        with self.view.database.transaction() as sql:
            known_ids, id_params = sql.is_in("household_id", ids)
            rows = sql.execute(
                f"SELECT household_id, fingerprint, active FROM {HOUSEHOLDS} WHERE {known_ids}",
                id_params,
            ).fetchall()
            same_head, head_params = sql.is_in("nik_hash", list(hashes.values()))
            heads = sql.execute(
                f"SELECT nik_hash, household_id FROM {HOUSEHOLDS} WHERE active = 1 AND {same_head}",
                head_params,
            ).fetchall()
            self._insert_seen(sql, snapshot_id, ids)
        return {h: (fp, int(active)) for h, fp, active in rows}, dict(heads)

    def _snapshot_args(
        self, row: SnapshotRow, hashes: dict[int, str], summary: ImportSummary, at: datetime
    ) -> dict[str, Any]:
        return {
            "decile": row.decile,
            "facts": {
                name: list(row.programs) if name == "programs" else getattr(row, name)
                for name in FACT_FIELDS
            },
            "personal": {name: getattr(row, name) for name in PERSONAL_FIELDS},
            "nik_hash": hashes[row.line],
            "fingerprint": row.fingerprint,
            "snapshot_id": summary.snapshot_id,
            "as_of": summary.as_of.isoformat(),
            "recorded_at": at,
            "household_id": row.household_id,
        }

    def _change(
        self,
        uow: UnitOfWork,
        row: SnapshotRow,
        hashes: dict[int, str],
        summary: ImportSummary,
        at: datetime,
    ) -> Household:
        household = uow.get(household_uuid(row.household_id), Household)
        if household is None:
            raise RuntimeError(f"household {row.household_id} is in the view but not the store")
        args = self._snapshot_args(row, hashes, summary, at)
        del args["household_id"]
        household.apply_snapshot(**args)
        return household

    def _deactivate_missing(self, summary: ImportSummary) -> None:
        with self.view.database.transaction() as sql:
            missing = [
                h
                for (h,) in sql.execute(
                    f"SELECT household_id FROM {HOUSEHOLDS} WHERE regency = %s AND active = 1 "
                    f"AND household_id NOT IN (SELECT household_id FROM {SEEN} "
                    "WHERE snapshot_id = %s) ORDER BY household_id",
                    (summary.regency, summary.snapshot_id),
                ).fetchall()
            ]
        for start in range(0, len(missing), self.batch_size):
            uow = self.app.unit_of_work()
            for household_id in missing[start : start + self.batch_size]:
                household = uow.get(household_uuid(household_id), Household)
                if household is not None:
                    household.deactivate(
                        reason="REMOVED_FROM_DTSEN", snapshot_id=summary.snapshot_id
                    )
                    uow.collect(household)
            self.app.commit(uow)
        summary.deactivated = len(missing)
