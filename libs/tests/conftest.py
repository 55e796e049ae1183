"""Backend-agnostic store fixtures: the same tests run on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from bansos_libs.settings import ServiceSettings


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgres", id="postgres", marks=pytest.mark.integration),
    ]
)
def store_settings(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Callable[[str], ServiceSettings]:
    """Settings for a fresh event store of the parametrised backend."""

    def make(service: str) -> ServiceSettings:
        if request.param == "sqlite":
            return ServiceSettings(service=service, data_dir=tmp_path)
        new_database: Callable[[], str] = request.getfixturevalue("new_database")
        return ServiceSettings(service=service, database_url=new_database())

    return make


@pytest.fixture(scope="session", autouse=True)
def _tracing() -> None:
    """A real tracer provider (no exporter), so spans have ids."""
    from bansos_libs.telemetry import configure_tracing

    configure_tracing("test", exporter="none")
