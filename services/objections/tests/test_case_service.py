"""``CaseService`` on a SQLite event store: filing, merging, limits, evidence and
coordinates, reviews, what is published and what the read model shows.

The registry is an in-memory fake with households in Jombang (35.17.01.2001) and Jepara
(33.20.01.2001). Every refused command is checked to have stored nothing.
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from functools import partial
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest

from bansos_contracts.enums import CaseKind
from bansos_contracts.objections import CaseResolved, CaseReviewed, CaseSubmitted, GeoPoint
from bansos_libs.auth import Forbidden, Principal, RegionCode, Role
from bansos_libs.outbox import public_events
from bansos_libs.registry_client import HouseholdPlace, Identified
from bansos_libs.settings import ServiceSettings
from bansos_objections.application import ObjectionsSettings
from bansos_objections.bootstrap import Objections, bootstrap
from bansos_objections.domain.case import Case, CaseRefusedError
from bansos_objections.publishing import to_contract
from bansos_objections.requests import EvidenceRef, Point, ReviewRequest, Submission, Withdrawal
from bansos_objections.service import CaseResult
from bansos_objections.views import CASES, STEPS
from services.objections.tests.images import jpeg_bytes, png_bytes

VILLAGE = "35.17.01.2001"  # Jombang
OTHER_VILLAGE = "33.20.01.2001"  # Jepara
JOMBANG = Point(-7.55, 112.23)
JEPARA = Point(-6.59, 110.67)
SURABAYA = Point(-7.25, 112.75)  # outside Jombang
HEAD_NIK, HEAD_NAME = "3517014107800001", "Siti Aminah"  # heads HH-J1
OTHER_HEAD_NIK, OTHER_HEAD_NAME = "3320015505700002", "Sri Wahyuni"  # heads HH-P1
NOW = datetime(2025, 11, 10, 3, 0, tzinfo=UTC)
LIMIT = 3


class FakeRegistry:
    """The registry as the objections service sees it: identification and places."""

    def __init__(self) -> None:
        self.places = {
            household: HouseholdPlace(household, village, active)
            for household, village, active in (
                ("HH-J1", VILLAGE, True),
                ("HH-J2", VILLAGE, True),
                ("HH-J3", VILLAGE, True),
                ("HH-J4", VILLAGE, True),
                ("HH-J5", VILLAGE, True),
                ("HH-GONE", VILLAGE, False),
                ("HH-P1", OTHER_VILLAGE, True),
            )
        }
        self.heads = {
            (HEAD_NIK, HEAD_NAME.casefold()): "HH-J1",
            (OTHER_HEAD_NIK, OTHER_HEAD_NAME.casefold()): "HH-P1",
        }
        self.asked: list[tuple[str, str, str]] = []

    def __call__(self, nik: str, name: str, village: str) -> Identified | None:
        """The household ``nik`` heads under ``name`` in ``village``, if all three match."""
        self.asked.append((nik, name, village))
        household = self.heads.get((nik, name.strip().casefold()))
        place = None if household is None else self.places[household]
        if place is None or place.village != village or not place.active:
            return None
        return Identified(place.household_id, place.village, name[0] + "***")

    def place(self, household_id: str) -> HouseholdPlace | None:
        return self.places.get(household_id)


class Clock:
    """The service's clock, set by the test."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def person(role: Role, region: str, subject: str) -> Principal:
    return Principal(subject=subject, role=role, region=RegionCode.parse(region))


CITIZEN = person(Role.CITIZEN, VILLAGE, "citizen-1")
NEIGHBOUR = person(Role.CITIZEN, VILLAGE, "citizen-2")
THIRD_NEIGHBOUR = person(Role.CITIZEN, VILLAGE, "citizen-3")
JEPARA_CITIZEN = person(Role.CITIZEN, OTHER_VILLAGE, "citizen-9")
OPERATOR = person(Role.VILLAGE_OPERATOR, VILLAGE, "operator-1")
SECOND_OPERATOR = person(Role.VILLAGE_OPERATOR, VILLAGE, "operator-2")
JEPARA_OPERATOR = person(Role.VILLAGE_OPERATOR, OTHER_VILLAGE, "operator-9")
PKH = person(Role.PKH_FACILITATOR, "35.17.01", "pkh-1")
JEPARA_PKH = person(Role.PKH_FACILITATOR, "33.20.01", "pkh-9")
REGENCY = person(Role.REGENCY_OFFICER, "35.17", "regency-1")
JEPARA_REGENCY = person(Role.REGENCY_OFFICER, "33.20", "regency-9")
MINISTRY = person(Role.MINISTRY_OFFICER, "ID", "ministry-1")
AUDITOR = person(Role.AUDITOR, "35.17", "auditor-1")


@pytest.fixture
def objections(tmp_path: Path) -> Iterator[Objections]:
    service = bootstrap(
        ServiceSettings(service="objections", data_dir=tmp_path),
        ObjectionsSettings(evidence_dir=tmp_path / "evidence", objections_per_month=LIMIT),
        registry=FakeRegistry(),
    )
    service.service.clock = Clock(NOW)
    yield service
    service.close()


# --- helpers --------------------------------------------------------------------------------


def stored(o: Objections) -> int:
    """The notification log's last id: it moves whenever anything is stored."""
    return o.app.recorder.max_notification_id() or 0


def refused(o: Objections, code: str, command: Callable[[], object]) -> str:
    """A command refused with ``code`` that stored nothing; the message says why."""
    before = stored(o)
    with pytest.raises(CaseRefusedError) as caught:
        command()
    assert caught.value.code == code, caught.value
    assert stored(o) == before
    assert str(caught.value).strip()
    return str(caught.value)


def forbidden(o: Objections, command: Callable[[], object]) -> str:
    """A command refused as Forbidden that stored nothing; the reason says why."""
    before = stored(o)
    with pytest.raises(Forbidden) as caught:
        command()
    assert stored(o) == before
    assert caught.value.reason.strip()
    return caught.value.reason


def photo(
    o: Objections, label: str = "FIELD_VISIT", seed: int = 0, location: Point | None = None
) -> EvidenceRef:
    stored_photo = o.service.evidence.upload(png_bytes(seed=seed), "image/png")
    return EvidenceRef(stored_photo.content_hash, label, location)


def house(o: Objections) -> tuple[EvidenceRef, ...]:
    return tuple(
        photo(o, label, seed, JOMBANG)
        for seed, label in enumerate(("HOUSE_FRONT", "HOUSE_SIDE", "HOUSE_INSIDE"), start=10)
    )


def file(
    o: Objections,
    by: Principal,
    kind: CaseKind = CaseKind.OBJECTION,
    household_id: str | None = "HH-J2",
    request_id: str = "file-1",
    **fields: Any,
) -> CaseResult:
    reasons = {
        CaseKind.OBJECTION: "NOT_POOR",
        CaseKind.COMPLAINT: "INELIGIBLE_RECIPIENT",
        CaseKind.PROPOSAL: "NOT_REGISTERED",
        CaseKind.REFUSAL: "SELF_SUFFICIENT",
    }
    fields.setdefault("reason_code", reasons[kind])
    submission = Submission(request_id=request_id, kind=kind, household_id=household_id, **fields)
    return o.service.submit(by, submission)


def field_check(o: Objections, outcome: str = "UPHELD", **fields: Any) -> ReviewRequest:
    values: dict[str, Any] = {
        "request_id": f"field-{outcome}",
        "notes": "" if outcome == "UPHELD" else "seen on the visit",
        "visited_at": NOW - timedelta(days=1),
        "location": JOMBANG,
        "evidence": (photo(o, "FIELD_VISIT", 5, JOMBANG),),
    }
    return ReviewRequest(stage="FIELD_CHECK", outcome=outcome, **(values | fields))


def musdesus(outcome: str = "UPHELD", **fields: Any) -> ReviewRequest:
    values: dict[str, Any] = {
        "request_id": f"musdesus-{outcome}",
        "notes": "" if outcome == "UPHELD" else "decided in the meeting",
        "meeting_date": NOW.date() - timedelta(days=1),
        "attendance": 31,
    }
    return ReviewRequest(stage="VILLAGE_MUSDESUS", outcome=outcome, **(values | fields))


def decision(stage: str, outcome: str = "UPHELD", **fields: Any) -> ReviewRequest:
    values: dict[str, Any] = {
        "request_id": f"{stage.lower()}-{outcome}",
        "notes": "" if outcome == "UPHELD" else "decided",
    }
    return ReviewRequest(stage=stage, outcome=outcome, **(values | fields))


def walk(o: Objections, case_id: str, effect: str | None = None) -> Case:
    """Review a FULL-chain case through every stage, upheld."""
    o.service.review(PKH, case_id, field_check(o))
    o.service.review(OPERATOR, case_id, musdesus())
    o.service.review(REGENCY, case_id, decision("REGENCY"))
    return o.service.review(MINISTRY, case_id, decision("MINISTRY", effect=effect)).case


def everything_stored(o: Objections) -> str:
    """Every value of every table of the service's SQLite database, as text."""
    path = o.settings.data_dir / "objections.sqlite"
    assert path.exists()
    texts: list[str] = []
    with sqlite3.connect(path) as connection:
        tables = connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        for (table,) in tables.fetchall():
            for row in connection.execute(f'SELECT * FROM "{table}"'):
                texts.extend(
                    v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v) for v in row
                )
    return "\n".join(texts)


def rows(o: Objections, statement: str, *params: Any) -> list[tuple[Any, ...]]:
    with o.view.database.transaction() as sql:
        return sql.execute(statement, params).fetchall()


# --- filing -------------------------------------------------------------------------------


def test_a_citizen_refuses_aid_by_nik_and_name_which_are_never_stored(
    objections: Objections,
) -> None:
    o = objections
    registry = o.service.registry
    assert isinstance(registry, FakeRegistry)
    result = file(
        o, CITIZEN, CaseKind.REFUSAL, None, nik=HEAD_NIK, name=HEAD_NAME,
        reason_text="we have a shop now", programs=("PKH",),
    )  # fmt: skip
    case = result.case
    assert (result.changed, result.merged) == (True, False)
    assert registry.asked == [(HEAD_NIK, HEAD_NAME, VILLAGE)]
    assert (case.kind, case.household_id, case.village, case.chain) == (
        "REFUSAL",
        "HH-J1",
        VILLAGE,
        "LOCAL",
    )
    assert case.filer == {"role": "CITIZEN", "id": "citizen-1", "region": VILLAGE}
    assert case.stage is not None and case.stage["stage"] == "VILLAGE_MUSDESUS"

    o.service.review(OPERATOR, case.case_id, musdesus())
    done = o.service.review(REGENCY, case.case_id, decision("REGENCY")).case
    assert (done.state, done.outcome, done.effect) == ("RESOLVED", "UPHELD", "OPT_OUT")
    o.view.catch_up()

    text = everything_stored(o)
    assert case.case_id in text and "HH-J1" in text and "we have a shop now" in text
    assert HEAD_NIK not in text and HEAD_NAME not in text
    for notification in o.app.recorder.select_notifications(start=1, limit=1000):
        assert HEAD_NIK.encode() not in notification.state
    published = public_events(o.app, to_contract)
    assert [type(e).__name__ for e in published] == [
        "CaseSubmitted",
        "CaseReviewed",
        "CaseReviewed",
        "CaseResolved",
    ]
    for event in published:
        assert HEAD_NIK not in event.model_dump_json()
        assert HEAD_NAME not in event.model_dump_json()


def test_a_citizen_is_identified_in_their_own_village_only(objections: Objections) -> None:
    o = objections
    message = refused(
        o,
        "NOT_IDENTIFIED",
        lambda: file(o, CITIZEN, CaseKind.REFUSAL, None, nik=HEAD_NIK, name="Someone Else"),
    )
    assert "no household in your village" in message
    assert HEAD_NIK not in message
    # The head of a Jepara household, asking from Jombang: not a household of this village.
    refused(
        o,
        "NOT_IDENTIFIED",
        lambda: file(o, CITIZEN, CaseKind.PROPOSAL, None, nik=OTHER_HEAD_NIK, name=OTHER_HEAD_NAME),
    )
    refused(o, "IDENTITY_REQUIRED", lambda: file(o, CITIZEN, CaseKind.REFUSAL, None))
    reason = forbidden(o, lambda: file(o, CITIZEN, CaseKind.REFUSAL, "HH-J1"))
    assert "own household only" in reason
    forbidden(o, lambda: file(o, CITIZEN, CaseKind.PROPOSAL, "HH-J1"))


def test_a_citizen_objects_only_about_households_of_their_own_village(
    objections: Objections,
) -> None:
    o = objections
    reason = forbidden(o, lambda: file(o, CITIZEN, CaseKind.OBJECTION, "HH-P1"))
    assert "only about households in their own village" in reason
    forbidden(o, lambda: file(o, CITIZEN, CaseKind.COMPLAINT, "HH-P1"))
    forbidden(o, lambda: file(o, JEPARA_CITIZEN, CaseKind.OBJECTION, "HH-J1"))
    refused(o, "UNKNOWN_HOUSEHOLD", lambda: file(o, CITIZEN, household_id="HH-NOPE"))
    refused(o, "HOUSEHOLD_INACTIVE", lambda: file(o, CITIZEN, household_id="HH-GONE"))
    refused(o, "HOUSEHOLD_REQUIRED", lambda: file(o, CITIZEN, household_id=None))
    assert file(o, JEPARA_CITIZEN, CaseKind.OBJECTION, "HH-P1").case.village == OTHER_VILLAGE


def test_staff_file_and_review_only_within_their_region(objections: Objections) -> None:
    o = objections
    for outsider in (JEPARA_OPERATOR, JEPARA_PKH):
        reason = forbidden(o, partial(file, o, outsider, household_id="HH-J1"))
        assert "outside your region" in reason
    forbidden(o, lambda: file(o, JEPARA_OPERATOR, CaseKind.PROPOSAL, None, village=VILLAGE))
    reason = forbidden(o, lambda: file(o, AUDITOR, household_id="HH-J1"))
    assert "allowed roles are" in reason
    forbidden(o, lambda: file(o, REGENCY, household_id="HH-J1"))
    forbidden(o, lambda: file(o, PKH, CaseKind.REFUSAL, "HH-J1"))  # operators and families

    case = file(o, OPERATOR, household_id="HH-J1").case
    reason = forbidden(o, lambda: o.service.review(JEPARA_PKH, case.case_id, field_check(o)))
    assert "outside your region" in reason
    forbidden(o, lambda: o.service.readable_case(JEPARA_REGENCY, case.case_id))
    assert o.service.readable_case(REGENCY, case.case_id).case_id == case.case_id
    assert o.service.readable_case(MINISTRY, case.case_id).case_id == case.case_id


def test_a_proposal_for_an_unregistered_family_needs_house_photos_and_location(
    objections: Objections,
) -> None:
    o = objections
    front, side, inside = house(o)
    message = refused(
        o,
        "PHOTOS_REQUIRED",
        lambda: file(o, CITIZEN, CaseKind.PROPOSAL, None, evidence=(front,), location=JOMBANG),
    )
    assert "HOUSE_SIDE, HOUSE_INSIDE" in message
    refused(
        o,
        "PHOTOS_REQUIRED",
        lambda: file(
            o,
            CITIZEN,
            CaseKind.PROPOSAL,
            None,
            evidence=(photo(o, "OTHER", 3),) * 3,
            location=JOMBANG,
        ),
    )
    refused(
        o,
        "LOCATION_REQUIRED",
        lambda: file(o, CITIZEN, CaseKind.PROPOSAL, None, evidence=(front, side, inside)),
    )
    result = file(
        o, CITIZEN, CaseKind.PROPOSAL, None, evidence=(front, side, inside), location=JOMBANG
    )
    assert (result.case.household_id, result.case.village) == (None, VILLAGE)
    # Staff name the village of a family not yet registered; the same photos are needed.
    refused(
        o, "PHOTOS_REQUIRED", lambda: file(o, OPERATOR, CaseKind.PROPOSAL, None, village=VILLAGE)
    )
    refused(o, "VILLAGE_REQUIRED", lambda: file(o, OPERATOR, CaseKind.PROPOSAL, None))
    staff = file(
        o, OPERATOR, CaseKind.PROPOSAL, None, village=VILLAGE, evidence=(front, side, inside),
        location=JOMBANG,
    )  # fmt: skip
    assert staff.case.case_id != result.case.case_id  # another filer: another family
    [submitted, _] = [e for e in public_events(o.app, to_contract)]
    assert isinstance(submitted, CaseSubmitted)
    assert submitted.partition_key == result.case.case_id  # no household: keyed by the case
    assert submitted.location == GeoPoint(latitude=-7.55, longitude=112.23)
    assert [e.label for e in submitted.evidence] == ["HOUSE_FRONT", "HOUSE_SIDE", "HOUSE_INSIDE"]


def test_evidence_must_have_been_uploaded(objections: Objections) -> None:
    o = objections
    missing = EvidenceRef(hashlib.sha256(jpeg_bytes(7)).hexdigest(), "DOCUMENT")
    message = refused(
        o, "EVIDENCE_NOT_UPLOADED", lambda: file(o, CITIZEN, evidence=(photo(o), missing))
    )
    assert message.startswith("evidence[1]: ") and "POST /evidence" in message
    refused(
        o,
        "UNKNOWN_LABEL",
        lambda: file(o, CITIZEN, evidence=(EvidenceRef(missing.content_hash, "SELFIE"),)),
    )
    case = file(o, CITIZEN, evidence=(photo(o, "DOCUMENT", 1),)).case
    assert case.case_id
    refused(
        o,
        "EVIDENCE_NOT_UPLOADED",
        lambda: o.service.review(PKH, case.case_id, field_check(o, evidence=(missing,))),
    )
    assert o.service.case(case.case_id).stage == case.stage


def test_coordinates_outside_the_villages_regency_are_refused(objections: Objections) -> None:
    o = objections
    message = refused(
        o, "OUTSIDE_REGENCY", lambda: file(o, CITIZEN, household_id="HH-J1", location=SURABAYA)
    )
    assert "location: -7.25, 112.75 is outside regency 35.17" in message
    message = refused(
        o,
        "OUTSIDE_REGENCY",
        lambda: file(
            o, CITIZEN, evidence=(photo(o, "OTHER", 1, JOMBANG), photo(o, "OTHER", 2, SURABAYA))
        ),
    )
    assert message.startswith("evidence[1].location: ")
    # A Jepara case is checked against Jepara.
    refused(
        o,
        "OUTSIDE_REGENCY",
        lambda: file(o, JEPARA_OPERATOR, household_id="HH-P1", location=JOMBANG),
    )
    assert file(o, JEPARA_OPERATOR, household_id="HH-P1", location=JEPARA).changed

    case = file(o, CITIZEN, location=JOMBANG).case
    refused(
        o,
        "OUTSIDE_REGENCY",
        lambda: o.service.review(PKH, case.case_id, field_check(o, location=SURABAYA)),
    )
    refused(
        o,
        "OUTSIDE_REGENCY",
        lambda: o.service.review(
            PKH, case.case_id, field_check(o, evidence=(photo(o, "FIELD_VISIT", 4, SURABAYA),))
        ),
    )
    assert o.service.review(PKH, case.case_id, field_check(o)).changed


# --- duplicates, limits, repeats ------------------------------------------------------------


def test_a_duplicate_objection_joins_the_open_case_until_it_is_resolved(
    objections: Objections,
) -> None:
    o = objections
    first = file(o, CITIZEN, household_id="HH-J2", request_id="a-1")
    second = file(o, NEIGHBOUR, household_id="HH-J2", request_id="b-1", reason_text="me too")
    third = file(o, OPERATOR, household_id="HH-J2", request_id="c-1")
    assert (first.merged, second.merged, third.merged) == (False, True, True)
    assert first.case.case_id == second.case.case_id == third.case.case_id
    assert [s["id"] for s in third.case.supporters] == ["citizen-2", "operator-1"]
    assert second.changed and third.changed
    # Another kind of case about the same household is a case of its own.
    complaint = file(o, NEIGHBOUR, CaseKind.COMPLAINT, "HH-J2", request_id="b-2")
    assert (complaint.merged, complaint.case.case_id != first.case.case_id) == (False, True)
    o.view.catch_up()
    assert rows(o, f"SELECT supporters FROM {CASES} WHERE case_id = %s", first.case.case_id) == [
        (2,)
    ]

    o.service.review(PKH, first.case.case_id, field_check(o, "DISMISSED"))
    again = file(o, THIRD_NEIGHBOUR, household_id="HH-J2", request_id="d-1")
    assert (again.merged, again.changed) == (False, True)
    assert again.case.case_id != first.case.case_id
    assert (again.case.is_open, len(again.case.supporters)) == (True, 0)
    assert file(o, CITIZEN, household_id="HH-J2", request_id="a-2").case.case_id == (
        again.case.case_id
    )


def test_a_supporter_or_the_filer_may_not_review(objections: Objections) -> None:
    o = objections
    case = file(o, OPERATOR, household_id="HH-J3").case
    file(o, PKH, household_id="HH-J3", request_id="pkh-file")  # joins as a supporter
    refused(o, "NOT_INDEPENDENT", lambda: o.service.review(PKH, case.case_id, field_check(o)))
    tksk = person(Role.TKSK, "35.17.01", "tksk-1")
    o.service.review(tksk, case.case_id, field_check(o))
    message = refused(
        o, "NOT_INDEPENDENT", lambda: o.service.review(OPERATOR, case.case_id, musdesus())
    )
    assert "must be reviewed by someone else" in message
    assert o.service.review(SECOND_OPERATOR, case.case_id, musdesus()).changed


def test_a_citizen_files_a_limited_number_of_objections_and_complaints_a_month(
    objections: Objections,
) -> None:
    o = objections
    opened = [
        file(o, CITIZEN, CaseKind.OBJECTION, "HH-J1", request_id="m-1"),
        file(o, CITIZEN, CaseKind.COMPLAINT, "HH-J2", request_id="m-2"),
        file(o, CITIZEN, CaseKind.OBJECTION, "HH-J3", request_id="m-3"),
    ]
    assert len(opened) == LIMIT
    message = refused(
        o,
        "LIMIT_REACHED",
        lambda: file(o, CITIZEN, CaseKind.COMPLAINT, "HH-J4", request_id="m-4"),
    )
    assert f"you have filed {LIMIT} objections and complaints in 2025-11" in message
    refused(o, "LIMIT_REACHED", lambda: file(o, CITIZEN, household_id="HH-J5", request_id="m-5"))
    # A retried request returns its case without counting (or being refused).
    before = stored(o)
    retried = file(o, CITIZEN, CaseKind.OBJECTION, "HH-J1", request_id="m-1")
    assert (retried.changed, retried.case.case_id) == (False, opened[0].case.case_id)
    assert stored(o) == before
    # Proposals and refusals are about the citizen's own family: not limited.
    assert file(o, CITIZEN, CaseKind.REFUSAL, None, nik=HEAD_NIK, name=HEAD_NAME).changed
    # Staff are not limited.
    for number, household in enumerate(("HH-J1", "HH-J2", "HH-J3", "HH-J4", "HH-J5")):
        assert file(o, SECOND_OPERATOR, CaseKind.COMPLAINT, household, f"s-{number}").changed
    # Other citizens have their own count; next month the citizen may file again.
    assert file(o, NEIGHBOUR, household_id="HH-J4", request_id="n-1").changed
    clock = o.service.clock
    assert isinstance(clock, Clock)
    clock.now = datetime(2025, 12, 1, 0, 0, tzinfo=UTC)
    assert file(o, CITIZEN, CaseKind.COMPLAINT, "HH-J4", request_id="m-4").changed


def test_a_repeated_request_returns_the_same_case_and_stores_nothing(
    objections: Objections,
) -> None:
    o = objections
    first = file(o, CITIZEN, request_id="same-1")
    before = stored(o)
    again = file(o, CITIZEN, request_id="same-1")
    assert (again.changed, again.merged, again.case.case_id) == (
        False,
        False,
        first.case.case_id,
    )
    assert again.case.version == first.case.version
    case_id = first.case.case_id
    assert o.service.review(PKH, case_id, field_check(o)).changed
    before = stored(o)
    assert not o.service.review(PKH, case_id, field_check(o)).changed
    assert stored(o) == before
    assert o.service.withdraw(CITIZEN, case_id, Withdrawal("withdraw-1", "settled")).changed
    before = stored(o)
    assert not o.service.withdraw(CITIZEN, case_id, Withdrawal("withdraw-1", "settled")).changed
    # …and the case's earlier review request, repeated after it closed, still changes nothing.
    assert not o.service.review(PKH, case_id, field_check(o)).changed
    assert stored(o) == before


def test_the_same_request_sent_twice_at_once_files_once(objections: Objections) -> None:
    o = objections
    results: list[CaseResult] = []
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def send(by: Principal, request_id: str) -> None:
        start.wait()
        try:
            results.append(file(o, by, household_id="HH-J4", request_id=request_id))
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [
        threading.Thread(target=send, args=args)
        for args in (
            (CITIZEN, "race-1"),
            (CITIZEN, "race-1"),
            (NEIGHBOUR, "race-2"),
            (THIRD_NEIGHBOUR, "race-3"),
        )
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len({r.case.case_id for r in results}) == 1  # one case for the household
    assert sorted(r.changed for r in results) == [False, True, True, True]
    assert sorted(r.merged for r in results if r.changed) == [False, True, True]
    case = o.service.case(results[0].case.case_id)
    assert len(case.supporters) == 2
    submitted = [e for e in public_events(o.app, to_contract) if isinstance(e, CaseSubmitted)]
    assert len(submitted) == 1


def test_a_sixteen_digit_number_is_refused_wherever_text_is_free(
    objections: Objections,
) -> None:
    o = objections
    message = refused(
        o,
        "PERSONAL_NUMBER",
        lambda: file(o, CITIZEN, reason_text=f"her NIK is {HEAD_NIK}, she owns a car"),
    )
    assert "reason_text" in message and HEAD_NIK not in message
    case = file(o, CITIZEN, reason_text="call me on 081234567890").case  # a phone number
    refused(
        o,
        "PERSONAL_NUMBER",
        lambda: o.service.review(
            PKH, case.case_id, field_check(o, "DISMISSED", notes=f"KK {HEAD_NIK}")
        ),
    )
    refused(
        o,
        "PERSONAL_NUMBER",
        lambda: o.service.withdraw(CITIZEN, case.case_id, Withdrawal("w-1", HEAD_NIK)),
    )
    assert HEAD_NIK not in everything_stored(o)


def test_review_dates_must_be_real(objections: Objections) -> None:
    o = objections
    case_id = file(o, CITIZEN).case.case_id
    refused(
        o,
        "IN_THE_FUTURE",
        lambda: o.service.review(PKH, case_id, field_check(o, visited_at=NOW + timedelta(hours=1))),
    )
    refused(
        o,
        "NO_TIMEZONE",
        lambda: o.service.review(PKH, case_id, field_check(o, visited_at=datetime(2025, 11, 9))),
    )
    refused(o, "WRONG_STAGE", lambda: o.service.review(OPERATOR, case_id, musdesus()))
    refused(o, "WRONG_ROLE", lambda: o.service.review(OPERATOR, case_id, field_check(o)))
    o.service.review(PKH, case_id, field_check(o))
    refused(
        o,
        "IN_THE_FUTURE",
        lambda: o.service.review(OPERATOR, case_id, musdesus(meeting_date=date(2025, 11, 11))),
    )
    refused(o, "NO_ATTENDANCE", lambda: o.service.review(OPERATOR, case_id, musdesus(attendance=0)))
    refused(
        o,
        "DETAILS_REQUIRED",
        lambda: o.service.review(OPERATOR, case_id, musdesus(attendance=None)),
    )


def test_only_the_filer_withdraws_and_a_new_case_may_follow(objections: Objections) -> None:
    o = objections
    case_id = file(o, CITIZEN, household_id="HH-J5").case.case_id
    for other in (NEIGHBOUR, OPERATOR, JEPARA_OPERATOR):
        refused(o, "NOT_FILER", partial(o.service.withdraw, other, case_id, Withdrawal("w-8")))
    done = o.service.withdraw(CITIZEN, case_id, Withdrawal("w-1", "we talked")).case
    assert (done.state, done.outcome, done.effect) == ("RESOLVED", "WITHDRAWN", "NONE")
    refused(o, "CASE_CLOSED", lambda: o.service.review(PKH, case_id, field_check(o)))
    refused(o, "CASE_CLOSED", lambda: o.service.withdraw(CITIZEN, case_id, Withdrawal("w-2")))
    assert file(o, NEIGHBOUR, household_id="HH-J5", request_id="after").case.case_id != case_id


# --- what is published and what the view shows -------------------------------------------


def test_published_events_follow_each_case_in_order_keyed_by_household(
    objections: Objections,
) -> None:
    o = objections
    case_id = file(o, CITIZEN, household_id="HH-J2", programs=("PKH", "BPNT")).case.case_id
    file(o, NEIGHBOUR, household_id="HH-J2", request_id="support")  # private: not published
    other_id = file(o, CITIZEN, CaseKind.COMPLAINT, "HH-J3", request_id="other").case.case_id
    field = field_check(o)
    resolved = walk(o, case_id, effect="RERANKING_REQUESTED")
    assert (resolved.outcome, resolved.effect) == ("UPHELD", "RERANKING_REQUESTED")

    published = public_events(o.app, to_contract)
    events = [e for e in published if getattr(e, "case_id", None) == case_id]
    assert [type(e).__name__ for e in events] == [
        "CaseSubmitted",
        *["CaseReviewed"] * 4,
        "CaseResolved",
    ]
    versions = [e.subject_version for e in events]
    assert versions == sorted(set(versions)) and versions[0] == 1
    assert versions[1] == 3  # version 2 is the private Supported event
    assert {e.partition_key for e in events} == {"HH-J2"}
    assert {e.subject_id for e in events} == {case_id}
    assert [e.subject_version for e in published if getattr(e, "case_id", None) == other_id] == [1]

    submitted, checked, met, regency, ministry, closed = events
    assert isinstance(submitted, CaseSubmitted)
    assert (submitted.kind, submitted.village, submitted.reason_code) == (
        "OBJECTION",
        VILLAGE,
        "NOT_POOR",
    )
    assert [p.value for p in submitted.programs] == ["PKH", "BPNT"]
    assert submitted.actor.role == "CITIZEN" and submitted.actor.id == "citizen-1"
    assert isinstance(checked, CaseReviewed)
    assert (checked.stage, checked.outcome, checked.next_stage) == (
        "FIELD_CHECK",
        "UPHELD",
        "VILLAGE_MUSDESUS",
    )
    assert checked.visited_at == NOW - timedelta(days=1)
    assert checked.location == GeoPoint(latitude=-7.55, longitude=112.23)
    assert [(e.content_hash, e.label, e.media_type) for e in checked.evidence] == [
        (field.evidence[0].content_hash, "FIELD_VISIT", "image/png")
    ]
    assert checked.evidence[0].location == GeoPoint(latitude=-7.55, longitude=112.23)
    assert checked.due_at == NOW + timedelta(days=14)
    assert checked.actor.role == "PKH_FACILITATOR" and checked.actor.id == "pkh-1"
    assert isinstance(met, CaseReviewed)
    assert (met.stage, met.meeting_date, met.attendance, met.next_stage) == (
        "VILLAGE_MUSDESUS",
        date(2025, 11, 9),
        31,
        "REGENCY",
    )
    assert (met.visited_at, met.location, met.evidence) == (None, None, ())
    assert isinstance(regency, CaseReviewed) and regency.next_stage == "MINISTRY"
    assert regency.due_at == NOW + timedelta(days=30)
    assert isinstance(ministry, CaseReviewed)
    assert (ministry.next_stage, ministry.due_at) == (None, None)
    assert isinstance(closed, CaseResolved)
    assert (closed.kind, closed.outcome, closed.effect) == (
        "OBJECTION",
        "UPHELD",
        "RERANKING_REQUESTED",
    )
    assert [p.value for p in closed.programs] == ["PKH", "BPNT"]
    assert closed.actor.role == "MINISTRY_OFFICER"


def test_the_view_matches_the_cases(objections: Objections) -> None:
    o = objections
    done_id = file(o, CITIZEN, household_id="HH-J2").case.case_id
    file(o, NEIGHBOUR, household_id="HH-J2", request_id="support", reason_text="same")
    walk(o, done_id)
    open_case = file(o, OPERATOR, CaseKind.COMPLAINT, "HH-J3", request_id="open").case
    returned = file(o, CITIZEN, household_id="HH-J4", request_id="back").case
    clock = o.service.clock
    assert isinstance(clock, Clock)
    clock.now = NOW + timedelta(days=2)
    o.service.review(PKH, returned.case_id, field_check(o, "RETURNED"))
    assert o.view.catch_up() > 0
    assert o.view.catch_up() == 0

    columns = (
        "case_id, kind, household_id, village, district, regency, reason_code, chain, state,"
        " stage, due_at, filer_role, filer_id, supporters, outcome, effect, submitted_at"
    )
    found = {r[0]: r for r in rows(o, f"SELECT {columns} FROM {CASES}")}
    assert set(found) == {done_id, open_case.case_id, returned.case_id}
    assert found[done_id] == (
        done_id, "OBJECTION", "HH-J2", VILLAGE, "35.17.01", "35.17", "NOT_POOR", "FULL",
        "RESOLVED", None, None, "CITIZEN", "citizen-1", 1, "UPHELD", "EXCLUSION",
        NOW.isoformat(),
    )  # fmt: skip
    assert found[open_case.case_id][8:14] == (
        "OPEN", "FIELD_CHECK", open_case.due_at, "VILLAGE_OPERATOR", "operator-1", 0,
    )  # fmt: skip
    assert found[returned.case_id][8:11] == (
        "OPEN",
        "FIELD_CHECK",
        (NOW + timedelta(days=16)).isoformat(),
    )
    assert found[returned.case_id][10] == o.service.case(returned.case_id).due_at

    steps = rows(
        o,
        f"SELECT version, step, stage, outcome, actor_role, actor_id FROM {STEPS}"
        " WHERE case_id = %s ORDER BY version",
        done_id,
    )
    assert steps == [
        (1, "SUBMITTED", None, None, "CITIZEN", "citizen-1"),
        (2, "SUPPORTED", None, None, "CITIZEN", "citizen-2"),
        (3, "REVIEWED", "FIELD_CHECK", "UPHELD", "PKH_FACILITATOR", "pkh-1"),
        (4, "REVIEWED", "VILLAGE_MUSDESUS", "UPHELD", "VILLAGE_OPERATOR", "operator-1"),
        (5, "REVIEWED", "REGENCY", "UPHELD", "REGENCY_OFFICER", "regency-1"),
        (6, "REVIEWED", "MINISTRY", "UPHELD", "MINISTRY_OFFICER", "ministry-1"),
        (7, "RESOLVED", None, "UPHELD", "MINISTRY_OFFICER", "ministry-1"),
    ]
    [(details,)] = rows(
        o,
        f"SELECT details FROM {STEPS} WHERE case_id = %s AND stage = 'VILLAGE_MUSDESUS'",
        done_id,
    )
    assert details == '{"attendance": 31, "meeting_date": "2025-11-09"}'
    assert o.service.case(done_id).version == 7


def test_each_event_of_a_case_is_caused_by_the_one_before_in_one_flow(
    objections: Objections,
) -> None:
    o = objections
    case_id = file(o, CITIZEN, household_id="HH-J2").case.case_id
    file(o, NEIGHBOUR, household_id="HH-J2", request_id="file-2")  # merged: no public event
    walk(o, case_id, effect="EXCLUSION")
    published = public_events(o.app, to_contract)
    events = [e for e in published if getattr(e, "case_id", None) == case_id]
    assert [e.event_type for e in events] == [
        "CaseSubmitted", "CaseReviewed", "CaseReviewed", "CaseReviewed", "CaseReviewed",
        "CaseResolved",
    ]  # fmt: skip
    assert {e.correlation_id for e in events} == {case_id}
    assert events[0].causation_id is None
    for before, event in pairwise(events):
        # Caused by the case's published event just before it: the merged supporter's
        # event is private and is skipped; a resolution is caused by its final review.
        assert event.causation_id == str(before.event_id), event.event_type
