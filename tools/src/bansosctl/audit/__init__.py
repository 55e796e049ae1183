"""The auditor's replica: a local index of the public topics (``bansosctl audit …``).

- :mod:`.index`: the SQLite index, and indexing already-decoded events;
- :mod:`.sync`: reading the topics into it, tracked and incremental;
- :mod:`.timeline`: one household's timeline across services, and its standing;
- :mod:`.decisions`: re-running recorded eligibility decisions;
- :mod:`.cli`: the commands.
"""

from __future__ import annotations

import typer

__all__ = ["register"]


def register(cli: typer.Typer) -> None:
    """Add ``audit`` to the main command line."""
    from bansosctl.audit import cli as audit_cli

    audit_cli.register(cli)
