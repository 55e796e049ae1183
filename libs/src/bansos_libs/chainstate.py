"""The outbox relay's memory of its chains: per-subject heads and the log hash.

The relay chains every event it publishes (see :mod:`bansos_contracts.integrity`). To
go on after a restart it keeps, in the service's own database, the last chain of every
subject and the running log hash, written in one transaction after Kafka acknowledged
the batch they cover. ``position`` is the last notification folded in: every
notification up to it is on the topic, so the relay starts after it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from bansos_contracts.integrity import CHECKPOINT_EVERY, Checkpoint, chain_hash, log_hash
from bansos_libs.views import Sql, ViewDatabase

HEADS_TABLE = "bansos_chain_heads"
LOG_TABLE = "bansos_chain_log"
_CACHE_LIMIT = 200_000
"""Heads kept in memory between batches; beyond this the cache starts afresh."""


@dataclass
class LogState:
    """How far the relay has folded its log, and the hash over it."""

    position: int = 0
    """The last notification folded (public or not)."""
    events: int = 0
    """Public events folded."""
    log_hash: str | None = None
    last_event_position: int = 0
    checkpoint_position: int = 0
    """The position the newest published checkpoint covers up to."""


class ChainState:
    """Chain heads and log hash of one topic, cached in memory and stored in the database."""

    def __init__(
        self,
        database: ViewDatabase,
        topic: str,
        producer: str,
        checkpoint_every: int = CHECKPOINT_EVERY,
    ) -> None:
        self.database = database
        self.topic = topic
        self.producer = producer
        self.checkpoint_every = checkpoint_every
        self.log = LogState()
        self._heads: dict[str, str] = {}
        self._dirty: dict[str, str] = {}

    def create_tables(self) -> None:
        """Create the tables if they do not exist."""
        self.database.create(
            [
                f"CREATE TABLE IF NOT EXISTS {HEADS_TABLE} (topic TEXT NOT NULL, "
                "subject_id TEXT NOT NULL, chain TEXT NOT NULL, PRIMARY KEY (topic, subject_id))",
                f"CREATE TABLE IF NOT EXISTS {LOG_TABLE} (topic TEXT PRIMARY KEY, "
                "position BIGINT NOT NULL, events BIGINT NOT NULL, log_hash TEXT, "
                "last_event_position BIGINT NOT NULL, checkpoint_position BIGINT NOT NULL)",
            ]
        )

    def load(self) -> LogState:
        """Read the stored log state (a fresh one when none is stored) and forget heads."""
        with self.database.transaction() as sql:
            row = sql.execute(
                f"SELECT position, events, log_hash, last_event_position, checkpoint_position "
                f"FROM {LOG_TABLE} WHERE topic = %s",
                (self.topic,),
            ).fetchone()
        self.log = LogState() if row is None else LogState(*row)
        self._heads.clear()
        self._dirty.clear()
        return self.log

    def preload(self, subjects: Iterable[str]) -> None:
        """Read the heads of these subjects that are not cached, with one query."""
        missing = [s for s in dict.fromkeys(subjects) if s not in self._heads]
        if not missing:
            return
        if len(self._heads) + len(missing) > _CACHE_LIMIT:
            self._heads = dict(self._dirty)
        with self.database.transaction() as sql:
            condition, params = sql.is_in("subject_id", missing)
            rows = sql.execute(
                f"SELECT subject_id, chain FROM {HEADS_TABLE} WHERE topic = %s AND {condition}",
                [self.topic, *params],
            ).fetchall()
        self._heads.update({str(subject): str(chain) for subject, chain in rows})
        for subject in missing:
            self._heads.setdefault(subject, "")

    def fold(self, subject: str, position: int, value: bytes) -> str:
        """Chain one public event (its subject's head must be preloaded); its chain."""
        chain = chain_hash(self._heads[subject] or None, value)
        self._heads[subject] = self._dirty[subject] = chain
        self.log.events += 1
        self.log.log_hash = log_hash(self.log.log_hash, position, chain)
        self.log.last_event_position = position
        return chain

    def due_checkpoint(self) -> bool:
        """Whether the event just folded is one a checkpoint follows."""
        return self.log.events % self.checkpoint_every == 0

    def checkpoint(self) -> Checkpoint:
        """The checkpoint over everything folded so far."""
        assert self.log.log_hash is not None, "a checkpoint covers at least one event"
        return Checkpoint(
            topic=self.topic,
            producer=self.producer,
            upto_position=self.log.last_event_position,
            events=self.log.events,
            log_hash=self.log.log_hash,
        )

    def save(self, position: int) -> None:
        """Store the changed heads and the log state up to ``position``, in one transaction."""
        self.log.position = max(self.log.position, position)
        with self.database.transaction() as sql:
            if self._dirty:
                _upsert_heads(sql, self.topic, self._dirty)
            log = self.log
            sql.execute(
                f"INSERT INTO {LOG_TABLE} (topic, position, events, log_hash, "
                "last_event_position, checkpoint_position) VALUES (%s, %s, %s, %s, %s, %s) "
                "ON CONFLICT (topic) DO UPDATE SET position = excluded.position, "
                "events = excluded.events, log_hash = excluded.log_hash, "
                "last_event_position = excluded.last_event_position, "
                "checkpoint_position = excluded.checkpoint_position",
                (
                    self.topic,
                    log.position,
                    log.events,
                    log.log_hash,
                    log.last_event_position,
                    log.checkpoint_position,
                ),
            )
        self._dirty.clear()


def _upsert_heads(sql: Sql, topic: str, heads: dict[str, str]) -> None:
    sql.executemany(
        f"INSERT INTO {HEADS_TABLE} (topic, subject_id, chain) VALUES (%s, %s, %s) "
        "ON CONFLICT (topic, subject_id) DO UPDATE SET chain = excluded.chain",
        [(topic, subject, chain) for subject, chain in heads.items()],
    )
