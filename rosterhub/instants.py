"""Reading an instant a caller typed into a query string.

Query instants must carry an offset: the hub's times are Europe/London and cross clock changes, so a
bare local time is ambiguous once a year and wrong for an hour twice. Shared by the worker's HTTP
queries (availability, passport) so they accept and refuse the same spellings.
"""

from __future__ import annotations

from datetime import datetime

__all__ = ["parse_instant"]


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
