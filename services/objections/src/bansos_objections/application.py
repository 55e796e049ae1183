"""The objections service's event-sourced application and its own settings."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from bansos_libs.eventstore import ServiceApplication
from bansos_libs.settings import repo_root
from bansos_objections.domain.chains import CHAINS_FILE, ChainBook, load_chains
from bansos_objections.evidence import EvidenceStore, open_store
from bansos_objections.geo import RegencyBounds, load_bounds

__all__ = ["ObjectionsApplication", "ObjectionsSettings"]


class ObjectionsApplication(ServiceApplication):
    """``Case`` (one per case), ``Filer`` (one per person who files) and ``OpenCases``
    (one per household, naming its open case of each kind)."""

    service = "objections"


class ObjectionsSettings(BaseSettings):
    """Settings only the objections service reads (prefix ``BANSOS_``)."""

    model_config = SettingsConfigDict(env_prefix="BANSOS_", extra="ignore", frozen=True)

    chains_file: Path = Field(
        default=CHAINS_FILE, description="The review chains: stages, reviewers, service levels."
    )
    bounds_file: Path | None = Field(
        default=None,
        description="GeoJSON regency boundaries that coordinates are checked against"
        " (the packaged coarse boundaries when unset).",
    )
    evidence_dir: Path | None = Field(
        default=None,
        description="The folder evidence photos are stored in, by content hash"
        " (.local/evidence when unset and no S3 endpoint is set).",
    )
    evidence_s3_endpoint: str | None = Field(
        default=None, description="An S3-compatible endpoint; evidence goes to a bucket there."
    )
    evidence_s3_bucket: str | None = Field(default=None, description="…its bucket.")
    evidence_s3_access_key: str | None = Field(default=None, description="…its access key.")
    evidence_s3_secret_key: SecretStr | None = Field(default=None, description="…its secret.")
    evidence_s3_region: str = Field(default="us-east-1", description="…its signing region.")
    max_evidence_bytes: int = Field(
        default=5 * 1024 * 1024, gt=0, description="The largest photo accepted."
    )
    objections_per_month: int = Field(
        default=5, ge=1, description="Objections and complaints a citizen may file a month."
    )
    registry_url: str = Field(
        default="http://127.0.0.1:8101",
        description="The registry's HTTP API: identifies citizens, says where households live.",
    )
    service_token: str | None = Field(
        default=None,
        description="A SYSTEM token for the registry; unset in development (one is minted).",
    )

    def chains(self) -> ChainBook:
        """The review chains."""
        return load_chains(self.chains_file)

    def bounds(self) -> RegencyBounds:
        """The regency boundaries."""
        return load_bounds(self.bounds_file)

    def evidence_store(self) -> EvidenceStore:
        """Where evidence is stored."""
        secret = self.evidence_s3_secret_key
        return open_store(
            local_dir=self.evidence_dir or repo_root() / ".local" / "evidence",
            s3_endpoint=self.evidence_s3_endpoint,
            s3_bucket=self.evidence_s3_bucket,
            s3_access_key=self.evidence_s3_access_key,
            s3_secret_key=None if secret is None else secret.get_secret_value(),
            s3_region=self.evidence_s3_region,
        )
