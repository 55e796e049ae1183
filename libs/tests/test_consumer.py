"""The tracked consumer's batch logic, with an in-memory stand-in for the DLQ producer.

Delivery guarantees against a real broker are proven in tests/integration; these tests
pin down what one partition batch does: dedupe, dead letters, tracking.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from aiokafka import TopicPartition
from aiokafka.structs import ConsumerRecord
from eventsourcing.domain import Aggregate, event

from bansos_contracts import Event
from bansos_contracts.kafka import encode
from bansos_contracts.registry import HouseholdRegistered
from bansos_libs.consumer import TrackedConsumer
from bansos_libs.eventstore import ServiceApplication, UnitOfWork
from bansos_libs.settings import ServiceSettings
from tests.integration.test_support import registered_event

TP = TopicPartition("bansos.registry.v1", 0)


class Seen(Aggregate):
    @event("Recorded")
    def __init__(self, household_id: str) -> None:
        self.household_id = household_id


class SinkApp(ServiceApplication):
    service = "unitsink"


class FakeProducer:
    """Collects what would have been sent to the dead-letter topic."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, bytes | None, dict[str, bytes]]] = []

    async def send(self, topic: str, value: bytes | None, key: bytes | None, headers: Any) -> Any:
        self.sent.append((topic, value, dict(headers)))
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        future.set_result(None)
        return future


def record(offset: int, value: bytes | None, headers: list[tuple[str, bytes]]) -> Any:
    return ConsumerRecord(
        TP.topic, TP.partition, offset, 0, 0, b"k", value, None, 1, len(value or b""), headers
    )


def records_for(events: list[HouseholdRegistered], start: int = 0) -> list[Any]:
    out = []
    for n, e in enumerate(events):
        message = encode(e)
        out.append(record(start + n, message.value, list(message.headers)))
    return out


def handler(fail_for: str | None = None) -> Callable[[Event, UnitOfWork], None]:
    def handle(contract_event: Event, uow: UnitOfWork) -> None:
        assert isinstance(contract_event, HouseholdRegistered)
        if contract_event.household_id == fail_for:
            raise ValueError("cannot handle this household")
        uow.collect(Seen(contract_event.household_id))

    return handle


def stored_households(app: ServiceApplication) -> list[str]:
    events = [app.mapper.to_domain_event(n) for n in app.recorder.select_notifications(1, 1000)]
    return [getattr(e, "household_id", "") for e in events]


@pytest.fixture
def app(store_settings: Callable[[str], ServiceSettings]) -> Any:
    application = SinkApp(store_settings("unitsink"))
    yield application
    application.close()


def consumer_for(app: ServiceApplication, **kwargs: Any) -> tuple[TrackedConsumer, FakeProducer]:
    consumer = TrackedConsumer(app, [TP.topic], "g", handler(**kwargs), "127.0.0.1:1")
    fake = FakeProducer()
    consumer._dlq = fake  # type: ignore[assignment]
    return consumer, fake


async def test_a_batch_commits_with_its_tracking_and_a_redelivery_changes_nothing(
    app: SinkApp,
) -> None:
    consumer, _ = consumer_for(app)
    batch = records_for([registered_event(f"H{n}") for n in range(5)])
    await consumer.process_partition_batch(TP, batch)
    assert stored_households(app) == [f"H{n}" for n in range(5)]
    assert app.max_tracking_id(f"{TP.topic}:0") == 4

    await consumer.process_partition_batch(TP, batch[2:])  # redelivered
    assert consumer.stats.skipped_duplicates == 3
    restarted, _ = consumer_for(app)  # a new process whose positions were not loaded
    await restarted.process_partition_batch(TP, batch)
    assert stored_households(app) == [f"H{n}" for n in range(5)]


async def test_poison_and_failing_messages_are_dead_lettered_and_the_rest_processed(
    app: SinkApp,
) -> None:
    consumer, dlq = consumer_for(app, fail_for="H2")
    batch = records_for([registered_event(f"H{n}") for n in range(4)])
    batch.insert(1, record(99, b"{not json", []))
    batch = [record(n, r.value, r.headers) for n, r in enumerate(batch)]

    await consumer.process_partition_batch(TP, batch)

    assert stored_households(app) == ["H0", "H1", "H3"]
    assert app.max_tracking_id(f"{TP.topic}:0") == 4
    assert [(t, headers["dlq_original_offset"]) for t, _, headers in dlq.sent] == [
        ("bansos.deadletter.v1", b"1"),
        ("bansos.deadletter.v1", b"3"),
    ]
    assert dlq.sent[0][1] == b"{not json"
    assert b"JSON" in dlq.sent[0][2]["dlq_reason"]
    assert b"cannot handle this household" in dlq.sent[1][2]["dlq_reason"]
    assert consumer.stats.processed == 3
    assert consumer.stats.dead_lettered == 2
