"""Who is acting and why: the command context stamped onto every stored event.

eventsourcing 9.5 has no event metadata, so the envelope facts that are not part of a
domain event — the actor, the correlation and causation ids and the W3C trace context —
are taken from this context when the event is collected and stored beside the event's
own attributes (under ``bansos_meta``). The domain never sees them; the outbox relay
reads them back to build the public envelope and to continue the trace.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, TypedDict

from bansos_contracts.envelope import SYSTEM_ROLE
from bansos_libs.telemetry import current_carrier

META_ATTRIBUTE = "bansos_meta"


class ActorDict(TypedDict):
    """The envelope's ``actor``: a staff member, a citizen, a channel or a service."""

    role: str
    id: str
    region: str | None


class EventMeta(TypedDict):
    """What is stored with each event beside its own attributes."""

    actor: ActorDict
    correlation_id: str
    causation_id: str | None
    trace: dict[str, str]


@dataclass(frozen=True)
class CommandContext:
    """The actor and causal chain of the command being handled now."""

    actor: ActorDict
    correlation_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    causation_id: str | None = None


def system_actor(service: str) -> ActorDict:
    """The actor of events a service emits on its own (consumers, schedules, imports)."""
    return {"role": SYSTEM_ROLE, "id": service, "region": None}


_current: ContextVar[CommandContext | None] = ContextVar("bansos_command", default=None)


@contextlib.contextmanager
def command_context(
    actor: ActorDict, correlation_id: str | None = None, causation_id: str | None = None
) -> Iterator[CommandContext]:
    """Run a block as ``actor``; events collected inside carry this context."""
    ctx = CommandContext(
        actor=actor, correlation_id=correlation_id or str(uuid.uuid4()), causation_id=causation_id
    )
    token = _current.set(ctx)
    try:
        yield ctx
    finally:
        _current.reset(token)


def current_meta(default_actor: ActorDict) -> EventMeta:
    """The metadata to store with an event collected now."""
    ctx = _current.get() or CommandContext(actor=default_actor)
    return {
        "actor": ctx.actor,
        "correlation_id": ctx.correlation_id,
        "causation_id": ctx.causation_id,
        "trace": current_carrier(),
    }


def stamp(domain_event: Any, meta: EventMeta) -> None:
    """Attach ``meta`` to a (frozen) domain event so the mapper stores it."""
    object.__setattr__(domain_event, META_ATTRIBUTE, meta)


def meta_of(domain_event: Any) -> EventMeta | None:
    """The metadata stored with a domain event, if it has any."""
    meta: EventMeta | None = getattr(domain_event, META_ATTRIBUTE, None)
    return meta
