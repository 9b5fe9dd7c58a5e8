"""Putting a rendered update on the wire: an HTTP call or an atomic file drop.

Both raise :class:`~rosterhub.errors.DeliveryError` with ``retriable`` set: connection
errors, timeouts, 5xx, 408 and 429 may succeed later; other 4xx, a redirect, or a call the
engine cannot sign are permanent (retrying sends the same wrong request). Secrets are only
put in headers (``contract.wire_headers``) and never appear in an error message.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import httpx

from rosterhub.connectors.outbound.contract import Destination, FileDrop, HttpCall, wire_headers
from rosterhub.connectors.outbound.delivery import retriable_status
from rosterhub.errors import DeliveryError

__all__ = ["drop_file", "file_name", "send_http", "target_url"]


def target_url(destination: Destination, call: HttpCall) -> str:
    if not destination.url:
        raise DeliveryError(f"{destination.name}: an HTTP call needs a url", retriable=False)
    if not call.path:
        return destination.url
    return destination.url.rstrip("/") + "/" + call.path.lstrip("/")


async def send_http(client: httpx.AsyncClient, destination: Destination, call: HttpCall, key: str, now: float) -> int:
    """Send one attempt; return the status on success (2xx), raise DeliveryError otherwise."""
    url = target_url(destination, call)
    try:
        headers = wire_headers(call, destination, key, now)
    except ValueError as exc:
        raise DeliveryError(str(exc), retriable=False, destination=destination.name) from None
    try:
        response = await client.request(call.method, url, content=call.body, headers=headers)
    except httpx.HTTPError as exc:
        raise DeliveryError(
            f"cannot reach {url}: {type(exc).__name__}: {exc}", retriable=True, destination=destination.name
        ) from None
    if not 200 <= response.status_code < 300:
        raise DeliveryError(
            f"{call.method} {url} answered {response.status_code}: {response.text[:200]}",
            retriable=retriable_status(response.status_code),
            destination=destination.name,
            status=response.status_code,
        )
    return response.status_code


def file_name(drop: FileDrop, key: str) -> str:
    """The file's name in the folder: unique per idempotency key, so a repeat overwrites the same file."""
    name = drop.name
    if not name or "/" in name or "\\" in name or name.startswith("."):
        raise DeliveryError(f"file drop name {name!r} is not a plain file name", retriable=False)
    if key in name:
        return name
    stem, dot, suffix = name.rpartition(".")
    return f"{stem}-{key}.{suffix}" if dot and stem else f"{name}-{key}"


def drop_file(destination: Destination, drop: FileDrop, key: str) -> Path:
    """Write atomically: a hidden temp file in the same folder, fsync, then rename over the final name.

    A reader never sees a half-written file (rename is atomic within one filesystem), and a
    retried or redriven update lands on the same name instead of adding a second file.
    """
    if not destination.folder:
        raise DeliveryError(f"{destination.name}: a file drop needs a folder", retriable=False)
    folder = Path(destination.folder)
    final = folder / file_name(drop, key)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".rosterhub-", suffix=".part", dir=folder)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(drop.content)
                fh.flush()
                os.fsync(fh.fileno())
            Path(tmp).replace(final)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise DeliveryError(f"cannot write {final}: {exc}", retriable=True, destination=destination.name) from None
    return final
