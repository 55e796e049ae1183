"""``bansosctl token``: a signed development token for the local stack.

Prints only the token, so that ``TOKEN=$(bansosctl token --role REGENCY_OFFICER --region
35.17)`` works. The key is the development key of ``bansos_libs.auth.settings`` (created
on first use), so the services on the same machine accept the token without setup.
"""

from __future__ import annotations

from typing import Annotated

import typer

from bansos_libs.auth.roles import Role
from bansos_libs.auth.settings import AuthSettings, issuer_from_settings

__all__ = ["USAGE_ERROR", "register", "token"]

USAGE_ERROR = 2
"""The exit code for a bad role, region or option (as for any usage error)."""

_ROLES = ", ".join(role.value for role in Role)


def token(
    role: Annotated[
        str,
        typer.Option("--role", help=f"The role, case-insensitive: {_ROLES}.", show_default=False),
    ],
    region: Annotated[
        str,
        typer.Option(
            "--region",
            help="The Kemendagri region code of the scope: ID (national), 35, 35.17, 35.17.01 "
            "or 35.17.01.2001; its level must fit the role.",
            show_default=False,
        ),
    ],
    subject: Annotated[
        str | None,
        typer.Option("--subject", help="The subject (sub); default dev:<role>:<region>."),
    ] = None,
    name: Annotated[str | None, typer.Option("--name", help="A display name.")] = None,
    ttl: Annotated[
        int | None,
        typer.Option(
            "--ttl", min=1, help="Lifetime in seconds (default BANSOS_AUTH_TOKEN_TTL_SECONDS, 8h)."
        ),
    ] = None,
) -> None:
    """Mint a signed development token and print it (and nothing else) on stdout."""
    try:
        parsed_role = Role.parse(role)
        code = parsed_role.check_region(region)
        issuer = issuer_from_settings(AuthSettings())
        minted = issuer.mint(
            role=parsed_role, region=code, subject=subject, name=name, ttl_seconds=ttl
        )
    except ValueError as exc:  # unknown role, bad region, role/region mismatch, bad settings
        typer.echo(f"bansosctl token: {exc}", err=True)
        raise typer.Exit(code=USAGE_ERROR) from None
    except OSError as exc:  # the development key file cannot be read or created
        typer.echo(f"bansosctl token: cannot use the development key: {exc}", err=True)
        raise typer.Exit(code=1) from None
    typer.echo(minted)


def register(app: typer.Typer) -> None:
    """Add the ``token`` command to the ``bansosctl`` application."""
    app.command("token")(token)
