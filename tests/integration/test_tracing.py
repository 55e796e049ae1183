"""A trace started by a command continues across Kafka into the consumer's process:
the same trace id in the spans and in the log lines of both processes."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
import pytest

from tests.integration.processes import pipeline_process

pytestmark = pytest.mark.integration


def _json_lines(text: str) -> list[dict[str, Any]]:
    lines = []
    for line in text.splitlines():
        if line.startswith("{"):
            try:
                lines.append(json.loads(line))
            except json.JSONDecodeError:
                continue
    return lines


def _spans(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [line for line in lines if "context" in line and "kind" in line]


def test_trace_crosses_kafka(
    kafka_bootstrap: str,
    new_topic: Callable[..., str],
    new_database: Callable[[], str],
    tmp_path: Path,
) -> None:
    topic = new_topic("trace", 2)
    source_url, sink_url = new_database(), new_database()
    console = {"BANSOS_OTEL_EXPORTER": "console"}
    command = pipeline_process(
        "command 35.17.01.2001 0 1",
        topic,
        kafka_bootstrap,
        source_url,
        tmp_path / "command.log",
        **console,
    )
    relay = pipeline_process(
        "source relay", topic, kafka_bootstrap, source_url, tmp_path / "relay.log", **console
    )
    sink = pipeline_process(
        "sink consume",
        topic,
        kafka_bootstrap,
        sink_url,
        tmp_path / "sink.log",
        BANSOS_LOG_LEVEL="DEBUG",
        **console,
    )
    command.start()
    assert command.process is not None and command.process.wait(timeout=60) == 0, command.output()
    relay.start()
    sink.start()
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with psycopg.connect(sink_url) as conn:
                    row = conn.execute("SELECT count(*) FROM pipesink_events").fetchone()
                if row and row[0] == 1:
                    break
            except psycopg.errors.UndefinedTable:
                pass
            time.sleep(0.1)
    finally:
        relay.stop()
        sink.stop()  # a graceful stop flushes the span exporter

    command_lines = _json_lines(command.output())
    [command_span] = [s for s in _spans(command_lines) if s["name"] == "register households"]
    trace_id = command_span["context"]["trace_id"].removeprefix("0x")
    [command_log] = [line for line in command_lines if line.get("event") == "command.handled"]
    assert command_log["trace_id"] == trace_id

    sink_lines = _json_lines(sink.output())
    [consumer_span] = [s for s in _spans(sink_lines) if s["name"] == f"{topic} process"]
    assert consumer_span["context"]["trace_id"].removeprefix("0x") == trace_id
    assert consumer_span["kind"] == "SpanKind.CONSUMER"
    [processed] = [line for line in sink_lines if line.get("event") == "consumer.processed"]
    assert processed["trace_id"] == trace_id

    # The relay forwards the command's context unchanged: the consumer's span is its child.
    assert consumer_span["parent_id"] == command_span["context"]["span_id"]
