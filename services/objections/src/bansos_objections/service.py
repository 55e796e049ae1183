"""The objections service layer: filing, reviewing and withdrawing cases, as commands.

Each command checks who is asking (``policy``), finds the household through the
registry (``Registry``), checks the evidence and coordinates (``Evidence``), lets the
``Case`` decide, and commits the case with its ``Filer`` and ``OpenCases`` records in one
transaction: a refused command writes nothing, and two commands racing on the same
household or filer conflict, the loser retrying against the winner's state.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from eventsourcing.persistence import IntegrityError

from bansos_contracts.enums import CaseKind
from bansos_libs.auth import Forbidden, Principal, Role
from bansos_libs.auth.principal import looks_like_nik_or_kk
from bansos_libs.context import ActorDict, CommandContext, command_context, meta_of, stamp
from bansos_libs.eventstore import UnitOfWork, event_id_for
from bansos_libs.registry_client import HouseholdPlace, Identified
from bansos_objections import policy
from bansos_objections.application import ObjectionsApplication
from bansos_objections.checks import EvidenceChecker
from bansos_objections.domain.case import Case, CaseRefusedError, case_uuid
from bansos_objections.domain.chains import ChainBook
from bansos_objections.domain.filings import Filer, OpenCases, open_cases_key, open_cases_uuid
from bansos_objections.requests import ReviewRequest, Submission, Withdrawal

__all__ = ["LIMITED_KINDS", "CaseNotFoundError", "CaseResult", "CaseService", "Registry"]

LIMITED_KINDS = (CaseKind.OBJECTION.value, CaseKind.COMPLAINT.value)
"""The kinds a citizen may file only so many of a month (cases about other families)."""

_ATTEMPTS = 5
_CASE_IDS = uuid.UUID("5b8e1d3a-7c2f-4e9b-a6d4-0f3c8b1e2a57")


class Registry(Protocol):
    """The registry, as this service needs it (``bansos_libs.registry_client``)."""

    def __call__(self, nik: str, name: str, village: str) -> Identified | None: ...

    def place(self, household_id: str) -> HouseholdPlace | None: ...


class CaseNotFoundError(LookupError):
    """No case has this id."""


@dataclass(frozen=True)
class CaseResult:
    """A case after a command; ``changed`` is False for a repeated request."""

    case: Case
    changed: bool
    merged: bool = False
    """True when the submission joined an open case instead of opening one."""


def _actor(principal: Principal) -> ActorDict:
    actor = principal.actor()
    return {"role": actor["role"] or "", "id": actor["id"] or "", "region": actor["region"]}


def _text(value: str, field: str) -> str:
    if looks_like_nik_or_kk(value):
        raise CaseRefusedError(
            "PERSONAL_NUMBER",
            f"{field} contains a 16-digit number (a NIK or KK number?): leave it out,"
            " cases are read by many people",
        )
    return value


class CaseService:
    """Commands and reads on cases."""

    def __init__(
        self,
        app: ObjectionsApplication,
        chains: ChainBook,
        registry: Registry,
        evidence: EvidenceChecker,
        *,
        objections_per_month: int = 5,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.app = app
        self.chains = chains
        self.registry = registry
        self.evidence = evidence
        self.objections_per_month = objections_per_month
        self.clock = clock

    # -- reads ---------------------------------------------------------------------------

    def case(self, case_id: str) -> Case:
        """A case as the event store has it."""
        found = self.app.unit_of_work().get(case_uuid(case_id), Case)
        if found is None:
            raise CaseNotFoundError(f"no case {case_id[:80]}")
        return found

    def readable_case(self, principal: Principal, case_id: str) -> Case:
        """A case, if ``principal`` may read it."""
        case = self.case(case_id)
        policy.check_reader(principal, case.village, case.filer["id"])
        return case

    # -- filing --------------------------------------------------------------------------

    def submit(self, principal: Principal, submission: Submission) -> CaseResult:
        """File a case, or join the open case of the same kind for the same household."""
        kind = submission.kind
        policy.check_filer(principal, kind)
        reason_text = _text(submission.reason_text, "reason_text")
        household_id, village = self._subject(principal, submission)
        evidence = self.evidence.refs(submission.evidence, village, "evidence")
        location = self.evidence.point(submission.location, village, "location")
        if kind is CaseKind.PROPOSAL and household_id is None:
            self.evidence.require_house_photos(evidence, location)
        rules = self.chains.rules(kind)
        actor = _actor(principal)
        at = self.clock()
        for _ in range(_ATTEMPTS):
            uow = self.app.unit_of_work()
            filer = uow.get(Filer.create_id(actor["role"], actor["id"]), Filer)
            filer = filer or Filer(role=actor["role"], actor_id=actor["id"])
            known = filer.case_for(submission.request_id)
            if known is not None:
                return CaseResult(self.case(known), changed=False)
            self._check_limit(principal, filer, kind, at)
            key = open_cases_key(household_id, village, principal.subject)
            index = uow.get(open_cases_uuid(key), OpenCases) or OpenCases(key=key)
            open_id = index.case_of(kind.value)
            case = None if open_id is None else uow.get(case_uuid(open_id), Case)
            if case is not None and not case.is_open:
                case = None
            new_id = self.case_id(principal, submission.request_id)
            with self._context(principal, new_id if case is None else case.case_id, case):
                if case is not None:
                    case.support(
                        supporter=dict(actor), request_id=submission.request_id,
                        reason_text=reason_text, evidence=evidence, at=at.isoformat(),
                    )  # fmt: skip
                    merged = True
                else:
                    case = Case.submit(
                        case_id=new_id, rules=rules,
                        household_id=household_id, village=village,
                        programs=list(submission.programs), reason_code=submission.reason_code,
                        reason_text=reason_text, evidence=evidence, location=location,
                        filer=dict(actor), request_id=submission.request_id, at=at.isoformat(),
                    )  # fmt: skip
                    index.opened(kind.value, case.case_id)
                    merged = False
                filer.file(
                    request_id=submission.request_id, case_id=case.case_id, kind=kind.value,
                    month=at.strftime("%Y-%m"), merged=merged,
                )  # fmt: skip
                uow.collect(case, index, filer)
            if self._committed(uow):
                return CaseResult(case, changed=True, merged=merged)
        raise RuntimeError("the household's cases kept changing; retry")

    @staticmethod
    def case_id(principal: Principal, request_id: str) -> str:
        """The id of the case a request opens: the same for a retried request."""
        name = f"{principal.role.value}:{principal.subject}:{request_id}"
        return "C-" + uuid.uuid5(_CASE_IDS, name).hex[:20].upper()

    def _subject(self, principal: Principal, submission: Submission) -> tuple[str | None, str]:
        """The household the case is about (if any) and the village that reviews it."""
        kind = submission.kind
        if principal.role is Role.CITIZEN:
            return self._citizen_subject(principal, submission)
        if submission.household_id is not None:
            place = self._place(submission.household_id)
            principal.require(region=place.village, action=f"file a {kind.value}")
            return place.household_id, place.village
        if kind in (CaseKind.OBJECTION, CaseKind.REFUSAL):
            raise CaseRefusedError("HOUSEHOLD_REQUIRED", f"a {kind.value} needs a household_id")
        if submission.village is None:
            raise CaseRefusedError(
                "VILLAGE_REQUIRED", "name the household_id, or the village of the family"
            )
        principal.require(region=submission.village, action=f"file a {kind.value}")
        return None, submission.village

    def _citizen_subject(
        self, principal: Principal, submission: Submission
    ) -> tuple[str | None, str]:
        kind, own_village = submission.kind, str(principal.region)
        if kind in (CaseKind.PROPOSAL, CaseKind.REFUSAL):
            if submission.household_id is not None:
                raise Forbidden(
                    f"a citizen files a {kind.value} for their own household only: give your"
                    " NIK and name as on your KTP instead of a household id"
                )
            if submission.nik is None or submission.name is None:
                if kind is CaseKind.REFUSAL:
                    raise CaseRefusedError(
                        "IDENTITY_REQUIRED", "a refusal needs your NIK and name as on your KTP"
                    )
                return None, own_village  # a family not yet in the register
            found = self.registry(submission.nik, submission.name, own_village)
            if found is None:
                raise CaseRefusedError(
                    "NOT_IDENTIFIED",
                    "no household in your village is headed by that NIK with that name",
                )
            return found.household_id, found.village
        if submission.household_id is None:
            if kind is CaseKind.OBJECTION:
                raise CaseRefusedError("HOUSEHOLD_REQUIRED", "an objection needs a household_id")
            return None, own_village
        place = self._place(submission.household_id)
        if place.village != own_village:
            raise Forbidden(
                f"a citizen may file a {kind.value} only about households in their own village"
            )
        return place.household_id, place.village

    def _place(self, household_id: str) -> HouseholdPlace:
        place = self.registry.place(household_id)
        if place is None:
            raise CaseRefusedError("UNKNOWN_HOUSEHOLD", f"no household {household_id[:80]}")
        if not place.active:
            raise CaseRefusedError(
                "HOUSEHOLD_INACTIVE", f"household {household_id} is no longer in the register"
            )
        return place

    def _check_limit(
        self, principal: Principal, filer: Filer, kind: CaseKind, at: datetime
    ) -> None:
        if principal.role is not Role.CITIZEN or kind.value not in LIMITED_KINDS:
            return
        month = at.strftime("%Y-%m")
        if filer.filed(LIMITED_KINDS, month) >= self.objections_per_month:
            raise CaseRefusedError(
                "LIMIT_REACHED",
                f"you have filed {self.objections_per_month} objections and complaints in"
                f" {month}, the most a month; you may file again next month",
            )

    # -- review --------------------------------------------------------------------------

    def review(self, principal: Principal, case_id: str, request: ReviewRequest) -> CaseResult:
        """One stage's review of a case (and its resolution at the end of the chain)."""
        notes = _text(request.notes, "notes")
        for _ in range(_ATTEMPTS):
            uow = self.app.unit_of_work()
            case = self._get(uow, case_id)
            principal.require(region=case.village, action=f"review case {case_id}")
            if case.knows(request.request_id):
                return CaseResult(case, changed=False)
            details = self._details(request, case.village)
            with self._context(principal, case.case_id, case):
                case.review(
                    stage=request.stage, outcome=request.outcome, notes=notes,
                    reviewer=dict(_actor(principal)), request_id=request.request_id,
                    details=details, at=self.clock().isoformat(), effect=request.effect,
                )  # fmt: skip
                self._close_index(uow, case)
                uow.collect(case)
            self._caused_by_its_review(uow)
            if self._committed(uow):
                return CaseResult(case, changed=True)
        raise RuntimeError(f"case {case_id} kept changing; retry")

    def _caused_by_its_review(self, uow: UnitOfWork) -> None:
        """A final review resolves the case in the same command: the resolution is caused
        by that review, not by what caused the review."""
        previous = None
        for event in uow.pending:
            meta = meta_of(event)
            if isinstance(event, Case.Resolved) and isinstance(previous, Case.Reviewed) and meta:
                review_id = event_id_for(
                    self.app.service, previous.originator_id, previous.originator_version
                )
                stamp(event, {**meta, "causation_id": review_id})
            previous = event

    def withdraw(self, principal: Principal, case_id: str, request: Withdrawal) -> CaseResult:
        """The filer withdraws their open case."""
        notes = _text(request.notes, "notes")
        for _ in range(_ATTEMPTS):
            uow = self.app.unit_of_work()
            case = self._get(uow, case_id)
            with self._context(principal, case.case_id, case):
                changed = case.withdraw(
                    actor=dict(_actor(principal)), request_id=request.request_id, notes=notes,
                    at=self.clock().isoformat(),
                )  # fmt: skip
                if not changed:
                    return CaseResult(case, changed=False)
                self._close_index(uow, case)
                uow.collect(case)
            if self._committed(uow):
                return CaseResult(case, changed=True)
        raise RuntimeError(f"case {case_id} kept changing; retry")

    def _details(self, request: ReviewRequest, village: str) -> dict[str, Any]:
        details: dict[str, Any] = {}
        if request.visited_at is not None:
            if request.visited_at.tzinfo is None:
                raise CaseRefusedError("NO_TIMEZONE", "visited_at needs a UTC offset")
            if request.visited_at > self.clock():
                raise CaseRefusedError("IN_THE_FUTURE", "visited_at is in the future")
            details["visited_at"] = request.visited_at.astimezone(UTC).isoformat()
        location = self.evidence.point(request.location, village, "location")
        if location is not None:
            details["location"] = location
        evidence = self.evidence.refs(request.evidence, village, "evidence")
        if evidence:
            details["evidence"] = evidence
        if request.meeting_date is not None:
            if request.meeting_date > self.clock().date():
                raise CaseRefusedError("IN_THE_FUTURE", "meeting_date is in the future")
            details["meeting_date"] = request.meeting_date.isoformat()
        if request.attendance is not None:
            if request.attendance < 1:
                raise CaseRefusedError("NO_ATTENDANCE", "attendance must be 1 or more")
            details["attendance"] = request.attendance
        return details

    # -- plumbing ------------------------------------------------------------------------

    def _context(
        self, principal: Principal, case_id: str, case: Case | None
    ) -> AbstractContextManager[CommandContext]:
        """Act as ``principal`` in the case's flow: every event of a case shares its id as
        correlation id, and each is caused by the case's step before it (a published event:
        merged duplicates are not)."""
        causation = (
            None
            if case is None
            else event_id_for(self.app.service, case.id, case.last_step_version)
        )
        return command_context(_actor(principal), correlation_id=case_id, causation_id=causation)

    @staticmethod
    def _get(uow: UnitOfWork, case_id: str) -> Case:
        case = uow.get(case_uuid(case_id), Case)
        if case is None:
            raise CaseNotFoundError(f"no case {case_id[:80]}")
        return case

    @staticmethod
    def _close_index(uow: UnitOfWork, case: Case) -> None:
        if case.is_open:
            return
        key = open_cases_key(case.household_id, case.village, case.filer["id"])
        index = uow.get(open_cases_uuid(key), OpenCases)
        if index is not None:
            index.closed(case.kind, case.case_id)
            uow.collect(index)

    def _committed(self, uow: UnitOfWork) -> bool:
        try:
            self.app.commit(uow)
        except IntegrityError:
            return False
        return True
