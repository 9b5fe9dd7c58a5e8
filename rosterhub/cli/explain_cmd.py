"""``rosterhub explain``: why a booking was confirmed or rejected, from the decision itself.

A decision event carries every rule's result, so explaining one needs no policy files:
the text is :func:`rosterhub.streams.booking.rules.explain_decision`. Given a booking id,
the decision is read from ``events.booking`` on the configured broker (the same read model
as ``GET /bookings/{id}/explain``); given ``--from-file``, from a JSON file (no broker).
Exit codes: 0 explained, 1 unusable input or no broker, 2 no decision for that booking id.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated

import typer

from rosterhub.cli.common import echo_json, fail_with

__all__ = ["register"]


def explain(
    booking_id: Annotated[
        str | None, typer.Argument(help="Hub booking id: the decision is read from events.booking.")
    ] = None,
    from_file: Annotated[
        Path | None,
        typer.Option("--from-file", help="A BookingConfirmed or BookingRejected as JSON: the CloudEvent, or its data."),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the decision document as JSON instead of text.")
    ] = False,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for events.booking to be read.")] = 60.0,
) -> None:
    """Print every booking rule's result for one decision, failures marked FAIL."""
    if (booking_id is None) == (from_file is None):
        fail_with("give a booking id or --from-file (one of them)")
    if from_file is not None:
        _from_file(from_file, as_json)
    else:
        _from_broker(str(booking_id), as_json, timeout)


def _from_file(path: Path, as_json: bool) -> None:
    from rosterhub.streams.booking.rules import explain_decision

    try:
        decision = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        fail_with(f"cannot read {path}: {exc}")
    data = decision.get("data") if isinstance(decision, Mapping) else None
    if not isinstance(decision, Mapping) or "rule_results" not in (data if isinstance(data, Mapping) else decision):
        fail_with(f"{path} is not a booking decision (no rule_results)")
    text = explain_decision(decision)
    if as_json:
        echo_json({"explanation": text, "decision": decision})
    else:
        typer.echo(text)


def _from_broker(booking_id: str, as_json: bool, timeout: float) -> None:
    from rosterhub.errors import RosterhubError
    from rosterhub.kafka.resolve import resolve_broker
    from rosterhub.runtime import TopicNames, make_codec
    from rosterhub.settings import load_settings
    from rosterhub.streams.booking.decision_reader import DecisionReader
    from rosterhub.streams.booking.decisions import decision_document

    settings = load_settings()
    try:
        kafka = resolve_broker(settings, keep_running=True).access
    except RosterhubError as exc:
        fail_with(f"[{exc.code}] {exc}")
    topic = TopicNames(settings.topic_prefix).events("booking")
    try:
        with DecisionReader(kafka, topic, make_codec(settings, kafka)) as reader:
            found = reader.lookup(booking_id, timeout=timeout)
    except (TimeoutError, RosterhubError, LookupError) as exc:
        fail_with(str(exc))
    if found is None:
        typer.secho(f"no decision for booking {booking_id!r} on {topic}: unknown or not decided yet", err=True)
        raise typer.Exit(2)
    doc = decision_document(*found)
    if as_json:
        echo_json(doc)
    else:
        typer.echo(doc["explanation"])


def register(app: typer.Typer) -> None:
    app.command("explain", help="Explain a booking decision (by booking id, or --from-file): every rule's result.")(
        explain
    )
