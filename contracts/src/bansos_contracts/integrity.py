"""Tamper evidence on the public topics: chained events and periodic checkpoints.

Every event message a service publishes carries two headers besides the CloudEvents
ones:

====================  ===============================================================
header                value
====================  ===============================================================
``bansos_position``   the event's position in the producing service's log (its
                      notification id): increasing along each partition
``bansos_chain``      :func:`chain_hash` of the previous event's chain *for the same
                      subject on the same topic* and this message's value (hex)
====================  ===============================================================

so changing, removing or inserting one event of a subject breaks the chain of the next
one. Every service also publishes **checkpoints** on its own topic: a message whose
``ce_type`` is :data:`CHECKPOINT_TYPE`, whose ``bansos_position`` is the position it
covers up to, and whose value is a :class:`Checkpoint` holding :func:`log_hash` folded
over every event's chain up to that position, in position order. A checkpoint is
published after every :data:`CHECKPOINT_EVERY` events and whenever the producer has
been idle for a while, so the tail of the log is covered too.

Checkpoints are not events: consumers skip them (:func:`is_checkpoint`).
``bansosctl audit verify`` recomputes every chain and checkpoint from the topics.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Final

__all__ = [
    "CHAIN_HEADER",
    "CHECKPOINT_EVERY",
    "CHECKPOINT_KEY",
    "CHECKPOINT_TYPE",
    "POSITION_HEADER",
    "Checkpoint",
    "chain_hash",
    "chain_step",
    "checkpoint_headers",
    "is_checkpoint",
    "log_hash",
]

POSITION_HEADER: Final = "bansos_position"
CHAIN_HEADER: Final = "bansos_chain"
CHECKPOINT_TYPE: Final = "bansos.integrity.Checkpoint.v1"
CHECKPOINT_KEY: Final = b"checkpoint"
"""The key of every checkpoint message: a producer's checkpoints share one partition."""
CHECKPOINT_EVERY: Final = 1000
"""A checkpoint follows every event whose count in the log is a multiple of this."""

_ZERO = bytes(32)


def chain_hash(previous: str | None, value: bytes) -> str:
    """``sha256(previous chain ‖ sha256(value))`` in hex; the first event of a subject
    has no previous chain and uses 32 zero bytes."""
    return chain_step(previous, hashlib.sha256(value).digest())


def chain_step(previous: str | None, digest: bytes) -> str:
    """:func:`chain_hash` from the value's SHA-256 digest instead of the value."""
    head = bytes.fromhex(previous) if previous else _ZERO
    return hashlib.sha256(head + digest).hexdigest()


def log_hash(previous: str | None, position: int, chain: str) -> str:
    """``sha256(previous log hash ‖ position as 8 bytes big-endian ‖ chain)`` in hex:
    one step of the hash over a producer's whole log."""
    head = bytes.fromhex(previous) if previous else _ZERO
    return hashlib.sha256(head + position.to_bytes(8, "big") + bytes.fromhex(chain)).hexdigest()


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """What a producer attests about its topic up to one position."""

    topic: str
    producer: str
    upto_position: int
    """The position of the last event covered."""
    events: int
    """How many events the topic holds up to and including ``upto_position``."""
    log_hash: str
    """:func:`log_hash` folded over those events' chains, in position order."""

    def to_json(self) -> bytes:
        """The message value: compact JSON with sorted keys (the same bytes every time)."""
        return json.dumps(asdict(self), sort_keys=True, separators=(",", ":")).encode()

    @classmethod
    def from_json(cls, value: bytes) -> Checkpoint:
        """Parse a checkpoint message value; raises ``ValueError`` naming what is wrong."""
        try:
            body = json.loads(value)
        except (ValueError, UnicodeDecodeError) as exc:
            raise ValueError(f"checkpoint value is not JSON: {exc}") from None
        fields = {"topic": str, "producer": str, "upto_position": int, "events": int}
        fields["log_hash"] = str
        if not isinstance(body, dict):
            raise ValueError("checkpoint value is not a JSON object")
        for name, kind in fields.items():
            if not isinstance(body.get(name), kind) or isinstance(body.get(name), bool):
                raise ValueError(f"checkpoint field {name} is missing or not a {kind.__name__}")
        return cls(**{name: body[name] for name in fields})


def checkpoint_headers(checkpoint: Checkpoint) -> tuple[tuple[str, bytes], ...]:
    """The headers of a checkpoint message."""
    return (
        ("ce_type", CHECKPOINT_TYPE.encode()),
        ("ce_source", f"bansos/{checkpoint.producer}".encode()),
        ("content-type", b"application/json"),
        (POSITION_HEADER, str(checkpoint.upto_position).encode()),
    )


def is_checkpoint(headers: Sequence[tuple[str, bytes | None]]) -> bool:
    """Whether a message with these headers is a checkpoint rather than an event."""
    return any(name == "ce_type" and value == _CHECKPOINT_BYTES for name, value in headers)


_CHECKPOINT_BYTES: Final = CHECKPOINT_TYPE.encode()
