"""Each service's event store: an eventsourcing application with a process recorder.

``ServiceApplication`` is the base of every service's application. Its recorder is a
*process recorder*, so new events and a consumer's tracking position are written in one
transaction. Infrastructure (SQLite by default, PostgreSQL when ``BANSOS_DATABASE_URL``
is set, optional AES encryption at rest) is chosen from ``ServiceSettings``.

Writes go through a ``UnitOfWork``: it collects the pending events of the aggregates a
command touched, stamps each with the command context (actor, correlation, causation,
trace), keeps loaded aggregates so one batch sees its own changes, and is committed
atomically, optionally with a tracking record.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable, Sequence
from typing import Any, ClassVar, TypeVar, cast
from uuid import UUID

from eventsourcing.application import Application, ProcessingEvent
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import ProcessRecorder, Tracking

from bansos_libs.batchload import select_many
from bansos_libs.context import ActorDict, current_meta, stamp, system_actor
from bansos_libs.settings import ServiceSettings

EVENT_ID_NAMESPACE = UUID("6f1c1a52-2f55-4c37-9f0e-7b0d3c8f2a11")

A = TypeVar("A", bound=Aggregate)


def event_id_for(service: str, originator_id: UUID | str, originator_version: int) -> str:
    """The public event id of a stored event: stable across re-publishing and replay."""
    return str(uuid.uuid5(EVENT_ID_NAMESPACE, f"{service}/{originator_id}/{originator_version}"))


class ServiceApplication(Application[UUID]):
    """Base application of a service: process recorder, settings-driven infrastructure."""

    service: ClassVar[str] = "bansos"

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # The library names tables and environment prefixes after ``name``.
        cls.name = cls.service

    def __init__(self, settings: ServiceSettings | None = None) -> None:
        self.settings = settings or ServiceSettings(service=self.service)
        super().__init__(env=self.settings.eventsourcing_env())

    def construct_recorder(self) -> ProcessRecorder:
        """Process recorder: events and tracking positions commit together.

        The roles of a service start at once and each creates the tables if they do not
        exist; PostgreSQL may refuse two concurrent ``CREATE TABLE IF NOT EXISTS`` ("tuple
        concurrently updated"), so creation is retried: the second attempt finds them.
        """
        from eventsourcing.persistence import IntegrityError, InternalError

        for attempt in range(1, 6):
            try:
                return self.factory.process_recorder()
            except (InternalError, IntegrityError):
                if attempt == 5:
                    raise
                time.sleep(0.2 * attempt)
        raise AssertionError("unreachable")

    @property
    def process_recorder(self) -> ProcessRecorder:
        """This application's recorder, typed as the process recorder it is."""
        return cast(ProcessRecorder, self.recorder)

    def unit_of_work(self, tracking: Tracking | None = None) -> UnitOfWork:
        """A new unit of work for one command or one batch of messages."""
        return UnitOfWork(self, tracking)

    def commit(self, uow: UnitOfWork) -> None:
        """Store the unit of work's events (and its tracking) in one transaction."""
        processing_event: ProcessingEvent[UUID] = ProcessingEvent(uow.tracking)
        processing_event.events.extend(uow.events)
        processing_event.aggregates.update(uow.aggregates)
        if processing_event.events or processing_event.tracking is not None:
            self._record(processing_event)
        uow.events.clear()

    def max_tracking_id(self, name: str) -> int | None:
        """The highest position recorded under a tracking name."""
        return self.process_recorder.max_tracking_id(name)

    @property
    def actor(self) -> ActorDict:
        """This service acting on its own."""
        return system_actor(self.service)


class UnitOfWork:
    """Collects stamped events and keeps an identity map for one transaction."""

    def __init__(self, app: ServiceApplication, tracking: Tracking | None = None) -> None:
        self.app = app
        self.tracking = tracking
        self.events: list[Any] = []
        self.aggregates: dict[UUID, Any] = {}
        self.missing: set[UUID] = set()
        """Ids known (by ``preload``) to have no events yet."""

    def preload(self, aggregate_ids: Iterable[UUID]) -> None:
        """Load many aggregates with one query, so that ``get`` needs none for them."""
        wanted = [i for i in dict.fromkeys(aggregate_ids) if i not in self.aggregates]
        wanted = [i for i in wanted if i not in self.missing]
        if not wanted:
            return
        stored = select_many(self.app.recorder, wanted)
        for aggregate_id in wanted:
            events = stored.get(aggregate_id)
            if not events:
                self.missing.add(aggregate_id)
                continue
            aggregate: Any = None
            for stored_event in events:
                # What eventsourcing's project_aggregate does, without its per-event
                # isinstance check against a runtime Protocol (tens of µs each).
                domain_event: Any = self.app.mapper.to_domain_event(stored_event)
                aggregate = domain_event.mutate(aggregate)
            self.aggregates[aggregate_id] = aggregate

    def get(self, aggregate_id: UUID, cls: type[A]) -> A | None:
        """An aggregate as this unit of work sees it, or None if it does not exist."""
        if aggregate_id in self.aggregates:
            return cast(A, self.aggregates[aggregate_id])
        if aggregate_id in self.missing:
            return None
        from eventsourcing.application import AggregateNotFoundError

        try:
            aggregate: Any = self.app.repository.get(aggregate_id)
        except AggregateNotFoundError:
            return None
        if not isinstance(aggregate, cls):
            raise TypeError(f"aggregate {aggregate_id} is a {type(aggregate).__name__}")
        self.aggregates[aggregate_id] = aggregate
        return aggregate

    def collect(self, *aggregates: Aggregate) -> None:
        """Take the aggregates' pending events now, stamped with the current context."""
        meta = current_meta(self.app.actor)
        for aggregate in aggregates:
            self.aggregates[aggregate.id] = aggregate
            self.missing.discard(aggregate.id)
            for event in aggregate.collect_events():
                stamp(event, meta)
                self.events.append(event)

    def with_tracking(self, tracking: Tracking) -> UnitOfWork:
        """Set the tracking position that commits with these events."""
        self.tracking = tracking
        return self

    @property
    def pending(self) -> Sequence[Any]:
        """Events collected and not yet committed."""
        return tuple(self.events)
