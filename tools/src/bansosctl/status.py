"""``bansosctl status --nik NIK``: what a citizen would see on the Cek Bansos screen.

With ``--name`` and ``--village`` it asks exactly as the citizen does (the eligibility
service's public check, which the registry confirms by NIK, name and village). Without
them it is the staff view: the registry finds the household by NIK, with the caller's
token (``BANSOS_TOKEN``; in development an AUDITOR token is minted), and eligibility
answers for that household. The NIK is sent in request bodies only and never printed.
"""

from __future__ import annotations

import json
import os
from typing import Annotated, Any

import httpx
import typer
from rich.console import Console
from rich.table import Table

from bansos_libs.auth import AuthSettings, issuer_from_settings

__all__ = ["register", "status"]

console = Console()
errors = Console(stderr=True)


def _url(service: str, port: int) -> str:
    return os.environ.get(f"BANSOS_{service.upper()}_URL", f"http://127.0.0.1:{port}")


def _token() -> str:
    token = os.environ.get("BANSOS_TOKEN")
    if token:
        return token
    return issuer_from_settings(AuthSettings()).mint(
        role="AUDITOR", region="ID", subject="bansosctl"
    )


def _fail(message: str, code: int = 1) -> typer.Exit:
    errors.print(f"[red]bansosctl status:[/red] {message}")
    return typer.Exit(code)


def _answer(response: httpx.Response, what: str) -> dict[str, Any]:
    if response.status_code == 200:
        body: dict[str, Any] = response.json()
        return body
    try:
        detail = response.json().get("detail")
    except ValueError:
        detail = response.text[:200]
    if isinstance(detail, dict):
        detail = detail.get("reason", detail)
    raise _fail(f"{what}: {detail} (HTTP {response.status_code})")


def status(
    nik: Annotated[str, typer.Option("--nik", help="The head of household's NIK (16 digits).")],
    name: Annotated[
        str | None, typer.Option("--name", help="The name as on the KTP (citizen's check).")
    ] = None,
    village: Annotated[
        str | None, typer.Option("--village", help="The village code, e.g. 35.17.01.2001.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the answer as JSON.")] = False,
) -> None:
    """Programs, status, reasons, payment period and window, open cases of a household."""
    if not (len(nik) == 16 and nik.isdigit()):
        raise _fail("--nik must be 16 digits", 2)
    if (name is None) != (village is None):
        raise _fail("give both --name and --village (the citizen's check), or neither", 2)
    try:
        with httpx.Client(timeout=10) as http:
            if name is not None and village is not None:
                answer = _answer(
                    http.post(
                        f"{_url('eligibility', 8103)}/status",
                        json={"nik": nik, "name": name, "village": village},
                    ),
                    "status",
                )
            else:
                headers = {"Authorization": f"Bearer {_token()}"}
                household = _answer(
                    http.post(
                        f"{_url('registry', 8101)}/households/lookup",
                        json={"nik": nik},
                        headers=headers,
                    ),
                    "registry",
                )
                answer = _answer(
                    http.get(
                        f"{_url('eligibility', 8103)}/households/"
                        f"{household['household_id']}/status",
                        headers=headers,
                    ),
                    "eligibility",
                )
    except httpx.HTTPError as error:
        raise _fail(
            f"cannot reach the services ({type(error).__name__}): is `make run` up?"
        ) from None
    if as_json:
        print(json.dumps(answer, indent=2, ensure_ascii=False))
    else:
        _print(answer)


def _print(answer: dict[str, Any]) -> None:
    who = answer.get("head_name") or "-"
    console.print(f"Household [bold]{answer['household_id']}[/bold]  (head: {who})")
    table = Table("program", "period", "status", "why / keterangan", "list", "payment")
    for p in answer["programs"]:
        reasons = "\n".join(
            f"{r['text']['en']}\n[dim]{r['text']['id']}[/dim]" for r in p["reasons"]
        )
        payout = p.get("payout")
        payment = "-"
        if payout:
            payment = f"{payout['state_text']['en']} {payout.get('amount_text') or ''}"
            payment += f"\n{payout.get('channel') or ''} {payout.get('bank') or ''}".rstrip()
            for window in payout.get("windows", []):
                payment += (
                    f"\n{window['kind']}: {window['starts_at'][:10]}..{window['ends_at'][:10]}"
                    f" {window['place']}"
                )
        table.add_row(
            p["program_name"]["en"],
            p["period"],
            f"{p['status_text']['en']}\n[dim]{p['status_text']['id']}[/dim]",
            reasons or "-",
            p.get("list_stage") or "-",
            payment,
        )
    console.print(table)
    if answer["open_cases"]:
        console.print("Open cases / kasus terbuka:")
        for case in answer["open_cases"]:
            console.print(f"  {case['case_id']} {case['kind']} since {case['submitted_at'][:10]}")


def register(cli: typer.Typer) -> None:
    """Add ``status`` to the main command line."""
    cli.command("status")(status)
