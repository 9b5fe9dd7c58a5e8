"""What the commands that talk to the hub's broker share: preparing the broker and failing with a named error."""

from __future__ import annotations

import json
from typing import Annotated, Any, NoReturn

import typer

from rosterhub.errors import RosterhubError
from rosterhub.kafka.access import KafkaAccess
from rosterhub.settings import Settings

__all__ = ["JsonFlag", "echo_json", "fail", "fail_with", "prepare"]

#: The ``--json`` option of the commands that print either text for people or JSON for scripts.
JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]


def echo_json(value: Any) -> None:
    """Print ``value`` as what ``--json`` prints: indented JSON, the one layout scripts read from every command."""
    typer.echo(json.dumps(value, indent=2))


def fail(exc: RosterhubError) -> NoReturn:
    """Print the error with its code and exit 1."""
    typer.secho(f"error [{exc.code}]: {exc}", fg=typer.colors.RED, err=True)
    raise typer.Exit(1)


def fail_with(message: str) -> NoReturn:
    """Print ``error: <message>`` and exit 1: a refusal that is not a :class:`RosterhubError` (an unknown id, a
    command the worker did not answer)."""
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(1)


def prepare(settings: Settings) -> KafkaAccess:
    """Resolve (or start) the broker and create the declared topics; return how to reach it (address and
    security). A refused login stops the process here, named (``kafka_auth_failed``), before any client starts."""
    from rosterhub.connectors.registry import connectors
    from rosterhub.kafka.admin import ensure_topics
    from rosterhub.kafka.resolve import resolve_broker
    from rosterhub.topics import declared_topics

    resolved = resolve_broker(settings, keep_running=True)
    ensure_topics(
        resolved.access,
        declared_topics(connectors(), settings.topic_prefix),
        default_partitions=settings.default_partitions,
        replication_factor=settings.replication_factor,
    )
    return resolved.access
