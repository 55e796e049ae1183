"""The tracked consumer: effectively exactly-once processing of Kafka events.

It consumes topics in a consumer group and handles each partition's batch in one
transaction that writes the new events together with the tracking position
``<topic>:<partition>`` → offset. Kafka's committed offsets are only informative (lag
metrics, autoscaling): on every assignment the consumer seeks to its own tracked
position + 1, and the tracking table refuses a position at or below the stored one, so
a redelivered or replayed message changes nothing.

A message that cannot be decoded, fails validation, or makes the handler raise a
non-transient error goes to ``bansos.deadletter.v1`` with its reason and original
bytes; the partition moves on. Transient errors (database or broker unavailable) are
retried with back-off and never dead-lettered.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import anyio
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener, TopicPartition
from aiokafka.structs import ConsumerRecord
from eventsourcing.persistence import IntegrityError, InterfaceError, OperationalError, Tracking
from opentelemetry import trace

from bansos_contracts.envelope import Event
from bansos_contracts.integrity import is_checkpoint
from bansos_contracts.kafka import ContractError, dead_letter_message, decode
from bansos_libs import metrics, telemetry
from bansos_libs.context import command_context
from bansos_libs.eventstore import ServiceApplication, UnitOfWork
from bansos_libs.kafka import idempotent_producer, tracked_consumer_client
from bansos_libs.logs import get_logger, mask_personal_numbers

Handler = Callable[[Event, UnitOfWork], None]
"""Handles one contract event by collecting new events into the unit of work. A handler
object may also have ``prefetch(events, uow)``, called once per batch before the events."""

TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    OperationalError,
    InterfaceError,
    ConnectionError,
    TimeoutError,
)
log = get_logger("bansos.consumer")


def tracking_name(topic: str, partition: int) -> str:
    """The tracking name of one partition: one strictly ordered stream of offsets."""
    return f"{topic}:{partition}"


@dataclass
class ConsumerStats:
    """Counters of one consumer process, for logs, health and benchmarks."""

    processed: int = 0
    skipped_duplicates: int = 0
    dead_lettered: int = 0
    batches: int = 0
    positions: dict[str, int] = field(default_factory=dict)


class HandlerFailedError(Exception):
    """The handler raised a non-transient error for one record."""

    def __init__(self, record: ConsumerRecord[bytes, bytes], error: BaseException) -> None:
        super().__init__(f"offset {record.offset}: {error!r}")
        self.record = record
        self.error = error


class _Rebalance(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, owner: TrackedConsumer) -> None:
        self.owner = owner

    async def on_partitions_revoked(self, revoked: Any) -> None:
        for tp in revoked:
            self.owner.positions.pop(tp, None)

    async def on_partitions_assigned(self, assigned: Any) -> None:
        await self.owner.resume_from_tracking(list(assigned))


class TrackedConsumer:
    """Consumes ``topics`` in ``group_id`` and applies ``handler`` exactly once."""

    def __init__(
        self,
        app: ServiceApplication,
        topics: Sequence[str],
        group_id: str,
        handler: Handler,
        bootstrap_servers: str,
        *,
        max_records: int = 2000,
        max_attempts: int = 20,
    ) -> None:
        self.app = app
        self.topics = list(topics)
        self.group_id = group_id
        self.handler = handler
        self.bootstrap_servers = bootstrap_servers
        self.max_records = max_records
        self.max_attempts = max_attempts
        self.positions: dict[TopicPartition, int] = {}
        self.stats = ConsumerStats()
        self.consumer: AIOKafkaConsumer | None = None
        self.assigned = asyncio.Event()
        self._tracer = telemetry.tracer("bansos.consumer")
        self._dlq: AIOKafkaProducer | None = None
        self._lag: dict[tuple[str, int], int] = {}
        """(topic, partition) → lag, replaced whole by the loop, read by metrics."""

    async def run(self, stop: asyncio.Event) -> None:
        """Consume until ``stop`` is set; the batch in hand is finished first."""
        self.consumer = tracked_consumer_client(
            self.bootstrap_servers, self.group_id, f"{self.app.service}-consumer", self.max_records
        )
        self.consumer.subscribe(self.topics, listener=_Rebalance(self))
        self._dlq = idempotent_producer(self.bootstrap_servers, f"{self.app.service}-deadletter")
        await self._dlq.start()
        await self.consumer.start()
        unregister = metrics.register(
            metrics.Gauge(
                metrics.CONSUMER_LAG,
                self.lag_measurements,
                "Messages not yet consumed, by topic and partition.",
                "{message}",
            )
        )
        try:
            while not stop.is_set():
                batches = await self.consumer.getmany(timeout_ms=200, max_records=self.max_records)
                for tp, records in batches.items():
                    await self.process_partition_batch(tp, records)
                if batches:
                    await self._commit_informative(batches)
                self.update_lag()
        finally:
            unregister()
            await self.consumer.stop()
            await self._dlq.stop()

    def update_lag(self) -> None:
        """Recompute each assigned partition's lag: its highwater mark minus the next
        offset to consume (called by the consumer loop; partitions not fetched yet, whose
        highwater is unknown, are left out)."""
        assert self.consumer is not None
        lag: dict[tuple[str, int], int] = {}
        for tp in self.consumer.assignment():
            position = self.positions.get(tp)
            highwater = self.consumer.highwater(tp) if position is not None else None
            if position is not None and highwater is not None:
                lag[(tp.topic, tp.partition)] = max(0, highwater - (position + 1))
        self._lag = lag  # replaced, never mutated: read from the collecting thread

    def lag_measurements(self) -> list[metrics.Measurement]:
        """The latest lag of each partition, for the ``bansos.consumer.lag`` gauge."""
        return [
            (lag, {"topic": topic, "partition": partition})
            for (topic, partition), lag in self._lag.items()
        ]

    async def resume_from_tracking(self, partitions: list[TopicPartition]) -> None:
        """Seek each assigned partition to the position after our own tracking."""
        assert self.consumer is not None
        for tp in partitions:
            name = tracking_name(tp.topic, tp.partition)
            position = await anyio.to_thread.run_sync(self.app.max_tracking_id, name)
            if position is None:
                # Offset 0, not seek_to_beginning(): that one waits for the fetcher,
                # which waits for this rebalance callback. Event topics keep every
                # message, and a truncated log resets to the earliest offset anyway.
                self.consumer.seek(tp, 0)
                self.positions[tp] = -1
            else:
                self.consumer.seek(tp, position + 1)
                self.positions[tp] = position
        if partitions:
            self.assigned.set()
        log.info(
            "consumer.assigned",
            group=self.group_id,
            partitions={
                tracking_name(tp.topic, tp.partition): p for tp, p in self.positions.items()
            },
        )

    async def process_partition_batch(
        self, tp: TopicPartition, records: Sequence[ConsumerRecord[bytes, bytes]]
    ) -> None:
        """Process one partition's records in one transaction with their tracking."""
        seen = self.positions.get(tp, -1)
        fresh = [r for r in records if r.offset > seen]
        self.stats.skipped_duplicates += len(records) - len(fresh)
        if not fresh:
            return
        decoded: list[tuple[ConsumerRecord[bytes, bytes], Event]] = []
        for record in fresh:
            if is_checkpoint(record.headers):
                continue  # an attestation of the producer's log, not an event
            try:
                decoded.append((record, decode(record.value, record.headers)))
            except ContractError as error:
                await self._dead_letter(record, f"undecodable: {error}", "undecodable")
        excluded: set[int] = set()
        name = tracking_name(tp.topic, tp.partition)
        last = fresh[-1].offset
        for attempt in range(1, self.max_attempts + 1):
            todo = [(r, e) for r, e in decoded if r.offset not in excluded and r.offset > seen]
            try:
                await anyio.to_thread.run_sync(self._apply, todo, Tracking(name, last))
            except HandlerFailedError as failure:
                excluded.add(failure.record.offset)
                await self._dead_letter(
                    failure.record, f"handler failed: {failure.error!r}", "handler_failed"
                )
                continue
            except IntegrityError:
                # Either another member already recorded this position (after a
                # rebalance), or an aggregate changed under us: re-read and retry.
                recorded = await anyio.to_thread.run_sync(self.app.max_tracking_id, name)
                seen = -1 if recorded is None else recorded
                if seen >= last:
                    self.stats.skipped_duplicates += len(todo)
                    break
                continue
            except TRANSIENT_ERRORS as error:
                delay = min(10.0, 0.1 * 2**attempt) * (0.5 + random.random())
                log.warning("consumer.retry", partition=name, error=repr(error), delay=delay)
                await asyncio.sleep(delay)
                continue
            self.stats.processed += len(todo)
            metrics.events_consumed(tp.topic, len(todo))
            break
        else:
            raise RuntimeError(f"{name}: gave up after {self.max_attempts} attempts")
        self.positions[tp] = last
        self.stats.positions[name] = last
        self.stats.batches += 1

    def _apply(
        self, todo: list[tuple[ConsumerRecord[bytes, bytes], Event]], tracking: Tracking
    ) -> None:
        uow = self.app.unit_of_work(tracking)
        # A handler may load what the whole batch needs at once (see UnitOfWork.preload).
        prefetch = getattr(self.handler, "prefetch", None)
        if prefetch is not None:
            prefetch([event for _, event in todo], uow)
        for record, event in todo:
            parent = telemetry.context_from_headers(record.headers)
            with (
                self._tracer.start_as_current_span(
                    f"{record.topic} process",
                    context=parent,
                    kind=trace.SpanKind.CONSUMER,
                    attributes={
                        "messaging.system": "kafka",
                        "messaging.consumer.group.name": self.group_id,
                        "messaging.kafka.offset": record.offset,
                        "messaging.message.id": str(event.event_id),
                    },
                ),
                command_context(
                    self.app.actor,
                    correlation_id=event.correlation_id,
                    causation_id=str(event.event_id),
                ),
            ):
                try:
                    self.handler(event, uow)
                except TRANSIENT_ERRORS:
                    raise
                except Exception as error:
                    raise HandlerFailedError(record, error) from error
                log.debug(
                    "consumer.processed",
                    event_type=event.event_type,
                    event_id=str(event.event_id),
                    topic=record.topic,
                    partition=record.partition,
                    offset=record.offset,
                )
        self.app.commit(uow)

    async def _dead_letter(
        self, record: ConsumerRecord[bytes, bytes], reason: str, kind: str
    ) -> None:
        assert self._dlq is not None, "dead letters are sent while the consumer runs"
        reason = mask_personal_numbers(reason)[:2000]
        message = dead_letter_message(
            original_topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            key=record.key,
            value=record.value,
            headers=record.headers,
            reason=reason,
            consumer_group=self.group_id,
        )
        await (
            await self._dlq.send(
                message.topic, value=message.value, key=message.key, headers=list(message.headers)
            )
        )
        self.stats.dead_lettered += 1
        metrics.dead_lettered(record.topic, kind)
        log.warning(
            "consumer.dead_lettered",
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            reason=reason,
        )

    async def _commit_informative(
        self, batches: dict[TopicPartition, list[ConsumerRecord[bytes, bytes]]]
    ) -> None:
        assert self.consumer is not None
        offsets = {tp: self.positions[tp] + 1 for tp in batches if tp in self.positions}
        try:
            await self.consumer.commit(offsets)
        except Exception as error:  # informative only: tracking is the truth
            log.info("consumer.commit_skipped", error=repr(error))
