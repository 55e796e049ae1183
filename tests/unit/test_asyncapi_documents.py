"""Every service's AsyncAPI document is committed (``make schemas``) and current."""

from __future__ import annotations

import importlib
import json
from pathlib import Path

import pytest

from bansos_libs.asyncapi import service_asyncapi

ROOT = Path(__file__).resolve().parents[2]
SERVICES = sorted(
    path.parents[2].name for path in (ROOT / "services").glob("*/src/bansos_*/__main__.py")
)


def test_every_runnable_service_is_checked() -> None:
    assert {"registry", "eligibility", "payout"} <= set(SERVICES)


@pytest.mark.parametrize("service", SERVICES)
def test_the_committed_asyncapi_document_is_current(service: str) -> None:
    definition = importlib.import_module(f"bansos_{service}.bootstrap").DEFINITION
    generated = json.loads(json.dumps(service_asyncapi(definition), sort_keys=True))
    committed = ROOT / "contracts" / "asyncapi" / f"{service}.json"
    assert committed.exists(), f"run `make schemas` and commit {committed.name}"
    assert json.loads(committed.read_text()) == generated, "run `make schemas` and commit"
