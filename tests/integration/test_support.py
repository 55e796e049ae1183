"""Small helpers shared by the integration tests."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime

from bansos_contracts.envelope import Actor
from bansos_contracts.registry import HouseholdRegistered
from bansos_contracts.values import Region, VulnerabilityFlags


def registered_event(household_id: str, village: str = "35.17.01.2001") -> HouseholdRegistered:
    """A valid ``HouseholdRegistered`` for ``household_id``."""
    return HouseholdRegistered(
        event_id=uuid.uuid4(),
        occurred_at=datetime.now(UTC),
        subject_id=household_id,
        subject_version=1,
        correlation_id=str(uuid.uuid4()),
        causation_id=None,
        actor=Actor.system("registry"),
        household_id=household_id,
        region=Region.of_village(village),
        decile=3,
        member_count=4,
        flags=VulnerabilityFlags(),
        snapshot_id="test",
        as_of=date(2025, 10, 1),
    )


async def wait_until(condition: Callable[[], bool], seconds: float) -> None:
    """Wait (polling) until ``condition()`` holds; fail after ``seconds``."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {seconds}s")
        await asyncio.sleep(0.05)
