"""The envelope every public event carries: :class:`Actor` and the :class:`Event` base.

A concrete event subclasses :class:`Event` (through a per-topic base), narrows
``event_type`` to ``Literal["<ClassName>"]`` with that default, pins
``schema_version`` to ``Literal[<n>]`` and sets the class variables ``topic`` and
``source``. From those the CloudEvents attributes follow::

    HouseholdDecileChanged.ce_type()    == "bansos.registry.HouseholdDecileChanged.v1"
    HouseholdDecileChanged.ce_source()  == "bansos/registry"

``event_id`` has no default on purpose: an event re-published from the outbox must keep
its id, so producers derive it from their stored event (e.g. ``uuid5`` of the stored
event's id) instead of drawing a fresh one each time.
"""

from __future__ import annotations

import functools
import re
from typing import Annotated, Any, ClassVar
from uuid import UUID

from pydantic import ConfigDict, Field, StringConstraints, field_validator

from bansos_contracts.values import ContractModel, Identifier, RegionCode, UtcDateTime

__all__ = ["ENVELOPE_FIELDS", "SYSTEM_ROLE", "Actor", "Event"]

SYSTEM_ROLE = "system"
"""The role of an actor that is a service rather than a person."""

_SIXTEEN_DIGITS = re.compile(r"[0-9]{16}")


class Actor(ContractModel):
    """Who caused an event: a staff member or citizen, or a service (role ``system``).

    ``id`` is an account or service id; it must never be a NIK or KK number, so a bare
    16-digit id is rejected.
    """

    role: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    """The caller's role, e.g. ``village_officer``, ``citizen`` or ``system``."""
    id: Annotated[str, StringConstraints(min_length=1, max_length=128)]
    """Account id of the person, or the service name for the system."""
    region: RegionCode | None = None
    """The Kemendagri code of the actor's scope; null for national scope and the system."""

    @field_validator("id")
    @classmethod
    def _not_a_nik(cls, value: str) -> str:
        if _SIXTEEN_DIGITS.fullmatch(value):
            raise ValueError("actor id must not be a NIK or KK number (16 digits)")
        return value

    @classmethod
    def system(cls, service: str) -> Actor:
        """The actor for events a service produces on its own: ``Actor.system("registry")``."""
        return cls(role=SYSTEM_ROLE, id=service)

    @property
    def is_system(self) -> bool:
        """Whether this actor is a service rather than a person."""
        return self.role == SYSTEM_ROLE


ENVELOPE_FIELDS: tuple[str, ...] = (
    "event_id",
    "event_type",
    "schema_version",
    "occurred_at",
    "subject_id",
    "subject_version",
    "correlation_id",
    "causation_id",
    "actor",
)
"""The envelope fields, in the order they appear in every JSON body."""

_ALWAYS_PRESENT = ("event_id", "event_type", "schema_version", "causation_id")


def _schema_extra(schema: dict[str, Any], cls: type[Any]) -> None:
    """Mark envelope fields that have defaults as required: producers always emit them."""
    properties = schema.get("properties", {})
    required = list(schema.get("required", []))
    for name in _ALWAYS_PRESENT:
        if name in properties and name not in required:
            required.append(name)
    schema["required"] = required


class Event(ContractModel):
    """Base of every public event: the CloudEvents envelope body fields.

    Instances are immutable and reject unknown fields.
    """

    model_config = ConfigDict(json_schema_extra=_schema_extra)

    topic: ClassVar[str]
    """The Kafka topic the event is published on."""
    source: ClassVar[str]
    """The producing service, e.g. ``registry``."""
    key_description: ClassVar[str] = "the subject id"
    """What :attr:`partition_key` is, for documentation."""

    event_id: UUID
    """Unique forever; the CloudEvents ``id``."""
    event_type: str
    """The event's class name, e.g. ``HouseholdDecileChanged``."""
    schema_version: int = Field(default=1, ge=1)
    """Version of this event's schema; part of the CloudEvents type."""
    occurred_at: UtcDateTime
    """When the event happened, UTC."""
    subject_id: Identifier
    """Id of the aggregate the event belongs to (household, case, list or payout)."""
    subject_version: int = Field(ge=1)
    """The aggregate's version after this event."""
    correlation_id: Annotated[str, StringConstraints(min_length=1, max_length=256)]
    """Shared by every event of one business flow (e.g. one import, one request)."""
    causation_id: str | None = None
    """The ``event_id`` (or command id) that caused this event, if any."""
    actor: Actor
    """Who caused the event."""

    @classmethod
    def event_name(cls) -> str:
        """The event type name, i.e. the default of ``event_type`` (the class name)."""
        default = cls.model_fields["event_type"].default
        if not isinstance(default, str):
            raise TypeError(f"{cls.__name__} does not narrow event_type to a Literal")
        return default

    @classmethod
    def event_version(cls) -> int:
        """The schema version of this event class."""
        default = cls.model_fields["schema_version"].default
        if not isinstance(default, int):
            raise TypeError(f"{cls.__name__} has no schema_version default")
        return default

    @classmethod
    def ce_type(cls) -> str:
        """The CloudEvents type: ``bansos.<service>.<EventType>.v<schema_version>``."""
        return _ce_type(cls)

    @classmethod
    def ce_source(cls) -> str:
        """The CloudEvents source: ``bansos/<service>`` (a relative URI reference)."""
        return f"bansos/{cls.source}"

    @property
    def partition_key(self) -> str:
        """The Kafka message key (see ``bansos_contracts.topics.KEYS``)."""
        return self.subject_id


@functools.cache
def _ce_type(cls: type[Event]) -> str:
    # Computed once per class: it is on the hot path of every encode and decode.
    return f"bansos.{cls.source}.{cls.event_name()}.v{cls.event_version()}"
