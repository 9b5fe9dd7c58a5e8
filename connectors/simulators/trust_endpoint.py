"""A simulated trust system that receives the hub's booking outcomes over HTTP.

Keeps what it received (deduplicated on ``Idempotency-Key``, counting repeats) so tests
and the demo can check that the trust's view converges to the hub's.
"""

from __future__ import annotations

from typing import Any

import typer
from fastapi import FastAPI, Header, Request

from rosterhub.connectors.simulators.serving import server_command

__all__ = ["create_trust_endpoint", "register_cli"]


def create_trust_endpoint() -> FastAPI:
    app = FastAPI(title="rosterhub simulated trust endpoint")
    received: dict[str, dict[str, Any]] = {}
    order: list[str] = []
    repeats = {"count": 0}

    @app.post("/outcomes/{trust}", status_code=204)
    async def outcome(trust: str, request: Request, idempotency_key: str = Header(...)) -> None:
        if idempotency_key in received:
            repeats["count"] += 1
            return
        received[idempotency_key] = {"trust": trust, **(await request.json())}
        order.append(idempotency_key)

    @app.get("/outcomes")
    async def list_outcomes() -> dict[str, Any]:
        return {"received": [received[k] for k in order], "repeats": repeats["count"]}

    return app


def register_cli(group: typer.Typer) -> None:
    doc = "A simulated trust system: takes booking outcomes at POST /outcomes/{trust}, lists them at GET /outcomes."
    server_command(group, "trust", create_trust_endpoint, 8090, doc)
