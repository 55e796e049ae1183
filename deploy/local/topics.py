#!/usr/bin/env python3
"""Create Kafka topics if they are missing (idempotent), then wait until every
partition has a leader.

    topics.py [--bootstrap 127.0.0.1:9092] [--partitions 6] [--replication-factor 1]
              [--config key=value ...] TOPIC [TOPIC ...]

Existing topics are left alone (a differing partition count is reported, not changed).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import for_code

TOPIC_ALREADY_EXISTS = 36


async def ensure(args: argparse.Namespace) -> int:
    admin = AIOKafkaAdminClient(bootstrap_servers=args.bootstrap, request_timeout_ms=15000)
    await admin.start()
    try:
        existing = {t["topic"]: len(t["partitions"]) for t in await admin.describe_topics()}
        missing = [t for t in dict.fromkeys(args.topics) if t not in existing]
        for t in args.topics:
            if t in existing:
                note = (
                    ""
                    if existing[t] == args.partitions
                    else f" (wanted {args.partitions}, left unchanged)"
                )
                print(f"exists  {t}: {existing[t]} partitions{note}")
        if missing:
            configs = dict(c.split("=", 1) for c in args.config)
            resp = await admin.create_topics(
                [
                    NewTopic(t, args.partitions, args.replication_factor, topic_configs=configs)
                    for t in missing
                ]
            )
            for name, code, *rest in resp.topic_errors:
                if code and code != TOPIC_ALREADY_EXISTS:
                    msg = rest[0] if rest else ""
                    print(f"error   {name}: {for_code(code).__name__} {msg}", file=sys.stderr)
                    return 1
                print(f"created {name}: {args.partitions} partitions")
        # Wait until the metadata shows a leader for every partition of every topic.
        deadline = time.monotonic() + 30
        while True:
            meta = await admin.describe_topics(list(dict.fromkeys(args.topics)))
            if all(
                t["error_code"] == 0
                and t["partitions"]
                and all(p["leader"] >= 0 for p in t["partitions"])
                for t in meta
            ):
                return 0
            if time.monotonic() > deadline:
                print(f"topics not ready after 30s: {meta}", file=sys.stderr)
                return 1
            await asyncio.sleep(0.2)
    finally:
        await admin.close()


def main() -> int:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--bootstrap", default="127.0.0.1:9092")
    p.add_argument("--partitions", type=int, default=6)
    p.add_argument("--replication-factor", type=int, default=1)
    p.add_argument("--config", action="append", default=[], metavar="KEY=VALUE")
    p.add_argument("topics", nargs="+", metavar="TOPIC")
    return asyncio.run(ensure(p.parse_args()))


if __name__ == "__main__":
    sys.exit(main())
