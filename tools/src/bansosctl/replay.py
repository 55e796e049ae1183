"""``bansosctl replay SERVICE``: a service's read models rebuilt from its own event store.

With ``--verify`` nothing live is changed: every view is replayed into a scratch SQLite
database up to the live view's own position and compared with the live tables row by
row; the command exits 1 naming the first difference. Without it the live read models
are dropped and rebuilt in place. The service's database is the environment's
(``BANSOS_DATABASE_URL``, else SQLite under ``BANSOS_DATA_DIR``), as the service runs.
"""

from __future__ import annotations

import importlib
import json
import time
from typing import Annotated, Any

import structlog
import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from bansos_libs.logs import configure_logging
from bansos_libs.runtime import ServiceDefinition, service_settings
from bansos_libs.settings import ServiceSettings

__all__ = ["SERVICES", "definition_of", "register", "replay"]

SERVICES = ("registry", "objections", "eligibility", "payout")
"""The services that keep read models."""

console = Console()
errors = Console(stderr=True)


def definition_of(service: str) -> ServiceDefinition:
    """The ``ServiceDefinition`` of a known service (``bansos_<service>.bootstrap``)."""
    definition = importlib.import_module(f"bansos_{service}.bootstrap").DEFINITION
    assert isinstance(definition, ServiceDefinition)
    return definition


def replay(
    service: Annotated[str, typer.Argument(help="registry, objections, eligibility or payout")],
    verify: Annotated[
        bool,
        typer.Option(
            "--verify", help="Compare the live read models with a replay; change nothing."
        ),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Rebuild SERVICE's read models from its event store, or check them (--verify)."""
    if service not in SERVICES:
        errors.print(
            f"[red]bansosctl replay:[/red] unknown service {escape(repr(service))};"
            f" known: {', '.join(SERVICES)}"
        )
        raise typer.Exit(2)
    if not structlog.is_configured():  # the services' log lines go to stderr, not stdout
        configure_logging("bansosctl", "WARNING", "console")
    definition = definition_of(service)
    settings = service_settings(definition)
    if verify:
        _verify(definition, settings, as_json)
    else:
        _rebuild(definition, settings, as_json)


def _verify(definition: ServiceDefinition, settings: ServiceSettings, as_json: bool) -> None:
    from bansos_libs.replay import verify

    report = verify(definition, settings)
    if as_json:
        print(json.dumps(report.to_dict(), indent=2))
    else:
        for view in report.views:
            table = Table(
                title=f"{view.view} at position {view.position:,}: {view.events:,} events"
                f" replayed in {view.seconds:.2f} s ({view.events_per_second:,.0f} events/s)",
                title_justify="left",
            )
            table.add_column("table")
            table.add_column("key")
            for column in ("live rows", "replayed rows", "missing", "extra", "changed"):
                table.add_column(column, justify="right")
            table.add_column("")
            for diff in view.tables:
                verdict = "[green]same[/green]" if diff.ok else "[red]DIFFERS[/red]"
                table.add_row(
                    diff.table,
                    ", ".join(diff.key),
                    f"{diff.rows_live:,}",
                    f"{diff.rows_replayed:,}",
                    f"{diff.missing:,}",
                    f"{diff.extra:,}",
                    f"{diff.changed:,}",
                    verdict if diff.error is None else f"[red]{escape(diff.error)}[/red]",
                )
            console.print(table)
            for diff in view.tables:
                for sample in diff.samples:
                    console.print(f"  {escape(str(sample))}")
        if report.ok:
            views = len(report.views)
            console.print(
                f"{definition.name}: all {report.rows_compared:,} rows agree with the replay"
                f" ({views} view{'' if views == 1 else 's'})."
            )
    first = report.first_difference()
    if first is not None:
        errors.print(f"[red]bansosctl replay:[/red] {escape(first)}")
        raise typer.Exit(1)


def _rebuild(definition: ServiceDefinition, settings: ServiceSettings, as_json: bool) -> None:
    app = definition.application(settings)
    updaters = list(definition.views(app, settings)) if definition.views else []
    done: list[dict[str, Any]] = []
    try:
        for updater in updaters:
            started = time.perf_counter()
            events = updater.rebuild()
            seconds = time.perf_counter() - started
            done.append(
                {
                    "view": updater.view.name,
                    "events": events,
                    "position": updater.position(),
                    "seconds": round(seconds, 3),
                }
            )
            if not as_json:
                console.print(
                    f"{updater.view.name}: rebuilt from {events:,} events in {seconds:.2f} s,"
                    f" at position {done[-1]['position']:,}"
                )
    finally:
        for updater in updaters:
            updater.database.close()
        app.close()
    if as_json:
        print(json.dumps({"service": definition.name, "views": done}, indent=2))


def register(cli: typer.Typer) -> None:
    """Add the ``replay`` command to the main command line."""
    cli.command("replay")(replay)
