"""The outbox relay: publishes a service's committed events to its Kafka topic.

The event store's notification log is the outbox. The relay reads it in order, maps
each domain event to its public contract event (or skips private ones), publishes with
an idempotent producer (acks=all) and records how far it got — in the tracking table,
under ``outbox:<topic>`` — only after Kafka acknowledged. No database transaction is
open while it waits for Kafka.

Publishing is exactly-once per event, not merely at-least-once: every message carries
its notification id in the ``bansos_position`` header, and a relay that (re)starts
first reads the last message of every partition, so events that reached Kafka before a
crash but after the last recorded position are not published a second time. This holds
because one relay is the only writer of its topic and writes each partition in
notification order.

Every event is chained to the previous one of its subject and checkpoints are published
periodically (:mod:`bansos_contracts.integrity`); the chain state is kept by
:class:`~bansos_libs.chainstate.ChainState`, saved after Kafka acknowledged a batch and
before its position is recorded. A relay that restarts folds again what it finds
already published, so the chains on the topic go on unbroken.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypedDict

import anyio
from aiokafka import AIOKafkaConsumer, TopicPartition
from eventsourcing.persistence import Notification, Tracking

from bansos_contracts.envelope import Event
from bansos_contracts.integrity import (
    CHAIN_HEADER,
    CHECKPOINT_KEY,
    POSITION_HEADER,
    Checkpoint,
    checkpoint_headers,
    is_checkpoint,
)
from bansos_contracts.kafka import KafkaMessage, encode
from bansos_libs import metrics
from bansos_libs.chainstate import ChainState
from bansos_libs.context import ActorDict, EventMeta, meta_of, system_actor
from bansos_libs.eventstore import ServiceApplication, event_id_for
from bansos_libs.kafka import connection, idempotent_producer, partition_for
from bansos_libs.logs import get_logger
from bansos_libs.views import ViewDatabase

__all__ = ["POSITION_HEADER", "Envelope", "EventMapper", "OutboxBatch", "OutboxRelay"]

Mark = tuple[int, int]
"""Where a message stands in a partition's order: (position, 1 for a checkpoint else 0);
a checkpoint comes after the event at its position."""
log = get_logger("bansos.outbox")


class Envelope(TypedDict):
    """Envelope fields the relay fills in for every contract event."""

    event_id: str
    occurred_at: datetime
    subject_id: str
    subject_version: int
    correlation_id: str
    causation_id: str | None
    actor: ActorDict


EventMapper = Callable[[Any, Envelope], Event | None]
"""Maps a stored domain event and its envelope to a contract event, or None if private."""


@dataclass
class RelayStats:
    """Counters of one relay process, for logs, health and benchmarks."""

    published: int = 0
    skipped: int = 0
    already_published: int = 0
    position: int = 0
    backlog: int | None = None
    """Notifications stored after ``position`` when last known (0 once caught up)."""


@dataclass(frozen=True)
class OutboxBatch:
    """Notifications read from the store and the messages they map to."""

    notifications: Sequence[Notification]
    outgoing: list[tuple[KafkaMessage, int]]
    """(message, partition) for each public event not yet on the topic."""


def envelope_of(service: str, domain_event: Any) -> Envelope:
    """The envelope of a stored domain event, from its metadata."""
    meta: EventMeta | None = meta_of(domain_event)
    occurred = domain_event.timestamp
    if occurred.tzinfo is None:
        occurred = occurred.replace(tzinfo=UTC)
    return {
        "event_id": event_id_for(
            service, domain_event.originator_id, domain_event.originator_version
        ),
        "occurred_at": occurred,
        "subject_id": str(domain_event.originator_id),
        "subject_version": domain_event.originator_version,
        "correlation_id": meta["correlation_id"] if meta else str(domain_event.originator_id),
        "causation_id": meta["causation_id"] if meta else None,
        "actor": meta["actor"] if meta else system_actor(service),
    }


class OutboxRelay:
    """Publishes one application's public events to one topic, in order, once, chained."""

    def __init__(
        self,
        app: ServiceApplication,
        topic: str,
        mapper: EventMapper,
        bootstrap_servers: str,
        *,
        batch_size: int = 2000,
        idle_poll_seconds: float = 0.05,
        checkpoint_seconds: float = 10.0,
        checkpoint_every: int | None = None,
    ) -> None:
        self.app = app
        self.topic = topic
        self.mapper = mapper
        self.bootstrap_servers = bootstrap_servers
        self.producer = idempotent_producer(bootstrap_servers, f"{app.service}-outbox")
        self.batch_size = batch_size
        self.idle_poll_seconds = idle_poll_seconds
        self.checkpoint_seconds = checkpoint_seconds
        self.tracking_name = f"outbox:{topic}"
        self.stats = RelayStats()
        self.database = ViewDatabase(app.settings)
        self.chain = ChainState(self.database, topic, app.service)
        if checkpoint_every is not None:
            self.chain.checkpoint_every = checkpoint_every
        self._partitions: list[int] = []
        self._published_upto: dict[int, Mark] = {}
        self._last_checkpoint = time.monotonic()

    async def run(self, stop: asyncio.Event) -> None:
        """Relay until ``stop`` is set; the batch in hand is finished first."""
        await self.producer.start()
        unregister = metrics.register(
            metrics.Gauge(
                metrics.RELAY_BACKLOG,
                self.backlog_measurements,
                "Notifications stored but not yet relayed (an upper bound).",
                "{notification}",
            )
        )
        try:
            await self.recover()
            while not stop.is_set():
                if not await self.relay_once():
                    with anyio.move_on_after(self.idle_poll_seconds):
                        await stop.wait()
        finally:
            unregister()
            await self.producer.stop()
            self.database.close()

    def backlog_measurements(self) -> list[metrics.Measurement]:
        """The backlog, for the ``bansos.relay.backlog`` gauge (none before it is known)."""
        backlog = self.stats.backlog
        return [] if backlog is None else [(backlog, {"topic": self.topic})]

    async def _measure_backlog(self) -> None:
        """Ask the store how far its log goes (one indexed query; only when behind)."""
        newest = await anyio.to_thread.run_sync(self.app.recorder.max_notification_id)
        self.stats.backlog = max(0, (newest or 0) - self.stats.position)

    async def recover(self) -> None:
        """Load the chain state and what the topic already holds beyond it."""
        await anyio.to_thread.run_sync(self._load_chain)
        self.stats.position = self.chain.log.position
        partitions = await self.producer.partitions_for(self.topic)
        if not partitions:
            raise RuntimeError(f"topic {self.topic} does not exist: create it first")
        self._partitions = sorted(partitions)
        self._published_upto = await last_published_positions(
            self.bootstrap_servers, self.topic, self._partitions
        )
        position, kind = self._published_upto[self._checkpoint_partition()]
        if kind == 1:  # a checkpoint published just before a crash, perhaps unrecorded
            self.chain.log.checkpoint_position = max(self.chain.log.checkpoint_position, position)
        self._last_checkpoint = time.monotonic()
        await self._measure_backlog()
        log.info(
            "outbox.recovered",
            topic=self.topic,
            position=self.stats.position,
            published_upto=max(p for p, _ in self._published_upto.values()),
        )

    def _load_chain(self) -> None:
        self.chain.create_tables()
        self.chain.load()

    async def relay_once(self) -> int:
        """Publish the next batch; returns how many notifications it covered."""
        batch = await self.next_batch()
        if batch is None:
            self.stats.backlog = 0
            await self.checkpoint_if_idle()
            return 0
        await self.publish(batch)
        await self.record(batch)
        if len(batch.notifications) < self.batch_size:
            self.stats.backlog = 0  # the batch reached the end of the log as it was read
        else:
            await self._measure_backlog()
        return len(batch.notifications)

    async def next_batch(self) -> OutboxBatch | None:
        """Read, map and chain the notifications after the current position.

        No Kafka I/O; the chain state advances in memory and is saved by :meth:`record`.
        """
        notifications: Sequence[Notification] = await anyio.to_thread.run_sync(
            lambda: self.app.recorder.select_notifications(
                start=self.stats.position + 1, limit=self.batch_size
            )
        )
        if not notifications:
            return None
        mapped = [(n.id, self._contract_event(n)) for n in notifications]
        public = [(n, found) for n, found in mapped if found is not None]
        subjects = [event.subject_id for _, (event, _) in public]
        await anyio.to_thread.run_sync(self.chain.preload, subjects)
        outgoing: list[tuple[KafkaMessage, int]] = []
        for position, (event, message) in public:
            outgoing.extend(self._chained(position, event.subject_id, message))
        return OutboxBatch(notifications, outgoing)

    async def record(self, batch: OutboxBatch) -> None:
        """Save the chain state, then record the batch's last position, after Kafka
        acknowledged all of it."""
        last = batch.notifications[-1].id
        await anyio.to_thread.run_sync(self.chain.save, last)
        await anyio.to_thread.run_sync(
            self.app.process_recorder.insert_tracking, Tracking(self.tracking_name, last)
        )
        self.stats.position = last
        log.debug("outbox.batch", topic=self.topic, count=len(batch.outgoing), position=last)

    async def checkpoint_if_idle(self) -> bool:
        """Publish a checkpoint over the tail of the log when the relay has caught up,
        the last one is ``checkpoint_seconds`` old and events came since."""
        state = self.chain.log
        if state.last_event_position <= state.checkpoint_position:
            return False
        if time.monotonic() - self._last_checkpoint < self.checkpoint_seconds:
            return False
        message = self._checkpoint_message(self.chain.checkpoint())
        await self.publish(OutboxBatch((), [message]))
        await anyio.to_thread.run_sync(self.chain.save, self.stats.position)
        return True

    def _contract_event(self, notification: Notification) -> tuple[Event, KafkaMessage] | None:
        domain_event = self.app.mapper.to_domain_event(notification)
        event = self.mapper(domain_event, envelope_of(self.app.service, domain_event))
        if event is None:
            self.stats.skipped += 1
            return None
        meta = meta_of(domain_event)
        trace = meta["trace"] if meta else {}
        # The stored trace context goes on unchanged: the consumer's span becomes a
        # child of the span that handled the command, in the same trace.
        message = encode(
            event, traceparent=trace.get("traceparent"), tracestate=trace.get("tracestate")
        )
        return event, message

    def _chained(
        self, position: int, subject: str, message: KafkaMessage
    ) -> list[tuple[KafkaMessage, int]]:
        """The event's message with its position and chain, and the checkpoint that
        follows it if one is due; without what the topic already holds."""
        assert message.value is not None
        chain = self.chain.fold(subject, position, message.value)
        partition = partition_for(message.key or b"", self._partitions)
        outgoing = []
        if (position, 0) <= self._published_upto.get(partition, (0, 0)):
            self.stats.already_published += 1
        else:
            headers = (
                *message.headers,
                (POSITION_HEADER, str(position).encode()),
                (CHAIN_HEADER, chain.encode()),
            )
            outgoing.append(
                (KafkaMessage(self.topic, message.key, message.value, headers), partition)
            )
        if self.chain.due_checkpoint():
            checkpoint = self._checkpoint_message(self.chain.checkpoint())
            if (position, 1) > self._published_upto.get(checkpoint[1], (0, 0)):
                outgoing.append(checkpoint)
        return outgoing

    def _checkpoint_partition(self) -> int:
        return partition_for(CHECKPOINT_KEY, self._partitions)

    def _checkpoint_message(self, checkpoint: Checkpoint) -> tuple[KafkaMessage, int]:
        """A checkpoint's message; the chain state now counts it as published."""
        self.chain.log.checkpoint_position = checkpoint.upto_position
        self._last_checkpoint = time.monotonic()
        message = KafkaMessage(
            self.topic, CHECKPOINT_KEY, checkpoint.to_json(), checkpoint_headers(checkpoint)
        )
        return message, self._checkpoint_partition()

    async def publish(self, batch: OutboxBatch) -> None:
        """Send the batch's messages and wait until Kafka acknowledged every one."""
        futures = [
            await self.producer.send(
                message.topic,
                value=message.value,
                key=message.key,
                headers=list(message.headers),
                partition=partition,
            )
            for message, partition in batch.outgoing
        ]
        await asyncio.gather(*futures)
        events = sum(1 for message, _ in batch.outgoing if not is_checkpoint(message.headers))
        self.stats.published += events
        metrics.events_published(self.topic, events)


async def last_published_positions(
    bootstrap_servers: str, topic: str, partitions: list[int]
) -> dict[int, Mark]:
    """Where the last message of each partition stands ((0, 0) if none)."""
    consumer = AIOKafkaConsumer(
        **connection(bootstrap_servers),
        enable_auto_commit=False,
        isolation_level="read_uncommitted",
    )
    await consumer.start()
    try:
        tps = [TopicPartition(topic, p) for p in partitions]
        consumer.assign(tps)
        ends = await consumer.end_offsets(tps)
        positions: dict[int, Mark] = {}
        pending = []
        for tp in tps:
            if ends[tp] > 0:
                consumer.seek(tp, ends[tp] - 1)
                pending.append(tp)
            else:
                positions[tp.partition] = (0, 0)
        while pending:
            batch = await consumer.getmany(*pending, timeout_ms=1000)
            for tp, records in batch.items():
                last = records[-1]
                value = dict(last.headers).get(POSITION_HEADER)
                kind = 1 if is_checkpoint(last.headers) else 0
                positions[tp.partition] = (int(value) if value else 0, kind)
                if last.offset >= ends[tp] - 1:
                    pending.remove(tp)
        return positions
    finally:
        await consumer.stop()


def public_events(app: ServiceApplication, mapper: EventMapper) -> list[Event]:
    """Every contract event the relay would publish from ``app``'s store, in order
    (without Kafka: for tests and checks of what a service has recorded)."""
    events = []
    for notification in app.recorder.select_notifications(start=1, limit=1_000_000_000):
        domain_event = app.mapper.to_domain_event(notification)
        event = mapper(domain_event, envelope_of(app.service, domain_event))
        if event is not None:
            events.append(event)
    return events
