"""The real stack for benchmarks: the local broker and PostgreSQL, fresh topics and databases."""

from __future__ import annotations

import asyncio
import os
import subprocess
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

from tests.fixtures.stack import create_topics

ROOT = Path(__file__).resolve().parents[1]
KAFKA = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
ADMIN_URL = os.environ.get(
    "BANSOS_TEST_DATABASE_URL", "postgresql://bansos:bansos@127.0.0.1:5433/postgres"
)


def start_stack() -> None:
    """Start the local broker and PostgreSQL (idempotent) unless configured elsewhere."""
    if "KAFKA_BOOTSTRAP_SERVERS" not in os.environ:
        subprocess.run([ROOT / "deploy/local/kafka.sh", "start"], check=True)
    if "BANSOS_TEST_DATABASE_URL" not in os.environ:
        subprocess.run([ROOT / "deploy/local/postgres.sh", "start"], check=True)


def new_topic(prefix: str, partitions: int = 6) -> str:
    """A fresh topic."""
    name = f"bench.{prefix}.{uuid.uuid4().hex[:8]}"
    asyncio.run(create_topics(KAFKA, [name], partitions))
    return name


def new_database() -> str:
    """A fresh, empty PostgreSQL database; its URL."""
    name = f"bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return urlunsplit(urlsplit(ADMIN_URL)._replace(path=f"/{name}"))


def drop_database(url: str) -> None:
    """Drop a database made by ``new_database``."""
    name = urlsplit(url).path.lstrip("/")
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
