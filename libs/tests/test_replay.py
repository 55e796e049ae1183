"""Read models replayed from the event store and compared with the live ones, on every
backend: the payout and eligibility services, fed as their consumers would be."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest
from eventsourcing.domain import Aggregate, event
from pydantic import SecretStr

from bansos_contracts.eligibility import (
    BeneficiaryListApproved,
    EligibilityDecided,
    ReasonCode,
)
from bansos_contracts.enums import Bank, EligibilityStatus, ListStage, Program
from bansos_contracts.envelope import Event
from bansos_contracts.examples import example
from bansos_contracts.registry import HouseholdDecileChanged, HouseholdRegistered
from bansos_contracts.values import Region, VulnerabilityFlags
from bansos_eligibility import bootstrap as eligibility_bootstrap
from bansos_eligibility.lists import ListService
from bansos_libs.context import ActorDict
from bansos_libs.eventstore import ServiceApplication
from bansos_libs.replay import (
    PositionError,
    ReplayReport,
    ScratchDatabase,
    compare,
    replay_view,
    verify,
)
from bansos_libs.runtime import ServiceDefinition
from bansos_libs.settings import ServiceSettings
from bansos_libs.views import Sql, View, ViewDatabase, ViewUpdater
from bansos_payout import bootstrap as payout_bootstrap
from bansos_payout.application import PayoutSettings
from tests.fixtures.consumed import handle
from tests.fixtures.payout import BLTS_TERMS

VILLAGE = "35.17.01.2001"
PERIOD = "2025-10..2025-12"
BLTS = ("BLTS_KESRA", PERIOD)
LIST_ID = f"BLTS_KESRA:{PERIOD}:{VILLAGE}"


def registered(household_id: str, decile: int = 2, **overrides: Any) -> HouseholdRegistered:
    return example(
        HouseholdRegistered,
        household_id=household_id,
        decile=decile,
        region=Region.of_village(VILLAGE),
        flags=VulnerabilityFlags(has_elderly=True),
        per_capita_income=400_000,
        **overrides,
    )


@dataclass
class Tamper:
    """One live row changed, one deleted, one added, and how each must be reported."""

    update: str
    changed: tuple[str, str, Any, Any]
    """table, column, the tampered (live) value, the replayed value"""
    delete: str
    deleted: str
    insert: str
    inserted: str


@dataclass
class Built:
    """A service fed with realistic events, its live views caught up."""

    service: Any
    definition: ServiceDefinition
    tamper: Tamper
    more: list[Event]
    """Events still to come (stored later without the views catching up)."""

    @property
    def settings(self) -> ServiceSettings:
        settings: ServiceSettings = self.service.settings
        return settings


def payout_service(settings: ServiceSettings) -> Built:
    service = payout_bootstrap.bootstrap(settings, PayoutSettings(code_key=SecretStr("5a" * 32)))
    households = [("HH-1", (), None), ("HH-2", (Program.PKH,), Bank.BNI), ("HH-3", (), None)]
    terms = BLTS_TERMS
    events: list[Event] = [
        registered(household, programs=programs, kks_bank=bank)
        for household, programs, bank in households
    ]
    events.append(
        example(
            BeneficiaryListApproved,
            list_id=LIST_ID,
            subject_id=LIST_ID,
            village=VILLAGE,
            household_ids=tuple(h for h, _, _ in households),
            stage=ListStage.REGENCY_APPROVED,
            exclusions=(),
            ruleset_id="blts-kesra-2025q4",
            payment=terms,
            subject_version=2,
        )
    )
    events.append(  # HH-3 turns ineligible: its payout is cancelled
        example(
            EligibilityDecided,
            event_id=uuid.uuid4(),
            household_id="HH-3",
            subject_id="HH-3",
            status=EligibilityStatus.INELIGIBLE,
            previous_status=None,
            reason_codes=(ReasonCode(code="DECILE_ABOVE_MAX", detail="6>4"),),
            subject_version=2,
        )
    )
    handle(service, events)
    hh1 = f"BLTS_KESRA:{PERIOD}:HH-1"
    tamper = Tamper(
        update=f"UPDATE payouts SET state = 'FAILED' WHERE payout_id = '{hh1}'",
        changed=("payouts", "state", "FAILED", "SCHEDULED"),
        delete="DELETE FROM payout_beneficiaries WHERE household_id = 'HH-2'",
        deleted="payout_beneficiaries (household_id='HH-2')",
        insert="INSERT INTO payout_sptjm VALUES"
        f" ('BLTS_KESRA', '{PERIOD}', '{VILLAGE}', 'SPTJM/X', 'nobody', '2025-12-01')",
        inserted=f"payout_sptjm (program='BLTS_KESRA', period='{PERIOD}', village='{VILLAGE}')",
    )
    return Built(service, payout_bootstrap.DEFINITION, tamper, [registered("HH-4")])


def eligibility_service(settings: ServiceSettings) -> Built:
    service = eligibility_bootstrap.bootstrap(settings)
    handle(service, [registered("HH-1", 1), registered("HH-2", 2), registered("HH-3", 9)])
    handle(
        service,
        [
            example(
                HouseholdDecileChanged,
                household_id="HH-2",
                previous_decile=2,
                new_decile=3,
                subject_version=2,
            )
        ],
    )
    lists = ListService(service.app, service.view, service.rulesets)
    officer: ActorDict = {"role": "VILLAGE_OPERATOR", "id": "op", "region": VILLAGE}
    excluded = {"HH-2": {"reason": "MOVED", "note": "pindah ke Surabaya"}}
    lists.verify(*BLTS, VILLAGE, valid=["HH-1"], excluded=excluded, notes="", actor=officer)
    service.view.catch_up()
    tamper = Tamper(
        update="UPDATE eligibility_decisions SET ruleset_version = 99"
        " WHERE household_id = 'HH-1' AND program = 'BLTS_KESRA'",
        changed=("eligibility_decisions", "ruleset_version", 99, 1),
        delete="DELETE FROM eligibility_list_entries WHERE household_id = 'HH-2'",
        deleted=f"eligibility_list_entries (list_id='{LIST_ID}', household_id='HH-2')",
        insert="INSERT INTO eligibility_cases VALUES"
        " ('HH-9', 'CASE-9', 'OBJECTION', 'OPEN', NULL, NULL, 'NONE', '2025-11-01', NULL)",
        inserted="eligibility_cases (household_id='HH-9', case_id='CASE-9')",
    )
    return Built(service, eligibility_bootstrap.DEFINITION, tamper, [registered("HH-4", 3)])


@pytest.fixture(params=["payout", "eligibility"])
def built(
    request: pytest.FixtureRequest, store_settings: Callable[[str], ServiceSettings]
) -> Iterator[Built]:
    """Each service with realistic events, on each backend."""
    make = payout_service if request.param == "payout" else eligibility_service
    result = make(store_settings(request.param))
    yield result
    result.service.close()


def execute(built: Built, *statements: str) -> None:
    with built.service.view.database.transaction() as sql:
        for statement in statements:
            sql.execute(statement)


def stored(built: Built) -> int:
    return int(built.service.app.recorder.max_notification_id() or 0)


def test_a_caught_up_service_verifies(built: Built) -> None:
    report = verify(built.definition, built.settings)
    assert isinstance(report, ReplayReport)
    assert report.ok, report.first_difference()
    assert report.first_difference() is None
    [view] = report.views
    assert view.position == stored(built) == view.events == report.events
    assert report.rows_compared > 0
    assert all(t.rows_live == t.rows_replayed for t in view.tables)
    assert sum(t.rows_live > 0 for t in view.tables) >= 2
    assert report.to_dict()["ok"] is True


def test_tampered_deleted_and_inserted_rows_are_named(built: Built) -> None:
    t = built.tamper
    execute(built, t.update, t.delete, t.insert)
    report = verify(built.definition, built.settings)
    assert not report.ok
    tables = {diff.table: diff for diff in report.views[0].tables}
    table, column, live, replayed = t.changed
    assert tables[table].changed == 1
    [changed] = [d for d in tables[table].samples if d.kind == "changed"]
    assert (changed.column, changed.live, changed.replayed) == (column, live, replayed)
    assert f"{column} is {live!r} live, {replayed!r} replayed" in str(changed)
    found = [str(d) for diff in tables.values() for d in diff.samples]
    assert f"{t.deleted}: missing from the live view" in found
    assert f"{t.inserted}: in the live view only, not in the replay" in found
    assert sum(diff.differences for diff in tables.values()) == 3
    assert report.first_difference() is not None
    assert report.to_dict()["ok"] is False


def test_a_lagging_live_view_is_compared_at_its_own_position(built: Built) -> None:
    caught_up = stored(built)
    lagging = SimpleNamespace(
        app=built.service.app,
        handler=built.service.handler,
        view=SimpleNamespace(catch_up=lambda: 0),
    )
    handle(lagging, built.more)  # stored, not yet applied to the live view
    assert stored(built) > caught_up

    report = verify(built.definition, built.settings)
    assert report.ok, report.first_difference()
    assert report.views[0].position == caught_up

    # A view that moves on while it is checked: the scratch follows it.
    updater = built.service.view
    with replay_view(built.service.app, updater.view, path=":memory:") as scratch:
        assert scratch.position == caught_up
        updater.catch_up()
        diffs = compare(updater.database, scratch, updater.view)
        assert all(diff.ok for diff in diffs)
        assert scratch.position == stored(built)

    # A scratch replayed beyond the live view cannot be compared with it.
    with ScratchDatabase(built.service.app, updater.view, ":memory:") as ahead:
        ahead.replay(stored(built))
        execute(built, "DELETE FROM bansos_view_tracking")
        with pytest.raises(PositionError):
            compare(updater.database, ahead, updater.view)


class Reading(Aggregate):
    @event("Taken")
    def __init__(self, name: str, flag: bool, amount: Decimal) -> None:
        self.name = name


class Readings(ServiceApplication):
    service = "readings"


class ReadingView(View):
    """Types that each backend returns its own way: booleans, decimals."""

    name = "readings_v1"

    def create_statements(self) -> Sequence[str]:
        return (
            "CREATE TABLE IF NOT EXISTS readings (name TEXT PRIMARY KEY, flag BOOLEAN NOT NULL,"
            " amount NUMERIC(12, 2), note TEXT)",
        )

    def drop_statements(self) -> Sequence[str]:
        return ("DROP TABLE IF EXISTS readings",)

    def apply(self, sql: Sql, domain_event: Any) -> None:
        if type(domain_event).__qualname__ == "Reading.Taken":
            sql.execute(
                "INSERT INTO readings VALUES (%s, %s, %s, NULL)",
                (domain_event.name, domain_event.flag, str(domain_event.amount)),
            )


def test_backend_types_are_normalised_and_a_missing_table_is_named(
    store_settings: Callable[[str], ServiceSettings],
) -> None:
    settings = store_settings("readings")
    app = Readings(settings)
    database = ViewDatabase(settings)
    updater = ViewUpdater(app, ReadingView(), database)
    uow = app.unit_of_work()
    uow.collect(Reading("a", True, Decimal("5")), Reading("b", False, Decimal("2.50")))
    app.commit(uow)
    assert updater.catch_up() == 2
    with database.transaction() as sql:
        live = sql.execute("SELECT flag, amount FROM readings WHERE name = 'a'").fetchone()
    assert live is not None
    types = [bool, Decimal] if settings.uses_postgres else [int, int]
    assert [type(value) for value in live] == types  # compared as 1 and 5 all the same
    with replay_view(app, updater.view) as scratch:
        [diff] = compare(database, scratch, updater.view)
        assert diff.ok, diff.samples
        assert (diff.table, diff.key, diff.rows_live) == ("readings", ("name",), 2)
        with database.transaction() as sql:
            sql.execute("DROP TABLE readings")
        [missing] = compare(database, scratch, updater.view)
        assert not missing.ok
        assert missing.error == "the table is missing from the live database"
    database.close()
    app.close()
