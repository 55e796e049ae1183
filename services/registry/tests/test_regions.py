"""The Kemendagri region register and the NIK plausibility check."""

from __future__ import annotations

import re
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bansos_registry.regions import RegionRegister, default_register, nik_problem

JOMBANG = "35.17"
PERAK = "35.17.01"
GUDO = "35.17.02"
JANTIGANGGONG = "35.17.01.2001"


@pytest.fixture(scope="module")
def register() -> RegionRegister:
    return default_register()


def test_default_register_is_loaded_once() -> None:
    assert default_register() is default_register()


def test_lookups(register: RegionRegister) -> None:
    assert register.exists("35")
    assert register.exists(JOMBANG)
    assert register.exists(PERAK)
    assert register.exists(JANTIGANGGONG)
    assert not register.exists("35.99")
    assert not register.exists("35.17.01.9999")
    assert not register.exists("")
    assert not register.exists("3517")  # codes are dotted
    assert register.name(JOMBANG) == "Kabupaten Jombang"
    assert register.name("35") == "Jawa Timur"
    assert register.name(JANTIGANGGONG) == "Jantiganggong"
    assert register.name("35.99") is None
    assert [register.level(c) for c in ("35", JOMBANG, PERAK, JANTIGANGGONG)] == [1, 2, 3, 4]
    assert register.level("nope") is None


def test_children(register: RegionRegister) -> None:
    districts = register.districts_of(JOMBANG)
    assert len(districts) == 21  # Jombang's 21 districts (DOMAIN.md)
    assert districts == sorted(districts)
    assert PERAK in districts and GUDO in districts
    villages = register.villages_of(PERAK)
    assert JANTIGANGGONG in villages
    assert all(v.startswith(PERAK + ".") for v in villages)
    assert JOMBANG in register.regencies_of("35")
    # Asking at the wrong level gives nothing rather than something surprising.
    assert register.districts_of(PERAK) == []
    assert register.villages_of(JOMBANG) == []
    assert register.villages_of("35.99.01") == []
    # The lists are copies.
    villages.clear()
    assert register.villages_of(PERAK)


def test_nests(register: RegionRegister) -> None:
    assert register.nests("35", JOMBANG, PERAK, JANTIGANGGONG) is None
    assert (
        register.nests("35", JOMBANG, GUDO, JANTIGANGGONG)
        == "village 35.17.01.2001 is not in district 35.17.02"
    )
    assert register.nests("36", JOMBANG, PERAK, JANTIGANGGONG) == (
        "regency 35.17 is not in province 36"
    )
    assert register.nests("99", JOMBANG, PERAK, JANTIGANGGONG) == "province 99 does not exist"
    assert register.nests("35", "35.18", PERAK, JANTIGANGGONG) == (
        "district 35.17.01 is not in regency 35.18"
    )
    assert register.nests("35", PERAK, PERAK, JANTIGANGGONG) == (
        "regency 35.17.01 is a district code, not a regency code"
    )
    assert register.nests("35", JOMBANG, PERAK, "35.17.01.9999") == (
        "village 35.17.01.9999 does not exist"
    )
    assert register.nests("Jawa Timur", JOMBANG, PERAK, JANTIGANGGONG) == (
        "province code is not a Kemendagri code"
    )
    problem = register.nesting_problem("35", JOMBANG, GUDO, JANTIGANGGONG)
    assert problem is not None and problem.level == "village"


def test_small_register_for_tests() -> None:
    register = RegionRegister.from_names(
        {"35": "Jawa Timur", JOMBANG: "Jombang", PERAK: "Perak", JANTIGANGGONG: "Jantiganggong"}
    )
    assert register.nests("35", JOMBANG, PERAK, JANTIGANGGONG) is None
    assert register.villages_of(PERAK) == [JANTIGANGGONG]
    assert not register.exists(GUDO)
    assert nik_problem("3517014101900001", register) is None
    assert nik_problem("3517024101900001", register) == "NIK region 35.17.02 does not exist"
    with pytest.raises(ValueError, match="not a dotted Kemendagri code"):
        RegionRegister.from_names({"3517": "Jombang"})


def test_lookups_are_fast_after_warm_up(register: RegionRegister) -> None:
    register.exists(JANTIGANGGONG)
    register.nests("35", JOMBANG, PERAK, JANTIGANGGONG)
    count = 20_000
    start = time.perf_counter()
    for _ in range(count):
        register.exists(JANTIGANGGONG)
        register.level(PERAK)
        register.nests("35", JOMBANG, PERAK, JANTIGANGGONG)
    per_round = (time.perf_counter() - start) / count
    assert per_round < 20e-6  # about 1 µs each on a laptop; generous for busy CI machines


@pytest.mark.parametrize(
    "nik",
    [
        "3517014101900001",  # woman born 1 January 1990
        "3517010101900001",  # man born 1 January 1990
        "3517012902000001",  # 29 February 2000
        "3517016902040001",  # woman born 29 February 2004
        "3517013112990001",
        "3517017112990001",  # woman born 31 December 1999
        "3517023006850001",  # registered in Gudo, another district: fine
        "3171010101900001",  # registered in Jakarta: fine, the NIK is where one registered
        "3517014101900000",  # the serial is not checked
    ],
)
def test_plausible_niks(register: RegionRegister, nik: str) -> None:
    assert nik_problem(nik, register) is None


@pytest.mark.parametrize(
    ("nik", "reason"),
    [
        ("351701410190000", "NIK must be 16 digits"),
        ("35170141019000011", "NIK must be 16 digits"),
        ("3517.01.410190.0001", "NIK must be 16 digits"),
        (" 3517014101900001", "NIK must be 16 digits"),
        ("351701410190000a", "NIK must be 16 digits"),
        ("٣٥١٧٠١٤١٠١٩٠٠٠٠١", "NIK must be 16 digits"),  # Arabic-Indic digits
        ("", "NIK must be 16 digits"),
        ("3599010101900001", "NIK region 35.99.01 does not exist"),
        ("3517990101900001", "NIK region 35.17.99 does not exist"),
        ("0000000101900001", "NIK region 00.00.00 does not exist"),
        ("3517013213900001", "NIK birth date 32-13-90 is not a date"),
        ("3517010013900001", "NIK birth date 00-13-90 is not a date"),
        ("3517013102900001", "NIK birth date 31-02-90 is not a date"),
        ("3517012902010001", "NIK birth date 29-02-01 is not a date"),
        ("3517014001900001", "NIK birth date 40-01-90 is not a date"),
        ("3517017201900001", "NIK birth date 32-01-90 is not a date"),  # woman: 72 - 40
        ("3517010001900001", "NIK birth date 00-01-90 is not a date"),
        ("3517010100900001", "NIK birth date 01-00-90 is not a date"),
    ],
)
def test_implausible_niks(register: RegionRegister, nik: str, reason: str) -> None:
    assert nik_problem(nik, register) == reason


@pytest.mark.parametrize(
    "nik", ["3599010101900001", "3517013213900001", "35170141019000", "3517017201900001"]
)
def test_redacted_reasons_quote_no_digit(register: RegionRegister, nik: str) -> None:
    reason = nik_problem(nik, register, redact=True)
    assert reason is not None
    for fixed in ("16 digits", "digits 1-6", "digits 7-12"):
        reason = reason.replace(fixed, "")
    assert not re.search(r"[0-9]", reason)


@given(st.text(max_size=40))
def test_nik_problem_never_fails(text: str) -> None:
    register = default_register()
    reason = nik_problem(text, register)
    if reason is None:
        assert re.fullmatch(r"[0-9]{16}", text)
        assert register.exists(f"{text[0:2]}.{text[2:4]}.{text[4:6]}")


@given(
    st.sampled_from(["351701", "351702", "317101", "359901"]),
    st.integers(0, 99),
    st.integers(0, 99),
    st.integers(0, 99),
)
def test_nik_dates_agree_with_the_calendar(region: str, day: int, month: int, year: int) -> None:
    from datetime import date

    nik = f"{region}{day:02d}{month:02d}{year:02d}0001"
    reason = nik_problem(nik, default_register())
    real_day = day - 40 if day > 40 else day
    try:
        date(2000 + year, month, real_day)
        is_date = True
    except ValueError:
        is_date = False
    if region == "359901":
        assert reason == "NIK region 35.99.01 does not exist"
    elif is_date:
        assert reason is None
    else:
        assert reason is not None and reason.startswith("NIK birth date")
