"""Instants: epoch milliseconds (how state and events keep them) and reading one a caller typed.

``to_ms``/``from_ms`` are the one conversion between aware datetimes and the epoch milliseconds that
processor state, timers and KPI facts keep.

Query instants must carry an offset: the hub's times are Europe/London and cross clock changes, so a
bare local time is ambiguous once a year and wrong for an hour twice. Shared by the worker's HTTP
queries (availability, passport) so they accept and refuse the same spellings.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

__all__ = ["LONDON", "from_ms", "iso_z", "ms_iso_z", "optional_ms", "parse_instant", "to_ms"]

#: The hub's zone: rotas, pay rules, KPI days and what trust systems show are Europe/London wall-clock notions.
LONDON = ZoneInfo("Europe/London")


def to_ms(dt: datetime) -> int:
    """Epoch milliseconds of an aware datetime (truncated, as Avro's timestamp-millis)."""
    return int(dt.timestamp() * 1000)


def from_ms(ms: int) -> datetime:
    """The UTC datetime of epoch milliseconds."""
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


def iso_z(dt: datetime) -> str:
    """ISO 8601 text of a UTC datetime with ``Z`` for ``+00:00``: how HTTP answers and FHIR resources write instants."""
    return dt.isoformat().replace("+00:00", "Z")


def ms_iso_z(ms: int | None) -> str | None:
    """:func:`iso_z` of epoch milliseconds kept in state; None for a missing one."""
    return None if ms is None else iso_z(from_ms(ms))


def optional_ms(value: datetime | int | None) -> int | None:
    """:func:`to_ms` of a field that may be missing or already in milliseconds (decoded Avro or stored state)."""
    return None if value is None else value if isinstance(value, int) else to_ms(value)


def parse_instant(text: str, name: str) -> datetime:
    """An ISO 8601 date-time with a UTC offset (``Z`` accepted; a ``+`` decoded to a space by a form-encoded
    query string is put back). Raises ``ValueError`` whose message names the parameter and value."""
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00").replace(" ", "+"))
    except ValueError:
        raise ValueError(f"{name}={text!r} is not an ISO 8601 date-time") from None
    if value.tzinfo is None:
        raise ValueError(f"{name} must carry a UTC offset (e.g. Z or +01:00)")
    return value
