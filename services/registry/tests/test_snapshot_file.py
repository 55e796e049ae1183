"""Reading and validating DTSEN snapshot files: rows, rejections, refusals, data ganda."""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import io
import re
import tracemalloc
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import pytest

from bansos_registry.regions import RegionRegister, default_register
from bansos_registry.snapshot_file import (
    COLUMNS,
    ROW,
    FileCheck,
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

Line = dict[str, str] | Sequence[str] | str


def household(number: int, **changes: str) -> dict[str, str]:
    """A valid row with its own household id, KK and NIK (number 1..9999), then changes."""
    values = dict(BASE)
    values["household_id"] = f"JBG-{number:07d}"
    values["kk_number"] = f"351701010123{number:04d}"
    values["head_nik"] = f"351701410190{number:04d}"
    values.update(changes)
    return values


def csv_text(lines: Iterable[Line], *, header: Sequence[str] = COLUMNS, newline: str = "\n") -> str:
    """A snapshot file's text: the header, then each line (dict → in header order)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator=newline)
    writer.writerow(header)
    for line in lines:
        if isinstance(line, str):
            out.write(line + newline)
        elif isinstance(line, dict):
            writer.writerow([line[name] for name in header])
        else:
            writer.writerow(line)
    return out.getvalue()


def write(
    path: Path,
    lines: Iterable[Line],
    *,
    bom: bool = False,
    newline: str = "\n",
    header: Sequence[str] = COLUMNS,
) -> Path:
    data = csv_text(lines, header=header, newline=newline).encode()
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + data)
    return path


@pytest.fixture(scope="module")
def register() -> RegionRegister:
    return default_register()


def read_all(
    path: Path, register: RegionRegister, regency: str | None = None
) -> tuple[FileCheck, list[SnapshotRow | Rejection]]:
    check = check_file(path)
    items = list(read_rows(path, check, register, regency=regency))
    assert len(items) == check.rows
    return check, items


def only_rejection(path: Path, register: RegionRegister, regency: str | None = None) -> Rejection:
    _, items = read_all(path, register, regency)
    rejections = [item for item in items if isinstance(item, Rejection)]
    assert len(rejections) == 1, items
    return rejections[0]


# --------------------------------------------------------------------------- valid files


def test_valid_file_round_trip_with_bom_and_crlf(tmp_path: Path, register: RegionRegister) -> None:
    lines = [
        household(1),
        household(
            2,
            head_name="  Budi Santoso ",
            programs="sembako; pkh",
            kks_number="",
            bank="",
            decile="10",
            member_count="50",
            per_capita_income="0",
        ),
        household(3, programs="", bank="bri", kks_number="5200123412349999", village_code=""),
        household(4, programs="pbi-jkn;BLTS-Kesra", district_code="35.17.02"),
    ]
    lines[2]["village_code"] = "35.17.01.2002"
    lines[3]["village_code"] = "35.17.02.2001"
    path = write(tmp_path / "s.csv", lines, bom=True, newline="\r\n")
    check, items = read_all(path, register, regency="35.17")
    assert check.rows == 4
    assert check.duplicate_lines == {}
    assert check.content_sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert all(isinstance(item, SnapshotRow) for item in items), items
    first, second, third, fourth = (item for item in items if isinstance(item, SnapshotRow))
    assert first == SnapshotRow(
        line=2,
        household_id="JBG-0000001",
        kk_number="3517010101230001",
        head_nik="3517014101900001",
        head_name="Siti Aminah",
        province_code="35",
        regency_code="35.17",
        district_code="35.17.01",
        village_code="35.17.01.2001",
        address="Dusun Krajan RT 01 RW 02",
        member_count=4,
        decile=2,
        per_capita_income=450000,
        has_elderly=True,
        has_disability=False,
        has_child_under6=True,
        has_school_child=False,
        has_pregnant=False,
        pbi_jkn=True,
        programs=("BPNT", "PKH"),
        kks_number="5200123412341234",
        bank="BNI",
    )
    assert second.line == 3
    assert second.head_name == "Budi Santoso"
    assert second.programs == ("BPNT", "PKH")
    assert (second.kks_number, second.bank) == (None, None)
    assert (second.decile, second.member_count, second.per_capita_income) == (10, 50, 0)
    assert third.programs == ()
    assert third.bank == "BRI"
    assert fourth.programs == ("BLTS_KESRA", "PBI_JKN")
    assert fourth.line == 5


def test_plain_lf_file_and_header_in_another_order(
    tmp_path: Path, register: RegionRegister
) -> None:
    header = [name.upper() for name in reversed(COLUMNS)]
    lines = [[household(1)[name.lower()] for name in header]]
    path = write(tmp_path / "s.csv", lines, header=[f" {name} " for name in header])
    _, items = read_all(path, register)
    assert items == [dataclasses.replace(_row_of(household(1)), line=2)]


def _row_of(values: dict[str, str]) -> SnapshotRow:
    """The SnapshotRow that a valid ``values`` becomes (for simple canonical values)."""
    return SnapshotRow(
        line=0,
        household_id=values["household_id"],
        kk_number=values["kk_number"],
        head_nik=values["head_nik"],
        head_name=values["head_name"],
        province_code=values["province_code"],
        regency_code=values["regency_code"],
        district_code=values["district_code"],
        village_code=values["village_code"],
        address=values["address"],
        member_count=int(values["member_count"]),
        decile=int(values["decile"]),
        per_capita_income=int(values["per_capita_income"]),
        has_elderly=values["has_elderly"] == "1",
        has_disability=values["has_disability"] == "1",
        has_child_under6=values["has_child_under6"] == "1",
        has_school_child=values["has_school_child"] == "1",
        has_pregnant=values["has_pregnant"] == "1",
        pbi_jkn=values["pbi_jkn"] == "1",
        programs=tuple(sorted(values["programs"].split(";"))) if values["programs"] else (),
        kks_number=values["kks_number"] or None,
        bank=values["bank"] or None,
    )


def test_quoted_fields_with_commas_and_quotes(tmp_path: Path, register: RegionRegister) -> None:
    path = write(
        tmp_path / "s.csv",
        [household(1, address='Jl. Merdeka No. 5, RT 01 "Gang Mawar"', head_name="Siti, S.Pd")],
    )
    (row,) = read_all(path, register)[1]
    assert isinstance(row, SnapshotRow)
    assert row.address == 'Jl. Merdeka No. 5, RT 01 "Gang Mawar"'
    assert row.head_name == "Siti, S.Pd"


def test_blank_lines(tmp_path: Path, register: RegionRegister) -> None:
    path = write(tmp_path / "s.csv", [household(1), "", "   ", household(2), "", "", "  "])
    check, items = read_all(path, register)
    assert check.rows == 4  # trailing blank lines are not rows
    assert [type(item).__name__ for item in items] == [
        "SnapshotRow",
        "Rejection",
        "Rejection",
        "SnapshotRow",
    ]
    assert items[1] == Rejection(3, ROW, "empty line", None)
    assert items[2] == Rejection(4, ROW, "empty line", None)
    assert items[3].line == 5


# --------------------------------------------------------------------------- rejections

REJECTIONS: list[tuple[str, str, str]] = [
    # (column, bad value, the reason)
    ("household_id", "", "household_id is empty"),
    ("household_id", "-JBG1", "household_id must be 1-128 letters"),
    ("household_id", "JBG 1", "household_id must be 1-128 letters"),
    ("household_id", "J" * 129, "household_id must be 1-128 letters"),
    ("kk_number", "", "kk_number is not 16 digits"),
    ("kk_number", "351701010123000", "kk_number is not 16 digits"),
    ("kk_number", "3517-0101-0123-0001", "kk_number is not 16 digits"),
    ("head_nik", "35170141019000011", "head_nik is not 16 digits"),
    ("head_nik", "351701410190000X", "head_nik is not 16 digits"),
    ("head_nik", "3599014101900001", "head_nik region (digits 1-6) is not a district"),
    ("head_nik", "3517013213900001", "head_nik birth date (digits 7-12, DDMMYY) is not a date"),
    ("head_name", "", "head_name is empty"),
    ("head_name", "S" * 201, "head_name is longer than 200 characters"),
    ("head_name", "Siti\tAminah", "head_name contains control characters"),
    ("province_code", "", "province_code is empty"),
    ("province_code", "99", "province_code 99 does not exist"),
    ("province_code", "Jawa Timur", "province_code is not a Kemendagri code"),
    ("province_code", "35.17", "province_code 35.17 is a regency code, not a province code"),
    ("regency_code", "35.99", "regency_code 35.99 does not exist"),
    ("regency_code", "3517", "regency_code is not a Kemendagri code"),
    ("regency_code", "36.01", "regency_code 36.01 is not in province 35"),
    ("district_code", "35.17.99", "district_code 35.17.99 does not exist"),
    ("district_code", "35.18.01", "district_code 35.18.01 is not in regency 35.17"),
    ("village_code", "35.17.02.2001", "village_code 35.17.02.2001 is not in district 35.17.01"),
    ("village_code", "35.17.01.9999", "village_code 35.17.01.9999 does not exist"),
    ("village_code", "35.17.01", "village_code 35.17.01 is a district code, not a village code"),
    ("address", "", "address is empty"),
    ("address", "A" * 501, "address is longer than 500 characters"),
    ("address", "Dusun Krajan\nRT 01", "address contains control characters"),
    ("member_count", "0", "member_count must be a whole number from 1 to 50"),
    ("member_count", "51", "member_count must be a whole number from 1 to 50"),
    ("member_count", "-1", "member_count must be a whole number from 1 to 50"),
    ("member_count", "4.0", "member_count must be a whole number from 1 to 50"),
    ("member_count", "", "member_count must be a whole number from 1 to 50"),
    ("decile", "0", "decile must be a whole number from 1 to 10"),
    ("decile", "11", "decile must be a whole number from 1 to 10"),
    ("decile", "desil 2", "decile must be a whole number from 1 to 10"),
    ("decile", "٢", "decile must be a whole number from 1 to 10"),  # Arabic-Indic two
    ("per_capita_income", "-5", "per_capita_income must be whole rupiah"),
    ("per_capita_income", "450.000", "per_capita_income must be whole rupiah"),
    ("per_capita_income", "450,000", "per_capita_income must be whole rupiah"),
    ("per_capita_income", "450_000", "per_capita_income must be whole rupiah"),
    ("per_capita_income", "9" * 13, "per_capita_income must be whole rupiah"),
    ("per_capita_income", "9" * 5000, "per_capita_income must be whole rupiah"),
    ("per_capita_income", "", "per_capita_income must be whole rupiah"),
    ("has_elderly", "2", "has_elderly must be 0 or 1"),
    ("has_disability", "yes", "has_disability must be 0 or 1"),
    ("has_child_under6", "", "has_child_under6 must be 0 or 1"),
    ("has_school_child", "true", "has_school_child must be 0 or 1"),
    ("has_pregnant", "01", "has_pregnant must be 0 or 1"),
    ("pbi_jkn", "Y", "pbi_jkn must be 0 or 1"),
    ("programs", "PKH;BLT", "programs has an unknown program"),
    ("programs", "PKH;", "programs has an empty entry"),
    ("programs", "PKH,BPNT", "programs has an unknown program"),
    ("programs", "BPNT;SEMBAKO", "programs lists BPNT more than once"),
    ("programs", "pkh;PKH", "programs lists PKH more than once"),
    ("kks_number", "52001234", "kks_number is not 16 digits"),
    ("bank", "BCA", "bank is not one of BNI, BRI, MANDIRI, BSI"),
]


@pytest.mark.parametrize(("column", "value", "reason"), REJECTIONS)
def test_each_rejection_reason(
    tmp_path: Path, register: RegionRegister, column: str, value: str, reason: str
) -> None:
    path = write(tmp_path / "s.csv", [household(1), household(2, **{column: value}), household(3)])
    rejection = only_rejection(path, register)
    assert rejection.line == 3
    assert rejection.column == column
    assert rejection.reason.startswith(reason), rejection.reason
    expected_id = "JBG-0000002" if column != "household_id" else None
    assert rejection.household_id == expected_id
    assert not re.search(r"[0-9]{16}", rejection.reason)
    assert "Siti" not in rejection.reason


def test_kks_and_bank_go_together(tmp_path: Path, register: RegionRegister) -> None:
    path = write(tmp_path / "s.csv", [household(1, bank=""), household(2, kks_number="")])
    _, items = read_all(path, register)
    assert items == [
        Rejection(2, "kks_number", "kks_number is given without a bank", "JBG-0000001"),
        Rejection(3, "bank", "bank is given without a kks_number", "JBG-0000002"),
    ]


def test_all_problems_of_a_row_are_listed_first_column_first(
    tmp_path: Path, register: RegionRegister
) -> None:
    path = write(tmp_path / "s.csv", [household(1, decile="0", head_name="", bank="BCA")])
    (rejection,) = read_all(path, register)[1]
    assert rejection == Rejection(
        2,
        "head_name",
        "head_name is empty; decile must be a whole number from 1 to 10; "
        "bank is not one of BNI, BRI, MANDIRI, BSI",
        "JBG-0000001",
    )


def test_wrong_number_of_fields(tmp_path: Path, register: RegionRegister) -> None:
    short = list(household(1).values())[:-1]
    long = [*household(2).values(), "extra"]
    path = write(tmp_path / "s.csv", [short, long, "just one field"])
    _, items = read_all(path, register)
    assert items == [
        Rejection(2, ROW, "wrong number of fields: 20, expected 21", "JBG-0000001"),
        Rejection(3, ROW, "wrong number of fields: 22, expected 21", "JBG-0000002"),
        Rejection(4, ROW, "wrong number of fields: 1, expected 21", None),
    ]


def test_rows_of_another_regency(tmp_path: Path, register: RegionRegister) -> None:
    other = household(
        2,
        regency_code="35.18",
        district_code="35.18.01",
        village_code=register.villages_of("35.18.01")[0],
    )
    path = write(tmp_path / "s.csv", [household(1), other])
    rejection = only_rejection(path, register, regency="35.17")
    assert rejection == Rejection(
        3,
        "regency_code",
        "regency_code 35.18 is not the regency being imported (35.17)",
        "JBG-0000002",
    )
    _, items = read_all(path, register)  # without a regency both are fine
    assert all(isinstance(item, SnapshotRow) for item in items)
    with pytest.raises(ValueError, match="not a regency"):
        next(read_rows(path, check_file(path), register, regency="35.17.01"))


def test_a_line_number_is_where_the_row_starts(tmp_path: Path, register: RegionRegister) -> None:
    path = write(tmp_path / "s.csv", [household(1, address="Dusun\nKrajan"), household(2)])
    _, items = read_all(path, register)
    assert isinstance(items[0], Rejection) and items[0].line == 2
    assert isinstance(items[1], SnapshotRow) and items[1].line == 4


# --------------------------------------------------------------------------- data ganda


def test_a_head_nik_on_two_rows_rejects_both(tmp_path: Path, register: RegionRegister) -> None:
    nik = household(1)["head_nik"]
    lines = [household(n) for n in range(1, 20)]
    lines[15]["head_nik"] = " " + nik  # line 17, with stray space
    path = write(tmp_path / "s.csv", lines)
    check, items = read_all(path, register)
    assert check.duplicate_lines == {
        2: "head_nik also heads the household on line 17 (data ganda)",
        17: "head_nik also heads the household on line 2 (data ganda)",
    }
    rejections = [item for item in items if isinstance(item, Rejection)]
    assert rejections == [
        Rejection(
            2,
            "head_nik",
            "head_nik also heads the household on line 17 (data ganda)",
            "JBG-0000001",
        ),
        Rejection(
            17,
            "head_nik",
            "head_nik also heads the household on line 2 (data ganda)",
            "JBG-0000016",
        ),
    ]


def test_a_household_id_on_three_rows(tmp_path: Path, register: RegionRegister) -> None:
    lines = [household(1), household(2), household(3), household(4)]
    lines[2]["household_id"] = lines[3]["household_id"] = "JBG-0000001"
    lines[3]["decile"] = "12"
    path = write(tmp_path / "s.csv", lines)
    _, items = read_all(path, register)
    assert items[0] == Rejection(
        2, "household_id", "household_id also appears on lines 4 and 5 (data ganda)", "JBG-0000001"
    )
    assert isinstance(items[1], SnapshotRow)
    assert items[2] == Rejection(
        4, "household_id", "household_id also appears on lines 2 and 5 (data ganda)", "JBG-0000001"
    )
    assert items[3] == Rejection(
        5,
        "household_id",
        "household_id also appears on lines 2 and 4 (data ganda); "
        "decile must be a whole number from 1 to 10",
        "JBG-0000001",
    )


def test_a_row_duplicated_whole(tmp_path: Path, register: RegionRegister) -> None:
    path = write(tmp_path / "s.csv", [household(1), household(2), household(1)])
    check, _ = read_all(path, register)
    assert check.duplicate_lines[2] == (
        "household_id also appears on line 4 (data ganda); "
        "head_nik also heads the household on line 4 (data ganda)"
    )
    assert 3 not in check.duplicate_lines


def test_many_duplicates_are_summarised(tmp_path: Path, register: RegionRegister) -> None:
    lines = [household(n, head_nik=BASE["head_nik"]) for n in range(1, 11)]
    path = write(tmp_path / "s.csv", lines)
    check = check_file(path)
    assert len(check.duplicate_lines) == 10
    assert check.duplicate_lines[2] == (
        "head_nik also heads the household on lines 3, 4, 5, 6, 7 and 4 more (data ganda)"
    )


# --------------------------------------------------------------------------- refusals


def refusal(path: Path) -> str:
    with pytest.raises(SnapshotFileError) as caught:
        check_file(path)
    return str(caught.value)


def test_wrong_header_names_the_bad_columns(tmp_path: Path) -> None:
    header = [name for name in COLUMNS if name != "bank"]
    header[header.index("kk_number")] = "no_kk"
    header.append("decile")
    path = write(tmp_path / "s.csv", [], header=header)
    message = refusal(path)
    assert "missing columns: kk_number, bank" in message
    assert "unknown columns: no_kk" in message
    assert "duplicated columns: decile" in message


def test_unreadable_header_names_are_counted_not_quoted(tmp_path: Path) -> None:
    header = [*COLUMNS, "", "kk_3517014101900001", "Nama Kepala"]
    path = write(tmp_path / "s.csv", [], header=header)
    message = refusal(path)
    assert "unknown columns: 3 empty or unreadable names" in message
    assert "3517014101900001" not in message and "Nama" not in message


def test_a_data_row_instead_of_a_header_is_not_quoted(tmp_path: Path) -> None:
    path = tmp_path / "s.csv"
    path.write_text(csv_text([list(household(2).values())], header=list(household(1).values())))
    message = refusal(path)
    assert "line 1 is not the header row" in message
    assert "Siti" not in message and "3517014101900001" not in message


def test_latin1_file(tmp_path: Path) -> None:
    path = tmp_path / "s.csv"
    path.write_bytes(csv_text([household(1), household(2, head_name="José")]).encode("latin-1"))
    message = refusal(path)
    assert "not UTF-8" in message
    assert "byte 0xE9" in message
    assert "(line 3)" in message


def test_binary_garbage(tmp_path: Path) -> None:
    path = tmp_path / "s.bin"
    path.write_bytes(bytes(range(256)) * 64)
    assert "binary" in refusal(path)


def test_nul_bytes_in_utf8_text(tmp_path: Path) -> None:
    path = tmp_path / "s.csv"
    path.write_bytes(csv_text([household(1)]).encode() + b"JBG\x00,1\n")
    message = refusal(path)
    assert "binary" in message and "line 3" in message


def test_utf16_file(tmp_path: Path) -> None:
    path = tmp_path / "s.csv"
    path.write_bytes(csv_text([household(1)]).encode("utf-16"))
    assert "UTF-16" in refusal(path)


@pytest.mark.parametrize("content", [b"", b"\xef\xbb\xbf", b"\n\n", b"\r\n  \r\n"])
def test_empty_file(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "s.csv"
    path.write_bytes(content)
    assert "empty" in refusal(path)


def test_header_only(tmp_path: Path) -> None:
    path = write(tmp_path / "s.csv", ["", ""])
    assert "no data rows" in refusal(path)


def test_header_not_on_line_one(tmp_path: Path) -> None:
    path = tmp_path / "s.csv"
    path.write_text("\n" + csv_text([household(1)]))
    assert "header row must be the first line" in refusal(path)


def test_unbalanced_quotes(tmp_path: Path) -> None:
    lines: list[Line] = [household(1), household(2), '"JBG-3,unclosed', household(4)]
    path = write(tmp_path / "s.csv", lines)
    message = refusal(path)
    assert "unbalanced quotes" in message and "line 4" in message


def test_stray_quote_after_a_quoted_field(tmp_path: Path) -> None:
    path = write(tmp_path / "s.csv", [household(1), '"JBG"-2,x'])
    message = refusal(path)
    assert "quotes on line 3" in message


def test_read_rows_refuses_a_malformed_file_too(tmp_path: Path, register: RegionRegister) -> None:
    path = write(tmp_path / "s.csv", [household(1)])
    check = check_file(path)
    path.write_bytes(b"\xff\xfe garbage")
    with pytest.raises(SnapshotFileError):
        list(read_rows(path, check, register))


def test_a_file_changed_after_check_file(tmp_path: Path, register: RegionRegister) -> None:
    path = write(tmp_path / "s.csv", [household(1), household(2)])
    check = check_file(path)
    write(path, [household(1), household(2, decile="3")])
    items = read_rows(path, check, register)
    assert isinstance(next(items), SnapshotRow)
    assert isinstance(next(items), SnapshotRow)
    with pytest.raises(SnapshotFileError, match="changed since check_file"):
        next(items)


# --------------------------------------------------------------------------- fingerprint

OTHER_VALUES: dict[str, Any] = {
    "household_id": "JBG-0000002",
    "kk_number": "3517010101230002",
    "head_nik": "3517014101900002",
    "head_name": "Siti Aminah ",
    "province_code": "36",
    "regency_code": "35.18",
    "district_code": "35.17.02",
    "village_code": "35.17.01.2002",
    "address": "Dusun Krajan RT 01 RW 03",
    "member_count": 5,
    "decile": 3,
    "per_capita_income": 450001,
    "has_elderly": False,
    "has_disability": True,
    "has_child_under6": False,
    "has_school_child": True,
    "has_pregnant": True,
    "pbi_jkn": False,
    "programs": ("PKH",),
    "kks_number": None,
    "bank": "BRI",
}


def test_fingerprint_is_stable() -> None:
    row = _row_of(BASE)
    assert row.fingerprint == dataclasses.replace(row, line=99).fingerprint
    assert row.fingerprint == _row_of(dict(BASE)).fingerprint
    assert re.fullmatch(r"[0-9a-f]{32}", row.fingerprint)
    # Pinned: a change here changes every stored fingerprint, so every household would
    # look changed at the next import. Only change it on purpose.
    assert row.fingerprint == "b30e2afba6fecef5d82c255f6984e245"


@pytest.mark.parametrize("field", [f.name for f in dataclasses.fields(SnapshotRow)][1:])
def test_fingerprint_sees_every_field(field: str) -> None:
    row = _row_of(BASE)
    changed = dataclasses.replace(row, **{field: OTHER_VALUES[field]})
    assert changed.fingerprint != row.fingerprint


def test_fingerprint_cannot_be_fooled_by_moving_text_between_fields() -> None:
    row = _row_of(BASE)
    moved = dataclasses.replace(row, head_name="Siti", address="Aminah|" + row.address)
    assert moved.fingerprint != row.fingerprint
    no_bank = dataclasses.replace(row, kks_number=None, bank=None)
    empty_bank = dataclasses.replace(row, kks_number="", bank="")
    assert no_bank.fingerprint != empty_bank.fingerprint


# --------------------------------------------------------------------------- memory


def test_check_file_keeps_only_compact_keys(tmp_path: Path) -> None:
    lines = (
        household(
            1,
            household_id=f"JBG-{n:07d}",
            kk_number=f"35170101012{n:05d}",
            head_nik=f"3517014101{90 + n // 10_000:02d}{n % 10_000:04d}",
        )
        for n in range(30_000)
    )
    path = write(tmp_path / "s.csv", lines)
    tracemalloc.start()
    try:
        check = check_file(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert check.rows == 30_000
    assert check.duplicate_lines == {}
    assert peak < 30_000 * 100  # measured about 40 bytes a row; a dict would be ~200
