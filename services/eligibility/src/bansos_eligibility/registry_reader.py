"""Reading the registry topic once, from the beginning up to now (no consumer group).

Used for shadow evaluation: a snapshot of the register's public events, folded into
household facts, without committing offsets or publishing anything.
"""

from __future__ import annotations

from bansos_contracts import topics
from bansos_contracts.kafka import ContractError, decode
from bansos_eligibility.registry_facts import FactsBook
from bansos_libs.kafka import read_to_end


async def read_registry(
    bootstrap_servers: str, topic: str = topics.REGISTRY
) -> tuple[FactsBook, int]:
    """The facts of every household on ``topic`` now, and how many messages were unreadable."""
    book, unreadable = FactsBook(), 0
    async for record in read_to_end(bootstrap_servers, topic):
        try:
            book.apply(decode(record.value, record.headers))
        except ContractError:
            unreadable += 1
    return book, unreadable
