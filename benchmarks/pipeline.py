"""Relay → Kafka → tracked consumer → PostgreSQL throughput, against the raw Kafka ceiling.

Both are measured the same way, as steady-state rates: events delivered between the
first and the last delivery, divided by that time. The pipeline runs as in production:
the relay and the consumer are separate processes with PostgreSQL event stores.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import psycopg
from aiokafka import AIOKafkaProducer

from bansos_contracts.kafka import encode
from bansos_libs.kafka import partition_for
from bansos_libs.outbox import envelope_of
from bansos_libs.settings import ServiceSettings
from bansos_libs.telemetry import tracer
from benchmarks.stack import KAFKA, ROOT, drop_database, new_database, new_topic
from tests.integration.pipeline_app import Household, Source, register, to_contract
from tests.integration.processes import pipeline_process

VILLAGE = "35.17.01.2001"


def _count(url: str) -> int:
    try:
        with psycopg.connect(url) as conn:
            row = conn.execute("SELECT count(*) FROM pipesink_events").fetchone()
    except psycopg.errors.UndefinedTable:
        return 0
    return int(row[0]) if row else 0


def pipeline_run(events: int, logs: Path) -> float:
    """One run; events per second from first to last delivery."""
    topic = new_topic("pipeline")
    source_url, sink_url = new_database(), new_database()
    source = Source(ServiceSettings(service="pipesrc", database_url=source_url))
    with tracer("bench").start_as_current_span("import households"):  # as a real command
        register(source, VILLAGE, 0, events, batch=2000)
    source.close()
    sink = pipeline_process("sink consume", topic, KAFKA, sink_url, logs / "sink.log").start()
    while "consumer.assigned" not in sink.output():  # joined its group
        time.sleep(0.05)
    relay = pipeline_process("source relay", topic, KAFKA, source_url, logs / "relay.log").start()
    try:
        first_at, first_count = 0.0, 0
        while (n := _count(sink_url)) < events:
            if n and not first_at:
                first_at, first_count = time.perf_counter(), n
            if not (relay.alive and sink.alive):
                raise RuntimeError(f"a process died; see {logs}")
            time.sleep(0.02)
        return (events - first_count) / (time.perf_counter() - first_at)
    finally:
        relay.stop()
        sink.stop()
        drop_database(source_url)
        drop_database(sink_url)


def _messages(events: int, topic: str) -> list[tuple[bytes, bytes, list[tuple[str, bytes]], int]]:
    """The very messages the relay would send for ``events`` households."""
    out = []
    for n in range(events):
        household = Household(household_id=f"HH{n:08d}", village=VILLAGE, decile=1 + n % 10)
        [registered] = household.collect_events()
        contract = to_contract(registered, envelope_of("pipesrc", registered))
        assert contract is not None
        message = encode(contract)
        key = message.key or b""
        out.append(
            (key, message.value or b"", list(message.headers), partition_for(key, list(range(6))))
        )
    return out


async def _produce(
    topic: str, messages: list[tuple[bytes, bytes, list[tuple[str, bytes]], int]]
) -> None:
    producer = AIOKafkaProducer(
        bootstrap_servers=KAFKA,
        enable_idempotence=True,
        acks="all",
        linger_ms=5,
        max_batch_size=512 * 1024,
    )
    await producer.start()
    try:
        futures = [
            await producer.send(topic, value, key=key, headers=headers, partition=partition)
            for key, value, headers, partition in messages
        ]
        await asyncio.gather(*futures)
    finally:
        await producer.stop()


def raw_run(events: int) -> float:
    """One run of the ceiling; events per second from first to last delivery."""
    topic = new_topic("raw")
    messages = _messages(events, topic)
    consumer = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.raw_kafka", "consume", topic, str(events)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        text=True,
    )
    assert consumer.stdout is not None
    assert consumer.stdout.readline().strip() == "ready"
    time.sleep(2)  # let the group settle, as the pipeline's consumer has
    asyncio.run(_produce(topic, messages))
    seconds = float(consumer.stdout.readline())
    consumer.wait()
    return events / seconds


def run(events: int, runs: int, logs: Path) -> dict[str, float]:
    """Median rates of ``runs`` runs each, and their ratio."""
    raw = [raw_run(events) for _ in range(runs)]
    pipeline = [pipeline_run(events, logs) for _ in range(runs)]
    result = {
        "raw_kafka_events_per_s": statistics.median(raw),
        "pipeline_events_per_s": statistics.median(pipeline),
    }
    result["pipeline_to_raw_ratio"] = (
        result["pipeline_events_per_s"] / result["raw_kafka_events_per_s"]
    )
    result["runs"] = runs
    result["events_per_run"] = events
    return result
