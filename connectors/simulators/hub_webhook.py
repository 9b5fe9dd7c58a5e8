"""The receiving side of the hub's standard update webhook (adapter ``rosterhub_webhook``), for simulators.

A platform onboarded with configuration only (Lantum, a master vendor) is told of updates in one
JSON shape (docs/outbound-adapters.md). This is what such a platform does with them, once for
every simulator that speaks it: check the HMAC signature (401 when wrong), apply each update once
(deduplicated on ``id``) to a :class:`~rosterhub.connectors.simulators.platform_state.PlatformState`,
and answer 204. ``on_applied`` lets the simulator react (a feed entry carrying ``hub_reference``).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from fastapi import Depends, FastAPI, Header, HTTPException, Request

from rosterhub.connectors.signing import verify
from rosterhub.connectors.simulators.platform_state import Op, PlatformState
from rosterhub.errors import SignatureError

__all__ = ["OPS", "UPDATE_PATH", "apply_update", "mount_updates", "signed_body"]

UPDATE_PATH = "/rosterhub/updates"
#: update kind -> the platform operation it is
OPS: dict[str, Op] = {
    "shift_open": "offer",
    "shift_withdrawn": "withdraw",
    "booking_confirmed": "confirm",
    "booking_rejected": "reject",
    "shift_filled": "fill",
    "booking_cancelled": "cancel",
    "no_show": "no_show",
}


def apply_update(state: PlatformState, body: dict[str, Any]) -> bool:
    """One update in the hub's standard shape; False when it repeats one applied before."""
    worker = (body.get("worker") or {}).get("name")
    detail = dict(body.get("shift") or {})
    if body.get("reasons"):
        detail["reasons"] = list(body["reasons"])
    reopen = bool((body.get("cancellation") or {}).get("shift_reopened"))
    return state.apply(
        body["id"],
        OPS[body["update"]],
        body["hub_shift_id"],
        booking_id=body.get("hub_booking_id"),
        worker=worker,
        reopen=reopen,
        **detail,
    )


def signed_body(secret: bytes) -> Callable[..., Awaitable[bytes]]:
    """A FastAPI dependency: the request's body, once its ``X-Rosterhub-Signature`` checks out with ``secret``
    (as the hub signs: :data:`~rosterhub.connectors.outbound.contract.SIGN`); 401 when it does not."""

    async def body(
        request: Request,
        x_rosterhub_timestamp: str | None = Header(None),
        x_rosterhub_signature: str | None = Header(None),
    ) -> bytes:
        raw = await request.body()
        try:
            verify(secret, x_rosterhub_timestamp, x_rosterhub_signature, raw, now=datetime.now(UTC), tolerance_s=300)
        except SignatureError as exc:
            raise HTTPException(401, str(exc)) from None
        return raw

    return body


def mount_updates(
    app: FastAPI,
    secret: bytes,
    state: PlatformState,
    on_applied: Callable[[dict[str, Any]], None] | None = None,
    path: str = UPDATE_PATH,
) -> None:
    """``POST <path>``: the hub's signed updates, applied to ``state``."""

    @app.post(path, status_code=204)
    async def updates(body: bytes = Depends(signed_body(secret))) -> None:
        update = json.loads(body)
        if apply_update(state, update) and on_applied is not None:
            on_applied(update)
