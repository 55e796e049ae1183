"""Two tiny services that exercise the pipeline end to end, for tests and benchmarks.

``pipesrc`` registers households in its event store and relays them to a topic as
``HouseholdRegistered``; ``pipesink`` consumes that topic with the tracked consumer and
records one ``Receipt`` per event in its own store. Receipt ids are random on purpose:
if the pipeline ever delivered an event twice, a second receipt would appear, so the
receipts count every delivery, not just the distinct ones.

Run a role as a process with ``python -m tests.integration.run_pipeline`` (configured by
environment, as the real services are).
"""

from __future__ import annotations

import os
import uuid
from datetime import date
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from bansos_contracts import Event
from bansos_contracts.registry import HouseholdRegistered
from bansos_contracts.values import Region, VulnerabilityFlags
from bansos_libs.consumer import Handler
from bansos_libs.eventstore import ServiceApplication, UnitOfWork
from bansos_libs.logs import configure_logging, get_logger
from bansos_libs.outbox import Envelope
from bansos_libs.runtime import Publisher, ServiceDefinition, Subscriber
from bansos_libs.settings import ServiceSettings
from bansos_libs.telemetry import configure_tracing, tracer

TOPIC = os.environ.get("PIPELINE_TOPIC", "test.pipeline")
HOUSEHOLD_NS = UUID("0b8e7a7e-3c1f-4f57-a7a4-6f4f1d3c9e01")


class Household(Aggregate):
    """A household as the test source knows it."""

    @staticmethod
    def create_id(household_id: str, village: str, decile: int) -> UUID:
        return uuid.uuid5(HOUSEHOLD_NS, household_id)

    class Registered(Aggregate.Created):
        household_id: str
        village: str
        decile: int

    @event(Registered)
    def __init__(self, household_id: str, village: str, decile: int) -> None:
        self.household_id = household_id
        self.village = village
        self.decile = decile


class Receipt(Aggregate):
    """One delivery of one event to the sink."""

    @event("Received")
    def __init__(self, event_id: str, household_id: str) -> None:
        self.event_id = event_id
        self.household_id = household_id


class Source(ServiceApplication):
    service = "pipesrc"


class Sink(ServiceApplication):
    service = "pipesink"


def to_contract(domain_event: Any, envelope: Envelope) -> Event | None:
    """Only registrations are public."""
    if not isinstance(domain_event, Household.Registered):
        return None
    return HouseholdRegistered(
        **{**envelope, "subject_id": domain_event.household_id},
        household_id=domain_event.household_id,
        region=Region.of_village(domain_event.village),
        decile=domain_event.decile,
        member_count=4,
        flags=VulnerabilityFlags(has_elderly=domain_event.decile < 3),
        snapshot_id="pipeline-test",
        as_of=date(2025, 10, 1),
    )


def sink_handler(_app: ServiceApplication) -> Handler:
    def handle(contract_event: Event, uow: UnitOfWork) -> None:
        assert isinstance(contract_event, HouseholdRegistered)
        uow.collect(
            Receipt(event_id=str(contract_event.event_id), household_id=contract_event.household_id)
        )

    return handle


SOURCE = ServiceDefinition(
    name="pipesrc", application=Source, publisher=Publisher(TOPIC, to_contract), default_port=0
)
SINK = ServiceDefinition(
    name="pipesink",
    application=Sink,
    subscriber=Subscriber((TOPIC,), f"pipesink-{TOPIC}", sink_handler),
    default_port=0,
)


def register(app: Source, village: str, first: int, count: int, batch: int = 1000) -> None:
    """Register households ``first``..``first+count-1`` in the source store."""
    for start in range(first, first + count, batch):
        uow = app.unit_of_work()
        for n in range(start, min(start + batch, first + count)):
            uow.collect(Household(household_id=f"HH{n:08d}", village=village, decile=1 + n % 10))
        app.commit(uow)


def command(village: str, first: int, count: int) -> None:
    """A traced command in its own process: register households, log the trace id."""
    configure_logging("pipesrc-command", "INFO")
    configure_tracing("pipesrc-command", os.environ.get("BANSOS_OTEL_EXPORTER", "console"))
    app = Source(ServiceSettings(service="pipesrc"))
    with tracer("pipeline.command").start_as_current_span("register households"):
        register(app, village, first, count)
        get_logger("pipeline.command").info("command.handled", households=count)
    from opentelemetry import trace

    trace.get_tracer_provider().shutdown()  # type: ignore[attr-defined]
