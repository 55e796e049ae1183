"""``bansosctl audit …``: the auditor's replica, built from nothing but read access to Kafka.

- ``sync`` reads the four public topics into a local SQLite index (tracked, incremental);
- ``household ID`` prints one household's whole timeline across services, with causes,
  optionally as the system knew it at a moment (``--as-of``, by Kafka record time);
- ``verify`` recomputes every event chain and checkpoint on the topics and names the
  first broken link;
- ``verify-decisions`` re-runs every recorded eligibility decision from its inputs and
  its ruleset version, and exits 1 when one does not reproduce.

The index is ``.local/audit/index.sqlite`` under the workspace root unless ``--index``
says otherwise. The broker is ``KAFKA_BOOTSTRAP_SERVERS`` and the topics carry the
``BANSOS_TOPIC_PREFIX`` prefix, as for the services.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import asdict
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from bansosctl.audit.index import Index, default_index_path

__all__ = ["app", "parse_as_of", "register"]

app = typer.Typer(
    no_args_is_help=True,
    help="The auditor's replica: a local index of the public topics, timelines, re-checks.",
)
console = Console()
errors = Console(stderr=True)

IndexOption = Annotated[
    Path | None,
    typer.Option(
        "--index", help="The index file (default: .local/audit/index.sqlite in the workspace)."
    ),
]
_MAX_ROWS = 100
"""The most failures ``verify-decisions`` shows as a table (``--json`` shows every one)."""

AsJson = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")]


def _fail(message: str, code: int = 1) -> typer.Exit:
    errors.print(f"[red]bansosctl audit:[/red] {escape(message)}", highlight=False)
    return typer.Exit(code)


def _existing(path: Path | None) -> Index:
    path = path or default_index_path()
    if not path.is_file():
        raise _fail(f"no index at {path}: run `bansosctl audit sync` first", 2)
    return Index(path)


def parse_as_of(text: str) -> datetime:
    """An ``--as-of`` time: ISO 8601, UTC unless it says otherwise.

    A date alone means the end of that day (UTC): everything recorded on that day counts.
    """
    try:
        if len(text) == 10:
            day = datetime.fromisoformat(text).date()
            return datetime.combine(day + timedelta(days=1), time(), UTC) - timedelta(
                microseconds=1
            )
        moment = datetime.fromisoformat(text)
    except ValueError:
        message = f"--as-of {text!r} is not an ISO 8601 time (e.g. 2025-11-21T08:00:00Z)"
        raise _fail(message, 2) from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _when(text: str) -> str:
    """An index time (``2025-11-21T01:30:00.000000Z``) as ``2025-11-21 01:30:00``."""
    return text[:19].replace("T", " ")


# --- sync -------------------------------------------------------------------------------


@app.command("sync")
def sync_command(
    index: IndexOption = None,
    bootstrap_servers: Annotated[
        str | None,
        typer.Option(help="The broker (default: KAFKA_BOOTSTRAP_SERVERS, else 127.0.0.1:9092)."),
    ] = None,
    topic_prefix: Annotated[
        str | None, typer.Option(help="The topics' prefix (default: BANSOS_TOPIC_PREFIX).")
    ] = None,
    max_batches: Annotated[
        int | None,
        typer.Option(min=1, help="Stop after this many fetched batches (the rest next time)."),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            min=0,
            help="Decoding processes (default: one per CPU for large backlogs, else none).",
        ),
    ] = None,
    batch_size: Annotated[
        int, typer.Option(min=1, max=100_000, help="The most messages one fetch returns.")
    ] = 10_000,
    as_json: AsJson = False,
) -> None:
    """Read what is new on the public topics into the index; report what was read."""
    from aiokafka.errors import KafkaError

    from bansos_libs.settings import ServiceSettings
    from bansosctl.audit.sync import SyncError, sync

    settings = ServiceSettings()
    bootstrap = bootstrap_servers or settings.kafka_bootstrap_servers
    prefix = settings.topic_prefix if topic_prefix is None else topic_prefix
    path = index or default_index_path()
    progress = Progress(
        TextColumn("indexing"), BarColumn(), MofNCompleteColumn(), console=errors,
        transient=True, disable=as_json or not errors.is_terminal,
    )  # fmt: skip
    task = progress.add_task("sync", total=None)

    def advance(done: int, total: int) -> None:
        progress.update(task, completed=done, total=total)

    with Index(path) as opened, progress:
        try:
            report = asyncio.run(
                sync(
                    opened, bootstrap, prefix, max_batches=max_batches, workers=workers,
                    max_records=batch_size, progress=advance,
                )
            )  # fmt: skip
        except SyncError as error:
            raise _fail(str(error)) from None
        except (KafkaError, OSError) as error:
            raise _fail(f"cannot read from Kafka at {bootstrap}: {error!r}") from None
        totals = opened.counts_by_topic()
    if as_json:
        print(json.dumps({**report.as_json(), "index": str(path), "indexed": totals}, indent=2))
        return
    table = Table("topic", "partitions", "read", "new", "duplicates", "unreadable", "in index")
    for name, topic in report.topics.items():
        table.add_row(
            name, str(topic.partitions), f"{topic.read:,}", f"{topic.added:,}",
            f"{topic.duplicates:,}", f"{topic.unreadable:,}", f"{totals.get(name, 0):,}",
        )  # fmt: skip
    console.print(table)
    for name in report.missing_topics:
        console.print(f"topic {name} does not exist (yet): skipped", markup=False)
    lost = sum(t.lost_to_retention for t in report.topics.values())
    if lost:
        errors.print(f"[yellow]{lost:,} offsets were deleted by retention before indexing[/]")
    state = "up to date" if report.complete else "stopped early: run sync again for the rest"
    console.print(
        f"{report.added:,} events indexed ({report.read:,} messages read) in"
        f" {report.seconds:.2f} s: {report.per_second:,.0f} events/s; {state}; index {path}",
        markup=False,
    )


# --- household --------------------------------------------------------------------------


def _who(actor: dict[str, Any]) -> str:
    region = f" @{actor['region']}" if actor.get("region") else ""
    return f"{actor.get('role', '?')} {actor.get('id', '?')}{region}"


@app.command("household")
def household(
    household_id: Annotated[str, typer.Argument(help="The DTSEN household id.")],
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of",
            help="Only what Kafka had recorded by TIME (ISO 8601, UTC by default; a date"
            " alone means the end of that day).",
            metavar="TIME",
        ),
    ] = None,
    as_json: AsJson = False,
    index: IndexOption = None,
) -> None:
    """The household's whole timeline across services, oldest first, with causes."""
    from bansosctl.audit.timeline import household_timeline, summarize

    moment = parse_as_of(as_of) if as_of is not None else None
    with _existing(index) as opened:
        entries = household_timeline(opened, household_id, moment)
    if not entries:
        raise _fail(
            f"no events about household {household_id}"
            + (f" recorded by {moment.isoformat()}" if moment else "")
            + " in the index"
        )
    standing = summarize(entries)
    label = moment.isoformat().replace("+00:00", "Z") if moment else "the end of the index"
    if as_json:
        print(json.dumps([entry.as_json() for entry in entries], indent=2, ensure_ascii=False))
        if moment is not None:
            errors.print(standing.line(label), markup=False, highlight=False)
        return
    table = Table("occurred / recorded", "event", "what", "who", "event id / cause")
    for entry in entries:
        cause = "-"
        if entry.causation_id:
            cause = entry.causation_id + (f" ({entry.cause_type})" if entry.cause_type else "")
        table.add_row(
            f"{_when(entry.occurred_at)}\n{_when(entry.recorded_at)}",
            escape(entry.event_type),
            escape(entry.summary),
            escape(_who(entry.actor)),
            escape(f"{entry.event_id}\n← {cause}"),
        )
    console.print(table)
    console.print(f"{len(entries)} events; " + standing.line(label), markup=False)


# --- verify-decisions ---------------------------------------------------------------------


@app.command("verify-decisions")
def verify_decisions_command(
    index: IndexOption = None,
    rulesets: Annotated[
        list[Path] | None,
        typer.Option(
            "--rulesets",
            help="A folder of ruleset files, searched with its subfolders; may be repeated"
            " (default: BANSOS_RULESETS_DIR, else the eligibility service's shipped programs).",
            file_okay=False,
        ),
    ] = None,
    as_json: AsJson = False,
) -> None:
    """Re-run every recorded eligibility decision; exit 1 if one does not reproduce."""
    from bansos_eligibility.application import EligibilitySettings
    from bansos_eligibility.rules import RulesetError
    from bansosctl.audit.decisions import load_rulesets, verify_decisions

    folders = rulesets or [EligibilitySettings().rulesets_dir]
    try:
        catalog = load_rulesets(folders)
    except RulesetError as error:
        raise _fail(str(error), 2) from None
    with _existing(index) as opened:
        report = verify_decisions(opened, catalog)
    if as_json:
        print(json.dumps(report.as_json(), indent=2))
    else:
        if report.failures:
            table = Table(
                "", "household", "program", "period", "event id", "expected", "recomputed"
            )
            for failure in report.failures[:_MAX_ROWS]:
                table.add_row(
                    "NOT REPRODUCED" if failure.kind == "NOT_REPRODUCED" else "UNKNOWN RULESET",
                    escape(failure.household_id), failure.program, failure.period,
                    failure.event_id, escape(failure.expected), escape(failure.recomputed),
                )  # fmt: skip
            console.print(table)
            if len(report.failures) > _MAX_ROWS:
                console.print(
                    f"… and {len(report.failures) - _MAX_ROWS:,} more (--json lists them all)",
                    markup=False,
                )
        console.print(
            f"{report.checked:,} decisions checked: {report.reproduced:,} reproduced,"
            f" {len(report.not_reproduced):,} not reproduced,"
            f" {len(report.unknown_ruleset):,} with an unknown ruleset version"
            f" ({len(catalog)} ruleset versions from {', '.join(map(str, folders))})",
            markup=False,
        )
    if report.not_reproduced:
        raise typer.Exit(1)


# --- verify --------------------------------------------------------------------------------

BootstrapOption = Annotated[
    str | None,
    typer.Option(help="The broker (default: KAFKA_BOOTSTRAP_SERVERS, else 127.0.0.1:9092)."),
]
PrefixOption = Annotated[
    str | None, typer.Option(help="The topics' prefix (default: BANSOS_TOPIC_PREFIX).")
]


@app.command("verify")
def verify_command(
    bootstrap_servers: BootstrapOption = None,
    topic_prefix: PrefixOption = None,
    as_json: AsJson = False,
) -> None:
    """Recompute every event chain and checkpoint on the four topics; exit 1 and name
    the first broken link if one does not hold."""
    from aiokafka.errors import KafkaError

    from bansos_contracts import topics
    from bansos_libs.settings import ServiceSettings
    from bansosctl.audit.verify import event_named, verify_topics

    settings = ServiceSettings()
    bootstrap = bootstrap_servers or settings.kafka_bootstrap_servers
    prefix = settings.topic_prefix if topic_prefix is None else topic_prefix
    names = [prefix + topic for topic in topics.PRODUCERS]
    try:
        reports = asyncio.run(verify_topics(bootstrap, names))
        problems = [problem for report in reports for problem in report.problems]
        first = asyncio.run(event_named(bootstrap, problems[0])) if problems else None
    except (KafkaError, OSError, TimeoutError) as error:
        raise _fail(f"cannot read from Kafka at {bootstrap}: {error!r}") from None
    if as_json:
        body = [
            {**asdict(r), "intact": r.intact,
             "problems": [{**asdict(p), "text": p.describe()} for p in r.problems]}
            for r in reports
        ]  # fmt: skip
        print(json.dumps({"topics": body, "first_broken_link": first}, indent=2))
    else:
        table = Table("topic", "events", "subjects", "checkpoints", "attested up to",
                      "after it", "problems")  # fmt: skip
        for r in reports:
            table.add_row(
                r.topic, f"{r.events:,}", f"{r.subjects:,}", f"{r.checkpoints:,}",
                f"{r.attested_upto:,}", f"{r.unattested:,}", f"{len(r.problems):,}",
            )  # fmt: skip
        console.print(table)
        if problems:
            errors.print(f"FIRST BROKEN LINK ({first}): {problems[0].describe()}", markup=False)
            for problem in problems[1:_MAX_ROWS]:
                errors.print(problem.describe(), markup=False)
        else:
            console.print("every chain and checkpoint holds", markup=False)
    if problems:
        raise typer.Exit(1)


def register(cli: typer.Typer) -> None:
    """Add ``audit`` to the main command line."""
    cli.add_typer(app, name="audit")
