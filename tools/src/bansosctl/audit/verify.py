"""``bansosctl audit verify``: recompute every chain and checkpoint from the topics.

Each producer chains its events per subject and publishes checkpoints over its whole
log (:mod:`bansos_contracts.integrity`). The verifier reads a topic from the beginning,
puts its messages in log order (by ``bansos_position``, a checkpoint after the event it
covers up to), recomputes each event's chain from its value and each checkpoint's log
hash, and reports every link that does not hold — the first one is where to look.

After a broken link the subject's chain goes on from the chain the message claims, so
one altered message is reported once; the log hash goes on from what was recomputed, so
every later checkpoint says that something before it changed.
"""

from __future__ import annotations

import asyncio
import hashlib
import heapq
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from aiokafka import AIOKafkaConsumer, TopicPartition

from bansos_contracts.integrity import (
    CHAIN_HEADER,
    POSITION_HEADER,
    Checkpoint,
    chain_step,
    is_checkpoint,
    log_hash,
)
from bansos_libs.kafka import connection, read_to_end

__all__ = [
    "Link",
    "Problem",
    "ProblemKind",
    "TopicReport",
    "event_named",
    "link_of",
    "read_links",
    "verify_topic",
    "verify_topics",
]


class ProblemKind(StrEnum):
    """What is wrong with one message."""

    ALTERED = "ALTERED"
    """The event's value does not match its chain (changed, or a predecessor is)."""
    UNCHAINED = "UNCHAINED"
    """The event carries no chain header."""
    UNPLACED = "UNPLACED"
    """The message carries no readable position, so it cannot be put in order."""
    REPEATED = "REPEATED"
    """A second event at a position already taken."""
    CHECKPOINT_MISMATCH = "CHECKPOINT_MISMATCH"
    """The log up to a checkpoint is not what the checkpoint attests."""
    CHECKPOINT_UNREADABLE = "CHECKPOINT_UNREADABLE"


@dataclass(frozen=True, slots=True)
class Link:
    """One message as the verifier needs it (the value only as its digest)."""

    partition: int
    offset: int
    position: int | None
    checkpoint: bool
    subject: str | None
    digest: bytes
    chain: str | None
    """The chain the message claims (``bansos_chain``)."""
    checkpoint_value: bytes | None = None


@dataclass(frozen=True, slots=True)
class Problem:
    """A link that does not hold, named by where it is."""

    kind: ProblemKind
    topic: str
    partition: int
    offset: int
    position: int | None
    subject: str | None
    detail: str

    def describe(self) -> str:
        """One line for people."""
        where = f"{self.topic} partition {self.partition} offset {self.offset}"
        at = "" if self.position is None else f", position {self.position}"
        of = "" if self.subject is None else f", subject {self.subject}"
        return f"{self.kind}: {where}{at}{of}: {self.detail}"


@dataclass
class TopicReport:
    """What verifying one topic found."""

    topic: str
    events: int = 0
    subjects: int = 0
    checkpoints: int = 0
    attested_upto: int = 0
    """The position the last checkpoint that holds covers up to."""
    last_position: int = 0
    unattested: int = 0
    """Events after the last checkpoint (covered by their chains only)."""
    problems: list[Problem] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        """Whether every link holds."""
        return not self.problems


def link_of(
    partition: int, offset: int, value: bytes | None, headers: Sequence[tuple[str, bytes | None]]
) -> Link:
    """The link of one Kafka message."""
    by_name = {name: found for name, found in headers}
    raw_position = by_name.get(POSITION_HEADER)
    try:
        position = int(raw_position) if raw_position is not None else None
    except ValueError:
        position = None
    checkpoint = is_checkpoint(headers)
    subject = by_name.get("ce_subject")
    chain = by_name.get(CHAIN_HEADER)
    return Link(
        partition=partition,
        offset=offset,
        position=position,
        checkpoint=checkpoint,
        subject=None if subject is None else subject.decode("utf-8", "replace"),
        digest=hashlib.sha256(value or b"").digest(),
        chain=None if chain is None else chain.decode("ascii", "replace"),
        checkpoint_value=value if checkpoint else None,
    )


def in_log_order(partitions: Iterable[Sequence[Link]]) -> Iterator[Link]:
    """Merge partitions (each in offset order, so in position order) into log order."""
    return heapq.merge(
        *partitions, key=lambda link: (link.position or 0, 1 if link.checkpoint else 0)
    )


class _Fold:
    """The recomputed state of one topic's log while links are fed in order."""

    def __init__(self, report: TopicReport) -> None:
        self.report = report
        self.heads: dict[str, str] = {}
        self.log: str | None = None
        self.previous_event: int | None = None

    def problem(self, kind: ProblemKind, link: Link, detail: str) -> None:
        self.report.problems.append(
            Problem(
                kind,
                self.report.topic,
                link.partition,
                link.offset,
                link.position,
                link.subject,
                detail,
            )
        )

    def event(self, link: Link, position: int) -> None:
        report = self.report
        if position == self.previous_event:
            self.problem(ProblemKind.REPEATED, link, "a second event at this position")
        self.previous_event = position
        subject = link.subject or ""
        previous = self.heads.get(subject)
        expected = chain_step(previous, link.digest)
        if link.chain is None:
            self.problem(ProblemKind.UNCHAINED, link, f"no {CHAIN_HEADER} header")
        elif link.chain != expected:
            self.problem(
                ProblemKind.ALTERED,
                link,
                "the value does not match its chain: this message was changed, or the "
                "subject's message before it was changed, removed or added",
            )
        self.heads[subject] = link.chain or expected
        self.log = log_hash(self.log, position, expected)
        report.events += 1
        report.last_position = position
        report.unattested += 1

    def checkpoint(self, link: Link) -> None:
        report = self.report
        try:
            attested = Checkpoint.from_json(link.checkpoint_value or b"")
        except ValueError as error:
            self.problem(ProblemKind.CHECKPOINT_UNREADABLE, link, str(error))
            return
        report.checkpoints += 1
        if attested.events != report.events:
            self.problem(
                ProblemKind.CHECKPOINT_MISMATCH,
                link,
                f"the checkpoint attests {attested.events} events up to position "
                f"{attested.upto_position}, the topic holds {report.events}",
            )
        elif attested.log_hash != self.log:
            self.problem(
                ProblemKind.CHECKPOINT_MISMATCH,
                link,
                f"the log up to position {attested.upto_position} is not what the "
                "checkpoint attests: an event before it was changed, removed, added or moved",
            )
        else:
            report.attested_upto = attested.upto_position
            report.unattested = 0


def verify_topic(topic: str, partitions: Iterable[Sequence[Link]]) -> TopicReport:
    """Verify one topic's chains and checkpoints from its partitions' links."""
    report = TopicReport(topic)
    fold = _Fold(report)
    unplaced: list[Link] = []
    for link in in_log_order(partitions):
        if link.position is None:
            unplaced.append(link)
        elif link.checkpoint:
            fold.checkpoint(link)
        else:
            fold.event(link, link.position)
    for link in unplaced:
        fold.problem(ProblemKind.UNPLACED, link, f"no readable {POSITION_HEADER} header")
    report.subjects = len(fold.heads)
    report.problems.sort(key=lambda p: (p.position or 0, p.partition, p.offset))
    return report


async def read_links(bootstrap_servers: str, topic: str) -> list[list[Link]]:
    """Every message of a topic as links, one list per partition, in offset order."""
    partitions: dict[int, list[Link]] = {}
    async for record in read_to_end(bootstrap_servers, topic, checkpoints=True):
        links = partitions.setdefault(record.partition, [])
        links.append(link_of(record.partition, record.offset, record.value, record.headers))
    return list(partitions.values())


async def event_named(bootstrap_servers: str, problem: Problem) -> str:
    """The event id and type of a problem's message, read again from Kafka."""
    consumer = AIOKafkaConsumer(**connection(bootstrap_servers), enable_auto_commit=False)
    await consumer.start()
    try:
        tp = TopicPartition(problem.topic, problem.partition)
        consumer.assign([tp])
        consumer.seek(tp, problem.offset)
        record = await asyncio.wait_for(consumer.getone(tp), timeout=10)
        headers = {
            name: (found or b"").decode("utf-8", "replace") for name, found in record.headers
        }
        return f"{headers.get('ce_type', '?')} {headers.get('ce_id', '?')}"
    finally:
        await consumer.stop()


async def verify_topics(bootstrap_servers: str, topics: Sequence[str]) -> list[TopicReport]:
    """Verify each topic as it is on the broker now."""
    return [verify_topic(topic, await read_links(bootstrap_servers, topic)) for topic in topics]
