"""The registry's published contract: its AsyncAPI document is committed and current."""

from __future__ import annotations

import json
from pathlib import Path

from bansos_contracts import topics
from bansos_libs.asyncapi import service_asyncapi
from bansos_registry.bootstrap import DEFINITION

COMMITTED = Path(__file__).resolve().parents[3] / "contracts" / "asyncapi" / "registry.json"


def test_the_committed_asyncapi_document_is_current() -> None:
    generated = json.loads(json.dumps(service_asyncapi(DEFINITION), sort_keys=True))
    assert json.loads(COMMITTED.read_text()) == generated, "run `make schemas` and commit"


def test_the_registry_publishes_only_its_own_topic() -> None:
    assert DEFINITION.publisher is not None
    assert DEFINITION.publisher.topic == topics.REGISTRY
    assert DEFINITION.subscriber is None
    channels = service_asyncapi(DEFINITION)["channels"]
    assert {c["address"] for c in channels.values()} == {topics.REGISTRY}
