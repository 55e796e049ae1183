"""The registry's HTTP API (read-only): households, their decile history, a village's
households, and finding a household by NIK. Every read needs a token whose region
covers the household; responses carry no personal data.

``POST /households/identify`` serves the eligibility service's public Cek Bansos
check: given a NIK, a name and a village it confirms a household only when all three
match, and answers one and the same 404 whichever part did not.
"""

# No ``from __future__ import annotations``: FastAPI reads the annotations at runtime.
import contextlib
from typing import Annotated, Any, Literal

from eventsourcing.application import AggregateNotFoundError
from fastapi import Depends, FastAPI, HTTPException, Query
from pydantic import BaseModel, Field

from bansos_libs.auth import Principal, Role
from bansos_libs.auth.fastapi import authenticate, require
from bansos_libs.auth.roles import STAFF_ROLES
from bansos_libs.context import command_context
from bansos_libs.http import validation_errors_without_input
from bansos_libs.settings import ServiceSettings
from bansos_libs.views import ViewDatabase, ViewUpdater
from bansos_registry.application import NikHasher, RegistryApplication, registry_settings
from bansos_registry.domain.household import Household, HouseholdError, household_uuid
from bansos_registry.identity import mask_name, names_match
from bansos_registry.views import HISTORY, HOUSEHOLDS, HouseholdsView

STAFF = STAFF_ROLES
COLUMNS = (
    "household_id, province, regency, district, village, decile, member_count, programs,"
    " bank, active, deactivation_reason, snapshot_id, version"
)


class HouseholdOut(BaseModel):
    """A household as the register knows it now (no personal data)."""

    household_id: str
    province: str
    regency: str
    district: str
    village: str
    decile: int
    member_count: int
    programs: list[str]
    kks_bank: str | None
    active: bool
    deactivation_reason: str | None
    snapshot_id: str
    version: int


class DecileChangeOut(BaseModel):
    """One entry of a household's decile history."""

    version: int
    previous_decile: int | None
    new_decile: int
    snapshot_id: str
    as_of: str
    recorded_at: str


class HouseholdPage(BaseModel):
    """A page of a village's households, in household id order."""

    households: list[HouseholdOut]
    next_after: str | None = Field(description="Pass as `after` for the next page.")


class DeactivationIn(BaseModel):
    """Take a household out of the register (a decision of the centre, Pusdatin Kemensos)."""

    reason: Literal["DECEASED", "MOVED", "DUPLICATE", "REMOVED_FROM_DTSEN"]
    merged_into: str | None = Field(
        default=None, description="For DUPLICATE: the household that remains."
    )
    reference: str = Field(min_length=1, max_length=128, description="e.g. a Pusdatin letter")


class NikLookup(BaseModel):
    """Find a household by its head's NIK (sent in the body, never in a URL)."""

    nik: str = Field(pattern=r"^[0-9]{16}$")


VILLAGE_CODE = r"^[0-9]{2}\.[0-9]{2}\.[0-9]{2}\.[0-9]{4}$"
NO_MATCH = "no household matches this NIK, name and region"
"""The one answer to every failed identification: it never says which part failed."""


class IdentifyIn(BaseModel):
    """A citizen's NIK, name and village, as they gave them to Cek Bansos (body only)."""

    nik: str = Field(pattern=r"^[0-9]{16}$", description="The head of household's NIK.")
    name: str = Field(min_length=1, max_length=100, description="The name on the KTP.")
    village: str = Field(pattern=VILLAGE_CODE, description="Kemendagri code, 35.17.01.2001")


class IdentifiedOut(BaseModel):
    """The household the citizen heads; the name masked, no NIK."""

    household_id: str
    village: str
    head_name_masked: str = Field(description="e.g. SU****** WI****")
    active: bool


Caller = Annotated[Principal, Depends(authenticate)]


def _household(row: tuple[Any, ...]) -> HouseholdOut:
    return HouseholdOut(
        household_id=row[0],
        province=row[1],
        regency=row[2],
        district=row[3],
        village=row[4],
        decile=row[5],
        member_count=row[6],
        programs=[p for p in row[7].split(";") if p],
        kks_bank=row[8],
        active=bool(row[9]),
        deactivation_reason=row[10],
        snapshot_id=row[11],
        version=row[12],
    )


def create_api(app: RegistryApplication, settings: ServiceSettings) -> FastAPI:
    """The registry's FastAPI application."""
    database = ViewDatabase(settings)
    updater = ViewUpdater(app, HouseholdsView(), database)
    hasher = NikHasher(registry_settings(settings).cipher_key)  # type: ignore[arg-type]
    http = FastAPI(
        title="bansos registry",
        description="DTSEN households and their deciles, scoped to the caller's region.",
        version="1.0.0",
    )
    validation_errors_without_input(http)

    def load(household_id: str, principal: Principal) -> HouseholdOut:
        with database.transaction() as sql:
            row = sql.execute(
                f"SELECT {COLUMNS} FROM {HOUSEHOLDS} WHERE household_id = %s", (household_id,)
            ).fetchone()
        if row is None:
            raise HTTPException(404, f"no household {household_id}")
        household = _household(row)
        require(principal, roles=STAFF, region=household.village, action="read a household")
        return household

    @http.get("/households/{household_id}", response_model=HouseholdOut)
    def get_household(household_id: str, principal: Caller) -> HouseholdOut:
        return load(household_id, principal)

    @http.get("/households/{household_id}/deciles", response_model=list[DecileChangeOut])
    def decile_history(household_id: str, principal: Caller) -> list[DecileChangeOut]:
        load(household_id, principal)
        with database.transaction() as sql:
            rows = sql.execute(
                f"SELECT version, previous_decile, new_decile, snapshot_id, as_of, recorded_at "
                f"FROM {HISTORY} WHERE household_id = %s ORDER BY version",
                (household_id,),
            ).fetchall()
        return [
            DecileChangeOut(
                version=r[0],
                previous_decile=r[1],
                new_decile=r[2],
                snapshot_id=r[3],
                as_of=r[4],
                recorded_at=r[5],
            )
            for r in rows
        ]

    @http.get("/villages/{village_code}/households", response_model=HouseholdPage)
    def village_households(
        village_code: str,
        principal: Caller,
        after: str = "",
        limit: Annotated[int, Query(ge=1, le=500)] = 100,
    ) -> HouseholdPage:
        require(principal, roles=STAFF, region=village_code, action="list a village")
        with database.transaction() as sql:
            rows = sql.execute(
                f"SELECT {COLUMNS} FROM {HOUSEHOLDS} WHERE village = %s AND household_id > %s "
                "ORDER BY household_id LIMIT %s",
                (village_code, after, limit + 1),
            ).fetchall()
        households = [_household(r) for r in rows[:limit]]
        more = len(rows) > limit
        return HouseholdPage(
            households=households, next_after=households[-1].household_id if more else None
        )

    @http.post("/households/{household_id}/deactivation", response_model=HouseholdOut)
    def deactivate(household_id: str, body: DeactivationIn, principal: Caller) -> HouseholdOut:
        """Deactivate a household; repeating the same request changes nothing."""
        require(principal, roles={Role.MINISTRY_OFFICER}, action="deactivate a household")
        uow = app.unit_of_work()
        household = uow.get(household_uuid(household_id), Household)
        if household is None:
            raise HTTPException(404, f"no household {household_id}")
        if body.merged_into is not None:
            target = uow.get(household_uuid(body.merged_into), Household)
            if target is None or not target.active:
                raise HTTPException(
                    422, f"merged_into {body.merged_into} is not an active household"
                )
        with command_context(principal.actor()):  # type: ignore[arg-type]
            try:
                household.deactivate(
                    reason=body.reason, snapshot_id=body.reference, merged_into=body.merged_into
                )
            except HouseholdError as error:
                raise HTTPException(422, str(error)) from None
            uow.collect(household)
        app.commit(uow)
        with contextlib.suppress(RuntimeError):  # another updater moved the view on: fine
            updater.catch_up()
        return load(household_id, principal)

    @http.post("/households/lookup", response_model=HouseholdOut)
    def lookup_by_nik(body: NikLookup, principal: Caller) -> HouseholdOut:
        with database.transaction() as sql:
            row = sql.execute(
                f"SELECT household_id FROM {HOUSEHOLDS} WHERE nik_hash = %s "
                "ORDER BY active DESC LIMIT 1",
                (hasher(body.nik),),
            ).fetchone()
        if row is None:
            raise HTTPException(404, "no household is headed by that NIK")
        return load(row[0], principal)

    def registered_head_name(household_id: str) -> str | None:
        try:
            household: Any = app.repository.get(household_uuid(household_id))
        except AggregateNotFoundError:
            return None
        if not isinstance(household, Household):
            return None
        name = household.personal.get("head_name")
        return name if isinstance(name, str) else None

    @http.post(
        "/households/identify",
        response_model=IdentifiedOut,
        responses={404: {"description": NO_MATCH}},
    )
    def identify(body: IdentifyIn, principal: Caller) -> IdentifiedOut:
        """Confirm that a NIK, a name and a village together identify a household head.

        Service-to-service only (role SYSTEM). Every mismatch answers the same 404.
        """
        require(principal, roles={Role.SYSTEM}, action="identify a citizen")
        with database.transaction() as sql:
            rows = sql.execute(
                f"SELECT household_id, village, active FROM {HOUSEHOLDS} WHERE nik_hash = %s "
                "ORDER BY active DESC, household_id",
                (hasher(body.nik),),
            ).fetchall()
        for household_id, village, active in rows:
            if village != body.village:
                continue
            head_name = registered_head_name(household_id)
            if head_name is not None and names_match(body.name, head_name):
                return IdentifiedOut(
                    household_id=household_id,
                    village=village,
                    head_name_masked=mask_name(head_name),
                    active=bool(active),
                )
        raise HTTPException(404, NO_MATCH)

    return http
