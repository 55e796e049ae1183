"""Payout: payouts scheduled per second from approved lists, collections per second by HTTP.

The payout service runs as deployed: a ``consume`` process, a ``relay`` process (which
also keeps the read models) and an ``api`` process, PostgreSQL event store.

- scheduled/s: N registered households are consumed first (untimed: the service must
  know each household's programs and bank); then regency-approved BLTS Kesra lists
  covering all N are published on the eligibility topic, and the payouts stored by the
  consumer are counted from the first to the last; the same for ``PayoutScheduled``
  published on the payout topic by the relay;
- collections/s: M PT Pos payouts are collected through ``POST /collections`` with their
  signed codes, by C concurrent counter clients, from the first request to the last.
"""

from __future__ import annotations

import asyncio
import secrets
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import psycopg

from bansos_contracts import topics
from bansos_contracts.eligibility import BeneficiaryListApproved
from bansos_contracts.enums import ListStage, Program
from bansos_contracts.envelope import Actor
from bansos_libs.auth import AuthSettings, issuer_from_settings
from bansos_payout.codes import CodeSigner
from benchmarks.eligibility import PARTITIONS, _messages, _published, _rate, registered
from benchmarks.pipeline import _produce
from benchmarks.stack import (
    KAFKA,
    drop_database,
    new_database,
    service_env,
    service_processes,
)
from tests.fixtures.payout import BLTS_TERMS
from tests.fixtures.stack import create_topics
from tests.integration.processes import ServiceProcess
from tests.integration.services import free_port

PERIOD = "2025-10..2025-12"
TERMS = BLTS_TERMS


def approved_lists(households: int) -> list[BeneficiaryListApproved]:
    """One regency-approved BLTS Kesra list per village, covering all ``households``."""
    members: dict[str, list[str]] = {}
    for n in range(households):
        event = registered(n)
        members.setdefault(event.region.village, []).append(event.household_id)
    return [
        BeneficiaryListApproved(
            event_id=uuid.uuid4(),
            occurred_at=datetime.now(UTC),
            subject_id=f"BLTS_KESRA:{PERIOD}:{village}",
            subject_version=2,
            correlation_id=str(uuid.uuid4()),
            causation_id=None,
            actor=Actor.system("eligibility"),
            list_id=f"BLTS_KESRA:{PERIOD}:{village}",
            program=Program.BLTS_KESRA,
            period=PERIOD,
            village=village,
            household_ids=tuple(ids),
            stage=ListStage.REGENCY_APPROVED,
            approved_by=Actor(role="REGENCY_OFFICER", id="bench", region="35.17"),
            ruleset_id="blts-kesra-2025q4",
            payment=TERMS,
        )
        for village, ids in members.items()
    ]


def _count(url: str, topic: str) -> int:
    try:
        with psycopg.connect(url) as conn:
            row = conn.execute(
                "SELECT count(*) FROM payout_events WHERE topic LIKE %s", (f"%{topic}",)
            ).fetchone()
    except psycopg.errors.UndefinedTable:
        return 0
    return int(row[0]) if row else 0


def _wait(what: str, done: Any, processes: list[ServiceProcess], logs: Path) -> None:
    deadline = time.monotonic() + 3600
    while not done():
        if time.monotonic() > deadline or not all(p.alive for p in processes):
            raise RuntimeError(f"payout did not finish {what}; see {logs}")
        time.sleep(0.5)


def run(households: int, collections: int, clients: int, logs: Path) -> dict[str, float]:
    """Scheduling and collection rates."""
    prefix = f"bench{uuid.uuid4().hex[:6]}."
    names = [prefix + t for t in (topics.REGISTRY, topics.ELIGIBILITY, topics.PAYOUT)]
    asyncio.run(create_topics(KAFKA, names, PARTITIONS))
    url = new_database()
    key_file = logs / "bench-ed25519.pem"
    code_key = secrets.token_hex(32)
    port = free_port()
    env = service_env(prefix, url, key_file) | {"BANSOS_CODE_KEY": code_key}
    asyncio.run(
        _produce(prefix + topics.REGISTRY, _messages([registered(n) for n in range(households)]))
    )
    processes = service_processes("payout", env, logs, port)
    try:
        for process in processes:
            process.start()
        _wait(
            "taking the registry",
            lambda: _count(url, "Beneficiary.Noted") >= households,
            processes,
            logs,
        )
        asyncio.run(
            _produce(prefix + topics.ELIGIBILITY, _messages(list(approved_lists(households))))
        )
        stored: list[tuple[float, int]] = []
        published: list[tuple[float, int]] = []
        while not (stored and stored[-1][1] >= households and published[-1][1] >= households):
            now = time.perf_counter()
            stored.append((now, _count(url, "Payout.Scheduled")))
            published.append((now, asyncio.run(_published(prefix + topics.PAYOUT))))
            if not all(p.alive for p in processes):
                raise RuntimeError(f"payout stopped; see {logs}")
            time.sleep(0.5)
        result: dict[str, float] = {
            "households": households,
            "payouts_scheduled_per_s": _rate(stored, households),
            "payouts_published_per_s": _rate(published, households),
        }
        result |= _collections(
            url, port, key_file, CodeSigner(bytes.fromhex(code_key)), collections, clients
        )
        return result
    finally:
        for process in processes:
            process.stop()
        drop_database(url)


def _collections(
    url: str, port: int, key_file: Path, signer: CodeSigner, count: int, clients: int
) -> dict[str, float]:
    """``count`` collections by ``clients`` counters, each a thread with its own keep-alive
    connection (httpx's async pool under many concurrent requests measures itself, not
    the server: about 240 requests/s even for ``/health/live`` on this machine)."""
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT payout_id FROM payouts WHERE channel = 'POS' AND state = 'SCHEDULED'"
            " ORDER BY payout_id LIMIT %s",
            (count,),
        ).fetchall()
    ids = [row[0] for row in rows]
    token = issuer_from_settings(AuthSettings(dev_key_file=key_file)).mint(
        role="CHANNEL_OPERATOR", region="35.17"
    )
    shares = [ids[n::clients] for n in range(clients)]
    refused: list[str] = []

    def counter(share: list[str]) -> None:
        with httpx.Client(
            base_url=f"http://127.0.0.1:{port}",
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        ) as client:
            for payout in share:
                answer = client.post(
                    "/collections",
                    json={
                        "payout_id": payout,
                        "collection_code": signer.code_for(payout, 1),
                        "amount": 900_000,
                        "channel_reference": f"POS-{payout.rsplit(':', 1)[1]}",
                        "collected_at": "2025-11-25T03:00:00Z",
                    },
                )
                if answer.status_code != 201:
                    refused.append(f"{answer.status_code} {answer.text[:200]}")

    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(counter, shares))
    elapsed = time.perf_counter() - started
    if refused:
        raise RuntimeError(f"{len(refused)} collections refused, e.g. {refused[0]}")
    return {
        "collections": len(ids),
        "collection_clients": clients,
        "collections_per_s": len(ids) / elapsed,
    }
