"""Liveness and readiness: ``/health/live`` and ``/health/ready``.

Live means the process's event loop answers. Ready means the broker answers a metadata
request and the event store answers a query now; each check reports its own status, so
an operator sees which dependency is down.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import anyio
from aiokafka.admin import AIOKafkaAdminClient
from fastapi import APIRouter
from fastapi.responses import JSONResponse

from bansos_libs.eventstore import ServiceApplication
from bansos_libs.kafka import connection

Check = Callable[[], Awaitable[None]]


def store_check(app: ServiceApplication) -> Check:
    """The event store answers a query."""

    async def check() -> None:
        await anyio.to_thread.run_sync(app.recorder.max_notification_id)

    return check


class BrokerCheck:
    """The Kafka broker answers a metadata request (one admin client, reused)."""

    def __init__(self, bootstrap_servers: str) -> None:
        self.bootstrap_servers = bootstrap_servers
        self._client: AIOKafkaAdminClient | None = None

    async def __call__(self) -> None:
        if self._client is None:
            client = AIOKafkaAdminClient(
                **connection(self.bootstrap_servers), request_timeout_ms=3000
            )
            await client.start()
            self._client = client
        await self._client.describe_cluster()

    async def close(self) -> None:
        """Close the admin client, if one was opened."""
        if self._client is not None:
            await self._client.close()
            self._client = None


@dataclass
class Health:
    """Named readiness checks, each bounded by a timeout and cached briefly."""

    checks: dict[str, Check] = field(default_factory=dict)
    timeout_seconds: float = 3.0
    cache_seconds: float = 1.0
    _cached: tuple[float, bool, dict[str, str]] | None = None

    async def ready(self) -> tuple[bool, dict[str, str]]:
        """Run every check; (all ok, name → "ok" or the error)."""
        now = time.monotonic()
        if self._cached and now - self._cached[0] < self.cache_seconds:
            return self._cached[1], self._cached[2]
        results: dict[str, str] = {}
        for name, check in self.checks.items():
            try:
                await asyncio.wait_for(check(), self.timeout_seconds)
                results[name] = "ok"
            except Exception as error:
                results[name] = f"down: {type(error).__name__}: {error}"[:300]
        ok = all(v == "ok" for v in results.values())
        self._cached = (now, ok, results)
        return ok, results


def health_router(health: Health, service: str) -> APIRouter:
    """The two probe endpoints, for Kubernetes and for ``make run``."""
    router = APIRouter(tags=["health"])

    @router.get("/health/live")
    async def live() -> dict[str, str]:
        return {"status": "live", "service": service}

    @router.get("/health/ready", response_model=None)
    async def ready() -> JSONResponse:
        ok, checks = await health.ready()
        return JSONResponse(
            {"status": "ready" if ok else "not ready", "service": service, "checks": checks},
            status_code=200 if ok else 503,
        )

    return router
