"""``rosterhub passport ...``: check trust policy files; ask a worker for a person's clearance.

``policy-check`` runs the same loader a worker runs at start, so a file it accepts is one
the worker accepts. ``clearance`` is an HTTP client of the worker's passport API: the
bearer token (``--token`` or ``ROSTERHUB_TOKEN``; ``rosterhub token --role trust_user --trust
ODS`` mints one) says who asks and for which trust, and the read is audited like any other,
with the purpose given. Exit codes: 0 ok (cleared), 1 unusable input or no answer, 2 answered
but not cleared.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from rosterhub.cli.common import echo_json, fail
from rosterhub.errors import ConfigError

app = typer.Typer(no_args_is_help=True)


@app.command("policy-check")
def policy_check(
    paths: Annotated[list[Path], typer.Argument(help="Policy files or folders of them (e.g. policies/).")],
) -> None:
    """Validate trust policy files (and the collaboratives they extend); print each trust's effective policy."""
    from rosterhub.streams.passport.policy import load_policies

    try:
        policies = load_policies(paths)
    except ConfigError as exc:
        fail(exc)
    for ods, p in sorted(policies.trusts.items()):
        typer.echo(f"{ods} {p.name or ''} (policy {p.fingerprint})")
        for a in p.agreements:
            typer.echo(f"  accepts {', '.join(a.issuers)} for {', '.join(a.credential_types)} under {a.id}")
        for r in p.requirements:
            who = "all staff" if r.staff_groups == "*" else ", ".join(r.staff_groups)
            typer.echo(f"  {r.name} ({who}): {', '.join(c.key for c in r.credentials)}")
        renewals = ", ".join(f"{s}={v}" for s, v in sorted(p.cstf_renewal.items()))
        typer.echo(f"  CSTF renewal: {renewals or 'issuer expiry only'}")
    typer.echo(f"{len(policies.trusts)} trust policies valid")


@app.command()
def clearance(
    person: Annotated[str, typer.Argument(help="Hub person id.")],
    staff_group: Annotated[str, typer.Option(help="Staff group of the role, e.g. NURSING_MIDWIFERY_REGISTERED.")],
    grade: Annotated[str, typer.Option(help="Canonical grade of the role, e.g. BAND_5.")],
    token: Annotated[
        str,
        typer.Option(
            envvar="ROSTERHUB_TOKEN",
            help="Bearer token (role trust_user): clearance is answered for its trust, and its subject is audited.",
        ),
    ],
    purpose: Annotated[str, typer.Option(help="Why (recorded in the audit trail), e.g. booking.")] = "booking",
    at: Annotated[str | None, typer.Option(help="Shift start, ISO 8601 with offset (default: now).")] = None,
    end: Annotated[str | None, typer.Option(help="Shift end, ISO 8601 with offset (default: the start).")] = None,
    url: Annotated[str | None, typer.Option(help="Worker web URL (default: from worker_web_host/port).")] = None,
) -> None:
    """Ask a worker whether PERSON is cleared for a role at your trust, and print the answer as JSON."""
    import httpx

    from rosterhub.settings import load_settings

    settings = load_settings()
    base = url or f"http://{settings.worker_web_host}:{settings.worker_web_port or 6066}"
    params = {"staff_group": staff_group, "grade": grade, "at": at or datetime.now(UTC).isoformat()}
    if end:
        params["end"] = end
    headers = {"Authorization": f"Bearer {token}", "X-Rosterhub-Purpose": purpose}
    try:
        r = httpx.get(f"{base}/passport/{person}/clearance", params=params, headers=headers, timeout=10)
    except httpx.HTTPError as exc:
        typer.secho(f"error: no answer from {base}: {exc}", fg=typer.colors.RED, err=True)
        raise typer.Exit(1) from None
    try:
        echo_json(r.json())
    except ValueError:
        typer.echo(r.text)
    if r.status_code != 200:
        raise typer.Exit(1)
    if not r.json()["cleared"]:
        raise typer.Exit(2)
