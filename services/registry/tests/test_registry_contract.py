"""The registry's published contract (its document's freshness: tests/unit)."""

from __future__ import annotations

from bansos_contracts import topics
from bansos_libs.asyncapi import service_asyncapi
from bansos_registry.bootstrap import DEFINITION


def test_the_registry_publishes_only_its_own_topic() -> None:
    assert DEFINITION.publisher is not None
    assert DEFINITION.publisher.topic == topics.REGISTRY
    assert DEFINITION.subscriber is None
    channels = service_asyncapi(DEFINITION)["channels"]
    assert {c["address"] for c in channels.values()} == {topics.REGISTRY}
