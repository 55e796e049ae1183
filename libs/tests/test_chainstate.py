"""The relay's chain state: the same chains whether or not the relay restarts, on every
backend."""

from __future__ import annotations

from collections.abc import Callable

from bansos_contracts.integrity import Checkpoint, chain_hash, log_hash
from bansos_libs.chainstate import ChainState
from bansos_libs.settings import ServiceSettings
from bansos_libs.views import ViewDatabase

LOG = [(position, f"s{position % 3}", f"value {position}".encode()) for position in range(1, 11)]


def _state(settings: ServiceSettings, every: int = 4) -> ChainState:
    state = ChainState(ViewDatabase(settings), "t.v1", "tallies", checkpoint_every=every)
    state.create_tables()
    state.load()
    return state


def _fold(state: ChainState, log: list[tuple[int, str, bytes]]) -> list[str]:
    state.preload(subject for _, subject, _ in log)
    return [state.fold(subject, position, value) for position, subject, value in log]


def test_chains_cover_the_previous_event_of_the_same_subject(
    store_settings: Callable[[str], ServiceSettings],
) -> None:
    state = _state(store_settings("tallies"))
    chains = _fold(state, LOG)
    assert chains[0] == chain_hash(None, b"value 1")
    assert chains[3] == chain_hash(chains[0], b"value 4")  # 4 % 3 == 1 % 3
    expected_log = None
    for (position, _, _), chain in zip(LOG, chains, strict=True):
        expected_log = log_hash(expected_log, position, chain)
    assert state.log.log_hash == expected_log
    assert state.log.events == 10 and state.log.last_event_position == 10


def test_a_restarted_state_goes_on_with_the_same_chains(
    store_settings: Callable[[str], ServiceSettings],
) -> None:
    settings = store_settings("tallies")
    straight = _fold(_state(settings), LOG)

    first = ChainState(ViewDatabase(settings), "other.v1", "tallies")
    first.create_tables()
    first.load()
    head = _fold(first, LOG[:6])
    first.save(6)
    first.save(6)  # saving again changes nothing
    resumed = ChainState(ViewDatabase(settings), "other.v1", "tallies")
    assert resumed.load().position == 6
    tail = _fold(resumed, LOG[6:])
    assert head + tail == straight
    assert resumed.log.events == 10


def test_checkpoints_fall_on_every_nth_event(
    store_settings: Callable[[str], ServiceSettings],
) -> None:
    state = _state(store_settings("tallies"), every=4)
    due = []
    state.preload(subject for _, subject, _ in LOG)
    for position, subject, value in LOG:
        state.fold(subject, position, value)
        if state.due_checkpoint():
            due.append(state.checkpoint())
    assert [c.upto_position for c in due] == [4, 8]
    assert [c.events for c in due] == [4, 8]
    assert Checkpoint.from_json(due[0].to_json()) == due[0]
