"""The auditor's local index: every public event, one SQLite row each, with its place in Kafka.

Tables:

``events``
    One row per event, keyed by ``event_id`` (a second delivery of the same event is
    ignored): where it is in Kafka (``topic``, ``kafka_partition``, ``kafka_offset``),
    ``recorded_at`` (the Kafka record timestamp, UTC), the envelope, the ids an auditor
    joins on (``household_id``, ``case_id``, ``payout_id``, ``list_id``, ``snapshot_id``),
    the ``traceparent`` header and the message's JSON ``body`` exactly as it was read.
``list_members``
    ``(household_id, event_id, list_id, listed)`` from every ``BeneficiaryListApproved``:
    ``listed`` is 1 for a household on the list and 0 for one the village excluded.
``unreadable``
    Messages that could not be decoded: ``(topic, kafka_partition, kafka_offset, reason)``.
``positions``
    The next offset to read per ``(topic, kafka_partition)``, written in the same
    transaction as the rows of the batch it follows, so a crash loses and repeats nothing.
``meta``
    Small facts about the index itself (the topic prefix it was synced with).

Times are stored as fixed-width ISO-8601 text in UTC with microseconds and a ``Z``
(``2025-11-21T01:30:00.000000Z``), so comparing the text compares the instants.
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from bansos_contracts.eligibility import BeneficiaryListApproved
from bansos_contracts.envelope import Actor, Event
from bansos_libs.settings import repo_root

__all__ = [
    "EVENT_COLUMNS",
    "EventRow",
    "Index",
    "IndexedEvent",
    "MemberRow",
    "Prepared",
    "UnreadableRow",
    "default_index_path",
    "prepare",
    "row_of",
    "utc_text",
]

EVENT_COLUMNS: tuple[str, ...] = (
    "event_id",
    "topic",
    "kafka_partition",
    "kafka_offset",
    "recorded_at",
    "occurred_at",
    "event_type",
    "subject_id",
    "subject_version",
    "household_id",
    "case_id",
    "payout_id",
    "list_id",
    "snapshot_id",
    "correlation_id",
    "causation_id",
    "actor",
    "traceparent",
    "body",
)
"""The columns of ``events``, in the order of an :data:`EventRow`."""

EventRow = tuple[
    str, str, int, int, str, str, str, str, int,
    str | None, str | None, str | None, str | None, str | None,
    str, str | None, str, str | None, str,
]  # fmt: skip
"""One ``events`` row, in :data:`EVENT_COLUMNS` order."""
MemberRow = tuple[str, str, str, int]
"""One ``list_members`` row: household_id, event_id, list_id, listed (1) or excluded (0)."""
UnreadableRow = tuple[str, int, int, str]
"""One ``unreadable`` row: topic, partition, offset, reason."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS events (
    event_id TEXT PRIMARY KEY,
    topic TEXT NOT NULL,
    kafka_partition INTEGER NOT NULL,
    kafka_offset INTEGER NOT NULL,
    recorded_at TEXT NOT NULL,
    occurred_at TEXT NOT NULL,
    event_type TEXT NOT NULL,
    subject_id TEXT NOT NULL,
    subject_version INTEGER NOT NULL,
    household_id TEXT,
    case_id TEXT,
    payout_id TEXT,
    list_id TEXT,
    snapshot_id TEXT,
    correlation_id TEXT NOT NULL,
    causation_id TEXT,
    actor TEXT NOT NULL,
    traceparent TEXT,
    body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_household ON events (household_id)
    WHERE household_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS events_decisions ON events (topic, kafka_partition, kafka_offset)
    WHERE event_type = 'EligibilityDecided';
CREATE TABLE IF NOT EXISTS list_members (
    household_id TEXT NOT NULL,
    event_id TEXT NOT NULL,
    list_id TEXT NOT NULL,
    listed INTEGER NOT NULL,
    PRIMARY KEY (household_id, event_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS unreadable (
    topic TEXT NOT NULL,
    kafka_partition INTEGER NOT NULL,
    kafka_offset INTEGER NOT NULL,
    reason TEXT NOT NULL,
    PRIMARY KEY (topic, kafka_partition, kafka_offset)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS positions (
    topic TEXT NOT NULL,
    kafka_partition INTEGER NOT NULL,
    next_offset INTEGER NOT NULL,
    PRIMARY KEY (topic, kafka_partition)
) WITHOUT ROWID;
"""

# ON CONFLICT … DO NOTHING skips only a row whose key is already there (a duplicate);
# unlike INSERT OR IGNORE it does not silently skip a row that breaks NOT NULL.
_INSERT_EVENT = (
    f"INSERT INTO events ({', '.join(EVENT_COLUMNS)})"
    f" VALUES ({', '.join('?' for _ in EVENT_COLUMNS)}) ON CONFLICT DO NOTHING"
)
_INSERT_MEMBER = (
    "INSERT INTO list_members (household_id, event_id, list_id, listed)"
    " VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING"
)
_INSERT_UNREADABLE = (
    "INSERT INTO unreadable (topic, kafka_partition, kafka_offset, reason)"
    " VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING"
)
_UPSERT_POSITION = (
    "INSERT INTO positions (topic, kafka_partition, next_offset) VALUES (?, ?, ?)"
    " ON CONFLICT (topic, kafka_partition)"
    " DO UPDATE SET next_offset = max(next_offset, excluded.next_offset)"
)


def default_index_path() -> Path:
    """``.local/audit/index.sqlite`` under the workspace root."""
    return repo_root() / ".local" / "audit" / "index.sqlite"


def utc_text(moment: datetime) -> str:
    """A time as the index stores it: ``2025-11-21T01:30:00.000000Z`` (UTC, fixed width).

    A naive time is taken to be UTC.
    """
    # Cheaper than astimezone() and strftime(), and this runs twice per indexed event.
    offset = moment.utcoffset()
    if offset:
        moment -= offset
    return moment.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


_ACTORS: dict[tuple[str, str, str | None], str] = {}


def _actor_json(actor: Actor) -> str:
    """The actor as compact JSON; the same few actors repeat, so their JSON is kept."""
    fields = actor.__dict__
    key = (fields["role"], fields["id"], fields["region"])
    text = _ACTORS.get(key)
    if text is None:
        text = actor.model_dump_json(exclude_none=True)
        if len(_ACTORS) < 100_000:
            _ACTORS[key] = text
    return text


@dataclass(frozen=True, slots=True)
class IndexedEvent:
    """A decoded event and where it was read: what :meth:`Index.add_events` takes."""

    event: Event
    topic: str
    partition: int
    offset: int
    recorded_at: datetime
    """The Kafka record timestamp: when the log recorded the message."""
    traceparent: str | None = None
    body: str | None = None
    """The message's JSON body as read; ``None`` serialises the event."""


@dataclass(slots=True)
class Prepared:
    """Rows ready to write: the result of decoding one fetched batch."""

    events: list[EventRow] = field(default_factory=list)
    members: list[MemberRow] = field(default_factory=list)
    unreadable: list[UnreadableRow] = field(default_factory=list)


def row_of(
    event: Event,
    topic: str,
    partition: int,
    offset: int,
    recorded_at: str,
    traceparent: str | None,
    body: str,
) -> EventRow:
    """The ``events`` row of a decoded event (``recorded_at`` already as :func:`utc_text`)."""
    # Fields are read from the model's __dict__: pydantic's attribute lookup of a field a
    # model does not have costs microseconds, and this runs once per event.
    fields = event.__dict__
    return (
        str(fields["event_id"]),
        topic,
        partition,
        offset,
        recorded_at,
        utc_text(fields["occurred_at"]),
        fields["event_type"],
        fields["subject_id"],
        fields["subject_version"],
        fields.get("household_id"),
        fields.get("case_id"),
        fields.get("payout_id"),
        fields.get("list_id"),
        fields.get("snapshot_id"),
        fields["correlation_id"],
        fields["causation_id"],
        _actor_json(fields["actor"]),
        traceparent,
        body,
    )


def members_of(event: Event) -> list[MemberRow]:
    """The ``list_members`` rows of a list approval (none for any other event)."""
    if not isinstance(event, BeneficiaryListApproved):
        return []
    event_id = str(event.event_id)
    rows = [(household, event_id, event.list_id, 1) for household in event.household_ids]
    rows.extend((ex.household_id, event_id, event.list_id, 0) for ex in event.exclusions)
    return rows


def prepare(items: Iterable[IndexedEvent]) -> Prepared:
    """The rows of already-decoded events (what :meth:`Index.add_events` writes)."""
    prepared = Prepared()
    for item in items:
        body = item.body if item.body is not None else item.event.model_dump_json()
        prepared.events.append(
            row_of(
                item.event,
                item.topic,
                item.partition,
                item.offset,
                utc_text(item.recorded_at),
                item.traceparent,
                body,
            )
        )
        prepared.members.extend(members_of(item.event))
    return prepared


class Index:
    """The SQLite index file (created with its tables when missing).

    One writer at a time; reads may run alongside (WAL). Use as a context manager or
    call :meth:`close`.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        # Rows hold whole event bodies: larger pages write them faster (new files only).
        self.db.execute("PRAGMA page_size=16384")
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.execute("PRAGMA busy_timeout=30000")
        self.db.execute("PRAGMA cache_size=-131072")
        self.db.execute("PRAGMA temp_store=MEMORY")
        # Fewer, larger checkpoints while a sync writes (SQLite checkpoints on close).
        self.db.execute("PRAGMA wal_autocheckpoint=10000")
        self.db.executescript(_SCHEMA)

    def close(self) -> None:
        """Close the database."""
        self.db.close()

    def __enter__(self) -> Index:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """``BEGIN IMMEDIATE`` … ``COMMIT``, or ``ROLLBACK`` when the block raises."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    # --- writing ------------------------------------------------------------------------

    def write(
        self, prepared: Prepared, positions: Mapping[tuple[str, int], int] | None = None
    ) -> dict[str, int]:
        """Write one batch and the next offsets it reached, in one transaction.

        Returns how many events were new, per topic (an event id already indexed is
        ignored: it does not count).
        """
        by_topic: dict[str, list[EventRow]] = defaultdict(list)
        for row in prepared.events:
            by_topic[row[1]].append(row)
        added: dict[str, int] = {}
        with self.transaction() as db:
            for topic, rows in by_topic.items():
                before = db.total_changes
                db.executemany(_INSERT_EVENT, rows)
                added[topic] = db.total_changes - before
            if prepared.members:
                db.executemany(_INSERT_MEMBER, prepared.members)
            if prepared.unreadable:
                db.executemany(_INSERT_UNREADABLE, prepared.unreadable)
            if positions:
                db.executemany(
                    _UPSERT_POSITION, [(t, p, offset) for (t, p), offset in positions.items()]
                )
        return added

    def add_events(
        self,
        items: Iterable[IndexedEvent],
        positions: Mapping[tuple[str, int], int] | None = None,
    ) -> dict[str, int]:
        """Index already-decoded events (and, if given, the next offsets) in one transaction.

        This is the path ``sync`` takes after decoding; tests feed contract events here.
        """
        return self.write(prepare(items), positions)

    def set_meta(self, key: str, value: str) -> None:
        """Record a fact about the index."""
        with self.transaction() as db:
            db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    # --- reading ------------------------------------------------------------------------

    def meta(self, key: str) -> str | None:
        """A fact recorded with :meth:`set_meta`, or ``None``."""
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def positions(self) -> dict[tuple[str, int], int]:
        """The next offset to read per (topic, partition)."""
        rows = self.db.execute("SELECT topic, kafka_partition, next_offset FROM positions")
        return {(topic, partition): offset for topic, partition, offset in rows}

    def counts_by_topic(self) -> dict[str, int]:
        """How many events the index holds per topic."""
        rows = self.db.execute("SELECT topic, count(*) FROM events GROUP BY topic ORDER BY topic")
        return {topic: count for topic, count in rows}

    def unreadable(self) -> list[UnreadableRow]:
        """Every unreadable message, in topic, partition and offset order."""
        rows = self.db.execute(
            "SELECT topic, kafka_partition, kafka_offset, reason FROM unreadable"
            " ORDER BY topic, kafka_partition, kafka_offset"
        )
        return [(t, p, o, r) for t, p, o, r in rows]

    def query(
        self, sql: str, parameters: Sequence[Any] | Mapping[str, Any] = ()
    ) -> list[sqlite3.Row]:
        """Rows of a read-only query, addressable by column name."""
        cursor = self.db.cursor()
        cursor.row_factory = sqlite3.Row
        return list(cursor.execute(sql, parameters))
