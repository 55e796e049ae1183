"""Structured logs (trace ids, no personal numbers) and settings from the environment."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from bansos_libs.logs import configure_logging, get_logger, mask_personal_numbers
from bansos_libs.settings import ServiceSettings
from bansos_libs.telemetry import (
    carrier_from_headers,
    context_from_carrier,
    current_carrier,
    trace_id_of,
    tracer,
)


def test_personal_numbers_are_masked() -> None:
    assert mask_personal_numbers("NIK 3517014505900001 rejected") == (
        "NIK **************** rejected"
    )
    assert mask_personal_numbers("id 12345678901234567") == "id 12345678901234567"  # 17 digits


def test_log_lines_are_json_with_trace_ids_and_no_nik(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("test", "INFO", "json")
    with tracer().start_as_current_span("work") as span:
        get_logger("t").info("row.rejected", nik="3517014505900001", detail=["3517014505900002"])
        expected = format(span.get_span_context().trace_id, "032x")
    line = json.loads(capsys.readouterr().err.strip().splitlines()[-1])
    assert line["event"] == "row.rejected"
    assert line["service"] == "test"
    assert line["trace_id"] == expected
    assert "3517014505900001" not in json.dumps(line)
    assert "3517014505900002" not in json.dumps(line)


def test_trace_context_round_trips_through_headers() -> None:
    with tracer().start_as_current_span("producer"):
        carrier = current_carrier()
        trace_id = trace_id_of()
    assert "traceparent" in carrier
    headers = [(k, v.encode()) for k, v in carrier.items()] + [("ce_id", b"x")]
    assert carrier_from_headers(headers) == carrier
    assert trace_id_of(context_from_carrier(carrier)) == trace_id


def test_sqlite_is_the_default_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BANSOS_DATABASE_URL", raising=False)
    env = ServiceSettings(service="registry", data_dir=tmp_path).eventsourcing_env()
    assert env["PERSISTENCE_MODULE"] == "eventsourcing.sqlite"
    assert env["SQLITE_DBNAME"] == str(tmp_path / "registry.sqlite")


def test_postgres_and_cipher_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BANSOS_DATABASE_URL", "postgresql://u%40x:p%2Fw@db.example:6543/reg")
    monkeypatch.setenv("BANSOS_CIPHER_KEY", "a2V5")
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "kafka:9092")
    settings = ServiceSettings(service="registry")
    env = settings.eventsourcing_env()
    assert settings.kafka_bootstrap_servers == "kafka:9092"
    assert env["PERSISTENCE_MODULE"] == "eventsourcing.postgres"
    assert (env["POSTGRES_HOST"], env["POSTGRES_PORT"], env["POSTGRES_DBNAME"]) == (
        "db.example",
        "6543",
        "reg",
    )
    assert (env["POSTGRES_USER"], env["POSTGRES_PASSWORD"]) == ("u@x", "p/w")
    assert env["POSTGRES_ENABLE_DB_FUNCTIONS"] == "n"
    assert env["CIPHER_TOPIC"] == "eventsourcing.cryptography:AESCipher"
    assert "p/w" not in repr(settings)


def test_a_database_url_that_is_not_postgres_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BANSOS_DATABASE_URL", "mysql://x@y/z")
    with pytest.raises(ValidationError, match="postgresql://"):
        ServiceSettings(service="registry")


def test_the_fast_trace_paths_agree_with_the_propagator() -> None:
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

    propagator = TraceContextTextMapPropagator()
    with tracer().start_as_current_span("producer"):
        fast = current_carrier()
        slow: dict[str, str] = {}
        propagator.inject(slow)
    assert fast == slow
    ours = trace_id_of(context_from_carrier(fast))
    theirs = trace_id_of(propagator.extract(fast))
    assert ours == theirs is not None
    assert (
        trace_id_of(
            context_from_carrier({"traceparent": "00-" + "0" * 32 + "-" + "1" * 16 + "-01"})
        )
        is None
    )
    assert trace_id_of(context_from_carrier({"traceparent": "garbage"})) is None
