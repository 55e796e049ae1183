"""Ruleset files: the shipped ones load, hashes are canonical, broken files say why."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
import yaml

from bansos_contracts.enums import Channel, Program
from bansos_contracts.values import period_bounds
from bansos_eligibility.rules import (
    PROGRAMS_DIR,
    Ruleset,
    RulesetError,
    load_ruleset,
    load_rulesets,
    parse_ruleset,
    shipped_rulesets,
)
from bansos_eligibility.rules.model import canonical_json

SHIPPED = {ruleset.program: ruleset for ruleset in shipped_rulesets()}

MINIMAL = """\
id: test-blts
version: 1
program: BLTS_KESRA
period: "2025-10..2025-12"
amount: {per_month: 300000, total: 900000, paid_at_once: true}
rules:
  - {check: decile_at_most, value: 4, reason: DECILE_ABOVE_MAX}
"""


def write(tmp_path: Path, text: str, name: str = "ruleset.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# --- the shipped rulesets -------------------------------------------------------------


def test_every_program_has_a_shipped_ruleset() -> None:
    assert set(SHIPPED) == set(Program)
    assert len(list(PROGRAMS_DIR.glob("*.yaml"))) == len(Program)


@pytest.mark.parametrize("path", sorted(PROGRAMS_DIR.glob("*.yaml")), ids=lambda p: p.name)
def test_shipped_file_loads_and_is_named_after_program_and_period(path: Path) -> None:
    ruleset = load_ruleset(path)
    slug = ruleset.program.value.lower().replace("_", "-")
    assert path.name == f"{slug}-{ruleset.period}.yaml"
    assert len(ruleset.content_hash) == 64
    assert ruleset.sources, "every shipped ruleset says where its figures come from"


def test_shipped_figures() -> None:
    blts = SHIPPED[Program.BLTS_KESRA]
    assert (blts.id, blts.period, blts.months) == ("blts-kesra-2025q4", "2025-10..2025-12", 3)
    assert (blts.amount.per_month, blts.amount.total, blts.amount.paid_at_once) == (
        300_000,
        900_000,
        True,
    )
    bpnt = SHIPPED[Program.BPNT]
    assert bpnt.period == "2025-04..2025-06"
    assert bpnt.amount.total == 200_000
    assert [rule.reason for rule in bpnt.rules] == [
        "DECILE_ABOVE_MAX",
        "NOT_VULNERABLE",
        "INCOME_ABOVE_POVERTY_LINE",
        "DOUBLE_PROGRAM",
    ]
    pbi = SHIPPED[Program.PBI_JKN]
    assert pbi.amount.total == 0
    assert pbi.amount.premium_per_member_per_month == 42_000
    assert pbi.channels is None
    pkh = SHIPPED[Program.PKH]
    assert pkh.amount.total is None
    assert [rule.reason for rule in pkh.rules] == ["NOT_REGISTERED_PKH"]


def test_channel_policy_is_data() -> None:
    policy = SHIPPED[Program.BLTS_KESRA].channels
    assert policy is not None
    assert policy.channel_for({Program.PKH}) is Channel.BANK_KKS
    assert policy.channel_for({Program.BPNT, Program.PBI_JKN}) is Channel.BANK_KKS
    assert policy.channel_for({Program.PBI_JKN}) is Channel.POS
    assert policy.channel_for(()) is Channel.POS
    pkh = SHIPPED[Program.PKH].channels
    assert pkh is not None and pkh.channel_for(()) is Channel.BANK_KKS


def test_load_rulesets_sorts_by_program() -> None:
    loaded = load_rulesets(PROGRAMS_DIR)
    assert [r.program.value for r in loaded] == sorted(p.value for p in Program)


# --- content hash ---------------------------------------------------------------------


def test_hash_is_sha256_of_canonical_json() -> None:
    ruleset = SHIPPED[Program.BPNT]
    expected = hashlib.sha256(canonical_json(ruleset.model_dump(mode="json"))).hexdigest()
    assert ruleset.content_hash == expected


def test_hash_is_stable_under_key_order_whitespace_and_style(tmp_path: Path) -> None:
    original = load_ruleset(write(tmp_path, MINIMAL, "a.yaml"))
    reordered = """\
# a comment is not content
rules:
  - reason: DECILE_ABOVE_MAX
    value: 4
    check: decile_at_most
amount:
    total: 900000
    paid_at_once: true
    per_month: 300000
period: 2025-10..2025-12
program:   BLTS_KESRA
version: 1
id: test-blts
"""
    same = load_ruleset(write(tmp_path, reordered, "b.yaml"))
    assert same.content_hash == original.content_hash
    assert same == original
    as_json = parse_ruleset(json.loads(json.dumps(yaml.safe_load(MINIMAL), indent=4)))
    assert as_json.content_hash == original.content_hash


def test_hash_ignores_defaults_written_out_and_set_order(tmp_path: Path) -> None:
    base = yaml.safe_load(shipped_text("bpnt-2025-04..2025-06.yaml"))
    shuffled = json.loads(json.dumps(base))
    shuffled["rules"][3]["programs"] = ["PKH", "PKH"]
    shuffled["channels"]["existing_recipients_of"] = ["PKH", "BPNT"]
    shuffled["rules"][1]["flags"] = [
        "has_pregnant",
        "has_school_child",
        "has_child_under6",
        "has_disability",
        "has_elderly",
    ]
    assert parse_ruleset(shuffled).content_hash == SHIPPED[Program.BPNT].content_hash


def shipped_text(name: str) -> str:
    return (PROGRAMS_DIR / name).read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("rules", 0, "value"), 3),
        (("amount", "total"), 900_001),
        (("version",), 2),
        (("period",), "2025-11..2025-12"),
        (("id",), "test-blts-2"),
    ],
)
def test_hash_changes_when_a_value_changes(path: tuple[str | int, ...], value: object) -> None:
    data = yaml.safe_load(MINIMAL)
    if path == ("amount", "total") or path == ("period",):
        data["amount"].pop("per_month")
    target = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    assert parse_ruleset(data).content_hash != parse_ruleset(yaml.safe_load(MINIMAL)).content_hash


def test_model_copy_revalidates_and_recompiles() -> None:
    blts = SHIPPED[Program.BLTS_KESRA]
    stricter = blts.model_copy(
        update={
            "version": 2,
            "rules": [{"check": "decile_at_most", "value": 3, "reason": "DECILE_ABOVE_MAX"}],
        }
    )
    assert isinstance(stricter, Ruleset)
    assert stricter.content_hash != blts.content_hash
    assert stricter.rules[0].value == 3  # type: ignore[union-attr]
    with pytest.raises(RulesetError):
        parse_ruleset({**blts.model_dump(), "period": "2025-13..2025-12"})


# --- broken files ---------------------------------------------------------------------


def broken(tmp_path: Path, text: str) -> str:
    path = write(tmp_path, text, "broken.yaml")
    with pytest.raises(RulesetError) as caught:
        load_ruleset(path)
    message = str(caught.value)
    assert str(path) in message
    assert caught.value.source == str(path)
    return message


def test_unknown_check_names_file_and_rule_index(tmp_path: Path) -> None:
    text = MINIMAL + "  - {check: decile_below, value: 3, reason: TOO_RICH}\n"
    message = broken(tmp_path, text)
    assert "rules[1]: unknown check 'decile_below'" in message
    assert "decile_at_most" in message  # the known checks are listed


def test_missing_check(tmp_path: Path) -> None:
    message = broken(tmp_path, MINIMAL + "  - {value: 3, reason: TOO_RICH}\n")
    assert "rules[1]: no check given" in message


def test_missing_reason(tmp_path: Path) -> None:
    text = MINIMAL.replace(", reason: DECILE_ABOVE_MAX", "")
    message = broken(tmp_path, text)
    assert "rules[0] (decile_at_most).reason: Field required" in message


@pytest.mark.parametrize("period", ["2025-13..2025-12", "2025-12..2025-10", "2025-10", "Q4"])
def test_bad_period(tmp_path: Path, period: str) -> None:
    message = broken(tmp_path, MINIMAL.replace('"2025-10..2025-12"', f'"{period}"'))
    assert "period:" in message


def test_misspelt_field_is_rejected(tmp_path: Path) -> None:
    message = broken(tmp_path, MINIMAL.replace("value: 4", "vaule: 4"))
    assert "rules[0] (decile_at_most).vaule: Extra inputs are not permitted" in message


def test_bad_values(tmp_path: Path) -> None:
    assert "value: Input should be less than or equal to 10" in broken(
        tmp_path, MINIMAL.replace("value: 4", "value: 11")
    )
    assert "reason: String should match pattern" in broken(
        tmp_path, MINIMAL.replace("reason: DECILE_ABOVE_MAX", "reason: too rich")
    )


def test_ruleset_level_problems(tmp_path: Path) -> None:
    message = broken(
        tmp_path,
        MINIMAL.replace("total: 900000", "total: 800000")
        + "  - {check: decile_at_least, value: 1, reason: DECILE_ABOVE_MAX}\n"
        + "  - {check: not_enrolled_in_other, programs: [BLTS_KESRA], reason: REFUSED}\n",
    )
    assert "rules[1]: reason DECILE_ABOVE_MAX is used twice" in message
    assert "rules[2]: reason REFUSED is reserved" in message
    assert "rules[2]: BLTS_KESRA is this ruleset's program" in message
    assert "amount: total 800000 is not per_month 300000 x 3 months" in message


def test_not_yaml_or_not_a_mapping(tmp_path: Path) -> None:
    assert "not valid YAML" in broken(tmp_path, "id: [unclosed\n")
    assert "expected a mapping" in broken(tmp_path, "- just\n- a list\n")


def test_duplicate_ids_in_a_folder(tmp_path: Path) -> None:
    write(tmp_path, MINIMAL, "one.yaml")
    write(tmp_path, MINIMAL.replace("2025-10..2025-12", "2026-01..2026-03"), "two.yaml")
    with pytest.raises(RulesetError, match=r"(?s)two\.yaml.*id test-blts also in"):
        load_rulesets(tmp_path)


def test_same_program_period_twice_in_a_folder(tmp_path: Path) -> None:
    write(tmp_path, MINIMAL, "one.yaml")
    write(tmp_path, MINIMAL.replace("id: test-blts", "id: other"), "two.yaml")
    with pytest.raises(RulesetError, match=r"BLTS_KESRA 2025-10..2025-12 also in"):
        load_rulesets(tmp_path)


def test_period_helper_agrees_with_months() -> None:
    for ruleset in SHIPPED.values():
        (y0, m0), (y1, m1) = period_bounds(ruleset.period)
        assert ruleset.months == (y1 - y0) * 12 + m1 - m0 + 1
