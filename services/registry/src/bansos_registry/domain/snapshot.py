"""``SnapshotImport``: the record that one DTSEN snapshot was imported, and its outcome.

Its id derives from the snapshot id, so one snapshot can be imported once: importing it
again with the same content changes nothing, and a different file under the same id is
refused.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from eventsourcing.domain import Aggregate, event

SNAPSHOT_NAMESPACE = uuid.UUID("0d6f3f0e-7c55-4b8e-b1c6-55a7c1d2e3f4")


def snapshot_uuid(snapshot_id: str) -> uuid.UUID:
    """The aggregate id of a snapshot id."""
    return uuid.uuid5(SNAPSHOT_NAMESPACE, snapshot_id)


class SnapshotImport(Aggregate):
    """One imported snapshot of one regency."""

    class Imported(Aggregate.Created):
        snapshot_id: str
        regency: str
        as_of: str
        content_sha256: str
        counts: dict[str, int]
        imported_at: datetime

    @staticmethod
    def create_id(snapshot_id: str, **_: Any) -> uuid.UUID:
        return snapshot_uuid(snapshot_id)

    @event(Imported)
    def __init__(
        self,
        snapshot_id: str,
        regency: str,
        as_of: str,
        content_sha256: str,
        counts: dict[str, int],
        imported_at: datetime,
    ) -> None:
        self.snapshot_id = snapshot_id
        self.regency = regency
        self.as_of = as_of
        self.content_sha256 = content_sha256
        self.counts = dict(counts)
        self.imported_at = imported_at
