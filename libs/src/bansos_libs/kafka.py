"""Kafka clients with the settings this project relies on (never the library defaults).

aiokafka's defaults would silently lose or duplicate data here: producers default to
``acks=1`` without idempotence, consumers to auto-commit. These factories fix both.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, Literal

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.helpers import create_ssl_context
from aiokafka.partitioner import DefaultPartitioner
from aiokafka.structs import ConsumerRecord
from pydantic import SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bansos_contracts.integrity import is_checkpoint

__all__ = [
    "KafkaSecurity",
    "TopicPartition",
    "connection",
    "idempotent_producer",
    "partition_for",
    "read_to_end",
    "topic_partitions",
    "tracked_consumer_client",
]

_partitioner = DefaultPartitioner()


class KafkaSecurity(BaseSettings):
    """How clients authenticate to the broker (``BANSOS_KAFKA_*``): plaintext locally,
    SASL SCRAM over TLS in Kubernetes (Strimzi KafkaUsers, whose ACLs let each service
    write only its own topic)."""

    model_config = SettingsConfigDict(env_prefix="BANSOS_KAFKA_", extra="ignore", frozen=True)

    security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] = "SCRAM-SHA-512"
    sasl_username: str | None = None
    sasl_password: SecretStr | None = None
    ssl_cafile: Path | None = None
    """The cluster CA (Strimzi's ``<cluster>-cluster-ca-cert``); system CAs when unset."""

    @model_validator(mode="after")
    def _credentials_with_sasl(self) -> KafkaSecurity:
        if self.security_protocol.startswith("SASL") and not (
            self.sasl_username and self.sasl_password
        ):
            raise ValueError(
                f"BANSOS_KAFKA_SECURITY_PROTOCOL={self.security_protocol} needs "
                "BANSOS_KAFKA_SASL_USERNAME and BANSOS_KAFKA_SASL_PASSWORD"
            )
        return self

    def options(self) -> dict[str, Any]:
        """Keyword arguments for any aiokafka client."""
        options: dict[str, Any] = {"security_protocol": self.security_protocol}
        if self.security_protocol.endswith("SSL"):
            cafile = str(self.ssl_cafile) if self.ssl_cafile else None
            options["ssl_context"] = create_ssl_context(cafile=cafile)
        if self.security_protocol.startswith("SASL"):
            assert self.sasl_password is not None  # checked by the validator
            options["sasl_mechanism"] = self.sasl_mechanism
            options["sasl_plain_username"] = self.sasl_username
            options["sasl_plain_password"] = self.sasl_password.get_secret_value()
        return options


def connection(bootstrap_servers: str) -> dict[str, Any]:
    """The broker and the environment's security options, for any aiokafka client."""
    return {"bootstrap_servers": bootstrap_servers, **KafkaSecurity().options()}


def idempotent_producer(bootstrap_servers: str, client_id: str) -> AIOKafkaProducer:
    """A producer that writes each message once, in order per partition (acks=all)."""
    return AIOKafkaProducer(
        **connection(bootstrap_servers),
        client_id=client_id,
        enable_idempotence=True,
        acks="all",
        linger_ms=5,
        max_batch_size=512 * 1024,
        request_timeout_ms=30_000,
    )


def tracked_consumer_client(
    bootstrap_servers: str, group_id: str, client_id: str, max_records: int
) -> AIOKafkaConsumer:
    """A consumer whose position comes from our own tracking, not from auto-commit."""
    return AIOKafkaConsumer(
        **connection(bootstrap_servers),
        group_id=group_id,
        client_id=client_id,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        max_poll_records=max_records,
        fetch_max_bytes=32 * 1024 * 1024,
        max_partition_fetch_bytes=8 * 1024 * 1024,
        isolation_level="read_committed",
        # A killed member's partitions move to a live one after this long.
        session_timeout_ms=6000,
        heartbeat_interval_ms=1500,
    )


def partition_for(key: bytes, partitions: list[int]) -> int:
    """The partition Kafka's default partitioner (murmur2) gives ``key``."""
    return int(_partitioner(key, partitions, partitions))


async def topic_partitions(bootstrap_servers: str, topic: str) -> list[int]:
    """The partitions of ``topic``; ``ValueError`` if it does not exist."""
    admin = AIOKafkaAdminClient(**connection(bootstrap_servers))
    await admin.start()
    try:
        [described] = await admin.describe_topics([topic])
    finally:
        await admin.close()
    partitions = sorted(p["partition"] for p in described.get("partitions", []))
    if described.get("error_code") or not partitions:
        raise ValueError(f"topic {topic} does not exist")
    return partitions


async def read_to_end(
    bootstrap_servers: str, topic: str, *, checkpoints: bool = False
) -> AsyncIterator[ConsumerRecord[bytes, bytes]]:
    """Every message of ``topic`` from the beginning up to its end *now*, partition by
    partition in offset order; no consumer group, no committed offsets. Checkpoint
    messages (not events) are left out unless ``checkpoints`` is set."""
    tps = [TopicPartition(topic, p) for p in await topic_partitions(bootstrap_servers, topic)]
    consumer = AIOKafkaConsumer(**connection(bootstrap_servers), enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign(tps)
        ends = await consumer.end_offsets(tps)
        for tp in tps:  # not seek_to_beginning(): it was seen to stall fetching (0.14)
            consumer.seek(tp, 0)
        remaining = {tp for tp in tps if ends[tp] > 0}
        while remaining:
            for tp, records in (await consumer.getmany(*remaining, timeout_ms=1000)).items():
                for record in records:
                    if record.offset < ends[tp] and (
                        checkpoints or not is_checkpoint(record.headers)
                    ):
                        yield record
                if records and records[-1].offset >= ends[tp] - 1:
                    remaining.discard(tp)
    finally:
        await consumer.stop()
