"""Evidence and coordinates: uploads checked before they are stored, references checked
before a case or review cites them, locations checked against the village's regency."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from bansos_objections.domain.case import CaseRefusedError
from bansos_objections.evidence import EvidenceStore, StoredEvidence, check_image
from bansos_objections.geo import RegencyBounds, UnknownRegencyError
from bansos_objections.requests import EvidenceRef, Point

__all__ = ["HOUSE_PHOTOS", "LABELS", "EvidenceChecker"]

HOUSE_PHOTOS: Final = ("HOUSE_FRONT", "HOUSE_SIDE", "HOUSE_INSIDE")
"""The photos a family not yet in the register must send with its proposal."""
LABELS: Final = (*HOUSE_PHOTOS, "FIELD_VISIT", "DOCUMENT", "OTHER")
"""What a piece of evidence may show."""


def regency_of(village: str) -> str:
    """The regency code of a village code (``35.17.01.2001`` → ``35.17``)."""
    return ".".join(village.split(".")[:2])


class EvidenceChecker:
    """Stores uploads and checks what cases cite."""

    def __init__(self, store: EvidenceStore, bounds: RegencyBounds, max_bytes: int) -> None:
        self.store = store
        self.bounds = bounds
        self.max_bytes = max_bytes

    def upload(self, data: bytes, declared_type: str | None) -> StoredEvidence:
        """Check an uploaded photo and store it by content hash (EvidenceRejectedError)."""
        media_type = check_image(data, declared_type, self.max_bytes)
        return self.store.put(data, media_type)

    def refs(self, refs: Sequence[EvidenceRef], village: str, field: str) -> list[dict[str, Any]]:
        """The evidence as events carry it; each must have been uploaded."""
        evidence: list[dict[str, Any]] = []
        for number, ref in enumerate(refs):
            where = f"{field}[{number}]"
            if ref.label not in LABELS:
                raise CaseRefusedError(
                    "UNKNOWN_LABEL",
                    f"{where}: label {ref.label!r} is not one of {', '.join(LABELS)}",
                )
            stored = self.store.stat(ref.content_hash)
            if stored is None:
                raise CaseRefusedError(
                    "EVIDENCE_NOT_UPLOADED",
                    f"{where}: no file with hash {ref.content_hash[:16]}… was uploaded;"
                    " upload it first (POST /evidence)",
                )
            evidence.append(
                {
                    "content_hash": stored.content_hash,
                    "media_type": stored.media_type,
                    "label": ref.label,
                    "location": self.point(ref.location, village, f"{where}.location"),
                }
            )
        return evidence

    def point(self, point: Point | None, village: str, field: str) -> dict[str, float] | None:
        """A location as events carry it; it must lie in the village's regency."""
        if point is None:
            return None
        regency = regency_of(village)
        try:
            inside = self.bounds.contains(regency, point.latitude, point.longitude)
        except UnknownRegencyError as error:
            raise CaseRefusedError("NO_BOUNDARY", f"{field}: {error}") from None
        if not inside:
            raise CaseRefusedError(
                "OUTSIDE_REGENCY",
                f"{field}: {point.latitude}, {point.longitude} is outside regency {regency},"
                f" where village {village} lies",
            )
        return {"latitude": point.latitude, "longitude": point.longitude}

    @staticmethod
    def require_house_photos(
        evidence: Sequence[dict[str, Any]], location: dict[str, float] | None
    ) -> None:
        """A family proposing itself for the register sends its house and its location."""
        missing = [
            label for label in HOUSE_PHOTOS if not any(e["label"] == label for e in evidence)
        ]
        if missing:
            raise CaseRefusedError(
                "PHOTOS_REQUIRED",
                f"a proposal for a family not yet registered needs photos {', '.join(missing)}",
            )
        if location is None:
            raise CaseRefusedError(
                "LOCATION_REQUIRED", "a proposal for a family not yet registered needs a location"
            )
