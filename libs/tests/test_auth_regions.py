"""Region codes, roles and principals of ``bansos_libs.auth``."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bansos_libs.auth import (
    Forbidden,
    InvalidRegionCodeError,
    Principal,
    RegionCode,
    RegionLevel,
    Role,
    RoleRegionMismatchError,
    UnknownRoleError,
)

# --- strategies --------------------------------------------------------------------------

_WIDTHS = (2, 2, 2, 4)


def _part(width: int) -> st.SearchStrategy[str]:
    return st.integers(1, 10**width - 1).map(lambda n: f"{n:0{width}d}")


def _parts(depth: int) -> st.SearchStrategy[tuple[str, ...]]:
    return st.tuples(*(_part(width) for width in _WIDTHS[:depth]))


def codes(min_depth: int = 0, max_depth: int = 4) -> st.SearchStrategy[RegionCode]:
    """Valid region codes between two depths."""
    return (
        st.integers(min_depth, max_depth)
        .flatmap(_parts)
        .map(lambda parts: RegionCode.from_parts(*parts))
    )


@st.composite
def code_and_descendant(draw: st.DrawFn) -> tuple[RegionCode, RegionCode]:
    """A code and a code equal to it or inside it."""
    code = draw(codes())
    depth = len(code.parts)
    extra = draw(st.integers(0, 4 - depth))
    tail = draw(st.tuples(*(_part(width) for width in _WIDTHS[depth : depth + extra])))
    return code, RegionCode.from_parts(*code.parts, *tail)


@st.composite
def siblings(draw: st.DrawFn) -> tuple[RegionCode, RegionCode]:
    """Two different codes with the same parent."""
    code = draw(codes(min_depth=1))
    width = _WIDTHS[len(code.parts) - 1]
    other = draw(_part(width).filter(lambda part: part != code.parts[-1]))
    return code, RegionCode.from_parts(*code.parts[:-1], other)


# --- parsing -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "level", "canonical"),
    [
        ("", RegionLevel.NATIONAL, "ID"),
        ("ID", RegionLevel.NATIONAL, "ID"),
        ("id", RegionLevel.NATIONAL, "ID"),
        ("35", RegionLevel.PROVINCE, "35"),
        ("35.17", RegionLevel.REGENCY, "35.17"),
        ("35.17.01", RegionLevel.DISTRICT, "35.17.01"),
        ("35.17.01.2001", RegionLevel.VILLAGE, "35.17.01.2001"),
        (" 35.17 ", RegionLevel.REGENCY, "35.17"),
    ],
)
def test_parse_valid_codes(text: str, level: RegionLevel, canonical: str) -> None:
    code = RegionCode(text)
    assert code.level is level
    assert str(code) == canonical
    assert code == RegionCode(canonical)
    assert hash(code) == hash(RegionCode(canonical))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("35.1", "the regency part '1' must be 2 digits"),
        ("3.17", "the province part '3' must be 2 digits"),
        ("35.17.01.201", "the village part '201' must be 4 digits"),
        ("35.17.01.20011", "the village part '20011' must be 4 digits"),
        ("35..01", "the regency part is empty"),
        ("35.", "the regency part is empty"),
        ("35.17.01.2001.1", "at most 4 parts"),
        ("3517", "write it with dots, e.g. 35.17"),
        ("3517012001", "write it with dots, e.g. 35.17.01.2001"),
        ("ab", "the province part 'ab' must be 2 digits"),
        ("٣٥", "must be 2 digits"),  # Arabic-Indic digits are not Kemendagri digits
        ("00", "cannot be all zeros"),
        ("35.17.00", "the district part '00' cannot be all zeros"),
        ("IDN", "must be 2 digits"),
    ],
)
def test_parse_invalid_codes_says_why(text: str, message: str) -> None:
    with pytest.raises(InvalidRegionCodeError) as caught:
        RegionCode(text)
    assert message in str(caught.value)
    assert isinstance(caught.value, ValueError)


def test_parent_and_ancestors() -> None:
    village = RegionCode("35.17.01.2001")
    assert village.parent == RegionCode("35.17.01")
    assert [str(code) for code in village.ancestors()] == ["35.17.01", "35.17", "35", "ID"]
    assert RegionCode.national().parent is None
    assert village.at_level(RegionLevel.REGENCY) == RegionCode("35.17")
    with pytest.raises(InvalidRegionCodeError, match=r"regency code 35\.17 has no village part"):
        RegionCode("35.17").at_level(RegionLevel.VILLAGE)


def test_codes_sort_parents_first() -> None:
    unsorted = [RegionCode(t) for t in ("35.17.01", "ID", "35.17", "11", "35")]
    assert [str(code) for code in sorted(unsorted)] == ["ID", "11", "35", "35.17", "35.17.01"]


# --- covering ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("scope", "target", "covered"),
    [
        ("ID", "35.17.01.2001", True),
        ("", "11", True),
        ("35", "35.17.01.2001", True),
        ("35.17", "35.17.01.2001", True),
        ("35.17.01", "35.17.01.2001", True),
        ("35.17.01.2001", "35.17.01.2001", True),
        ("35.17", "35.17", True),
        ("35.17", "ID", False),
        ("35.17.01.2001", "35.17.01", False),
        ("35.17.01", "35.17.02.2003", False),
        ("35.17", "35.18.01", False),
        ("35", "33.17", False),
        ("35.17.01", "35.17.01.2002", True),
    ],
)
def test_covers_table(scope: str, target: str, covered: bool) -> None:
    assert RegionCode(scope).covers(target) is covered
    assert RegionCode(scope).covers(RegionCode(target)) is covered


def test_covers_refuses_invalid_text() -> None:
    with pytest.raises(InvalidRegionCodeError):
        RegionCode("35").covers("35.1")


@given(codes())
def test_text_round_trip(code: RegionCode) -> None:
    assert RegionCode(str(code)) == code
    assert code.level.depth == len(code.parts)
    assert RegionLevel.from_depth(code.level.depth) is code.level


@given(code_and_descendant())
def test_a_code_covers_its_descendants(pair: tuple[RegionCode, RegionCode]) -> None:
    code, descendant = pair
    assert code.covers(descendant)
    assert RegionCode.national().covers(descendant)
    if descendant != code:
        assert not descendant.covers(code)
        assert descendant.parent is not None and code.covers(descendant.parent)


@given(siblings(), st.data())
def test_a_code_never_covers_a_sibling(
    pair: tuple[RegionCode, RegionCode], data: st.DataObject
) -> None:
    code, sibling = pair
    assert not code.covers(sibling)
    assert not sibling.covers(code)
    depth = len(sibling.parts)
    tail = data.draw(st.tuples(*(_part(width) for width in _WIDTHS[depth:])))
    assert not code.covers(RegionCode.from_parts(*sibling.parts, *tail))
    assert code.parent is not None and code.parent.covers(sibling)


# --- roles -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "region", "fits"),
    [
        (Role.CITIZEN, "35.17.01.2001", True),
        (Role.CITIZEN, "35.17", False),
        (Role.VILLAGE_OPERATOR, "35.17.01.2001", True),
        (Role.VILLAGE_OPERATOR, "35.17.01", False),
        (Role.PKH_FACILITATOR, "35.17.01", True),
        (Role.TKSK, "35.17.01", True),
        (Role.TKSK, "35.17.01.2001", False),
        (Role.DISTRICT_OFFICER, "35.17.01", True),
        (Role.REGENCY_OFFICER, "35.17", True),
        (Role.REGENCY_OFFICER, "35", False),
        (Role.PROVINCE_OFFICER, "35", True),
        (Role.MINISTRY_OFFICER, "ID", True),
        (Role.MINISTRY_OFFICER, "35", False),
        (Role.AUDITOR, "ID", True),
        (Role.AUDITOR, "35.17", True),
        (Role.AUDITOR, "35.17.01.2001", False),
        (Role.CHANNEL_OPERATOR, "ID", True),
        (Role.CHANNEL_OPERATOR, "35.17.01", True),
        (Role.CHANNEL_OPERATOR, "35.17.01.2001", False),
        (Role.SYSTEM, "", True),
        (Role.SYSTEM, "35.17", False),
    ],
)
def test_role_region_fit(role: Role, region: str, fits: bool) -> None:
    assert role.fits(region) is fits
    if fits:
        assert role.check_region(region) == RegionCode(region)
    else:
        with pytest.raises(RoleRegionMismatchError, match=f"not valid for role {role.value}"):
            role.check_region(region)


def test_every_role_has_a_scope() -> None:
    for role in Role:
        assert role.scope_levels


def test_mismatch_message_names_the_expected_level() -> None:
    with pytest.raises(RoleRegionMismatchError) as caught:
        Role.VILLAGE_OPERATOR.check_region("35.17")
    assert str(caught.value) == (
        "region regency 35.17 is not valid for role VILLAGE_OPERATOR: "
        "it must be scoped to a village (e.g. 35.17.01.2001)"
    )


@pytest.mark.parametrize("text", ["regency_officer", "REGENCY_OFFICER", " Regency-Officer "])
def test_role_parse_is_case_insensitive(text: str) -> None:
    assert Role.parse(text) is Role.REGENCY_OFFICER


def test_unknown_role_lists_the_known_ones() -> None:
    with pytest.raises(UnknownRoleError, match=r"unknown role 'bupati'.*REGENCY_OFFICER"):
        Role.parse("bupati")


# --- principals --------------------------------------------------------------------------


def _village_operator() -> Principal:
    return Principal("op-1", Role.VILLAGE_OPERATOR, RegionCode("35.17.01.2001"), "Siti")


def test_principal_acts_inside_its_region_only() -> None:
    operator = _village_operator()
    assert operator.can_act_on("35.17.01.2001")
    assert not operator.can_act_on("35.17.01.2002")
    assert not operator.can_act_on("35.17.01")
    regency = Principal("dinsos-1", Role.REGENCY_OFFICER, RegionCode("35.17"))
    assert regency.can_act_on(RegionCode("35.17.01.2001"))
    assert not regency.can_act_on("35.18")


def test_require_region_reason() -> None:
    with pytest.raises(Forbidden) as caught:
        _village_operator().require(region="35.17.02.2003")
    assert caught.value.reason == (
        "role VILLAGE_OPERATOR for 35.17.01.2001 may not act on 35.17.02.2003: outside your region"
    )


def test_require_role_reason() -> None:
    with pytest.raises(Forbidden) as caught:
        _village_operator().require(
            {Role.REGENCY_OFFICER, Role.MINISTRY_OFFICER}, action="approve a beneficiary list"
        )
    assert caught.value.reason == (
        "role VILLAGE_OPERATOR may not approve a beneficiary list: "
        "allowed roles are MINISTRY_OFFICER, REGENCY_OFFICER"
    )


def test_require_passes_and_returns_the_principal() -> None:
    operator = _village_operator()
    assert operator.require(Role.VILLAGE_OPERATOR, region="35.17.01.2001") is operator
    assert operator.require(["village_operator", Role.CITIZEN]) is operator
    assert operator.require() is operator


def test_principal_refuses_role_region_mismatch_and_nik_subject() -> None:
    with pytest.raises(RoleRegionMismatchError):
        Principal("x", Role.MINISTRY_OFFICER, RegionCode("35.17"))
    with pytest.raises(ValueError, match="NIK"):
        Principal("3517010101800001", Role.CITIZEN, RegionCode("35.17.01.2001"))
    with pytest.raises(ValueError, match="non-empty subject"):
        Principal(" ", Role.CITIZEN, RegionCode("35.17.01.2001"))


def test_actor_for_envelopes() -> None:
    assert _village_operator().actor() == {
        "role": "VILLAGE_OPERATOR",
        "id": "op-1",
        "region": "35.17.01.2001",
    }
    assert Principal.system("payout").actor() == {"role": "SYSTEM", "id": "payout", "region": None}


def test_principal_is_frozen() -> None:
    operator = _village_operator()
    with pytest.raises(AttributeError):
        operator.role = Role.MINISTRY_OFFICER  # type: ignore[misc]
