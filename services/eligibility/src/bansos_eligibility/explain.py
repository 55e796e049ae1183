"""Plain-language texts for the citizen-facing "Cek Bansos" screen, in Indonesian and English.

Eligibility decisions carry reason codes such as ``{"code": "DECILE_ABOVE_MAX", "detail":
"6>4"}`` (see :mod:`bansos_eligibility.rules.checks` for every detail format).
:func:`explain_reason` turns one into a sentence a household can read, using the values
of the detail when its format is known. It never raises: an unknown code gives a generic
sentence naming the code, and a known code whose detail cannot be parsed gives that
code's sentence without values. Nothing but the detail's own values is ever echoed.

Also here: :func:`program_name`, :func:`status_text`, :func:`payout_state_text` and
:func:`format_rupiah` (Indonesian style, ``Rp900.000``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from bansos_contracts.enums import DeactivationReason, EligibilityStatus, Program

__all__ = [
    "Text",
    "explain_reason",
    "format_rupiah",
    "payout_state_text",
    "program_name",
    "status_text",
]


@dataclass(frozen=True)
class Text:
    """One text in Indonesian (``id``) and English (``en``)."""

    id: str
    en: str


def format_rupiah(amount: int) -> str:
    """``amount`` in Indonesian style with dots between thousands, e.g. ``Rp900.000``."""
    sign = "-" if amount < 0 else ""
    return f"{sign}Rp{abs(amount):,}".replace(",", ".")


_PROGRAM_NAMES: dict[Program, Text] = {
    Program.BLTS_KESRA: Text("BLT Sementara Kesra", "BLTS Kesra temporary cash aid"),
    Program.BPNT: Text("BPNT / Sembako", "BPNT / Sembako"),
    Program.PBI_JKN: Text("PBI-JKN (KIS)", "PBI-JKN (KIS)"),
    Program.PKH: Text("PKH", "PKH"),
}


def program_name(program: Program | str) -> Text:
    """The name of ``program`` as people know it; an unknown name is returned as given."""
    known = _program(str(program))
    return _PROGRAM_NAMES[known] if known is not None else Text(str(program), str(program))


_STATUSES: dict[str, Text] = {
    EligibilityStatus.ELIGIBLE: Text("Memenuhi syarat", "Eligible"),
    EligibilityStatus.INELIGIBLE: Text("Tidak memenuhi syarat", "Not eligible"),
}


def status_text(status: EligibilityStatus | str) -> Text:
    """The label of an eligibility status (a generic label if the status is unknown)."""
    return _STATUSES.get(str(status), Text("Status belum diketahui", "Status not known"))


_PAYOUT_STATES: dict[str, Text] = {
    "SCHEDULED": Text("Pembayaran dijadwalkan", "Payment scheduled"),
    "DISBURSED": Text("Bantuan sudah disalurkan", "Aid has been paid out"),
    "FAILED": Text("Pembayaran gagal", "Payment failed"),
    "CANCELLED": Text("Pembayaran dibatalkan", "Payment cancelled"),
    "RECONCILED": Text(
        "Pembayaran yang gagal sudah diselesaikan (rekonsiliasi)",
        "Failed payment has been settled (reconciliation)",
    ),
}


def payout_state_text(state: str) -> Text:
    """The label of a payout state (``SCHEDULED``, ``DISBURSED``, ``FAILED``, ...)."""
    return _PAYOUT_STATES.get(
        str(state), Text("Status pembayaran tidak tersedia", "Payment status not available")
    )


# -- reasons ---------------------------------------------------------------------------

_CODE = re.compile(r"[A-Z][A-Z0-9_]{0,63}")
_NUMBER = r"([0-9]{1,15})"  # bounded: never a huge int() conversion
_RC = r"[0-9]{2}\.[0-9]{2}"
_REGENCY = f"({_RC})"
_DECILE = re.compile(r"([0-9]{1,2}|none)([<>])([0-9]{1,2})")
_INCOME = re.compile(rf"{_NUMBER}>={_NUMBER}|unknown>={_NUMBER}")
_KTP = re.compile(rf"KTP {_REGENCY}, lives in {_REGENCY}")
_OUTSIDE = re.compile(rf"{_REGENCY} not in ({_RC}(?:,{_RC})*)")
_NOT_REGISTERED = "NOT_REGISTERED_"
_REGISTER_SUFFIX = {"PBI": Program.PBI_JKN} | {p.value: p for p in Program}

_FLAGS: dict[str, Text] = {
    "has_elderly": Text("lansia", "an elderly person"),
    "has_disability": Text("penyandang disabilitas", "a person with a disability"),
    "has_child_under6": Text("anak di bawah 6 tahun", "a child under six"),
    "has_school_child": Text("anak usia sekolah", "a school-age child"),
    "has_pregnant": Text("ibu hamil", "a pregnant woman"),
}

_DEACTIVATED: dict[str, Text] = {
    DeactivationReason.DECEASED: Text(
        "Data keluarga Anda dinonaktifkan di DTSEN karena penerima tercatat meninggal dunia.",
        "Your household's record was deactivated in DTSEN: the recipient is recorded as deceased.",
    ),
    DeactivationReason.MOVED: Text(
        "Data keluarga Anda dinonaktifkan di DTSEN karena tercatat sudah pindah domisili.",
        "Your household's record was deactivated in DTSEN: it is recorded as having moved away.",
    ),
    DeactivationReason.DUPLICATE: Text(
        "Data keluarga Anda dinonaktifkan di DTSEN karena tercatat sebagai data ganda.",
        "Your household's record was deactivated in DTSEN as a duplicate entry.",
    ),
    DeactivationReason.REMOVED_FROM_DTSEN: Text(
        "Keluarga Anda tidak lagi tercantum dalam data DTSEN terbaru kabupaten/kota Anda.",
        "Your household no longer appears in the latest DTSEN data of your regency.",
    ),
}

_BASE: dict[str, Text] = {
    "DEACTIVATED": Text(
        "Data keluarga Anda tidak aktif di DTSEN.",
        "Your household's record is not active in DTSEN.",
    ),
    "REFUSED": Text(
        "Keluarga Anda telah menyatakan menolak bantuan, dan penolakan itu sudah disetujui.",
        "Your household declined the aid, and the refusal was accepted.",
    ),
    "EXCLUDED_BY_CASE": Text(
        "Berdasarkan sanggahan yang dikabulkan, keluarga Anda dikeluarkan dari program ini.",
        "Following an upheld objection, your household was excluded from this program.",
    ),
    "DECILE_ABOVE_MAX": Text(
        "Desil kesejahteraan keluarga Anda di atas batas program ini.",
        "Your household's welfare decile is above this program's limit.",
    ),
    "DECILE_BELOW_MIN": Text(
        "Desil kesejahteraan keluarga Anda di bawah batas program ini.",
        "Your household's welfare decile is below this program's minimum.",
    ),
    "INCOME_ABOVE_POVERTY_LINE": Text(
        "Penghasilan keluarga Anda tidak di bawah garis kemiskinan daerah.",
        "Your household's income is not below the regional poverty line.",
    ),
    "DOUBLE_PROGRAM": Text(
        "Keluarga Anda sudah menerima bantuan lain yang tidak dapat digabung dengan program ini.",
        "Your household already receives other aid that cannot be combined with this program.",
    ),
    "NOT_VULNERABLE": Text(
        "Tidak ada anggota keluarga Anda yang tercatat sebagai kelompok rentan; program ini "
        "mensyaratkan setidaknya satu anggota keluarga rentan.",
        "No member of your household is recorded as vulnerable; this program requires at "
        "least one vulnerable member.",
    ),
    _NOT_REGISTERED: Text(
        "Keluarga Anda tidak terdaftar dalam program yang disyaratkan.",
        "Your household is not registered in the required program.",
    ),
    "NOT_RESIDENT": Text(
        "Keluarga Anda tidak memenuhi syarat domisili (KTP) program ini.",
        "Your household does not meet this program's residence (KTP) requirement.",
    ),
}


def _program(value: str) -> Program | None:
    return Program(value) if value in Program.__members__ else None


def _join(items: list[str], word: str) -> str:
    """``a, b and c`` (``word`` is the last conjunction)."""
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} {word} {items[-1]}"


def _decile(op: str) -> Callable[[str], Text | None]:
    """The renderer of ``d>limit`` (``op`` ``>``) or ``d<limit`` (``<``); ``d`` may be ``none``."""

    def render(detail: str) -> Text | None:
        match = _DECILE.fullmatch(detail)
        if match is None or match[2] != op:
            return None
        low, high = (1, int(match[3])) if op == ">" else (int(match[3]), 10)
        if not 1 <= low <= high <= 10 or (low, high) == (1, 10):
            return None
        if low == high:
            rule = Text(
                f"program ini hanya untuk desil {low}", f"this program is only for decile {low}"
            )
        else:
            rule = Text(
                f"program ini untuk desil {low} sampai {high}",
                f"this program is for deciles {low} to {high}",
            )
        if match[1] == "none":
            return Text(
                f"Desil keluarga Anda belum diketahui; {rule.id}.",
                f"Your household's decile is not known; {rule.en}.",
            )
        decile = int(match[1])
        if low <= decile <= high or not 1 <= decile <= 10:
            return None
        return Text(
            f"Keluarga Anda berada di desil {decile}; {rule.id}.",
            f"Your household is in decile {decile}; {rule.en}.",
        )

    return render


def _income(detail: str) -> Text | None:
    match = _INCOME.fullmatch(detail)
    if match is None:
        return None
    if match[3] is not None:
        line = format_rupiah(int(match[3]))
        return Text(
            "Penghasilan keluarga Anda belum diketahui, jadi belum dapat dipastikan di bawah "
            f"garis kemiskinan ({line} per orang per bulan).",
            "Your household's income is not known, so it cannot be confirmed to be below the "
            f"poverty line ({line} per person per month).",
        )
    income, line_value = int(match[1]), int(match[2])
    if income < line_value:
        return None
    income_text, line = format_rupiah(income), format_rupiah(line_value)
    return Text(
        f"Penghasilan per orang per bulan di keluarga Anda ({income_text}) tidak di bawah "
        f"garis kemiskinan ({line}).",
        f"Your household's monthly income per person ({income_text}) is not below the "
        f"poverty line ({line}).",
    )


def _double(detail: str) -> Text | None:
    programs = [_program(part) for part in detail.split(",")]
    if not all(programs) or len(set(programs)) != len(programs):
        return None
    names = [program_name(p) for p in programs if p is not None]
    them = "it" if len(names) == 1 else "them"
    return Text(
        f"Keluarga Anda sudah menerima {_join([n.id for n in names], 'dan')}; program ini "
        "tidak dapat diterima bersamaan dengan program tersebut.",
        f"Your household already receives {_join([n.en for n in names], 'and')}; this "
        f"program cannot be received together with {them}.",
    )


def _not_vulnerable(detail: str) -> Text | None:
    flags = detail.removeprefix("none of ").split(",")
    if not detail.startswith("none of ") or not all(flag in _FLAGS for flag in flags):
        return None
    return Text(
        "Tidak ada anggota keluarga Anda yang tercatat sebagai "
        f"{_join([_FLAGS[f].id for f in flags], 'atau')}; program ini mensyaratkan "
        "setidaknya satu anggota keluarga rentan.",
        "No member of your household is recorded as "
        f"{_join([_FLAGS[f].en for f in flags], 'or')}; this program requires at least one "
        "such member.",
    )


def _registered(program: Program) -> Text:
    name = program_name(program)
    return Text(
        f"Keluarga Anda tidak terdaftar sebagai penerima {name.id}.",
        f"Your household is not registered as receiving {name.en}.",
    )


def _not_registered(detail: str) -> Text | None:
    program = _program(detail.removeprefix("not ")) if detail.startswith("not ") else None
    return _registered(program) if program is not None else None


def _not_resident(detail: str) -> Text | None:
    if (match := _KTP.fullmatch(detail)) is not None and match[1] != match[2]:
        return Text(
            f"KTP kepala keluarga berasal dari kabupaten/kota {match[1]}, sedangkan keluarga "
            f"tercatat tinggal di {match[2]}; program ini mensyaratkan KTP dari "
            "kabupaten/kota tempat tinggal.",
            f"The head of household's KTP (ID card) is from regency {match[1]}, but the "
            f"household is registered as living in {match[2]}; this program requires a KTP "
            "from the regency where you live.",
        )
    if (match := _OUTSIDE.fullmatch(detail)) is None:
        return None
    allowed = match[2].split(",")
    if match[1] in allowed:
        return None
    regencies = "regency" if len(allowed) == 1 else "regencies"
    return Text(
        f"Keluarga Anda tinggal di kabupaten/kota {match[1]}, sedangkan program ini hanya "
        f"untuk kabupaten/kota {_join(allowed, 'dan')}.",
        f"Your household lives in regency {match[1]}, but this program is only for "
        f"{regencies} {_join(allowed, 'and')}.",
    )


def _excluded(detail: str) -> Text | None:
    if detail == "ALL":
        return Text(
            "Berdasarkan sanggahan yang dikabulkan, keluarga Anda dikeluarkan dari semua "
            "program bantuan.",
            "Following an upheld objection, your household was excluded from all assistance "
            "programs.",
        )
    if (program := _program(detail)) is None:
        return None
    name = program_name(program)
    return Text(
        f"Berdasarkan sanggahan yang dikabulkan, keluarga Anda dikeluarkan dari {name.id}.",
        f"Following an upheld objection, your household was excluded from {name.en}.",
    )


_RENDERERS: dict[str, Callable[[str], Text | None]] = {
    "DEACTIVATED": _DEACTIVATED.get,
    "EXCLUDED_BY_CASE": _excluded,
    "DECILE_ABOVE_MAX": _decile(">"),
    "DECILE_BELOW_MIN": _decile("<"),
    "INCOME_ABOVE_POVERTY_LINE": _income,
    "DOUBLE_PROGRAM": _double,
    "NOT_VULNERABLE": _not_vulnerable,
    _NOT_REGISTERED: _not_registered,
    "NOT_RESIDENT": _not_resident,
}


def _generic(code: str) -> Text:
    if _CODE.fullmatch(code) is None:
        return Text(
            "Keluarga Anda tidak memenuhi salah satu syarat program ini.",
            "Your household does not meet one of this program's requirements.",
        )
    return Text(
        f"Keluarga Anda tidak memenuhi salah satu syarat program ini (kode alasan {code}). "
        "Tanyakan penjelasannya ke dinas sosial setempat.",
        f"Your household does not meet one of this program's requirements (reason code "
        f"{code}). Ask your local social office for an explanation.",
    )


def explain_reason(code: str, detail: str | None) -> Text:
    """A plain-language sentence for one reason code and its detail; never raises.

    Known details are rendered with their values (``DECILE_ABOVE_MAX`` ``6>4`` says
    decile 6 and deciles 1 to 4). A known code with a missing or unparseable detail gives
    that code's sentence without values; an unknown code a generic sentence naming it
    (when it looks like a code at all).
    """
    key = _NOT_REGISTERED if code.startswith(_NOT_REGISTERED) else code
    base = _BASE.get(key)
    if base is None:
        return _generic(code)
    if detail is not None and (render := _RENDERERS.get(key)) is not None:
        rendered = render(detail.strip())
        if rendered is not None:
            return rendered
    if key == _NOT_REGISTERED and (wanted := _REGISTER_SUFFIX.get(code[len(key) :])):
        return _registered(wanted)
    return base
