"""The ``bansosctl`` command line: the one entry point for operators and auditors."""

from __future__ import annotations

import typer

from bansosctl import audit, cases, eligibility, payouts, registry, replay, status, token, trace_cli

app = typer.Typer(no_args_is_help=True)


@app.callback()
def main() -> None:
    """The operator and auditor command line of the bansos system."""


token.register(app)
registry.register(app)
eligibility.register(app)
payouts.register(app)
cases.register(app)
status.register(app)
replay.register(app)
audit.register(app)
trace_cli.register(app)
