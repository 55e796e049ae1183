"""Rebuilding a service's read models from its own event store, and checking the live ones.

``replay_view`` applies the stored events of an application's notification log, in
order, to a fresh scratch SQLite database, with the view's own ``create_statements`` and
``apply`` through the same ``Sql`` wrapper as the live ``ViewUpdater``: the code under
test is exactly the view code. ``compare`` reads every table of the view on both sides
and names each row the live view is missing, has in excess, or holds with other values.
``verify`` does both for every view of a service (``bansosctl replay SERVICE --verify``).

A live view is compared at its own tracked position, read in the same transaction as its
rows, so a view that lags behind the log, or moves on during the check, is not reported
as different.
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from datetime import time as dt_time
from decimal import Decimal
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal

from bansos_libs.eventstore import ServiceApplication
from bansos_libs.settings import ServiceSettings
from bansos_libs.views import TRACKING_TABLE, Sql, View, ViewDatabase, ViewUpdater

if TYPE_CHECKING:
    from bansos_libs.runtime import ServiceDefinition

__all__ = [
    "PAGE_SIZE",
    "PositionError",
    "ReplayReport",
    "RowDifference",
    "ScratchDatabase",
    "TableDiff",
    "ViewReport",
    "compare",
    "replay_view",
    "verify",
    "verify_view",
]

PAGE_SIZE = 10_000
"""Notifications read per query, and applied per scratch transaction."""

SAMPLES = 5
"""Rows of each kind (missing, extra, changed) named per table."""


class ScratchDatabase:
    """A throwaway SQLite database holding one view rebuilt from an application's log.

    A temporary file (deleted by ``close``) unless ``path`` is given (``":memory:"`` keeps
    it in memory). Durability is switched off: the database is rebuilt, never recovered.
    """

    def __init__(self, app: ServiceApplication, view: View, path: str | None = None) -> None:
        self.app = app
        self.view = view
        self._owned: Path | None = None
        if path is None:
            handle, name = tempfile.mkstemp(prefix=f"bansos-replay-{view.name}-", suffix=".db")
            os.close(handle)
            path = name
            self._owned = Path(name)
        self.path = path
        self.connection = sqlite3.connect(path, isolation_level=None, cached_statements=1024)
        for pragma in ("journal_mode=OFF", "synchronous=OFF", "temp_store=MEMORY"):
            self.connection.execute(f"PRAGMA {pragma}")
        self.connection.execute("PRAGMA cache_size=-262144")  # 256 MiB
        self.sql = Sql(self.connection.cursor(), "sqlite")
        for statement in view.create_statements():
            self.sql.execute(statement)
        self.position = 0
        """The last notification id applied (every id up to it was read)."""
        self.events = 0
        """Notifications applied so far (each handed to the view, of interest or not)."""
        self.seconds = 0.0
        """Time spent reading and applying them."""

    def replay(self, upto: int | None = None, page_size: int = PAGE_SIZE) -> int:
        """Apply the log after ``position`` up to notification id ``upto`` (default: the
        end of the log now), a page per transaction; returns how many were applied."""
        recorder = self.app.recorder
        stop = upto if upto is not None else (recorder.max_notification_id() or 0)
        to_domain_event = self.app.mapper.to_domain_event
        apply, sql, execute = self.view.apply, self.sql, self.connection.execute
        started, applied = time.perf_counter(), 0
        try:
            while self.position < stop:
                page = recorder.select_notifications(
                    start=self.position + 1, limit=page_size, stop=stop
                )
                if not page:
                    break
                execute("BEGIN")
                try:
                    for notification in page:
                        apply(sql, to_domain_event(notification))
                except BaseException:
                    execute("ROLLBACK")
                    raise
                execute("COMMIT")
                self.position = page[-1].id
                applied += len(page)
            self.position = max(self.position, stop)  # ids up to ``stop`` were all read
        finally:
            self.events += applied
            self.seconds += time.perf_counter() - started
        return applied

    def tables(self) -> list[str]:
        """The tables the view created, in the order it created them."""
        rows = self.sql.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'"
            " AND name NOT LIKE 'sqlite_%' ORDER BY rowid"
        ).fetchall()
        return [str(row[0]) for row in rows]

    def columns(self, table: str) -> tuple[list[str], list[str]]:
        """A table's columns, and its primary key (every column when it has none)."""
        info = self.sql.execute("SELECT name, pk FROM pragma_table_info(%s)", (table,)).fetchall()
        columns = [str(name) for name, _ in info]
        key = [str(name) for name, pk in sorted(info, key=lambda c: int(c[1])) if pk]
        return columns, key or columns

    def rows(self, table: str, columns: Sequence[str]) -> list[tuple[Any, ...]]:
        """Every row of a table, those columns."""
        return self.sql.execute(f"SELECT {', '.join(columns)} FROM {table}").fetchall()

    def close(self) -> None:
        """Close the database and delete its temporary file."""
        self.connection.close()
        if self._owned is not None:
            self._owned.unlink(missing_ok=True)

    def __enter__(self) -> ScratchDatabase:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def replay_view(
    app: ServiceApplication, view: View, upto: int | None = None, *, path: str | None = None
) -> ScratchDatabase:
    """The view rebuilt in a scratch database from the log up to notification id ``upto``.

    By default up to the position the live view has tracked in the service's own database
    (``app.settings``), so that a lagging live view is compared at its own position.
    """
    if upto is None:
        live = ViewDatabase(app.settings)
        try:
            upto = ViewUpdater(app, view, live).position()
        finally:
            live.close()
    scratch = ScratchDatabase(app, view, path)
    try:
        scratch.replay(upto)
    except BaseException:
        scratch.close()
        raise
    return scratch


@dataclass(frozen=True)
class RowDifference:
    """One row the live view is missing or has in excess, or one column it holds otherwise.

    ``missing``: the replay has the row, the live view not; ``extra``: the reverse;
    ``changed``: both have it, ``column`` differs (``live`` and ``replayed`` values).
    """

    kind: Literal["missing", "extra", "changed"]
    table: str
    key: tuple[tuple[str, Any], ...]
    column: str | None = None
    live: Any = None
    replayed: Any = None

    def __str__(self) -> str:
        key = ", ".join(f"{name}={value!r}" for name, value in self.key)
        if self.kind == "missing":
            return f"{self.table} ({key}): missing from the live view"
        if self.kind == "extra":
            return f"{self.table} ({key}): in the live view only, not in the replay"
        return (
            f"{self.table} ({key}): {self.column} is {self.live!r} live, {self.replayed!r} replayed"
        )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form."""
        return {
            "kind": self.kind,
            "table": self.table,
            "key": {name: _json(value) for name, value in self.key},
            "column": self.column,
            "live": _json(self.live),
            "replayed": _json(self.replayed),
        }


@dataclass(frozen=True)
class TableDiff:
    """One table of a view compared: row counts, how many rows differ, the first few."""

    table: str
    key: tuple[str, ...]
    rows_live: int
    rows_replayed: int
    missing: int = 0
    extra: int = 0
    changed: int = 0
    samples: tuple[RowDifference, ...] = ()
    error: str | None = None
    """Why the live table could not be compared (missing table or columns)."""

    @property
    def differences(self) -> int:
        """Rows missing, extra or changed."""
        return self.missing + self.extra + self.changed

    @property
    def ok(self) -> bool:
        """True when both sides hold the same rows."""
        return self.error is None and self.differences == 0

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form."""
        return {
            "table": self.table,
            "key": list(self.key),
            "rows_live": self.rows_live,
            "rows_replayed": self.rows_replayed,
            "missing": self.missing,
            "extra": self.extra,
            "changed": self.changed,
            "ok": self.ok,
            "error": self.error,
            "samples": [sample.to_dict() for sample in self.samples],
        }


class PositionError(RuntimeError):
    """The scratch database was replayed beyond the live view's position."""


def compare(
    live: ViewDatabase, scratch: ScratchDatabase, view: View, samples: int = SAMPLES
) -> list[TableDiff]:
    """Compare every table of ``view`` in the live database with the replayed one.

    The live rows and the live position are read in one transaction (a repeatable-read
    snapshot on PostgreSQL); a scratch database behind that position is replayed further
    first. Values are normalised (booleans and integral decimals as integers, bytes,
    dates as ISO text), rows are matched by primary key and ordered in Python, so that
    PostgreSQL's collation does not matter.
    """
    schema = {table: scratch.columns(table) for table in scratch.tables()}
    position, found = _live_snapshot(live, view, {t: c for t, (c, _) in schema.items()})
    if scratch.position < position:
        scratch.replay(position)
    elif scratch.position > position:
        raise PositionError(
            f"view {view.name}: replayed up to {scratch.position}, the live view is at {position}"
        )
    diffs = []
    for table, (columns, key) in schema.items():
        replayed = scratch.rows(table, columns)
        live_rows = found[table]
        if isinstance(live_rows, str):
            diffs.append(TableDiff(table, tuple(key), 0, len(replayed), error=live_rows))
            continue
        diffs.append(_diff(table, columns, key, live_rows, replayed, samples))
    return diffs


def _live_snapshot(
    live: ViewDatabase, view: View, tables: dict[str, list[str]]
) -> tuple[int, dict[str, list[tuple[Any, ...]] | str]]:
    """The live view's position and rows (or why a table cannot be read), consistently."""
    found: dict[str, list[tuple[Any, ...]] | str] = {}
    with live.transaction() as sql:
        if sql.dialect == "postgres":
            sql.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        position = 0
        if _live_columns(sql, TRACKING_TABLE):
            row = sql.execute(
                f"SELECT position FROM {TRACKING_TABLE} WHERE view_name = %s", (view.name,)
            ).fetchone()
            position = int(row[0]) if row else 0
        for table, columns in tables.items():
            present = _live_columns(sql, table)
            absent = [c for c in columns if c not in present]
            if not present:
                found[table] = "the table is missing from the live database"
            elif absent:
                found[table] = f"the live table has no column {', '.join(absent)}"
            else:
                found[table] = sql.execute(f"SELECT {', '.join(columns)} FROM {table}").fetchall()
    return position, found


def _live_columns(sql: Sql, table: str) -> set[str]:
    if sql.dialect == "postgres":
        rows = sql.execute(
            "SELECT column_name FROM information_schema.columns"
            " WHERE table_schema = current_schema() AND table_name = %s",
            (table,),
        ).fetchall()
    else:
        rows = sql.execute("SELECT name FROM pragma_table_info(%s)", (table,)).fetchall()
    return {str(row[0]) for row in rows}


def _diff(
    table: str,
    columns: list[str],
    key: list[str],
    live_rows: list[tuple[Any, ...]],
    replayed_rows: list[tuple[Any, ...]],
    samples: int,
) -> TableDiff:
    changed: list[tuple[Any, ...]] = []
    live_by_key: dict[tuple[Any, ...], tuple[Any, ...]] = {}
    replayed_by_key: dict[tuple[Any, ...], tuple[Any, ...]] = {}
    if len(key) == len(columns):  # no primary key: rows are their own key, counted
        live_count = Counter(_normal_row(row) for row in live_rows)
        replayed_count = Counter(_normal_row(row) for row in replayed_rows)
        missing_rows, extra_rows = replayed_count - live_count, live_count - replayed_count
        missing, extra = sorted(missing_rows, key=_order), sorted(extra_rows, key=_order)
        missing_count, extra_count = missing_rows.total(), extra_rows.total()
    else:
        # Keys are normalised; whole rows only when they differ as read (fewer calls).
        at = [columns.index(name) for name in key]
        live_by_key = {tuple(_normal(row[i]) for i in at): row for row in live_rows}
        replayed_by_key = {tuple(_normal(row[i]) for i in at): row for row in replayed_rows}
        missing = sorted(replayed_by_key.keys() - live_by_key.keys(), key=_order)
        extra = sorted(live_by_key.keys() - replayed_by_key.keys(), key=_order)
        changed = sorted(
            (
                k
                for k in live_by_key.keys() & replayed_by_key.keys()
                if live_by_key[k] != replayed_by_key[k]
                and _normal_row(live_by_key[k]) != _normal_row(replayed_by_key[k])
            ),
            key=_order,
        )
        missing_count, extra_count = len(missing), len(extra)
    found = [RowDifference("missing", table, _named(key, k)) for k in missing[:samples]]
    found += [RowDifference("extra", table, _named(key, k)) for k in extra[:samples]]
    for k in changed[:samples]:
        pairs = zip(_normal_row(live_by_key[k]), _normal_row(replayed_by_key[k]), strict=True)
        for name, (was, now) in zip(columns, pairs, strict=True):
            if was != now:
                found.append(RowDifference("changed", table, _named(key, k), name, was, now))
    return TableDiff(
        table,
        tuple(key),
        rows_live=len(live_rows),
        rows_replayed=len(replayed_rows),
        missing=missing_count,
        extra=extra_count,
        changed=len(changed),
        samples=tuple(found),
    )


def _named(key: list[str], values: tuple[Any, ...]) -> tuple[tuple[str, Any], ...]:
    return tuple(zip(key, values, strict=True))


def _normal_row(row: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple(_normal(value) for value in row)


def _normal(value: Any) -> Any:
    """One value as both backends agree on it (PostgreSQL's types as SQLite's)."""
    if isinstance(value, bool):
        return int(value)
    if value is None or isinstance(value, int | float | str):
        return value
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, date | dt_time):
        return value.isoformat()
    return str(value)  # UUID and the like


def _order(key: tuple[Any, ...]) -> tuple[tuple[int, Any], ...]:
    """A sort key for rows of mixed and missing values."""
    ranked: list[tuple[int, Any]] = []
    for value in key:
        if value is None:
            ranked.append((0, 0))
        elif isinstance(value, int | float):
            ranked.append((1, value))
        elif isinstance(value, str):
            ranked.append((2, value))
        else:
            ranked.append((3, repr(value)))
    return tuple(ranked)


def _json(value: Any) -> Any:
    return value.hex() if isinstance(value, bytes) else value


@dataclass(frozen=True)
class ViewReport:
    """One view replayed and compared at the live view's position."""

    view: str
    position: int
    events: int
    """Notifications replayed (read and handed to the view)."""
    seconds: float
    tables: tuple[TableDiff, ...]

    @property
    def ok(self) -> bool:
        """True when every table holds the same rows on both sides."""
        return all(table.ok for table in self.tables)

    @property
    def rows_compared(self) -> int:
        """Rows looked at: the larger side of each table."""
        return sum(max(t.rows_live, t.rows_replayed) for t in self.tables)

    @property
    def events_per_second(self) -> float:
        """Replay throughput."""
        return self.events / self.seconds if self.seconds > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form."""
        return {
            "view": self.view,
            "position": self.position,
            "events": self.events,
            "seconds": round(self.seconds, 3),
            "events_per_second": round(self.events_per_second),
            "rows_compared": self.rows_compared,
            "ok": self.ok,
            "tables": [table.to_dict() for table in self.tables],
        }


@dataclass(frozen=True)
class ReplayReport:
    """Every view of a service replayed from its event store and compared with the live one."""

    service: str
    views: tuple[ViewReport, ...]

    @property
    def ok(self) -> bool:
        """True when every view's live rows equal the replayed ones."""
        return all(view.ok for view in self.views)

    @property
    def events(self) -> int:
        """Notifications replayed, over all views."""
        return sum(view.events for view in self.views)

    @property
    def seconds(self) -> float:
        """Time spent replaying, over all views."""
        return sum(view.seconds for view in self.views)

    @property
    def events_per_second(self) -> float:
        """Replay throughput over all views."""
        return self.events / self.seconds if self.seconds > 0 else 0.0

    @property
    def rows_compared(self) -> int:
        """Rows looked at, over all views."""
        return sum(view.rows_compared for view in self.views)

    def first_difference(self) -> str | None:
        """The first difference found, in words (None when everything agrees)."""
        for view in self.views:
            for table in view.tables:
                if table.error is not None:
                    return f"{view.view}: {table.table}: {table.error}"
                if table.samples:
                    return f"{view.view}: {table.samples[0]}"
                if not table.ok:
                    return f"{view.view}: {table.table}: {table.differences} rows differ"
        return None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form."""
        return {
            "service": self.service,
            "ok": self.ok,
            "events": self.events,
            "seconds": round(self.seconds, 3),
            "events_per_second": round(self.events_per_second),
            "rows_compared": self.rows_compared,
            "first_difference": self.first_difference(),
            "views": [view.to_dict() for view in self.views],
        }


def verify_view(
    app: ServiceApplication, updater: ViewUpdater, *, path: str | None = None
) -> ViewReport:
    """Replay one live view's events into a scratch database and compare the two."""
    for attempt in (1, 2):
        with ScratchDatabase(app, updater.view, path) as scratch:
            scratch.replay(updater.position())
            try:
                tables = compare(updater.database, scratch, updater.view)
            except PositionError:  # the live view was rebuilt meanwhile: start again
                if attempt == 2:
                    raise
                continue
            return ViewReport(
                updater.view.name, scratch.position, scratch.events, scratch.seconds, tuple(tables)
            )
    raise AssertionError("unreachable")


def verify(definition: ServiceDefinition, settings: ServiceSettings) -> ReplayReport:
    """Replay every read model of a service from its event store and compare each with
    the live one (``settings`` as the service runs with them, e.g. ``service_settings``)."""
    app = definition.application(settings)
    updaters = list(definition.views(app, settings)) if definition.views else []
    try:
        return ReplayReport(definition.name, tuple(verify_view(app, u) for u in updaters))
    finally:
        for updater in updaters:
            updater.database.close()
        app.close()
