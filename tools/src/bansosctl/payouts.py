"""``bansosctl payouts …``: the payout service from the command line.

Every command is a call to the payout service's HTTP API (``BANSOS_PAYOUT_URL``, by
default ``http://127.0.0.1:8104``) with the caller's token (``BANSOS_TOKEN``). Without
one, a development token is minted for the role the command needs: an AUDITOR for reads
and reports, a CHANNEL_OPERATOR for channel files, SYSTEM for expiry, and the REGENCY_OFFICER
of the village's regency for invitations, SPTJMs and reconciliation.

When the service refuses, its ``detail`` is printed on stderr and the command exits 1
(2 for a bad option). Collection codes are printed only by ``invitation``.
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from bansos_contracts.enums import Bank, ReconciliationOutcome, SettlementChannel
from bansos_libs.auth import AuthSettings, RegionCode, RegionLevel, Role, issuer_from_settings
from bansosctl.answers import CallFailedError, print_json, send

__all__ = ["app", "client", "register"]

app = typer.Typer(
    no_args_is_help=True,
    help="Payouts: collections, channel files, the period's end and the reconciliation.",
)
console = Console()
errors = Console(stderr=True)

DEFAULT_PROGRAM = "BLTS_KESRA"
DEFAULT_PERIOD = "2025-10..2025-12"
NATIONAL = "ID"

Program = Annotated[str, typer.Option("--program", help="The program.")]
Period = Annotated[str, typer.Option("--period", help="The program period, YYYY-MM..YYYY-MM.")]
AsJson = Annotated[bool, typer.Option("--json", help="Print the service's answer as JSON.")]


# --- talking to the service -----------------------------------------------------------


def base_url() -> str:
    """Where the payout service listens."""
    return os.environ.get("BANSOS_PAYOUT_URL", "http://127.0.0.1:8104")


def client() -> httpx.Client:
    """A new HTTP client to the payout service (the tests put the API itself behind it)."""
    return httpx.Client(base_url=base_url(), timeout=120)


def _fail(message: str, code: int = 1) -> typer.Exit:
    errors.print(f"[red]bansosctl payouts:[/red] {escape(message)}", highlight=False)
    return typer.Exit(code)


def _token(role: Role, region: str) -> str:
    token = os.environ.get("BANSOS_TOKEN")
    if token:
        return token
    try:
        return issuer_from_settings(AuthSettings()).mint(
            role=role, region=region, subject="bansosctl"
        )
    except (ValueError, OSError) as error:
        raise _fail(f"cannot mint a development token ({error}); set BANSOS_TOKEN") from None


def _call(
    method: str,
    path: str,
    *,
    role: Role,
    region: str = NATIONAL,
    what: str,
    body: dict[str, Any] | None = None,
    content: bytes | None = None,
    params: dict[str, Any] | None = None,
) -> httpx.Response:
    """One request with a token for ``role`` in ``region``; the response when 2xx."""
    try:
        return send(
            client, "payout", method, path, token=_token(role, region), what=what, body=body,
            content=content, content_type="text/csv", params=params,
        )  # fmt: skip
    except CallFailedError as error:
        raise _fail(str(error)) from None


def _json(response: httpx.Response) -> Any:
    return response.json()


def _rupiah(amount: int | None) -> str:
    return "-" if amount is None else "Rp" + f"{amount:,}".replace(",", ".")


def _regency_of(village: str) -> str:
    try:
        code = RegionCode.parse(village)
    except ValueError as error:
        raise _fail(str(error), 2) from None
    if code.level is not RegionLevel.VILLAGE:
        raise _fail(f"{village!r} is not a village code (e.g. 35.17.01.2001)", 2)
    return str(code.at_level(RegionLevel.REGENCY))


def _read(file: Path) -> bytes:
    try:
        return file.read_bytes()
    except OSError as error:
        raise _fail(f"cannot read {file}: {error}", 2) from None


# --- reads ----------------------------------------------------------------------------


@app.command("list")
def list_payouts(
    program: Program = DEFAULT_PROGRAM,
    period: Period = DEFAULT_PERIOD,
    region: Annotated[
        str | None, typer.Option("--region", "--village", help="A village or any region.")
    ] = None,
    state: Annotated[str | None, typer.Option(help="SCHEDULED, DISBURSED, FAILED, …")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 100,
    offset: Annotated[int, typer.Option(min=0)] = 0,
    as_json: AsJson = False,
) -> None:
    """Payouts of a program period, in payout id order."""
    rows = _json(
        _call(
            "GET",
            "/payouts",
            role=Role.AUDITOR,
            what="payouts",
            params={
                "program": program,
                "period": period,
                "village": region,
                "state": state,
                "limit": limit,
                "offset": offset,
            },
        )
    )
    if as_json:
        print_json(rows)
        return
    table = Table("payout", "village", "channel", "amount", "state", "attempt")
    for row in rows:
        channel = row["channel"] + (f" {row['bank']}" if row["bank"] else "")
        table.add_row(
            row["payout_id"],
            row["village"],
            channel,
            _rupiah(row["amount"]),
            row["state"],
            str(row["attempt"]),
        )
    console.print(table)
    console.print(
        f"{len(rows)} payouts (from {offset + 1})" if rows else "no payouts", markup=False
    )


@app.command()
def show(
    payout_id: Annotated[str, typer.Argument(help="The payout id.")],
    as_json: AsJson = False,
) -> None:
    """One payout: its instruction, what the channel reported and settled, how it ended."""
    payout = _json(_call("GET", f"/payouts/{payout_id}", role=Role.AUDITOR, what="payout"))
    if as_json:
        print_json(payout)
        return
    table = Table("", "", show_header=False, box=None)
    for key, value in payout.items():
        if key == "windows":
            continue
        shown = _rupiah(value) if key.endswith("amount") and value is not None else value
        table.add_row(key, "-" if shown is None else escape(str(shown)))
    console.print(table)
    for window in payout["windows"]:
        console.print(
            f"  {window['kind']}: {window['starts_at']} .. {window['ends_at']}"
            f"  {escape(window['place'])}"
        )


@app.command()
def invitation(
    payout_id: Annotated[str, typer.Argument(help="The payout id.")],
    as_json: AsJson = False,
) -> None:
    """The invitation letter of a POS payout still to collect, with its collection code."""
    payout = _json(_call("GET", f"/payouts/{payout_id}", role=Role.AUDITOR, what="payout"))
    letter = _json(
        _call(
            "GET",
            f"/payouts/{payout_id}/invitation",
            role=Role.REGENCY_OFFICER,
            region=payout["regency"],
            what="invitation",
        )
    )
    if as_json:
        print_json(letter)
        return
    console.print(
        f"[bold]Surat undangan[/bold] — {escape(letter['program'])} {escape(letter['period'])}"
    )
    console.print(f"payout:    {letter['payout_id']}", markup=False)
    console.print(f"household: {letter['household_id']}", markup=False)
    console.print(f"amount:    {_rupiah(letter['amount'])}", markup=False)
    console.print(f"location:  {letter['location'] or '-'}", markup=False)
    for window in letter["windows"]:
        console.print(
            f"  {window['kind']}: {window['starts_at']} .. {window['ends_at']}"
            f"  {escape(window['place'])}"
        )
    console.print(f"code:      [bold]{escape(letter['collection_code'])}[/bold]")


# --- channel files --------------------------------------------------------------------


def _print_file_report(report: dict[str, Any]) -> None:
    if report["already_imported"]:
        console.print("This file was imported before: nothing changed.")
    console.print(
        f"{report['lines']} lines: {report['accepted']} accepted, {report['unchanged']}"
        f" unchanged, {len(report['refused'])} refused  (sha256 {report['sha256'][:12]})"
    )
    if report["refused"]:
        table = Table("line", "payout", "code", "amount", "why")
        for line in report["refused"]:
            table.add_row(
                str(line["line"]),
                escape(line["payout_id"] or "-"),
                escape(line["code"]),
                _rupiah(line["amount"]),
                escape(line["message"]),
            )
        console.print(table)


FileArgument = Annotated[
    Path, typer.Argument(exists=True, dir_okay=False, readable=True, help="The CSV file.")
]


@app.command("import-settlement")
def import_settlement(
    file: FileArgument,
    channel: Annotated[SettlementChannel, typer.Option("--channel", help="Who paid.")] = (
        SettlementChannel.POS
    ),
    as_json: AsJson = False,
) -> None:
    """Import a settlement file: what PT Pos or a bank says it paid, line by line."""
    report = _json(
        _call(
            "POST",
            "/settlements",
            role=Role.CHANNEL_OPERATOR,
            what="settlement file",
            content=_read(file),
            params={"channel": channel.value, "name": file.name},
        )
    )
    if as_json:
        print_json(report)
    else:
        _print_file_report(report)


@app.command("import-bank-result")
def import_bank_result(
    file: FileArgument,
    bank: Annotated[Bank, typer.Option("--bank", help="The bank that sent it.")],
    as_json: AsJson = False,
) -> None:
    """Import a bank's result file: credits credited, or rejected (then paid by PT Pos)."""
    report = _json(
        _call(
            "POST",
            f"/banks/{bank.value}/results",
            role=Role.CHANNEL_OPERATOR,
            what="bank result file",
            content=_read(file),
            params={"name": file.name},
        )
    )
    if as_json:
        print_json(report)
    else:
        _print_file_report(report)


@app.command("credit-file")
def credit_file(
    bank: Annotated[Bank, typer.Option("--bank", help="The bank to instruct.")],
    program: Program = DEFAULT_PROGRAM,
    period: Period = DEFAULT_PERIOD,
    region: Annotated[str, typer.Option("--region", help="e.g. 35.17, or ID.")] = NATIONAL,
    out: Annotated[
        Path | None, typer.Option("--out", dir_okay=False, help="Write here, not to stdout.")
    ] = None,
) -> None:
    """The credit-instruction file of one bank: its payouts still to credit."""
    text = _call(
        "GET",
        f"/banks/{bank.value}/credit-instructions",
        role=Role.CHANNEL_OPERATOR,
        what="credit-instruction file",
        params={"program": program, "period": period, "region": region},
    ).text
    if out is None:
        print(text, end="")
        return
    out.write_text(text, encoding="utf-8", newline="")
    count = max(0, text.count("\n") - 1)
    errors.print(f"{count} credit instructions written to {out}", markup=False)


# --- the end of the period ------------------------------------------------------------


@app.command()
def expire(
    region: Annotated[str, typer.Option("--region", help="e.g. 35.17, or ID.")],
    program: Program = DEFAULT_PROGRAM,
    period: Period = DEFAULT_PERIOD,
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="ISO 8601 with offset (default now), not in the future."),
    ] = None,
) -> None:
    """Fail every unpaid payout of the region whose last window has ended."""
    body: dict[str, Any] = {"region": region}
    if as_of is not None:
        try:
            when = datetime.fromisoformat(as_of)
        except ValueError:
            raise _fail(f"--as-of {as_of!r} is not an ISO 8601 date and time", 2) from None
        if when.utcoffset() is None:
            raise _fail("--as-of needs a UTC offset, e.g. 2025-12-09T00:00:00+07:00", 2)
        body["as_of"] = when.isoformat()
    answer = _json(
        _call(
            "POST",
            f"/periods/{program}/{period}/expiry",
            role=Role.SYSTEM,
            what="expiry",
            body=body,
        )
    )
    console.print(f"{answer['failed']} payouts failed as NOT_COLLECTED", markup=False)


@app.command()
def sptjm(
    village: Annotated[str, typer.Option("--village", help="e.g. 35.17.01.2001")],
    reference: Annotated[str, typer.Option("--reference", help="The SPTJM's reference.")],
    program: Program = DEFAULT_PROGRAM,
    period: Period = DEFAULT_PERIOD,
) -> None:
    """Enter the SPTJM a village signed for the period's failed payouts."""
    response = _call(
        "PUT",
        f"/sptjm/{program}/{period}/villages/{village}",
        role=Role.REGENCY_OFFICER,
        region=_regency_of(village),
        what="SPTJM",
        body={"reference": reference},
    )
    answer = _json(response)
    if answer["created"]:
        console.print(
            f"SPTJM {answer['reference']} entered for village {answer['village']}", markup=False
        )
    else:
        console.print(
            f"SPTJM {answer['reference']} was already entered: nothing changed", markup=False
        )


@app.command()
def reconcile(
    village: Annotated[str, typer.Option("--village", help="e.g. 35.17.01.2001")],
    outcome: Annotated[
        ReconciliationOutcome, typer.Option("--outcome", help="How they are closed.")
    ],
    sptjm_reference: Annotated[
        str, typer.Option("--sptjm", help="The SPTJM entered for the village.")
    ],
    program: Program = DEFAULT_PROGRAM,
    period: Period = DEFAULT_PERIOD,
    payout_ids: Annotated[
        list[str] | None,
        typer.Option("--payout", help="Only this payout (repeatable); default all failed."),
    ] = None,
) -> None:
    """Close a village's failed payouts as returned to the treasury or reissued."""
    answer = _json(
        _call(
            "POST",
            "/reconciliations",
            role=Role.REGENCY_OFFICER,
            region=_regency_of(village),
            what="reconciliation",
            body={
                "program": program,
                "period": period,
                "village": village,
                "outcome": outcome.value,
                "sptjm_reference": sptjm_reference,
                "payout_ids": payout_ids or None,
            },
        )
    )
    console.print(f"{answer['reconciled']} payouts reconciled as {outcome.value}", markup=False)


# --- reports --------------------------------------------------------------------------

Region = Annotated[
    str | None, typer.Option("--region", help="e.g. 35.17 (default: the token's region).")
]


@app.command()
def report(
    program: Program = DEFAULT_PROGRAM,
    period: Period = DEFAULT_PERIOD,
    region: Region = None,
    as_json: AsJson = False,
) -> None:
    """The three-way reconciliation: per village and channel, what was instructed,
    reported, settled, failed and is outstanding, with every mismatch."""
    answer = _json(
        _call(
            "GET",
            "/reports/reconciliation",
            role=Role.AUDITOR,
            what="reconciliation report",
            params={"program": program, "period": period, "region": region},
        )
    )
    if as_json:
        print_json(answer)
        return
    kinds = ("instructed", "reported", "settled", "failed", "outstanding")
    table = Table(title=f"{answer['program']} {answer['period']} — region {answer['region']}")
    table.add_column("village")
    table.add_column("channel")
    for kind in kinds:
        table.add_column(kind, justify="right")
    table.add_column("balanced")
    for row in answer["rows"]:
        table.add_row(
            row["village"],
            row["channel"],
            *(f"{row[kind]} · {_rupiah(row[kind + '_amount'])}" for kind in kinds),
            "yes" if row["balanced"] else "[red]NO[/red]",
        )
    totals = answer["totals"]
    table.add_section()
    table.add_row(
        "total",
        "",
        *(_rupiah(totals[kind + "_amount"]) for kind in kinds),
        "",
    )
    console.print(table)
    for row in answer["rows"]:
        for mismatch in row["mismatches"]:
            console.print(
                f"  {escape(row['village'])} {escape(row['channel'])}:"
                f" [yellow]{escape(mismatch['kind'])}[/yellow]"
                f" {escape(mismatch['payout_id'] or '-')} {_rupiah(mismatch['amount'])}"
                f" — {escape(mismatch['detail'])}",
                highlight=False,
            )
    if answer["unplaced"]:
        console.print("Lines that name no known payout:")
        for line in answer["unplaced"]:
            console.print(
                f"  [yellow]{escape(line['kind'])}[/yellow] {escape(line['payout_id'] or '-')}"
                f" {_rupiah(line['amount'])} — {escape(line['detail'])}",
                highlight=False,
            )
    else:
        console.print("No line is unplaced.")
    if answer["balanced"]:
        console.print("[green]The reconciliation balances.[/green]")
    else:
        console.print("[red]The reconciliation does NOT balance.[/red]")


@app.command()
def summary(
    program: Program = DEFAULT_PROGRAM,
    period: Period = DEFAULT_PERIOD,
    region: Region = None,
    as_json: AsJson = False,
) -> None:
    """Per district: households, payouts paid by bank and PT Pos, outstanding, failed."""
    rows = _json(
        _call(
            "GET",
            "/summary",
            role=Role.AUDITOR,
            what="summary",
            params={"program": program, "period": period, "region": region},
        )
    )
    if as_json:
        print_json(rows)
        return
    table = Table(
        "district",
        "households",
        "payouts",
        "paid bank",
        "paid POS",
        "paid",
        "outstanding",
        "failed",
        "failed amount",
        "to treasury",
        "reissued",
        "cancelled",
        "recovery",
        title=f"{program} {period}",
    )
    for d in rows:
        table.add_row(
            d["district"],
            str(d["households"]),
            str(d["payouts"]),
            str(d["paid_bank"]),
            str(d["paid_pos"]),
            _rupiah(d["paid_amount"]),
            str(d["outstanding"]),
            str(d["failed"]),
            _rupiah(d["failed_amount"]),
            str(d["returned_to_treasury"]),
            str(d["reissued"]),
            str(d["cancelled"]),
            str(d["recovery_flagged"]),
        )
    console.print(table)


def register(cli: typer.Typer) -> None:
    """Add ``payouts`` to the main command line."""
    cli.add_typer(app, name="payouts")
