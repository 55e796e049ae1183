"""Channel assignment: which channel pays a household, where and when.

The approved list carries the ruleset's payment terms: households already enrolled in
one of ``existing_recipients_of`` (PKH, BPNT) are paid through ``existing_channel``
(their KKS card, at their KKS bank); the others, expansion recipients, through
``new_channel`` (PT Pos), at a community point in their village and then the district
post office, in the windows of the program period's schedule.
"""

from __future__ import annotations

from typing import Any

from bansos_payout.domain.payout import Window
from bansos_payout.schedule import Schedule

__all__ = ["assign_channel", "windows_of"]


def windows_of(schedule: Schedule, village: str) -> list[Window]:
    """The village's collection windows as stored on a payout (ISO 8601, UTC)."""
    return [
        {
            "kind": w.kind.value,
            "starts_at": w.starts_at.isoformat(),
            "ends_at": w.ends_at.isoformat(),
            "place": w.place,
        }
        for w in schedule.windows_for(village)
    ]


def assign_channel(
    payment: dict[str, Any], facts: dict[str, Any], windows: list[Window]
) -> tuple[str, str | None, str | None, list[Window]]:
    """``(channel, bank, location, windows)`` for a household with ``facts``, whose
    village has the PT Pos collection ``windows``.

    A household that should be paid by bank but has no KKS bank on record is paid by
    PT Pos: money that cannot be credited anywhere would only fail later.
    """
    existing = set(payment["existing_recipients_of"]).intersection(facts["programs"])
    channel = payment["existing_channel"] if existing else payment["new_channel"]
    if channel == "BANK_KKS" and facts.get("bank"):
        return channel, facts["bank"], f"KKS {facts['bank']}", []
    return "POS", None, windows[0]["place"] if windows else None, windows
