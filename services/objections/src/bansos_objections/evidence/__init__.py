"""Evidence photos for objections: checked on upload, stored by content hash."""

from bansos_objections.evidence.media import (
    ALLOWED_MEDIA_TYPES,
    EvidenceRejectedError,
    check_image,
    sniff_media_type,
)
from bansos_objections.evidence.store import (
    EvidenceStore,
    EvidenceStoreError,
    LocalEvidenceStore,
    S3EvidenceStore,
    StoredEvidence,
    content_hash_of,
    open_store,
)

__all__ = [
    "ALLOWED_MEDIA_TYPES",
    "EvidenceRejectedError",
    "EvidenceStore",
    "EvidenceStoreError",
    "LocalEvidenceStore",
    "S3EvidenceStore",
    "StoredEvidence",
    "check_image",
    "content_hash_of",
    "open_store",
    "sniff_media_type",
]
