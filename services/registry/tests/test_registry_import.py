"""Importing snapshots on real PostgreSQL and Kafka: exactly the expected events, in
order per household; a re-import produces none; no NIK or KK number leaks anywhere."""

from __future__ import annotations

import asyncio
import csv
from collections import defaultdict
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import psycopg
import pytest
from eventsourcing.cryptography import AESCipher

from bansos_contracts.kafka import decode
from bansos_libs.kafka import read_to_end
from bansos_libs.outbox import OutboxRelay
from bansos_libs.settings import ServiceSettings
from bansos_registry.bootstrap import Registry, bootstrap
from bansos_registry.publishing import to_contract
from bansos_registry.sample import SampleSpec, evolve_snapshot, write_snapshot

pytestmark = pytest.mark.integration

ACTOR = {"role": "system", "id": "test-import", "region": None}
PARTITIONS = 3


def _personal_numbers(*files: Path) -> set[str]:
    numbers: set[str] = set()
    for path in files:
        with path.open(newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                numbers |= {row["head_nik"], row["kk_number"]}
                if row["kks_number"]:
                    numbers.add(row["kks_number"])
    return numbers


async def _relay_and_read(registry: Registry, bootstrap_servers: str, topic: str) -> list[Any]:
    relay = OutboxRelay(registry.app, topic, to_contract, bootstrap_servers)
    await relay.producer.start()
    await relay.recover()
    while await relay.relay_once():
        pass
    await relay.producer.stop()
    return [record async for record in read_to_end(bootstrap_servers, topic)]


def test_two_snapshots_make_exactly_the_expected_events(
    new_database: Callable[[], str],
    new_topic: Callable[..., str],
    kafka_bootstrap: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    url = new_database()
    settings = ServiceSettings(
        service="registry", database_url=url, cipher_key=AESCipher.create_key(32)
    )
    registry = bootstrap(settings)
    first, second = tmp_path / "s1.csv", tmp_path / "s2.csv"
    write_snapshot(first, SampleSpec(households=400, seed=3))
    evolution = evolve_snapshot(
        first, second, seed=4, decile_changes=20, moves=10, deaths=5, removals=5, additions=15
    )

    one = registry.importer.run(first, "DTSEN-3517-2025-09", date(2025, 9, 1), actor=ACTOR)
    assert (one.registered, one.changed, one.deactivated, one.rejected) == (400, 0, 0, 0)
    two = registry.importer.run(second, "DTSEN-3517-2025-10", date(2025, 10, 1), actor=ACTOR)
    assert two.registered == 15
    assert two.changed == 30
    assert two.deactivated == 10
    assert two.unchanged == 400 - 30 - 10
    stored = registry.app.recorder.max_notification_id()

    again = registry.importer.run(second, "DTSEN-3517-2025-10", date(2025, 10, 1), actor=ACTOR)
    assert again.already_imported
    assert registry.app.recorder.max_notification_id() == stored

    registry.households.catch_up()
    topic = new_topic("registry", PARTITIONS)
    records = asyncio.run(_relay_and_read(registry, kafka_bootstrap, topic))
    by_household: dict[str, list[Any]] = defaultdict(list)
    snapshots = []
    for record in sorted(records, key=lambda r: (r.partition, r.offset)):
        event = decode(record.value, record.headers)
        if event.event_type == "SnapshotImported":
            snapshots.append(event)
        else:
            by_household[event.household_id].append(event)  # type: ignore[attr-defined]

    assert [s.counts.registered for s in snapshots] == [400, 15]
    kinds = {h: [e.event_type for e in events] for h, events in by_household.items()}
    for household_id, (old, new) in evolution.decile_changes.items():
        # A new decile comes with new income figures: an update may follow the change.
        assert kinds[household_id][:2] == ["HouseholdRegistered", "HouseholdDecileChanged"]
        assert kinds[household_id][2:] in ([], ["HouseholdUpdated"])
        if len(kinds[household_id]) == 3:
            assert set(by_household[household_id][2].changes) == {"per_capita_income"}
        change = by_household[household_id][1]
        assert (change.previous_decile, change.new_decile) == (old, new)
        assert change.as_of == date(2025, 10, 1)
    for household_id in evolution.moves:
        assert kinds[household_id] == ["HouseholdRegistered", "HouseholdUpdated"]
        assert "village_code" in by_household[household_id][1].changes
    for household_id in [*evolution.deaths, *evolution.removals]:
        assert kinds[household_id] == ["HouseholdRegistered", "HouseholdDeactivated"]
        assert by_household[household_id][1].reason == "REMOVED_FROM_DTSEN"
    for household_id in evolution.additions:
        assert kinds[household_id] == ["HouseholdRegistered"]
        assert by_household[household_id][0].snapshot_id == "DTSEN-3517-2025-10"
    changed = {*evolution.decile_changes, *evolution.moves, *evolution.deaths, *evolution.removals}
    untouched = [h for h in kinds if h not in changed and h not in evolution.additions]
    assert len(untouched) == 400 - 40
    assert all(kinds[h] == ["HouseholdRegistered"] for h in untouched)

    # No NIK, KK or KKS number on the topic, in the stored bytes, the views or the logs.
    secrets = _personal_numbers(first, second)
    assert len(secrets) > 800
    on_topic = b"".join(
        (r.value or b"") + b"".join(v or b"" for _, v in r.headers) for r in records
    )
    with psycopg.connect(url) as conn:
        stored_bytes = b"".join(
            bytes(r[0]) for r in conn.execute("SELECT state FROM registry_events")
        )
        views = str(conn.execute("SELECT * FROM registry_households").fetchall())
        views += str(conn.execute("SELECT * FROM registry_decile_history").fetchall())
    logs = capsys.readouterr()
    for number in secrets:
        encoded = number.encode()
        assert encoded not in on_topic
        assert encoded not in stored_bytes
        assert number not in views
        assert number not in logs.out + logs.err
    registry.close()
