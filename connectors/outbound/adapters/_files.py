"""File names for the file-drop adapters: sortable in delivery order, unique per update, pure."""

from __future__ import annotations

from datetime import UTC, datetime

from rosterhub.connectors.outbound.adapters._facts import short_hash

__all__ = ["drop_name"]


def drop_name(prefix: str, at: datetime, key: str, suffix: str) -> str:
    """``<prefix>_<UTC yyyymmddTHHMMSSffffff>_<hash of key>.<suffix>``: a receiver reading names in order
    reads updates in the order the hub made them; the same update always gets the same name, so a
    redelivered file replaces itself instead of appearing twice."""
    return f"{prefix}_{at.astimezone(UTC):%Y%m%dT%H%M%S%f}_{short_hash(key)}.{suffix}"
