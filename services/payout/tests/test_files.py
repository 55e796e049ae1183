"""Tests of the channel files: credit instructions, bank results and settlements."""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import io
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bansos_contracts.enums import PayoutFailureReason
from bansos_payout import files
from bansos_payout.files import (
    BANK_REJECTION_REASONS,
    BANK_RESULT_COLUMNS,
    CREDIT_INSTRUCTION_COLUMNS,
    SETTLEMENT_COLUMNS,
    BankResultLine,
    CreditInstruction,
    FileFormatError,
    LineError,
    ParsedFile,
    SettlementLine,
    decode_file,
    parse_bank_result,
    parse_settlement,
    write_bank_result,
    write_credit_instructions,
    write_settlement,
)

PID1 = "BLTS_KESRA:2025-10..2025-12:HH-0001"
PID2 = "BLTS_KESRA:2025-10..2025-12:HH-0002"
PID3 = "BLTS_KESRA:2025-10..2025-12:HH-0003"
BANK_HEADER = ",".join(BANK_RESULT_COLUMNS)
SETTLEMENT_HEADER = ",".join(SETTLEMENT_COLUMNS)
AT = "2025-11-25T09:15:00+07:00"
AT_UTC = datetime(2025, 11, 25, 2, 15, tzinfo=UTC)


def bank_file(*lines: str, newline: str = "\n") -> str:
    return newline.join((BANK_HEADER, *lines)) + newline


def settlement_file(*lines: str) -> str:
    return "\n".join((SETTLEMENT_HEADER, *lines)) + "\n"


def only_error(parsed: ParsedFile[object]) -> LineError:
    assert parsed.lines == ()
    assert parsed.duplicates == ()
    assert len(parsed.errors) == 1
    return parsed.errors[0]


# --- bank result: good files -------------------------------------------------------------


def test_bank_result_parses_credited_and_rejected_lines() -> None:
    text = bank_file(
        f"{PID1},900000,CREDITED,,BRI-REF-1,{AT}",
        f"{PID2},900000,REJECTED,ACCOUNT_DORMANT,BRI-REF-2,2025-11-25T02:16:00Z",
    )
    parsed = parse_bank_result(text)
    assert parsed.errors == ()
    assert parsed.duplicates == ()
    assert parsed.lines == (
        BankResultLine(2, PID1, 900_000, True, None, "BRI-REF-1", AT_UTC),
        BankResultLine(
            3,
            PID2,
            900_000,
            False,
            PayoutFailureReason.ACCOUNT_DORMANT,
            "BRI-REF-2",
            datetime(2025, 11, 25, 2, 16, tzinfo=UTC),
        ),
    )
    assert parsed.lines[0].processed_at.utcoffset() == timedelta(0)
    assert parsed.sha256 == hashlib.sha256(text.encode("utf-8")).hexdigest()


def test_bom_is_tolerated_and_counted_in_the_digest() -> None:
    text = "\ufeff" + bank_file(f"{PID1},900000,CREDITED,,R1,{AT}")
    parsed = parse_bank_result(text)
    assert [line.payout_id for line in parsed.lines] == [PID1]
    assert parsed.errors == ()
    assert parsed.sha256 == hashlib.sha256(b"\xef\xbb\xbf" + text[1:].encode()).hexdigest()


def test_blank_lines_are_skipped_and_line_numbers_stay_physical() -> None:
    text = bank_file(
        "",
        f"{PID1},900000,CREDITED,,R1,{AT}",
        "   ",
        "",
        f"{PID2},900.000,CREDITED,,R2,{AT}",
    )
    parsed = parse_bank_result(text)
    assert [line.line for line in parsed.lines] == [3]
    assert [error.line for error in parsed.errors] == [6]


def test_leading_blank_lines_before_the_header_are_skipped() -> None:
    parsed = parse_bank_result("\n\n" + bank_file(f"{PID1},1,CREDITED,,R1,{AT}"))
    assert [line.line for line in parsed.lines] == [4]


def test_crlf_line_endings() -> None:
    text = bank_file(
        f"{PID1},900000,CREDITED,,R1,{AT}",
        f"{PID2},900000,CREDITED,,R2,{AT}",
        newline="\r\n",
    )
    parsed = parse_bank_result(text)
    assert parsed.errors == ()
    assert [(line.line, line.bank_reference) for line in parsed.lines] == [(2, "R1"), (3, "R2")]


def test_quoted_fields_with_commas_and_quotes() -> None:
    text = bank_file(f'"{PID1}","900000",CREDITED,,"REF, ""A"" 1",{AT}')
    parsed = parse_bank_result(text)
    assert parsed.errors == ()
    assert parsed.lines[0].bank_reference == 'REF, "A" 1'


def test_quoted_field_spanning_lines_reports_its_first_line() -> None:
    text = bank_file(f'{PID1},900000,CREDITED,,"R\n1",{AT}', f"{PID2},x,CREDITED,,R2,{AT}")
    parsed = parse_bank_result(text)
    assert [(error.line, error.payout_id) for error in parsed.errors] == [(2, PID1), (4, PID2)]
    assert "bank_reference" in parsed.errors[0].message
    assert "control characters" in parsed.errors[0].message


# --- bank result: line errors ------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("900.000", "amount '900.000' is not a whole number of rupiah"),
        ("9e5", "amount '9e5' is not a whole number of rupiah"),
        ("-900000", "amount '-900000' is negative"),
        ("", "amount is empty"),
        (" 900000", "amount ' 900000' is not a whole number of rupiah"),
        ("9_000", "amount '9_000' is not a whole number of rupiah"),
        ("٩٠٠", "amount '٩٠٠' is not a whole number of rupiah"),
        ("1" * 16, f"amount '{'1' * 16}' has more than 15 digits"),
    ],
)
def test_bad_amount(amount: str, message: str) -> None:
    error = only_error(parse_bank_result(bank_file(f"{PID1},{amount},CREDITED,,R1,{AT}")))
    assert error == LineError(2, PID1, message)


@pytest.mark.parametrize("value", ["2025-11-25T09:15:00", "2025-11-25 09:15:00", "2025-11-25"])
def test_naive_timestamp(value: str) -> None:
    error = only_error(parse_bank_result(bank_file(f"{PID1},1,CREDITED,,R1,{value}")))
    assert error == LineError(2, PID1, f"processed_at '{value}' has no UTC offset")


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("", "processed_at is empty"),
        ("yesterday", "is not an ISO 8601 timestamp with offset"),
        ("2025-11-25T09:15+07:00", "is not an ISO 8601 timestamp with offset"),
        ("2025-02-30T09:15:00Z", "is not a valid date and time"),
        ("2025-11-25T09:15:00+25:00", "is not a valid date and time"),
    ],
)
def test_bad_timestamp(value: str, problem: str) -> None:
    error = only_error(parse_bank_result(bank_file(f"{PID1},1,CREDITED,,R1,{value}")))
    assert problem in error.message


def test_rejected_without_reason() -> None:
    error = only_error(parse_bank_result(bank_file(f"{PID1},900000,REJECTED,,R1,{AT}")))
    assert error.payout_id == PID1
    assert error.message.startswith("reason is empty; it is required when status is REJECTED")


def test_credited_with_reason() -> None:
    error = only_error(parse_bank_result(bank_file(f"{PID1},900000,CREDITED,MOVED,R1,{AT}")))
    assert error == LineError(2, PID1, "reason 'MOVED' must be empty when status is CREDITED")


@pytest.mark.parametrize("reason", ["NOT_COLLECTED", "LOST", "moved"])
def test_unknown_reason(reason: str) -> None:
    error = only_error(parse_bank_result(bank_file(f"{PID1},900000,REJECTED,{reason},R1,{AT}")))
    assert error.message.startswith(f"reason '{reason}' is not one of ACCOUNT_INVALID, ")


def test_every_bank_reason_is_accepted() -> None:
    reasons = sorted(BANK_REJECTION_REASONS)
    assert PayoutFailureReason.NOT_COLLECTED not in reasons
    assert len(reasons) == len(PayoutFailureReason) - 1
    text = bank_file(
        *(
            f"BPNT:2025-04..2025-06:H{index},5,REJECTED,{reason},R,{AT}"
            for index, reason in enumerate(reasons)
        )
    )
    assert [line.reason for line in parse_bank_result(text).lines] == reasons


@pytest.mark.parametrize("status", ["", "credited", "PAID"])
def test_bad_status(status: str) -> None:
    error = only_error(parse_bank_result(bank_file(f"{PID1},1,{status},,R1,{AT}")))
    assert "status" in error.message
    assert "CREDITED or REJECTED" in error.message


@pytest.mark.parametrize(
    ("reference", "problem"),
    [
        ("", "bank_reference is empty"),
        ("   ", "bank_reference is blank"),
        ("R" * 257, "is longer than 256 characters"),
        ("R\x001", "contains control characters"),
    ],
)
def test_bad_bank_reference(reference: str, problem: str) -> None:
    error = only_error(parse_bank_result(bank_file(f"{PID1},1,CREDITED,,{reference},{AT}")))
    assert problem in error.message


def test_several_problems_on_one_line_are_reported_together() -> None:
    error = only_error(parse_bank_result(bank_file(f"{PID1},9e5,CREDITED,MOVED,,{AT[:-6]}")))
    assert error.message == (
        "amount '9e5' is not a whole number of rupiah; "
        "reason 'MOVED' must be empty when status is CREDITED; "
        "bank_reference is empty; "
        "processed_at '2025-11-25T09:15:00' has no UTC offset"
    )


@pytest.mark.parametrize(
    "payout_id",
    [
        "blts_kesra:2025-10..2025-12:HH-0001",
        "BLTS_KESRA:2025-10-2025-12:HH-0001",
        "BLTS_KESRA:2025-10..2025-12:",
        "BLTS_KESRA:2025-10..2025-12:HH 1",
        "BLTS_KESRA:2025-10..2025-12:HH:1",
        "BLTS_KESRA:2025-10..2025-12:" + "H" * 65,
        "BLTS_KESRA:2025-1O..2025-12:HH-0001",
        "BLTS_KESRA:2025-10..2025-12:HH-0001\n",
    ],
)
def test_malformed_payout_id(payout_id: str) -> None:
    text = bank_file(f'"{payout_id}",1,CREDITED,,R1,{AT}')
    error = only_error(parse_bank_result(text))
    assert error.line == 2
    assert error.payout_id is None
    assert error.message.startswith("payout_id ")
    assert "is not PROGRAM:YYYY-MM..YYYY-MM:HOUSEHOLD" in error.message


def test_payout_id_with_an_impossible_period() -> None:
    error = only_error(parse_bank_result(bank_file(f"PKH:2025-12..2025-01:H1,1,CREDITED,,R,{AT}")))
    assert error == LineError(2, None, "payout_id 'PKH:2025-12..2025-01:H1' has an invalid period")


def test_empty_payout_id() -> None:
    error = only_error(parse_bank_result(bank_file(f",1,CREDITED,,R1,{AT}")))
    assert error == LineError(2, None, "payout_id is empty")


def test_long_values_are_cut_to_40_characters_in_messages() -> None:
    amount = "9" * 30 + "x" * 30
    error = only_error(parse_bank_result(bank_file(f"{PID1},{amount},CREDITED,,R1,{AT}")))
    assert error.message == f"amount '{amount[:40]}…' is not a whole number of rupiah"


@pytest.mark.parametrize(
    "line",
    [f"{PID1},1,CREDITED,,R1", f"{PID1},1,CREDITED,,R1,{AT},", f"{PID1}"],
)
def test_wrong_number_of_fields_is_a_line_error(line: str) -> None:
    text = bank_file(line, f"{PID2},1,CREDITED,,R2,{AT}")
    parsed = parse_bank_result(text)
    assert [line.payout_id for line in parsed.lines] == [PID2]
    (error,) = parsed.errors
    count = line.count(",") + 1
    assert error == LineError(2, PID1, f"the line has {count} fields, expected 6")


def test_duplicate_payout_id_is_reported_with_its_first_line() -> None:
    text = bank_file(
        f"{PID1},900000,CREDITED,,R1,{AT}",
        f"{PID2},900000,CREDITED,,R2,{AT}",
        f"{PID1},900000,REJECTED,MOVED,R3,{AT}",
        f"{PID1},900000,CREDITED,,R1,{AT}",
    )
    parsed = parse_bank_result(text)
    assert [line.bank_reference for line in parsed.lines] == ["R1", "R2"]
    assert parsed.errors == ()
    assert parsed.duplicates == (
        LineError(4, PID1, "duplicate of line 2"),
        LineError(5, PID1, "duplicate of line 2"),
    )


def test_a_line_after_an_invalid_line_of_the_same_payout_is_not_a_duplicate() -> None:
    text = bank_file(
        f"{PID1},bad,CREDITED,,R1,{AT}",
        f"{PID1},900000,CREDITED,,R2,{AT}",
        f"{PID1},bad,CREDITED,,R3,{AT}",
    )
    parsed = parse_bank_result(text)
    assert [(line.line, line.bank_reference) for line in parsed.lines] == [(3, "R2")]
    assert [error.line for error in parsed.errors] == [2, 4]
    assert parsed.duplicates == ()


# --- file-level errors -------------------------------------------------------------------


def test_missing_column_is_named() -> None:
    header = "payout_id,amount,status,bank_reference,processed_at"
    with pytest.raises(FileFormatError, match=r"missing column\(s\) 'reason'$"):
        parse_bank_result(header + "\n")


def test_extra_column_is_named() -> None:
    with pytest.raises(FileFormatError, match=r"unexpected column\(s\) 'note'$"):
        parse_bank_result(BANK_HEADER + ",note\n")


def test_misspelled_column_is_named_as_missing_and_unexpected() -> None:
    header = BANK_HEADER.replace("bank_reference", "bank_ref")
    with pytest.raises(FileFormatError) as raised:
        parse_bank_result(header + "\n")
    message = str(raised.value)
    assert message.startswith(f"the header (line 1) must be exactly {BANK_HEADER}: ")
    assert "missing column(s) 'bank_reference'" in message
    assert "unexpected column(s) 'bank_ref'" in message


def test_columns_out_of_order() -> None:
    header = "amount,payout_id,status,reason,bank_reference,processed_at"
    with pytest.raises(FileFormatError, match="the columns are out of order"):
        parse_bank_result(header + "\n")


def test_repeated_column() -> None:
    with pytest.raises(FileFormatError, match=r"repeated column\(s\) 'amount'"):
        parse_bank_result(BANK_HEADER + ",amount\n")


def test_header_is_case_and_space_sensitive() -> None:
    with pytest.raises(FileFormatError, match="' amount'"):
        parse_bank_result(BANK_HEADER.replace(",amount", ", amount") + "\n")


def test_missing_header() -> None:
    with pytest.raises(FileFormatError, match="no header row: line 1 starts with a payout id"):
        parse_bank_result(f"{PID1},1,CREDITED,,R1,{AT}\n")


def test_settlement_header_is_not_a_bank_result_header() -> None:
    with pytest.raises(FileFormatError, match=r"missing column\(s\) 'status', 'reason'"):
        parse_bank_result(SETTLEMENT_HEADER + "\n")


@pytest.mark.parametrize("text", ["", "\ufeff", "\n\n  \n"])
def test_empty_file(text: str) -> None:
    with pytest.raises(FileFormatError, match="the file is empty; expected the header"):
        parse_settlement(text)


def test_header_only_file_has_no_lines() -> None:
    parsed = parse_settlement(SETTLEMENT_HEADER)
    assert (parsed.lines, parsed.errors, parsed.duplicates) == ((), (), ())


def test_broken_quoting_is_a_file_error_naming_the_line() -> None:
    text = bank_file(f"{PID1},1,CREDITED,,R1,{AT}", f'{PID2},1,CREDITED,,"R2"x,{AT}')
    with pytest.raises(FileFormatError, match=r"^line 3: the line is not valid CSV"):
        parse_bank_result(text)


def test_unterminated_quote_is_a_file_error() -> None:
    text = bank_file(f'{PID1},1,CREDITED,,"R1,{AT}', f"{PID2},1,CREDITED,,R2,{AT}")
    with pytest.raises(FileFormatError, match=r"^line 2: the line is not valid CSV"):
        parse_bank_result(text)


def test_too_many_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(files, "MAX_LINES", 3)
    rows = [f"BPNT:2025-04..2025-06:H{index},,1,R,{AT}" for index in range(3)]
    assert len(parse_settlement(settlement_file(*rows)).lines) == 3
    with pytest.raises(FileFormatError, match="more than 3 lines after the header"):
        parse_settlement(settlement_file(*rows, ""))


def test_max_lines_is_a_million() -> None:
    assert files.MAX_LINES == 1_000_000


def test_decode_file() -> None:
    data = "\ufeff".encode() + bank_file(f"{PID1},1,CREDITED,,Réf,{AT}", newline="\r\n").encode()
    text = decode_file(data, "bri-result.csv")
    parsed = parse_bank_result(text)
    assert parsed.lines[0].bank_reference == "Réf"
    assert parsed.sha256 == hashlib.sha256(data).hexdigest()


def test_decode_file_names_the_file_when_not_utf8() -> None:
    data = bank_file(f"{PID1},1,CREDITED,,R\xe9f,{AT}").encode("latin-1")
    with pytest.raises(FileFormatError, match=r"file 'bri-result\.csv' is not UTF-8 text"):
        decode_file(data, "bri-result.csv")


def test_lone_surrogate_is_a_file_error() -> None:
    with pytest.raises(FileFormatError, match="not valid Unicode"):
        parse_bank_result(bank_file(f"{PID1},1,CREDITED,,R\ud800,{AT}"))


# --- settlement --------------------------------------------------------------------------


def test_settlement_with_and_without_collection_code() -> None:
    text = settlement_file(
        f"{PID1},POS-7Q2K9,900000,POS-TX-1,{AT}",
        f"{PID2},,900000,BRI-TX-2,2025-11-25T02:15:00.250Z",
    )
    parsed = parse_settlement(text)
    assert parsed.errors == ()
    assert parsed.lines == (
        SettlementLine(2, PID1, "POS-7Q2K9", 900_000, "POS-TX-1", AT_UTC),
        SettlementLine(3, PID2, None, 900_000, "BRI-TX-2", AT_UTC.replace(microsecond=250_000)),
    )


def test_settlement_line_errors() -> None:
    text = settlement_file(
        f"{PID1},,900.000,TX1,{AT}",
        f"{PID2},,900000,TX2,2025-11-25T09:15:00",
        f"{PID3},  ,900000,,{AT}",
        f"{PID3},C,900000,TX3,{AT}",
        f"{PID3},C,1,TX4,{AT}",
    )
    parsed = parse_settlement(text)
    assert parsed.errors == (
        LineError(2, PID1, "amount '900.000' is not a whole number of rupiah"),
        LineError(3, PID2, "paid_at '2025-11-25T09:15:00' has no UTC offset"),
        LineError(4, PID3, "collection_code is blank; channel_reference is empty"),
    )
    assert [line.line for line in parsed.lines] == [5]
    assert parsed.duplicates == (LineError(6, PID3, "duplicate of line 5"),)


# --- credit instructions -----------------------------------------------------------------


def instruction(household: str = "HH-0001", **changes: object) -> CreditInstruction:
    row = CreditInstruction(
        payout_id=f"BLTS_KESRA:2025-10..2025-12:{household}",
        household_id=household,
        bank="BRI",
        amount=900_000,
        program="BLTS_KESRA",
        period="2025-10..2025-12",
        village="33.01.01.2001",
    )
    return dataclasses.replace(row, **changes)  # type: ignore[arg-type]


def test_write_credit_instructions_keeps_the_given_order() -> None:
    text = write_credit_instructions(
        [instruction("HH-0002"), instruction("HH-0001", village='Desa "Suka, Maju"')]
    )
    assert text == (
        "payout_id,household_id,bank,amount,program,period,village\n"
        "BLTS_KESRA:2025-10..2025-12:HH-0002,HH-0002,BRI,900000,BLTS_KESRA,"
        "2025-10..2025-12,33.01.01.2001\n"
        "BLTS_KESRA:2025-10..2025-12:HH-0001,HH-0001,BRI,900000,BLTS_KESRA,"
        '2025-10..2025-12,"Desa ""Suka, Maju"""\n'
    )
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert tuple(rows[0]) == CREDIT_INSTRUCTION_COLUMNS
    assert rows[2][6] == 'Desa "Suka, Maju"'


def test_write_credit_instructions_with_no_rows_writes_the_header() -> None:
    assert write_credit_instructions([]) == ",".join(CREDIT_INSTRUCTION_COLUMNS) + "\n"


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"amount": -1}, "amount '-1' is negative"),
        ({"amount": 900_000.0}, "amount must be an int, not float"),
        ({"amount": True}, "amount must be an int, not bool"),
        ({"payout_id": "PKH:2025-10..2025-12:HH-0001"}, "does not match program:period"),
        ({"household_id": "HH-9"}, "does not match program:period:household_id"),
        ({"payout_id": "nonsense"}, "payout_id 'nonsense' is not PROGRAM"),
        ({"bank": ""}, "bank is empty"),
        ({"village": "a\nb"}, "village 'a\\nb' contains control characters"),
    ],
)
def test_write_credit_instructions_rejects_bad_rows(changes: dict[str, Any], problem: str) -> None:
    with pytest.raises(ValueError, match=r"^row 2 ") as raised:
        write_credit_instructions([instruction("HH-0002"), instruction(**changes)])
    assert problem in str(raised.value)


def test_write_credit_instructions_rejects_a_duplicate_payout() -> None:
    with pytest.raises(ValueError, match=r"row 3 .*duplicate of row 1"):
        write_credit_instructions([instruction(), instruction("HH-0002"), instruction()])


# --- writers of the channel files --------------------------------------------------------


def test_write_bank_result_normalises_timestamps_to_utc() -> None:
    wib = timezone(timedelta(hours=7))
    row = BankResultLine(0, PID1, 5, True, None, "R,1", datetime(2025, 11, 25, 9, 15, tzinfo=wib))
    assert (
        write_bank_result([row])
        == f'{BANK_HEADER}\n{PID1},5,CREDITED,,"R,1",2025-11-25T02:15:00Z\n'
    )


@pytest.mark.parametrize(
    ("row", "problem"),
    [
        (
            BankResultLine(0, PID1, 5, True, PayoutFailureReason.MOVED, "R", AT_UTC),
            "reason must be None when credited",
        ),
        (
            BankResultLine(0, PID1, 5, False, None, "R", AT_UTC),
            "reason is empty; it is required when status is REJECTED",
        ),
        (
            BankResultLine(0, PID1, 5, False, PayoutFailureReason.NOT_COLLECTED, "R", AT_UTC),
            "reason 'NOT_COLLECTED' is not one of",
        ),
        (
            BankResultLine(0, PID1, 5, True, None, "R", datetime(2025, 11, 25)),
            "processed_at has no UTC offset",
        ),
        (BankResultLine(0, PID1, 5, True, None, "", AT_UTC), "bank_reference is empty"),
        (BankResultLine(0, "x", 5, True, None, "R", AT_UTC), "payout_id 'x' is not PROGRAM"),
    ],
)
def test_write_bank_result_rejects_rows_that_would_not_parse(
    row: BankResultLine, problem: str
) -> None:
    with pytest.raises(ValueError, match=r"^row 1 ") as raised:
        write_bank_result([row])
    assert problem in str(raised.value)


def test_write_settlement_rejects_an_empty_collection_code() -> None:
    row = SettlementLine(0, PID1, "", 5, "TX", AT_UTC)
    with pytest.raises(ValueError, match="use None for a line without a code"):
        write_settlement([row])


def test_writers_allow_duplicates_so_tests_can_build_such_files() -> None:
    row = SettlementLine(0, PID1, None, 5, "TX", AT_UTC)
    parsed = parse_settlement(write_settlement([row, row]))
    assert parsed.lines == (dataclasses.replace(row, line=2),)
    assert parsed.duplicates == (LineError(3, PID1, "duplicate of line 2"),)


# --- properties --------------------------------------------------------------------------

_PROGRAMS = st.from_regex(r"[A-Z_]{1,20}", fullmatch=True)
_PERIODS = st.builds(
    lambda year, start, length: f"{year}-{start:02d}..{year}-{min(12, start + length):02d}",
    st.integers(2000, 2099),
    st.integers(1, 12),
    st.integers(0, 11),
)
_HOUSEHOLDS = st.from_regex(r"[A-Za-z0-9._-]{1,64}", fullmatch=True)
_PAYOUT_IDS = st.builds(lambda p, q, h: f"{p}:{q}:{h}", _PROGRAMS, _PERIODS, _HOUSEHOLDS)
_AMOUNTS = st.integers(0, 10**15 - 1)
# Any printable text: commas, quotes, spaces and non-ASCII letters included.
_TEXT = st.text(
    st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")), min_size=1, max_size=256
).filter(lambda text: text.strip() != "")
_TIMESTAMPS = st.datetimes(
    min_value=datetime(1900, 1, 1),
    max_value=datetime(2200, 1, 1),
    timezones=st.sampled_from([UTC, timezone(timedelta(hours=7)), timezone(timedelta(hours=-3))]),
)


@st.composite
def _bank_result_lines(draw: st.DrawFn) -> BankResultLine:
    credited = draw(st.booleans())
    reason = None if credited else draw(st.sampled_from(sorted(BANK_REJECTION_REASONS)))
    return BankResultLine(
        line=0,
        payout_id=draw(_PAYOUT_IDS),
        amount=draw(_AMOUNTS),
        credited=credited,
        reason=reason,
        bank_reference=draw(_TEXT),
        processed_at=draw(_TIMESTAMPS),
    )


_SETTLEMENT_LINES = st.builds(
    SettlementLine,
    line=st.just(0),
    payout_id=_PAYOUT_IDS,
    collection_code=st.none() | _TEXT,
    amount=_AMOUNTS,
    channel_reference=_TEXT,
    paid_at=_TIMESTAMPS,
)


@settings(max_examples=200)
@given(st.lists(_bank_result_lines(), max_size=20, unique_by=lambda row: row.payout_id))
def test_bank_result_round_trip(rows: list[BankResultLine]) -> None:
    parsed = parse_bank_result(write_bank_result(rows))
    assert parsed.errors == ()
    assert parsed.duplicates == ()
    assert parsed.lines == tuple(
        dataclasses.replace(row, line=index) for index, row in enumerate(rows, start=2)
    )
    assert all(line.processed_at.tzinfo is UTC for line in parsed.lines)


@settings(max_examples=200)
@given(
    st.lists(_SETTLEMENT_LINES, max_size=20, unique_by=lambda row: row.payout_id),
    st.booleans(),
    st.booleans(),
)
def test_settlement_round_trip(rows: list[SettlementLine], crlf: bool, bom: bool) -> None:
    text = write_settlement(rows)
    if crlf:
        text = text.replace("\n", "\r\n")  # no line breaks inside fields: safe
    if bom:
        text = "\ufeff" + text
    parsed = parse_settlement(text)
    assert parsed.errors == ()
    assert parsed.lines == tuple(
        dataclasses.replace(row, line=index) for index, row in enumerate(rows, start=2)
    )


@settings(max_examples=300)
@given(st.lists(st.text(st.sampled_from(f'{PID1}{AT},"\r\n 9REJECTEDMOV'), max_size=60)))
def test_parser_never_fails_but_with_a_file_format_error(lines: list[str]) -> None:
    text = "\n".join((BANK_HEADER, *lines))
    try:
        parsed = parse_bank_result(text)
    except FileFormatError:
        return
    physical_lines = len(text.splitlines())
    seen = [line.line for line in parsed.lines]
    seen += [error.line for error in (*parsed.errors, *parsed.duplicates)]
    assert len(seen) == len(set(seen))
    assert all(2 <= line <= physical_lines for line in seen)
