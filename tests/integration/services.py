"""The real services as processes, started from their commands with environment only.

``ServiceStack`` gives each test its own topics (a unique ``BANSOS_TOPIC_PREFIX``), its
own PostgreSQL database per service and its own development signing key, and starts
``python -m bansos_<name> all`` the way a container would run it.
"""

from __future__ import annotations

import asyncio
import csv
import secrets
import socket
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import psycopg
from eventsourcing.cryptography import AESCipher

from bansos_contracts import topics
from bansos_contracts.envelope import Event
from bansos_contracts.kafka import decode
from bansos_libs.auth import AuthSettings, issuer_from_settings
from bansos_libs.kafka import read_to_end
from tests.fixtures.stack import create_topics
from tests.integration.processes import ServiceProcess

PUBLIC_TOPICS = (topics.REGISTRY, topics.OBJECTIONS, topics.ELIGIBILITY, topics.PAYOUT)


def free_port() -> int:
    """A TCP port nobody listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class ServiceStack:
    """Services of one test, sharing a broker, with their own topics and databases."""

    def __init__(
        self,
        kafka: str,
        new_database: Callable[[], str],
        folder: Path,
        partitions: int = 3,
    ) -> None:
        self.kafka = kafka
        self.folder = folder
        self.prefix = f"t{uuid.uuid4().hex[:8]}."
        with ThreadPoolExecutor(1) as pool:
            names = [self.topic(t) for t in PUBLIC_TOPICS]
            pool.submit(asyncio.run, create_topics(kafka, names, partitions)).result()
        self.new_database = new_database
        self.key_file = folder / "dev-ed25519.pem"
        self.cipher_key = AESCipher.create_key(32)
        self.code_key = secrets.token_hex(32)
        self.databases: dict[str, str] = {}
        self.ports: dict[str, int] = {}
        self.processes: dict[str, ServiceProcess] = {}

    def topic(self, name: str) -> str:
        """This stack's name of a public topic."""
        return self.prefix + name

    def database(self, service: str) -> str:
        """The service's database URL (created on first use)."""
        if service not in self.databases:
            self.databases[service] = self.new_database()
        return self.databases[service]

    def env(self, service: str) -> dict[str, str]:
        """The environment a service process gets: nothing else configures it."""
        if service not in self.ports:
            self.ports[service] = free_port()
        env = {
            "KAFKA_BOOTSTRAP_SERVERS": self.kafka,
            "BANSOS_TOPIC_PREFIX": self.prefix,
            "BANSOS_DATABASE_URL": self.database(service),
            "BANSOS_HTTP_PORT": str(self.ports[service]),
            "BANSOS_OTEL_EXPORTER": "none",
            "BANSOS_AUTH_DEV_KEY_FILE": str(self.key_file),
            "BANSOS_CIPHER_KEY": self.cipher_key,
            "BANSOS_CODE_KEY": self.code_key,
            "BANSOS_EVIDENCE_DIR": str(self.folder / "evidence"),
            "BANSOS_RELAY_CHECKPOINT_SECONDS": "1",
        }
        if "registry" in self.ports:
            env["BANSOS_REGISTRY_URL"] = self.url("registry")
        return env

    def url(self, service: str) -> str:
        """The service's HTTP base URL."""
        return f"http://127.0.0.1:{self.ports[service]}"

    def start(self, service: str, timeout: float = 60) -> ServiceProcess:
        """Start ``bansos-<service> all`` (the image's command) and wait until it is ready."""
        process = self.processes.get(service)
        if process is None:
            process = ServiceProcess.as_in_image(
                service, ["all"], self.env(service), self.folder / f"{service}.log"
            )
            self.processes[service] = process
        process.start()
        deadline = time.monotonic() + timeout
        while True:
            try:
                if httpx.get(f"{self.url(service)}/health/ready", timeout=2).status_code == 200:
                    return process
            except httpx.HTTPError:
                pass
            if not process.alive or time.monotonic() > deadline:
                raise AssertionError(f"{service} did not start:\n{process.output()[-3000:]}")
            time.sleep(0.2)

    def stop(self) -> None:
        """Stop every service gracefully."""
        for process in self.processes.values():
            process.stop()

    def token(self, role: str, region: str, subject: str | None = None) -> str:
        """A development token the stack's services accept."""
        issuer = issuer_from_settings(AuthSettings(dev_key_file=self.key_file))
        return issuer.mint(role=role, region=region, subject=subject)

    def query(self, service: str, statement: str, params: tuple[Any, ...] = ()) -> list[Any]:
        """Rows of a query on a service's own database (its read models)."""
        with psycopg.connect(self.database(service)) as conn:
            return list(conn.execute(statement, params).fetchall())

    def wait_for(self, condition: Callable[[], bool], seconds: float, what: str) -> None:
        """Poll until ``condition()`` holds; fail naming ``what`` after ``seconds``."""
        deadline = time.monotonic() + seconds
        while not condition():
            if time.monotonic() > deadline:
                logs = {n: p.output()[-1500:] for n, p in self.processes.items()}
                raise AssertionError(f"{what}: not within {seconds}s; logs: {logs}")
            time.sleep(0.1)

    def import_snapshot(self, rows: list[dict[str, str]], snapshot_id: str, day: int) -> None:
        """Write ``rows`` as a snapshot file and import it into the stack's registry
        (as of September ``day``, 2025), as ``bansosctl registry import`` would."""
        from bansos_libs.settings import ServiceSettings
        from bansos_registry.bootstrap import bootstrap

        path = self.folder / f"{snapshot_id}.csv"
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
        registry = bootstrap(
            ServiceSettings(
                service="registry",
                database_url=self.database("registry"),
                cipher_key=self.cipher_key,
            )
        )
        try:
            registry.importer.run(
                path,
                snapshot_id,
                date(2025, 9, day),
                actor={"role": "system", "id": "test", "region": None},
            )
        finally:
            registry.close()

    def published(self, topic: str) -> list[Event]:
        """Every event on one of this stack's topics (by its public name), in order."""

        async def read() -> list[Event]:
            return [
                decode(r.value, r.headers) async for r in read_to_end(self.kafka, self.topic(topic))
            ]

        with ThreadPoolExecutor(1) as pool:
            return pool.submit(asyncio.run, read()).result()

    def consumer_positions(self, service: str) -> dict[str, int]:
        """The service's consumer's tracked position per ``topic:partition``."""
        rows = self.query(
            service,
            f"SELECT application_name, max(notification_id) FROM {service}_tracking"
            " WHERE application_name LIKE %s GROUP BY application_name",
            (self.prefix + "%",),
        )
        return {name: int(position) for name, position in rows}

    def forget_consumed(self, service: str) -> None:
        """Delete the service's consumer tracking: it will consume from offset 0 again."""
        self.query(
            service,
            f"DELETE FROM {service}_tracking WHERE application_name LIKE %s RETURNING 1",
            (self.prefix + "%",),
        )
