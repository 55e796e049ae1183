"""Read models kept exactly once from the notification log, on every backend."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pytest
from eventsourcing.domain import Aggregate, event

from bansos_libs.eventstore import ServiceApplication
from bansos_libs.settings import ServiceSettings
from bansos_libs.views import Sql, View, ViewDatabase, ViewUpdater


class Tally(Aggregate):
    @event("Opened")
    def __init__(self, name: str) -> None:
        self.name = name

    @event("Counted")
    def count(self, by: int) -> None:
        pass


class Tallies(ServiceApplication):
    service = "tallies"


class TallyView(View):
    name = "tallies_v1"

    def create_statements(self) -> Sequence[str]:
        return ("CREATE TABLE IF NOT EXISTS tally (name TEXT PRIMARY KEY, total INTEGER)",)

    def drop_statements(self) -> Sequence[str]:
        return ("DROP TABLE IF EXISTS tally",)

    def apply(self, sql: Sql, domain_event: Any) -> None:
        if type(domain_event).__qualname__ == "Tally.Opened":
            sql.execute("INSERT INTO tally VALUES (%s, 0)", (domain_event.name,))
        elif type(domain_event).__qualname__ == "Tally.Counted":
            sql.execute(
                "UPDATE tally SET total = total + %s WHERE name = "
                "(SELECT name FROM tally ORDER BY name LIMIT 1)",
                (domain_event.by,),
            )


def rows(database: ViewDatabase) -> list[tuple[Any, ...]]:
    with database.transaction() as sql:
        return sql.execute("SELECT name, total FROM tally ORDER BY name").fetchall()


def test_views_apply_each_event_once_and_rebuild_identically(
    store_settings: Callable[[str], ServiceSettings],
) -> None:
    settings = store_settings("tallies")
    app = Tallies(settings)
    database = ViewDatabase(settings)
    updater = ViewUpdater(app, TallyView(), database, batch_size=3)
    uow = app.unit_of_work()
    tally = Tally("a")
    for n in range(1, 8):
        tally.count(by=n)
    uow.collect(tally)
    app.commit(uow)

    assert updater.catch_up() == 8
    assert updater.catch_up() == 0  # nothing applied twice
    assert rows(database) == [("a", 28)]
    assert updater.position() == 8

    second = ViewUpdater(app, TallyView(), database)  # e.g. after a restart
    assert second.catch_up() == 0
    before = rows(database)
    assert updater.rebuild() == 8
    assert rows(database) == before
    database.close()
    app.close()


def test_a_racing_updater_cannot_move_the_view_on_twice(
    store_settings: Callable[[str], ServiceSettings],
) -> None:
    settings = store_settings("tallies")
    app = Tallies(settings)
    database = ViewDatabase(settings)
    first = ViewUpdater(app, TallyView(), database)
    late = ViewUpdater(app, TallyView(), database)
    uow = app.unit_of_work()
    uow.collect(Tally("b"))
    app.commit(uow)
    assert first.catch_up() == 1
    late.position = lambda: 0  # type: ignore[method-assign]  # it read before the first moved on
    with pytest.raises(Exception):  # noqa: B017 (the duplicate row, or the moved position)
        late.catch_up()
    assert rows(database) == [("b", 0)]
    database.close()
    app.close()
