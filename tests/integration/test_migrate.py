"""``bansos-<service> migrate``, the init step before a service starts in Kubernetes:
it creates every table the service needs, from nothing but environment variables, and
running it again changes nothing."""

from __future__ import annotations

import subprocess

import pytest

from tests.integration.processes import ServiceProcess
from tests.integration.services import ServiceStack

pytestmark = pytest.mark.integration

TABLES = {
    "registry": {"registry_events", "registry_tracking", "registry_households",
                 "registry_decile_history"},
    "objections": {"objections_events", "objections_tracking", "cases", "case_steps"},
    "eligibility": {"eligibility_events", "eligibility_tracking", "eligibility_decisions"},
    "payout": {"payout_events", "payout_tracking", "payouts"},
}  # fmt: skip
RELAY = {"bansos_view_tracking", "bansos_chain_heads", "bansos_chain_log"}


@pytest.mark.parametrize("service", sorted(TABLES))
def test_migrate_creates_every_table_once(stack: ServiceStack, service: str) -> None:
    process = ServiceProcess.as_in_image(service, ["migrate"], stack.env(service), stack.folder)
    for _ in range(2):
        done = subprocess.run(
            [*process.command, "migrate"], env=process.env, capture_output=True, timeout=120
        )
        assert done.returncode == 0, done.stdout.decode() + done.stderr.decode()
    tables = {
        row[0]
        for row in stack.query(
            service, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
        )
    }
    assert TABLES[service] | RELAY <= tables, sorted(tables)
