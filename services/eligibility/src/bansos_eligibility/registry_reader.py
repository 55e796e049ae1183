"""Reading the registry topic once, from the beginning up to now (no consumer group).

Used for shadow evaluation: a snapshot of the register's public events, folded into
household facts, without committing offsets or publishing anything.
"""

from __future__ import annotations

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from bansos_contracts import topics
from bansos_contracts.kafka import ContractError, decode
from bansos_eligibility.registry_facts import FactsBook


async def read_registry(
    bootstrap_servers: str, topic: str = topics.REGISTRY
) -> tuple[FactsBook, int]:
    """The facts of every household on ``topic`` now, and how many messages were unreadable."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap_servers, enable_auto_commit=False)
    await consumer.start()
    book, unreadable = FactsBook(), 0
    try:
        tps = [TopicPartition(topic, p) for p in await _partitions(bootstrap_servers, topic)]
        consumer.assign(tps)
        ends = await consumer.end_offsets(tps)
        for tp in tps:
            consumer.seek(tp, 0)
        remaining = {tp for tp in tps if ends[tp] > 0}
        while remaining:
            for tp, records in (await consumer.getmany(timeout_ms=1000)).items():
                for record in records:
                    if record.offset >= ends[tp]:
                        continue
                    try:
                        book.apply(decode(record.value, record.headers))
                    except ContractError:
                        unreadable += 1
                if records and records[-1].offset >= ends[tp] - 1:
                    remaining.discard(tp)
        return book, unreadable
    finally:
        await consumer.stop()


async def _partitions(bootstrap_servers: str, topic: str) -> list[int]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers)
    await admin.start()
    try:
        [described] = await admin.describe_topics([topic])
    finally:
        await admin.close()
    partitions = sorted(p["partition"] for p in described.get("partitions", []))
    if described.get("error_code") or not partitions:
        raise ValueError(f"topic {topic} does not exist")
    return partitions
