"""Chain and checkpoint primitives of the public topics."""

from __future__ import annotations

import hashlib

import pytest

from bansos_contracts.integrity import (
    Checkpoint,
    chain_hash,
    chain_step,
    checkpoint_headers,
    is_checkpoint,
    log_hash,
)


def test_a_chain_covers_the_previous_chain_and_every_byte_of_the_value() -> None:
    first = chain_hash(None, b'{"a":1}')
    assert first == hashlib.sha256(bytes(32) + hashlib.sha256(b'{"a":1}').digest()).hexdigest()
    second = chain_hash(first, b'{"a":2}')
    assert second != chain_hash(first, b'{"a":3}')
    assert second != chain_hash(chain_hash(None, b'{"a":0}'), b'{"a":2}')
    assert chain_step(first, hashlib.sha256(b'{"a":2}').digest()) == second


def test_the_log_hash_binds_the_position() -> None:
    chain = chain_hash(None, b"x")
    assert log_hash(None, 1, chain) != log_hash(None, 2, chain)


def test_a_checkpoint_round_trips_through_its_bytes() -> None:
    checkpoint = Checkpoint("bansos.registry.v1", "registry", 42, 40, "ab" * 32)
    assert checkpoint.to_json() == checkpoint.to_json()
    assert Checkpoint.from_json(checkpoint.to_json()) == checkpoint
    assert is_checkpoint(checkpoint_headers(checkpoint))
    assert not is_checkpoint([("ce_type", b"bansos.registry.HouseholdRegistered.v1")])


@pytest.mark.parametrize(
    ("value", "names"),
    [
        (b"not json", "not JSON"),
        (b"[]", "not a JSON object"),
        (b'{"topic":"t","producer":"p","upto_position":"1","events":1,"log_hash":"x"}',
         "upto_position"),
        (b'{"topic":"t","producer":"p","upto_position":1,"log_hash":"x"}', "events"),
    ],
)  # fmt: skip
def test_a_malformed_checkpoint_is_refused_by_name(value: bytes, names: str) -> None:
    with pytest.raises(ValueError, match=names):
        Checkpoint.from_json(value)
