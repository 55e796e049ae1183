"""The eligibility service's event-sourced application and its own settings."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from bansos_eligibility.rules.model import PROGRAMS_DIR, Ruleset, load_rulesets
from bansos_libs.eventstore import ServiceApplication

__all__ = ["EligibilityApplication", "EligibilitySettings"]


class EligibilityApplication(ServiceApplication):
    """``Assessment`` (one per household) and ``BeneficiaryList`` (one per village list)."""

    service = "eligibility"


class EligibilitySettings(BaseSettings):
    """Settings only the eligibility service reads (prefix ``BANSOS_``)."""

    model_config = SettingsConfigDict(env_prefix="BANSOS_", extra="ignore", frozen=True)

    rulesets_dir: Path = Field(
        default=PROGRAMS_DIR,
        description="The folder of the open program periods' ruleset files (*.yaml).",
    )
    registry_url: str = Field(
        default="http://127.0.0.1:8101",
        description="The registry's HTTP API, which identifies citizens by NIK and name.",
    )
    service_token: str | None = Field(
        default=None,
        description="A SYSTEM token for the registry; unset in development (one is minted).",
    )
    status_requests_per_minute: float = Field(
        default=10, gt=0, description="Citizen status requests a client may make per minute."
    )
    status_burst: int = Field(default=5, ge=1, description="…and at once.")

    def rulesets(self) -> tuple[Ruleset, ...]:
        """The open program periods: every ruleset file of ``rulesets_dir``."""
        return load_rulesets(self.rulesets_dir)
