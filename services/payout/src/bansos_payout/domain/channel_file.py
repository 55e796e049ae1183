"""The ``ChannelFile`` aggregate: one imported channel file (settlement or bank result).

Its id is derived from the file's SHA-256 and the region it was imported for, so
importing the same file again changes nothing and answers with the first import's
report. The refused lines are kept with their reasons: they are the mismatches of the
three-way reconciliation report.
"""

from __future__ import annotations

import uuid
from typing import Any

from eventsourcing.domain import Aggregate, event

__all__ = ["CHANNEL_FILE_NAMESPACE", "ChannelFile", "channel_file_uuid"]

CHANNEL_FILE_NAMESPACE = uuid.UUID("a4f0c2e8-6d1b-4b9a-8e3c-2d7f5a1b9c64")


def channel_file_uuid(key: str) -> uuid.UUID:
    """The aggregate id of an imported file (by ``SHA256@REGION``)."""
    return uuid.uuid5(CHANNEL_FILE_NAMESPACE, key)


class ChannelFile(Aggregate):
    """An imported channel file and what each of its lines did."""

    class Imported(Aggregate.Created):
        key: str
        """``SHA256@REGION``: a file is imported once per region it is confined to."""
        sha256: str
        kind: str
        """``SETTLEMENT`` or ``BANK_RESULT``."""
        channel: str
        """``POS``, or the bank for a bank result file."""
        name: str | None
        lines: int
        accepted: int
        unchanged: int
        refused: list[dict[str, Any]]
        """``{"line", "payout_id", "village", "code", "message", "amount"}`` per line."""
        actor: dict[str, Any]

    @staticmethod
    def create_id(key: str, **_: Any) -> uuid.UUID:
        return channel_file_uuid(key)

    @event(Imported)
    def __init__(
        self, key: str, sha256: str, kind: str, channel: str, name: str | None, lines: int,
        accepted: int, unchanged: int, refused: list[dict[str, Any]], actor: dict[str, Any],
    ) -> None:  # fmt: skip
        self.sha256 = sha256
        self.kind = kind
        self.channel = channel
        self.name = name
        self.lines = lines
        self.accepted = accepted
        self.unchanged = unchanged
        self.refused = list(refused)
