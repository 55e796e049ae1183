"""The objections service's HTTP API.

- ``POST /evidence``: upload one photo as the request body (``image/jpeg``, ``image/png``
  or ``image/webp``); it is checked (type, size, structure) and stored by content hash,
  which cases and reviews then cite. ``GET /evidence/{hash}`` gives it back to staff.
- ``POST /cases``: file a proposal, objection, refusal or complaint (or join the open
  case of the same kind for the same household). ``GET /cases``, ``GET /cases/{id}``:
  the cases of the caller's region (a citizen: the cases they filed), with history.
- ``POST /cases/{id}/reviews``: one stage's review; ``POST /cases/{id}/withdrawal``.
- ``GET /cases/overdue``: open cases whose stage has outlived its service level.
- ``GET /chains``: the review chains, their reviewers and service levels.

A refusal answers 403 (role or region, saying which), 409 (the case's state), 422 (what
is wrong with the request), 413/415 (an upload too large or not an accepted photo) or
429 (the monthly limit), always with ``detail`` and, for case rules, a ``code``.
"""

# No ``from __future__ import annotations``: FastAPI reads the annotations at runtime.
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Query, Request, Response
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from bansos_contracts.enums import CaseKind
from bansos_libs.auth import Principal, RegionCode, Role
from bansos_libs.auth.fastapi import authenticate, install_auth_error_handlers
from bansos_libs.http import read_body, validation_errors_without_input
from bansos_libs.registry_client import RegistryUnavailableError
from bansos_libs.settings import ServiceSettings
from bansos_libs.views import ViewDatabase
from bansos_objections import policy
from bansos_objections.api_models import (
    CaseOut,
    CaseRowOut,
    OverdueOut,
    ReviewIn,
    StepOut,
    StoredEvidenceOut,
    SubmissionIn,
    WithdrawalIn,
)
from bansos_objections.domain.case import CaseRefusedError, case_uuid
from bansos_objections.evidence import ALLOWED_MEDIA_TYPES, EvidenceRejectedError
from bansos_objections.history import steps_of
from bansos_objections.service import CaseNotFoundError, CaseResult, CaseService
from bansos_objections.views import CASES

__all__ = ["create_api"]

Caller = Annotated[Principal, Depends(authenticate)]

_CONFLICTS = frozenset({"WRONG_STAGE", "CASE_CLOSED"})
_FORBIDDEN = frozenset({"WRONG_ROLE", "NOT_INDEPENDENT", "NOT_FILER"})
_UPLOAD_STATUS = {"TOO_LARGE": 413, "WRONG_TYPE": 415, "TYPE_MISMATCH": 415}

PHOTO_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "The photo itself as the body, not a form.",
        "content": {
            t: {"schema": {"type": "string", "format": "binary"}} for t in ALLOWED_MEDIA_TYPES
        },
    }
}


def _status(code: str) -> int:
    if code in _CONFLICTS:
        return 409
    if code in _FORBIDDEN:
        return 403
    return 429 if code == "LIMIT_REACHED" else 422


def _in(column: str, region: RegionCode) -> tuple[str, list[str]]:
    if region.is_national:
        return "1 = 1", []
    return f"({column} = %s OR {column} LIKE %s)", [str(region), f"{region}.%"]


def create_api(
    app: Any, settings: ServiceSettings, *, service: CaseService | None = None
) -> FastAPI:
    """The objections service's FastAPI application (health and ``/asyncapi`` are added by
    the runtime)."""
    if service is None:
        from bansos_objections.bootstrap import case_service  # the composition root

        service = case_service(app)
    cases = service
    database = ViewDatabase(settings)
    http = FastAPI(
        title="bansos objections",
        description="Citizens' proposals, objections, refusals and complaints, their evidence"
        " and their review from the field check to the ministry.",
        version="1.0.0",
    )
    validation_errors_without_input(http)
    install_auth_error_handlers(http)

    @http.exception_handler(CaseRefusedError)
    async def refused(request: Request, error: CaseRefusedError) -> JSONResponse:
        return JSONResponse(
            status_code=_status(error.code), content={"detail": str(error), "code": error.code}
        )

    @http.exception_handler(EvidenceRejectedError)
    async def rejected(request: Request, error: EvidenceRejectedError) -> JSONResponse:
        status = _UPLOAD_STATUS.get(error.code, 422)
        return JSONResponse(status_code=status, content={"detail": str(error), "code": error.code})

    @http.exception_handler(CaseNotFoundError)
    async def not_found(request: Request, error: CaseNotFoundError) -> JSONResponse:
        return JSONResponse(status_code=404, content={"detail": str(error)})

    @http.exception_handler(RegistryUnavailableError)
    async def no_registry(request: Request, error: RegistryUnavailableError) -> JSONResponse:
        return JSONResponse(
            status_code=503, content={"detail": f"the registry cannot answer now: {error}"}
        )

    def answer(result: CaseResult) -> CaseOut:
        case = result.case
        events = cases.app.repository.event_store.get(case_uuid(case.case_id))
        steps = [
            StepOut(**{**s, "actor_role": s["actor"]["role"], "actor_id": s["actor"]["id"]})
            for s in steps_of(events)
        ]
        return CaseOut.of(case, steps, changed=result.changed, merged=result.merged)

    # -- evidence ------------------------------------------------------------------------

    @http.post(
        "/evidence", status_code=201, response_model=StoredEvidenceOut, openapi_extra=PHOTO_BODY
    )
    async def upload(request: Request, principal: Caller) -> StoredEvidenceOut:
        """Upload one photo; cite it in a case or review by the hash answered."""
        policy.check_uploader(principal)
        limit = cases.evidence.max_bytes
        data = await read_body(request, limit, "photo")
        declared = request.headers.get("content-type")
        stored = await run_in_threadpool(cases.evidence.upload, data, declared)
        return StoredEvidenceOut(
            content_hash=stored.content_hash, media_type=stored.media_type, size=stored.size
        )

    @http.get("/evidence/{content_hash}", response_class=Response)
    def photo(content_hash: str, principal: Caller) -> Response:
        """A stored photo (staff only)."""
        principal.require(policy.READERS, action="see evidence")
        if len(content_hash) != 64 or any(c not in "0123456789abcdef" for c in content_hash):
            raise HTTPException(422, "a content hash is 64 lower-case hex digits")
        found = cases.evidence.store.get(content_hash)
        if found is None:
            raise HTTPException(404, f"no evidence {content_hash[:16]}…")
        data, media_type = found
        return Response(data, media_type=media_type)

    # -- cases ---------------------------------------------------------------------------

    @http.post("/cases", response_model=CaseOut, status_code=201)
    def submit(body: SubmissionIn, principal: Caller, response: Response) -> CaseOut:
        """File a case; 201 when opened, 200 when repeated or merged into an open case."""
        result = cases.submit(principal, body.value())
        if not result.changed or result.merged:
            response.status_code = 200
        return answer(result)

    @http.get("/cases/overdue", response_model=list[OverdueOut])
    def overdue(
        principal: Caller,
        region: Annotated[
            str | None, Query(description="Within your region; yours by default.")
        ] = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    ) -> list[OverdueOut]:
        """Open cases whose current stage has passed its service level, oldest first."""
        scope = _scope(principal, region)
        now = datetime.now(UTC)
        where, params = _in("village", scope)
        with database.transaction() as sql:
            rows = sql.execute(
                f"SELECT case_id, kind, village, stage, due_at FROM {CASES}"
                f" WHERE state = 'OPEN' AND due_at < %s AND {where} ORDER BY due_at LIMIT %s",
                (now.isoformat(), *params, limit),
            ).fetchall()
        return [
            OverdueOut(
                case_id=r[0],
                kind=r[1],
                village=r[2],
                stage=r[3],
                due_at=r[4],
                days_overdue=(now - datetime.fromisoformat(r[4])).days,
            )
            for r in rows
        ]

    @http.get("/cases", response_model=list[CaseRowOut])
    def list_cases(
        principal: Caller,
        region: Annotated[
            str | None, Query(description="Within your region; yours by default.")
        ] = None,
        state: Annotated[str | None, Query(pattern="^(OPEN|RESOLVED)$")] = None,
        kind: CaseKind | None = None,
        household_id: Annotated[str | None, Query(max_length=128)] = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 200,
        offset: Annotated[int, Query(ge=0)] = 0,
    ) -> list[CaseRowOut]:
        """Cases of your region (a citizen: the cases they filed), newest first."""
        if principal.role is Role.CITIZEN:
            where, params = "filer_id = %s", [principal.subject]
        else:
            where, params = _in("village", _scope(principal, region))
        for column, value in (("state", state), ("kind", kind), ("household_id", household_id)):
            if value is not None:
                where += f" AND {column} = %s"
                params.append(str(value))
        with database.transaction() as sql:
            rows = sql.execute(
                f"SELECT case_id, kind, household_id, village, state, stage, due_at, supporters,"
                f" outcome, effect, submitted_at FROM {CASES} WHERE {where}"
                " ORDER BY submitted_at DESC, case_id LIMIT %s OFFSET %s",
                (*params, limit, offset),
            ).fetchall()
        names = CaseRowOut.model_fields
        return [CaseRowOut(**dict(zip(names, row, strict=True))) for row in rows]

    @http.get("/cases/{case_id}", response_model=CaseOut)
    def show(case_id: str, principal: Caller) -> CaseOut:
        """A case with its history."""
        return answer(CaseResult(cases.readable_case(principal, case_id), changed=False))

    @http.post("/cases/{case_id}/reviews", response_model=CaseOut)
    def review(case_id: str, body: ReviewIn, principal: Caller) -> CaseOut:
        """One stage's review (the final stage's resolves the case)."""
        return answer(cases.review(principal, case_id, body.value()))

    @http.post("/cases/{case_id}/withdrawal", response_model=CaseOut)
    def withdraw(case_id: str, body: WithdrawalIn, principal: Caller) -> CaseOut:
        """The filer withdraws their open case."""
        return answer(cases.withdraw(principal, case_id, body.value()))

    @http.get("/chains")
    def chains(principal: Caller) -> dict[str, Any]:
        """The review chain of each kind of case: stages, reviewers, service levels."""
        return {
            kind.value: {
                "chain": rules.chain_name,
                "stages": [stage.as_dict() for stage in rules.stages],
                "effects": [effect.value for effect in rules.effects],
                "reasons": list(rules.reasons),
            }
            for kind, rules in cases.chains.kinds.items()
        }

    return http


def _scope(principal: Principal, region: str | None) -> RegionCode:
    """The region to list: the caller's own, or one inside it."""
    principal.require(policy.READERS, action="list cases")
    if region is None:
        return principal.region
    try:
        code = RegionCode.parse(region)
    except ValueError as error:
        raise HTTPException(422, f"region: {error}") from None
    principal.require(region=code, action="list cases")
    return code
