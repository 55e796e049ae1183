"""Payout schedules: the shipped file loads, windows come out in UTC, broken files say why."""

from __future__ import annotations

import copy
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from bansos_contracts.enums import Program, WindowKind
from bansos_payout.schedule import (
    SCHEDULES_DIR,
    Schedule,
    ScheduleError,
    WindowRule,
    district_of,
    load_schedule,
    load_schedules,
    parse_schedule,
    regency_of,
)

SHIPPED_FILE = SCHEDULES_DIR / "blts-kesra-2025-10..2025-12.yaml"
JOMBANG = "35.17.01.2001"
JEPARA = "33.20.01.2001"


def utc(year: int, month: int, day: int, hour: int = 0) -> datetime:
    return datetime(year, month, day, hour, tzinfo=UTC)


@pytest.fixture(scope="module")
def shipped() -> Schedule:
    return load_schedule(SHIPPED_FILE)


@pytest.fixture
def data() -> dict[str, Any]:
    """The shipped file's content, to break in one place."""
    loaded = yaml.safe_load(SHIPPED_FILE.read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return copy.deepcopy(loaded)


def problem_of(data: object) -> str:
    with pytest.raises(ScheduleError) as caught:
        parse_schedule(data, "broken.yaml")
    message = str(caught.value)
    assert message.startswith("broken.yaml: ")
    return message


# --- the shipped schedule -------------------------------------------------------------


def test_shipped_file_loads(shipped: Schedule) -> None:
    assert shipped.program is Program.BLTS_KESRA
    assert shipped.period == "2025-10..2025-12"
    assert shipped.timezone == "Asia/Jakarta"
    assert shipped.key == ("BLTS_KESRA", "2025-10..2025-12")
    assert set(shipped.regencies) == {"33.20"}
    assert len(shipped.sources) == 2


def test_shipped_folder_loads(shipped: Schedule) -> None:
    schedules = load_schedules(SCHEDULES_DIR)
    assert schedules[("BLTS_KESRA", "2025-10..2025-12")] == shipped


def test_default_windows_in_utc(shipped: Schedule) -> None:
    community, post = shipped.windows_for(JOMBANG)
    assert community.kind is WindowKind.COMMUNITY_POINT
    assert community.starts_at == utc(2025, 11, 21, 17)  # 22 Nov 00:00 WIB
    assert community.ends_at == utc(2025, 11, 30, 17)  # end of 30 Nov WIB
    assert community.place == "Community point, village 35.17.01.2001"
    assert post.kind is WindowKind.POST_OFFICE
    assert post.starts_at == utc(2025, 11, 21, 17)
    assert post.ends_at == utc(2025, 12, 8, 17)  # end of 8 Dec WIB
    assert post.place == "Post office, district 35.17.01"
    assert community.starts_at.tzinfo is UTC
    assert shipped.last_window_end(JOMBANG) == utc(2025, 12, 8, 17)


def test_jepara_override(shipped: Schedule) -> None:
    windows = shipped.windows_for(JEPARA)
    assert [window.kind for window in windows] == [
        WindowKind.POST_OFFICE,
        WindowKind.COMMUNITY_POINT,
        WindowKind.POST_OFFICE,
    ]
    first, community, post = windows
    assert first.place == "Kantor Pos Jepara"
    assert (first.starts_at, first.ends_at) == (utc(2025, 11, 20, 17), utc(2025, 11, 21, 17))
    assert community.starts_at == utc(2025, 11, 24, 17)
    assert community.place == "Community point, village 33.20.01.2001"
    assert post.place == "Post office, district 33.20.01"
    assert shipped.last_window_end(JEPARA) == utc(2025, 12, 8, 17)


def test_reconciliation(shipped: Schedule) -> None:
    expected = (utc(2025, 12, 8, 17), utc(2025, 12, 11, 17))
    assert shipped.reconciliation_for(JOMBANG) == expected
    assert shipped.reconciliation_for(JEPARA) == expected  # Jepara keeps the default


def test_regency_reconciliation_override(data: dict[str, Any]) -> None:
    data["regencies"]["33.20"]["reconciliation"] = {
        "from": date(2025, 12, 10),
        "to": date(2025, 12, 12),
    }
    schedule = parse_schedule(data)
    assert schedule.reconciliation_for(JEPARA) == (utc(2025, 12, 9, 17), utc(2025, 12, 12, 17))
    assert schedule.reconciliation_for(JOMBANG) == (utc(2025, 12, 8, 17), utc(2025, 12, 11, 17))


def test_place_placeholders(data: dict[str, Any]) -> None:
    data["windows"][0]["place"] = "{regency} / {district} / {village}"
    schedule = parse_schedule(data)
    assert schedule.windows_for(JOMBANG)[0].place == "35.17 / 35.17.01 / 35.17.01.2001"


def test_other_timezone(data: dict[str, Any]) -> None:
    data["timezone"] = "Asia/Jayapura"  # WIT, UTC+9
    schedule = parse_schedule(data)
    assert schedule.windows_for(JOMBANG)[0].starts_at == utc(2025, 11, 21, 15)


def test_bad_village_code(shipped: Schedule) -> None:
    with pytest.raises(ValueError, match=r"'35\.17\.01'"):
        shipped.windows_for("35.17.01")


def test_village_helpers() -> None:
    assert regency_of(JOMBANG) == "35.17"
    assert district_of(JOMBANG) == "35.17.01"
    for bad in ("", "35.17.01.200", "35.17.01.20011", "35-17-01-2001", " 35.17.01.2001"):
        with pytest.raises(ValueError, match="not a Kemendagri village code"):
            regency_of(bad)
        with pytest.raises(ValueError, match="not a Kemendagri village code"):
            district_of(bad)


def test_window_rule_by_name() -> None:
    rule = WindowRule(
        kind=WindowKind.BANK_AGENT, from_=date(2025, 1, 1), to=date(2025, 1, 2), place="Agen"
    )
    assert rule.model_dump()["from"] == date(2025, 1, 1)


# --- errors ---------------------------------------------------------------------------


def test_unknown_key(data: dict[str, Any]) -> None:
    data["windows"][0]["form"] = data["windows"][0].pop("from")
    message = problem_of(data)
    assert "windows[0].form: unknown field" in message
    assert "windows[0].from: required field is missing" in message


def test_unknown_top_level_key(data: dict[str, Any]) -> None:
    data["timezon"] = "Asia/Jakarta"
    assert "timezon: unknown field" in problem_of(data)


def test_to_before_from(data: dict[str, Any]) -> None:
    data["windows"][1]["to"] = date(2025, 11, 1)
    message = problem_of(data)
    assert "windows[1]" in message
    assert "POST_OFFICE" in message
    assert "to 2025-11-01 is before from 2025-11-22" in message


def test_reconciliation_to_before_from(data: dict[str, Any]) -> None:
    data["reconciliation"] = {"from": date(2025, 12, 11), "to": date(2025, 12, 9)}
    assert "reconciliation: to 2025-12-09 is before from 2025-12-11" in problem_of(data)


def test_reconciliation_overlapping_windows(data: dict[str, Any]) -> None:
    data["reconciliation"]["from"] = date(2025, 12, 8)
    message = problem_of(data)
    assert "reconciliation starts 2025-12-08, before the last window ends (2025-12-08)" in (message)


def test_regency_reconciliation_overlapping_its_windows(data: dict[str, Any]) -> None:
    data["regencies"]["33.20"]["windows"][2]["to"] = date(2025, 12, 9)
    message = problem_of(data)
    assert "regencies.33.20: reconciliation starts 2025-12-09" in message


def test_bad_timezone(data: dict[str, Any]) -> None:
    data["timezone"] = "Asia/Jakart"
    assert "timezone: unknown timezone 'Asia/Jakart'" in problem_of(data)


def test_bad_period(data: dict[str, Any]) -> None:
    data["period"] = "2025-Q4"
    assert "period: period '2025-Q4' is not YYYY-MM..YYYY-MM" in problem_of(data)


@pytest.mark.parametrize("key", ["3320", "33.20.01", "33", "Jepara"])
def test_bad_regency_key(data: dict[str, Any], key: str) -> None:
    data["regencies"][key] = data["regencies"].pop("33.20")
    message = problem_of(data)
    assert f"regencies: {key!r}: not a 2-level Kemendagri regency code" in message


def test_unknown_window_kind(data: dict[str, Any]) -> None:
    data["windows"][0]["kind"] = "BUS_STOP"
    assert "windows[0].kind:" in problem_of(data)


def test_unknown_placeholder(data: dict[str, Any]) -> None:
    data["windows"][0]["place"] = "Balai desa {desa}"
    assert "windows[0].place:" in problem_of(data)
    assert "unknown placeholder {desa}" in problem_of(data)


def test_no_windows(data: dict[str, Any]) -> None:
    data["windows"] = []
    assert "windows:" in problem_of(data)


def test_not_a_mapping() -> None:
    assert "expected a mapping" in problem_of(["program", "BLTS_KESRA"])
    assert "expected a mapping" in problem_of(None)


def test_bad_yaml_names_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("program: [unclosed\n", encoding="utf-8")
    with pytest.raises(ScheduleError, match=r"bad\.yaml: not valid YAML"):
        load_schedule(path)


def test_validation_error_names_file(tmp_path: Path, data: dict[str, Any]) -> None:
    data["timezone"] = "Mars/Olympus"
    path = tmp_path / "mars.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(ScheduleError) as caught:
        load_schedule(path)
    assert str(caught.value).startswith(f"{path}: timezone: unknown timezone 'Mars/Olympus'")
    assert caught.value.source == str(path)


def test_duplicate_program_period(tmp_path: Path) -> None:
    text = SHIPPED_FILE.read_text(encoding="utf-8")
    (tmp_path / "a.yaml").write_text(text, encoding="utf-8")
    (tmp_path / "b.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(ScheduleError) as caught:
        load_schedules(tmp_path)
    message = str(caught.value)
    assert str(tmp_path / "a.yaml") in message
    assert str(tmp_path / "b.yaml") in message
    assert "BLTS_KESRA 2025-10..2025-12" in message


def test_empty_or_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(ScheduleError, match="no schedule files") as caught:
        load_schedules(tmp_path)
    assert str(tmp_path) in str(caught.value)
    missing = tmp_path / "nowhere"
    with pytest.raises(ScheduleError, match="no such schedule folder") as caught:
        load_schedules(missing)
    assert str(missing) in str(caught.value)
