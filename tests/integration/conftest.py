"""Fixtures of the tests across service processes."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.integration.services import ServiceStack


@pytest.fixture
def stack(
    kafka_bootstrap: str, new_database: Callable[[], str], tmp_path: Path
) -> Iterator[ServiceStack]:
    """A stack of this test's own: topics with a fresh prefix, a database per service."""
    services = ServiceStack(kafka_bootstrap, new_database, tmp_path)
    yield services
    services.stop()
