"""The eligibility service's HTTP API.

- ``GET /programs``: the open program periods and their rulesets (public).
- ``GET /households/{id}/eligibility`` and ``/status``: staff of the household's region.
- ``POST /status``: the citizen's Cek Bansos check by NIK, name and village; public,
  rate-limited per client, and it answers the same "no match" whatever part differed.
- ``GET /lists/{program}/{period}/villages/{village}``: a village list (staff);
  ``POST …/verification`` by the village's operator, ``POST …/approval`` by an officer
  of its regency who did not verify it.
"""

# No ``from __future__ import annotations``: FastAPI reads the annotations at runtime.
import json
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from bansos_contracts.enums import ExclusionReason
from bansos_eligibility.application import EligibilityApplication, EligibilitySettings
from bansos_eligibility.domain.beneficiary_list import ListError
from bansos_eligibility.lists import ListService, ListState, UnknownProgramPeriodError
from bansos_eligibility.status import StatusAnswer, read_status
from bansos_eligibility.views import DECISIONS, LISTS, EligibilityView
from bansos_libs.auth import Principal, RegionCode, RegionLevel, Role
from bansos_libs.auth.fastapi import authenticate, require
from bansos_libs.auth.roles import STAFF_ROLES
from bansos_libs.auth.service import ServiceTokens
from bansos_libs.context import ActorDict
from bansos_libs.http import validation_errors_without_input
from bansos_libs.ratelimit import RateLimiter
from bansos_libs.registry_client import (
    Identify,
    RegistryClient,
    RegistryUnavailableError,
)
from bansos_libs.settings import ServiceSettings
from bansos_libs.views import ViewDatabase, ViewUpdater

STAFF = STAFF_ROLES
NO_MATCH = "no household matches this NIK, name and region"
VILLAGE = r"^[0-9]{2}\.[0-9]{2}\.[0-9]{2}\.[0-9]{4}$"

Caller = Annotated[Principal, Depends(authenticate)]


class StatusQuery(BaseModel):
    """The citizen's check: NIK, the name as on the KTP, and the village (in the body)."""

    nik: str = Field(pattern=r"^[0-9]{16}$", description="The head's NIK, 16 digits.")
    name: str = Field(min_length=1, max_length=100, description="The name as on the KTP.")
    village: str = Field(pattern=VILLAGE, description="Kemendagri village code.")


class DecisionOut(BaseModel):
    """A household's current decision for one program period (staff view)."""

    program: str
    period: str
    status: str
    previous_status: str | None
    reasons: list[dict[str, Any]]
    ruleset_id: str
    ruleset_version: int
    ruleset_hash: str
    village: str
    decided_at: str


class ExcludedIn(BaseModel):
    """A household the village left off the list, and why."""

    household_id: str = Field(min_length=1, max_length=128)
    reason: ExclusionReason
    note: str | None = Field(default=None, max_length=500)


class VerificationIn(BaseModel):
    """The Musdesus outcome: every eligible household either valid or excluded."""

    valid: list[str] = Field(description="Households confirmed (VALID).")
    excluded: list[ExcludedIn] = Field(default_factory=list)
    notes: str = Field(default="", max_length=4000, description="The Musdesus minute.")


class ApprovalIn(BaseModel):
    """The regency's approval of the verified list it reviewed."""

    expected_households: int | None = Field(
        default=None, ge=0, description="The number of households the approver reviewed."
    )


class ListOut(BaseModel):
    """A village list for a program period."""

    list_id: str
    program: str
    period: str
    village: str
    stage: str | None
    eligible: list[str]
    entries: list[dict[str, Any]]
    verified_by: str | None
    approved_by: str | None

    @classmethod
    def of(cls, state: ListState) -> "ListOut":
        return cls(**state.__dict__)


def _actor(principal: Principal) -> ActorDict:
    actor = principal.actor()
    return {"role": actor["role"] or "", "id": actor["id"] or "", "region": actor["region"]}


def create_api(
    app: EligibilityApplication,
    settings: ServiceSettings,
    *,
    options: EligibilitySettings | None = None,
    identify: Identify | None = None,
) -> FastAPI:
    """The eligibility service's FastAPI application."""
    options = options or EligibilitySettings()
    rulesets = options.rulesets()
    view = ViewUpdater(app, EligibilityView(), ViewDatabase(settings))
    database = view.database
    lists = ListService(app, view, rulesets)
    identify = identify or RegistryClient(
        options.registry_url, ServiceTokens("eligibility", options.service_token)
    )
    limiter = RateLimiter(options.status_requests_per_minute, options.status_burst)
    http = FastAPI(
        title="bansos eligibility",
        description="Decisions with their proof, beneficiary lists and the citizen's status.",
        version="1.0.0",
    )

    validation_errors_without_input(http)

    @http.exception_handler(ListError)
    async def list_error(request: Request, error: ListError) -> JSONResponse:
        return JSONResponse(
            status_code=409 if error.conflict else 422, content={"detail": str(error)}
        )

    @http.exception_handler(UnknownProgramPeriodError)
    async def unknown_period(request: Request, error: UnknownProgramPeriodError) -> JSONResponse:
        return JSONResponse(status_code=404, content={"detail": str(error)})

    def village_of(household_id: str) -> str:
        with database.transaction() as sql:
            row = sql.execute(
                f"SELECT village FROM {DECISIONS} WHERE household_id = %s LIMIT 1",
                (household_id,),
            ).fetchone()
        if row is None:
            raise HTTPException(404, f"no decision about household {household_id}")
        return str(row[0])

    @http.get("/programs")
    def programs() -> list[dict[str, Any]]:
        """The open program periods: ruleset id, version, content hash, amount."""
        return [
            {
                "ruleset_id": r.id,
                "version": r.version,
                "content_hash": r.content_hash,
                "program": r.program.value,
                "period": r.period,
                "title": r.title,
                "amount": r.amount.model_dump(mode="json"),
            }
            for r in rulesets
        ]

    @http.get("/summary")
    def summary(principal: Caller, region: str | None = None) -> list[dict[str, Any]]:
        """Households per program period and status, and lists per stage, in a region
        (default: the caller's own)."""
        scope = str(RegionCode.parse(region)) if region else str(principal.region)
        require(principal, STAFF, region=scope, action="read a summary")
        prefix = "" if scope == str(RegionCode.national()) else scope
        with database.transaction() as sql:
            decided = sql.execute(
                f"SELECT program, period, status, count(*) FROM {DECISIONS} "
                "WHERE village LIKE %s GROUP BY program, period, status",
                (prefix + "%",),
            ).fetchall()
            staged = sql.execute(
                f"SELECT program, period, stage, count(*) FROM {LISTS} "
                "WHERE village LIKE %s GROUP BY program, period, stage",
                (prefix + "%",),
            ).fetchall()
        rows: dict[tuple[str, str], dict[str, Any]] = {}
        for program, period, status, count in decided:
            row = rows.setdefault((program, period), {"program": program, "period": period})
            row[status.lower()] = int(count)
        for program, period, stage, count in staged:
            row = rows.setdefault((program, period), {"program": program, "period": period})
            row[f"lists_{stage.lower()}"] = int(count)
        return [rows[key] for key in sorted(rows)]

    @http.get("/households/{household_id}/eligibility", response_model=list[DecisionOut])
    def eligibility(household_id: str, principal: Caller) -> list[DecisionOut]:
        require(principal, STAFF, action="read decisions")  # before saying whether it exists
        require(principal, region=village_of(household_id), action="read decisions")
        with database.transaction() as sql:
            rows = sql.execute(
                f"SELECT program, period, status, previous_status, reasons, ruleset_id,"
                f" ruleset_version, ruleset_hash, village, decided_at FROM {DECISIONS}"
                " WHERE household_id = %s ORDER BY program, period",
                (household_id,),
            ).fetchall()
        return [
            DecisionOut(
                program=r[0],
                period=r[1],
                status=r[2],
                previous_status=r[3],
                reasons=json.loads(r[4]),
                ruleset_id=r[5],
                ruleset_version=r[6],
                ruleset_hash=r[7],
                village=r[8],
                decided_at=r[9],
            )
            for r in rows
        ]

    @http.get("/households/{household_id}/status", response_model=StatusAnswer)
    def staff_status(household_id: str, principal: Caller) -> StatusAnswer:
        require(principal, STAFF, action="read a status")  # before saying whether it exists
        require(principal, region=village_of(household_id), action="read a status")
        with database.transaction() as sql:
            found = read_status(sql, household_id)
        assert found is not None  # village_of found a decision
        return found[0]

    @http.post(
        "/status",
        response_model=StatusAnswer,
        responses={404: {"description": NO_MATCH}, 429: {"description": "Too many requests."}},
    )
    def citizen_status(query: StatusQuery, request: Request) -> Any:
        """Cek Bansos: the status of the household headed by this NIK, name and village."""
        client = request.client.host if request.client else "unknown"
        wait = limiter.acquire(client)
        if wait > 0:
            return JSONResponse(
                status_code=429,
                content={"detail": f"too many status checks; try again in {wait:.0f} s"},
                headers={"Retry-After": str(max(1, round(wait)))},
            )
        try:
            who = identify(query.nik, query.name, query.village)
        except RegistryUnavailableError:
            raise HTTPException(503, "the register cannot be reached; try again later") from None
        if who is None:
            raise HTTPException(404, NO_MATCH)
        with database.transaction() as sql:
            found = read_status(sql, who.household_id)
        if found is None:  # known to the register, not yet decided on
            return StatusAnswer(
                household_id=who.household_id,
                head_name=who.head_name_masked,
                programs=[],
                open_cases=[],
            )
        return found[0].model_copy(update={"head_name": who.head_name_masked})

    @http.get("/lists/{program}/{period}/villages/{village}", response_model=ListOut)
    def get_list(program: str, period: str, village: str, principal: Caller) -> ListOut:
        require(principal, STAFF, region=_village(village), action="read a beneficiary list")
        return ListOut.of(lists.state(program, period, village))

    @http.post("/lists/{program}/{period}/villages/{village}/verification", response_model=ListOut)
    def verify(
        program: str, period: str, village: str, body: VerificationIn, principal: Caller
    ) -> ListOut:
        """The village records its Musdesus verdict; repeating it changes nothing."""
        require(
            principal,
            {Role.VILLAGE_OPERATOR},
            region=_village(village),
            action="verify a village's beneficiary list",
        )
        excluded: dict[str, dict[str, Any]] = {}
        for entry in body.excluded:
            if entry.household_id in excluded:
                raise HTTPException(422, f"household {entry.household_id} is excluded twice")
            excluded[entry.household_id] = {"reason": entry.reason.value, "note": entry.note}
        return ListOut.of(
            lists.verify(
                program,
                period,
                village,
                valid=body.valid,
                excluded=excluded,
                notes=body.notes,
                actor=_actor(principal),
            )
        )

    @http.post("/lists/{program}/{period}/villages/{village}/approval", response_model=ListOut)
    def approve(
        program: str, period: str, village: str, body: ApprovalIn, principal: Caller
    ) -> ListOut:
        """The regency approves a verified list; repeating it changes nothing."""
        require(
            principal,
            {Role.REGENCY_OFFICER},
            region=_village(village),
            action="approve a beneficiary list",
        )
        return ListOut.of(
            lists.approve(
                program,
                period,
                village,
                actor=_actor(principal),
                expected_households=body.expected_households,
            )
        )

    return http


def _village(code: str) -> str:
    try:
        parsed = RegionCode.parse(code)
    except ValueError as error:
        raise HTTPException(422, f"village {code!r}: {error}") from None
    if parsed.level is not RegionLevel.VILLAGE:
        raise HTTPException(422, f"{code!r} is not a village code (e.g. 35.17.01.2001)")
    return str(parsed)
