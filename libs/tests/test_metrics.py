"""Metrics: what the consumer and the relay record, the Prometheus text, ``/metrics``.

Each test installs a fresh meter provider whose in-memory reader is what ``/metrics``
serves; the consumer and relay run their batch logic with in-memory stand-ins for Kafka.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import pytest
from aiokafka import TopicPartition
from aiokafka.structs import ConsumerRecord
from eventsourcing.domain import Aggregate, event
from fastapi.testclient import TestClient
from opentelemetry.metrics import Observation
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader, NumberDataPoint

from bansos_contracts import Event
from bansos_contracts.kafka import encode
from bansos_contracts.registry import HouseholdRegistered
from bansos_libs import metrics
from bansos_libs.consumer import TrackedConsumer
from bansos_libs.eventstore import ServiceApplication, UnitOfWork
from bansos_libs.health import Health
from bansos_libs.outbox import OutboxRelay
from bansos_libs.runtime import ServiceDefinition, build_http
from bansos_libs.settings import ServiceSettings
from tests.integration.test_support import registered_event

TP = TopicPartition("bansos.registry.v1", 0)


class Seen(Aggregate):
    @event("Recorded")
    def __init__(self, household_id: str) -> None:
        self.household_id = household_id


class MeteredApp(ServiceApplication):
    service = "metered"


class FakeProducer:
    """Acknowledges every message at once and keeps what was sent."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, bytes | None]] = []

    async def send(self, topic: str, value: bytes | None, key: bytes | None, **_: Any) -> Any:
        self.sent.append((topic, value))
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        future.set_result(None)
        return future


class FakeKafkaConsumer:
    """What the lag gauge asks of aiokafka: the assignment and each highwater mark."""

    def __init__(self, highwater: dict[TopicPartition, int | None]) -> None:
        self.marks = highwater

    def assignment(self) -> set[TopicPartition]:
        return set(self.marks)

    def highwater(self, tp: TopicPartition) -> int | None:
        return self.marks[tp]


@pytest.fixture(autouse=True)
def fresh_metrics() -> None:
    """A new meter provider (in-memory reader only) for each test."""
    metrics.configure_metrics("test", exporter="none")


@pytest.fixture
def app(tmp_path: Path) -> Iterator[MeteredApp]:
    application = MeteredApp(ServiceSettings(service="metered", data_dir=tmp_path))
    yield application
    application.close()


def values(name: str) -> dict[frozenset[tuple[str, Any]], float]:
    """The current data points of one instrument, by their attributes."""
    data = metrics.collect()  # None when nothing has been recorded
    return {
        frozenset((point.attributes or {}).items()): point.value
        for resource_metrics in (data.resource_metrics if data else ())
        for scope_metrics in resource_metrics.scope_metrics
        for metric in scope_metrics.metrics
        if metric.name == name
        for point in metric.data.data_points
        if isinstance(point, NumberDataPoint)
    }


def labels(**attributes: Any) -> frozenset[tuple[str, Any]]:
    return frozenset(attributes.items())


def record(offset: int, value: bytes | None, headers: list[tuple[str, bytes]]) -> Any:
    return ConsumerRecord(
        TP.topic, TP.partition, offset, 0, 0, b"k", value, None, 1, len(value or b""), headers
    )


def handle(contract_event: Event, uow: UnitOfWork) -> None:
    assert isinstance(contract_event, HouseholdRegistered)
    if contract_event.household_id == "H2":
        raise ValueError("cannot handle this household")
    uow.collect(Seen(contract_event.household_id))


async def test_the_consumer_counts_handled_and_dead_lettered_events(app: MeteredApp) -> None:
    consumer = TrackedConsumer(app, [TP.topic], "g", handle, "127.0.0.1:1")
    consumer._dlq = cast(Any, FakeProducer())
    messages = [encode(registered_event(f"H{n}")) for n in range(4)]
    batch = [record(n, m.value, list(m.headers)) for n, m in enumerate(messages)]
    batch.append(record(4, b"{not json", []))

    await consumer.process_partition_batch(TP, batch)
    await consumer.process_partition_batch(TP, batch)  # redelivered: counted once

    assert values(metrics.CONSUMED) == {
        labels(topic=TP.topic, result="handled"): 3,
        labels(topic=TP.topic, result="dead_lettered"): 2,
    }
    assert values(metrics.DEADLETTERS) == {
        labels(topic=TP.topic, reason="handler_failed"): 1,
        labels(topic=TP.topic, reason="undecodable"): 1,
    }


async def test_the_lag_gauge_reports_each_partition_behind_its_highwater(
    app: MeteredApp,
) -> None:
    consumer = TrackedConsumer(app, [TP.topic], "g", handle, "127.0.0.1:1")
    other, unfetched = TopicPartition(TP.topic, 1), TopicPartition(TP.topic, 2)
    consumer.consumer = cast(Any, FakeKafkaConsumer({TP: 100, other: 7, unfetched: None}))
    consumer.positions = {TP: 39, other: 6, unfetched: -1}  # offsets 0..39 and 0..6 done
    unregister = metrics.register(metrics.Gauge(metrics.CONSUMER_LAG, consumer.lag_measurements))

    consumer.update_lag()

    assert values(metrics.CONSUMER_LAG) == {
        labels(topic=TP.topic, partition=0): 60,
        labels(topic=TP.topic, partition=1): 0,
    }
    unregister()
    assert values(metrics.CONSUMER_LAG) == {}


async def test_the_relay_counts_published_events_and_reports_its_backlog(
    app: MeteredApp,
) -> None:
    for n in range(3):
        app.save(Seen(f"H{n}"))
    relay = OutboxRelay(
        app,
        "bansos.metered.v1",
        lambda domain_event, envelope: registered_event(domain_event.household_id),
        "127.0.0.1:1",
        batch_size=2,
    )
    relay.producer = cast(Any, FakeProducer())
    relay._partitions = [0]
    relay.chain.create_tables()
    unregister = metrics.register(metrics.Gauge(metrics.RELAY_BACKLOG, relay.backlog_measurements))
    assert values(metrics.RELAY_BACKLOG) == {}  # not known before the first batch

    assert await relay.relay_once() == 2
    assert values(metrics.RELAY_BACKLOG) == {labels(topic="bansos.metered.v1"): 1}
    assert await relay.relay_once() == 1
    assert values(metrics.RELAY_BACKLOG) == {labels(topic="bansos.metered.v1"): 0}
    assert values(metrics.PUBLISHED) == {labels(topic="bansos.metered.v1"): 3}
    unregister()


def test_prometheus_text_renders_counters_gauges_and_histograms_with_labels() -> None:
    reader = InMemoryMetricReader()
    meter = MeterProvider(metric_readers=[reader]).get_meter("t")
    counter = meter.create_counter("bansos.events.consumed", description="Consumed events.")
    counter.add(3, {"topic": "bansos.registry.v1", "result": "handled"})
    counter.add(1, {"topic": "bansos.registry.v1", "result": "dead_lettered"})
    meter.create_observable_gauge(
        "bansos.consumer.lag",
        callbacks=[lambda _: [Observation(12, {"topic": 'a"b\\c', "partition": 0})]],
    )
    meter.create_up_down_counter("bansos.in.flight").add(-2)
    histogram = meter.create_histogram(
        "bansos.batch.seconds", explicit_bucket_boundaries_advisory=[0.1, 1.0]
    )
    for seconds in (0.05, 0.5, 0.7, 3.0):
        histogram.record(seconds, {"topic": "t"})

    text = metrics.prometheus_text(reader.get_metrics_data())

    lines = text.splitlines()
    assert text.endswith("\n")
    assert sorted(lines) == sorted(
        [
            "# HELP bansos_events_consumed_total Consumed events.",
            "# TYPE bansos_events_consumed_total counter",
            'bansos_events_consumed_total{result="handled",topic="bansos.registry.v1"} 3',
            'bansos_events_consumed_total{result="dead_lettered",topic="bansos.registry.v1"} 1',
            "# TYPE bansos_consumer_lag gauge",
            'bansos_consumer_lag{partition="0",topic="a\\"b\\\\c"} 12',
            "# TYPE bansos_in_flight gauge",
            "bansos_in_flight -2",
            "# TYPE bansos_batch_seconds histogram",
            'bansos_batch_seconds_bucket{le="0.1",topic="t"} 1',
            'bansos_batch_seconds_bucket{le="1.0",topic="t"} 3',
            'bansos_batch_seconds_bucket{le="+Inf",topic="t"} 4',
            'bansos_batch_seconds_sum{topic="t"} 4.25',
            'bansos_batch_seconds_count{topic="t"} 4',
        ]
    )
    # Each family: its HELP, then its TYPE, then its samples.
    start = lines.index("# HELP bansos_events_consumed_total Consumed events.")
    assert lines[start + 1] == "# TYPE bansos_events_consumed_total counter"
    assert {line.split("{")[0] for line in lines[start + 2 : start + 4]} == {
        "bansos_events_consumed_total"
    }


def test_every_role_serves_metrics_in_the_prometheus_format(app: MeteredApp) -> None:
    definition = ServiceDefinition(name="metered", application=lambda s: app)
    metrics.events_published("bansos.metered.v1", 5)
    unregister = metrics.register(
        metrics.Gauge("bansos.payouts", lambda: [(4, {"state": "SCHEDULED"})], "Payouts.")
    )
    for role in ("api", "consume"):
        http = build_http(definition, app, app.settings, Health(), role)
        with TestClient(http) as client:
            response = client.get("/metrics")
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/plain")
        assert 'bansos_events_published_total{topic="bansos.metered.v1"} 5' in response.text
        assert 'bansos_payouts{state="SCHEDULED"} 4' in response.text
    unregister()
