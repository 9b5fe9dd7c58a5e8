"""JSON renderings of a mapping outcome: what ``rosterhub mapping apply`` prints and samples store.

Instants are written in UTC with milliseconds (``2026-03-28T20:00:00.000Z``), the
precision of Avro ``timestamp-millis``; money as a decimal string, never a float.
"""

from __future__ import annotations

import base64
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from rosterhub.leaves import map_leaves
from rosterhub.mapping.engine.apply import MappedEvent, Rejection, Skipped

__all__ = ["event_json", "jsonable", "rejection_json", "skipped_json"]


def _leaf(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    return value


def jsonable(value: Any) -> Any:
    """A mapped value as JSON: instants as UTC ISO text to the millisecond, bytes as base64, tuples as lists."""
    return map_leaves(value, _leaf, sequences=(list, tuple))


def event_json(event: MappedEvent) -> dict[str, Any]:
    return {
        "type": event.type,
        "id": event.id,
        "source": event.source,
        "subject": event.subject,
        "record": event.record_ref,
        "data": jsonable(event.data),
    }


def rejection_json(rejection: Rejection) -> list[dict[str, Any]]:
    """One line per problem of the rejected record (a record failing in three places prints three lines).

    ``field`` and ``value`` are the vendor's (its column, path or element, and what it sent);
    ``target`` is what the mapping was making from it (an event field, ``let.<name>``).
    """
    return [
        {
            "code": err.code,
            "message": err.message,
            "record": rejection.record_ref,
            "field": getattr(err, "field", None),
            "value": jsonable(getattr(err, "value", None)),
            "target": getattr(err, "target", None),
            "rule": getattr(err, "rule", None),
        }
        for err in rejection.errors
    ]


def skipped_json(skipped: Skipped) -> dict[str, Any]:
    out = {"skipped": skipped.record_ref, "reason": skipped.reason, "rule": skipped.rule}
    return {**out, "echo": True} if skipped.echo else out
