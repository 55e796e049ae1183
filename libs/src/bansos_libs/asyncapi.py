"""A service's AsyncAPI document, generated from the publisher and subscriber it runs.

The same ``ServiceDefinition`` that starts the outbox relay and the tracked consumer
describes them here, so the document cannot drift from what the service does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bansos_contracts.asyncapi import ServiceSpec, asyncapi_document
from bansos_contracts.catalog import events_on_topic

if TYPE_CHECKING:
    from bansos_libs.runtime import ServiceDefinition


def service_spec(definition: ServiceDefinition) -> ServiceSpec:
    """What the service publishes and consumes, for its AsyncAPI document."""
    publishes = {}
    if definition.publisher is not None:
        topic = definition.publisher.topic
        publishes[topic] = tuple(definition.publisher.events or events_on_topic(topic))
    subscribes = {}
    group_id = definition.name
    if definition.subscriber is not None:
        group_id = definition.subscriber.group_id
        for topic in definition.subscriber.topics:
            subscribes[topic] = tuple(events_on_topic(topic))
    return ServiceSpec(
        name=definition.name,
        title=f"bansos {definition.name}",
        description=definition.description,
        publishes=publishes,
        subscribes=subscribes,
        group_id=group_id,
    )


def service_asyncapi(definition: ServiceDefinition) -> dict[str, Any]:
    """The service's AsyncAPI 3.0 document."""
    return asyncapi_document(service_spec(definition))
