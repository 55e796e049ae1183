"""A relay that crashed after Kafka acknowledged but before it recorded its position
publishes nothing twice when it restarts, and its chains and checkpoints go on unbroken."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from bansos_contracts.integrity import is_checkpoint
from bansos_libs.kafka import read_to_end
from bansos_libs.outbox import OutboxBatch, OutboxRelay
from bansos_libs.settings import ServiceSettings
from bansosctl.audit.verify import read_links, verify_topic
from tests.integration.pipeline_app import Source, register, to_contract

pytestmark = pytest.mark.integration

PARTITIONS = 3


async def _event_ids_on(bootstrap: str, topic: str) -> list[str]:
    return [dict(r.headers)["ce_id"].decode() async for r in read_to_end(bootstrap, topic)]


@pytest.mark.parametrize("published_before_crash", [1.0, 0.5])
async def test_restarted_relay_skips_what_kafka_already_has(
    kafka_bootstrap: str,
    new_topic: Callable[..., str],
    new_database: Callable[[], str],
    published_before_crash: float,
) -> None:
    topic = new_topic("outbox", PARTITIONS)
    app = Source(ServiceSettings(service="pipesrc", database_url=new_database()))
    register(app, "35.17.01.2001", 0, 300)

    crashed = OutboxRelay(
        app, topic, to_contract, kafka_bootstrap, batch_size=300, checkpoint_every=50
    )
    await crashed.producer.start()
    await crashed.recover()
    batch = await crashed.next_batch()
    assert batch is not None and len(batch.outgoing) == 300 + 6  # events and checkpoints
    # Kafka acknowledges some or all of the batch; the position is never recorded.
    sent = batch.outgoing[: int(len(batch.outgoing) * published_before_crash)]
    await crashed.publish(OutboxBatch(batch.notifications, sent))
    await crashed.producer.stop()
    assert app.max_tracking_id(f"outbox:{topic}") is None

    register(app, "35.17.01.2001", 300, 100)  # and the outbox kept filling meanwhile
    restarted = OutboxRelay(
        app, topic, to_contract, kafka_bootstrap, batch_size=120, checkpoint_every=50,
        checkpoint_seconds=0.1,
    )  # fmt: skip
    stop = asyncio.Event()
    task = asyncio.create_task(restarted.run(stop))
    while restarted.stats.position < 400 or restarted.chain.log.checkpoint_position < 400:
        await asyncio.sleep(0.05)
        assert not task.done(), task
    stop.set()
    await task

    ids = await _event_ids_on(kafka_bootstrap, topic)
    assert len(ids) == 400
    assert len(set(ids)) == 400
    assert restarted.stats.already_published == sum(
        not is_checkpoint(message.headers) for message, _ in sent
    )
    report = verify_topic(topic, await read_links(kafka_bootstrap, topic))
    assert report.intact, [problem.describe() for problem in report.problems]
    assert report.events == 400 and report.checkpoints == 8  # every 50 events: none twice
    assert report.attested_upto == report.last_position
    app.close()
