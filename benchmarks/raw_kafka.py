"""The ceiling: the same encoded messages produced (idempotent, acks=all) and consumed
by plain aiokafka, producer and consumer in separate processes, no database at all.

    python -m benchmarks.raw_kafka consume TOPIC COUNT   (prints seconds, first→last)
"""

from __future__ import annotations

import asyncio
import sys
import time

from aiokafka import AIOKafkaConsumer

from benchmarks.stack import KAFKA


async def consume(topic: str, count: int) -> float:
    """Consume ``count`` messages; seconds from the first to the last."""
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=KAFKA,
        group_id=f"raw-{topic}",
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        max_poll_records=2000,
        fetch_max_bytes=32 * 1024 * 1024,
        max_partition_fetch_bytes=8 * 1024 * 1024,
    )
    await consumer.start()
    print("ready", flush=True)
    seen, first = 0, 0.0
    try:
        while seen < count:
            batch = await consumer.getmany(timeout_ms=200, max_records=2000)
            for records in batch.values():
                if records and not first:
                    first = time.perf_counter()
                seen += len(records)
        return time.perf_counter() - first
    finally:
        await consumer.stop()


if __name__ == "__main__":
    seconds = asyncio.run(consume(sys.argv[2], int(sys.argv[3])))
    print(f"{seconds:.6f}", flush=True)
