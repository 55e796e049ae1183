"""Unit of work, metadata stamping and tracking, on every backend."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from eventsourcing.domain import Aggregate, event
from eventsourcing.persistence import IntegrityError, Tracking

from bansos_libs.context import command_context, meta_of
from bansos_libs.eventstore import ServiceApplication, event_id_for
from bansos_libs.settings import ServiceSettings
from bansos_libs.telemetry import tracer


class Counter(Aggregate):
    @event("Started")
    def __init__(self, name: str) -> None:
        self.name = name
        self.count = 0

    @event("Incremented")
    def increment(self, by: int) -> None:
        self.count += by


class Counters(ServiceApplication):
    service = "counters"


ACTOR = {"role": "REGENCY_OFFICER", "id": "officer-1", "region": "35.17"}


def test_events_carry_the_command_context(
    store_settings: Callable[[str], ServiceSettings],
) -> None:
    app = Counters(store_settings("counters"))
    uow = app.unit_of_work()
    with (
        tracer().start_as_current_span("command"),
        command_context(ACTOR, correlation_id="corr-1", causation_id="cause-1"),  # type: ignore[arg-type]
    ):
        counter = Counter("households")
        counter.increment(by=2)
        uow.collect(counter)
    app.commit(uow)

    stored = [app.mapper.to_domain_event(n) for n in app.recorder.select_notifications(1, 10)]
    assert [type(e).__name__ for e in stored] == ["Started", "Incremented"]
    for domain_event in stored:
        meta = meta_of(domain_event)
        assert meta is not None
        assert meta["actor"] == ACTOR
        assert meta["correlation_id"] == "corr-1"
        assert meta["causation_id"] == "cause-1"
    reloaded = app.repository.get(counter.id)
    assert isinstance(reloaded, Counter)
    assert reloaded.count == 2
    app.close()


def test_a_unit_of_work_sees_its_own_changes(
    store_settings: Callable[[str], ServiceSettings],
) -> None:
    app = Counters(store_settings("counters"))
    first = app.unit_of_work()
    counter = Counter("x")
    first.collect(counter)
    app.commit(first)

    uow = app.unit_of_work()
    for _ in range(3):  # three messages of one batch touch the same aggregate
        loaded = uow.get(counter.id, Counter)
        assert loaded is not None
        loaded.increment(by=1)
        uow.collect(loaded)
    app.commit(uow)
    reloaded = app.repository.get(counter.id)
    assert isinstance(reloaded, Counter)
    assert reloaded.count == 3
    assert app.unit_of_work().get(Counter("y").id, Counter) is None
    app.close()


def test_preload_finds_stored_aggregates_and_knows_missing_ones(
    store_settings: Callable[[str], ServiceSettings],
) -> None:
    app = Counters(store_settings("counters"))
    stored = [Counter(f"c{n}") for n in range(5)]
    for counter in stored:
        counter.increment(by=3)
    first = app.unit_of_work()
    first.collect(*stored)
    app.commit(first)
    absent = Counter("never stored")

    uow = app.unit_of_work()
    uow.preload([c.id for c in stored] + [absent.id])
    assert uow.missing == {absent.id}
    for counter in stored:
        loaded = uow.aggregates[counter.id]
        assert (loaded.name, loaded.count, loaded.version) == (counter.name, 3, 2)
        assert uow.get(counter.id, Counter) is loaded
    assert uow.get(absent.id, Counter) is None
    app.close()


def test_tracking_is_a_high_water_mark_committed_with_the_events(
    store_settings: Callable[[str], ServiceSettings],
) -> None:
    app = Counters(store_settings("counters"))
    uow = app.unit_of_work(Tracking("topic:0", 10))
    uow.collect(Counter("a"))
    app.commit(uow)
    assert app.max_tracking_id("topic:0") == 10

    replay = app.unit_of_work(Tracking("topic:0", 10))
    replay.collect(Counter("b"))
    with pytest.raises(IntegrityError):
        app.commit(replay)  # the redelivered position is refused, with its events
    assert len(app.recorder.select_notifications(1, 10)) == 1

    app.commit(app.unit_of_work(Tracking("topic:0", 11)))  # tracking alone moves on
    assert app.max_tracking_id("topic:0") == 11
    assert app.max_tracking_id("topic:1") is None
    app.close()


def test_event_ids_are_stable_and_distinct() -> None:
    a = event_id_for("registry", "agg", 1)
    assert a == event_id_for("registry", "agg", 1)
    assert a != event_id_for("registry", "agg", 2)
    assert a != event_id_for("payout", "agg", 1)
