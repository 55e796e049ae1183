"""One process of a service: its HTTP API, outbox relay and tracked consumer.

A service describes itself once (``ServiceDefinition``) and its ``__main__`` calls
``main``. The role on the command line picks what this process runs, so Kubernetes can
scale consumers by partitions while the relay stays a single replica, and a laptop can
run everything in one process:

    bansos-registry all | api | relay | consume

``relay`` also keeps the service's read models up to date and reports the service's
own gauges (one replica). Every role serves ``/health/live``, ``/health/ready`` and
``/metrics``; SIGTERM finishes the batch in hand, then exits.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import uvicorn
from fastapi import FastAPI
from fastapi.responses import PlainTextResponse

from bansos_contracts.envelope import Event
from bansos_libs.asyncapi import service_asyncapi
from bansos_libs.chainstate import ChainState
from bansos_libs.consumer import Handler, TrackedConsumer
from bansos_libs.eventstore import ServiceApplication
from bansos_libs.health import BrokerCheck, Health, health_router, store_check
from bansos_libs.logs import configure_logging, get_logger
from bansos_libs.metrics import PROMETHEUS_CONTENT_TYPE, Gauge, configure_metrics, prometheus_text
from bansos_libs.metrics import register as register_gauge
from bansos_libs.outbox import EventMapper, OutboxRelay
from bansos_libs.settings import ServiceSettings
from bansos_libs.telemetry import configure_tracing
from bansos_libs.views import ViewDatabase, ViewUpdater

ROLES = ("all", "api", "relay", "consume", "migrate")
log = get_logger("bansos.runtime")


@dataclass(frozen=True)
class Publisher:
    """The topic a service owns and how its domain events map to contract events."""

    topic: str
    mapper: EventMapper
    events: tuple[type[Event], ...] = ()
    """The contract events it publishes (default: every event of the topic)."""


@dataclass(frozen=True)
class Subscriber:
    """The topics a service consumes, its consumer group and its handler."""

    topics: tuple[str, ...]
    group_id: str
    handler: Callable[[Any], Handler]
    """Given the service's application, returns the handler of consumed events."""


@dataclass(frozen=True)
class ServiceDefinition:
    """Everything the runtime needs to run one service in any role."""

    name: str
    application: Callable[[ServiceSettings], ServiceApplication]
    publisher: Publisher | None = None
    subscriber: Subscriber | None = None
    api: Callable[[ServiceApplication, ServiceSettings], FastAPI] | None = None
    description: str = ""
    views: Callable[[Any, ServiceSettings], Sequence[ViewUpdater]] | None = None
    """Given the application and settings, the read models to keep up to date."""
    configure: Callable[[ServiceSettings], ServiceSettings] | None = None
    """Completes the environment's settings (e.g. a development key)."""
    default_port: int = 8100
    gauges: Callable[[Any, ServiceSettings], Sequence[Gauge]] | None = None
    """Given the application and settings, the service's own gauges (e.g. from its read
    models), reported where the views are kept up to date: the ``all`` and ``relay`` roles."""


def build_http(
    definition: ServiceDefinition,
    app: ServiceApplication,
    settings: ServiceSettings,
    health: Health,
    role: str,
) -> FastAPI:
    """The HTTP application of a process: the API in api/all roles, probes always."""
    if definition.api is not None and role in ("all", "api"):
        http = definition.api(app, settings)
    else:
        http = FastAPI(title=f"bansos {definition.name} ({role})")
    http.include_router(health_router(health, definition.name))
    document = service_asyncapi(definition)

    @http.get("/asyncapi", tags=["contracts"])
    async def asyncapi() -> dict[str, Any]:
        return document

    # Not async: collecting runs the gauges' callbacks, which may query a database.
    @http.get("/metrics", tags=["health"], response_class=PlainTextResponse)
    def metrics() -> PlainTextResponse:
        return PlainTextResponse(prometheus_text(), media_type=PROMETHEUS_CONTENT_TYPE)

    return http


async def run(definition: ServiceDefinition, role: str, settings: ServiceSettings) -> int:
    """Run one process until SIGTERM/SIGINT or a component fails; the exit code."""
    app = definition.application(settings)
    broker = BrokerCheck(settings.kafka_bootstrap_servers)
    health = Health({"event_store": store_check(app), "kafka": broker})
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)

    server = uvicorn.Server(
        uvicorn.Config(
            build_http(definition, app, settings, health, role),
            host=settings.http_host,
            port=settings.http_port,
            log_config=None,
            access_log=False,
            lifespan="on",
        )
    )
    # Signals belong to this runtime (it stops every component), not to uvicorn.
    server.capture_signals = contextlib.nullcontext  # type: ignore[method-assign,assignment]
    tasks: dict[str, asyncio.Task[Any]] = {"http": asyncio.create_task(server.serve())}
    if definition.publisher is not None and role in ("all", "relay"):
        relay = OutboxRelay(
            app,
            settings.topic_prefix + definition.publisher.topic,
            definition.publisher.mapper,
            settings.kafka_bootstrap_servers,
            batch_size=settings.relay_batch_size,
            idle_poll_seconds=settings.relay_idle_poll_seconds,
            checkpoint_seconds=settings.relay_checkpoint_seconds,
        )
        tasks["relay"] = asyncio.create_task(relay.run(stop))
    if definition.subscriber is not None and role in ("all", "consume"):
        sub = definition.subscriber
        consumer = TrackedConsumer(
            app,
            [settings.topic_prefix + topic for topic in sub.topics],
            settings.topic_prefix + sub.group_id,
            sub.handler(app),
            settings.kafka_bootstrap_servers,
            max_records=settings.consumer_max_records,
        )
        tasks["consumer"] = asyncio.create_task(consumer.run(stop))
    if definition.views is not None and role in ("all", "relay"):
        for updater in definition.views(app, settings):
            tasks[f"view:{updater.view.name}"] = asyncio.create_task(updater.run(stop))
    unregister = [
        register_gauge(gauge)
        for gauge in (
            definition.gauges(app, settings)
            if definition.gauges is not None and role in ("all", "relay")
            else ()
        )
    ]
    log.info("service.started", role=role, port=settings.http_port, components=sorted(tasks))

    stopper = asyncio.create_task(stop.wait())
    done, _ = await asyncio.wait([stopper, *tasks.values()], return_when=asyncio.FIRST_COMPLETED)
    failed = [name for name, task in tasks.items() if task in done and task.exception()]
    for name in failed:
        log.error("service.component_failed", component=name, error=repr(tasks[name].exception()))
    stop.set()
    server.should_exit = True
    await asyncio.gather(*tasks.values(), return_exceptions=True)
    for stop_reporting in unregister:
        stop_reporting()
    await broker.close()
    app.close()
    log.info("service.stopped", role=role)
    return 1 if failed else 0


def migrate(definition: ServiceDefinition, settings: ServiceSettings) -> int:
    """Create the service's tables (event store, tracking, read models, relay chain
    state) if they do not exist, then return: the init step before a service starts."""
    app = definition.application(settings)  # the event store creates its own tables
    try:
        if definition.views is not None:
            for updater in definition.views(app, settings):  # each creates its tables
                updater.database.close()
        if definition.publisher is not None:
            database = ViewDatabase(settings)
            topic = settings.topic_prefix + definition.publisher.topic
            ChainState(database, topic, definition.name).create_tables()
            database.close()
    finally:
        app.close()
    log.info("service.migrated", service=definition.name)
    return 0


def service_settings(definition: ServiceDefinition) -> ServiceSettings:
    """The environment's settings for a service, with the service's own default port."""
    settings = ServiceSettings(service=definition.name)
    if "http_port" not in settings.model_fields_set:
        settings = settings.model_copy(update={"http_port": definition.default_port})
    return definition.configure(settings) if definition.configure else settings


def main(definition: ServiceDefinition, argv: Sequence[str] | None = None) -> None:
    """Command-line entry point shared by every service; ``asyncapi`` prints the
    service's AsyncAPI document instead of running it."""
    args_in = list(sys.argv[1:] if argv is None else argv)
    if args_in[:1] == ["asyncapi"]:
        print(json.dumps(service_asyncapi(definition), indent=2, sort_keys=True))
        return
    parser = argparse.ArgumentParser(prog=f"bansos-{definition.name}")
    parser.add_argument("role", nargs="?", default="all", choices=ROLES)
    args = parser.parse_args(args_in)
    settings = service_settings(definition)
    configure_logging(definition.name, settings.log_level, settings.log_format)
    configure_tracing(
        definition.name,
        settings.otel_exporter,
        settings.otel_endpoint,
        settings.trace_sample_ratio,
    )
    configure_metrics(definition.name, settings.otel_exporter, settings.otel_endpoint)
    if args.role == "migrate":
        sys.exit(migrate(definition, settings))
    sys.exit(asyncio.run(run(definition, args.role, settings)))
