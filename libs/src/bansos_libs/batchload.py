"""Loading many aggregates with one query, for consumers that handle a batch at once.

The eventsourcing repository reads one aggregate per query; a consumer handling two
thousand messages for two thousand households would wait on two thousand round trips.
``select_many`` reads the stored events of many aggregates in one query, on SQLite and
PostgreSQL alike.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresAggregateRecorder
from eventsourcing.sqlite import SQLiteAggregateRecorder
from psycopg.sql import SQL, Identifier

__all__ = ["select_many"]

CHUNK = 900
"""Ids per query (SQLite allows 999 parameters)."""


def select_many(recorder: Any, ids: Sequence[UUID]) -> dict[UUID, list[StoredEvent]]:
    """The stored events of each aggregate of ``ids`` that has any, in version order."""
    found: dict[UUID, list[StoredEvent]] = defaultdict(list)
    for start in range(0, len(ids), CHUNK):
        chunk = list(ids[start : start + CHUNK])
        for row in _rows(recorder, chunk):
            originator_id = row["originator_id"]
            key = originator_id if isinstance(originator_id, UUID) else UUID(originator_id)
            found[key].append(
                StoredEvent(
                    originator_id=key,
                    originator_version=row["originator_version"],
                    topic=row["topic"],
                    state=bytes(row["state"]),
                )
            )
    return found


def _rows(recorder: Any, ids: list[UUID]) -> list[Any]:
    if isinstance(recorder, PostgresAggregateRecorder):
        statement = SQL(
            "SELECT originator_id, originator_version, topic, state FROM {schema}.{table} "
            "WHERE originator_id = ANY(%s) ORDER BY originator_id, originator_version"
        ).format(
            schema=Identifier(recorder.datastore.schema),
            table=Identifier(recorder.events_table_name),
        )
        with recorder.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(statement, (ids,))
            return list(curs.fetchall())
    if isinstance(recorder, SQLiteAggregateRecorder):
        marks = ", ".join("?" * len(ids))
        with recorder.datastore.transaction(commit=False) as c:
            c.execute(
                "SELECT originator_id, originator_version, topic, state "
                f"FROM {recorder.events_table_name} WHERE originator_id IN ({marks}) "
                "ORDER BY originator_id, originator_version",
                [i.hex for i in ids],  # as eventsourcing's SQLite recorder stores them
            )
            return list(c.fetchall())
    raise TypeError(f"no batch loading for {type(recorder).__name__}")
