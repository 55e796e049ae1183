"""The real stack for benchmarks: the local broker and PostgreSQL, fresh topics and databases."""

from __future__ import annotations

import asyncio
import os
import subprocess
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

from tests.fixtures.stack import create_topics
from tests.integration.processes import ServiceProcess
from tests.integration.services import free_port

ROOT = Path(__file__).resolve().parents[1]
KAFKA = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
ADMIN_URL = os.environ.get(
    "BANSOS_TEST_DATABASE_URL", "postgresql://bansos:bansos@127.0.0.1:5433/postgres"
)


def start_stack() -> list[str]:
    """Start the local broker and PostgreSQL unless configured elsewhere or running;
    returns the scripts of the servers started here, for ``stop_stack``."""
    started = []
    for variable, script in (
        ("KAFKA_BOOTSTRAP_SERVERS", "kafka.sh"),
        ("BANSOS_TEST_DATABASE_URL", "postgres.sh"),
    ):
        if variable in os.environ:
            continue
        path = ROOT / "deploy/local" / script
        if subprocess.run([path, "status"], capture_output=True, check=False).returncode != 0:
            started.append(script)
        subprocess.run([path, "start"], check=True)
    return started


def stop_stack(started: list[str]) -> None:
    """Stop the servers that ``start_stack`` started."""
    for script in started:
        subprocess.run([ROOT / "deploy/local" / script, "stop"], check=False)


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
    for attempt in range(10):
        try:
            with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            return
        except psycopg.errors.InsufficientPrivilege:
            # An autovacuum worker (the server's own role) is on it; it finishes soon.
            time.sleep(1 + attempt)
    print(f"could not drop database {name} (autovacuum busy); drop it later")


def service_env(prefix: str, database_url: str, key_file: Path) -> dict[str, str]:
    """The environment of a benchmarked service process: nothing else configures it."""
    return {
        "KAFKA_BOOTSTRAP_SERVERS": KAFKA,
        "BANSOS_TOPIC_PREFIX": prefix,
        "BANSOS_DATABASE_URL": database_url,
        "BANSOS_OTEL_EXPORTER": "none",
        "BANSOS_AUTH_DEV_KEY_FILE": str(key_file),
        "BANSOS_LOG_LEVEL": "WARNING",
    }


def service_processes(
    service: str, env: dict[str, str], logs: Path, api_port: int
) -> list[ServiceProcess]:
    """A service as deployed: ``consume``, ``relay`` and ``api`` processes (not started)."""
    return [
        ServiceProcess(
            f"bansos_{service}",
            [role],
            {**env, "BANSOS_HTTP_PORT": str(port)},
            logs / f"{service}-{role}.log",
        )
        for role, port in (("consume", free_port()), ("relay", free_port()), ("api", api_port))
    ]
