"""Kafka clients authenticate as the environment says: plaintext locally, SCRAM over TLS
in Kubernetes."""

from __future__ import annotations

import ssl

import pytest
from pydantic import ValidationError

from bansos_libs.kafka import KafkaSecurity, connection


def test_plaintext_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SECURITY_PROTOCOL", "SASL_USERNAME", "SASL_PASSWORD"):
        monkeypatch.delenv(f"BANSOS_KAFKA_{name}", raising=False)
    assert connection("b:9092") == {"bootstrap_servers": "b:9092", "security_protocol": "PLAINTEXT"}


def test_scram_over_tls_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BANSOS_KAFKA_SECURITY_PROTOCOL", "SASL_SSL")
    monkeypatch.setenv("BANSOS_KAFKA_SASL_USERNAME", "payout")
    monkeypatch.setenv("BANSOS_KAFKA_SASL_PASSWORD", "s3cret")
    options = connection("bansos-kafka-bootstrap:9093")
    assert options["sasl_mechanism"] == "SCRAM-SHA-512"
    assert (options["sasl_plain_username"], options["sasl_plain_password"]) == ("payout", "s3cret")
    assert isinstance(options["ssl_context"], ssl.SSLContext)
    assert "s3cret" not in repr(KafkaSecurity())  # the password is a secret in logs


def test_sasl_without_credentials_is_refused_by_name() -> None:
    with pytest.raises(ValidationError, match="BANSOS_KAFKA_SASL_PASSWORD"):
        KafkaSecurity(security_protocol="SASL_SSL", sasl_username="payout")
