"""``audit verify`` finds every kind of broken link, and nothing in an intact log.

The topic is built with the relay's own chain state, so the verifier (written apart
from it) and the producer are checked against each other.
"""

from __future__ import annotations

import zlib
from pathlib import Path

import pytest

from bansos_contracts.integrity import (
    CHAIN_HEADER,
    POSITION_HEADER,
    checkpoint_headers,
)
from bansos_libs.chainstate import ChainState
from bansos_libs.settings import ServiceSettings
from bansos_libs.views import ViewDatabase
from bansosctl.audit.verify import Link, ProblemKind, link_of, verify_topic

TOPIC = "bansos.registry.v1"
PARTITIONS = 3

Message = tuple[int, bytes, list[tuple[str, bytes | None]]]
"""(partition, value, headers) as a producer sends them."""


def _produce(tmp_path: Path, events: int = 30, every: int = 4) -> list[Message]:
    """A topic's messages as the relay would write them, a checkpoint every ``every``
    events and one over the tail."""
    state = ChainState(
        ViewDatabase(ServiceSettings(service="registry", data_dir=tmp_path)), TOPIC,
        "registry", checkpoint_every=every,
    )  # fmt: skip
    state.create_tables()
    state.load()
    messages: list[Message] = []
    subjects = [f"household-{n % 7}" for n in range(events)]
    state.preload(subjects)
    for position, subject in enumerate(subjects, start=1):
        value = f'{{"subject_id":"{subject}","n":{position}}}'.encode()
        chain = state.fold(subject, position, value)
        headers: list[tuple[str, bytes | None]] = [
            ("ce_subject", subject.encode()),
            (POSITION_HEADER, str(position).encode()),
            (CHAIN_HEADER, chain.encode()),
        ]
        messages.append((zlib.crc32(subject.encode()) % PARTITIONS, value, headers))
        if state.due_checkpoint() or position == events:
            checkpoint = state.checkpoint()
            messages.append((0, checkpoint.to_json(), list(checkpoint_headers(checkpoint))))
    return messages


def _partitions(messages: list[Message]) -> list[list[Link]]:
    partitions: list[list[Link]] = [[] for _ in range(PARTITIONS)]
    for partition, value, headers in messages:
        offset = len(partitions[partition])
        partitions[partition].append(link_of(partition, offset, value, headers))
    return partitions


def _flip(messages: list[Message], index: int, byte: int = 5) -> None:
    partition, value, headers = messages[index]
    changed = bytearray(value)
    changed[byte] ^= 0x01
    messages[index] = (partition, bytes(changed), headers)


def _event_indexes(messages: list[Message]) -> list[int]:
    return [i for i, (_, _, headers) in enumerate(messages) if len(headers) == 3]


def test_an_intact_log_verifies(tmp_path: Path) -> None:
    report = verify_topic(TOPIC, _partitions(_produce(tmp_path)))
    assert report.intact, [p.describe() for p in report.problems]
    assert (report.events, report.subjects, report.checkpoints) == (30, 7, 8)
    assert report.attested_upto == 30 and report.unattested == 0


def test_one_flipped_byte_is_named_as_the_first_broken_link(tmp_path: Path) -> None:
    messages = _produce(tmp_path)
    target = _event_indexes(messages)[10]  # the event at position 11
    _flip(messages, target)
    report = verify_topic(TOPIC, _partitions(messages))
    first = report.problems[0]
    assert (first.kind, first.position, first.subject) == (ProblemKind.ALTERED, 11, "household-3")
    assert first.partition == messages[target][0]
    assert "household-3" in first.describe() and "position 11" in first.describe()
    # One altered event: its chain breaks once, and every later checkpoint disagrees.
    kinds = [p.kind for p in report.problems]
    assert kinds.count(ProblemKind.ALTERED) == 1
    assert kinds.count(ProblemKind.CHECKPOINT_MISMATCH) == 6  # at 12, 16, 20, 24, 28, 30
    assert report.attested_upto == 8


def test_a_removed_event_breaks_the_next_link_of_its_subject(tmp_path: Path) -> None:
    messages = _produce(tmp_path)
    del messages[_event_indexes(messages)[3]]  # household-3 at position 4; next at 11
    report = verify_topic(TOPIC, _partitions(messages))
    first = report.problems[0]
    assert first.kind == ProblemKind.CHECKPOINT_MISMATCH and first.position == 4
    assert "attests 4 events" in first.detail and "holds 3" in first.detail
    altered = [p for p in report.problems if p.kind == ProblemKind.ALTERED]
    assert [(p.position, p.subject) for p in altered] == [(11, "household-3")]


def test_a_removed_last_event_is_caught_by_the_checkpoint(tmp_path: Path) -> None:
    messages = _produce(tmp_path)
    del messages[_event_indexes(messages)[-1]]  # position 30: no later event of its subject
    report = verify_topic(TOPIC, _partitions(messages))
    assert [(p.kind, p.position) for p in report.problems] == [
        (ProblemKind.CHECKPOINT_MISMATCH, 30)
    ]


def test_a_rewritten_chain_is_caught_by_the_checkpoint(tmp_path: Path) -> None:
    """Whoever changes an event and recomputes its chain still breaks the log hash."""
    messages = _produce(tmp_path)
    target = _event_indexes(messages)[10]
    partition, value, headers = messages[target]
    forged = value.replace(b'"n":11', b'"n":99')
    previous = next(  # the chain of household-3's event before it, at position 4
        h[2][1] for _, _, h in messages if len(h) == 3 and h[1][1] == b"4"
    )
    from bansos_contracts.integrity import chain_hash

    chain = chain_hash(previous.decode(), forged).encode()
    messages[target] = (partition, forged, [*headers[:2], (CHAIN_HEADER, chain)])
    report = verify_topic(TOPIC, _partitions(messages))
    assert not any(p.kind == ProblemKind.ALTERED for p in report.problems[:1])
    assert report.problems[0].kind == ProblemKind.CHECKPOINT_MISMATCH
    assert report.problems[0].position == 12


@pytest.mark.parametrize(
    ("drop_header", "kind"),
    [(CHAIN_HEADER, ProblemKind.UNCHAINED), (POSITION_HEADER, ProblemKind.UNPLACED)],
)
def test_missing_headers_are_named(tmp_path: Path, drop_header: str, kind: ProblemKind) -> None:
    messages = _produce(tmp_path)
    target = _event_indexes(messages)[2]
    partition, value, headers = messages[target]
    messages[target] = (partition, value, [h for h in headers if h[0] != drop_header])
    report = verify_topic(TOPIC, _partitions(messages))
    assert kind in [p.kind for p in report.problems]


def test_an_unreadable_checkpoint_is_named(tmp_path: Path) -> None:
    messages = _produce(tmp_path)
    checkpoint = next(i for i, (_, _, h) in enumerate(messages) if len(h) != 3)
    partition, _, headers = messages[checkpoint]
    messages[checkpoint] = (partition, b"{}", headers)
    report = verify_topic(TOPIC, _partitions(messages))
    assert report.problems[0].kind == ProblemKind.CHECKPOINT_UNREADABLE
    assert "topic" in report.problems[0].detail
