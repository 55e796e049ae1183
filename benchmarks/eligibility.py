"""Eligibility: decisions per second from a registry topic, and decile change → status latency.

A registry topic of N registered households (the messages the registry's relay would
send) is consumed by the eligibility service as deployed: a ``consume`` process and a
``relay`` process (which also keeps the read models), PostgreSQL event store.

- decisions/s: decisions stored by the consumer, between the first and the last; and
  the same for decisions published on the eligibility topic by the relay;
- latency: a ``HouseholdDecileChanged`` (3 → 6, then back) is published on the registry
  topic and the staff status endpoint of an ``api`` process is polled until BLTS Kesra
  shows the new status; p50 and p99 over the samples.
"""

from __future__ import annotations

import asyncio
import statistics
import time
import uuid
from datetime import UTC, date, datetime
from pathlib import Path

import httpx
import psycopg
from aiokafka import AIOKafkaConsumer, TopicPartition

from bansos_contracts import topics
from bansos_contracts.envelope import Actor, Event
from bansos_contracts.kafka import encode
from bansos_contracts.registry import HouseholdDecileChanged, HouseholdRegistered
from bansos_contracts.values import Region, VulnerabilityFlags
from bansos_libs.auth import AuthSettings, issuer_from_settings
from bansos_libs.kafka import partition_for
from benchmarks.pipeline import _produce
from benchmarks.stack import (
    KAFKA,
    drop_database,
    new_database,
    service_env,
    service_processes,
)
from tests.fixtures.stack import create_topics
from tests.integration.services import free_port

VILLAGES = [f"35.17.{d:02d}.{2000 + v}" for d in range(1, 22) for v in range(1, 15)]
PARTITIONS = 6
PROGRAMS = 4


def _envelope(household_id: str, version: int) -> dict[str, object]:
    return {
        "event_id": uuid.uuid4(),
        "occurred_at": datetime.now(UTC),
        "subject_id": household_id,
        "subject_version": version,
        "correlation_id": str(uuid.uuid4()),
        "causation_id": None,
        "actor": Actor.system("registry"),
    }


def registered(n: int) -> HouseholdRegistered:
    """The n-th household: deciles 1-10 in turn, a vulnerable member in half of them."""
    household_id = f"3517-{n:09d}"
    return HouseholdRegistered(
        **_envelope(household_id, 1),  # type: ignore[arg-type]
        household_id=household_id,
        region=Region.of_village(VILLAGES[n % len(VILLAGES)]),
        decile=3 if n == 0 else 1 + n % 10,
        member_count=4,
        flags=VulnerabilityFlags(has_elderly=n % 2 == 0),
        programs=("PKH",) if n % 7 == 0 else (),
        per_capita_income=300_000 + (n % 9) * 50_000,
        snapshot_id="BENCH",
        as_of=date(2025, 9, 1),
    )


def _messages(events: list[Event]) -> list[tuple[bytes, bytes, list[tuple[str, bytes]], int]]:
    out = []
    for event in events:
        message = encode(event)
        key = message.key or b""
        out.append(
            (key, message.value or b"", list(message.headers), partition_for(key, list(range(6))))
        )
    return out


async def _published(topic: str) -> int:
    consumer = AIOKafkaConsumer(bootstrap_servers=KAFKA)
    await consumer.start()
    try:
        tps = [TopicPartition(topic, p) for p in range(PARTITIONS)]
        return sum((await consumer.end_offsets(tps)).values())
    finally:
        await consumer.stop()


def _decisions(url: str) -> int:
    try:
        with psycopg.connect(url) as conn:
            row = conn.execute(
                "SELECT count(*) FROM eligibility_events WHERE topic LIKE %s",
                ("%Assessment.Decided",),
            ).fetchone()
    except psycopg.errors.UndefinedTable:
        return 0
    return int(row[0]) if row else 0


def _rate(samples: list[tuple[float, int]], total: int) -> float:
    """Steady-state rate: from the first sample that saw progress to the last."""
    first = next((t, n) for t, n in samples if n > 0)
    last = next((t, n) for t, n in samples if n >= total)
    return (last[1] - first[1]) / (last[0] - first[0])


def run(households: int, latency_samples: int, logs: Path) -> dict[str, float]:
    """Decision rates for ``households`` and the latency percentiles."""
    prefix = f"bench{uuid.uuid4().hex[:6]}."
    asyncio.run(
        create_topics(
            KAFKA,
            [prefix + t for t in (topics.REGISTRY, topics.OBJECTIONS, topics.PAYOUT)],
            PARTITIONS,
        )
    )
    asyncio.run(create_topics(KAFKA, [prefix + topics.ELIGIBILITY], PARTITIONS))
    url = new_database()
    key_file = logs / "bench-ed25519.pem"
    port = free_port()
    env = service_env(prefix, url, key_file)
    asyncio.run(
        _produce(prefix + topics.REGISTRY, _messages([registered(n) for n in range(households)]))
    )
    processes = service_processes("eligibility", env, logs, port)
    try:
        for process in processes:
            process.start()
        total = households * PROGRAMS
        stored: list[tuple[float, int]] = []
        published: list[tuple[float, int]] = []
        deadline = time.monotonic() + 3600
        while not (stored and stored[-1][1] >= total and published[-1][1] >= total):
            now = time.perf_counter()
            stored.append((now, _decisions(url)))
            published.append((now, asyncio.run(_published(prefix + topics.ELIGIBILITY))))
            if time.monotonic() > deadline or not all(p.alive for p in processes):
                raise RuntimeError(f"eligibility did not finish; see {logs}")
            time.sleep(0.5)
        result = {
            "households": households,
            "decisions": total,
            "decisions_stored_per_s": _rate(stored, total),
            "decisions_published_per_s": _rate(published, total),
        }
        result |= _latency(prefix, port, key_file, latency_samples)
        return result
    finally:
        for process in processes:
            process.stop()
        drop_database(url)


def _latency(prefix: str, port: int, key_file: Path, samples: int) -> dict[str, float]:
    token = issuer_from_settings(AuthSettings(dev_key_file=key_file)).mint(
        role="REGENCY_OFFICER", region="35.17"
    )
    http = httpx.Client(
        base_url=f"http://127.0.0.1:{port}",
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    household = registered(0).household_id  # decile 3: eligible for BLTS Kesra
    waits = []
    decile, version = 3, 1
    for _ in range(samples):
        new = 6 if decile == 3 else 3
        version += 1
        change = HouseholdDecileChanged(
            **_envelope(household, version),  # type: ignore[arg-type]
            household_id=household,
            previous_decile=decile,
            new_decile=new,
            snapshot_id="BENCH",
            as_of=date(2025, 10, 1),
            recorded_at=datetime.now(UTC),
        )
        expected = "INELIGIBLE" if new == 6 else "ELIGIBLE"
        started = time.perf_counter()
        asyncio.run(_produce(prefix + topics.REGISTRY, _messages([change])))
        while True:
            answer = http.get(f"/households/{household}/status").json()
            blts = next(p for p in answer["programs"] if p["program"] == "BLTS_KESRA")
            if blts["status"] == expected:
                break
            time.sleep(0.005)
        waits.append(time.perf_counter() - started)
        decile = new
    waits.sort()
    return {
        "status_latency_p50_s": statistics.median(waits),
        "status_latency_p99_s": waits[min(len(waits) - 1, round(0.99 * (len(waits) - 1)))],
        "status_latency_samples": samples,
    }
