"""``bansosctl audit verify-decisions``: real decisions reproduce, tampered ones do not.

The decisions are the eligibility service's own: it runs in memory on a SQLite event
store, is fed registry and objections events as its consumer would, and what its relay
would publish is indexed as an auditor's ``sync`` would index it.
"""

from __future__ import annotations

import json
import shutil
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from bansos_contracts.eligibility import EligibilityDecided
from bansos_contracts.enums import (
    CaseEffect,
    CaseKind,
    CaseOutcome,
    DeactivationReason,
    EligibilityStatus,
)
from bansos_contracts.envelope import Event
from bansos_contracts.examples import example
from bansos_contracts.objections import CaseResolved
from bansos_contracts.registry import (
    HouseholdDeactivated,
    HouseholdDecileChanged,
    HouseholdRegistered,
)
from bansos_contracts.values import Region, VulnerabilityFlags
from bansos_eligibility.bootstrap import bootstrap
from bansos_eligibility.rules import PROGRAMS_DIR
from bansos_libs.settings import ServiceSettings
from bansosctl.audit.decisions import load_rulesets, verify_decision, verify_decisions
from bansosctl.audit.index import Index, IndexedEvent
from bansosctl.main import app
from tests.fixtures.eligibility import feed, published

VILLAGE = "35.17.01.2001"
T0 = datetime(2025, 11, 1, tzinfo=UTC)
runner = CliRunner()


def registered(household_id: str, decile: int, **overrides: Any) -> HouseholdRegistered:
    return example(
        HouseholdRegistered,
        event_id=uuid.uuid4(),
        household_id=household_id,
        subject_id=household_id,
        decile=decile,
        region=Region.of_village(VILLAGE),
        programs=(),
        flags=VulnerabilityFlags(has_elderly=True),
        per_capita_income=400_000,
        **overrides,
    )


@pytest.fixture(scope="module")
def decisions(tmp_path_factory: pytest.TempPathFactory) -> list[EligibilityDecided]:
    """Decisions of the eligibility service for households in different situations."""
    service = bootstrap(
        ServiceSettings(service="eligibility", data_dir=tmp_path_factory.mktemp("eligibility"))
    )
    try:
        events: list[Event] = [
            registered("HH-1", 3),
            registered("HH-2", 3, pbi_jkn=True),
            registered("HH-3", 2),
            registered("HH-4", 1),
            example(
                HouseholdDecileChanged, event_id=uuid.uuid4(), household_id="HH-2",
                subject_id="HH-2", subject_version=2, previous_decile=3, new_decile=6,
            ),
            example(
                HouseholdDeactivated, event_id=uuid.uuid4(), household_id="HH-3",
                subject_id="HH-3", subject_version=2, reason=DeactivationReason.DECEASED,
                merged_into=None,
            ),
            example(
                CaseResolved, event_id=uuid.uuid4(), case_id="C-1", subject_id="C-1",
                household_id="HH-4", kind=CaseKind.REFUSAL, outcome=CaseOutcome.UPHELD,
                effect=CaseEffect.OPT_OUT, programs=(),
            ),
        ]  # fmt: skip
        feed(service, *events)
        return [e for e in published(service) if isinstance(e, EligibilityDecided)]
    finally:
        service.close()


def indexed(path: Path, events: list[EligibilityDecided]) -> Index:
    index = Index(path)
    index.add_events(
        IndexedEvent(e, e.topic, 0, n, T0 + timedelta(seconds=n)) for n, e in enumerate(events)
    )
    return index


@pytest.fixture
def index(tmp_path: Path, decisions: list[EligibilityDecided]) -> Iterator[Index]:
    with indexed(tmp_path / "index.sqlite", decisions) as opened:
        yield opened


def test_the_service_s_decisions_cover_several_reasons(
    decisions: list[EligibilityDecided],
) -> None:
    codes = {r.code for d in decisions for r in d.reason_codes}
    assert {"DECILE_ABOVE_MAX", "DEACTIVATED", "REFUSED"} <= codes
    assert any(d.status is EligibilityStatus.ELIGIBLE for d in decisions)
    assert len({d.ruleset_id for d in decisions}) == 4


def test_every_real_decision_reproduces(index: Index, decisions: list[EligibilityDecided]) -> None:
    report = verify_decisions(index, load_rulesets([PROGRAMS_DIR]))
    assert report.failures == []
    assert report.checked == report.reproduced == len(decisions) > 10


def tampered(decisions: list[EligibilityDecided]) -> tuple[list[EligibilityDecided], str, str]:
    """The decisions with one status flipped and one decile changed; the two event ids."""
    flip = next(
        n for n, d in enumerate(decisions)
        if d.status is EligibilityStatus.INELIGIBLE and d.household_id == "HH-2"
        and d.program == "BLTS_KESRA"
    )  # fmt: skip
    nudge = next(
        n for n, d in enumerate(decisions)
        if d.status is EligibilityStatus.ELIGIBLE and d.program == "BLTS_KESRA"
    )  # fmt: skip
    changed = list(decisions)
    changed[flip] = decisions[flip].model_copy(update={"status": EligibilityStatus.ELIGIBLE})
    inputs = decisions[nudge].inputs.model_copy(update={"decile": 7})
    changed[nudge] = decisions[nudge].model_copy(update={"inputs": inputs})
    return changed, str(decisions[flip].event_id), str(decisions[nudge].event_id)


def test_a_tampered_decision_does_not_reproduce(
    tmp_path: Path, decisions: list[EligibilityDecided]
) -> None:
    changed, flipped, nudged = tampered(decisions)
    with indexed(tmp_path / "index.sqlite", changed) as index:
        report = verify_decisions(index, load_rulesets([PROGRAMS_DIR]))
    assert report.reproduced == len(decisions) - 2
    failures = {f.event_id: f for f in report.not_reproduced}
    assert set(failures) == {flipped, nudged}
    assert failures[flipped].household_id == "HH-2"
    assert failures[flipped].expected == "ELIGIBLE [DECILE_ABOVE_MAX 6>4]"
    assert failures[flipped].recomputed == "INELIGIBLE [DECILE_ABOVE_MAX 6>4]"
    assert failures[nudged].expected == "ELIGIBLE [-]"
    assert failures[nudged].recomputed == "INELIGIBLE [DECILE_ABOVE_MAX 7>4]"


def test_an_unknown_ruleset_version_is_reported_not_guessed(
    decisions: list[EligibilityDecided],
) -> None:
    rulesets = load_rulesets([PROGRAMS_DIR])
    decision = decisions[0]
    other = decision.model_copy(update={"ruleset_hash": "0" * 64})
    failure = verify_decision(other, rulesets)
    assert failure is not None and failure.kind == "UNKNOWN_RULESET"
    assert decision.ruleset_hash[:12] in failure.recomputed  # the versions it does know
    assert verify_decision(decision, rulesets) is None


def test_older_ruleset_versions_can_sit_beside_the_current_ones(
    index: Index, tmp_path: Path, decisions: list[EligibilityDecided]
) -> None:
    """After a new BLTS version (decile at most 5), the old decisions name a version the
    programs folder no longer has; archived in a subfolder, it checks them again."""
    programs = tmp_path / "programs"
    shutil.copytree(PROGRAMS_DIR, programs)
    blts = programs / "blts-kesra-2025-10..2025-12.yaml"
    old = blts.read_text()
    newer = yaml.safe_load(old)
    newer["version"] += 1
    for rule in newer["rules"]:
        if rule["check"] == "decile_at_most":
            rule["value"] = 5
    blts.write_text(yaml.safe_dump(newer))
    blts_count = sum(d.program == "BLTS_KESRA" for d in decisions)

    report = verify_decisions(index, load_rulesets([programs]))
    assert len(report.unknown_ruleset) == blts_count
    assert report.not_reproduced == []
    assert report.reproduced == len(decisions) - blts_count

    (programs / "archive").mkdir()
    (programs / "archive" / blts.name).write_text(old)
    report = verify_decisions(index, load_rulesets([programs]))
    assert report.failures == [] and report.reproduced == len(decisions)


def test_the_command_exits_1_naming_each_decision_that_does_not_reproduce(
    tmp_path: Path, decisions: list[EligibilityDecided], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("BANSOS_RULESETS_DIR", raising=False)
    monkeypatch.setenv("COLUMNS", "300")
    good = tmp_path / "good.sqlite"
    indexed(good, decisions).close()
    done = runner.invoke(app, ["audit", "verify-decisions", "--index", str(good)])
    assert done.exit_code == 0, done.output
    assert f"{len(decisions)} decisions checked: {len(decisions)} reproduced, 0 not" in done.output

    changed, flipped, nudged = tampered(decisions)
    bad = tmp_path / "bad.sqlite"
    indexed(bad, changed).close()
    done = runner.invoke(app, ["audit", "verify-decisions", "--index", str(bad)])
    assert done.exit_code == 1
    assert flipped in done.output and nudged in done.output
    assert "NOT REPRODUCED" in done.output and "HH-2" in done.output
    assert "2 not reproduced" in done.output

    done = runner.invoke(
        app, ["audit", "verify-decisions", "--index", str(bad), "--json",
              "--rulesets", str(PROGRAMS_DIR)],
    )  # fmt: skip
    assert done.exit_code == 1
    report = json.loads(done.stdout)
    assert (report["checked"], report["not_reproduced"], report["unknown_ruleset"]) == (
        len(decisions),
        2,
        0,
    )
    assert {f["event_id"] for f in report["failures"]} == {flipped, nudged}
