"""The committed JSON Schemas are up to date; write/check guard against breaking changes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from bansos_contracts import ALL_EVENTS
from bansos_contracts.schemas import (
    DEFAULT_DIR,
    ENVELOPE_FILE,
    HEADERS_FILE,
    check,
    file_name,
    generate,
    main,
    render,
    write,
)

COMMITTED = Path(__file__).resolve().parents[1] / "schemas"


def test_default_dir_is_contracts_schemas() -> None:
    assert DEFAULT_DIR == COMMITTED


def test_committed_schemas_are_up_to_date() -> None:
    report = check(COMMITTED)
    assert report.ok, "\n".join(report.breaking + report.stale) + "\nrun `make schemas`"


def test_one_file_per_event_plus_envelope_and_headers() -> None:
    names = set(generate())
    assert names == {file_name(cls) for cls in ALL_EVENTS} | {ENVELOPE_FILE, HEADERS_FILE}
    assert "bansos.registry.HouseholdDecileChanged.v1.json" in names


def test_rendering_is_stable() -> None:
    text = (COMMITTED / "bansos.payout.PayoutScheduled.v1.json").read_text()
    assert text.endswith("}\n") and '\n  "$defs": {' in text
    schema = json.loads(text)
    assert render(schema) == text
    assert list(schema) == sorted(schema)


def test_envelope_fields_are_required_in_every_event_schema() -> None:
    for name, schema in generate().items():
        if name in (HEADERS_FILE,):
            continue
        for field in ("event_id", "event_type", "schema_version", "occurred_at", "actor"):
            assert field in schema["required"], (name, field)
        if name != ENVELOPE_FILE:
            assert schema["properties"]["event_type"]["const"] == schema["title"]


@pytest.fixture
def schema_dir(tmp_path: Path) -> Path:
    target = tmp_path / "schemas"
    shutil.copytree(COMMITTED, target)
    return target


def _edit(path: Path, edit: object) -> None:
    schema = json.loads(path.read_text())
    edit(schema)  # type: ignore[operator]
    path.write_text(render(schema))


def test_compatible_change_not_rewritten_fails_check(schema_dir: Path) -> None:
    # the committed copy lacks an enum value the model has: adding it is compatible
    path = schema_dir / "bansos.payout.PayoutScheduled.v1.json"
    _edit(path, lambda s: s["$defs"]["Bank"]["enum"].remove("BSI"))
    report = check(schema_dir)
    assert report.breaking == []
    assert report.stale == [f"{path.name}: changed compatibly but not rewritten"]
    assert main(["check", "--dir", str(schema_dir)]) == 1
    assert main(["write", "--dir", str(schema_dir)]) == 0
    assert check(schema_dir).ok


def test_breaking_change_fails_check_and_write_refuses(
    schema_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # the committed copy has a property the model no longer has: a removal
    path = schema_dir / "bansos.registry.HouseholdDecileChanged.v1.json"
    _edit(path, lambda s: s["properties"].update(reason={"type": "string"}))
    report = check(schema_dir)
    assert report.breaking == [f"{path.name}: $.reason: property removed"]
    assert main(["check", "--dir", str(schema_dir)]) == 1
    err = capsys.readouterr().err
    assert f"BREAKING {path.name}: $.reason: property removed" in err
    before = path.read_text()
    assert main(["write", "--dir", str(schema_dir)]) == 1
    assert "--allow-breaking" in capsys.readouterr().err
    assert path.read_text() == before
    assert main(["write", "--allow-breaking", "--dir", str(schema_dir)]) == 0
    assert check(schema_dir).ok


def test_missing_and_removed_files(schema_dir: Path) -> None:
    (schema_dir / ENVELOPE_FILE).unlink()
    (schema_dir / "bansos.registry.Gone.v1.json").write_text("{}\n")
    report = check(schema_dir)
    assert report.stale == [f"{ENVELOPE_FILE}: not written yet"]
    assert report.breaking == ["bansos.registry.Gone.v1.json: $: schema removed"]
    assert write(schema_dir).written == []
    report = write(schema_dir, allow_breaking=True)
    assert set(report.written) == {ENVELOPE_FILE, "bansos.registry.Gone.v1.json"}
    assert not (schema_dir / "bansos.registry.Gone.v1.json").exists()
    assert check(schema_dir).ok


def test_check_message_names_make_schemas(
    schema_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (schema_dir / HEADERS_FILE).write_text((schema_dir / HEADERS_FILE).read_text() + " ")
    assert main(["check", "--dir", str(schema_dir)]) == 1
    assert "make schemas" in capsys.readouterr().err
