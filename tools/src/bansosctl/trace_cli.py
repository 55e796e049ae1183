"""``bansosctl trace …``: follow one thing across the services, from the audit index.

- ``payout ID`` shows the payout's path, registry → eligibility → list approval →
  payout → channel, with each hop's event, Kafka record time, lags and trace id.

The index is the one ``bansosctl audit sync`` writes (``.local/audit/index.sqlite``
under the workspace root unless ``--index`` says otherwise); nothing is read from Kafka.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Column, Table

from bansosctl.audit.index import Index, default_index_path

__all__ = ["app", "duration", "register"]

app = typer.Typer(
    no_args_is_help=True,
    help="Follow one payout across the services, from the audit index.",
)
console = Console()
errors = Console(stderr=True)


def _fail(message: str, code: int = 1) -> typer.Exit:
    errors.print(f"[red]bansosctl trace:[/red] {escape(message)}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


def duration(seconds: float | None) -> str:
    """A lag for people: ``850 ms``, ``2.1 s``, ``4m 05s``, ``3h 02m``, ``2d 04h 10m`` (signed)."""
    if seconds is None:
        return "-"
    sign, left = ("-" if seconds < 0 else ""), abs(seconds)
    if left < 1:
        return f"{sign}{left * 1000:.0f} ms"
    if left < 60:
        return f"{sign}{left:.1f} s"
    whole = int(left)
    if whole < 3600:
        return f"{sign}{whole // 60}m {whole % 60:02d}s"
    if whole < 86400:
        return f"{sign}{whole // 3600}h {whole % 3600 // 60:02d}m"
    return f"{sign}{whole // 86400}d {whole % 86400 // 3600:02d}h {whole % 3600 // 60:02d}m"


def _when(text: str) -> str:
    """An index time (``2025-11-21T01:30:00.000000Z``) as ``2025-11-21 01:30:00.000``."""
    return text[:23].replace("T", " ")


def _who(actor: dict[str, Any]) -> str:
    return f"{actor.get('role', '?')} {actor.get('id', '?')}"


@app.command("payout")
def payout(
    payout_id: Annotated[
        str, typer.Argument(help="The payout id, e.g. BLTS_KESRA:2025-10..2025-12:3517-001606.")
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
    index: Annotated[
        Path | None,
        typer.Option(
            "--index", help="The index file (default: .local/audit/index.sqlite in the workspace)."
        ),
    ] = None,
) -> None:
    """The payout's path: registry → eligibility → list approval → payout → channel."""
    from bansosctl.audit.trace import UnknownPayoutError, trace_payout

    path = index or default_index_path()
    if not path.is_file():
        raise _fail(f"no index at {path}: run `bansosctl audit sync` first", 2)
    with Index(path) as opened:
        try:
            trace = trace_payout(opened, payout_id)
        except UnknownPayoutError as error:
            raise _fail(f"{error}; if it is new, run `bansosctl audit sync` first") from None
    if as_json:
        print(json.dumps(trace.as_json(), indent=2, ensure_ascii=False))
        return
    table = Table(
        "#", "stage / link", Column("event / id", overflow="fold"),
        Column("occurred / recorded (UTC)", no_wrap=True),
        Column("+prev / publish", no_wrap=True), Column("service / trace id", overflow="fold"),
    )  # fmt: skip
    for number, hop in enumerate(trace.hops, 1):
        table.add_row(
            str(number),
            f"{hop.stage}\n{hop.link}",
            escape(f"{hop.event_type}\n{hop.event_id}"),
            f"{_when(hop.occurred_at)}\n{_when(hop.recorded_at)}",
            f"{duration(hop.since_previous)}\n{duration(hop.publish_lag)}",
            escape(f"{hop.service}\n{hop.trace_id or '-'}"),
        )
    console.print(table)
    for number, hop in enumerate(trace.hops, 1):
        line = f"{number:>3}  {_who(hop.actor)}: {hop.summary}"
        console.print(line, markup=False, highlight=False)
    traces = trace.trace_ids
    console.print(
        f"payout {trace.payout_id} of household {trace.household_id}"
        f" ({trace.program} {trace.period}): {len(trace.hops)} hops,"
        f" {duration(trace.total_seconds)} from first to last record;"
        f" {len(traces)} trace id{'s' if len(traces) != 1 else ''}",
        markup=False,
        highlight=False,
    )
    for stage in trace.missing:
        errors.print(f"[yellow]no {stage} event found for this payout in the index[/]")


def register(cli: typer.Typer) -> None:
    """Add ``trace`` to the main command line."""
    cli.add_typer(app, name="trace")
