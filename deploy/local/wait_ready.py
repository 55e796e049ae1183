#!/usr/bin/env python3
"""Wait until a local service really answers, retrying with short back-off.

    wait_ready.py kafka BOOTSTRAP [--timeout S] [--pid PID]
    wait_ready.py postgres HOST PORT [--timeout S] [--user U --password P --dbname D] [--pid PID]
    wait_ready.py http URL [--timeout S] [--pid PID]

Kafka: a metadata request must list a broker and a controller. PostgreSQL: `select 1`
with psycopg. HTTP: GET must return 200. --pid makes it give up as soon as that process
has exited. Exit status 0 when ready, 1 on timeout or when the process died.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import time
import urllib.request


async def kafka_probe(bootstrap: str) -> str:
    from aiokafka.admin import AIOKafkaAdminClient

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=5000)
    try:
        await admin.start()
        info = await admin.describe_cluster()
    finally:
        await admin.close()
    if not info["brokers"] or info.get("controller_id", -1) in (None, -1):
        raise RuntimeError(f"metadata has no broker/controller yet: {info}")
    brokers, controller = len(info["brokers"]), info["controller_id"]
    return f"cluster {info['cluster_id']}, {brokers} broker(s), controller {controller}"


def postgres_probe(args: argparse.Namespace) -> str:
    import psycopg

    with psycopg.connect(
        host=args.host,
        port=args.port,
        user=args.user,
        password=args.password,
        dbname=args.dbname,
        connect_timeout=3,
    ) as conn:
        conn.execute("select 1").fetchone()
        return f"{args.user}@{args.dbname}, server {conn.info.server_version}"


def http_probe(url: str) -> str:
    if not url.startswith(("http://", "https://")):
        raise ValueError(f"not an http(s) URL: {url}")
    with urllib.request.urlopen(url, timeout=3) as resp:  # noqa: S310 (scheme checked above)
        if resp.status != 200:
            raise RuntimeError(f"HTTP {resp.status}")
    return "HTTP 200"


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except (FileNotFoundError, IndexError):
        return False


def probe_once(args: argparse.Namespace) -> str:
    if args.what == "kafka":
        return asyncio.run(kafka_probe(args.bootstrap))
    if args.what == "postgres":
        return postgres_probe(args)
    return http_probe(args.url)


def main() -> int:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = p.add_subparsers(dest="what", required=True)
    k = sub.add_parser("kafka")
    k.add_argument("bootstrap")
    g = sub.add_parser("postgres")
    g.add_argument("host")
    g.add_argument("port", type=int)
    g.add_argument("--user", default=os.environ.get("PGUSER", "bansos"))
    g.add_argument("--password", default=os.environ.get("PGPASSWORD", "bansos"))
    g.add_argument("--dbname", default="postgres")
    h = sub.add_parser("http")
    h.add_argument("url")
    for s in (k, g, h):
        s.add_argument("--timeout", type=float, default=60.0)
        s.add_argument("--pid", type=int, help="give up when this process exits")
    args = p.parse_args()
    logging.basicConfig(level=logging.CRITICAL)  # aiokafka logs every refused connection

    target = {"kafka": "bootstrap", "postgres": "host", "http": "url"}[args.what]
    target = getattr(args, target) + (f":{args.port}" if args.what == "postgres" else "")
    start = time.monotonic()
    deadline, delay, last = start + args.timeout, 0.1, "no attempt"
    while True:
        try:
            detail = probe_once(args)
            print(f"{args.what} ready at {target} after {time.monotonic() - start:.1f}s ({detail})")
            return 0
        except Exception as e:  # anything short of success means: not ready yet
            last = f"{type(e).__name__}: {e}".strip()
        if args.pid and not alive(args.pid):
            print(
                f"{args.what} at {target}: process {args.pid} exited; last error: {last}",
                file=sys.stderr,
            )
            return 1
        if time.monotonic() + delay > deadline:
            print(
                f"{args.what} at {target} not ready after {args.timeout:g}s; last error: {last}",
                file=sys.stderr,
            )
            return 1
        time.sleep(delay)
        delay = min(delay * 1.5, 0.5)


if __name__ == "__main__":
    sys.exit(main())
