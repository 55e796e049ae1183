"""Runtime settings of a service, read from the environment (pydantic-settings).

Every setting has a default that works on a laptop with the local stack of
``deploy/local``; production overrides them with environment variables, never with
code. Variables use the ``BANSOS_`` prefix, except the few that have a name every Kafka
or OpenTelemetry tool already understands (``KAFKA_BOOTSTRAP_SERVERS``,
``OTEL_EXPORTER_OTLP_ENDPOINT``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal
from urllib.parse import unquote, urlsplit

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def repo_root(start: Path | None = None) -> Path:
    """The workspace root (the folder holding ``uv.lock``), or the cwd outside one."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "uv.lock").exists():
            return folder
    return here


class ServiceSettings(BaseSettings):
    """Settings shared by every service process (API, relay, consumer)."""

    model_config = SettingsConfigDict(env_prefix="BANSOS_", extra="ignore", frozen=True)

    service: str = Field(default="bansos", pattern=r"^[a-z][a-z0-9_-]*$")
    kafka_bootstrap_servers: str = Field(
        default="127.0.0.1:9092",
        validation_alias=AliasChoices("KAFKA_BOOTSTRAP_SERVERS", "BANSOS_KAFKA_BOOTSTRAP_SERVERS"),
    )
    database_url: SecretStr | None = Field(
        default=None,
        description="postgresql://user:password@host:port/dbname; unset means SQLite.",
    )
    data_dir: Path = Field(default_factory=lambda: repo_root() / ".local" / "data")
    cipher_key: SecretStr | None = Field(
        default=None, description="AES key (base64) that encrypts stored events at rest."
    )
    http_host: str = "127.0.0.1"
    http_port: int = Field(default=8100, ge=0, le=65535, description="0 picks a free port.")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["json", "console"] = "json"
    otel_exporter: Literal["console", "otlp", "none"] = "console"
    otel_endpoint: str | None = Field(
        default=None,
        validation_alias=AliasChoices("OTEL_EXPORTER_OTLP_ENDPOINT", "BANSOS_OTEL_ENDPOINT"),
    )
    trace_sample_ratio: float = Field(
        default=1.0,
        ge=0.0,
        le=1.0,
        description="Share of new traces recorded; a consumed message follows its producer.",
    )
    topic_prefix: str = Field(
        default="",
        pattern=r"^[a-z0-9._-]*$",
        description="Prepended to every topic the service publishes and consumes (tests,"
        " several environments on one cluster); empty in production.",
    )
    relay_batch_size: int = Field(default=2000, ge=1, le=100_000)
    relay_idle_poll_seconds: float = Field(default=0.05, gt=0, le=5)
    relay_checkpoint_seconds: float = Field(
        default=10.0,
        gt=0,
        le=3600,
        description="A caught-up relay publishes a checkpoint over new events this often.",
    )
    consumer_max_records: int = Field(default=2000, ge=1, le=100_000)
    postgres_pool_size: int = Field(default=5, ge=1, le=100)

    @field_validator("database_url")
    @classmethod
    def _postgres_only(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value():
            return None
        if value is not None:
            scheme = urlsplit(value.get_secret_value()).scheme
            if scheme not in ("postgresql", "postgres"):
                raise ValueError(f"database_url must be a postgresql:// URL, not {scheme!r}")
        return value

    @property
    def uses_postgres(self) -> bool:
        """True when the event store is PostgreSQL, false for the SQLite default."""
        return self.database_url is not None

    def eventsourcing_env(self) -> dict[str, str]:
        """The eventsourcing library's environment for this service's event store."""
        env: dict[str, str] = {}
        if self.database_url is not None:
            url = urlsplit(self.database_url.get_secret_value())
            env |= {
                "PERSISTENCE_MODULE": "eventsourcing.postgres",
                "POSTGRES_DBNAME": url.path.lstrip("/") or self.service,
                "POSTGRES_HOST": url.hostname or "127.0.0.1",
                "POSTGRES_PORT": str(url.port or 5432),
                "POSTGRES_USER": unquote(url.username or ""),
                "POSTGRES_PASSWORD": unquote(url.password or ""),
                "POSTGRES_POOL_SIZE": str(self.postgres_pool_size),
                "POSTGRES_MAX_OVERFLOW": str(self.postgres_pool_size),
                # Tracked consumers rely on the tracking check that the
                # database-function insert path was seen to skip.
                "POSTGRES_ENABLE_DB_FUNCTIONS": "n",
                "PROCESS_RECORDER_TOPIC": "bansos_libs.pgstore:FastPostgresProcessRecorder",
            }
        else:
            self.data_dir.mkdir(parents=True, exist_ok=True)
            env |= {
                "PERSISTENCE_MODULE": "eventsourcing.sqlite",
                "SQLITE_DBNAME": str(self.data_dir / f"{self.service}.sqlite"),
                "SQLITE_LOCK_TIMEOUT": "30",
            }
        if self.cipher_key is not None:
            env |= {
                "CIPHER_TOPIC": "eventsourcing.cryptography:AESCipher",
                "CIPHER_KEY": self.cipher_key.get_secret_value(),
            }
        return env
