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
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypedDict

import anyio
from aiokafka import AIOKafkaConsumer, TopicPartition
from eventsourcing.persistence import Notification, Tracking

from bansos_contracts.envelope import Event
from bansos_contracts.kafka import KafkaMessage, encode
from bansos_libs import metrics
from bansos_libs.context import ActorDict, EventMeta, meta_of, system_actor
from bansos_libs.eventstore import ServiceApplication, event_id_for
from bansos_libs.kafka import idempotent_producer, partition_for
from bansos_libs.logs import get_logger

POSITION_HEADER = "bansos_position"
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
    """Publishes one application's public events to one topic, in order, once."""

    def __init__(
        self,
        app: ServiceApplication,
        topic: str,
        mapper: EventMapper,
        bootstrap_servers: str,
        *,
        batch_size: int = 2000,
        idle_poll_seconds: float = 0.05,
    ) -> None:
        self.app = app
        self.topic = topic
        self.mapper = mapper
        self.bootstrap_servers = bootstrap_servers
        self.producer = idempotent_producer(bootstrap_servers, f"{app.service}-outbox")
        self.batch_size = batch_size
        self.idle_poll_seconds = idle_poll_seconds
        self.tracking_name = f"outbox:{topic}"
        self.stats = RelayStats()
        self._partitions: list[int] = []
        self._published_upto: dict[int, int] = {}

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

    def backlog_measurements(self) -> list[metrics.Measurement]:
        """The backlog, for the ``bansos.relay.backlog`` gauge (none before it is known)."""
        backlog = self.stats.backlog
        return [] if backlog is None else [(backlog, {"topic": self.topic})]

    async def _measure_backlog(self) -> None:
        """Ask the store how far its log goes (one indexed query; only when behind)."""
        newest = await anyio.to_thread.run_sync(self.app.recorder.max_notification_id)
        self.stats.backlog = max(0, (newest or 0) - self.stats.position)

    async def recover(self) -> None:
        """Load the recorded position and what the topic already holds beyond it."""
        recorded = await anyio.to_thread.run_sync(self.app.max_tracking_id, self.tracking_name)
        self.stats.position = recorded or 0
        partitions = await self.producer.partitions_for(self.topic)
        if not partitions:
            raise RuntimeError(f"topic {self.topic} does not exist: create it first")
        self._partitions = sorted(partitions)
        self._published_upto = await last_published_positions(
            self.bootstrap_servers, self.topic, self._partitions
        )
        await self._measure_backlog()
        log.info(
            "outbox.recovered",
            topic=self.topic,
            position=self.stats.position,
            published_upto=max(self._published_upto.values(), default=0),
        )

    async def relay_once(self) -> int:
        """Publish the next batch; returns how many notifications it covered."""
        batch = await self.next_batch()
        if batch is None:
            self.stats.backlog = 0
            return 0
        await self.publish(batch)
        await self.record(batch)
        if len(batch.notifications) < self.batch_size:
            self.stats.backlog = 0  # the batch reached the end of the log as it was read
        else:
            await self._measure_backlog()
        return len(batch.notifications)

    async def next_batch(self) -> OutboxBatch | None:
        """Read and map the notifications after the current position (no Kafka I/O)."""
        notifications: Sequence[Notification] = await anyio.to_thread.run_sync(
            lambda: self.app.recorder.select_notifications(
                start=self.stats.position + 1, limit=self.batch_size
            )
        )
        if not notifications:
            return None
        outgoing = [m for m in map(self._message_for, notifications) if m is not None]
        return OutboxBatch(notifications, outgoing)

    async def record(self, batch: OutboxBatch) -> None:
        """Record the batch's last position, after Kafka acknowledged all of it."""
        last = batch.notifications[-1].id
        await anyio.to_thread.run_sync(
            self.app.process_recorder.insert_tracking, Tracking(self.tracking_name, last)
        )
        self.stats.position = last
        log.debug("outbox.batch", topic=self.topic, count=len(batch.outgoing), position=last)

    def _message_for(self, notification: Notification) -> tuple[KafkaMessage, int] | None:
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
        partition = partition_for(message.key or b"", self._partitions)
        if notification.id <= self._published_upto.get(partition, 0):
            self.stats.already_published += 1
            return None
        headers = (*message.headers, (POSITION_HEADER, str(notification.id).encode()))
        return KafkaMessage(self.topic, message.key, message.value, headers), partition

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
        self.stats.published += len(batch.outgoing)
        metrics.events_published(self.topic, len(batch.outgoing))


async def last_published_positions(
    bootstrap_servers: str, topic: str, partitions: list[int]
) -> dict[int, int]:
    """The ``bansos_position`` of the last message on each partition (0 if none)."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap_servers,
        enable_auto_commit=False,
        isolation_level="read_uncommitted",
    )
    await consumer.start()
    try:
        tps = [TopicPartition(topic, p) for p in partitions]
        consumer.assign(tps)
        ends = await consumer.end_offsets(tps)
        positions: dict[int, int] = {}
        pending = []
        for tp in tps:
            if ends[tp] > 0:
                consumer.seek(tp, ends[tp] - 1)
                pending.append(tp)
            else:
                positions[tp.partition] = 0
        while pending:
            batch = await consumer.getmany(*pending, timeout_ms=1000)
            for tp, records in batch.items():
                last = records[-1]
                value = dict(last.headers).get(POSITION_HEADER)
                positions[tp.partition] = int(value) if value else 0
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
