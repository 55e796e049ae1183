"""Poison messages go to the dead-letter topic with their reason; the rest go on."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable

import pytest
from aiokafka import AIOKafkaProducer

from bansos_contracts.kafka import encode, read_dead_letter
from bansos_contracts.registry import HouseholdRegistered
from bansos_libs.consumer import TrackedConsumer
from bansos_libs.kafka import read_to_end
from bansos_libs.settings import ServiceSettings
from tests.integration.pipeline_app import Sink, sink_handler
from tests.integration.test_support import registered_event, wait_until

pytestmark = pytest.mark.integration


async def _dead_letters_for(
    bootstrap: str, topic: str, dlq: str
) -> list[tuple[bytes, dict[str, bytes]]]:
    found = []
    async for record in read_to_end(bootstrap, dlq):
        headers = {k: v for k, v in record.headers}
        if headers.get("dlq_original_topic") == topic.encode():
            found.append((record.value or b"", headers))
    return found


async def test_poison_messages_are_dead_lettered_and_the_partition_moves_on(
    kafka_bootstrap: str,
    deadletter_topic: str,
    new_topic: Callable[..., str],
    new_database: Callable[[], str],
) -> None:
    topic = new_topic("poison", 1)
    good = [registered_event(f"HH{n:04d}") for n in range(3)]
    not_json = b"\x00\x01 this is not JSON"
    bad_body = json.loads(encode(good[0]).value or b"{}")
    bad_body["decile"] = 11
    bad_value = json.dumps(bad_body).encode()

    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, enable_idempotence=True)
    await producer.start()
    try:
        first = encode(good[0])
        await producer.send_and_wait(topic, first.value, key=first.key, headers=list(first.headers))
        await producer.send_and_wait(topic, not_json, key=b"HH-poison")
        await producer.send_and_wait(topic, bad_value, key=first.key, headers=list(first.headers))
        for event in good[1:]:
            message = encode(event)
            await producer.send_and_wait(
                topic, message.value, key=message.key, headers=list(message.headers)
            )
    finally:
        await producer.stop()

    app = Sink(ServiceSettings(service="pipesink", database_url=new_database()))
    consumer = TrackedConsumer(app, [topic], f"poison-{topic}", sink_handler(app), kafka_bootstrap)
    stop = asyncio.Event()
    task = asyncio.create_task(consumer.run(stop))
    await wait_until(lambda: consumer.stats.processed + consumer.stats.dead_lettered >= 5, 30)
    stop.set()
    await task

    assert consumer.stats.processed == 3
    assert consumer.stats.dead_lettered == 2
    assert app.max_tracking_id(f"{topic}:0") == 4
    letters = await _dead_letters_for(kafka_bootstrap, topic, deadletter_topic)
    by_offset = {
        int(h["dlq_original_offset"]): (v, read_dead_letter(list(h.items()))) for v, h in letters
    }
    assert set(by_offset) == {1, 2}
    assert by_offset[1][0] == not_json
    assert "JSON" in by_offset[1][1].reason
    assert by_offset[2][0] == bad_value
    assert "decile" in by_offset[2][1].reason
    assert all(dl.consumer_group == f"poison-{topic}" for _, dl in by_offset.values())
    received = {e.household_id for e in good}
    stored = [app.mapper.to_domain_event(n) for n in app.recorder.select_notifications(1, 100)]
    assert {getattr(e, "household_id", None) for e in stored} == received
    app.close()


def test_registered_event_fixture_is_valid() -> None:
    assert isinstance(registered_event("HH1"), HouseholdRegistered)
