"""Read models: SQL tables derived from a service's notification log, kept exactly once.

A ``View`` names its tables and applies one stored domain event at a time with plain
SQL. A ``ViewUpdater`` reads the notification log after the view's recorded position
and applies a batch in one transaction together with the new position, in the service's
own database (SQLite by default, PostgreSQL when configured). A crash mid-batch rolls
back both; a second updater racing the first cannot apply a batch twice. Views are
disposable: ``rebuild()`` drops and recreates them from the log.

SQL is written once with ``%s`` placeholders and runs on both backends.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import time
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from typing import Any
from urllib.parse import unquote, urlsplit

import anyio
from psycopg_pool import ConnectionPool

from bansos_libs.eventstore import ServiceApplication
from bansos_libs.logs import get_logger
from bansos_libs.settings import ServiceSettings

log = get_logger("bansos.views")

TRACKING_TABLE = "bansos_view_tracking"


class Sql:
    """A cursor that takes ``%s`` placeholders on SQLite and PostgreSQL alike."""

    def __init__(self, cursor: Any, dialect: str) -> None:
        self._cursor = cursor
        self.dialect = dialect

    def _sql(self, statement: str) -> str:
        return statement.replace("%s", "?") if self.dialect == "sqlite" else statement

    def execute(self, statement: str, params: Sequence[Any] = ()) -> Sql:
        """Run one statement; its rows are read from the returned ``Sql``."""
        if self.dialect == "postgres":
            # A cursor per statement: in pipeline mode a shared cursor was seen to hand a
            # later fetch the result of an earlier statement of a long batch.
            cursor = self._cursor.connection.cursor()
            cursor.execute(statement, tuple(params))
            return Sql(cursor, self.dialect)
        self._cursor.execute(self._sql(statement), tuple(params))
        return self

    def executemany(self, statement: str, rows: Sequence[Sequence[Any]]) -> None:
        """Run one statement for many parameter rows."""
        self._cursor.executemany(self._sql(statement), [tuple(r) for r in rows])

    def is_in(self, column: str, values: Sequence[Any]) -> tuple[str, list[Any]]:
        """A ``column IN (values)`` condition for a text column, fast on each backend."""
        if self.dialect == "postgres":
            return f"{column} = ANY(%s::text[])", [[str(v) for v in values]]
        return f"{column} IN ({', '.join(['%s'] * len(values))})", list(values)

    def insert_many(
        self,
        table: str,
        columns: Sequence[str],
        rows: Sequence[Sequence[Any]],
        types: Sequence[str],
    ) -> None:
        """Insert rows, skipping those that already exist (one statement on PostgreSQL).

        ``types`` are the columns' SQL types (``text``, ``integer``…), for PostgreSQL.
        """
        if not rows:
            return
        names = ", ".join(columns)
        if self.dialect == "postgres":
            arrays = [list(column) for column in zip(*rows, strict=True)]
            unnest = ", ".join(f"%s::{t}[]" for t in types)
            self.execute(
                f"INSERT INTO {table} ({names}) SELECT * FROM unnest({unnest}) "
                "ON CONFLICT DO NOTHING",
                arrays,
            )
        else:
            marks = ", ".join(["%s"] * len(columns))
            self.executemany(
                f"INSERT INTO {table} ({names}) VALUES ({marks}) ON CONFLICT DO NOTHING", rows
            )

    def fetchall(self) -> list[tuple[Any, ...]]:
        """All rows of the last query."""
        return [tuple(row) for row in self._cursor.fetchall()]

    def fetchone(self) -> tuple[Any, ...] | None:
        """The next row of the last query, or None."""
        row = self._cursor.fetchone()
        return None if row is None else tuple(row)


class ViewDatabase:
    """Connections to the service's own database for read models."""

    def __init__(self, settings: ServiceSettings) -> None:
        env = settings.eventsourcing_env()
        self._pool: ConnectionPool | None = None
        if settings.database_url is not None:
            url = urlsplit(settings.database_url.get_secret_value())
            self.dialect = "postgres"
            self._pool = ConnectionPool(
                kwargs={
                    "host": url.hostname or "127.0.0.1",
                    "port": url.port or 5432,
                    "user": unquote(url.username or ""),
                    "password": unquote(url.password or ""),
                    "dbname": url.path.lstrip("/"),
                },
                min_size=1,
                max_size=settings.postgres_pool_size,
                open=True,
            )
        else:
            self.dialect = "sqlite"
            self._path = env["SQLITE_DBNAME"]

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Sql]:
        """One transaction: committed when the block ends, rolled back on error."""
        if self.dialect == "sqlite":
            conn = sqlite3.connect(self._path, timeout=30, isolation_level=None)
            try:
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("BEGIN IMMEDIATE")
                try:
                    yield Sql(conn.cursor(), "sqlite")
                except BaseException:
                    conn.execute("ROLLBACK")
                    raise
                conn.execute("COMMIT")
            finally:
                conn.close()
        else:
            assert self._pool is not None
            # Pipeline mode: statements are sent without waiting for each answer.
            with self._pool.connection() as pg, pg.pipeline(), pg.transaction():
                yield Sql(pg.cursor(), "postgres")

    def create(self, statements: Sequence[str]) -> None:
        """Run ``CREATE … IF NOT EXISTS`` statements in one transaction.

        A service's roles (and its init steps) start at once: PostgreSQL may refuse
        concurrent creation of the same table ("tuple concurrently updated"), so this
        tries again; the next attempt finds the tables created.
        """
        for attempt in range(1, 6):
            try:
                with self.transaction() as sql:
                    for statement in statements:
                        sql.execute(statement)
                return
            except Exception:
                if attempt == 5:
                    raise
                time.sleep(0.2 * attempt)

    def close(self) -> None:
        """Close the connection pool, if any."""
        if self._pool is not None:
            self._pool.close()


class View(ABC):
    """A read model: its tables, and how one stored domain event changes them."""

    name: str
    """Unique within the service; names the tracking row."""

    @abstractmethod
    def create_statements(self) -> Sequence[str]:
        """``CREATE TABLE/INDEX IF NOT EXISTS`` statements, portable SQL."""

    @abstractmethod
    def drop_statements(self) -> Sequence[str]:
        """``DROP TABLE IF EXISTS`` statements for a rebuild."""

    @abstractmethod
    def apply(self, sql: Sql, domain_event: Any) -> None:
        """Change the tables for one event (events of no interest are ignored)."""


class ViewUpdater:
    """Keeps one view up to date with one application's notification log."""

    def __init__(
        self, app: ServiceApplication, view: View, database: ViewDatabase, batch_size: int = 2000
    ) -> None:
        self.app = app
        self.view = view
        self.database = database
        self.batch_size = batch_size
        database.create(
            [
                f"CREATE TABLE IF NOT EXISTS {TRACKING_TABLE} "
                "(view_name TEXT PRIMARY KEY, position BIGINT NOT NULL)",
                *self.view.create_statements(),
            ]
        )

    def position(self) -> int:
        """The last notification id applied to the view (0 when none)."""
        with self.database.transaction() as sql:
            row = sql.execute(
                f"SELECT position FROM {TRACKING_TABLE} WHERE view_name = %s", (self.view.name,)
            ).fetchone()
        return int(row[0]) if row else 0

    def catch_up(self) -> int:
        """Apply everything recorded so far; returns how many notifications it read."""
        total = 0
        position = self.position()
        while True:
            notifications = self.app.recorder.select_notifications(
                start=position + 1, limit=self.batch_size
            )
            if not notifications:
                return total
            last = notifications[-1].id
            with self.database.transaction() as sql:
                for notification in notifications:
                    self.view.apply(sql, self.app.mapper.to_domain_event(notification))
                # Compare-and-set: moves on only from the position this batch started at.
                moved = sql.execute(
                    f"INSERT INTO {TRACKING_TABLE} AS t (view_name, position) VALUES (%s, %s) "
                    "ON CONFLICT (view_name) DO UPDATE SET position = excluded.position "
                    "WHERE t.position = %s RETURNING position",
                    (self.view.name, last, position),
                ).fetchone()
                if moved is None:
                    raise RuntimeError(f"view {self.view.name} was moved on by another updater")
            position = last
            total += len(notifications)

    def rebuild(self) -> int:
        """Drop and recreate the view from the whole log."""
        with self.database.transaction() as sql:
            for statement in self.view.drop_statements():
                sql.execute(statement)
            sql.execute(f"DELETE FROM {TRACKING_TABLE} WHERE view_name = %s", (self.view.name,))
            for statement in self.view.create_statements():
                sql.execute(statement)
        return self.catch_up()

    async def run(self, stop: asyncio.Event, poll_seconds: float = 0.1) -> None:
        """Keep catching up until ``stop`` is set."""
        while not stop.is_set():
            try:
                applied = await anyio.to_thread.run_sync(self.catch_up)
            except RuntimeError as error:  # another updater won the race: read again
                log.info("view.race", view=self.view.name, error=str(error))
                applied = 0
            if not applied:
                with anyio.move_on_after(poll_seconds):
                    await stop.wait()
