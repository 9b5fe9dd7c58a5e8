"""``rosterhub explain``: why a booking was confirmed or rejected, from the decision itself.

A decision event carries every rule's result, so explaining one needs no broker and no
policy files: the text is :func:`rosterhub.streams.booking.rules.explain_decision`.
Reading a decision by booking id from the hub (and ``GET /bookings/{id}/explain``) comes
with the booking agent's wiring; for now the decision is given as a JSON file.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import typer

__all__ = ["register"]


def explain(
    from_file: Path = typer.Option(
        ..., "--from-file", help="A BookingConfirmed or BookingRejected as JSON: the CloudEvent, or just its data."
    ),
) -> None:
    """Print every booking rule's result for one decision, failures marked FAIL."""
    from rosterhub.streams.booking.rules import explain_decision

    try:
        decision = json.loads(from_file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        typer.secho(f"error: cannot read {from_file}: {exc}", fg=typer.colors.RED, err=True)
        raise typer.Exit(1) from exc
    data = decision.get("data") if isinstance(decision, Mapping) else None
    if not isinstance(decision, Mapping) or "rule_results" not in (data if isinstance(data, Mapping) else decision):
        typer.secho(f"error: {from_file} is not a booking decision (no rule_results)", fg=typer.colors.RED, err=True)
        raise typer.Exit(1)
    typer.echo(explain_decision(decision))


def register(app: typer.Typer) -> None:
    app.command("explain", help="Explain a booking decision: every rule, its reason code and detail.")(explain)
