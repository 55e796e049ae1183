"""Plain-language reasons for the Cek Bansos screen: every shipped code, rendered details."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bansos_contracts.eligibility import ReasonCode
from bansos_contracts.enums import DeactivationReason, EligibilityStatus, Program
from bansos_eligibility.explain import (
    Text,
    explain_reason,
    format_rupiah,
    payout_state_text,
    program_name,
    status_text,
)
from bansos_eligibility.rules import UNIVERSAL_REASONS, shipped_rulesets
from bansos_eligibility.rules.checks import DecileAtLeast, universal_checks
from bansos_eligibility.rules.facts import FLAG_NAMES, InputValue

Inputs = dict[str, InputValue]

# Two recorded-input dicts between which every shipped rule fails at least once (the
# second one for "enrolled_in", the first for everything else).
_FAILING: tuple[Inputs, ...] = (
    {
        "decile": 10,
        **dict.fromkeys(FLAG_NAMES, False),
        "per_capita_income": 10_000_000,
        "regency": "35.17",
        "ktp_regency": "35.18",
        "programs": [p.value for p in Program],
        "pbi_jkn": True,
    },
    {"programs": [], "pbi_jkn": False},
)
_UNIVERSAL_OK: Inputs = {
    "active": True,
    "deactivation_reason": None,
    "refused": False,
    "exclusions": [],
}


def _is_generic(text: Text) -> bool:
    return "kode alasan" in text.id or "reason code" in text.en


def _assert_specific(text: Text) -> None:
    assert text.id.strip() and text.en.strip()
    assert text.id != text.en
    assert not _is_generic(text), text


def _shipped_reasons() -> list[ReasonCode]:
    """The reason each shipped rule actually produces when it fails (real detail formats)."""
    reasons: list[ReasonCode] = []
    for ruleset in shipped_rulesets():
        for rule in ruleset.rules:
            check = rule.compile(ruleset.program)
            found = [r for inputs in _FAILING if (r := check({**_FAILING[0], **inputs}))]
            assert found, f"{ruleset.id}: {rule.check} never fails"
            assert found[0].code == rule.reason
            reasons.append(found[0])
    return reasons


def _universal_reasons() -> list[ReasonCode]:
    """Every reason (and detail) the universal checks produce, for every program."""
    deactivated: list[Inputs] = [
        {"active": False, "deactivation_reason": r.value} for r in DeactivationReason
    ]
    failing: list[Inputs] = [
        *deactivated,
        {"active": False, "deactivation_reason": None},
        {"refused": True},
        {"exclusions": "ALL"},
    ]
    reasons: list[ReasonCode] = []
    for program in Program:
        checks = universal_checks(program)
        changes: list[Inputs] = [*failing, {"exclusions": [program.value]}]
        for change in changes:
            inputs = {**_UNIVERSAL_OK, **change}
            reasons.extend(r for check in checks if (r := check(inputs)) is not None)
    return reasons


SHIPPED_CODES = sorted({rule.reason for rs in shipped_rulesets() for rule in rs.rules})


def test_shipped_codes_are_the_expected_ones() -> None:
    assert set(SHIPPED_CODES) >= {
        "DECILE_ABOVE_MAX",
        "DOUBLE_PROGRAM",
        "INCOME_ABOVE_POVERTY_LINE",
        "NOT_REGISTERED_PBI",
        "NOT_REGISTERED_PKH",
        "NOT_RESIDENT",
        "NOT_VULNERABLE",
    }


@pytest.mark.parametrize("reason", _shipped_reasons(), ids=lambda r: f"{r.code}:{r.detail}")
def test_every_shipped_reason_with_its_real_detail_is_explained(reason: ReasonCode) -> None:
    _assert_specific(explain_reason(reason.code, reason.detail))


@pytest.mark.parametrize("reason", _universal_reasons(), ids=lambda r: f"{r.code}:{r.detail}")
def test_every_universal_reason_with_its_real_detail_is_explained(reason: ReasonCode) -> None:
    _assert_specific(explain_reason(reason.code, reason.detail))


def test_universal_reasons_are_all_covered() -> None:
    assert {r.code for r in _universal_reasons()} == set(UNIVERSAL_REASONS)


@pytest.mark.parametrize("code", [*SHIPPED_CODES, *UNIVERSAL_REASONS, "DECILE_BELOW_MIN"])
@pytest.mark.parametrize("detail", [None, "", "???", "garbled detail value"])
def test_known_codes_without_usable_detail_keep_a_specific_sentence(
    code: str, detail: str | None
) -> None:
    text = explain_reason(code, detail)
    _assert_specific(text)
    assert "???" not in text.id + text.en
    assert "garbled" not in text.id + text.en


def test_decile_above_max() -> None:
    assert explain_reason("DECILE_ABOVE_MAX", "6>4") == Text(
        "Keluarga Anda berada di desil 6; program ini untuk desil 1 sampai 4.",
        "Your household is in decile 6; this program is for deciles 1 to 4.",
    )
    unknown = explain_reason("DECILE_ABOVE_MAX", "none>4")
    assert "belum diketahui" in unknown.id and "desil 1 sampai 4" in unknown.id
    assert "not known" in unknown.en and "deciles 1 to 4" in unknown.en
    only = explain_reason("DECILE_ABOVE_MAX", "3>1")
    assert "desil 3" in only.id and "hanya untuk desil 1" in only.id


def test_decile_below_min_from_the_real_check() -> None:
    check = DecileAtLeast(check="decile_at_least", value=3, reason="DECILE_BELOW_MIN")
    reason = check.compile(Program.PKH)({"decile": 2})
    assert reason is not None and reason.detail == "2<3"
    text = explain_reason(reason.code, reason.detail)
    assert text.id == "Keluarga Anda berada di desil 2; program ini untuk desil 3 sampai 10."
    assert text.en == "Your household is in decile 2; this program is for deciles 3 to 10."
    assert "not known" in explain_reason("DECILE_BELOW_MIN", "none<3").en


@pytest.mark.parametrize("detail", ["4>4", "3>4", "11>4", "6>10", "6>0", "6<4", "x>4", "6>4>2"])
def test_inconsistent_decile_details_are_not_rendered(detail: str) -> None:
    text = explain_reason("DECILE_ABOVE_MAX", detail)
    assert text == explain_reason("DECILE_ABOVE_MAX", None)


def test_income_above_poverty_line_formats_rupiah() -> None:
    text = explain_reason("INCOME_ABOVE_POVERTY_LINE", "700000>=609160")
    for part in ("Rp700.000", "Rp609.160"):
        assert part in text.id and part in text.en
    unknown = explain_reason("INCOME_ABOVE_POVERTY_LINE", "unknown>=609160")
    assert "belum diketahui" in unknown.id and "Rp609.160" in unknown.id
    assert "not known" in unknown.en and "Rp609.160" in unknown.en
    # income below the line cannot be a failure: not rendered as one
    assert explain_reason("INCOME_ABOVE_POVERTY_LINE", "500000>=609160") == explain_reason(
        "INCOME_ABOVE_POVERTY_LINE", None
    )


def test_double_program_names_the_programs() -> None:
    one = explain_reason("DOUBLE_PROGRAM", "PKH")
    assert "sudah menerima PKH" in one.id and "already receives PKH" in one.en
    two = explain_reason("DOUBLE_PROGRAM", "PKH,BPNT")
    assert "PKH dan BPNT / Sembako" in two.id
    assert "PKH and BPNT / Sembako" in two.en
    three = explain_reason("DOUBLE_PROGRAM", "BPNT,PBI_JKN,PKH")
    assert "BPNT / Sembako, PBI-JKN (KIS) and PKH" in three.en
    assert explain_reason("DOUBLE_PROGRAM", "PKH,NOPE") == explain_reason("DOUBLE_PROGRAM", None)


def test_not_vulnerable_lists_the_flags() -> None:
    text = explain_reason("NOT_VULNERABLE", "none of " + ",".join(FLAG_NAMES))
    assert "lansia" in text.id and "atau ibu hamil" in text.id
    assert "an elderly person" in text.en and "or a pregnant woman" in text.en
    one = explain_reason("NOT_VULNERABLE", "none of has_pregnant")
    assert "ibu hamil" in one.id and "lansia" not in one.id


@pytest.mark.parametrize(
    ("code", "detail", "name"),
    [
        ("NOT_REGISTERED_PBI", "not PBI_JKN", "PBI-JKN (KIS)"),
        ("NOT_REGISTERED_PKH", "not PKH", "PKH"),
        ("NOT_REGISTERED_PBI", None, "PBI-JKN (KIS)"),
        ("NOT_REGISTERED_BPNT", "garbled", "BPNT / Sembako"),
    ],
)
def test_not_registered(code: str, detail: str | None, name: str) -> None:
    text = explain_reason(code, detail)
    assert "tidak terdaftar" in text.id and name in text.id
    assert "not registered" in text.en and name in text.en


def test_not_resident() -> None:
    ktp = explain_reason("NOT_RESIDENT", "KTP 35.18, lives in 35.17")
    assert "35.18" in ktp.id and "35.17" in ktp.id and "KTP" in ktp.id
    assert "regency 35.18" in ktp.en and "living in 35.17" in ktp.en
    outside = explain_reason("NOT_RESIDENT", "35.18 not in 35.17")
    assert "tinggal di kabupaten/kota 35.18" in outside.id and "35.17" in outside.id
    assert "only for regency 35.17" in outside.en
    many = explain_reason("NOT_RESIDENT", "35.18 not in 35.16,35.17")
    assert "regencies 35.16 and 35.17" in many.en
    assert explain_reason("NOT_RESIDENT", "35.17 not in 35.17") == explain_reason(
        "NOT_RESIDENT", None
    )


def test_deactivated_details_are_distinct() -> None:
    details = [*(r.value for r in DeactivationReason), "inactive"]
    texts = {explain_reason("DEACTIVATED", d) for d in details}
    assert len(texts) == len(details)
    assert "meninggal" in explain_reason("DEACTIVATED", "DECEASED").id
    assert "moved" in explain_reason("DEACTIVATED", "MOVED").en
    assert "duplicate" in explain_reason("DEACTIVATED", "DUPLICATE").en


def test_refused_and_excluded_by_case() -> None:
    assert "menolak" in explain_reason("REFUSED", "upheld refusal").id
    everything = explain_reason("EXCLUDED_BY_CASE", "ALL")
    assert "semua program" in everything.id and "all assistance programs" in everything.en
    one = explain_reason("EXCLUDED_BY_CASE", "BLTS_KESRA")
    assert "BLT Sementara Kesra" in one.id and "BLTS Kesra temporary cash aid" in one.en


def test_unknown_code_gives_a_generic_sentence_naming_it() -> None:
    text = explain_reason("SOMETHING_NEW", "7>3")
    assert _is_generic(text)
    assert "SOMETHING_NEW" in text.id and "SOMETHING_NEW" in text.en
    assert "7>3" not in text.id + text.en
    odd = explain_reason("not a code <script>", "x")
    assert "<script>" not in odd.id + odd.en and odd.id and odd.en


@pytest.mark.parametrize(
    ("amount", "text"),
    [(0, "Rp0"), (999, "Rp999"), (900_000, "Rp900.000"), (1_234_567, "Rp1.234.567")],
)
def test_format_rupiah(amount: int, text: str) -> None:
    assert format_rupiah(amount) == text


def test_program_names() -> None:
    assert program_name(Program.BLTS_KESRA) == Text(
        "BLT Sementara Kesra", "BLTS Kesra temporary cash aid"
    )
    assert program_name(Program.BPNT).id == "BPNT / Sembako"
    assert program_name("PBI_JKN").en == "PBI-JKN (KIS)"
    assert program_name(Program.PKH) == Text("PKH", "PKH")
    assert all(program_name(p).id and program_name(p).en for p in Program)


def test_status_and_payout_state_texts() -> None:
    assert status_text(EligibilityStatus.ELIGIBLE) == Text("Memenuhi syarat", "Eligible")
    assert status_text("INELIGIBLE") == Text("Tidak memenuhi syarat", "Not eligible")
    states = ["SCHEDULED", "DISBURSED", "FAILED", "CANCELLED", "RECONCILED"]
    texts = {payout_state_text(s) for s in states}
    fallback = payout_state_text("WHATEVER")
    assert len(texts) == len(states) and fallback not in texts
    assert payout_state_text("FAILED").en == "Payment failed"


_CODES = st.sampled_from([*SHIPPED_CODES, *UNIVERSAL_REASONS, "DECILE_BELOW_MIN"])
_DETAILISH = st.text(alphabet="0123456789<>=,. nonekuwtKTPlivsABCDEFGHIJKLMNOPQRSTUVWXYZ_")


@given(code=st.one_of(st.text(), _CODES), detail=st.one_of(st.none(), st.text(), _DETAILISH))
def test_explain_reason_never_raises(code: str, detail: str | None) -> None:
    text = explain_reason(code, detail)
    assert isinstance(text, Text) and text.id and text.en
