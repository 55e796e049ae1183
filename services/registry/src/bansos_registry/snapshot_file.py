"""Reading and validating a DTSEN snapshot file (ARCHITECTURE.md, "DTSEN snapshot file").

Two passes over the file:

1. :func:`check_file` reads the whole file once, fast and in little memory: it refuses
   a malformed file outright (:class:`SnapshotFileError`: header, encoding, CSV
   structure, no data) and finds *data ganda* (one head NIK or one household id on
   several rows), keeping only 8-byte keys per row.
2. :func:`read_rows` streams the rows in file order and yields, for each data line, a
   :class:`SnapshotRow` or one :class:`Rejection` that gives the line, the column and
   every reason found in the row.

Rejection reasons go into rejects reports and logs, so they never quote a NIK, KK or KKS
number or a name: only region codes, program and column names and line numbers.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import re
from array import array
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Final

from bansos_registry.regions import LEVEL_NAMES, RegionRegister, nik_problem

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

__all__ = [
    "BANKS",
    "COLUMNS",
    "PROGRAMS",
    "ROW",
    "FileCheck",
    "Rejection",
    "SnapshotFileError",
    "SnapshotRow",
    "check_file",
    "read_rows",
]

#: The columns of a snapshot file, in the documented order.
COLUMNS: Final[tuple[str, ...]] = (
    "household_id",
    "kk_number",
    "head_nik",
    "head_name",
    "province_code",
    "regency_code",
    "district_code",
    "village_code",
    "address",
    "member_count",
    "decile",
    "per_capita_income",
    "has_elderly",
    "has_disability",
    "has_child_under6",
    "has_school_child",
    "has_pregnant",
    "pbi_jkn",
    "programs",
    "kks_number",
    "bank",
)
_COLUMN_SET: Final = frozenset(COLUMNS)
#: The ``column`` of a rejection that is about the whole line (empty line, field count).
ROW: Final = "row"
#: Canonical program names.
PROGRAMS: Final[frozenset[str]] = frozenset({"PKH", "BPNT", "PBI_JKN", "BLTS_KESRA"})
#: KKS banks (Himbara).
BANKS: Final[frozenset[str]] = frozenset({"BNI", "BRI", "MANDIRI", "BSI"})

#: Limits of the free-text and number fields.
MAX_HEAD_NAME: Final = 200
MAX_ADDRESS: Final = 500
MAX_MEMBERS: Final = 50
MAX_INCOME: Final = 999_999_999_999  # rupiah a month per person

_PROGRAM_SPELLINGS: Final[Mapping[str, str]] = {
    "PKH": "PKH",
    "BPNT": "BPNT",
    "SEMBAKO": "BPNT",
    "PBI_JKN": "PBI_JKN",
    "PBI-JKN": "PBI_JKN",
    "BLTS_KESRA": "BLTS_KESRA",
    "BLTS-KESRA": "BLTS_KESRA",
}
_FLAGS: Final[Mapping[str, bool]] = {"0": False, "1": True}
_SMALL_NUMBERS: Final[Mapping[str, int]] = {str(number): number for number in range(100)}
_FLAG_COLUMNS: Final = (
    "has_elderly",
    "has_disability",
    "has_child_under6",
    "has_school_child",
    "has_pregnant",
    "pbi_jkn",
)
_REGION_COLUMNS: Final = ("province_code", "regency_code", "district_code", "village_code")

_HOUSEHOLD_ID: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")
_DIGITS_16: Final = re.compile(r"[0-9]{16}")
_WHOLE_NUMBER: Final = re.compile(r"[0-9]{1,15}")
_CODE_SHAPE: Final = re.compile(r"[0-9]{2}(?:\.[0-9]{2}(?:\.[0-9]{2}(?:\.[0-9]{4})?)?)?")
_CONTROL: Final = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
# A name worth quoting in an error: looks like a column name, holds no long number.
_HEADER_NAME: Final = re.compile(r"(?!.*[0-9]{5})[a-z_][a-z0-9_]{0,39}")

_READ_BUFFER: Final = 1 << 16
_LINES_SHOWN: Final = 5


class SnapshotFileError(ValueError):
    """The whole file is refused: nothing in it may be imported. The message says why."""


@dataclass(frozen=True, slots=True)
class SnapshotRow:
    """One valid household row of a snapshot, with its fields parsed and canonical.

    ``line`` is the 1-based physical line where the row starts (the header is line 1).
    ``programs`` holds canonical names (``PKH``, ``BPNT``, ``PBI_JKN``, ``BLTS_KESRA``),
    sorted; ``kks_number`` and ``bank`` are both None or both set.
    """

    line: int
    household_id: str
    kk_number: str
    head_nik: str
    head_name: str
    province_code: str
    regency_code: str
    district_code: str
    village_code: str
    address: str
    member_count: int
    decile: int
    per_capita_income: int
    has_elderly: bool
    has_disability: bool
    has_child_under6: bool
    has_school_child: bool
    has_pregnant: bool
    pbi_jkn: bool
    programs: tuple[str, ...]
    kks_number: str | None
    bank: str | None

    @property
    def fingerprint(self) -> str:
        """A stable hex digest (BLAKE2b, 128 bits) of every field except ``line``.

        Equal for the same household data wherever it sits in the file, different when
        any field differs; the same in every process and Python version. Each value is
        length-prefixed, so no two different rows encode alike.
        """
        parts: list[str] = ["bansos.snapshot-row.v1"]
        for value in (
            self.household_id,
            self.kk_number,
            self.head_nik,
            self.head_name,
            self.province_code,
            self.regency_code,
            self.district_code,
            self.village_code,
            self.address,
            str(self.member_count),
            str(self.decile),
            str(self.per_capita_income),
            "1" if self.has_elderly else "0",
            "1" if self.has_disability else "0",
            "1" if self.has_child_under6 else "0",
            "1" if self.has_school_child else "0",
            "1" if self.has_pregnant else "0",
            "1" if self.pbi_jkn else "0",
            ";".join(self.programs),
            self.kks_number,
            self.bank,
        ):
            parts.append("-" if value is None else f"{len(value)}:{value}")
        payload = "|".join(parts).encode("utf-8", "surrogatepass")
        return hashlib.blake2b(payload, digest_size=16).hexdigest()


@dataclass(frozen=True, slots=True)
class Rejection:
    """A data line that is not imported.

    ``column`` is the column of the first problem (a name from :data:`COLUMNS`, or
    :data:`ROW` for the whole line); ``reason`` lists every problem found, joined by
    ``"; "``, each naming its column. Reasons never contain a NIK, KK or KKS number or a
    name. ``household_id`` is the row's household id when it is well-formed, else None.
    """

    line: int
    column: str
    reason: str
    household_id: str | None


@dataclass(frozen=True, slots=True)
class FileCheck:
    """What :func:`check_file` learnt about a whole file.

    ``rows`` counts data lines, that is everything :func:`read_rows` will yield (blank
    lines in the middle count, trailing blank lines do not). ``duplicate_lines`` maps the
    line of every data ganda row to its reason. ``content_sha256`` is the hex SHA-256 of
    the file's bytes.
    """

    rows: int
    duplicate_lines: dict[int, str]
    content_sha256: str


# --------------------------------------------------------------------------- reading


class _HashingReader(io.RawIOBase):
    """A raw binary stream that hashes every byte read through it."""

    def __init__(self, raw: io.FileIO, path: Path) -> None:
        super().__init__()
        self._raw = raw
        self._path = path
        self._offset = 0
        self.sha256 = hashlib.sha256()

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        if not self.closed:
            self._raw.close()
        super().close()

    def readinto(self, buffer: WriteableBuffer, /) -> int | None:
        """Read like the file does; refuse the file at the first NUL byte (binary data)."""
        count = self._raw.readinto(buffer)
        if count:
            with memoryview(buffer) as view:
                data = view[:count].tobytes()
            self.sha256.update(data)
            nul = data.find(b"\x00")
            if nul >= 0:
                raise SnapshotFileError(_binary_message(self._path, self._offset + nul))
            self._offset += count
        return count


_UTF16: Final = "the file is UTF-16 text, not UTF-8: save it as UTF-8 CSV"


def _binary_message(path: Path, at: int) -> str:
    """Why a file with a NUL byte at offset ``at`` is refused."""
    with path.open("rb") as handle:
        before = handle.read(at)
    if before.startswith((b"\xff\xfe", b"\xfe\xff")):
        return _UTF16
    line = before.count(b"\n") + 1
    return f"the file is binary, not CSV text: NUL byte at byte {at} (line {line})"


@dataclass(frozen=True, slots=True)
class _Header:
    #: None when the columns are in the documented order; else, for each column of
    #: COLUMNS, its index in the file.
    order: tuple[int, ...] | None
    household_id_index: int


def _parse_header(fields: list[str]) -> _Header:
    """Map the header row to COLUMNS (any order, any case), or refuse the file.

    Unknown names are quoted only when they look like column names: a data row mistaken
    for a header must not put a NIK or a name into the error message.
    """
    names = [field.strip().lower() for field in fields]
    known = set(COLUMNS)
    recognised = len(known.intersection(names))
    if recognised * 2 < len(COLUMNS):
        raise SnapshotFileError(
            f"line 1 is not the header row (only {recognised} of its {len(names)} fields "
            f"are column names); the first line must be: {','.join(COLUMNS)}"
        )
    seen: set[str] = set()
    duplicated: list[str] = []
    unknown: list[str] = []
    unnamed = 0
    for name in names:
        if name in seen and name not in duplicated and name in known:
            duplicated.append(name)
        seen.add(name)
        if name in known:
            continue
        if _HEADER_NAME.fullmatch(name):
            unknown.append(name)
        else:
            unnamed += 1
    if unnamed:
        unknown.append(f"{unnamed} empty or unreadable name{'s' if unnamed > 1 else ''}")
    missing = [column for column in COLUMNS if column not in seen]
    problems: list[str] = []
    if missing:
        problems.append(f"missing columns: {', '.join(missing)}")
    if unknown:
        problems.append(f"unknown columns: {', '.join(unknown)}")
    if duplicated:
        problems.append(f"duplicated columns: {', '.join(duplicated)}")
    if problems:
        raise SnapshotFileError(
            f"the header row is wrong: {'; '.join(problems)} "
            f"(expected exactly: {','.join(COLUMNS)})"
        )
    index = {name: i for i, name in enumerate(names)}
    order = tuple(index[column] for column in COLUMNS)
    return _Header(
        order=None if order == tuple(range(len(COLUMNS))) else order,
        household_id_index=index["household_id"],
    )


def _is_blank(record: list[str]) -> bool:
    return not record or (len(record) == 1 and not record[0].strip())


def _decode_failure(path: Path) -> str:
    """Say where and why the file is not UTF-8 text (the slow path, errors only)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    offset = 0  # bytes before the current chunk
    newlines = 0  # b"\n" before the current chunk
    with path.open("rb") as handle:
        if handle.read(2) in (b"\xff\xfe", b"\xfe\xff"):
            return _UTF16
        handle.seek(0)
        while True:
            chunk = handle.read(_READ_BUFFER)
            pending = len(decoder.getstate()[0])
            nul = chunk.find(b"\x00")
            try:
                decoder.decode(chunk, final=not chunk)
            except UnicodeDecodeError as error:
                at = offset - pending + error.start
                if nul < 0 or offset + nul > at:  # else the NUL comes first: binary
                    line = newlines + chunk.count(b"\n", 0, max(at - offset, 0)) + 1
                    return (
                        f"the file is not UTF-8: byte 0x{error.object[error.start]:02X} at "
                        f"byte {at} (line {line}) is not valid UTF-8; save the file as UTF-8 CSV"
                    )
            if nul >= 0:
                return _binary_message(path, offset + nul)
            if not chunk:
                return "the file is not UTF-8"
            offset += len(chunk)
            newlines += chunk.count(b"\n")


def _csv_failure(error: csv.Error, start: int, line: int) -> str:
    message = str(error)
    if "unexpected end of data" in message:
        return (
            f"unbalanced quotes: a quoted field in the record starting on line {start} "
            "is never closed"
        )
    if "field larger than field limit" in message:
        return (
            f"a field in the record starting on line {start} is longer than "
            f"{csv.field_size_limit()} characters (probably an unbalanced quote)"
        )
    if "expected after" in message:
        return (
            f"malformed quotes on line {line}: a closing quote must be followed by a comma "
            'or the end of the line (write a quote inside a quoted field as "")'
        )
    return f"not valid CSV on line {line}: {message}"


class _Source:
    """One pass over a snapshot file as CSV records, with the SHA-256 of its bytes."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._hashing = _HashingReader(io.FileIO(path, "r"), path)
        self._text = io.TextIOWrapper(
            io.BufferedReader(self._hashing, _READ_BUFFER),
            encoding="utf-8-sig",
            errors="strict",
            newline="",
        )
        self._reader = csv.reader(self._text, strict=True)
        self._end = 0  # physical line where the last record read ends

    def __enter__(self) -> _Source:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._text.close()

    def sha256(self) -> str:
        """The hex digest of every byte read so far (all of them once records() ended)."""
        return self._hashing.sha256.hexdigest()

    def _next(self) -> tuple[int, list[str]] | None:
        start = self._end + 1
        try:
            record = next(self._reader, None)
        except UnicodeDecodeError:
            raise SnapshotFileError(_decode_failure(self._path)) from None
        except csv.Error as error:
            message = _csv_failure(error, start, self._reader.line_num)
            raise SnapshotFileError(message) from None
        self._end = self._reader.line_num
        return None if record is None else (start, record)

    def header(self) -> _Header:
        """Read and check the header row, or refuse the file."""
        first = self._next()
        if first is None:
            raise SnapshotFileError("the file is empty: no header row")
        if _is_blank(first[1]):
            while (following := self._next()) is not None:
                if not _is_blank(following[1]):
                    raise SnapshotFileError(
                        f"line 1 is empty: the header row must be the first line "
                        f"(the first non-empty line is line {following[0]})"
                    )
            raise SnapshotFileError("the file is empty: no header row")
        return _parse_header(first[1])

    def records(self) -> Iterator[tuple[int, list[str] | None]]:
        """Each data line as (line, fields); fields is None for a blank line.

        Blank lines at the end of the file are not yielded.
        """
        reader = self._reader
        blank_from = 0
        blanks = 0
        try:
            for record in reader:
                line = self._end + 1
                self._end = reader.line_num
                if not record or (len(record) == 1 and not record[0].strip()):
                    if not blanks:
                        blank_from = line
                    blanks += 1
                    continue
                for offset in range(blanks):
                    yield blank_from + offset, None
                blanks = 0
                yield line, record
        except UnicodeDecodeError:
            raise SnapshotFileError(_decode_failure(self._path)) from None
        except csv.Error as error:
            message = _csv_failure(error, self._end + 1, reader.line_num)
            raise SnapshotFileError(message) from None


# --------------------------------------------------------------------------- data ganda


class _DuplicateFinder:
    """Finds 64-bit keys that occur on more than one line, in ~12 bytes per row.

    Keys and lines go into arrays; a bitmap marks the key hashes seen once and a second
    one those seen again. Only keys whose bit was seen twice (the real duplicates plus a
    few bitmap collisions) are grouped in a dict at the end.
    """

    def __init__(self, expected_rows: int) -> None:
        bits = 1 << 16
        while bits < expected_rows * 16 and bits < 1 << 28:
            bits <<= 1
        self._shift = 64 - (bits.bit_length() - 1)
        self._seen = bytearray(bits // 8)
        self._again = bytearray(bits // 8)
        self._keys = array("q")
        self._lines = array("I")

    def _slot(self, key: int) -> int:
        return ((key * 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF) >> self._shift

    def add(self, key: int, line: int) -> None:
        """Record that ``key`` (a signed 64-bit integer) occurs on ``line``."""
        self._keys.append(key)
        self._lines.append(line)
        slot = self._slot(key)
        byte, bit = slot >> 3, 1 << (slot & 7)
        if self._seen[byte] & bit:
            self._again[byte] |= bit
        else:
            self._seen[byte] |= bit

    def groups(self) -> list[list[int]]:
        """The lines of every key that occurs more than once, each list ascending."""
        candidates: dict[int, list[int]] = {}
        again = self._again
        for key, line in zip(self._keys, self._lines, strict=True):
            slot = self._slot(key)
            if again[slot >> 3] & (1 << (slot & 7)):
                candidates.setdefault(key, []).append(line)
        return [lines for lines in candidates.values() if len(lines) > 1]


def _lines_phrase(lines: list[int]) -> str:
    if len(lines) == 1:
        return f"line {lines[0]}"
    shown = ", ".join(str(line) for line in lines[:_LINES_SHOWN])
    if len(lines) > _LINES_SHOWN:
        return f"lines {shown} and {len(lines) - _LINES_SHOWN} more"
    head, _, last = shown.rpartition(", ")
    return f"lines {head} and {last}"


def _note_duplicates(groups: list[list[int]], template: str, notes: dict[int, list[str]]) -> None:
    for lines in groups:
        for line in lines:
            others = [other for other in lines if other != line]
            notes.setdefault(line, []).append(template.format(lines=_lines_phrase(others)))


def check_file(path: Path) -> FileCheck:
    """First pass: refuse a malformed file, count rows and find data ganda.

    Raises :class:`SnapshotFileError` when the header is wrong (missing, unknown or
    duplicated columns, named), the file is not UTF-8 (byte and line given), is binary or
    not CSV (unbalanced quotes, with the line), is empty or has no data rows. Rows whose
    head NIK or household id also occurs on another row are all listed in
    ``duplicate_lines``, each naming the other lines. Memory: about 24 bytes per row.
    """
    size = path.stat().st_size
    nik_finder = _DuplicateFinder(size // 128)
    household_finder = _DuplicateFinder(size // 128)
    rows = 0
    with _Source(path) as source:
        header = source.header()
        order = header.order
        width = len(COLUMNS)
        at_id = order[COLUMNS.index("household_id")] if order else 0
        at_nik = order[COLUMNS.index("head_nik")] if order else 2
        household_id_shape = _HOUSEHOLD_ID.fullmatch
        for line, record in source.records():
            rows += 1
            if record is None or len(record) != width:
                continue
            household_id = record[at_id].strip()
            if household_id_shape(household_id):
                household_finder.add(hash(household_id), line)
            nik = record[at_nik].strip()
            if len(nik) == 16 and nik.isascii() and nik.isdigit():
                nik_finder.add(int(nik), line)
        digest = source.sha256()
    if rows == 0:
        raise SnapshotFileError("the file has a header row but no data rows")
    notes: dict[int, list[str]] = {}
    _note_duplicates(
        household_finder.groups(), "household_id also appears on {lines} (data ganda)", notes
    )
    _note_duplicates(
        nik_finder.groups(), "head_nik also heads the household on {lines} (data ganda)", notes
    )
    duplicates = {line: "; ".join(reasons) for line, reasons in sorted(notes.items())}
    return FileCheck(rows=rows, duplicate_lines=duplicates, content_sha256=digest)


# --------------------------------------------------------------------------- rows


class _Invalid:
    """A field that did not parse; ``reason`` names the column."""

    __slots__ = ("reason",)

    def __init__(self, reason: str) -> None:
        self.reason = reason


def _parse_programs(text: str) -> tuple[str, ...] | _Invalid:
    """The canonical programs of a ``programs`` field; cached for short values."""
    return _parse_programs_cached(text) if len(text) <= 64 else _parse_programs_uncached(text)


def _parse_programs_uncached(text: str) -> tuple[str, ...] | _Invalid:
    if not text:
        return ()
    found: list[str] = []
    for item in text.split(";"):
        name = item.strip()
        if not name:
            return _Invalid("programs has an empty entry (a stray ';')")
        canonical = _PROGRAM_SPELLINGS.get(name.upper()) if name.isascii() else None
        if canonical is None:
            return _Invalid(
                "programs has an unknown program (known: PKH, BPNT or SEMBAKO, "
                "PBI_JKN or PBI-JKN, BLTS_KESRA or BLTS-KESRA)"
            )
        if canonical in found:
            return _Invalid(f"programs lists {canonical} more than once")
        found.append(canonical)
    return tuple(sorted(found))


_parse_programs_cached = lru_cache(maxsize=512)(_parse_programs_uncached)


def _whole_number(text: str, low: int, high: int) -> int | None:
    """``text`` as an integer in [low, high]: ASCII digits only (no sign, separator, "_")."""
    value = _SMALL_NUMBERS.get(text)
    if value is None:
        if _WHOLE_NUMBER.fullmatch(text) is None:
            return None
        value = int(text)
    return value if low <= value <= high else None


def _text_problem(column: str, text: str, limit: int) -> str:
    """Why a free-text field (known to be bad) is bad."""
    if not text:
        return f"{column} is empty"
    if len(text) > limit:
        return f"{column} is longer than {limit} characters"
    return f"{column} contains control characters (line breaks, tabs)"


_Problem = tuple[str, str]


class _RowValidator:
    """Turns one data line into a SnapshotRow or a Rejection."""

    def __init__(
        self, register: RegionRegister, regency: str | None, duplicates: Mapping[int, str]
    ) -> None:
        self._register = register
        self._regency = regency
        self._duplicates = duplicates
        self._regions: dict[tuple[str, str, str, str], tuple[_Problem, ...]] = {}

    def wrong_width(self, line: int, record: list[str], header: _Header) -> Rejection:
        at = header.household_id_index
        candidate = record[at].strip() if at < len(record) else ""
        return Rejection(
            line,
            ROW,
            f"wrong number of fields: {len(record)}, expected {len(COLUMNS)}",
            candidate if _HOUSEHOLD_ID.fullmatch(candidate) else None,
        )

    def _region_problems(
        self, province: str, regency: str, district: str, village: str
    ) -> tuple[_Problem, ...]:
        key = (province, regency, district, village)
        cached = self._regions.get(key)
        if cached is not None:
            return cached
        result = self._find_region_problems(key)
        if max(map(len, key)) <= 13:  # only well-shaped codes are worth keeping
            if len(self._regions) >= 100_000:
                self._regions.clear()
            self._regions[key] = result
        return result

    def _find_region_problems(self, key: tuple[str, str, str, str]) -> tuple[_Problem, ...]:
        province, regency, district, village = key
        problems: list[_Problem] = []
        for level, (column, code) in enumerate(zip(_REGION_COLUMNS, key, strict=True), 1):
            if not code:
                problems.append((column, f"{column} is empty"))
            elif _CODE_SHAPE.fullmatch(code) is None:
                problems.append((column, f"{column} is not a Kemendagri code like 35.17.01.2001"))
            else:
                actual = self._register.level(code)
                if actual is None:
                    problems.append((column, f"{column} {code} does not exist"))
                elif actual != level:
                    problems.append(
                        (
                            column,
                            f"{column} {code} is a {LEVEL_NAMES[actual]} code, "
                            f"not a {LEVEL_NAMES[level]} code",
                        )
                    )
        if not problems:
            nesting = self._register.nesting_problem(province, regency, district, village)
            if nesting is not None:
                column = f"{nesting.level}_code"
                problems.append((column, column + nesting.reason[len(nesting.level) :]))
        regency_ok = all(column != "regency_code" for column, _ in problems)
        if regency_ok and self._regency is not None and regency != self._regency:
            problems.append(
                (
                    "regency_code",
                    f"regency_code {regency} is not the regency being imported ({self._regency})",
                )
            )
        return tuple(problems)

    def validate(self, line: int, fields: list[str]) -> SnapshotRow | Rejection:
        """Validate a line with exactly one (stripped) field per column, in COLUMNS order."""
        (
            household_id,
            kk_number,
            head_nik,
            head_name,
            province,
            regency,
            district,
            village,
            address,
            member_text,
            decile_text,
            income_text,
            *flag_texts,
            programs_text,
            kks_text,
            bank_text,
        ) = fields
        problems: list[_Problem] = []
        duplicate = self._duplicates.get(line)
        if duplicate is not None:  # its first word is the column (see check_file)
            column = duplicate.partition(" ")[0]
            problems.append((column if column in _COLUMN_SET else ROW, duplicate))

        household_ok = _HOUSEHOLD_ID.fullmatch(household_id) is not None
        if not household_ok:
            problems.append(
                (
                    "household_id",
                    "household_id is empty"
                    if not household_id
                    else "household_id must be 1-128 letters, digits or . _ : - "
                    "and start with a letter or digit",
                )
            )
        if _DIGITS_16.fullmatch(kk_number) is None:
            problems.append(("kk_number", "kk_number is not 16 digits"))
        if _DIGITS_16.fullmatch(head_nik) is None:
            problems.append(("head_nik", "head_nik is not 16 digits"))
        else:
            nik = nik_problem(head_nik, self._register, redact=True)
            if nik is not None:
                problems.append(("head_nik", "head_nik" + nik.removeprefix("NIK")))
        if not head_name or len(head_name) > MAX_HEAD_NAME or _CONTROL.search(head_name):
            problems.append(("head_name", _text_problem("head_name", head_name, MAX_HEAD_NAME)))
        problems.extend(self._region_problems(province, regency, district, village))
        if not address or len(address) > MAX_ADDRESS or _CONTROL.search(address):
            problems.append(("address", _text_problem("address", address, MAX_ADDRESS)))

        member_count = _whole_number(member_text, 1, MAX_MEMBERS)
        if member_count is None:
            problems.append(
                ("member_count", f"member_count must be a whole number from 1 to {MAX_MEMBERS}")
            )
        decile = _whole_number(decile_text, 1, 10)
        if decile is None:
            problems.append(("decile", "decile must be a whole number from 1 to 10"))
        income = _whole_number(income_text, 0, MAX_INCOME)
        if income is None:
            problems.append(
                (
                    "per_capita_income",
                    f"per_capita_income must be whole rupiah from 0 to {MAX_INCOME} "
                    "without separators or decimals",
                )
            )
        flags = [_FLAGS.get(text) for text in flag_texts]
        if None in flags:
            for column, flag in zip(_FLAG_COLUMNS, flags, strict=True):
                if flag is None:
                    problems.append((column, f"{column} must be 0 or 1"))

        programs = _parse_programs(programs_text)
        if isinstance(programs, _Invalid):
            problems.append(("programs", programs.reason))

        kks_number: str | None = kks_text or None
        if kks_number is not None and _DIGITS_16.fullmatch(kks_number) is None:
            problems.append(("kks_number", "kks_number is not 16 digits"))
        bank: str | None = bank_text.upper() if bank_text else None
        bank_ok = bank is None or (bank_text.isascii() and bank in BANKS)
        if not bank_ok:
            problems.append(("bank", "bank is not one of BNI, BRI, MANDIRI, BSI"))
        elif kks_number is not None and bank is None:
            problems.append(("kks_number", "kks_number is given without a bank"))
        elif bank is not None and kks_number is None:
            problems.append(("bank", "bank is given without a kks_number"))

        if problems:
            return Rejection(
                line,
                problems[0][0],
                "; ".join(reason for _, reason in problems),
                household_id if household_ok else None,
            )
        assert member_count is not None and decile is not None and income is not None
        assert not isinstance(programs, _Invalid)
        elderly, disability, child_under6, school_child, pregnant, pbi_jkn = flags
        assert elderly is not None and disability is not None and child_under6 is not None
        assert school_child is not None and pregnant is not None and pbi_jkn is not None
        return SnapshotRow(  # positional (faster): the order of the fields
            line,
            household_id,
            kk_number,
            head_nik,
            head_name,
            province,
            regency,
            district,
            village,
            address,
            member_count,
            decile,
            income,
            elderly,
            disability,
            child_under6,
            school_child,
            pregnant,
            pbi_jkn,
            programs,
            kks_number,
            bank,
        )


def read_rows(
    path: Path,
    check: FileCheck,
    register: RegionRegister,
    *,
    regency: str | None = None,
) -> Iterator[SnapshotRow | Rejection]:
    """Second pass: yield a SnapshotRow or a Rejection for every data line, in file order.

    ``check`` is :func:`check_file`'s result for this file: its data ganda rows are
    rejected. With ``regency`` (``"35.17"``), rows of another regency are rejected. Exactly
    ``check.rows`` items are yielded, one row at a time. Raises :class:`SnapshotFileError`
    if the file is malformed or, after the last row, if it changed since ``check_file``
    (different SHA-256 or row count): the caller must then discard what it read.
    Raises ValueError when ``regency`` is not a regency of the register.
    """
    if regency is not None and register.level(regency) != 2:
        raise ValueError(f"{regency!r} is not a regency code in the region register")
    validator = _RowValidator(register, regency, check.duplicate_lines)
    width = len(COLUMNS)
    rows = 0
    with _Source(path) as source:
        header = source.header()
        order = header.order
        for line, record in source.records():
            rows += 1
            if record is None:
                yield Rejection(line, ROW, "empty line", None)
            elif len(record) != width:
                yield validator.wrong_width(line, record, header)
            else:
                fields = list(map(str.strip, record))
                if order is not None:
                    fields = [fields[i] for i in order]
                yield validator.validate(line, fields)
        digest = source.sha256()
    if digest != check.content_sha256 or rows != check.rows:
        raise SnapshotFileError(
            "the file changed since check_file (its content hash or row count differs); "
            "check and read it again"
        )
