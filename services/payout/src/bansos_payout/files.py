"""The channel files of the payout service: reading and writing them, line by line.

Three CSV formats travel between the payout service and the paying channels:

* **Credit instruction file** (we write it, one per bank): which payouts to credit to
  which KKS card holders. Columns :data:`CREDIT_INSTRUCTION_COLUMNS`.
* **Bank result file** (the bank sends it back): for each instruction, whether the
  credit went through or why it was rejected. Columns :data:`BANK_RESULT_COLUMNS`.
* **Settlement file** (PT Pos or a bank): what was actually paid out. Columns
  :data:`SETTLEMENT_COLUMNS`.

Every file is UTF-8 text (a leading UTF-8 byte-order mark is tolerated), comma-separated
with ``"`` quoting, and starts with a header row that must be exactly the documented
columns, in order. Blank lines are skipped; ``\\n``, ``\\r\\n`` and ``\\r`` line endings
are all accepted. Amounts are whole rupiah written with ASCII digits only. Timestamps are
ISO 8601 with seconds and a UTC offset (``2025-11-25T09:15:00+07:00``) or ``Z``; they
are returned as UTC-aware datetimes.

The parsers are pure: they never decide what a line means for a payout (the service layer
does). A problem with the file as a whole raises :class:`FileFormatError`; a problem with
one line becomes a :class:`LineError` in :attr:`ParsedFile.errors`, and a later line for
a payout id already seen on an earlier valid line becomes a :class:`LineError` in
:attr:`ParsedFile.duplicates`. Messages name the line, the column and at most the
offending value (cut to 40 characters) and the payout id, never anything else.

To keep :attr:`ParsedFile.sha256` equal to the digest of the file's bytes, read a file
with :func:`decode_file` (not in text mode, which would translate line endings).
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Final, Generic, TypeVar

from bansos_contracts.enums import PayoutFailureReason
from bansos_contracts.values import period_bounds

if TYPE_CHECKING:
    from _csv import Reader

__all__ = [
    "BANK_REJECTION_REASONS",
    "BANK_RESULT_COLUMNS",
    "CREDIT_INSTRUCTION_COLUMNS",
    "MAX_AMOUNT_DIGITS",
    "MAX_LINES",
    "MAX_PAYOUT_ID_LENGTH",
    "MAX_TEXT_LENGTH",
    "SETTLEMENT_COLUMNS",
    "BankResultLine",
    "CreditInstruction",
    "FileFormatError",
    "LineError",
    "ParsedFile",
    "SettlementLine",
    "decode_file",
    "parse_bank_result",
    "parse_settlement",
    "write_bank_result",
    "write_credit_instructions",
    "write_settlement",
]

_T = TypeVar("_T")
_T_co = TypeVar("_T_co", covariant=True)

#: The columns of a credit instruction file, in order.
CREDIT_INSTRUCTION_COLUMNS: Final[tuple[str, ...]] = (
    "payout_id",
    "household_id",
    "bank",
    "amount",
    "program",
    "period",
    "village",
)
#: The columns of a bank result file, in order.
BANK_RESULT_COLUMNS: Final[tuple[str, ...]] = (
    "payout_id",
    "amount",
    "status",
    "reason",
    "bank_reference",
    "processed_at",
)
#: The columns of a settlement file, in order.
SETTLEMENT_COLUMNS: Final[tuple[str, ...]] = (
    "payout_id",
    "collection_code",
    "amount",
    "channel_reference",
    "paid_at",
)

#: The most lines a file may have after its header row (blank lines included).
MAX_LINES: Final = 1_000_000
#: The most characters of a reference, a collection code or another text field.
MAX_TEXT_LENGTH: Final = 256
#: The most characters of a payout id (the contracts' ``Identifier`` limit).
MAX_PAYOUT_ID_LENGTH: Final = 128
#: The most digits of an amount (just under a thousand trillion rupiah).
MAX_AMOUNT_DIGITS: Final = 15

#: The reasons a bank may give for rejecting a credit: every
#: :class:`~bansos_contracts.enums.PayoutFailureReason` except ``NOT_COLLECTED``.
BANK_REJECTION_REASONS: Final[frozenset[PayoutFailureReason]] = frozenset(
    reason for reason in PayoutFailureReason if reason is not PayoutFailureReason.NOT_COLLECTED
)

_CREDITED: Final = "CREDITED"
_REJECTED: Final = "REJECTED"
_BOM: Final = "\ufeff"
_SHOWN_CHARS: Final = 40
_SHOWN_COLUMNS: Final = 10

_PAYOUT_ID: Final = re.compile(
    r"[A-Z_]+:(?P<period>[0-9]{4}-[0-9]{2}\.\.[0-9]{4}-[0-9]{2}):[A-Za-z0-9._-]{1,64}"
)
_AMOUNT: Final = re.compile(r"[0-9]+")
_NEGATIVE_AMOUNT: Final = re.compile(r"-[0-9]+")
_TIMESTAMP: Final = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,6})?"
    r"(?:Z|[+-][0-9]{2}:[0-9]{2})"
)
# A date or date and time without any offset: named as such in the error.
_NAIVE_TIMESTAMP: Final = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}(?:[T ][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:[.,][0-9]+)?)?)?"
)
_CONTROL: Final = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_REASON_BY_VALUE: Final[dict[str, PayoutFailureReason]] = {
    reason.value: reason for reason in BANK_REJECTION_REASONS
}
_REASON_LIST: Final = ", ".join(
    reason.value for reason in PayoutFailureReason if reason in BANK_REJECTION_REASONS
)


class FileFormatError(ValueError):
    """The file as a whole cannot be read: encoding, header, CSV structure or size."""


@dataclass(frozen=True)
class LineError:
    """A line of a file that was not accepted."""

    line: int
    """The 1-based physical line number where the line starts (the header is line 1)."""
    payout_id: str | None
    """The payout id of the line, when it could be read (it is well formed)."""
    message: str
    """What is wrong, naming the column and the offending value (cut to 40 characters)."""


@dataclass(frozen=True)
class ParsedFile(Generic[_T_co]):
    """The outcome of parsing a channel file."""

    lines: tuple[_T_co, ...]
    """The lines that parsed, in file order (the first line of each payout id)."""
    errors: tuple[LineError, ...]
    """The lines that did not parse, each naming its line number and column."""
    duplicates: tuple[LineError, ...]
    """Later valid lines for a payout id already on an earlier valid line
    (``"duplicate of line 3"``); they are not in :attr:`lines`."""
    sha256: str
    """Hex SHA-256 of the file's bytes (the UTF-8 encoded text), for idempotent imports."""


@dataclass(frozen=True)
class CreditInstruction:
    """One line of a credit instruction file: credit a payout to a household's KKS card.

    ``payout_id`` must equal ``f"{program}:{period}:{household_id}"``.
    """

    payout_id: str
    household_id: str
    bank: str
    amount: int
    """Whole rupiah, never negative."""
    program: str
    period: str
    village: str


@dataclass(frozen=True)
class BankResultLine:
    """One line of a bank result file: the bank's answer to one credit instruction."""

    line: int
    """The 1-based physical line number in the file (the header is line 1); ignored when
    writing."""
    payout_id: str
    amount: int
    """Whole rupiah, never negative."""
    credited: bool
    """``True`` for status ``CREDITED``, ``False`` for ``REJECTED``."""
    reason: PayoutFailureReason | None
    """Why the credit was rejected (one of :data:`BANK_REJECTION_REASONS`); ``None`` when
    credited."""
    bank_reference: str
    """The bank's transaction reference: not blank, at most 256 characters."""
    processed_at: datetime
    """When the bank processed the credit, UTC-aware."""


@dataclass(frozen=True)
class SettlementLine:
    """One line of a settlement file: a payout the channel actually paid."""

    line: int
    """The 1-based physical line number in the file (the header is line 1); ignored when
    writing."""
    payout_id: str
    collection_code: str | None
    """The code the household showed to PT Pos; ``None`` when the file leaves it empty
    (bank settlements)."""
    amount: int
    """Whole rupiah, never negative."""
    channel_reference: str
    """PT Pos's or the bank's transaction reference: not blank, at most 256 characters."""
    paid_at: datetime
    """When the money was paid, UTC-aware."""


# --- reading ---------------------------------------------------------------------------


def decode_file(data: bytes, name: str) -> str:
    """Decode the bytes of a channel file as UTF-8, keeping any byte-order mark.

    The text encodes back to exactly ``data``, so :attr:`ParsedFile.sha256` of the parsed
    text is the digest of the file. Raises :class:`FileFormatError` naming the file when
    ``data`` is not UTF-8.
    """
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FileFormatError(
            f"file {name!r} is not UTF-8 text (invalid byte at offset {exc.start})"
        ) from None


def parse_bank_result(text: str) -> ParsedFile[BankResultLine]:
    """Parse a bank result file (columns :data:`BANK_RESULT_COLUMNS`).

    ``status`` is ``CREDITED`` or ``REJECTED``; ``reason`` is required when rejected (one
    of :data:`BANK_REJECTION_REASONS`) and must be empty when credited. Raises
    :class:`FileFormatError` when the file as a whole cannot be read.
    """
    return _parse(text, BANK_RESULT_COLUMNS, _bank_result_line)


def parse_settlement(text: str) -> ParsedFile[SettlementLine]:
    """Parse a settlement file (columns :data:`SETTLEMENT_COLUMNS`).

    An empty ``collection_code`` becomes ``None``. Raises :class:`FileFormatError` when the
    file as a whole cannot be read.
    """
    return _parse(text, SETTLEMENT_COLUMNS, _settlement_line)


# A row builder reads the fields of a line that has the right number of fields. It
# appends one message per problem and returns the parsed line, or ``None`` when it found
# problems (problems found before the call, such as a bad payout id, also count).
_RowBuilder = Callable[[int, Sequence[str], list[str]], _T | None]


def _parse(text: str, columns: tuple[str, ...], build: _RowBuilder[_T]) -> ParsedFile[_T]:
    try:
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    except UnicodeEncodeError as exc:
        raise FileFormatError(
            f"file text is not valid Unicode (lone surrogate at character {exc.start})"
        ) from None
    body = text.removeprefix(_BOM)
    reader = csv.reader(io.StringIO(body, newline=""), strict=True)
    header_end = _read_header(reader, columns)
    width = len(columns)
    lines: list[_T] = []
    errors: list[LineError] = []
    duplicates: list[LineError] = []
    first_lines: dict[str, int] = {}
    while True:
        start = reader.line_num + 1
        try:
            fields = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise FileFormatError(
                f"line {start}: the line is not valid CSV ({exc}); check its quotes"
            ) from None
        if reader.line_num - header_end > MAX_LINES:
            raise FileFormatError(f"the file has more than {MAX_LINES} lines after the header")
        if _is_blank(fields):
            continue
        payout_id = fields[0]
        problem = _payout_id_problem(payout_id)
        readable_id = payout_id if problem is None else None
        if len(fields) != width:
            message = f"the line has {len(fields)} fields, expected {width}"
            errors.append(LineError(start, readable_id, message))
            continue
        problems = [] if problem is None else [problem]
        parsed = build(start, fields, problems)
        if parsed is None or problems:
            errors.append(LineError(start, readable_id, "; ".join(problems)))
            continue
        first = first_lines.get(payout_id)
        if first is not None:
            duplicates.append(LineError(start, payout_id, f"duplicate of line {first}"))
            continue
        first_lines[payout_id] = start
        lines.append(parsed)
    return ParsedFile(tuple(lines), tuple(errors), tuple(duplicates), digest)


def _read_header(reader: Reader, columns: tuple[str, ...]) -> int:
    """Read and check the header row; return the physical line it ends on."""
    expected = ",".join(columns)
    try:
        for fields in reader:
            line_num = reader.line_num
            if not _is_blank(fields):
                _check_header(fields, columns, line_num)
                return line_num
    except csv.Error as exc:
        raise FileFormatError(
            f"the header row is not valid CSV ({exc}); expected the header {expected}"
        ) from None
    raise FileFormatError(f"the file is empty; expected the header {expected}")


def _check_header(fields: list[str], columns: tuple[str, ...], line: int) -> None:
    if tuple(fields) == columns:
        return
    expected = ",".join(columns)
    if _PAYOUT_ID.fullmatch(fields[0]):
        raise FileFormatError(
            f"the file has no header row: line {line} starts with a payout id; "
            f"expected the header {expected}"
        )
    counts = Counter(fields)
    known = frozenset(columns)
    missing = [column for column in columns if column not in counts]
    unexpected = [field for field in counts if field not in known]
    repeated = [field for field, count in counts.items() if count > 1 and field in known]
    parts: list[str] = []
    if missing:
        parts.append(f"missing column(s) {_show_names(missing)}")
    if unexpected:
        parts.append(f"unexpected column(s) {_show_names(unexpected)}")
    if repeated:
        parts.append(f"repeated column(s) {_show_names(repeated)}")
    if not parts:
        parts.append("the columns are out of order")
    raise FileFormatError(
        f"the header (line {line}) must be exactly {expected}: {'; '.join(parts)}"
    )


def _bank_result_line(
    line: int, fields: Sequence[str], problems: list[str]
) -> BankResultLine | None:
    payout_id, amount_text, status, reason_text, reference, processed_text = fields
    amount = _amount(amount_text, problems)
    credited = status == _CREDITED
    reason: PayoutFailureReason | None = None
    if status not in (_CREDITED, _REJECTED):
        problems.append(
            f"status {_show(status)} is not {_CREDITED} or {_REJECTED}"
            if status
            else f"status is empty; expected {_CREDITED} or {_REJECTED}"
        )
        if reason_text:
            _reason(reason_text, problems)
    elif credited:
        if reason_text:
            problems.append(f"reason {_show(reason_text)} must be empty when status is CREDITED")
    elif not reason_text:
        problems.append(f"reason is empty; it is required when status is REJECTED ({_REASON_LIST})")
    else:
        reason = _reason(reason_text, problems)
    _text("bank_reference", reference, problems)
    processed_at = _timestamp("processed_at", processed_text, problems)
    if problems:
        return None
    return BankResultLine(
        line=line,
        payout_id=payout_id,
        amount=amount,
        credited=credited,
        reason=reason,
        bank_reference=reference,
        processed_at=processed_at,
    )


def _settlement_line(
    line: int, fields: Sequence[str], problems: list[str]
) -> SettlementLine | None:
    payout_id, code, amount_text, reference, paid_text = fields
    if code:
        _text("collection_code", code, problems)
    amount = _amount(amount_text, problems)
    _text("channel_reference", reference, problems)
    paid_at = _timestamp("paid_at", paid_text, problems)
    if problems:
        return None
    return SettlementLine(
        line=line,
        payout_id=payout_id,
        collection_code=code or None,
        amount=amount,
        channel_reference=reference,
        paid_at=paid_at,
    )


# --- field checks ----------------------------------------------------------------------


def _payout_id_problem(value: str) -> str | None:
    if not value:
        return "payout_id is empty"
    match = _PAYOUT_ID.fullmatch(value)
    if match is None or len(value) > MAX_PAYOUT_ID_LENGTH:
        return f"payout_id {_show(value)} is not PROGRAM:YYYY-MM..YYYY-MM:HOUSEHOLD"
    if not _period_is_valid(match["period"]):
        return f"payout_id {_show(value)} has an invalid period"
    return None


@lru_cache(maxsize=1024)
def _period_is_valid(period: str) -> bool:
    try:
        period_bounds(period)
    except ValueError:
        return False
    return True


def _amount(value: str, problems: list[str]) -> int:
    if not value:
        problems.append("amount is empty")
    elif _AMOUNT.fullmatch(value) is None:
        if _NEGATIVE_AMOUNT.fullmatch(value):
            problems.append(f"amount {_show(value)} is negative")
        else:
            problems.append(f"amount {_show(value)} is not a whole number of rupiah")
    elif len(value) > MAX_AMOUNT_DIGITS:
        problems.append(f"amount {_show(value)} has more than {MAX_AMOUNT_DIGITS} digits")
    else:
        return int(value)
    return 0


def _reason(value: str, problems: list[str]) -> PayoutFailureReason | None:
    reason = _REASON_BY_VALUE.get(value)
    if reason is None:
        problems.append(f"reason {_show(value)} is not one of {_REASON_LIST}")
    return reason


def _text(column: str, value: str, problems: list[str]) -> None:
    if not value.strip():
        problems.append(f"{column} is empty" if not value else f"{column} is blank")
    elif len(value) > MAX_TEXT_LENGTH:
        problems.append(f"{column} {_show(value)} is longer than {MAX_TEXT_LENGTH} characters")
    elif _CONTROL.search(value):
        problems.append(f"{column} {_show(value)} contains control characters")


def _timestamp(column: str, value: str, problems: list[str]) -> datetime:
    if not value:
        problems.append(f"{column} is empty")
    elif _TIMESTAMP.fullmatch(value) is None:
        if _NAIVE_TIMESTAMP.fullmatch(value):
            problems.append(f"{column} {_show(value)} has no UTC offset")
        else:
            problems.append(
                f"{column} {_show(value)} is not an ISO 8601 timestamp with offset "
                "(e.g. 2025-11-25T09:15:00+07:00)"
            )
    else:
        try:
            return datetime.fromisoformat(value).astimezone(UTC)
        except (ValueError, OverflowError):
            problems.append(f"{column} {_show(value)} is not a valid date and time")
    return datetime.min.replace(tzinfo=UTC)


def _is_blank(fields: list[str]) -> bool:
    return not fields or (len(fields) == 1 and not fields[0].strip())


def _show(value: str) -> str:
    """Quote a value for a message, cut to 40 characters."""
    if len(value) > _SHOWN_CHARS:
        value = value[:_SHOWN_CHARS] + "…"
    return repr(value)


def _show_names(names: Sequence[str]) -> str:
    shown = ", ".join(_show(name) for name in names[:_SHOWN_COLUMNS])
    if len(names) > _SHOWN_COLUMNS:
        shown += f" and {len(names) - _SHOWN_COLUMNS} more"
    return shown


# --- writing ---------------------------------------------------------------------------


def write_credit_instructions(rows: Iterable[CreditInstruction]) -> str:
    """Write a credit instruction file: the header, then one line per row, in the order
    given, with ``\\n`` line endings.

    Raises :class:`ValueError` naming the row (1-based) when a row is not valid: a
    malformed payout id, a payout id that is not ``program:period:household_id``, the
    same payout id twice, a negative or non-integer amount, or a blank text field.
    """
    return _write(CREDIT_INSTRUCTION_COLUMNS, _credit_instruction_fields(rows))


def write_bank_result(rows: Iterable[BankResultLine]) -> str:
    """Write a bank result file that :func:`parse_bank_result` reads back to ``rows``.

    Rows are written in the order given (``line`` is ignored), timestamps in UTC with a
    ``Z`` suffix, ``\\n`` line endings. Raises :class:`ValueError` naming the row
    (1-based) when a row would not parse back. The same payout id may appear twice (to
    produce files with duplicates).
    """
    return _write(BANK_RESULT_COLUMNS, _bank_result_fields(rows))


def write_settlement(rows: Iterable[SettlementLine]) -> str:
    """Write a settlement file that :func:`parse_settlement` reads back to ``rows``.

    Rows are written in the order given (``line`` is ignored), ``None`` collection codes
    as empty fields, timestamps in UTC with a ``Z`` suffix, ``\\n`` line endings. Raises
    :class:`ValueError` naming the row (1-based) when a row would not parse back. The same
    payout id may appear twice (to produce files with duplicates).
    """
    return _write(SETTLEMENT_COLUMNS, _settlement_fields(rows))


def _write(columns: tuple[str, ...], rows: Iterable[Sequence[str]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows(rows)
    return out.getvalue()


def _credit_instruction_fields(rows: Iterable[CreditInstruction]) -> Iterator[Sequence[str]]:
    seen: dict[str, int] = {}
    for index, row in enumerate(rows, start=1):
        problems: list[str] = []
        derived = f"{row.program}:{row.period}:{row.household_id}"
        problem = _payout_id_problem(row.payout_id)
        if problem is not None:
            problems.append(problem)
        elif row.payout_id != derived:
            problems.append(
                f"payout_id does not match program:period:household_id ({_show(derived)})"
            )
        elif row.payout_id in seen:
            problems.append(f"payout_id is a duplicate of row {seen[row.payout_id]}")
        amount = _amount_text(row.amount, problems)
        _amount(amount, problems)
        _text("bank", row.bank, problems)
        _text("village", row.village, problems)
        _raise_row(index, row.payout_id, problems)
        seen[row.payout_id] = index
        yield (
            row.payout_id,
            row.household_id,
            row.bank,
            amount,
            row.program,
            row.period,
            row.village,
        )


def _bank_result_fields(rows: Iterable[BankResultLine]) -> Iterator[Sequence[str]]:
    for index, row in enumerate(rows, start=1):
        problems: list[str] = []
        if row.credited and row.reason is not None:
            problems.append("reason must be None when credited")
        fields = (
            row.payout_id,
            _amount_text(row.amount, problems),
            _CREDITED if row.credited else _REJECTED,
            "" if row.reason is None else str(row.reason),
            row.bank_reference,
            _timestamp_text("processed_at", row.processed_at, problems),
        )
        _check_row(index, fields, problems, _bank_result_line)
        yield fields


def _settlement_fields(rows: Iterable[SettlementLine]) -> Iterator[Sequence[str]]:
    for index, row in enumerate(rows, start=1):
        problems: list[str] = []
        if row.collection_code == "":
            problems.append("collection_code is empty; use None for a line without a code")
        fields = (
            row.payout_id,
            row.collection_code or "",
            _amount_text(row.amount, problems),
            row.channel_reference,
            _timestamp_text("paid_at", row.paid_at, problems),
        )
        _check_row(index, fields, problems, _settlement_line)
        yield fields


def _check_row(
    index: int, fields: Sequence[str], problems: list[str], build: _RowBuilder[_T]
) -> None:
    """Raise unless ``fields`` parse back (``problems`` holds the writer's own findings)."""
    payout_problem = _payout_id_problem(fields[0])
    if payout_problem is not None:
        problems.append(payout_problem)
    build(0, fields, problems)
    _raise_row(index, fields[0], problems)


def _raise_row(index: int, payout_id: str, problems: list[str]) -> None:
    if problems:
        raise ValueError(f"row {index} (payout {_show(payout_id)}): {'; '.join(problems)}")


def _amount_text(amount: int, problems: list[str]) -> str:
    if isinstance(amount, bool) or not isinstance(amount, int):
        problems.append(f"amount must be an int, not {type(amount).__name__}")
        return "0"
    return str(amount)


def _timestamp_text(column: str, value: datetime, problems: list[str]) -> str:
    if not isinstance(value, datetime):
        problems.append(f"{column} must be a datetime, not {type(value).__name__}")
    elif value.utcoffset() is None:
        problems.append(f"{column} has no UTC offset")
    else:
        try:
            return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
        except OverflowError:
            problems.append(f"{column} is out of range in UTC")
    return "2000-01-01T00:00:00Z"
