"""OpenTelemetry metrics of a service process, exported by OTLP and served at ``/metrics``.

``configure_metrics`` installs a meter provider with an in-memory reader that backs the
``GET /metrics`` route of every role (Prometheus text format, no collector needed) and,
when the exporter is ``otlp``, a periodic OTLP/HTTP exporter beside it.

Counters are recorded through the small functions below (no-ops until metrics are
configured). Gauges are observed: a component registers a ``Gauge`` whose ``observe``
returns the current values, read on the collecting thread (the OTLP exporter's or the
``/metrics`` request's), so it must only read state that is safe to read from there.
"""

from __future__ import annotations

import math
import re
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from opentelemetry import metrics as otel_metrics
from opentelemetry.metrics import CallbackOptions, Counter, Meter, Observation
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import (
    Gauge as GaugeData,
)
from opentelemetry.sdk.metrics.export import (
    Histogram,
    HistogramDataPoint,
    InMemoryMetricReader,
    MetricReader,
    MetricsData,
    PeriodicExportingMetricReader,
    Sum,
)
from opentelemetry.sdk.resources import Resource

from bansos_libs.logs import get_logger

Attributes = Mapping[str, str | int]
Measurement = tuple[float, Attributes]
"""One observed value and its attributes (labels)."""

CONSUMED = "bansos.events.consumed"
DEADLETTERS = "bansos.deadletters"
PUBLISHED = "bansos.events.published"
CONSUMER_LAG = "bansos.consumer.lag"
RELAY_BACKLOG = "bansos.relay.backlog"
PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

log = get_logger("bansos.metrics")


@dataclass(frozen=True)
class Gauge:
    """An observable gauge: its name (``bansos.…``) and how to read its values now."""

    name: str
    observe: Callable[[], Iterable[Measurement]]
    description: str = ""
    unit: str = ""


class _Installed:
    """The meter provider of this process, its in-memory reader and its instruments."""

    def __init__(self, provider: MeterProvider, reader: InMemoryMetricReader) -> None:
        self.provider = provider
        self.reader = reader
        self.meter: Meter = provider.get_meter("bansos")
        self.consumed: Counter = self.meter.create_counter(
            CONSUMED, unit="{event}", description="Consumed events, by topic and result."
        )
        self.deadletters: Counter = self.meter.create_counter(
            DEADLETTERS, unit="{message}", description="Messages sent to the dead-letter topic."
        )
        self.published: Counter = self.meter.create_counter(
            PUBLISHED, unit="{event}", description="Events the outbox relay published."
        )
        self.gauges: set[str] = set()


_installed: _Installed | None = None
_global_set = False
_lock = threading.Lock()
_sources: dict[str, list[Gauge]] = {}
"""Registered gauges by name: several components may report under one name."""


def configure_metrics(
    service: str, exporter: str = "none", endpoint: str | None = None
) -> MeterProvider:
    """Install this process's meter provider: always an in-memory reader for ``/metrics``,
    plus a periodic OTLP/HTTP exporter when ``exporter`` is ``otlp`` (every 60 s, or
    ``OTEL_METRIC_EXPORT_INTERVAL`` ms). Metrics are never printed to the console."""
    global _installed, _global_set
    memory = InMemoryMetricReader()
    readers: list[MetricReader] = [memory]
    if exporter == "otlp":
        from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter

        metric_exporter = (
            OTLPMetricExporter(endpoint=f"{endpoint.rstrip('/')}/v1/metrics")
            if endpoint
            else OTLPMetricExporter()
        )
        readers.append(PeriodicExportingMetricReader(metric_exporter))
    provider = MeterProvider(
        resource=Resource.create({"service.name": f"bansos-{service}"}), metric_readers=readers
    )
    with _lock:
        _installed = _Installed(provider, memory)
        for name in list(_sources):
            _create_gauge(_installed, name)
        if not _global_set:
            otel_metrics.set_meter_provider(provider)
            _global_set = True
    return provider


def events_consumed(topic: str, count: int, result: str = "handled") -> None:
    """``count`` events of ``topic`` were consumed: ``handled`` or ``dead_lettered``."""
    installed = _installed
    if installed is not None and count:
        installed.consumed.add(count, {"topic": topic, "result": result})


def dead_lettered(topic: str, kind: str) -> None:
    """One message of ``topic`` went to the dead-letter topic for a reason of ``kind``."""
    installed = _installed
    if installed is not None:
        installed.deadletters.add(1, {"topic": topic, "reason": kind})
        installed.consumed.add(1, {"topic": topic, "result": "dead_lettered"})


def events_published(topic: str, count: int) -> None:
    """The outbox relay published ``count`` events to ``topic``."""
    installed = _installed
    if installed is not None and count:
        installed.published.add(count, {"topic": topic})


def register(gauge: Gauge) -> Callable[[], None]:
    """Report ``gauge`` from now on; returns the function that stops reporting it."""
    with _lock:
        _sources.setdefault(gauge.name, []).append(gauge)
        if _installed is not None:
            _create_gauge(_installed, gauge.name)

    def unregister() -> None:
        with _lock:
            registered = _sources.get(gauge.name, [])
            if gauge in registered:
                registered.remove(gauge)
            if not registered:
                _sources.pop(gauge.name, None)

    return unregister


def _create_gauge(installed: _Installed, name: str) -> None:
    """Create the observable gauge ``name`` once per provider (under ``_lock``)."""
    if name in installed.gauges or not _sources.get(name):
        return
    first = _sources[name][0]

    def callback(options: CallbackOptions) -> Iterable[Observation]:
        observations = []
        for gauge in list(_sources.get(name, ())):
            try:
                observations += [Observation(v, dict(a)) for v, a in gauge.observe()]
            except Exception as error:  # one failing source must not hide the others
                log.warning("metrics.gauge_failed", gauge=name, error=repr(error))
        return observations

    installed.meter.create_observable_gauge(
        name, callbacks=[callback], unit=first.unit, description=first.description
    )
    installed.gauges.add(name)


def collect() -> MetricsData | None:
    """The current values of every instrument (None before ``configure_metrics``)."""
    installed = _installed
    return None if installed is None else installed.reader.get_metrics_data()


def prometheus_text(data: MetricsData | None = None) -> str:
    """Metrics in the Prometheus text exposition format (0.0.4): monotonic sums as
    ``<name>_total`` counters, gauges and other sums as gauges, explicit-bucket histograms
    as histograms (cumulative); dots become underscores."""
    if data is None:
        data = collect()
    families: dict[str, tuple[str, str, list[str]]] = {}
    for resource_metrics in data.resource_metrics if data else ():
        for scope_metrics in resource_metrics.scope_metrics:
            for metric in scope_metrics.metrics:
                name = _metric_name(metric.name)
                if isinstance(metric.data, Sum) and metric.data.is_monotonic:
                    kind, name = "counter", name if name.endswith("_total") else f"{name}_total"
                elif isinstance(metric.data, Sum | GaugeData):
                    kind = "gauge"
                elif isinstance(metric.data, Histogram):
                    kind = "histogram"
                else:  # exponential histograms: exported by OTLP only
                    continue
                family = families.setdefault(name, (kind, metric.description or "", []))
                if isinstance(metric.data, Histogram):
                    for hist in metric.data.data_points:
                        family[2].extend(_histogram_samples(name, hist))
                else:
                    family[2].extend(
                        f"{name}{_labels(point.attributes or {})} {_number(point.value)}"
                        for point in metric.data.data_points
                    )
    lines: list[str] = []
    for name, (kind, description, samples) in families.items():
        if description:
            help_text = description.replace("\\", "\\\\").replace("\n", "\\n")
            lines.append(f"# HELP {name} {help_text}")
        lines.append(f"# TYPE {name} {kind}")
        lines.extend(samples)
    return "\n".join(lines) + "\n" if lines else ""


_INVALID_NAME = re.compile(r"[^a-zA-Z0-9_:]")
_INVALID_LABEL = re.compile(r"[^a-zA-Z0-9_]")


def _histogram_samples(name: str, point: HistogramDataPoint) -> list[str]:
    attributes = dict(point.attributes or {})
    samples, cumulative = [], 0
    bounds = [*map(_number, point.explicit_bounds), "+Inf"]
    for bound, count in zip(bounds, point.bucket_counts, strict=False):
        cumulative += count
        samples.append(f"{name}_bucket{_labels({**attributes, 'le': bound})} {cumulative}")
    samples.append(f"{name}_sum{_labels(attributes)} {_number(point.sum)}")
    samples.append(f"{name}_count{_labels(attributes)} {point.count}")
    return samples


def _metric_name(name: str) -> str:
    name = _INVALID_NAME.sub("_", name)
    return f"_{name}" if name[:1].isdigit() else name


def _labels(attributes: Mapping[str, object]) -> str:
    if not attributes:
        return ""
    pairs = []
    for key, value in sorted(attributes.items()):
        label = _INVALID_LABEL.sub("_", key)
        label = f"_{label}" if label[:1].isdigit() else label
        text = str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
        pairs.append(f'{label}="{text}"')
    return "{" + ",".join(pairs) + "}"


def _number(value: float) -> str:
    if isinstance(value, int):
        return str(value)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return repr(float(value))
