"""Fuzzed snapshot rows through the whole import (SQLite store): it never crashes,
imports exactly the rows it did not reject, and names line and column of every reject."""

from __future__ import annotations

import csv
import io
import itertools
from datetime import date
from pathlib import Path

from eventsourcing.cryptography import AESCipher
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bansos_libs.settings import ServiceSettings
from bansos_registry.bootstrap import bootstrap
from bansos_registry.importer import ImportRefusedError
from bansos_registry.sample import SampleSpec, write_snapshot
from bansos_registry.snapshot_file import COLUMNS, SnapshotFileError
from bansos_registry.views import HOUSEHOLDS

ROWS = 12
counter = itertools.count()
garbage = st.one_of(
    st.text(max_size=30),
    st.sampled_from(["", "0", "-1", "11", "99999999999999999999", "1.5", "ya", "35.99", "\t"]),
    st.integers(min_value=-(10**20), max_value=10**20).map(str),
)
mutation = st.tuples(st.integers(0, ROWS - 1), st.sampled_from(COLUMNS), garbage)
# The first row's regency is where the importer learns the snapshot's regency: always try it.
mutations = st.lists(mutation, max_size=8) | st.lists(mutation, max_size=7).map(
    lambda m: [(0, "regency_code", "99.99"), *m]
)


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(changes=mutations)
def test_fuzzed_rows_never_crash_and_rejected_rows_are_never_imported(
    tmp_path: Path, changes: list[tuple[int, str, str]]
) -> None:
    folder = tmp_path / str(next(counter))
    folder.mkdir()
    clean = folder / "clean.csv"
    write_snapshot(clean, SampleSpec(households=ROWS, seed=2))
    with clean.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    for index, column, value in changes:
        rows[index][column] = value
    fuzzed = folder / "fuzzed.csv"
    with fuzzed.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    starts = _record_start_lines(fuzzed)

    registry = bootstrap(
        ServiceSettings(service="registry", data_dir=folder, cipher_key=AESCipher.create_key(32))
    )
    report = io.StringIO()
    try:
        summary = registry.importer.run(
            fuzzed,
            "FUZZ",
            date(2025, 9, 1),
            actor={"role": "system", "id": "fuzz", "region": None},
            rejects=report,
        )
    except (SnapshotFileError, ImportRefusedError):
        registry.close()
        return  # refused whole before anything is written: allowed
    registry.households.catch_up()
    rejected = list(csv.DictReader(io.StringIO(report.getvalue())))
    assert summary.registered + summary.rejected == ROWS
    assert len(rejected) == summary.rejected
    for reject in rejected:
        assert int(reject["line"]) in starts
        assert reject["column"] in (*COLUMNS, "row")
    rejected_lines = {int(r["line"]) for r in rejected}
    expected = {
        row["household_id"].strip()
        for line, row in zip(starts, rows, strict=True)
        if line not in rejected_lines
    }
    with registry.households.database.transaction() as sql:
        stored = {h for (h,) in sql.execute(f"SELECT household_id FROM {HOUSEHOLDS}").fetchall()}
    assert stored == expected
    registry.close()


def _record_start_lines(path: Path) -> list[int]:
    """The physical line each data record starts on (a quoted CR or LF adds lines)."""
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        next(reader)
        starts, end = [], reader.line_num
        for _ in reader:
            starts.append(end + 1)
            end = reader.line_num
    return starts
