"""Payout schedules as data: when and where households collect, per program period.

A :class:`Schedule` is read from one YAML file per program period in
``bansos_payout/schedules/`` (:data:`SCHEDULES_DIR`). It lists the collection windows
(kind, first and last day, place) and the reconciliation days as *local dates* in the
schedule's timezone, and lets a regency (a 2-level Kemendagri code such as ``33.20``)
override its own windows and reconciliation.

Dates are inclusive: a window ``from: 2025-11-22`` ``to: 2025-11-30`` in ``Asia/Jakarta``
opens at local midnight of 22 November (``2025-11-21T17:00Z``) and closes at local
midnight after 30 November (``2025-11-30T17:00Z``). Places may name the household's
``{village}``, ``{district}`` or ``{regency}`` code.

The module is pure: it reads files and computes, nothing else.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from bansos_contracts.enums import Program, WindowKind
from bansos_contracts.payout import CollectionWindow
from bansos_contracts.values import period_bounds

__all__ = [
    "SCHEDULES_DIR",
    "Reconciliation",
    "RegencySchedule",
    "Schedule",
    "ScheduleError",
    "WindowRule",
    "district_of",
    "load_schedule",
    "load_schedules",
    "parse_schedule",
    "regency_of",
]

SCHEDULES_DIR = Path(__file__).parent / "schedules"
"""The folder of the shipped schedule files."""

_VILLAGE_RE = re.compile(r"^[0-9]{2}\.[0-9]{2}\.[0-9]{2}\.[0-9]{4}$")
_REGENCY_RE = re.compile(r"^[0-9]{2}\.[0-9]{2}$")
_PLACEHOLDERS = frozenset({"village", "district", "regency"})
_SAMPLE_VILLAGE = "99.99.99.9999"  # every code of a level has the same length
_PLACE_MAX = 256  # CollectionWindow.place


def _village(village: str) -> str:
    if not isinstance(village, str) or _VILLAGE_RE.fullmatch(village) is None:
        raise ValueError(f"{village!r} is not a Kemendagri village code like 35.17.01.2001")
    return village


def regency_of(village: str) -> str:
    """The regency (kabupaten/kota) code of a village: ``35.17.01.2001`` → ``35.17``.

    Raises :class:`ValueError` naming ``village`` when it is not a village code.
    """
    return _village(village)[:5]


def district_of(village: str) -> str:
    """The district (kecamatan) code of a village: ``35.17.01.2001`` → ``35.17.01``.

    Raises :class:`ValueError` naming ``village`` when it is not a village code.
    """
    return _village(village)[:8]


def _local_midnight(day: date, zone: ZoneInfo) -> datetime:
    """The start of ``day`` in ``zone``, as a UTC instant."""
    return datetime.combine(day, time(), tzinfo=zone).astimezone(UTC)


class _Frozen(BaseModel):
    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        validate_by_alias=True,
        validate_by_name=True,
        serialize_by_alias=True,
    )


class WindowRule(_Frozen):
    """One collection window as written in a schedule: local dates, inclusive."""

    kind: WindowKind
    """What kind of place."""
    from_: date = Field(alias="from")
    """First day (local date)."""
    to: date
    """Last day (local date), inclusive."""
    place: str = Field(min_length=1)
    """Where; may contain ``{village}``, ``{district}`` and ``{regency}``."""

    @field_validator("place")
    @classmethod
    def _placeholders(cls, place: str) -> str:
        try:
            fields = list(string.Formatter().parse(place))
        except ValueError as error:
            raise ValueError(f"place {place!r} is not a valid template: {error}") from None
        for _, name, spec, conversion in fields:
            if name is None:
                continue
            if name not in _PLACEHOLDERS or spec or conversion:
                raise ValueError(
                    f"place {place!r}: unknown placeholder {{{name}}}"
                    " (use {village}, {district} or {regency})"
                )
        longest = _format_place(place, _SAMPLE_VILLAGE)
        if len(longest) > _PLACE_MAX:
            raise ValueError(f"place {place!r} is longer than {_PLACE_MAX} characters when filled")
        return place

    @model_validator(mode="after")
    def _ordered(self) -> WindowRule:
        if self.to < self.from_:
            raise ValueError(
                f"window {self.kind.value} at {self.place!r}: to {self.to} is before"
                f" from {self.from_}"
            )
        return self

    def place_for(self, village: str) -> str:
        """The place with the village's codes filled in."""
        return _format_place(self.place, _village(village))


def _format_place(place: str, village: str) -> str:
    return place.format(village=village, district=village[:8], regency=village[:5])


class Reconciliation(_Frozen):
    """The days on which a period's payouts are reconciled: local dates, inclusive."""

    from_: date = Field(alias="from")
    """First day (local date)."""
    to: date
    """Last day (local date), inclusive."""

    @model_validator(mode="after")
    def _ordered(self) -> Reconciliation:
        if self.to < self.from_:
            raise ValueError(f"reconciliation: to {self.to} is before from {self.from_}")
        return self


Windows = Annotated[tuple[WindowRule, ...], Field(min_length=1)]


class RegencySchedule(_Frozen):
    """A regency's own windows and/or reconciliation, replacing the schedule's defaults."""

    windows: Windows | None = None
    """The regency's windows, replacing (not adding to) the default ones."""
    reconciliation: Reconciliation | None = None
    """The regency's reconciliation days, replacing the default ones."""


class Schedule(_Frozen):
    """The collection windows and reconciliation of one program period.

    Load it with :func:`load_schedule` (or :func:`parse_schedule`); every method answers
    in UTC.
    """

    program: Program
    period: str
    """The months covered, ``YYYY-MM..YYYY-MM``."""
    timezone: str = "Asia/Jakarta"
    """The IANA timezone the dates are local to."""
    windows: Windows
    """The default windows, in order."""
    reconciliation: Reconciliation
    """The default reconciliation days."""
    regencies: dict[str, RegencySchedule] = {}
    """Overrides by regency code (``33.20``)."""
    sources: tuple[str, ...] = ()
    """Where the dates come from."""

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown timezone {value!r} (e.g. Asia/Jakarta)") from None
        return value

    @field_validator("period")
    @classmethod
    def _valid_period(cls, value: str) -> str:
        period_bounds(value)
        return value

    @field_validator("regencies")
    @classmethod
    def _regency_codes(cls, value: dict[str, RegencySchedule]) -> dict[str, RegencySchedule]:
        bad = [key for key in value if _REGENCY_RE.fullmatch(key) is None]
        if bad:
            keys = ", ".join(repr(key) for key in bad)
            raise ValueError(f"{keys}: not a 2-level Kemendagri regency code like '33.20'")
        return value

    @model_validator(mode="after")
    def _reconciled_after_windows(self) -> Schedule:
        problems: list[str] = []
        plans: list[tuple[str, tuple[WindowRule, ...], Reconciliation]] = [
            ("", self.windows, self.reconciliation)
        ]
        for code, override in self.regencies.items():
            plans.append(
                (
                    f"regencies.{code}: ",
                    override.windows or self.windows,
                    override.reconciliation or self.reconciliation,
                )
            )
        for prefix, windows, reconciliation in plans:
            last = max(window.to for window in windows)
            if reconciliation.from_ <= last:
                problems.append(
                    f"{prefix}reconciliation starts {reconciliation.from_}, before the last"
                    f" window ends ({last}); it must start on {last + timedelta(days=1)}"
                    " or later"
                )
        if problems:
            raise ValueError("\n".join(problems))  # one problem a line (see _problems)
        return self

    @property
    def key(self) -> tuple[str, str]:
        """``(program, period)``, e.g. ``("BLTS_KESRA", "2025-10..2025-12")``."""
        return (self.program.value, self.period)

    @property
    def zone(self) -> ZoneInfo:
        """The timezone the dates are local to."""
        return ZoneInfo(self.timezone)

    def _override(self, village: str) -> RegencySchedule | None:
        return self.regencies.get(regency_of(village))

    def rules_for(self, village: str) -> tuple[WindowRule, ...]:
        """The window rules that apply to ``village`` (its regency's, or the defaults)."""
        override = self._override(village)
        if override is not None and override.windows is not None:
            return override.windows
        return self.windows

    def windows_for(self, village: str) -> tuple[CollectionWindow, ...]:
        """The collection windows of a household in ``village`` (e.g. ``35.17.01.2001``).

        Opening is local midnight of the first day, closing local midnight after the last
        day, both in UTC; places are filled with the village, district and regency codes.
        Raises :class:`ValueError` when ``village`` is not a village code.
        """
        zone = self.zone
        return tuple(
            CollectionWindow(
                kind=rule.kind,
                starts_at=_local_midnight(rule.from_, zone),
                ends_at=_local_midnight(rule.to + timedelta(days=1), zone),
                place=rule.place_for(village),
            )
            for rule in self.rules_for(village)
        )

    def last_window_end(self, village: str) -> datetime:
        """When the last of ``village``'s collection windows closes (UTC)."""
        last = max(rule.to for rule in self.rules_for(village))
        return _local_midnight(last + timedelta(days=1), self.zone)

    def reconciliation_for(self, village: str) -> tuple[datetime, datetime]:
        """``(start, end)`` of ``village``'s reconciliation (UTC, end exclusive)."""
        override = self._override(village)
        reconciliation = self.reconciliation
        if override is not None and override.reconciliation is not None:
            reconciliation = override.reconciliation
        zone = self.zone
        return (
            _local_midnight(reconciliation.from_, zone),
            _local_midnight(reconciliation.to + timedelta(days=1), zone),
        )


class ScheduleError(ValueError):
    """A schedule file or folder that cannot be loaded; the message names it and each
    problem."""

    def __init__(self, source: str, problems: Iterable[str]) -> None:
        self.source = source
        self.problems = tuple(problems)
        if len(self.problems) == 1:
            message = f"{source}: {self.problems[0]}"
        else:
            lines = "".join(f"\n  - {problem}" for problem in self.problems)
            message = f"{source}: invalid schedule:{lines}"
        super().__init__(message)


def _location(loc: tuple[int | str, ...]) -> str:
    """``("windows", 1, "to")`` → ``windows[1].to``."""
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        elif part == "[key]":
            text += " (key)"
        else:
            text += f".{part}" if text else str(part)
    return text


def _problems(error: ValidationError) -> list[str]:
    problems: list[str] = []
    for item in error.errors():
        loc = item["loc"]
        message = item["msg"].removeprefix("Value error, ")
        if item["type"] == "extra_forbidden":
            message = "unknown field"
        elif item["type"] == "missing":
            message = "required field is missing"
        if not loc:  # the schedule's own checks, one problem a line
            problems.extend(message.splitlines())
            continue
        problems.append(f"{_location(loc)}: {message}")
    return problems


def parse_schedule(data: object, source: str = "<schedule>") -> Schedule:
    """Validate parsed YAML content as a schedule; errors name ``source`` and the field."""
    if not isinstance(data, Mapping):
        got = "nothing" if data is None else type(data).__name__
        raise ScheduleError(source, [f"expected a mapping at the top, got {got}"])
    try:
        return Schedule.model_validate(data)
    except ValidationError as error:
        raise ScheduleError(source, _problems(error)) from None


def load_schedule(path: Path) -> Schedule:
    """Load one schedule file (YAML). Raises :class:`ScheduleError` naming the file."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ScheduleError(str(path), [f"cannot read the file: {error}"]) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise ScheduleError(str(path), [f"not valid YAML: {error}"]) from None
    return parse_schedule(data, str(path))


def load_schedules(folder: Path) -> dict[tuple[str, str], Schedule]:
    """Load every ``*.yaml`` file of ``folder``, by ``(program, period)``.

    Raises :class:`ScheduleError` when the folder is missing or holds no schedule, when a
    file is invalid, or when two files schedule the same program period (naming both).
    """
    if not folder.is_dir():
        raise ScheduleError(str(folder), ["no such schedule folder"])
    files = sorted(folder.glob("*.yaml"))
    if not files:
        raise ScheduleError(str(folder), ["no schedule files (*.yaml) in the folder"])
    schedules: dict[tuple[str, str], Schedule] = {}
    origin: dict[tuple[str, str], Path] = {}
    for path in files:
        schedule = load_schedule(path)
        if schedule.key in origin:
            program, period = schedule.key
            raise ScheduleError(
                str(path), [f"{program} {period} is also scheduled in {origin[schedule.key]}"]
            )
        schedules[schedule.key] = schedule
        origin[schedule.key] = path
    return schedules
