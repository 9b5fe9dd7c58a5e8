"""JSON bodies for the HTTP adapters: stable key order, ISO instants with offsets, money as text."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from typing import Any

__all__ = ["dumps"]


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    raise TypeError(f"{type(value).__name__} is not JSON")


def dumps(body: dict[str, Any]) -> bytes:
    """Compact UTF-8 JSON, the same bytes for the same update (a retry is byte-identical)."""
    return json.dumps(body, default=_default, ensure_ascii=False, separators=(",", ":")).encode()
