"""``rosterhub redrive``: re-send dead-lettered outbound updates (same idempotency keys)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer

from rosterhub.errors import RosterhubError

__all__ = ["register"]


def redrive(
    destination: Annotated[str | None, typer.Option(help="Only this destination's dead letters.")] = None,
    since: Annotated[
        str | None, typer.Option(help="Only dead letters since this time: ISO 8601, or back from now: 30m, 2h, 1d.")
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show what would be sent; send nothing.")] = False,
) -> None:
    """Send dead-lettered outbound updates again through the normal delivery path (the worker's delivery
    loops), with the same idempotency keys. Updates already delivered since, and repeats, are skipped."""
    from rosterhub.cli.common import fail, prepare
    from rosterhub.connectors.outbound.destinations import destinations
    from rosterhub.connectors.outbound.redrive import parse_since
    from rosterhub.connectors.outbound.redrive import redrive as run_redrive
    from rosterhub.runtime import TopicNames
    from rosterhub.settings import load_settings

    settings = load_settings()
    try:
        kafka = prepare(settings)
        plan = run_redrive(
            kafka,
            TopicNames(settings.topic_prefix),
            [d.name for d in destinations(settings)],
            only=destination,
            since=parse_since(since, datetime.now(UTC)),
            dry_run=dry_run,
        )
    except RosterhubError as exc:
        fail(exc)
    verb = "would send" if dry_run else "sent"
    labels = {
        "send": verb,
        "delivered": "skipped (delivered since)",
        "repeat": "skipped (repeat)",
        "unknown": "skipped (destination not configured)",
        "unreadable": "skipped (unreadable)",
    }
    for c in plan:
        typer.echo(
            f"{labels[c.action]:38} {c.destination:24} {c.kind:18} shift {c.shift_id} key {c.key} "
            f"(failed {c.failed_at}: {c.reason})"
        )
    counts = {a: sum(1 for c in plan if c.action == a) for a in labels}
    typer.echo(f"{counts['send']} {verb}, {len(plan) - counts['send']} skipped, of {len(plan)} dead letters")


def register(app: typer.Typer) -> None:
    app.command()(redrive)
