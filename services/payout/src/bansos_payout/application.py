"""The payout service's event-sourced application and its own settings."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from bansos_libs.eventstore import ServiceApplication
from bansos_libs.settings import repo_root
from bansos_payout.codes import CodeSigner, load_code_key, load_or_create_code_key
from bansos_payout.schedule import SCHEDULES_DIR, Schedule, load_schedules

__all__ = ["PayoutApplication", "PayoutSettings"]


class PayoutApplication(ServiceApplication):
    """``Payout`` (one per household and program period), ``Beneficiary`` (one per
    household) and ``Sptjm`` (one per village and program period)."""

    service = "payout"


class PayoutSettings(BaseSettings):
    """Settings only the payout service reads (prefix ``BANSOS_``)."""

    model_config = SettingsConfigDict(env_prefix="BANSOS_", extra="ignore", frozen=True)

    schedules_dir: Path = Field(
        default=SCHEDULES_DIR,
        description="The folder of the payout schedules (*.yaml), one per program period.",
    )
    code_key: SecretStr | None = Field(
        default=None,
        description="The key that signs collection codes (64+ hex digits). Unset in"
        " development: a key file under .local is created and reused.",
    )
    code_key_file: Path | None = Field(
        default=None, description="…or a file holding it (e.g. a mounted Secret)."
    )
    max_upload_bytes: int = Field(
        default=64 * 1024 * 1024, gt=0, description="The largest channel file accepted."
    )

    def schedules(self) -> dict[tuple[str, str], Schedule]:
        """The payout schedules by (program, period)."""
        return load_schedules(self.schedules_dir)

    def signer(self) -> CodeSigner:
        """The collection-code signer."""
        if self.code_key is not None:
            return CodeSigner(bytes.fromhex(self.code_key.get_secret_value()))
        if self.code_key_file is not None:
            return CodeSigner(load_code_key(self.code_key_file))
        return CodeSigner(load_or_create_code_key(repo_root() / ".local" / "keys" / "code.key"))
