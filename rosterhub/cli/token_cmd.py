"""``rosterhub token``: mint a bearer token from the local issuer (the one ``rosterhub run`` makes its hub accept).

The token goes to stdout alone, so it composes: ``curl -H "Authorization: Bearer $(rosterhub token
--trust RHQ --role trust_user)" ...``. ``--issuer-config`` prints instead the ``auth_issuers`` entry
that makes another hub process (``rosterhub serve``, a worker) accept this issuer's tokens.
"""

from __future__ import annotations

from typing import Annotated

import typer

from rosterhub.auth.roles import Role

__all__ = ["register"]


def token(
    role: Annotated[
        list[Role], typer.Option("--role", help="A role to grant (repeat for several).", case_sensitive=False)
    ] = [],  # noqa: B006 - typer reads the default, never mutates it
    trust: Annotated[str | None, typer.Option(help="The trust (ODS code) the caller acts for.")] = None,
    subject: Annotated[str | None, typer.Option(help="Who the token names (default: cli-<role>-<trust>).")] = None,
    collaborative: Annotated[str | None, typer.Option(help="Collaborative id, for programme-level roles.")] = None,
    ttl: Annotated[str, typer.Option(help="Lifetime, e.g. 15m, 1h, 8h.")] = "1h",
    issuer_config: Annotated[
        bool, typer.Option("--issuer-config", help="Print the auth_issuers entry accepting this issuer instead.")
    ] = False,
) -> None:
    """Mint an access token (ES256 JWT) from the local issuer in auth_local_issuer_dir (created on first use)."""
    from rosterhub.auth.issuer import LocalIssuer
    from rosterhub.settings import load_settings
    from rosterhub.streams.availability.policy import parse_duration

    issuer = LocalIssuer(load_settings().auth_local_issuer_dir)
    if issuer_config:
        typer.echo(issuer.accepted().model_dump_json())
        return
    if not role:
        raise typer.BadParameter("give at least one --role", param_hint="--role")
    bound = [r.value for r in role if r.trust_bound]
    if bound and not trust:
        raise typer.BadParameter(f"the roles {', '.join(bound)} act for a trust: give --trust", param_hint="--trust")
    try:
        lifetime = parse_duration(ttl)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--ttl") from None
    who = subject or "-".join(["cli", *(r.value for r in role), *([trust] if trust else [])])
    typer.echo(
        issuer.mint(who, role, trust=trust.upper() if trust else None, collaborative=collaborative, ttl=lifetime)
    )


def register(app: typer.Typer) -> None:
    app.command("token")(token)
