"""Every event survives encode -> decode, with the CloudEvents headers it promises.

The strategies below produce valid instances of every public event.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from bansos_contracts import (
    ALL_EVENTS,
    EVENT_TYPES,
    Actor,
    Bank,
    BeneficiaryListApproved,
    CancellationReason,
    CaseEffect,
    CaseKind,
    CaseOutcome,
    CaseOutcomeInput,
    CaseResolved,
    CaseReviewed,
    CaseSubmitted,
    Channel,
    CollectionWindow,
    DeactivationReason,
    DecisionInputs,
    EligibilityDecided,
    EligibilityStatus,
    Event,
    Evidence,
    Exclusion,
    ExclusionReason,
    FieldChange,
    GeoPoint,
    HouseholdDeactivated,
    HouseholdDecileChanged,
    HouseholdRegistered,
    HouseholdUpdated,
    ListStage,
    PaymentTerms,
    PayoutCancelled,
    PayoutDisbursed,
    PayoutFailed,
    PayoutFailureReason,
    PayoutReconciled,
    PayoutRecoveryFlagged,
    PayoutScheduled,
    Program,
    ReasonCode,
    ReconciliationOutcome,
    Region,
    ReviewOutcome,
    ReviewStage,
    SnapshotCounts,
    SnapshotImported,
    VulnerabilityFlags,
    decode,
    encode,
    event_class,
    example,
    header,
    make_period,
    topics,
)
from bansos_contracts.enums import WindowKind

ids = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,30}", fullmatch=True)
codes = st.from_regex(r"[A-Z][A-Z0-9_]{0,20}", fullmatch=True)
hashes = st.from_regex(r"[0-9a-f]{64}", fullmatch=True)
short_text = st.text(min_size=1, max_size=40)
text = st.text(max_size=80)
deciles = st.integers(min_value=1, max_value=10)
rupiah = st.integers(min_value=0, max_value=10**12)
counts = st.integers(min_value=0, max_value=10**7)
dates = st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31))
zones = st.sampled_from([UTC, timezone(timedelta(hours=7)), timezone(timedelta(hours=9))])
moments = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2099, 1, 1), timezones=zones
)
programs = st.sampled_from(Program)
program_sets = st.lists(programs, unique=True, max_size=4).map(tuple)


@st.composite
def villages(draw: st.DrawFn) -> str:
    """A village code such as ``35.17.01.2001``."""
    p, r, d = (draw(st.integers(0, 99)) for _ in range(3))
    v = draw(st.integers(0, 9999))
    return f"{p:02d}.{r:02d}.{d:02d}.{v:04d}"


regions = villages().map(Region.of_village)
region_codes = villages().flatmap(lambda v: st.sampled_from([v[:2], v[:5], v[:8], v]))


@st.composite
def periods(draw: st.DrawFn) -> str:
    """A period ``YYYY-MM..YYYY-MM`` with start <= end."""
    start = draw(st.tuples(st.integers(2000, 2099), st.integers(1, 12)))
    end = draw(st.tuples(st.integers(2000, 2099), st.integers(1, 12)))
    first, last = sorted([start, end])
    return make_period(*first, *last)


actors = st.one_of(
    st.sampled_from(["registry", "objections", "eligibility", "payout"]).map(Actor.system),
    st.builds(
        Actor,
        role=st.sampled_from(["citizen", "village_officer", "regency_officer", "ministry"]),
        id=ids.filter(lambda value: not (len(value) == 16 and value.isdigit())),
        region=st.none() | region_codes,
    ),
)
flags = st.builds(
    VulnerabilityFlags,
    has_elderly=st.booleans(),
    has_disability=st.booleans(),
    has_child_under6=st.booleans(),
    has_school_child=st.booleans(),
    has_pregnant=st.booleans(),
)
json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53), max_value=2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
)
envelopes = st.fixed_dictionaries(
    {
        "event_id": st.uuids(),
        "occurred_at": moments,
        "subject_id": ids,
        "subject_version": st.integers(min_value=1, max_value=10**6),
        "correlation_id": short_text,
        "causation_id": st.none() | st.uuids().map(str),
        "actor": actors,
    }
)
geo = st.builds(
    GeoPoint,
    latitude=st.floats(-90, 90, allow_nan=False),
    longitude=st.floats(-180, 180, allow_nan=False),
)
case_outcomes = st.builds(
    CaseOutcomeInput,
    case_id=ids,
    kind=st.sampled_from(CaseKind),
    outcome=st.just(CaseOutcome.UPHELD),
    effect=st.sampled_from(CaseEffect),
)


@st.composite
def windows(draw: st.DrawFn) -> CollectionWindow:
    """A collection window that ends after it starts."""
    start = draw(moments)
    return CollectionWindow(
        kind=draw(st.sampled_from(WindowKind)),
        starts_at=start,
        ends_at=start + draw(st.timedeltas(timedelta(minutes=1), timedelta(days=30))),
        place=draw(short_text),
    )


@st.composite
def list_fields(draw: st.DrawFn) -> dict[str, Any]:
    """Fields of a BeneficiaryListApproved: listed and excluded households are disjoint."""
    households = draw(st.lists(ids, unique=True, max_size=12))
    cut = draw(st.integers(0, len(households)))
    return {
        "list_id": draw(ids),
        "program": draw(programs),
        "period": draw(periods()),
        "village": draw(villages()),
        "household_ids": tuple(households[:cut]),
        "stage": draw(st.sampled_from(ListStage)),
        "exclusions": tuple(
            Exclusion(household_id=h, reason=draw(st.sampled_from(ExclusionReason)))
            for h in households[cut:]
        ),
        "approved_by": draw(actors),
        "payment": draw(
            st.none()
            | st.builds(
                PaymentTerms,
                amount=st.integers(min_value=1, max_value=10**9),
                existing_recipients_of=st.lists(programs, unique=True).map(tuple),
                existing_channel=st.sampled_from(Channel),
                new_channel=st.sampled_from(Channel),
            )
        ),
    }


@st.composite
def schedule_fields(draw: st.DrawFn) -> dict[str, Any]:
    """Fields of a PayoutScheduled whose bank matches its channel."""
    channel = draw(st.sampled_from(Channel))
    return {
        "program": draw(programs),
        "period": draw(periods()),
        "amount": draw(rupiah),
        "channel": channel,
        "bank": draw(st.sampled_from(Bank)) if channel is Channel.BANK_KKS else None,
        "location": draw(st.none() | short_text),
        "collection_windows": tuple(draw(st.lists(windows(), max_size=3))),
    }


_payout = {"payout_id": ids, "household_id": ids}

FIELDS: dict[type[Event], st.SearchStrategy[dict[str, Any]]] = {
    HouseholdRegistered: st.fixed_dictionaries(
        {
            "household_id": ids,
            "region": regions,
            "decile": deciles,
            "member_count": st.integers(1, 30),
            "flags": flags,
            "programs": program_sets,
            "per_capita_income": st.none() | rupiah,
            "kks_bank": st.none() | st.sampled_from(Bank),
            "snapshot_id": ids,
            "as_of": dates,
        }
    ),
    HouseholdDecileChanged: st.fixed_dictionaries(
        {
            "household_id": ids,
            "previous_decile": deciles,
            "new_decile": deciles,
            "snapshot_id": ids,
            "as_of": dates,
            "recorded_at": moments,
        }
    ),
    HouseholdUpdated: st.fixed_dictionaries(
        {
            "household_id": ids,
            "changes": st.dictionaries(
                st.sampled_from(
                    ["member_count", "region.village", "flags.has_elderly", "kks_bank"]
                ),
                st.builds(FieldChange, old=json_scalars, new=json_scalars),
                min_size=1,
            ),
            "snapshot_id": ids,
        }
    ),
    HouseholdDeactivated: st.fixed_dictionaries(
        {
            "household_id": ids,
            "reason": st.sampled_from(DeactivationReason),
            "snapshot_id": st.none() | ids,
        }
    ),
    SnapshotImported: st.fixed_dictionaries(
        {
            "snapshot_id": ids,
            "regency": villages().map(lambda v: v[:5]),
            "as_of": dates,
            "counts": st.builds(
                SnapshotCounts,
                registered=counts,
                changed=counts,
                unchanged=counts,
                deactivated=counts,
                rejected=counts,
            ),
            "content_hash": hashes,
        }
    ),
    CaseSubmitted: st.fixed_dictionaries(
        {
            "case_id": ids,
            "household_id": ids,
            "kind": st.sampled_from(CaseKind),
            "village": st.none() | villages(),
            "programs": program_sets,
            "reason_code": codes,
            "reason_text": text,
            "evidence": st.lists(
                st.builds(
                    Evidence,
                    content_hash=hashes,
                    media_type=st.none() | st.just("image/jpeg"),
                    label=st.none() | codes,
                    location=st.none() | geo,
                ),
                max_size=3,
            ).map(tuple),
        }
    ),
    CaseReviewed: st.fixed_dictionaries(
        {
            "case_id": ids,
            "household_id": st.none() | ids,
            "stage": st.sampled_from(ReviewStage),
            "outcome": st.sampled_from(ReviewOutcome),
            "notes": text,
        }
    ),
    CaseResolved: st.fixed_dictionaries(
        {
            "case_id": ids,
            "household_id": st.none() | ids,
            "kind": st.sampled_from(CaseKind),
            "outcome": st.just(CaseOutcome.UPHELD),
            "effect": st.sampled_from(CaseEffect),
            "programs": program_sets,
            "notes": text,
        }
    ),
    EligibilityDecided: st.fixed_dictionaries(
        {
            "household_id": ids,
            "program": programs,
            "period": periods(),
            "status": st.sampled_from(EligibilityStatus),
            "previous_status": st.none() | st.sampled_from(EligibilityStatus),
            "reason_codes": st.lists(
                st.builds(ReasonCode, code=codes, detail=st.none() | short_text),
                min_size=1,
                max_size=3,
            ).map(tuple),
            "ruleset_id": ids,
            "ruleset_hash": hashes,
            "inputs": st.builds(
                DecisionInputs,
                decile=st.none() | deciles,
                flags=st.none() | flags,
                programs=program_sets,
                active=st.booleans(),
                per_capita_income=st.none() | rupiah,
                village=st.none() | villages(),
                case_outcomes=st.lists(case_outcomes, max_size=2).map(tuple),
                extra=st.dictionaries(
                    st.from_regex(r"[a-z][a-z0-9_]{0,10}", fullmatch=True),
                    json_scalars,
                    max_size=3,
                ),
            ),
        }
    ),
    BeneficiaryListApproved: list_fields(),
    PayoutScheduled: st.fixed_dictionaries(_payout).flatmap(
        lambda ids_: schedule_fields().map(lambda rest: {**ids_, **rest})
    ),
    PayoutDisbursed: st.fixed_dictionaries(
        {**_payout, "channel_reference": short_text, "at": moments, "amount": rupiah}
    ),
    PayoutFailed: st.fixed_dictionaries(
        {
            **_payout,
            "reason": st.sampled_from(PayoutFailureReason),
            "detail": st.none() | text,
            "channel_reference": st.none() | short_text,
        }
    ),
    PayoutCancelled: st.fixed_dictionaries(
        {
            **_payout,
            "reason": st.sampled_from(CancellationReason),
            "caused_by": st.none() | st.uuids(),
        }
    ),
    PayoutReconciled: st.fixed_dictionaries(
        {
            **_payout,
            "outcome": st.sampled_from(ReconciliationOutcome),
            "sptjm_reference": short_text,
        }
    ),
    PayoutRecoveryFlagged: st.fixed_dictionaries(
        {
            **_payout,
            "reason": st.sampled_from(CancellationReason),
            "caused_by": st.uuids(),
            "amount": st.integers(min_value=0, max_value=10**9),
        }
    ),
}


@st.composite
def events(draw: st.DrawFn, cls: type[Event]) -> Event:
    """A valid instance of ``cls`` (draws that break a cross-field rule are discarded)."""
    values = {**draw(envelopes), **draw(FIELDS[cls])}
    try:
        return cls.model_validate(values)
    except ValidationError:
        assume(False)
        raise


TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


def test_every_event_has_a_strategy_and_an_example() -> None:
    assert set(FIELDS) == set(ALL_EVENTS)
    assert set(EVENT_TYPES.values()) == set(ALL_EVENTS)
    assert len(ALL_EVENTS) == 16
    for cls in ALL_EVENTS:
        assert isinstance(example(cls), cls)


@pytest.mark.parametrize("cls", ALL_EVENTS, ids=lambda cls: cls.__name__)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_round_trip(cls: type[Event], data: st.DataObject) -> None:
    event = data.draw(events(cls))
    message = encode(event, traceparent=TRACEPARENT, tracestate="bansos=1")
    decoded = decode(message.value, message.headers)
    assert decoded == event
    assert type(decoded) is cls
    assert message.topic == cls.topic
    assert message.key == event.partition_key.encode()


@pytest.mark.parametrize("cls", ALL_EVENTS, ids=lambda cls: cls.__name__)
def test_headers(cls: type[Event]) -> None:
    event = example(cls)
    message = encode(event, traceparent=TRACEPARENT)
    assert header(message.headers, "ce_specversion") == "1.0"
    assert header(message.headers, "ce_id") == str(event.event_id)
    assert header(message.headers, "ce_source") == f"bansos/{cls.source}"
    assert header(message.headers, "ce_type") == cls.ce_type()
    assert header(message.headers, "ce_subject") == event.subject_id
    assert header(message.headers, "content-type") == "application/json"
    assert header(message.headers, "traceparent") == TRACEPARENT
    assert header(message.headers, "tracestate") is None
    ce_time = header(message.headers, "ce_time")
    assert ce_time is not None and ce_time.endswith("Z")
    assert datetime.fromisoformat(ce_time) == event.occurred_at
    assert message.value is not None
    assert b'"occurred_at":"' in message.value and b'Z"' in message.value


def test_no_trace_headers_unless_given() -> None:
    message = encode(example(ALL_EVENTS[0]))
    assert header(message.headers, "traceparent") is None


def test_malformed_traceparent_is_refused() -> None:
    with pytest.raises(ValueError, match="traceparent"):
        encode(example(ALL_EVENTS[0]), traceparent="not-a-trace")


def test_ce_types_and_topics() -> None:
    from bansos_contracts import (
        BeneficiaryListApproved,
        CaseSubmitted,
        HouseholdDecileChanged,
        PayoutReconciled,
    )

    assert HouseholdDecileChanged.ce_type() == "bansos.registry.HouseholdDecileChanged.v1"
    assert CaseSubmitted.ce_type() == "bansos.objections.CaseSubmitted.v1"
    assert BeneficiaryListApproved.ce_type() == "bansos.eligibility.BeneficiaryListApproved.v1"
    assert PayoutReconciled.ce_type() == "bansos.payout.PayoutReconciled.v1"
    assert event_class("bansos.registry.HouseholdDecileChanged.v1") is HouseholdDecileChanged
    for cls in ALL_EVENTS:
        assert cls.topic in topics.ALL
        assert topics.PRODUCERS[cls.topic] == cls.source
        assert cls.event_name() == cls.__name__
        assert cls.event_version() == 1
        assert cls.model_fields["event_type"].default == cls.__name__


def test_topics() -> None:
    assert topics.REGISTRY == "bansos.registry.v1"
    assert topics.OBJECTIONS == "bansos.objections.v1"
    assert topics.ELIGIBILITY == "bansos.eligibility.v1"
    assert topics.PAYOUT == "bansos.payout.v1"
    assert topics.DEADLETTER == "bansos.deadletter.v1"
    assert set(topics.ALL) == set(topics.KEYS)
