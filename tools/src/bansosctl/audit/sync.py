"""``audit sync``: read the four public topics into the local index, tracked and incremental.

No consumer group and no committed offsets: the consumer is assigned every partition and
seeks each to the next offset the index recorded (0 for a new index). It reads up to
each partition's end offset *as of the start of the run*, then stops. Every fetched
batch is decoded with :func:`bansos_contracts.kafka.decode` and written together with
the partitions' next offsets in one SQLite transaction (:meth:`Index.write`), so a run
that is killed loses nothing and a second run repeats nothing: it reads only what is
new. A message that cannot be decoded is recorded in ``unreadable`` and skipped.

Decoding is the expensive part; for large backlogs it runs in worker processes while
the event loop fetches the next batch and a thread writes the previous one.
"""

from __future__ import annotations

import asyncio
import marshal
import multiprocessing
import os
import threading
import time
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from bansos_contracts import topics
from bansos_contracts.integrity import is_checkpoint
from bansos_contracts.kafka import ContractError, decode
from bansos_libs.kafka import connection
from bansosctl.audit.index import Index, IndexedEvent, Prepared, prepare

__all__ = [
    "PUBLIC_TOPICS",
    "RawRecord",
    "SyncError",
    "SyncReport",
    "TopicReport",
    "decode_records",
    "sync",
]

PUBLIC_TOPICS: tuple[str, ...] = (
    topics.REGISTRY,
    topics.OBJECTIONS,
    topics.ELIGIBILITY,
    topics.PAYOUT,
)
"""The topics the auditor's index reads (each with the environment's prefix)."""

RawRecord = tuple[str, int, int, int, bytes | None, Sequence[tuple[str, bytes | None]]]
"""One Kafka message as read: topic, partition, offset, timestamp (ms), value, headers."""

_POOL_THRESHOLD = 50_000
"""Backlogs at least this large are decoded in worker processes."""
_CHUNK = 2_000
_IDLE_SECONDS = 60.0
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class SyncError(RuntimeError):
    """The index and the topics do not fit together (say why); nothing was written."""


@dataclass
class TopicReport:
    """What one run did on one topic."""

    topic: str
    partitions: int = 0
    read: int = 0
    """Messages read (events, duplicates and unreadable ones)."""
    added: int = 0
    """Events new to the index."""
    unreadable: int = 0
    lost_to_retention: int = 0
    """Offsets the index never read that the topic no longer holds."""
    end_offsets: dict[int, int] = field(default_factory=dict)
    """Each partition's end offset at the start of the run."""
    next_offsets: dict[int, int] = field(default_factory=dict)
    """Each partition's next offset to read after the run."""

    @property
    def duplicates(self) -> int:
        """Events read whose id the index already held (re-deliveries)."""
        return self.read - self.added - self.unreadable


@dataclass
class SyncReport:
    """What a run of :func:`sync` did."""

    topics: dict[str, TopicReport]
    missing_topics: list[str]
    seconds: float = 0.0
    batches: int = 0
    complete: bool = False
    """Whether every partition was read up to its end offset of the start of the run."""
    workers: int = 0

    @property
    def read(self) -> int:
        """Messages read in this run."""
        return sum(t.read for t in self.topics.values())

    @property
    def added(self) -> int:
        """Events new to the index in this run."""
        return sum(t.added for t in self.topics.values())

    @property
    def per_second(self) -> float:
        """Messages read per second."""
        return self.read / self.seconds if self.seconds > 0 else 0.0

    def as_json(self) -> dict[str, Any]:
        """The report as JSON-ready data."""
        return {
            "read": self.read,
            "added": self.added,
            "seconds": round(self.seconds, 3),
            "per_second": round(self.per_second, 1),
            "batches": self.batches,
            "complete": self.complete,
            "workers": self.workers,
            "missing_topics": self.missing_topics,
            "topics": {
                name: {
                    "partitions": t.partitions,
                    "read": t.read,
                    "added": t.added,
                    "duplicates": t.duplicates,
                    "unreadable": t.unreadable,
                    "lost_to_retention": t.lost_to_retention,
                    "end_offsets": t.end_offsets,
                    "next_offsets": t.next_offsets,
                }
                for name, t in self.topics.items()
            },
        }


def _traceparent(headers: Sequence[tuple[str, bytes | None]]) -> str | None:
    found: str | None = None
    for name, value in headers:
        if value is not None and (
            name == "traceparent" or (name[:1] in "tT" and name.lower() == "traceparent")
        ):
            found = value.decode("utf-8", "replace")
    return found


def decode_records(records: Sequence[RawRecord]) -> Prepared:
    """Decode raw messages into index rows; an undecodable one becomes an ``unreadable`` row."""
    items: list[IndexedEvent] = []
    unreadable: list[tuple[str, int, int, str]] = []
    for topic, partition, offset, timestamp, value, headers in records:
        if is_checkpoint(headers):
            continue  # checked by `audit verify`, not part of any timeline
        try:
            event = decode(value, headers)
            assert value is not None  # decode refuses a message without one
            body = value.decode("utf-8")
        except (ContractError, UnicodeDecodeError) as error:
            reason = error.reason if isinstance(error, ContractError) else f"not UTF-8: {error}"
            unreadable.append((topic, partition, offset, reason))
            continue
        recorded = _EPOCH + timedelta(milliseconds=timestamp)
        items.append(
            IndexedEvent(event, topic, partition, offset, recorded, _traceparent(headers), body)
        )
    prepared = prepare(items)
    prepared.unreadable = unreadable
    return prepared


def _ready() -> bool:
    return True


def _exit_with(parent: int) -> None:
    """In a worker: exit as soon as the sync process that started it is gone (killed),
    instead of waiting forever on a queue nobody writes to."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _new_pool(workers: int) -> ProcessPoolExecutor:
    """Worker processes, started now, before the sync starts its writer thread.

    Forked where the platform can: nothing is re-imported, so ``python -m`` entry points
    without a main guard stay safe. A worker only decodes; it takes no lock that another
    thread of this process could have held when it was forked.
    """
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    pool = ProcessPoolExecutor(
        workers,
        mp_context=multiprocessing.get_context(method),
        initializer=_exit_with,
        initargs=(os.getpid(),),
    )
    for started in [pool.submit(_ready) for _ in range(workers)]:
        started.result()
    return pool


def _decode_packed(packed: bytes) -> bytes:
    """:func:`decode_records` in a worker process. Records and rows are plain tuples of
    strings, numbers and bytes, so ``marshal`` carries them, several times faster than
    pickle (they only ever travel between this program's own processes)."""
    prepared = decode_records(marshal.loads(packed))  # noqa: S302 - our own bytes
    return marshal.dumps((prepared.events, prepared.members, prepared.unreadable))


async def _decode_in(pool: Executor | None, records: list[RawRecord]) -> Prepared:
    if pool is None or len(records) <= _CHUNK:
        return decode_records(records)
    loop = asyncio.get_running_loop()
    parts = await asyncio.gather(
        *(
            loop.run_in_executor(
                pool, _decode_packed, marshal.dumps(records[start : start + _CHUNK])
            )
            for start in range(0, len(records), _CHUNK)
        )
    )
    merged = Prepared()
    for part in parts:
        events, members, unreadable = marshal.loads(part)  # noqa: S302 - our own bytes
        merged.events.extend(events)
        merged.members.extend(members)
        merged.unreadable.extend(unreadable)
    return merged


@dataclass
class _Batch:
    decoded: Awaitable[Prepared]
    positions: dict[tuple[str, int], int]
    read: dict[str, int]


async def _partitions(bootstrap: str, names: list[str]) -> dict[str, list[int]]:
    """The partitions of each topic of ``names`` that exists."""
    admin = AIOKafkaAdminClient(**connection(bootstrap), client_id="bansosctl-audit")
    await admin.start()
    try:
        described = await admin.describe_topics(names)
    finally:
        await admin.close()
    return {
        d["topic"]: sorted(p["partition"] for p in d.get("partitions", []))
        for d in described
        if not d.get("error_code")
    }


async def _open_consumer(bootstrap: str, max_records: int) -> AIOKafkaConsumer:
    consumer = AIOKafkaConsumer(
        **connection(bootstrap),
        client_id="bansosctl-audit",
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        isolation_level="read_committed",
        max_poll_records=max_records,
        fetch_max_bytes=32 * 1024 * 1024,
        max_partition_fetch_bytes=8 * 1024 * 1024,
    )
    try:
        await consumer.start()
    except BaseException:
        await consumer.stop()
        raise
    return consumer


async def sync(
    index: Index,
    bootstrap: str,
    prefix: str = "",
    *,
    max_batches: int | None = None,
    max_records: int = 10_000,
    workers: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> SyncReport:
    """Read every public topic (``prefix`` + name) from the index's positions to its end.

    ``max_batches`` stops after that many fetched batches (an interrupted run, as a test
    needs one); ``max_records`` is the most messages one fetch returns. ``workers`` is the
    number of decoding processes (0 decodes in this process; by default one per CPU for
    a backlog of 50,000 messages or more, else 0). ``progress(done, total)`` is
    called after each written batch. Raises :class:`SyncError` when the index was synced
    with another prefix or is ahead of a topic (a recreated topic).
    """
    recorded_prefix = index.meta("topic_prefix")
    if recorded_prefix is not None and recorded_prefix != prefix:
        raise SyncError(
            f"the index {index.path} was synced from topics with prefix {recorded_prefix!r},"
            f" not {prefix!r}: use another --index"
        )
    names = [prefix + name for name in PUBLIC_TOPICS]
    report = SyncReport(topics={name: TopicReport(name) for name in names}, missing_topics=[])
    started = time.perf_counter()
    consumer = await _open_consumer(bootstrap, max_records)
    try:
        found = await _partitions(bootstrap, names)
        tps: list[TopicPartition] = []
        for name in names:
            partitions = found.get(name)
            if not partitions:
                report.missing_topics.append(name)
                continue
            report.topics[name].partitions = len(partitions)
            tps.extend(TopicPartition(name, p) for p in sorted(partitions))
        if not tps:
            report.complete = True
            return report
        consumer.assign(tps)
        ends: dict[TopicPartition, int] = await consumer.end_offsets(tps)
        begins: dict[TopicPartition, int] = await consumer.beginning_offsets(tps)
        stored = index.positions()
        remaining: set[TopicPartition] = set()
        retention_gaps: dict[tuple[str, int], int] = {}
        total = 0
        for tp in tps:
            start = stored.get((tp.topic, tp.partition), 0)
            end = ends[tp]
            if start > end:
                raise SyncError(
                    f"the index has read {tp.topic}[{tp.partition}] up to offset {start} but the"
                    f" partition ends at {end}: was the topic recreated? use another --index"
                )
            if start < begins[tp]:
                report.topics[tp.topic].lost_to_retention += begins[tp] - start
                start = begins[tp]
                retention_gaps[(tp.topic, tp.partition)] = start
            report.topics[tp.topic].end_offsets[tp.partition] = end
            report.topics[tp.topic].next_offsets[tp.partition] = start
            if start < end:
                consumer.seek(tp, start)
                remaining.add(tp)
                total += end - start
        if recorded_prefix is None:
            index.set_meta("topic_prefix", prefix)
        if retention_gaps:
            index.write(Prepared(), retention_gaps)
        if workers is None:
            workers = (os.cpu_count() or 1) if total >= _POOL_THRESHOLD else 0
        report.workers = workers
        pool = _new_pool(report.workers) if report.workers else None
        try:
            await _run(consumer, index, report, remaining, ends, pool, max_batches, total, progress)
        finally:
            if pool is not None:
                pool.shutdown(cancel_futures=True)
        report.complete = all(
            t.next_offsets.get(p, 0) >= end
            for t in report.topics.values()
            for p, end in t.end_offsets.items()
        )
        return report
    finally:
        report.seconds = time.perf_counter() - started
        await consumer.stop()


async def _run(
    consumer: AIOKafkaConsumer,
    index: Index,
    report: SyncReport,
    remaining: set[TopicPartition],
    ends: dict[TopicPartition, int],
    pool: Executor | None,
    max_batches: int | None,
    total: int,
    progress: Callable[[int, int], None] | None,
) -> None:
    """Fetch, decode and write until ``remaining`` is empty or ``max_batches`` is reached.

    Batches are written in the order they were fetched; at most a few are in flight.
    """
    queue: asyncio.Queue[_Batch | None] = asyncio.Queue(maxsize=3)
    fetched_to = {tp: report.topics[tp.topic].next_offsets[tp.partition] for tp in remaining}
    done = 0

    async def writer() -> None:
        nonlocal done
        while (batch := await queue.get()) is not None:
            prepared = await batch.decoded
            added = await asyncio.to_thread(index.write, prepared, batch.positions)
            for (topic, partition), offset in batch.positions.items():
                report.topics[topic].next_offsets[partition] = offset
            for topic, count in batch.read.items():
                report.topics[topic].read += count
            for topic, count in added.items():
                report.topics[topic].added += count
            for topic, _, _, _ in prepared.unreadable:
                report.topics[topic].unreadable += 1
            done += sum(batch.read.values())
            if progress is not None:
                progress(done, total)

    async def fetcher() -> None:
        idle_since = time.monotonic()
        while remaining and (max_batches is None or report.batches < max_batches):
            fetched = await consumer.getmany(*remaining, timeout_ms=500)
            records: list[RawRecord] = []
            positions: dict[tuple[str, int], int] = {}
            read: dict[str, int] = {}
            for tp in sorted(remaining):
                end = ends[tp]
                for record in fetched.get(tp, ()):
                    if record.offset < end:
                        records.append(
                            (tp.topic, tp.partition, record.offset, record.timestamp,
                             record.value, tuple(record.headers))
                        )  # fmt: skip
                        read[tp.topic] = read.get(tp.topic, 0) + 1
                # The consumer's position also steps over offsets that hold no record
                # (transaction markers, compacted messages).
                position = min(await consumer.position(tp), end)
                if position > fetched_to[tp]:
                    positions[(tp.topic, tp.partition)] = fetched_to[tp] = position
                if position >= end:
                    remaining.discard(tp)
            if not positions:
                if time.monotonic() - idle_since > _IDLE_SECONDS:
                    raise SyncError(f"no progress for {_IDLE_SECONDS:.0f} s: is the broker up?")
                continue
            idle_since = time.monotonic()
            report.batches += 1
            decoded = asyncio.ensure_future(_decode_in(pool, records))
            await queue.put(_Batch(decoded, positions, read))

    async def fetch_all() -> None:
        await fetcher()
        await queue.put(None)

    try:
        async with asyncio.TaskGroup() as group:
            group.create_task(writer())
            group.create_task(fetch_all())
    except BaseExceptionGroup as failed:
        raise failed.exceptions[0] from None
