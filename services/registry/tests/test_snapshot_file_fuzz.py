"""Fuzzing the snapshot reader: corrupted rows never crash it, never pass, never leak."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bansos_registry.regions import RegionRegister, default_register
from bansos_registry.snapshot_file import (
    BANKS,
    COLUMNS,
    PROGRAMS,
    ROW,
    Rejection,
    SnapshotFileError,
    SnapshotRow,
    check_file,
    read_rows,
)

BASE: dict[str, str] = {
    "household_id": "JBG-0000001",
    "kk_number": "3517010101230001",
    "head_nik": "3517014101900001",
    "head_name": "Siti Aminah",
    "province_code": "35",
    "regency_code": "35.17",
    "district_code": "35.17.01",
    "village_code": "35.17.01.2001",
    "address": "Dusun Krajan RT 01 RW 02",
    "member_count": "4",
    "decile": "2",
    "per_capita_income": "450000",
    "has_elderly": "1",
    "has_disability": "0",
    "has_child_under6": "1",
    "has_school_child": "0",
    "has_pregnant": "0",
    "pbi_jkn": "1",
    "programs": "PKH;BPNT",
    "kks_number": "5200123412341234",
    "bank": "BNI",
}
OPTIONAL = {"programs", "kks_number", "bank"}
SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SIXTEEN_DIGITS = re.compile(r"[0-9]{16}")
NEWLINES = re.compile(r"\r\n|\r|\n")

text = st.text(st.characters(exclude_categories=["Cs"]), max_size=30)
corruption = st.one_of(
    text,
    st.just(""),
    st.sampled_from([" ", "\t", "\u3000", "-", "NULL", "null", "None", "N/A", '"', ",", ";"]),
    st.text("0123456789", min_size=1, max_size=40),
    st.from_regex(r"[0-9]{16}", fullmatch=True),  # a NIK in the wrong place must not leak
    st.integers(min_value=-(10**30), max_value=-1).map(str),
    st.integers(min_value=10**12, max_value=10**40).map(str),
    st.integers(min_value=0, max_value=10**6).map(lambda n: f"{n:,}"),
    st.floats(allow_nan=True).map(str),
    st.text("٠١٢٣٤٥٦٧٨٩０１２３४५", min_size=1, max_size=16),  # non-ASCII digits
    st.text(st.sampled_from(',"\r\n;.\\ '), min_size=1, max_size=10),
    st.builds(lambda a, b: a + b, text, st.sampled_from([",", '"', "\n", '""', "\r\n"])),
    st.integers(min_value=129, max_value=700).map(lambda n: "x" * n),
)


def certainly_bad(column: str, value: str, register: RegionRegister) -> bool | None:
    """Whether the reader must reject ``value`` in ``column``; None when unsure."""
    s = value.strip()
    if column == "household_id":
        return re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}", s) is None
    if column == "kk_number":
        return re.fullmatch(r"[0-9]{16}", s) is None
    if column == "head_nik":
        return None if re.fullmatch(r"[0-9]{16}", s) else True
    if column in ("head_name", "address"):
        limit = 200 if column == "head_name" else 500
        return not s or len(s) > limit or re.search(r"[\x00-\x1f\x7f-\x9f]", s) is not None
    if column in ("province_code", "regency_code", "district_code"):
        return s != BASE[column]
    if column == "village_code":
        return not (s.startswith("35.17.01.") and register.exists(s))
    if column in ("member_count", "decile", "per_capita_income"):
        low, high = {"member_count": (1, 50), "decile": (1, 10)}.get(column, (0, 10**12 - 1))
        number = re.fullmatch(r"[0-9]{1,15}", s)
        return number is None or not low <= int(s) <= high
    if column in OPTIONAL:
        return None
    return s not in ("0", "1")  # the six flags


def encode(values: list[str]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerow(values)
    return out.getvalue()


@pytest.fixture(scope="module")
def register() -> RegionRegister:
    return default_register()


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


def check_rejection(item: Rejection) -> None:
    assert item.column in COLUMNS or item.column == ROW
    assert item.line >= 2
    assert item.reason
    assert not SIXTEEN_DIGITS.search(item.reason), item.reason


def check_row(item: SnapshotRow) -> None:
    assert 1 <= item.decile <= 10
    assert 1 <= item.member_count <= 50
    assert 0 <= item.per_capita_income < 10**12
    assert set(item.programs) <= PROGRAMS and list(item.programs) == sorted(set(item.programs))
    assert (item.kks_number is None) == (item.bank is None)
    assert item.bank is None or item.bank in BANKS
    assert item.kks_number is None or SIXTEEN_DIGITS.fullmatch(item.kks_number)
    assert isinstance(item.fingerprint, str)


@SETTINGS
@given(
    corruptions=st.dictionaries(st.sampled_from(COLUMNS), corruption, min_size=1, max_size=4),
    bom=st.booleans(),
)
def test_corrupted_rows_are_rejected_and_never_crash(
    register: RegionRegister, workdir: Path, corruptions: dict[str, str], bom: bool
) -> None:
    first = dict(BASE)
    last = dict(BASE, household_id="JBG-0000003", head_nik="3517014101900003")
    last["kk_number"] = "3517010101230003"
    bad = dict(BASE, household_id="JBG-0000002", head_nik="3517014101900002")
    bad.update(corruptions)
    records = [encode(list(COLUMNS)), *(encode(list(r.values())) for r in (first, bad, last))]
    path = workdir / "fuzz.csv"
    data = "".join(records)
    try:
        path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + data.encode())
    except UnicodeEncodeError:  # pragma: no cover - surrogates are excluded above
        return
    if "\x00" in data:
        with pytest.raises(SnapshotFileError, match="binary"):
            check_file(path)
        return
    check = check_file(path)
    items = list(read_rows(path, check, register, regency="35.17"))
    assert len(items) == check.rows == 3
    bad_line = 2 + len(NEWLINES.findall(records[1]))
    next_line = bad_line + len(NEWLINES.findall(records[2]))
    assert [item.line for item in items] == [2, bad_line, next_line]
    for item in items:
        if isinstance(item, Rejection):
            check_rejection(item)
        else:
            check_row(item)
    clash = {bad["household_id"].strip(), bad["head_nik"].strip()} & {
        first["household_id"],
        first["head_nik"],
        last["household_id"],
        last["head_nik"],
    }
    if not clash:  # a corrupted row must not take its neighbours down
        assert isinstance(items[0], SnapshotRow)
        assert isinstance(items[2], SnapshotRow)
    verdicts = [certainly_bad(c, v, register) for c, v in corruptions.items() if c not in OPTIONAL]
    if any(verdicts):
        assert isinstance(items[1], Rejection), (corruptions, items[1])
    if isinstance(items[1], Rejection) and items[1].household_id is not None:
        assert items[1].household_id == bad["household_id"].strip()


@SETTINGS
@given(lines=st.lists(text, min_size=1, max_size=5), newline=st.sampled_from(["\n", "\r\n"]))
def test_arbitrary_lines_never_crash(
    register: RegionRegister, workdir: Path, lines: list[str], newline: str
) -> None:
    path = workdir / "lines.csv"
    header = ",".join(COLUMNS)
    path.write_bytes(newline.join([header, *lines]).encode())
    try:
        check = check_file(path)
        items = list(read_rows(path, check, register))
    except SnapshotFileError as error:
        assert str(error)
        assert not SIXTEEN_DIGITS.search(str(error))
        return
    assert len(items) == check.rows
    for item in items:
        if isinstance(item, Rejection):
            check_rejection(item)
        else:
            check_row(item)


@SETTINGS
@given(st.binary(max_size=300))
def test_arbitrary_bytes_are_refused_or_read(
    register: RegionRegister, workdir: Path, blob: bytes
) -> None:
    path = workdir / "bytes.csv"
    path.write_bytes(blob)
    try:
        check = check_file(path)
        items = list(read_rows(path, check, register))
    except SnapshotFileError as error:
        assert str(error)
        return
    raise AssertionError(f"random bytes passed as a snapshot: {items}")  # pragma: no cover
