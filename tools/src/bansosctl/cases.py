"""``bansosctl cases …``: the objections service from the command line.

Every command is a call to the objections service's HTTP API (``BANSOS_OBJECTIONS_URL``,
by default ``http://127.0.0.1:8102``) with the caller's token (``BANSOS_TOKEN``). Without
one, a development token is minted for ``--role`` in ``--scope`` as ``--subject``, each
defaulting to what the command needs: an AUDITOR for reads (of ``--region`` when given,
else national), a VILLAGE_OPERATOR of ``--village`` for filing, the first reviewer role of
the case's current stage for a review and the filer's role for a withdrawal, both in the
case's village at that role's level (a PKH_FACILITATOR of its district, a REGENCY_OFFICER
of its regency, …). The subject defaults to ``dev:<role>:<region>`` as for ``bansosctl
token``: whoever filed or reviewed a case may not review a later stage, so a second person
of the same role and region (the Musdesus after a village operator filed) needs its own
``--subject``.

When the service refuses, its ``detail`` and ``code`` are printed on stderr and the
command exits 1. Bad local input (an unreadable photo, a malformed ``--at``, ``--photo``
or date, a role or scope that cannot be minted) exits 2 before anything is sent.
"""

from __future__ import annotations

import math
import os
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
from rich.console import Console
from rich.markup import escape

from bansos_contracts.enums import CaseEffect, CaseKind, Program, ReviewOutcome, ReviewStage
from bansos_libs.auth import AuthSettings, RegionCode, RegionLevel, Role, issuer_from_settings
from bansosctl.answers import CallFailedError, print_json, send
from bansosctl.cases_format import (
    print_case,
    print_cases,
    print_chains,
    print_overdue,
    print_result,
)

__all__ = ["app", "client", "register"]

app = typer.Typer(
    no_args_is_help=True,
    help="Cases: proposals, objections, refusals and complaints, and their review chain.",
)
console = Console()
errors = Console(stderr=True)

_HASH = re.compile(r"^[0-9a-fA-F]{64}$")
_MEDIA_TYPES = {
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".webp": "image/webp",
}


class State(StrEnum):
    """The states a case can be listed by."""

    OPEN = "OPEN"
    RESOLVED = "RESOLVED"


AsJson = Annotated[bool, typer.Option("--json", help="Print the service's answer as JSON.")]
RoleOption = Annotated[
    str | None,
    typer.Option("--role", help="Mint the token for this role (default: the one needed)."),
]
ScopeOption = Annotated[
    str | None,
    typer.Option("--scope", help="The minted token's region (default: from the case or input)."),
]
SubjectOption = Annotated[
    str | None,
    typer.Option("--subject", help="The minted token's subject (default dev:<role>:<region>)."),
]
RegionFilter = Annotated[
    str | None, typer.Option("--region", help="e.g. 35.17 (default: the token's region).")
]
Photos = Annotated[
    list[str] | None,
    typer.Option(
        "--photo", help="LABEL=FILE or LABEL=HASH, e.g. HOUSE_FRONT=front.jpg (repeatable)."
    ),
]
At = Annotated[str | None, typer.Option("--at", help="Where: LATITUDE,LONGITUDE in degrees.")]
RequestId = Annotated[
    str | None,
    typer.Option("--request-id", help="Repeat a request safely (default: a new one, printed)."),
]
CaseId = Annotated[str, typer.Argument(help="The case id, e.g. C-0123456789ABCDEF0123.")]


# --- talking to the service -----------------------------------------------------------


def base_url() -> str:
    """Where the objections service listens."""
    return os.environ.get("BANSOS_OBJECTIONS_URL", "http://127.0.0.1:8102")


def client() -> httpx.Client:
    """A new HTTP client to the objections service (the tests put the API behind it)."""
    return httpx.Client(base_url=base_url(), timeout=120)


def _fail(message: str, code: int = 1) -> typer.Exit:
    errors.print(f"[red]bansosctl cases:[/red] {escape(message)}", highlight=False)
    return typer.Exit(code)


def _scope_for(role: Role, near: str | None) -> RegionCode:
    """A token region for ``role``: ``near`` (a village or region) cut to the role's level."""
    levels = sorted(role.scope_levels, key=lambda level: level.depth, reverse=True)
    if near is not None:
        code = RegionCode.parse(near)
        for level in levels:
            if level.depth <= code.level.depth:
                return code.at_level(level)
    elif RegionLevel.NATIONAL in levels:
        return RegionCode.national()
    raise ValueError(f"a {role.value} token needs --scope (e.g. {levels[0].example})")


@dataclass(frozen=True)
class Who:
    """Whose token a command sends: ``BANSOS_TOKEN``, or one minted from the options."""

    role: str | None
    scope: str | None
    subject: str | None

    @property
    def needs_case(self) -> bool:
        """Whether minting needs the case (its stage's role or its village)."""
        return not os.environ.get("BANSOS_TOKEN") and (self.role is None or self.scope is None)

    def token(self, default: Role, near: str | None = None) -> str:
        given = os.environ.get("BANSOS_TOKEN")
        if given:
            if self.role or self.scope or self.subject:
                errors.print("--role, --scope and --subject are ignored: BANSOS_TOKEN is set")
            return given
        try:
            role = Role.parse(self.role) if self.role else default
            region = role.check_region(self.scope) if self.scope else _scope_for(role, near)
        except ValueError as error:
            raise _fail(str(error), 2) from None
        try:
            return issuer_from_settings(AuthSettings()).mint(
                role=role, region=region, subject=self.subject
            )
        except (ValueError, OSError) as error:
            raise _fail(f"cannot mint a development token ({error}); set BANSOS_TOKEN") from None


def _call(
    method: str,
    path: str,
    *,
    token: str,
    what: str,
    body: dict[str, Any] | None = None,
    content: bytes | None = None,
    content_type: str = "application/octet-stream",
    params: dict[str, Any] | None = None,
) -> Any:
    """One request; the answer's JSON when 2xx."""
    try:
        response = send(
            client, "objections", method, path, token=token, what=what, body=body,
            content=content, content_type=content_type, params=params,
        )  # fmt: skip
    except CallFailedError as error:
        raise _fail(str(error)) from None
    return response.json()


# --- local input, checked before anything is sent ---------------------------------------


@dataclass(frozen=True)
class Photo:
    """A ``--photo``: a file to upload first, or the hash of one uploaded before."""

    label: str
    content_hash: str | None = None
    file: Path | None = None
    data: bytes = b""
    media_type: str = "application/octet-stream"


def _media_type(file: Path) -> str:
    return _MEDIA_TYPES.get(file.suffix.lower(), "application/octet-stream")


def _read(file: Path) -> bytes:
    try:
        return file.read_bytes()
    except OSError as error:
        raise _fail(f"cannot read {file}: {error.strerror or error}", 2) from None


def _photos(values: list[str] | None) -> list[Photo]:
    photos: list[Photo] = []
    for value in values or []:
        label, equals, source = value.partition("=")
        label = label.strip().upper()
        if not equals or not label or not source:
            raise _fail(f"--photo {value!r} is not LABEL=FILE or LABEL=HASH", 2)
        if _HASH.match(source):
            photos.append(Photo(label, content_hash=source.lower()))
        else:
            file = Path(source)
            photos.append(Photo(label, file=file, data=_read(file), media_type=_media_type(file)))
    return photos


def _point(value: str | None) -> dict[str, float] | None:
    if value is None:
        return None
    try:
        latitude, longitude = (float(part) for part in value.split(","))
    except ValueError:
        latitude = longitude = math.nan
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        raise _fail(f"--at {value!r} is not LATITUDE,LONGITUDE in degrees (e.g. -7.55,112.23)", 2)
    return {"latitude": latitude, "longitude": longitude}


def _aware(value: str | None, option: str) -> str | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise _fail(f"{option} {value!r} is not an ISO 8601 date and time", 2) from None
    if moment.utcoffset() is None:
        raise _fail(f"{option} needs a UTC offset, e.g. 2025-11-03T09:30:00+07:00", 2)
    return moment.isoformat()


def _day(value: str | None, option: str) -> str | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        raise _fail(f"{option} {value!r} is not a date (YYYY-MM-DD)", 2) from None


def _request_id(given: str | None) -> str:
    request_id = given or uuid.uuid4().hex
    if given is None:
        errors.print(f"request id {request_id} (to retry: --request-id {request_id})")
    return request_id


def _evidence(photos: list[Photo], token: str) -> list[dict[str, Any]]:
    """Upload the photos given as files; cite every photo by its hash."""
    return [
        {
            "content_hash": photo.content_hash
            or _upload(photo.data, photo.media_type, token, f"photo {photo.file}"),
            "label": photo.label,
        }
        for photo in photos
    ]


def _upload(data: bytes, media_type: str, token: str, what: str) -> str:
    answer = _call(
        "POST", "/evidence", token=token, what=what, content=data, content_type=media_type
    )
    return str(answer["content_hash"])


# --- reads ----------------------------------------------------------------------------


@app.command("list")
def list_cases(
    region: RegionFilter = None,
    state: Annotated[State | None, typer.Option("--state", help="OPEN or RESOLVED.")] = None,
    kind: Annotated[CaseKind | None, typer.Option("--kind", help="The kind of case.")] = None,
    household: Annotated[str | None, typer.Option("--household", help="A household id.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 200,
    offset: Annotated[int, typer.Option(min=0)] = 0,
    as_json: AsJson = False,
    role: RoleOption = None,
    scope: ScopeOption = None,
    subject: SubjectOption = None,
) -> None:
    """The cases of a region, newest first."""
    rows = _call(
        "GET",
        "/cases",
        token=Who(role, scope, subject).token(Role.AUDITOR, region),
        what="cases",
        params={
            "region": region,
            "state": None if state is None else state.value,
            "kind": None if kind is None else kind.value,
            "household_id": household,
            "limit": limit,
            "offset": offset,
        },
    )
    if as_json:
        print_json(rows)
    else:
        print_cases(console, rows, offset)


@app.command()
def show(
    case_id: CaseId,
    as_json: AsJson = False,
    role: RoleOption = None,
    scope: ScopeOption = None,
    subject: SubjectOption = None,
) -> None:
    """A case and every step of its history."""
    token = Who(role, scope, subject).token(Role.AUDITOR)
    case = _call("GET", f"/cases/{case_id}", token=token, what="case")
    if as_json:
        print_json(case)
    else:
        print_case(console, case)


@app.command()
def overdue(
    region: RegionFilter = None,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 200,
    as_json: AsJson = False,
    role: RoleOption = None,
    scope: ScopeOption = None,
    subject: SubjectOption = None,
) -> None:
    """Open cases whose stage has outlived its service level, oldest first."""
    rows = _call(
        "GET",
        "/cases/overdue",
        token=Who(role, scope, subject).token(Role.AUDITOR, region),
        what="overdue cases",
        params={"region": region, "limit": limit},
    )
    if as_json:
        print_json(rows)
    else:
        print_overdue(console, rows)


@app.command()
def chains(
    as_json: AsJson = False,
    role: RoleOption = None,
    scope: ScopeOption = None,
    subject: SubjectOption = None,
) -> None:
    """Each kind's review chain: stages, their reviewers and service levels."""
    token = Who(role, scope, subject).token(Role.AUDITOR)
    answer = _call("GET", "/chains", token=token, what="chains")
    if as_json:
        print_json(answer)
    else:
        print_chains(console, answer)


# --- evidence and cases ---------------------------------------------------------------


@app.command()
def upload(
    file: Annotated[Path, typer.Argument(help="A JPEG, PNG or WebP photo.")],
    media_type: Annotated[
        str | None, typer.Option("--type", help="e.g. image/jpeg (default: by extension).")
    ] = None,
    as_json: AsJson = False,
    role: RoleOption = None,
    scope: ScopeOption = None,
    subject: SubjectOption = None,
) -> None:
    """Upload a photo; print its hash, to cite as --photo LABEL=HASH."""
    data = _read(file)
    token = Who(role, scope, subject).token(Role.VILLAGE_OPERATOR)
    answer = _call(
        "POST",
        "/evidence",
        token=token,
        what=f"photo {file}",
        content=data,
        content_type=media_type or _media_type(file),
    )
    if as_json:
        print_json(answer)
        return
    errors.print(f"{file}: {answer['media_type']}, {answer['size']:,} bytes", markup=False)
    print(answer["content_hash"])


@app.command("file")
def file_case(
    kind: Annotated[CaseKind, typer.Option("--kind", help="The kind of case.")],
    reason: Annotated[str, typer.Option("--reason", help="Its reason code (`cases chains`).")],
    text: Annotated[str, typer.Option("--text", help="What happened, in words.")] = "",
    household: Annotated[str | None, typer.Option("--household", help="A household id.")] = None,
    village: Annotated[
        str | None, typer.Option("--village", help="The village of an unregistered family.")
    ] = None,
    programs: Annotated[
        list[Program] | None, typer.Option("--program", help="A program (repeatable).")
    ] = None,
    photos: Photos = None,
    at: At = None,
    request_id: RequestId = None,
    as_json: AsJson = False,
    role: RoleOption = None,
    scope: ScopeOption = None,
    subject: SubjectOption = None,
) -> None:
    """File a case (or join the open one of the same kind for the same household)."""
    if household is not None and village is not None:
        raise _fail("give --household or --village, not both", 2)
    given = _photos(photos)
    location = _point(at)
    token = Who(role, scope, subject).token(Role.VILLAGE_OPERATOR, village)
    rid = _request_id(request_id)
    body = {
        "request_id": rid,
        "kind": kind.value,
        "reason_code": reason,
        "reason_text": text,
        "household_id": household,
        "village": village,
        "programs": [program.value for program in programs or []],
        "evidence": _evidence(given, token),
        "location": location,
    }
    case = _call("POST", "/cases", token=token, what="case", body=body)
    if as_json:
        print_json(case)
    else:
        print_result(
            console, case, "joined as a supporter" if case["merged"] else f"filed {kind.value}"
        )


def _token_for_case(who: Who, case_id: str, role_of: Callable[[dict[str, Any]], str]) -> str:
    """A token to act on a case: minting without --role and --scope reads the case first,
    for the role it needs (``role_of``) and its village."""
    if not who.needs_case:  # BANSOS_TOKEN, or both --role and --scope: no default is used
        return who.token(Role.AUDITOR)
    auditor = Who(None, None, None).token(Role.AUDITOR)
    case = _call("GET", f"/cases/{case_id}", token=auditor, what="case")
    return who.token(Role.parse(role_of(case)), case["village"])


@app.command()
def review(
    case_id: CaseId,
    stage: Annotated[ReviewStage, typer.Option("--stage", help="The stage reviewed.")],
    outcome: Annotated[ReviewOutcome, typer.Option("--outcome", help="What it concluded.")],
    notes: Annotated[str, typer.Option("--notes", help="Why (needed unless UPHELD).")] = "",
    effect: Annotated[
        CaseEffect | None, typer.Option("--effect", help="The final stage's effect.")
    ] = None,
    visited_at: Annotated[
        str | None, typer.Option("--visited-at", help="Field check: ISO 8601 with offset.")
    ] = None,
    at: At = None,
    photos: Photos = None,
    meeting_date: Annotated[
        str | None, typer.Option("--meeting-date", help="Musdesus: YYYY-MM-DD.")
    ] = None,
    attendance: Annotated[
        int | None, typer.Option("--attendance", min=1, help="Musdesus: how many attended.")
    ] = None,
    request_id: RequestId = None,
    as_json: AsJson = False,
    role: RoleOption = None,
    scope: ScopeOption = None,
    subject: SubjectOption = None,
) -> None:
    """One stage's review of a case (the final stage's resolves it)."""
    given = _photos(photos)
    body: dict[str, Any] = {
        "stage": stage.value,
        "outcome": outcome.value,
        "notes": notes,
        "effect": None if effect is None else effect.value,
        "visited_at": _aware(visited_at, "--visited-at"),
        "location": _point(at),
        "meeting_date": _day(meeting_date, "--meeting-date"),
        "attendance": attendance,
    }
    token = _token_for_case(
        Who(role, scope, subject), case_id, lambda case: (case["stage_roles"] or ["AUDITOR"])[0]
    )
    body["request_id"] = _request_id(request_id)
    body["evidence"] = _evidence(given, token)
    case = _call("POST", f"/cases/{case_id}/reviews", token=token, what="review", body=body)
    if as_json:
        print_json(case)
    else:
        print_result(console, case, f"{stage.value} {outcome.value}")


@app.command()
def withdraw(
    case_id: CaseId,
    notes: Annotated[str, typer.Option("--notes", help="Why.")] = "",
    request_id: RequestId = None,
    as_json: AsJson = False,
    role: RoleOption = None,
    scope: ScopeOption = None,
    subject: SubjectOption = None,
) -> None:
    """Withdraw a case you filed."""
    token = _token_for_case(Who(role, scope, subject), case_id, lambda case: case["filer_role"])
    body = {"request_id": _request_id(request_id), "notes": notes}
    case = _call("POST", f"/cases/{case_id}/withdrawal", token=token, what="withdrawal", body=body)
    if as_json:
        print_json(case)
    else:
        print_result(console, case, "withdrawn")


def register(cli: typer.Typer) -> None:
    """Add ``cases`` to the main command line."""
    cli.add_typer(app, name="cases")
