"""One GET of a changes page, as a value: status, headers and a size-capped body, or why there was none.

The only place the polling transport touches the network (the client is passed in, so tests
can hand in any ``httpx`` transport). The body is read in chunks and never held beyond
``max_page_bytes`` x 4: enough to keep an over-size page's bytes for the dead letter
without letting a runaway response fill the memory.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

import httpx

__all__ = ["Answer", "fetch"]

_KEEP_FACTOR = 4  # an over-size page is read up to this many times the limit, for the dead letter
_ERROR_BODY_BYTES = 64 * 1024


@dataclass(frozen=True, slots=True)
class Answer:
    status: int | None  # None: no HTTP answer (timeout, connection error, stopped)
    headers: Mapping[str, str]  # lower-case names
    body: bytes
    truncated: bool  # the body went on past what was kept
    received_at: datetime
    failure: str = ""

    @property
    def ok(self) -> bool:
        return not self.failure and self.status is not None and 200 <= self.status < 300

    @classmethod
    def failed(cls, why: str, at: datetime) -> Answer:
        return cls(None, {}, b"", False, at, why)


def fetch(
    client: httpx.Client,
    path: str,
    params: Mapping[str, str],
    headers: Mapping[str, str],
    *,
    max_page_bytes: int,
    clock: Callable[[], datetime],
) -> Answer:
    """GET ``path``; never raises for network trouble (it becomes ``Answer.failure``)."""
    try:
        with client.stream("GET", path, params=params, headers=headers) as response:
            cap = max_page_bytes * _KEEP_FACTOR if response.is_success else _ERROR_BODY_BYTES
            body, truncated = _read_capped(response, cap)
            return Answer(response.status_code, dict(response.headers), body, truncated, clock())
    except httpx.TimeoutException as exc:
        return Answer.failed(f"timeout ({type(exc).__name__})", clock())
    except httpx.RequestError as exc:
        return Answer.failed(f"{type(exc).__name__}: {exc}", clock())


def _read_capped(response: httpx.Response, cap: int) -> tuple[bytes, bool]:
    """The body, decoded from any Content-Encoding, but never more than ``cap`` bytes in memory."""
    buffer = bytearray()
    for chunk in response.iter_bytes():
        buffer += chunk
        if len(buffer) > cap:
            return bytes(buffer[:cap]), True
    return bytes(buffer), False
