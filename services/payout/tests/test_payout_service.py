"""The payout service without Kafka: registry facts, decisions and lists in; payouts out.

The same handler, views, mapper and service layer as the running service, on a SQLite
event store (see ``tests/fixtures/payout.py``).
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, TypeVar

import pytest
from pydantic import SecretStr

from bansos_contracts.eligibility import (
    BeneficiaryListApproved,
    EligibilityDecided,
    PaymentTerms,
    ReasonCode,
)
from bansos_contracts.enums import (
    Bank,
    EligibilityStatus,
    ListStage,
    PayoutFailureReason,
    Program,
)
from bansos_contracts.envelope import Event
from bansos_contracts.examples import example
from bansos_contracts.payout import (
    PayoutCancelled,
    PayoutDisbursed,
    PayoutFailed,
    PayoutReconciled,
    PayoutRecoveryFlagged,
    PayoutScheduled,
    payout_id,
)
from bansos_contracts.registry import HouseholdRegistered
from bansos_contracts.values import Region
from bansos_libs.context import ActorDict
from bansos_libs.settings import ServiceSettings
from bansos_payout.application import PayoutSettings
from bansos_payout.bootstrap import Payouts, bootstrap
from bansos_payout.desk import CounterDesk
from bansos_payout.domain.payout import Payout, PayoutRefusedError
from bansos_payout.files import BankResultLine, SettlementLine, write_bank_result, write_settlement
from bansos_payout.handlers import NoScheduleError
from bansos_payout.service import Collection, FileReport, PayoutNotFoundError
from bansos_payout.views import FILE_LINES
from tests.fixtures.payout import BLTS_TERMS, feed, feed_batch, payout_rows, published, stored

E = TypeVar("E", bound=Event)

VILLAGE = "35.17.01.2001"
PROGRAM = "BLTS_KESRA"
PERIOD = "2025-10..2025-12"
LIST_ID = f"{PROGRAM}:{PERIOD}:{VILLAGE}"
AMOUNT = 900_000
TERMS = BLTS_TERMS
# The village's windows (Asia/Jakarta dates 22-30 Nov and 22 Nov-8 Dec, in UTC).
OPENS = datetime(2025, 11, 21, 17, tzinfo=UTC)
COMMUNITY_POINT_CLOSES = datetime(2025, 11, 30, 17, tzinfo=UTC)
POST_OFFICE_CLOSES = datetime(2025, 12, 8, 17, tzinfo=UTC)
INSIDE = datetime(2025, 11, 25, 3, 15, tzinfo=UTC)
AFTER_THE_WINDOWS = datetime(2025, 12, 9, tzinfo=UTC)
COMMUNITY_POINT = "Community point, village 35.17.01.2001"
POST_OFFICE = "Post office, district 35.17.01"

POS_OPERATOR: ActorDict = {"role": "CHANNEL_OPERATOR", "id": "pos-1", "region": None}
BANK_OPERATOR: ActorDict = {"role": "CHANNEL_OPERATOR", "id": "bni-1", "region": None}
OFFICER: ActorDict = {"role": "REGENCY_OFFICER", "id": "officer-1", "region": "35.17"}
TEST_KEY = SecretStr("5a" * 32)


@pytest.fixture
def payouts(tmp_path: Path) -> Iterator[Payouts]:
    service = bootstrap(
        ServiceSettings(service="payout", data_dir=tmp_path), PayoutSettings(code_key=TEST_KEY)
    )
    yield service
    service.close()


# -- contract events in --------------------------------------------------------------------


def pid(household_id: str) -> str:
    return payout_id(Program.BLTS_KESRA, PERIOD, household_id)


def registered(
    household_id: str,
    *,
    programs: tuple[Program, ...] = (),
    bank: Bank | None = None,
    version: int = 1,
    village: str = VILLAGE,
) -> HouseholdRegistered:
    return example(
        HouseholdRegistered,
        household_id=household_id,
        region=Region.of_village(village),
        programs=programs,
        kks_bank=bank,
        subject_version=version,
    )


def pos_household(household_id: str) -> HouseholdRegistered:
    """An expansion recipient: no PKH/BPNT, no KKS card."""
    return registered(household_id)


def bank_household(household_id: str, bank: Bank = Bank.BNI) -> HouseholdRegistered:
    """A PKH recipient with a KKS card."""
    return registered(household_id, programs=(Program.PKH,), bank=bank)


def approved(
    *household_ids: str,
    list_id: str = LIST_ID,
    stage: ListStage = ListStage.REGENCY_APPROVED,
    payment: PaymentTerms | None = TERMS,
    program: Program = Program.BLTS_KESRA,
    period: str = PERIOD,
    village: str = VILLAGE,
    version: int = 2,
) -> BeneficiaryListApproved:
    return example(
        BeneficiaryListApproved,
        event_id=uuid.uuid5(uuid.NAMESPACE_URL, f"test:list:{list_id}:{stage}:{version}"),
        list_id=list_id,
        subject_id=list_id,
        program=program,
        period=period,
        village=village,
        household_ids=household_ids,
        stage=stage,
        exclusions=(),
        ruleset_id="blts-kesra-2025q4",
        payment=payment,
        subject_version=version,
    )


def decided(
    household_id: str,
    status: EligibilityStatus,
    version: int,
    reason: str = "DECILE_ABOVE_MAX",
) -> EligibilityDecided:
    ineligible = status is EligibilityStatus.INELIGIBLE
    return example(
        EligibilityDecided,
        event_id=uuid.uuid5(uuid.NAMESPACE_URL, f"test:decision:{household_id}:{version}"),
        household_id=household_id,
        subject_id=household_id,
        status=status,
        previous_status=None,
        reason_codes=(ReasonCode(code=reason, detail="test"),) if ineligible else (),
        subject_version=version,
    )


def ineligible(
    household_id: str, version: int, reason: str = "DECILE_ABOVE_MAX"
) -> EligibilityDecided:
    return decided(household_id, EligibilityStatus.INELIGIBLE, version, reason)


def eligible(household_id: str, version: int) -> EligibilityDecided:
    return decided(household_id, EligibilityStatus.ELIGIBLE, version)


# -- reading what came out -----------------------------------------------------------------


def of(events: list[Event], cls: type[E]) -> list[E]:
    return [e for e in events if isinstance(e, cls)]


def events_of(payouts: Payouts, household_id: str) -> list[Event]:
    return [e for e in published(payouts) if getattr(e, "payout_id", None) == pid(household_id)]


def code_of(payouts: Payouts, household_id: str) -> str:
    """The code printed on the household's current invitation letter."""
    code = payouts.service.collection_code(payouts.service.payout(pid(household_id)))
    assert code is not None
    return code


def collect(
    payouts: Payouts,
    household_id: str,
    *,
    code: str | None = None,
    amount: int = AMOUNT,
    at: datetime = INSIDE,
    reference: str | None = None,
    region: str | None = None,
) -> tuple[Payout, bool]:
    result = payouts.service.collect(
        payout_id=pid(household_id),
        code=code_of(payouts, household_id) if code is None else code,
        amount=amount,
        at=at,
        reference=reference or f"POS-{household_id}",
        actor=POS_OPERATOR,
        region=region,
    )
    payouts.view.catch_up()
    return result


def bank_line(
    household_id: str,
    *,
    credited: bool = True,
    reason: PayoutFailureReason | None = None,
    amount: int = AMOUNT,
) -> BankResultLine:
    return BankResultLine(
        line=0,
        payout_id=pid(household_id),
        amount=amount,
        credited=credited,
        reason=reason,
        bank_reference=f"BNI-{household_id}",
        processed_at=datetime(2025, 11, 24, 2, tzinfo=UTC),
    )


def import_bank(payouts: Payouts, *lines: BankResultLine, bank: str = "BNI") -> FileReport:
    report = payouts.service.import_bank_result(
        write_bank_result(lines), bank=bank, name="result.csv", actor=BANK_OPERATOR
    )
    payouts.view.catch_up()
    return report


def settlement_line(
    payouts: Payouts,
    household_id: str,
    *,
    code: str | None = None,
    amount: int = AMOUNT,
    reference: str | None = None,
    at: datetime = INSIDE,
) -> SettlementLine:
    return SettlementLine(
        line=0,
        payout_id=pid(household_id),
        collection_code=code,
        amount=amount,
        channel_reference=reference or f"POS-{household_id}",
        paid_at=at,
    )


def import_settlement(payouts: Payouts, text: str) -> FileReport:
    report = payouts.service.import_settlement(
        text, channel="POS", name="settlement.csv", actor=POS_OPERATOR
    )
    payouts.view.catch_up()
    return report


def refused(report: FileReport) -> list[tuple[int, str | None, str]]:
    return [(r.line, r.payout_id, r.code) for r in report.refused]


def state_of(payouts: Payouts, household_id: str) -> str:
    return str(payout_rows(payouts)[pid(household_id)]["state"])


def expire(payouts: Payouts, now: datetime, region: str = "35.17") -> int:
    failed = payouts.service.expire(
        program=PROGRAM, period=PERIOD, region=region, now=now, actor=OFFICER
    )
    payouts.view.catch_up()
    return failed


# -- 1. scheduling -------------------------------------------------------------------------


def test_an_approved_list_schedules_one_payout_per_household_on_its_channel(
    payouts: Payouts,
) -> None:
    feed(
        payouts,
        bank_household("HH-PKH", Bank.BNI),
        registered("HH-BPNT", programs=(Program.BPNT,), bank=Bank.BRI),
        pos_household("HH-NEW"),
        registered("HH-PKH-NO-CARD", programs=(Program.PKH,), bank=None),
        registered("HH-PBI", programs=(Program.PBI_JKN,), bank=Bank.MANDIRI),
    )
    households = ("HH-PKH", "HH-BPNT", "HH-NEW", "HH-PKH-NO-CARD", "HH-PBI")
    feed(payouts, approved(*households))

    scheduled = {e.household_id: e for e in of(published(payouts), PayoutScheduled)}
    assert sorted(scheduled) == sorted(households)
    assert len(of(published(payouts), PayoutScheduled)) == len(households)
    for household_id, event in scheduled.items():
        assert event.payout_id == pid(household_id)
        assert (event.program.value, event.period, event.amount) == (PROGRAM, PERIOD, AMOUNT)

    for household_id, bank in (("HH-PKH", "BNI"), ("HH-BPNT", "BRI")):
        event = scheduled[household_id]
        assert (event.channel, event.bank) == ("BANK_KKS", bank)
        assert event.collection_windows == ()
        assert event.location == f"KKS {bank}"

    for household_id in ("HH-NEW", "HH-PKH-NO-CARD", "HH-PBI"):
        event = scheduled[household_id]
        assert (event.channel, event.bank) == ("POS", None)
        assert event.location == COMMUNITY_POINT
        assert [
            (w.kind.value, w.starts_at, w.ends_at, w.place) for w in event.collection_windows
        ] == [
            ("COMMUNITY_POINT", OPENS, COMMUNITY_POINT_CLOSES, COMMUNITY_POINT),
            ("POST_OFFICE", OPENS, POST_OFFICE_CLOSES, POST_OFFICE),
        ]

    rows = payout_rows(payouts)
    assert {r["household_id"]: (r["channel"], r["bank"], r["state"]) for r in rows.values()} == {
        "HH-PKH": ("BANK_KKS", "BNI", "SCHEDULED"),
        "HH-BPNT": ("BANK_KKS", "BRI", "SCHEDULED"),
        "HH-NEW": ("POS", None, "SCHEDULED"),
        "HH-PKH-NO-CARD": ("POS", None, "SCHEDULED"),
        "HH-PBI": ("POS", None, "SCHEDULED"),
    }
    assert {r["amount"] for r in rows.values()} == {AMOUNT}
    assert {r["list_id"] for r in rows.values()} == {LIST_ID}
    assert len(json.loads(rows[pid("HH-NEW")]["windows"])) == 2
    assert json.loads(rows[pid("HH-PKH")]["windows"]) == []


def test_the_amount_comes_from_the_lists_payment_terms(payouts: Payouts) -> None:
    terms = TERMS.model_copy(update={"amount": 600_000})
    feed(payouts, pos_household("HH-1"), approved("HH-1", payment=terms))
    [event] = of(published(payouts), PayoutScheduled)
    assert event.amount == 600_000
    assert payout_rows(payouts)[pid("HH-1")]["amount"] == 600_000


def test_a_verified_list_or_a_list_without_payment_schedules_nothing(payouts: Payouts) -> None:
    feed(payouts, pos_household("HH-1"), bank_household("HH-2"))
    before = stored(payouts)
    feed(
        payouts,
        approved("HH-1", "HH-2", stage=ListStage.VILLAGE_VERIFIED),
        approved("HH-1", "HH-2", list_id="PBI-LIST", payment=None),
    )
    assert stored(payouts) == before
    assert published(payouts) == []
    assert payout_rows(payouts) == {}


def test_a_list_for_a_program_period_without_a_schedule_is_refused_by_name(
    payouts: Payouts,
) -> None:
    feed(payouts, bank_household("HH-1"))
    before = stored(payouts)
    unscheduled = approved(
        "HH-1", list_id="BPNT-Q2", program=Program.BPNT, period="2025-04..2025-06"
    )
    with pytest.raises(NoScheduleError, match=re.escape("BPNT 2025-04..2025-06")):
        feed(payouts, unscheduled)
    assert stored(payouts) == before
    assert payout_rows(payouts) == {}


# -- 2. never twice ------------------------------------------------------------------------


def test_nothing_is_scheduled_twice_however_often_the_events_come(payouts: Payouts) -> None:
    history: list[Event] = [
        pos_household("HH-1"),
        bank_household("HH-2"),
        pos_household("HH-3"),
        approved("HH-1", "HH-2", "HH-3"),
        ineligible("HH-3", 2),
        eligible("HH-3", 3),
    ]
    feed(payouts, *history)
    events, notifications, rows = len(published(payouts)), stored(payouts), payout_rows(payouts)
    # scheduled x3, cancelled, reinstated (a second PayoutScheduled)
    assert events == 5

    feed(payouts, history[3])  # the same list again
    feed(payouts, approved("HH-1", list_id=f"{LIST_ID}-REVISED"))  # another list, same household
    feed(payouts, *history)  # everything again, in the same order
    assert len(published(payouts)) == events
    assert stored(payouts) == notifications
    assert payout_rows(payouts) == rows
    assert len(rows) == 3


def test_one_consumer_batch_of_everything_schedules_the_same(payouts: Payouts) -> None:
    feed_batch(
        payouts,
        approved("HH-1", "HH-2"),
        pos_household("HH-1"),
        bank_household("HH-2"),
        approved("HH-1", "HH-2"),
        pos_household("HH-1"),
    )
    scheduled = of(published(payouts), PayoutScheduled)
    assert sorted((e.household_id, e.channel.value) for e in scheduled) == [
        ("HH-1", "POS"),
        ("HH-2", "BANK_KKS"),
    ]


# -- 3. order independence -----------------------------------------------------------------


def test_a_list_that_overtakes_the_registry_facts_waits_for_them(payouts: Payouts) -> None:
    the_list = approved("HH-1", "HH-2")
    feed(payouts, the_list)
    assert of(published(payouts), PayoutScheduled) == []
    assert payout_rows(payouts) == {}

    feed(payouts, bank_household("HH-1", Bank.BRI))
    [first] = of(published(payouts), PayoutScheduled)
    assert (first.household_id, first.channel, first.bank) == ("HH-1", "BANK_KKS", "BRI")
    assert list(payout_rows(payouts)) == [pid("HH-1")]

    feed(payouts, pos_household("HH-2"))
    scheduled = {e.household_id: e for e in of(published(payouts), PayoutScheduled)}
    assert (scheduled["HH-2"].channel, scheduled["HH-2"].bank) == ("POS", None)
    assert len(scheduled["HH-2"].collection_windows) == 2

    before = stored(payouts)
    feed(payouts, the_list, bank_household("HH-1", Bank.BRI), pos_household("HH-2"))
    assert stored(payouts) == before
    assert len(of(published(payouts), PayoutScheduled)) == 2


# -- 4. cancellation, reinstatement, recovery ----------------------------------------------


def test_an_ineligible_decision_cancels_the_scheduled_payout(payouts: Payouts) -> None:
    feed(payouts, pos_household("HH-1"), bank_household("HH-2"), approved("HH-1", "HH-2"))
    decision = ineligible("HH-1", 2)
    refusal = ineligible("HH-2", 2, reason="REFUSED")
    feed(payouts, decision, refusal)

    cancelled = {e.household_id: e for e in of(published(payouts), PayoutCancelled)}
    assert cancelled["HH-1"].payout_id == pid("HH-1")
    assert cancelled["HH-1"].caused_by == decision.event_id
    assert cancelled["HH-1"].reason == "INELIGIBLE"
    assert cancelled["HH-2"].caused_by == refusal.event_id
    assert cancelled["HH-2"].reason == "OPTED_OUT"
    rows = payout_rows(payouts)
    assert (rows[pid("HH-1")]["state"], rows[pid("HH-1")]["cancel_reason"]) == (
        "CANCELLED",
        "INELIGIBLE",
    )
    assert rows[pid("HH-1")]["caused_by"] == str(decision.event_id)
    assert (rows[pid("HH-2")]["state"], rows[pid("HH-2")]["cancel_reason"]) == (
        "CANCELLED",
        "OPTED_OUT",
    )


def test_eligible_again_reinstates_the_payout_with_a_new_code(payouts: Payouts) -> None:
    feed(payouts, pos_household("HH-1"), approved("HH-1"))
    first_code = code_of(payouts, "HH-1")
    feed(payouts, ineligible("HH-1", 2))
    assert payouts.service.collection_code(payouts.service.payout(pid("HH-1"))) is None
    feed(payouts, eligible("HH-1", 3))

    scheduled = of(events_of(payouts, "HH-1"), PayoutScheduled)
    assert len(scheduled) == 2
    again = scheduled[-1]
    assert (again.payout_id, again.channel, again.bank, again.amount) == (
        pid("HH-1"),
        "POS",
        None,
        AMOUNT,
    )
    assert len(again.collection_windows) == 2
    assert [type(e).__name__ for e in events_of(payouts, "HH-1")] == [
        "PayoutScheduled",
        "PayoutCancelled",
        "PayoutScheduled",
    ]
    row = payout_rows(payouts)[pid("HH-1")]
    assert (row["state"], row["attempt"], row["cancel_reason"]) == ("SCHEDULED", 2, None)

    second_code = code_of(payouts, "HH-1")
    assert second_code != first_code
    before = stored(payouts)
    with pytest.raises(PayoutRefusedError) as refusal:
        collect(payouts, "HH-1", code=first_code)
    assert refusal.value.code == "INVALID_CODE"
    assert stored(payouts) == before
    payout, changed = collect(payouts, "HH-1", code=second_code)
    assert changed
    assert payout.state == "DISBURSED"


def test_a_decision_that_overtook_the_list_cancels_the_payout_once_scheduled(
    payouts: Payouts,
) -> None:
    decision = ineligible("HH-1", 2)
    feed(payouts, pos_household("HH-1"), decision)
    assert published(payouts) == []
    feed(payouts, approved("HH-1"))

    events = events_of(payouts, "HH-1")
    assert [type(e).__name__ for e in events] == ["PayoutScheduled", "PayoutCancelled"]
    cancelled = of(events, PayoutCancelled)[0]
    assert (cancelled.caused_by, cancelled.reason) == (decision.event_id, "INELIGIBLE")
    assert state_of(payouts, "HH-1") == "CANCELLED"


def test_a_decision_that_overtook_both_list_and_facts_cancels_once_scheduled(
    payouts: Payouts,
) -> None:
    decision = ineligible("HH-1", 2, reason="REFUSED")
    feed(payouts, decision, approved("HH-1"))
    assert published(payouts) == []
    feed(payouts, pos_household("HH-1"))
    assert [type(e).__name__ for e in events_of(payouts, "HH-1")] == [
        "PayoutScheduled",
        "PayoutCancelled",
    ]
    cancelled = of(published(payouts), PayoutCancelled)[0]
    assert (cancelled.caused_by, cancelled.reason) == (decision.event_id, "OPTED_OUT")


def test_a_decision_after_payment_flags_the_payout_for_recovery(payouts: Payouts) -> None:
    feed(payouts, pos_household("HH-1"), approved("HH-1"))
    collect(payouts, "HH-1")
    decision = ineligible("HH-1", 2)
    feed(payouts, decision)

    assert of(published(payouts), PayoutCancelled) == []
    [flagged] = of(published(payouts), PayoutRecoveryFlagged)
    assert (flagged.payout_id, flagged.amount, flagged.caused_by, flagged.reason) == (
        pid("HH-1"),
        AMOUNT,
        decision.event_id,
        "INELIGIBLE",
    )
    assert payouts.service.payout(pid("HH-1")).state == "DISBURSED"
    row = payout_rows(payouts)[pid("HH-1")]
    assert (row["state"], row["recovery_flagged"]) == ("DISBURSED", 1)

    before = stored(payouts)
    feed(payouts, decision)
    assert stored(payouts) == before


# -- 5. collections at the PT Pos counter --------------------------------------------------


def test_a_collection_inside_the_window_disburses_the_payout_once(payouts: Payouts) -> None:
    feed(payouts, pos_household("HH-1"), approved("HH-1"))
    code = code_of(payouts, "HH-1")
    payout, changed = collect(payouts, "HH-1", code=code, reference="POS-JBG-0001")
    assert changed
    assert payout.state == "DISBURSED"
    [disbursed] = of(published(payouts), PayoutDisbursed)
    assert (disbursed.payout_id, disbursed.household_id) == (pid("HH-1"), "HH-1")
    assert (disbursed.amount, disbursed.at, disbursed.channel_reference) == (
        AMOUNT,
        INSIDE,
        "POS-JBG-0001",
    )
    row = payout_rows(payouts)[pid("HH-1")]
    assert (row["state"], row["reported_amount"], row["reported_source"]) == (
        "DISBURSED",
        AMOUNT,
        "COUNTER",
    )

    before = stored(payouts)
    payout, changed = collect(payouts, "HH-1", code=code, reference="POS-JBG-0001")
    assert (payout.state, changed) == ("DISBURSED", False)
    assert stored(payouts) == before

    with pytest.raises(PayoutRefusedError) as refusal:
        collect(payouts, "HH-1", code=code, reference="POS-JBG-0002")
    assert refusal.value.code == "ALREADY_COLLECTED"
    assert stored(payouts) == before
    assert len(of(published(payouts), PayoutDisbursed)) == 1


@pytest.mark.parametrize(
    "at",
    [OPENS, COMMUNITY_POINT_CLOSES, POST_OFFICE_CLOSES - timedelta(seconds=1)],
    ids=["opening", "community-point-closed", "last-second"],
)
def test_a_collection_is_accepted_anywhere_inside_the_windows(
    payouts: Payouts, at: datetime
) -> None:
    feed(payouts, pos_household("HH-1"), approved("HH-1"))
    payout, changed = collect(payouts, "HH-1", at=at)
    assert (payout.state, changed) == ("DISBURSED", True)


@pytest.fixture
def scheduled(payouts: Payouts) -> Payouts:
    """HH-POS and HH-OTHER paid by PT Pos, HH-BANK by BNI, HH-GONE cancelled."""
    feed(
        payouts,
        pos_household("HH-POS"),
        pos_household("HH-OTHER"),
        bank_household("HH-BANK"),
        pos_household("HH-GONE"),
        approved("HH-POS", "HH-OTHER", "HH-BANK", "HH-GONE"),
        ineligible("HH-GONE", 2),
    )
    return payouts


@pytest.mark.parametrize(
    ("household_id", "changes", "code"),
    [
        ("HH-POS", {"at": OPENS - timedelta(seconds=1)}, "OUTSIDE_WINDOW"),
        ("HH-POS", {"at": POST_OFFICE_CLOSES}, "OUTSIDE_WINDOW"),
        ("HH-POS", {"at": datetime(2025, 12, 20, tzinfo=UTC)}, "OUTSIDE_WINDOW"),
        ("HH-POS", {"code": "other"}, "INVALID_CODE"),
        ("HH-POS", {"code": "AAAA-BBBB-CCCC-DDDD"}, "INVALID_CODE"),
        ("HH-GONE", {}, "CANCELLED"),
        ("HH-POS", {"amount": 600_000}, "AMOUNT_DIFFERS"),
        ("HH-BANK", {}, "WRONG_CHANNEL"),
        ("HH-POS", {"at": "future"}, "IN_THE_FUTURE"),
    ],
    ids=[
        "before-opening",
        "at-closing",
        "after-closing",
        "another-payouts-code",
        "wrong-code",
        "cancelled",
        "amount",
        "bank-payout",
        "future",
    ],
)
def test_a_refused_collection_changes_nothing(
    scheduled: Payouts, household_id: str, changes: dict[str, Any], code: str
) -> None:
    payouts = scheduled
    arguments: dict[str, Any] = {
        "code": payouts.signer.code_for(pid(household_id), 1),
        "amount": AMOUNT,
        "at": INSIDE,
    }
    arguments |= changes
    if arguments["code"] == "other":
        arguments["code"] = code_of(payouts, "HH-OTHER")
    if arguments["at"] == "future":
        arguments["at"] = datetime.now(UTC) + timedelta(hours=1)
    before, rows = stored(payouts), payout_rows(payouts)
    with pytest.raises(PayoutRefusedError) as refusal:
        collect(payouts, household_id, **arguments)
    assert refusal.value.code == code
    assert stored(payouts) == before
    assert payout_rows(payouts) == rows


@pytest.mark.parametrize(
    ("payout", "region"),
    [(pid("HH-404"), None), (pid("HH-POS"), "35.18"), (pid("HH-POS"), "35.17.02")],
    ids=["unknown", "another-regency", "another-district"],
)
def test_a_collection_of_a_payout_not_found_changes_nothing(
    scheduled: Payouts, payout: str, region: str | None
) -> None:
    payouts = scheduled
    before = stored(payouts)
    with pytest.raises(PayoutNotFoundError):
        payouts.service.collect(
            payout_id=payout,
            code=payouts.signer.code_for(payout, 1),
            amount=AMOUNT,
            at=INSIDE,
            reference="POS-1",
            actor=POS_OPERATOR,
            region=region,
        )
    assert stored(payouts) == before


def test_a_collection_within_the_callers_region_is_accepted(scheduled: Payouts) -> None:
    payout, changed = collect(scheduled, "HH-POS", region="35.17.01")
    assert (payout.state, changed) == ("DISBURSED", True)


# -- 6. bank result files ------------------------------------------------------------------


def test_a_credited_bank_result_disburses_the_payout(payouts: Payouts) -> None:
    feed(payouts, bank_household("HH-1"), approved("HH-1"))
    report = import_bank(payouts, bank_line("HH-1"))
    assert (report.lines, report.accepted, report.refused, report.already_imported) == (
        1,
        1,
        [],
        False,
    )
    row = payout_rows(payouts)[pid("HH-1")]
    assert (row["state"], row["reported_source"], row["reported_reference"]) == (
        "DISBURSED",
        "BANK_RESULT",
        "BNI-HH-1",
    )
    [disbursed] = of(published(payouts), PayoutDisbursed)
    assert (disbursed.payout_id, disbursed.amount) == (pid("HH-1"), AMOUNT)


def test_a_rejected_credit_falls_back_to_pt_pos_with_a_new_code(payouts: Payouts) -> None:
    feed(payouts, bank_household("HH-1"), approved("HH-1"))
    assert payouts.service.collection_code(payouts.service.payout(pid("HH-1"))) is None
    report = import_bank(
        payouts, bank_line("HH-1", credited=False, reason=PayoutFailureReason.ACCOUNT_INVALID)
    )
    assert (report.accepted, report.refused) == (1, [])

    scheduled = of(published(payouts), PayoutScheduled)
    assert [(e.payout_id, e.channel, e.bank) for e in scheduled] == [
        (pid("HH-1"), "BANK_KKS", "BNI"),
        (pid("HH-1"), "POS", None),
    ]
    fallback = scheduled[-1]
    assert fallback.location == COMMUNITY_POINT
    assert [(w.starts_at, w.ends_at) for w in fallback.collection_windows] == [
        (OPENS, COMMUNITY_POINT_CLOSES),
        (OPENS, POST_OFFICE_CLOSES),
    ]
    assert of(published(payouts), PayoutFailed) == []
    row = payout_rows(payouts)[pid("HH-1")]
    assert (row["state"], row["channel"], row["bank"], row["attempt"]) == (
        "SCHEDULED",
        "POS",
        None,
        2,
    )

    code = code_of(payouts, "HH-1")
    assert payouts.signer.check(pid("HH-1"), 2, code)
    with pytest.raises(PayoutRefusedError) as refusal:
        collect(payouts, "HH-1", code=payouts.signer.code_for(pid("HH-1"), 1))
    assert refusal.value.code == "INVALID_CODE"
    payout, changed = collect(payouts, "HH-1", code=code)
    assert (payout.state, changed) == ("DISBURSED", True)


def test_importing_the_same_bank_file_again_changes_nothing(payouts: Payouts) -> None:
    feed(payouts, bank_household("HH-1"), bank_household("HH-2"), approved("HH-1", "HH-2"))
    lines = (
        bank_line("HH-1"),
        bank_line("HH-2", credited=False, reason=PayoutFailureReason.CARD_BLOCKED),
    )
    first = import_bank(payouts, *lines)
    assert (first.accepted, first.already_imported) == (2, False)
    before, events, rows = stored(payouts), len(published(payouts)), payout_rows(payouts)

    again = import_bank(payouts, *lines)
    assert again.already_imported
    assert (again.sha256, again.lines, again.accepted, again.refused) == (
        first.sha256,
        first.lines,
        first.accepted,
        first.refused,
    )
    assert stored(payouts) == before
    assert len(published(payouts)) == events
    assert payout_rows(payouts) == rows


def test_a_bank_result_for_another_banks_payout_is_refused(payouts: Payouts) -> None:
    feed(
        payouts,
        bank_household("HH-BNI", Bank.BNI),
        bank_household("HH-BRI", Bank.BRI),
        approved("HH-BNI", "HH-BRI"),
    )
    report = import_bank(payouts, bank_line("HH-BRI"), bank_line("HH-BNI"), bank="BNI")
    assert refused(report) == [(2, pid("HH-BRI"), "WRONG_BANK")]
    assert report.accepted == 1
    assert state_of(payouts, "HH-BRI") == "SCHEDULED"
    assert state_of(payouts, "HH-BNI") == "DISBURSED"
    with payouts.view.database.transaction() as sql:
        lines = sql.execute(f"SELECT line, payout_id, code FROM {FILE_LINES}").fetchall()
    assert lines == [(2, pid("HH-BRI"), "WRONG_BANK")]


# -- 7. settlement files -------------------------------------------------------------------


def test_a_settlement_file_reports_each_bad_line_and_settles_the_good_ones(
    payouts: Payouts,
) -> None:
    feed(
        payouts,
        *(pos_household(h) for h in ("HH-1", "HH-2", "HH-3", "HH-4")),
        approved("HH-1", "HH-2", "HH-3", "HH-4"),
        ineligible("HH-3", 2),
    )
    collect(payouts, "HH-1", reference="POS-R1")
    collect(payouts, "HH-2", reference="POS-R2")
    collect(payouts, "HH-4", reference="POS-R4")
    before, events, rows = stored(payouts), len(published(payouts)), payout_rows(payouts)

    text = write_settlement(
        [
            settlement_line(payouts, "HH-1", reference="POS-R1"),  # line 2: good
            settlement_line(payouts, "HH-404", reference="POS-R404"),  # 3: unknown
            settlement_line(payouts, "HH-1", reference="POS-R1"),  # 4: duplicate
            settlement_line(payouts, "HH-2", reference="POS-R2", amount=800_000),  # 5
            settlement_line(payouts, "HH-3", reference="POS-R3"),  # 6: cancelled
            settlement_line(payouts, "HH-4", reference="POS-R4"),  # 7: good
        ]
    )
    report = import_settlement(payouts, text)
    assert refused(report) == [
        (3, pid("HH-404"), "UNKNOWN_PAYOUT"),
        (4, pid("HH-1"), "DUPLICATE_LINE"),
        (5, pid("HH-2"), "AMOUNT_DIFFERS"),
        (6, pid("HH-3"), "CANCELLED"),
    ]
    assert all(r.message.startswith(f"line {r.line}:") for r in report.refused)
    assert (report.lines, report.accepted, report.unchanged) == (6, 2, 0)

    after = payout_rows(payouts)
    for household_id in ("HH-1", "HH-4"):
        row = after[pid(household_id)]
        assert (row["state"], row["settled_amount"], row["settled_reference"]) == (
            "DISBURSED",
            AMOUNT,
            f"POS-R{household_id[-1]}",
        )
    for household_id in ("HH-2", "HH-3"):
        assert after[pid(household_id)] == rows[pid(household_id)]
    for payout in (pid("HH-1"), pid("HH-4")):
        settled = {k: v for k, v in after[payout].items() if not k.startswith("settled_")}
        assert settled == {k: v for k, v in rows[payout].items() if not k.startswith("settled_")}
    assert len(published(payouts)) == events  # a settlement is private
    assert stored(payouts) == before + 3  # two Settled and the file
    with payouts.view.database.transaction() as sql:
        lines = sql.execute(f"SELECT line, code FROM {FILE_LINES} ORDER BY line").fetchall()
    assert lines == [
        (3, "UNKNOWN_PAYOUT"),
        (4, "DUPLICATE_LINE"),
        (5, "AMOUNT_DIFFERS"),
        (6, "CANCELLED"),
    ]

    again = import_settlement(payouts, text)
    assert again.already_imported
    assert refused(again) == refused(report)
    assert again.accepted == report.accepted
    assert stored(payouts) == before + 3
    assert payout_rows(payouts) == after


def test_a_settlement_line_for_an_unreported_collection_counts_as_the_collection(
    payouts: Payouts,
) -> None:
    feed(payouts, pos_household("HH-1"), pos_household("HH-2"), approved("HH-1", "HH-2"))
    good = settlement_line(payouts, "HH-1", code=code_of(payouts, "HH-1"), reference="POS-S1")
    bad_code = settlement_line(payouts, "HH-2", code="AAAA-BBBB-CCCC-DDDD", reference="POS-S2")
    report = import_settlement(payouts, write_settlement([good, bad_code]))
    assert report.accepted == 1
    assert refused(report) == [(3, pid("HH-2"), "INVALID_CODE")]

    row = payout_rows(payouts)[pid("HH-1")]
    assert (row["state"], row["reported_source"], row["reported_amount"]) == (
        "DISBURSED",
        "SETTLEMENT",
        AMOUNT,
    )
    assert (row["settled_amount"], row["settled_reference"]) == (AMOUNT, "POS-S1")
    [disbursed] = of(published(payouts), PayoutDisbursed)
    assert (disbursed.payout_id, disbursed.channel_reference) == (pid("HH-1"), "POS-S1")
    assert state_of(payouts, "HH-2") == "SCHEDULED"


def test_a_settlement_line_outside_the_window_is_refused(payouts: Payouts) -> None:
    feed(payouts, pos_household("HH-1"), approved("HH-1"))
    late = settlement_line(
        payouts, "HH-1", code=code_of(payouts, "HH-1"), at=datetime(2025, 12, 10, tzinfo=UTC)
    )
    before = stored(payouts)
    report = import_settlement(payouts, write_settlement([late]))
    assert refused(report) == [(2, pid("HH-1"), "OUTSIDE_WINDOW")]
    assert state_of(payouts, "HH-1") == "SCHEDULED"
    assert stored(payouts) == before + 1  # the file only


# -- 8. expiry and reconciliation ----------------------------------------------------------


@pytest.fixture
def ended(payouts: Payouts) -> Payouts:
    """HH-PAID collected, HH-UNPAID and HH-BANK never paid, HH-GONE cancelled."""
    feed(
        payouts,
        pos_household("HH-PAID"),
        pos_household("HH-UNPAID"),
        bank_household("HH-BANK"),
        pos_household("HH-GONE"),
        approved("HH-PAID", "HH-UNPAID", "HH-BANK", "HH-GONE"),
        ineligible("HH-GONE", 2),
    )
    collect(payouts, "HH-PAID")
    return payouts


def test_expiry_fails_only_scheduled_payouts_after_the_last_window(ended: Payouts) -> None:
    payouts = ended
    before = stored(payouts)
    assert expire(payouts, POST_OFFICE_CLOSES - timedelta(minutes=1)) == 0
    assert expire(payouts, AFTER_THE_WINDOWS, region="35.18") == 0
    assert stored(payouts) == before

    assert expire(payouts, AFTER_THE_WINDOWS) == 2
    failed = of(published(payouts), PayoutFailed)
    assert sorted(e.household_id for e in failed) == ["HH-BANK", "HH-UNPAID"]
    assert {e.reason for e in failed} == {"NOT_COLLECTED"}
    rows = payout_rows(payouts)
    assert {r["household_id"]: r["state"] for r in rows.values()} == {
        "HH-PAID": "DISBURSED",
        "HH-UNPAID": "FAILED",
        "HH-BANK": "FAILED",
        "HH-GONE": "CANCELLED",
    }
    assert rows[pid("HH-UNPAID")]["failure_reason"] == "NOT_COLLECTED"

    after = stored(payouts)
    assert expire(payouts, AFTER_THE_WINDOWS) == 0
    assert expire(payouts, AFTER_THE_WINDOWS + timedelta(days=30)) == 0
    assert stored(payouts) == after


def test_an_expired_payout_can_no_longer_be_collected(ended: Payouts) -> None:
    code = code_of(ended, "HH-UNPAID")
    expire(ended, AFTER_THE_WINDOWS)
    with pytest.raises(PayoutRefusedError) as refusal:
        collect(ended, "HH-UNPAID", code=code)
    assert refusal.value.code == "FAILED"


def test_reconciliation_needs_the_villages_sptjm(ended: Payouts) -> None:
    payouts = ended
    expire(payouts, AFTER_THE_WINDOWS)
    service = payouts.service
    failed = [pid("HH-UNPAID"), pid("HH-BANK")]
    assert service.failed_in(PROGRAM, PERIOD, VILLAGE) == sorted(failed)

    def reconcile(ids: list[str], reference: str) -> int:
        changed = service.reconcile(
            ids, outcome="RETURNED_TO_TREASURY", sptjm_reference=reference, actor=OFFICER
        )
        payouts.view.catch_up()
        return changed

    before = stored(payouts)
    with pytest.raises(PayoutRefusedError) as no_sptjm:
        reconcile(failed, "SPTJM/3517/001")
    assert no_sptjm.value.code == "NO_SPTJM"
    assert stored(payouts) == before

    assert service.enter_sptjm(
        program=PROGRAM, period=PERIOD, village=VILLAGE, reference="SPTJM/3517/001", actor=OFFICER
    )
    assert service.sptjm_of(PROGRAM, PERIOD, VILLAGE) == "SPTJM/3517/001"
    before = stored(payouts)
    with pytest.raises(PayoutRefusedError) as differs:
        reconcile(failed, "SPTJM/3517/999")
    assert differs.value.code == "SPTJM_DIFFERS"
    assert stored(payouts) == before

    assert reconcile(failed, "SPTJM/3517/001") == 2
    reconciled = of(published(payouts), PayoutReconciled)
    assert sorted(e.payout_id for e in reconciled) == sorted(failed)
    assert {(e.outcome, e.sptjm_reference) for e in reconciled} == {
        ("RETURNED_TO_TREASURY", "SPTJM/3517/001")
    }
    rows = payout_rows(payouts)
    assert {(rows[p]["state"], rows[p]["sptjm_reference"]) for p in failed} == {
        ("RECONCILED", "SPTJM/3517/001")
    }
    assert service.failed_in(PROGRAM, PERIOD, VILLAGE) == []
    after = stored(payouts)
    assert reconcile(failed, "SPTJM/3517/001") == 0
    assert stored(payouts) == after

    assert not service.enter_sptjm(
        program=PROGRAM, period=PERIOD, village=VILLAGE, reference="SPTJM/3517/001", actor=OFFICER
    )
    with pytest.raises(PayoutRefusedError) as entered:
        service.enter_sptjm(
            program=PROGRAM,
            period=PERIOD,
            village=VILLAGE,
            reference="SPTJM/3517/002",
            actor=OFFICER,
        )
    assert entered.value.code == "SPTJM_ALREADY_ENTERED"
    assert service.sptjm_of(PROGRAM, PERIOD, VILLAGE) == "SPTJM/3517/001"

    with pytest.raises(PayoutRefusedError) as paid:
        reconcile([pid("HH-PAID")], "SPTJM/3517/001")
    assert paid.value.code == "ALREADY_COLLECTED"
    with pytest.raises(PayoutRefusedError) as cancelled:
        reconcile([pid("HH-GONE")], "SPTJM/3517/001")
    assert cancelled.value.code == "CANCELLED"
    assert stored(payouts) == after
    assert state_of(payouts, "HH-PAID") == "DISBURSED"


def test_reconciling_a_payout_still_in_its_windows_is_refused(payouts: Payouts) -> None:
    feed(payouts, pos_household("HH-1"), approved("HH-1"))
    payouts.service.enter_sptjm(
        program=PROGRAM, period=PERIOD, village=VILLAGE, reference="SPTJM/1", actor=OFFICER
    )
    with pytest.raises(PayoutRefusedError) as refusal:
        payouts.service.reconcile(
            [pid("HH-1")], outcome="REISSUED", sptjm_reference="SPTJM/1", actor=OFFICER
        )
    assert refusal.value.code == "SCHEDULED"


# -- 9. the totals balance -----------------------------------------------------------------


def totals(payouts: Payouts) -> dict[str, int]:
    rows = payout_rows(payouts).values()
    by_state: dict[str, int] = {}
    for row in rows:
        by_state[row["state"]] = by_state.get(row["state"], 0) + row["amount"]
    return {
        "owed": sum(r["amount"] for r in rows if r["state"] != "CANCELLED"),
        "disbursed": sum(r["reported_amount"] for r in rows if r["state"] == "DISBURSED"),
        "failed": by_state.get("FAILED", 0) + by_state.get("RECONCILED", 0),
        "scheduled": by_state.get("SCHEDULED", 0),
        "cancelled": by_state.get("CANCELLED", 0),
    }


def test_the_totals_balance_for_a_village_of_thirty_households(payouts: Payouts) -> None:
    households = [f"HH-{n:02d}" for n in range(1, 31)]
    bank, pos = households[:10], households[10:]
    feed(
        payouts,
        *(bank_household(h) for h in bank),
        *(pos_household(h) for h in pos),
        approved(*households),
    )
    assert totals(payouts) == {
        "owed": 30 * AMOUNT,
        "disbursed": 0,
        "failed": 0,
        "scheduled": 30 * AMOUNT,
        "cancelled": 0,
    }
    # bank: 01-05 credited, 06-07 rejected (06 then collected at PT Pos), 08 cancelled
    import_bank(
        payouts,
        *(bank_line(h) for h in bank[:5]),
        *(
            bank_line(h, credited=False, reason=PayoutFailureReason.ACCOUNT_DORMANT)
            for h in bank[5:7]
        ),
    )
    collect(payouts, "HH-06")
    feed(payouts, ineligible("HH-08", 2))
    # PT Pos: 11-20 collected, 21-23 cancelled, 24-25 cancelled and reinstated (24 collected)
    for household_id in pos[:10]:
        collect(payouts, household_id)
    feed(payouts, *(ineligible(h, 2) for h in pos[10:15]))
    feed(payouts, *(eligible(h, 3) for h in pos[13:15]))
    collect(payouts, "HH-24")
    # a disbursed household becomes ineligible: flagged, still paid and counted
    feed(payouts, ineligible("HH-11", 2))

    middle = totals(payouts)
    assert middle["owed"] == 26 * AMOUNT
    assert middle["cancelled"] == 4 * AMOUNT
    assert middle["disbursed"] == 17 * AMOUNT
    assert middle["owed"] == middle["disbursed"] + middle["failed"] + middle["scheduled"]

    expire(payouts, AFTER_THE_WINDOWS)
    payouts.service.enter_sptjm(
        program=PROGRAM, period=PERIOD, village=VILLAGE, reference="SPTJM/30", actor=OFFICER
    )
    payouts.service.reconcile(
        [pid("HH-26"), pid("HH-27")],
        outcome="RETURNED_TO_TREASURY",
        sptjm_reference="SPTJM/30",
        actor=OFFICER,
    )
    end = totals(payouts)
    assert end == {
        "owed": 26 * AMOUNT,
        "disbursed": 17 * AMOUNT,
        "failed": 9 * AMOUNT,
        "scheduled": 0,
        "cancelled": 4 * AMOUNT,
    }
    assert end["owed"] == end["disbursed"] + end["failed"] + end["scheduled"]
    states = [r["state"] for r in payout_rows(payouts).values()]
    assert (states.count("FAILED"), states.count("RECONCILED")) == (7, 2)

    # the public events tell the same story as the view
    events = published(payouts)
    paid = sum(e.amount for e in of(events, PayoutDisbursed))
    assert paid == end["disbursed"]
    assert len(of(events, PayoutFailed)) == 9
    assert len(of(events, PayoutRecoveryFlagged)) == 1


# -- bugs found ----------------------------------------------------------------------------


def test_a_collection_time_in_local_time_is_judged_by_its_instant(payouts: Payouts) -> None:
    feed(payouts, pos_household("HH-1"), approved("HH-1"))
    wib = timezone(timedelta(hours=7))
    inside = datetime(2025, 12, 8, 23, 30, tzinfo=wib)
    assert inside < POST_OFFICE_CLOSES
    payout, changed = collect(payouts, "HH-1", at=inside)
    assert (payout.state, changed) == ("DISBURSED", True)


def test_a_collection_before_opening_in_local_time_is_refused(payouts: Payouts) -> None:
    feed(payouts, pos_household("HH-1"), approved("HH-1"))
    wib = timezone(timedelta(hours=7))
    before_opening = datetime(2025, 11, 21, 23, 0, tzinfo=wib)
    assert before_opening < OPENS
    with pytest.raises(PayoutRefusedError) as refusal:
        collect(payouts, "HH-1", at=before_opening)
    assert refusal.value.code == "OUTSIDE_WINDOW"


def test_a_bank_rejection_of_a_payout_the_bank_never_held_is_refused(payouts: Payouts) -> None:
    feed(payouts, pos_household("HH-1"), approved("HH-1"))
    feed(payouts, ineligible("HH-1", 2), eligible("HH-1", 3))  # reinstated: attempt 2, POS
    report = import_bank(
        payouts, bank_line("HH-1", credited=False, reason=PayoutFailureReason.ACCOUNT_INVALID)
    )
    assert refused(report) == [(2, pid("HH-1"), "WRONG_BANK")]


def test_a_file_imported_for_one_region_can_still_be_imported_for_another(
    payouts: Payouts,
) -> None:
    other = "35.18.01.2001"
    feed(
        payouts,
        pos_household("HH-1"),
        registered("HH-2", village=other),
        approved("HH-1"),
        approved("HH-2", list_id=f"{PROGRAM}:{PERIOD}:{other}", village=other),
    )
    text = write_settlement(
        [
            settlement_line(payouts, "HH-1", code=code_of(payouts, "HH-1")),
            settlement_line(payouts, "HH-2", code=code_of(payouts, "HH-2")),
        ]
    )
    first = payouts.service.import_settlement(
        text, channel="POS", name="pos.csv", actor=POS_OPERATOR, region="35.17"
    )
    assert (first.accepted, refused(first)) == (1, [(3, pid("HH-2"), "UNKNOWN_PAYOUT")])
    second = payouts.service.import_settlement(
        text, channel="POS", name="pos.csv", actor=POS_OPERATOR, region="35.18"
    )
    row = payout_rows(payouts)[pid("HH-2")]
    assert (row["state"], row["settled_amount"]) == ("DISBURSED", AMOUNT)
    assert pid("HH-2") not in [r.payout_id for r in second.refused]


def test_the_credit_instructions_list_the_banks_payouts_still_to_credit(
    payouts: Payouts,
) -> None:
    feed(
        payouts,
        bank_household("HH-1", Bank.BNI),
        bank_household("HH-2", Bank.BNI),
        bank_household("HH-3", Bank.BRI),
        pos_household("HH-4"),
        approved("HH-1", "HH-2", "HH-3", "HH-4"),
    )
    import_bank(payouts, bank_line("HH-2"))
    text = payouts.service.credit_instructions(PROGRAM, PERIOD, "BNI", "35.17")
    assert text.splitlines() == [
        "payout_id,household_id,bank,amount,program,period,village",
        f"{pid('HH-1')},HH-1,BNI,{AMOUNT},{PROGRAM},{PERIOD},{VILLAGE}",
    ]
    assert payouts.service.credit_instructions(PROGRAM, PERIOD, "BNI", "35.18").splitlines() == [
        "payout_id,household_id,bank,amount,program,period,village"
    ]


# -- the counter desk: concurrent collections, one transaction ------------------------------


def test_concurrent_collections_are_recorded_together_and_answered_one_by_one(
    payouts: Payouts,
) -> None:
    households = [f"HH-D{n}" for n in range(40)]
    wrong = "HH-WRONG-CODE"
    feed(payouts, *(pos_household(h) for h in [*households, wrong]), approved(*households, wrong))
    before = stored(payouts)
    desk = CounterDesk(payouts.service)

    def report(household_id: str, reference: str, code: str | None = None) -> Collection:
        return Collection(
            pid(household_id),
            code_of(payouts, household_id) if code is None else code,
            AMOUNT,
            INSIDE,
            reference,
            POS_OPERATOR,
        )

    reports = [report(h, f"POS-{h}") for h in households]
    reports.append(report(households[0], "POS-AGAIN"))  # the same payout, another reference
    reports.append(report(households[1], f"POS-{households[1]}"))  # the same report again
    reports.append(report(wrong, "POS-WRONG", code="AAAA-BBBB-CCCC-DDDD"))
    with ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(lambda r: _answer(desk, r), reports))
    desk.close()
    assert answers.count("recorded") == len(households)
    assert sorted(a for a in answers if a != "recorded") == [
        "ALREADY_COLLECTED",
        "INVALID_CODE",
        "unchanged",
    ]
    disbursed = of(published(payouts), PayoutDisbursed)
    assert sorted(e.payout_id for e in disbursed) == sorted(pid(h) for h in households)
    assert stored(payouts) == before + len(households)


def _answer(desk: CounterDesk, report: Collection) -> str:
    try:
        _, changed = desk.collect(report)
    except PayoutRefusedError as refusal:
        return refusal.code
    return "recorded" if changed else "unchanged"
