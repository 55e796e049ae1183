"""``bansosctl eligibility …``: shadow evaluation of a new ruleset version."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

app = typer.Typer(no_args_is_help=True, help="Program rules and eligibility decisions.")
console = Console(stderr=True)


@app.command()
def simulate(
    ruleset_file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    against: Annotated[
        Path | None,
        typer.Option(help="the ruleset to compare with (default: the shipped one of the program)"),
    ] = None,
    topic: Annotated[str, typer.Option(help="where the households come from")] = (
        "bansos.registry.v1"
    ),
) -> None:
    """Report, publishing nothing, who would gain or lose eligibility under RULESET_FILE."""
    from bansos_eligibility.registry_reader import read_registry
    from bansos_eligibility.rules import RulesetError, load_ruleset, shipped_rulesets, simulate

    try:
        new = load_ruleset(ruleset_file)
        old = (
            load_ruleset(against)
            if against
            else next(r for r in shipped_rulesets() if r.program == new.program)
        )
    except (RulesetError, StopIteration) as error:
        console.print(f"[red]cannot load the rulesets:[/red] {error or 'no shipped ruleset'}")
        raise typer.Exit(2) from None
    bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
    book, unreadable = asyncio.run(read_registry(bootstrap, topic))
    console.print(
        f"{len(book):,} households from {topic}"
        + (f" ({unreadable} unreadable messages skipped)" if unreadable else "")
        + f"; {old.id} v{old.version} ({old.content_hash[:12]}) → "
        f"{new.id} v{new.version} ({new.content_hash[:12]})"
    )
    print(simulate(old, new, book).format())


def register(cli: typer.Typer) -> None:
    """Add ``eligibility`` to the main command line."""
    cli.add_typer(app, name="eligibility")
