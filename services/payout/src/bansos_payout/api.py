"""The payout service's HTTP API.

Reads (staff of the payout's or the asked region):

- ``GET /payouts`` and ``GET /payouts/{id}``: payouts as the read model has them;
- ``GET /payouts/{id}/invitation``: the invitation letter of a POS payout still to
  collect, with its collection code (village, district and regency staff only: the
  only answer that ever carries a code);
- ``GET /reports/reconciliation`` and ``GET /summary``: the three-way reconciliation and
  the district summary of a program period.

Writes:

- ``POST /collections``: a PT Pos counter reports a collection (channel operators);
- ``POST /settlements`` and ``POST /banks/{bank}/results``: channel files, as the raw
  CSV body (channel operators, regency officers); ``GET /banks/{bank}/credit-instructions``
  writes a bank's credit file;
- ``POST /periods/{program}/{period}/expiry``: fail what was not collected in time;
- ``PUT /sptjm/{program}/{period}/villages/{village}``: the village's SPTJM reference;
- ``POST /reconciliations``: close failed payouts, backed by that SPTJM.

Every route first checks the caller's role (403), then their region: a payout outside
it is answered 404, as if it did not exist; a region asked for outside it is 403. No
answer or error message carries a collection code (except the invitation) or a NIK.
"""

# No ``from __future__ import annotations``: FastAPI reads the annotations at runtime.
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Query, Request, Response
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from bansos_contracts.enums import Bank, SettlementChannel
from bansos_libs.auth import Principal, RegionCode, RegionLevel, Role
from bansos_libs.auth.fastapi import authenticate, install_auth_error_handlers, require
from bansos_libs.auth.roles import STAFF_ROLES
from bansos_libs.context import ActorDict
from bansos_libs.http import read_body, validation_errors_without_input
from bansos_libs.settings import ServiceSettings
from bansos_libs.views import ViewDatabase, ViewUpdater
from bansos_payout.api_models import (
    COLUMNS,
    CollectionIn,
    CollectionOut,
    DistrictSummaryOut,
    ExpiryIn,
    ExpiryOut,
    FileReportOut,
    InvitationOut,
    MismatchOut,
    PayoutOut,
    ReconciledOut,
    ReconciliationIn,
    ReconciliationReportOut,
    ReconciliationRowOut,
    SptjmIn,
    SptjmOut,
    TotalsOut,
    redact,
)
from bansos_payout.application import PayoutApplication, PayoutSettings
from bansos_payout.desk import CounterDesk
from bansos_payout.domain.payout import PayoutRefusedError, PayoutState
from bansos_payout.files import FileFormatError, decode_file
from bansos_payout.reports import reconciliation, summary, unplaced_lines
from bansos_payout.schedule import ScheduleError
from bansos_payout.service import Collection, PayoutNotFoundError, PayoutService
from bansos_payout.views import BENEFICIARIES, PAYOUTS, PayoutView

__all__ = [
    "COLLECTORS",
    "EXPIRERS",
    "FILE_SENDERS",
    "INVITATION_READERS",
    "RECONCILERS",
    "REPORT_READERS",
    "SPTJM_ENTERERS",
    "STAFF",
    "create_api",
]

STAFF = STAFF_ROLES
"""Who may read payouts (within their region)."""
INVITATION_READERS = frozenset({Role.VILLAGE_OPERATOR, Role.DISTRICT_OFFICER, Role.REGENCY_OFFICER})
"""Who may print an invitation letter (it carries the collection code)."""
COLLECTORS = frozenset({Role.CHANNEL_OPERATOR})
"""Who may report a collection at the counter."""
FILE_SENDERS = frozenset({Role.CHANNEL_OPERATOR, Role.REGENCY_OFFICER})
"""Who may import channel files and fetch credit-instruction files."""
EXPIRERS = frozenset({Role.REGENCY_OFFICER, Role.SYSTEM})
"""Who may close a period's windows (fail what was not collected)."""
SPTJM_ENTERERS = frozenset({Role.VILLAGE_OPERATOR, Role.REGENCY_OFFICER})
"""Who may enter a village's SPTJM."""
RECONCILERS = frozenset({Role.REGENCY_OFFICER})
"""Who may reconcile failed payouts."""
REPORT_READERS = frozenset(
    {
        Role.REGENCY_OFFICER,
        Role.DISTRICT_OFFICER,
        Role.PROVINCE_OFFICER,
        Role.MINISTRY_OFFICER,
        Role.AUDITOR,
        Role.SYSTEM,
    }
)
"""Who may read the reconciliation report."""

CSV_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "The file itself (UTF-8 CSV with its header row), not a form.",
        "content": {"text/csv": {"schema": {"type": "string"}}},
    }
}

Caller = Annotated[Principal, Depends(authenticate)]

# --- helpers -----------------------------------------------------------------------------


def _actor(principal: Principal) -> ActorDict:
    actor = principal.actor()
    return {"role": actor["role"] or "", "id": actor["id"] or "", "region": actor["region"]}


def _scope(principal: Principal) -> str | None:
    """The region a command is confined to: ``None`` for national scope."""
    return None if principal.region.is_national else str(principal.region)


def _region(code: str, what: str = "region") -> str:
    try:
        return str(RegionCode.parse(code))
    except ValueError as error:
        raise HTTPException(422, f"{what}: {error}") from None


def _village(code: str) -> str:
    village = _region(code, "village")
    if RegionCode(village).level is not RegionLevel.VILLAGE:
        raise HTTPException(422, f"{code[:40]!r} is not a village code (e.g. 35.17.01.2001)")
    return village


def _in(column: str, region: str) -> tuple[str, list[str]]:
    """SQL matching ``column`` in ``region`` (anything for the nation)."""
    if region == str(RegionCode.national()):
        return "1 = 1", []
    return f"({column} = %s OR {column} LIKE %s)", [region, region + ".%"]


async def _read_file(request: Request, limit: int, name: str) -> str:
    """The request body as the text of a channel file, at most ``limit`` bytes."""
    return decode_file(await read_body(request, limit, "file"), name)


def _mismatch(data: dict[str, Any]) -> MismatchOut:
    return MismatchOut(
        kind=data["kind"],
        payout_id=data["payout_id"],
        detail=redact(data["detail"]),
        amount=data["amount"],
    )


def _error(status: int, detail: str, **more: Any) -> JSONResponse:
    return JSONResponse(status_code=status, content={"detail": redact(detail), **more})


# --- the application ---------------------------------------------------------------------


def create_api(
    app: PayoutApplication,
    settings: ServiceSettings,
    *,
    options: PayoutSettings | None = None,
) -> FastAPI:
    """The payout service's FastAPI application (health and ``/asyncapi`` are added by
    the runtime)."""
    options = options or PayoutSettings()
    schedules = options.schedules()
    signer = options.signer()
    view = ViewUpdater(app, PayoutView(), ViewDatabase(settings))
    database = view.database
    service = PayoutService(app, view, schedules, signer)
    desk = CounterDesk(service)
    limit = options.max_upload_bytes
    http = FastAPI(
        title="bansos payout",
        description="Payouts per household and program period: PT Pos collections, bank"
        " credit and result files, settlement files, expiry, SPTJM-backed reconciliation"
        " and the three-way reconciliation report.",
        version="1.0.0",
    )

    validation_errors_without_input(http)
    install_auth_error_handlers(http)

    @http.exception_handler(PayoutRefusedError)
    async def refused(request: Request, error: PayoutRefusedError) -> JSONResponse:
        return _error(409, str(error), code=error.code)

    @http.exception_handler(PayoutNotFoundError)
    async def not_found(request: Request, error: PayoutNotFoundError) -> JSONResponse:
        return _error(404, str(error))

    @http.exception_handler(FileFormatError)
    async def bad_file(request: Request, error: FileFormatError) -> JSONResponse:
        return _error(422, f"the file cannot be read: {error}")

    @http.exception_handler(ScheduleError)
    async def no_schedule(request: Request, error: ScheduleError) -> JSONResponse:
        return _error(404, str(error))

    def schedule_of(program: str, period: str) -> None:
        if (program, period) not in schedules:
            raise HTTPException(404, f"no payout schedule for {program[:40]} {period[:40]}")

    def regions_of(scope: str, program: str, period: str) -> list[str]:
        """``scope``, or for the nation each province that has payouts or households."""
        if scope != str(RegionCode.national()):
            return [scope]
        with database.transaction() as sql:
            rows = sql.execute(
                f"SELECT DISTINCT substr(village, 1, 2) FROM {PAYOUTS}"
                " WHERE program = %s AND period = %s"
                f" UNION SELECT DISTINCT substr(village, 1, 2) FROM {BENEFICIARIES}",
                (program, period),
            ).fetchall()
        return sorted(str(row[0]) for row in rows)

    def asked(principal: Principal, region: str | None) -> str:
        return _region(region) if region else str(principal.region)

    # -- reads --------------------------------------------------------------------------

    @http.get("/payouts", response_model=list[PayoutOut], tags=["payouts"])
    def list_payouts(
        principal: Caller,
        program: str | None = None,
        period: str | None = None,
        village: Annotated[
            str | None, Query(description="A village, or any region code (default: yours).")
        ] = None,
        state: str | None = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
        offset: Annotated[int, Query(ge=0)] = 0,
    ) -> list[PayoutOut]:
        """Payouts in a region, in payout id order."""
        scope = asked(principal, village)
        require(principal, STAFF, region=scope, action="read payouts")
        where, params = _in("village", scope)
        for column, value in (("program", program), ("period", period), ("state", state)):
            if value is not None:
                where += f" AND {column} = %s"
                params.append(value)
        service.fresh()
        with database.transaction() as sql:
            rows = sql.execute(
                f"SELECT {COLUMNS} FROM {PAYOUTS} WHERE {where}"
                " ORDER BY payout_id LIMIT %s OFFSET %s",
                (*params, limit, offset),
            ).fetchall()
        return [PayoutOut.of(row) for row in rows]

    @http.get(
        "/payouts/{payout_id}",
        response_model=PayoutOut,
        tags=["payouts"],
        responses={404: {"description": "No such payout in your region."}},
    )
    def get_payout(payout_id: str, principal: Caller) -> PayoutOut:
        """One payout: windows, what was reported and settled, how it ended."""
        require(principal, STAFF, action="read payouts")  # before saying whether it exists
        service.fresh()
        with database.transaction() as sql:
            row = sql.execute(
                f"SELECT {COLUMNS} FROM {PAYOUTS} WHERE payout_id = %s", (payout_id,)
            ).fetchone()
        if row is None or not principal.can_act_on(str(row[4])):
            raise PayoutNotFoundError(f"no payout {payout_id[:80]}")
        return PayoutOut.of(row)

    @http.get(
        "/payouts/{payout_id}/invitation",
        response_model=InvitationOut,
        tags=["payouts"],
        responses={
            404: {"description": "No such payout in your region."},
            409: {"description": "NOT_COLLECTABLE: not a POS payout still to collect."},
        },
    )
    def invitation(payout_id: str, principal: Caller) -> InvitationOut:
        """The invitation letter of a POS payout still to collect, with its code."""
        require(principal, INVITATION_READERS, action="print invitation letters")
        payout = service.payout(payout_id, _scope(principal))
        code = service.collection_code(payout)
        if code is None:
            raise PayoutRefusedError(
                "NOT_COLLECTABLE",
                f"payout {payout.payout_id} is {payout.state} and paid by {payout.channel}:"
                f" only a {PayoutState.SCHEDULED} POS payout has an invitation",
            )
        return InvitationOut(
            payout_id=payout.payout_id,
            household_id=payout.household_id,
            program=payout.program,
            period=payout.period,
            amount=payout.amount,
            windows=payout.windows,
            location=payout.location,
            collection_code=code,
        )

    # -- the PT Pos counter ---------------------------------------------------------------

    @http.post(
        "/collections",
        response_model=CollectionOut,
        status_code=201,
        tags=["channels"],
        responses={
            200: {"description": "The same report was recorded before: nothing changed."},
            404: {"description": "No such payout in your region."},
            409: {"description": "Refused; `code` says why (INVALID_CODE, OUTSIDE_WINDOW…)."},
        },
    )
    def collect(body: CollectionIn, principal: Caller, response: Response) -> CollectionOut:
        """A collection at the counter: checked against the code, the windows and the
        amount; repeating the same report changes nothing."""
        require(principal, COLLECTORS, action="report collections")
        payout, changed = desk.collect(
            Collection(
                payout_id=body.payout_id,
                code=body.collection_code,
                amount=body.amount,
                at=body.collected_at.astimezone(UTC),
                reference=body.channel_reference,
                actor=_actor(principal),
                region=_scope(principal),
            )
        )
        if not changed:
            response.status_code = 200
        return CollectionOut(payout_id=payout.payout_id, state=payout.state, recorded=changed)

    # -- channel files --------------------------------------------------------------------

    @http.post(
        "/settlements",
        response_model=FileReportOut,
        tags=["channels"],
        openapi_extra=CSV_BODY,
        responses={413: {"description": "Too large."}, 422: {"description": "Unreadable."}},
    )
    async def import_settlement(
        request: Request,
        principal: Caller,
        channel: SettlementChannel,
        name: Annotated[str | None, Query(max_length=256)] = None,
    ) -> FileReportOut:
        """A settlement file (PT Pos or a bank): what the channel says it paid."""
        require(principal, FILE_SENDERS, action="import settlement files")
        text = await _read_file(request, limit, name or "settlement")
        report = await run_in_threadpool(
            service.import_settlement,
            text,
            channel=channel.value,
            name=name,
            actor=_actor(principal),
            region=_scope(principal),
        )
        return FileReportOut.of(report)

    @http.post(
        "/banks/{bank}/results",
        response_model=FileReportOut,
        tags=["channels"],
        openapi_extra=CSV_BODY,
        responses={413: {"description": "Too large."}, 422: {"description": "Unreadable."}},
    )
    async def import_bank_result(
        bank: Bank,
        request: Request,
        principal: Caller,
        name: Annotated[str | None, Query(max_length=256)] = None,
    ) -> FileReportOut:
        """A bank's result file: each credit credited, or rejected (then paid by PT Pos)."""
        require(principal, FILE_SENDERS, action="import bank result files")
        text = await _read_file(request, limit, name or "bank-result")
        report = await run_in_threadpool(
            service.import_bank_result,
            text,
            bank=bank.value,
            name=name,
            actor=_actor(principal),
            region=_scope(principal),
        )
        return FileReportOut.of(report)

    @http.get(
        "/banks/{bank}/credit-instructions",
        response_class=Response,
        tags=["channels"],
        responses={200: {"content": {"text/csv": {}}, "description": "The credit file."}},
    )
    def credit_instructions(
        bank: Bank,
        principal: Caller,
        program: str,
        period: str,
        region: str | None = None,
    ) -> Response:
        """The credit-instruction file of one bank: its payouts still to credit."""
        scope = asked(principal, region)
        require(principal, FILE_SENDERS, region=scope, action="fetch credit-instruction files")
        schedule_of(program, period)
        header, lines = "", []
        for part in regions_of(scope, program, period) or [scope]:
            text = service.credit_instructions(program, period, bank.value, part)
            first, _, rest = text.partition("\n")
            header = first + "\n"
            lines.append(rest)
        filename = f"credit-{bank.value}-{program}-{period}-{scope}.csv".replace("..", "_")
        return Response(
            header + "".join(lines),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )

    # -- the end of the period ----------------------------------------------------------

    @http.post(
        "/periods/{program}/{period}/expiry",
        response_model=ExpiryOut,
        tags=["period end"],
        responses={404: {"description": "No payout schedule for the program period."}},
    )
    def expire(program: str, period: str, body: ExpiryIn, principal: Caller) -> ExpiryOut:
        """Fail every unpaid payout of the region whose last window has ended."""
        region = _region(body.region)
        require(principal, EXPIRERS, region=region, action="expire payouts")
        schedule_of(program, period)
        now = datetime.now(UTC)
        as_of = (body.as_of or now).astimezone(UTC)
        if as_of > now:
            raise HTTPException(422, "as_of is in the future")
        failed = sum(
            service.expire(
                program=program, period=period, region=part, now=as_of, actor=_actor(principal)
            )
            for part in regions_of(region, program, period)
        )
        return ExpiryOut(failed=failed)

    @http.put(
        "/sptjm/{program}/{period}/villages/{village}",
        response_model=SptjmOut,
        tags=["period end"],
        responses={
            201: {"description": "Entered."},
            409: {"description": "SPTJM_ALREADY_ENTERED: another reference was entered."},
        },
    )
    def enter_sptjm(
        program: str, period: str, village: str, body: SptjmIn, principal: Caller,
        response: Response,
    ) -> SptjmOut:  # fmt: skip
        """Enter the SPTJM the village signed; entering the same again changes nothing."""
        code = _village(village)
        require(principal, SPTJM_ENTERERS, region=code, action="enter a village's SPTJM")
        schedule_of(program, period)
        created = service.enter_sptjm(
            program=program,
            period=period,
            village=code,
            reference=body.reference,
            actor=_actor(principal),
        )
        response.status_code = 201 if created else 200
        return SptjmOut(
            program=program, period=period, village=code, reference=body.reference,
            created=created,
        )  # fmt: skip

    @http.post(
        "/reconciliations",
        response_model=ReconciledOut,
        tags=["period end"],
        responses={
            404: {"description": "No such program period, or a payout not in the village."},
            409: {"description": "Refused; `code` says why (NO_SPTJM, SPTJM_DIFFERS…)."},
        },
    )
    def reconcile(body: ReconciliationIn, principal: Caller) -> ReconciledOut:
        """Close failed payouts of a village as returned to the treasury or reissued."""
        village = _village(body.village)
        require(principal, RECONCILERS, region=village, action="reconcile failed payouts")
        schedule_of(body.program, body.period)
        if body.payout_ids is None:
            ids = service.failed_in(body.program, body.period, village)
        else:
            prefix = f"{body.program}:{body.period}:"
            stray = next((i for i in body.payout_ids if not i.startswith(prefix)), None)
            if stray is not None:
                raise HTTPException(
                    422, f"payout {stray[:80]} is not of {body.program} {body.period}"
                )
            ids = list(dict.fromkeys(body.payout_ids))
        count = service.reconcile(
            ids,
            outcome=body.outcome.value,
            sptjm_reference=body.sptjm_reference,
            actor=_actor(principal),
            region=village,
        )
        return ReconciledOut(reconciled=count)

    # -- reports --------------------------------------------------------------------------

    @http.get("/reports/reconciliation", response_model=ReconciliationReportOut, tags=["reports"])
    def reconciliation_report(
        principal: Caller, program: str, period: str, region: str | None = None
    ) -> ReconciliationReportOut:
        """The three-way reconciliation per village and channel: instructed, reported,
        settled, failed, outstanding — with every mismatch."""
        scope = asked(principal, region)
        require(principal, REPORT_READERS, region=scope, action="read reconciliation reports")
        schedule_of(program, period)
        service.fresh()
        parts = regions_of(scope, program, period)
        with database.transaction() as sql:
            rows = [row for part in parts for row in reconciliation(sql, program, period, part)]
            national = scope == str(RegionCode.national())
            unplaced = unplaced_lines(sql, program, period, None if national else scope)
        out = []
        for row in rows:
            data = row.as_dict()
            data["mismatches"] = [_mismatch(m) for m in data["mismatches"]]
            out.append(ReconciliationRowOut.model_validate(data))
        totals = TotalsOut(
            **{name: sum(getattr(row, name) for row in rows) for name in TotalsOut.model_fields}
        )
        return ReconciliationReportOut(
            program=program,
            period=period,
            region=scope,
            rows=out,
            unplaced=[_mismatch(m.__dict__) for m in unplaced],
            totals=totals,
            balanced=all(row.balanced for row in rows) and not unplaced,
        )

    @http.get("/summary", response_model=list[DistrictSummaryOut], tags=["reports"])
    def district_summary(
        principal: Caller, program: str, period: str, region: str | None = None
    ) -> list[DistrictSummaryOut]:
        """Per district of the region: households, payouts by outcome and channel, rupiah."""
        scope = asked(principal, region)
        require(principal, STAFF, region=scope, action="read payout summaries")
        schedule_of(program, period)
        service.fresh()
        parts = regions_of(scope, program, period)
        with database.transaction() as sql:
            districts = [d for part in parts for d in summary(sql, program, period, part)]
        return [DistrictSummaryOut.model_validate(asdict(d)) for d in districts]

    return http
