"""``bansosctl registry …``: import DTSEN snapshots into the registry.

The import runs in this process against the registry's own event store (configured by
the same environment as the service: ``BANSOS_DATABASE_URL``, ``BANSOS_CIPHER_KEY``);
the registry service's outbox relay then publishes the resulting events.
"""

from __future__ import annotations

import os
from datetime import date, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from bansos_libs.context import ActorDict
from bansos_libs.telemetry import configure_tracing, tracer

app = typer.Typer(no_args_is_help=True, help="The DTSEN household register.")
console = Console(stderr=True)


def _as_of(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a date (YYYY-MM-DD)") from None


@app.command("import")
def import_snapshot(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    snapshot_id: Annotated[str, typer.Option("--snapshot-id", help="e.g. DTSEN-3517-2025-10")],
    as_of: Annotated[str, typer.Option("--as-of", help="the date BPS ranked the households")],
    rejects: Annotated[
        Path | None, typer.Option("--rejects", help="rejects report (default: FILE.rejects.csv)")
    ] = None,
    operator: Annotated[str, typer.Option(help="who runs the import (for the audit trail)")] = (
        "bansosctl"
    ),
) -> None:
    """Import a snapshot: progress bar, summary, and a rejects report."""
    from bansos_registry.bootstrap import bootstrap
    from bansos_registry.importer import ImportRefusedError
    from bansos_registry.snapshot_file import SnapshotFileError

    when = _as_of(as_of)
    configure_tracing("bansosctl", os.environ.get("BANSOS_OTEL_EXPORTER", "none"))
    rejects_path = rejects or file.with_suffix(".rejects.csv")
    registry = bootstrap()
    actor: ActorDict = {"role": "system", "id": operator, "region": None}
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    started = datetime.now()
    try:
        with (
            rejects_path.open("w", newline="") as report,
            Progress(*columns, console=console) as bar,
        ):
            task = bar.add_task(f"importing {file.name}", total=None)

            def progress(done: int, total: int) -> None:
                bar.update(task, completed=done, total=total)

            # One trace from this command to every consumer of the snapshot's events.
            with tracer("bansosctl").start_as_current_span("registry import"):
                summary = registry.importer.run(
                    file, snapshot_id, when, actor=actor, rejects=report, progress=progress
                )
    except (SnapshotFileError, ImportRefusedError) as error:
        console.print(f"[red]refused:[/red] {error}")
        rejects_path.unlink(missing_ok=True)
        raise typer.Exit(2) from None
    finally:
        registry.close()
    seconds = (datetime.now() - started).total_seconds()
    table = Table(title=f"snapshot {snapshot_id} — regency {summary.regency}, as of {when}")
    table.add_column("")
    table.add_column("households", justify="right")
    for key, value in summary.counts.items():
        table.add_row(key, f"{value:,}")
    Console().print(table)
    if summary.already_imported:
        console.print("This snapshot was imported before with the same content: nothing changed.")
    elif summary.rejected:
        console.print(f"Rejected rows are listed in {rejects_path}")
    else:
        rejects_path.unlink(missing_ok=True)
    console.print(f"done in {seconds:.1f} s")


def register(cli: typer.Typer) -> None:
    """Add ``registry`` to the main command line."""
    cli.add_typer(app, name="registry")
