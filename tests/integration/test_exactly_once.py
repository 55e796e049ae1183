"""10,000 events through relay → Kafka → tracked consumer → PostgreSQL, with crashes.

The consumer is killed with SIGKILL three times mid-stream and the relay once; the sink
must end with exactly one receipt per source event: nothing lost, nothing duplicated.
The topic itself must hold each event exactly once too.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from bansos_contracts.integrity import CHECKPOINT_EVERY
from bansos_libs.eventstore import event_id_for
from bansos_libs.settings import ServiceSettings
from bansosctl.audit.verify import read_links, verify_topic
from tests.integration.pipeline_app import HOUSEHOLD_NS, Source, register
from tests.integration.processes import pipeline_process

pytestmark = pytest.mark.integration

TOTAL = 10_000
PRELOADED = 2_000
VILLAGE = "35.17.01.2001"


def _scalar(url: str, sql: str, params: tuple[object, ...] = ()) -> int:
    try:
        with psycopg.connect(url) as conn:
            row = conn.execute(sql, params).fetchone()
    except (psycopg.errors.UndefinedTable, psycopg.OperationalError):
        return 0
    return int(row[0]) if row and row[0] is not None else 0


async def _topic_size(bootstrap: str, topic: str, partitions: int) -> int:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    await consumer.start()
    try:
        tps = [TopicPartition(topic, p) for p in range(partitions)]
        ends = await consumer.end_offsets(tps)
        return sum(ends.values())
    finally:
        await consumer.stop()


def test_ten_thousand_events_survive_sigkill(
    new_database: Callable[[], str],
    new_topic: Callable[..., str],
    kafka_bootstrap: str,
    tmp_path: Path,
) -> None:
    topic = new_topic("pipeline", 6)
    source_url, sink_url = new_database(), new_database()
    relay = pipeline_process(
        "source relay",
        topic,
        kafka_bootstrap,
        source_url,
        tmp_path / "relay.log",
        BANSOS_RELAY_BATCH_SIZE="200",
    )
    sink = pipeline_process(
        "sink consume",
        topic,
        kafka_bootstrap,
        sink_url,
        tmp_path / "sink.log",
        BANSOS_CONSUMER_MAX_RECORDS="200",
    )
    source = Source(ServiceSettings(service="pipesrc", database_url=source_url))
    register(source, VILLAGE, 0, PRELOADED)

    def write_the_rest() -> None:  # more events keep arriving while processes crash
        for first in range(PRELOADED, TOTAL, 400):
            register(source, VILLAGE, first, min(400, TOTAL - first))
            time.sleep(0.25)

    writer = threading.Thread(target=write_the_rest)
    receipts_sql = "SELECT count(*) FROM pipesink_events"
    relayed_sql = "SELECT notification_id FROM pipesrc_tracking WHERE application_name = %s"
    consumer_kills_at: list[int] = []
    relay_killed_at: list[int] = []
    relay.start()
    sink.start()
    writer.start()
    try:
        deadline = time.monotonic() + 240
        stable_since: float | None = None
        while time.monotonic() < deadline:
            receipts = _scalar(sink_url, receipts_sql)
            relayed = _scalar(source_url, relayed_sql, (f"outbox:{topic}",))
            if (
                len(consumer_kills_at) < 3
                and receipts >= (1500, 4000, 6500)[len(consumer_kills_at)]
            ):
                sink.kill()
                consumer_kills_at.append(receipts)
                sink.start()
            if not relay_killed_at and relayed >= 5000:
                relay.kill()
                relay_killed_at.append(relayed)
                relay.start()
            assert relay.alive, relay.output()[-3000:]
            assert sink.alive, sink.output()[-3000:]
            if receipts >= TOTAL and not writer.is_alive():
                stable_since = stable_since or time.monotonic()
                if time.monotonic() - stable_since > 3:
                    break
            time.sleep(0.05)
        writer.join()
    finally:
        relay.stop()
        sink.stop()
        source.close()

    assert len(consumer_kills_at) == 3 and all(n < TOTAL for n in consumer_kills_at)
    assert relay_killed_at and relay_killed_at[0] < TOTAL
    with psycopg.connect(sink_url) as conn:
        states = [bytes(r[0]) for r in conn.execute("SELECT state FROM pipesink_events")]
    delivered = [json.loads(state)["event_id"] for state in states]
    expected = {
        event_id_for("pipesrc", uuid.uuid5(HOUSEHOLD_NS, f"HH{n:08d}"), 1) for n in range(TOTAL)
    }
    assert len(delivered) == TOTAL, f"{len(delivered)} receipts for {TOTAL} events"
    assert set(delivered) == expected
    # Every event once, and a checkpoint after every thousandth, none twice; the chains
    # and checkpoints hold across the relay's SIGKILL.
    assert asyncio.run(_topic_size(kafka_bootstrap, topic, 6)) == TOTAL + TOTAL // CHECKPOINT_EVERY
    report = verify_topic(topic, asyncio.run(read_links(kafka_bootstrap, topic)))
    assert report.intact, [problem.describe() for problem in report.problems[:5]]
    assert (report.events, report.checkpoints, report.attested_upto) == (
        TOTAL, TOTAL // CHECKPOINT_EVERY, report.last_position,
    )  # fmt: skip
    print(f"consumer killed at {consumer_kills_at}, relay killed at {relay_killed_at}")
