"""Registry → Kafka → shadow evaluation of a new BLTS Kesra ruleset, publishing nothing."""

from __future__ import annotations

import asyncio
import csv
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from eventsourcing.cryptography import AESCipher

from bansos_eligibility.registry_reader import read_registry
from bansos_eligibility.rules import decide, load_ruleset, shipped_rulesets, simulate
from bansos_eligibility.rules.model import PROGRAMS_DIR
from bansos_libs.outbox import OutboxRelay
from bansos_libs.settings import ServiceSettings
from bansos_registry.bootstrap import Registry, bootstrap
from bansos_registry.publishing import to_contract
from bansos_registry.sample import SampleSpec, write_snapshot

pytestmark = pytest.mark.integration


async def _relay_all(registry: Registry, topic: str, bootstrap_servers: str) -> None:
    relay = OutboxRelay(registry.app, topic, to_contract, bootstrap_servers)
    await relay.producer.start()
    await relay.recover()
    while await relay.relay_once():
        pass
    await relay.producer.stop()


def test_a_stricter_decile_limit_loses_exactly_the_decile_4_households(
    new_database: Callable[[], str],
    new_topic: Callable[..., str],
    kafka_bootstrap: str,
    tmp_path: Path,
) -> None:
    registry = bootstrap(
        ServiceSettings(
            service="registry", database_url=new_database(), cipher_key=AESCipher.create_key(32)
        )
    )
    snapshot = tmp_path / "s.csv"
    write_snapshot(snapshot, SampleSpec(households=500, seed=9))
    registry.importer.run(
        snapshot, "S-1", date(2025, 9, 1), actor={"role": "system", "id": "t", "region": None}
    )
    topic = new_topic("shadow", 3)
    asyncio.run(_relay_all(registry, topic, kafka_bootstrap))
    registry.close()

    book, unreadable = asyncio.run(read_registry(kafka_bootstrap, topic))
    assert (len(book), unreadable) == (500, 0)
    current = next(r for r in shipped_rulesets() if r.program == "BLTS_KESRA")
    eligible = {f.household_id for f in book if decide(current, f).status == "ELIGIBLE"}
    with snapshot.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert eligible == {r["household_id"] for r in rows if int(r["decile"]) <= 4}

    stricter = tmp_path / "blts-v2.yaml"
    text = (PROGRAMS_DIR / "blts-kesra-2025-10..2025-12.yaml").read_text()
    stricter.write_text(text.replace("value: 4", "value: 3").replace("version: 1", "version: 2"))
    report = simulate(current, load_ruleset(stricter), book)
    assert report.total.lost == sum(int(r["decile"]) == 4 for r in rows)
    assert report.total.gained == 0
    assert report.total.loss_reasons == {"DECILE_ABOVE_MAX": report.total.lost}
    assert sum(v.lost for v in report.villages) == report.total.lost
