"""A faster PostgreSQL process recorder for eventsourcing 9.5.6.

The library inserts a batch as one array of a composite type, which psycopg dumps in
Python, value by value, in text form: about 90 µs an event, the largest single cost of
a consumer's transaction. This recorder sends four plain arrays instead (ids, versions,
topics, states), which psycopg dumps in bulk, and keeps everything else the library
does: the table lock that orders notification ids, NOTIFY, RETURNING, and the tracking
insert in the same transaction. It is chosen by ``PROCESS_RECORDER_TOPIC``.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresDatastore, PostgresProcessRecorder
from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL, Identifier

TOPIC = "bansos_libs.pgstore:FastPostgresProcessRecorder"
CHUNK = 1000
"""Events per INSERT statement."""


class FastPostgresProcessRecorder(PostgresProcessRecorder):
    """``PostgresProcessRecorder`` whose batch insert uses parallel arrays."""

    def __init__(
        self,
        datastore: PostgresDatastore,
        *,
        events_table_name: str = "stored_events",
        tracking_table_name: str = "notification_tracking",
    ) -> None:
        super().__init__(
            datastore,
            events_table_name=events_table_name,
            tracking_table_name=tracking_table_name,
        )
        self._chunk_cursors = threading.local()
        self.insert_events_statement = SQL(
            "INSERT INTO {schema}.{table} (originator_id, originator_version, topic, state) "
            "SELECT * FROM unnest(%s::{id_type}[], %s::integer[], %s::text[], %s::bytea[]) "
            "RETURNING notification_id"
        ).format(
            schema=Identifier(self.datastore.schema),
            table=Identifier(self.events_table_name),
            id_type=SQL(self.datastore.originator_id_type),
        )

    def _insert_stored_events(
        self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], **_: Any
    ) -> None:
        self._lock_table(curs)
        self._notify_channel(curs)
        # In chunks, each on a cursor of its own whose RETURNING rows are read at the end:
        # one statement of many megabytes was seen to stall psycopg's pipeline mode for
        # good (the server waiting for the rest of the message, the client for the server).
        cursors: list[Cursor[DictRow]] = []
        for start in range(0, len(stored_events), CHUNK):
            chunk = stored_events[start : start + CHUNK]
            chunk_cursor = curs if start + CHUNK >= len(stored_events) else curs.connection.cursor()
            chunk_cursor.execute(
                self.insert_events_statement,
                (
                    [e.originator_id for e in chunk],
                    [e.originator_version for e in chunk],
                    [e.topic for e in chunk],
                    [e.state for e in chunk],
                ),
                # Binary parameters: a bytea array in text form is escaped byte by byte.
                binary=True,
            )
            if chunk_cursor is not curs:
                cursors.append(chunk_cursor)
        self._chunk_cursors.cursors = cursors

    def _fetch_ids_after_insert_events(
        self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        ids: list[int] = []
        for chunk_cursor in getattr(self._chunk_cursors, "cursors", ()):
            ids.extend(row["notification_id"] for row in chunk_cursor.fetchall())
            chunk_cursor.close()
        self._chunk_cursors.cursors = []
        last = super()._fetch_ids_after_insert_events(curs, stored_events, **kwargs) or []
        return [*ids, *last]
