"""The stream worker's web server: the hub's own routes, each authenticated, served inside the worker.

A FastAPI app served by uvicorn on the worker's own event loop (faust's ``serve_asgi``, which
replaces faust's aiohttp web stack: none of its built-in views — ``/table/``, ``/router/``,
``/stats/``, ``/graph/`` — exist), started by faust after table recovery and stopped with the
worker. Features add their routers (:meth:`WorkerWeb.include_router`); this module adds
``/health`` (public), ``/metrics`` (role ``operator``) and ``/openapi.json`` (the access matrix
test reads it). Why this shape: docs/decisions/0009-worker-web-server.md.

**Partition owners.** A person's passport lives in one worker's table partition. A request about a
person is answered by the worker owning that partition: any other worker forwards it there
(:meth:`WorkerWeb.owner_or_forward`), with the caller's own ``Authorization`` header, so the
owner verifies the token again and nothing about the caller is re-asserted. The owner's URL comes
from faust's partition assignor (each worker's ``canonical_url``, which the assignor distributes
with the assignment whether or not faust's web server runs).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

import faust
import httpx
from fastapi import APIRouter, FastAPI, Request, Security
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from yarl import URL

from rosterhub.auth.audit import PURPOSE_HEADER, AuditRecord
from rosterhub.auth.roles import Role
from rosterhub.auth.tokens import TokenVerifier
from rosterhub.auth.web import Access, Authenticate, install_access
from rosterhub.instants import parse_instant
from rosterhub.runtime import TopicNames
from rosterhub.settings import Settings

__all__ = ["FORWARDED_BY", "Refused", "WorkerWeb", "query_instant", "unavailable"]

log = logging.getLogger(__name__)

#: Set on a forwarded request: its receiver answers it itself or says 503, never forwards it again.
FORWARDED_BY = "X-Rosterhub-Forwarded-By"
_FORWARD_HEADERS = ("authorization", PURPOSE_HEADER.lower(), "content-type", "accept", "x-correlation-id")
_ANSWER_HEADERS = ("content-type", "retry-after", "www-authenticate")


def _ident(url: URL) -> tuple[str, int]:
    return (url.host or "", int(url.port or 80))


def unavailable(message: str) -> JSONResponse:
    return JSONResponse({"code": "unavailable", "message": message}, status_code=503, headers={"Retry-After": "1"})


class Refused(Exception):
    """A request a feature's route turns down: answered with ``status`` and the body ``{"code", "message"}``.

    Raised by the checks a route makes before it answers, caught by the route, which audits and renders it.
    """

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message

    def body(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


def query_instant(text: str | None, name: str) -> datetime | None:
    """The query parameter ``name`` as an instant (ISO 8601 with offset), None when not given; 400 when bad."""
    if not text:
        return None
    try:
        return parse_instant(text, name)
    except ValueError as exc:
        raise Refused(400, "bad_query", str(exc)) from None


class WorkerWeb:
    """One worker's web app, its audit writer and its forwarding to partition owners."""

    def __init__(self, app: faust.App, settings: Settings, names: TopicNames) -> None:
        self.faust, self.settings = app, settings
        self.api = FastAPI(
            title="rosterhub worker", version="0.1.0", docs_url=None, redoc_url=None, lifespan=self._lifespan
        )
        self.url = URL(str(app.conf.canonical_url))
        self._audit_topic = app.topic(
            names.audit, key_type=bytes, value_type=bytes, key_serializer="raw", value_serializer="raw"
        )
        self._http: httpx.AsyncClient | None = None
        install_access(self.api, Access(TokenVerifier.from_settings(settings), str(self.url), self._write_audit))
        operator = Security(Authenticate(), scopes=[Role.OPERATOR])

        @self.api.get("/health", summary="Liveness, for container healthchecks (no credentials needed)")
        async def health() -> dict[str, str | bool]:
            # 200 while the worker runs, saying whether it is in a rebalance (bounded, so not a failure)
            return {"status": "ok", "rebalancing": bool(app.rebalancing)}

        @self.api.get(
            "/metrics", summary="Prometheus metrics", dependencies=[operator], response_class=PlainTextResponse
        )
        async def metrics() -> Response:
            return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    @asynccontextmanager
    async def _lifespan(self, _api: FastAPI) -> AsyncIterator[None]:
        yield
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    def include_router(self, router: APIRouter) -> None:
        self.api.include_router(router)
        self.api.openapi_schema = None  # regenerated with the new routes

    def serve(self) -> None:
        """Have faust start this app with the worker (after table recovery), when a web port is configured."""
        if self.settings.worker_web_port is None:
            return
        from faust.contrib.asgi import serve_asgi

        serve_asgi(
            self.faust,
            self.api,
            host=self.settings.worker_web_host,
            port=self.settings.worker_web_port,
            log_level="warning",
            access_log=False,
        )

    async def _write_audit(self, record: AuditRecord) -> None:
        key, value = record.encode()
        fut = await self._audit_topic.send(key=key, value=value)
        await fut  # the read is on the audit trail before the answer leaves

    async def owner_or_forward(self, request: Request, table: Any, key: bytes) -> Response | None:
        """None when this worker owns ``key``'s partition of ``table``; else the owner's answer (or 503 while the
        partition map is not known: start, rebalance)."""
        try:
            owner = URL(str(self.faust.router.key_store(table.name, key)))
        except (KeyError, TypeError) as exc:  # no owner known (yet)
            log.info("request for %r not routable yet: %r", key, exc)
            return unavailable("partition owner not known yet; retry")
        if _ident(owner) == _ident(self.url):
            return None
        if request.headers.get(FORWARDED_BY):
            return unavailable("the partition moved while the request was forwarded; retry")
        return await self._forward(request, owner)

    async def _forward(self, request: Request, owner: URL) -> Response:
        if self._http is None:
            self._http = httpx.AsyncClient(timeout=10.0)
        headers = {h: request.headers[h] for h in _FORWARD_HEADERS if h in request.headers}
        headers[FORWARDED_BY] = str(self.url)
        raw_path = request.scope.get("raw_path") or request.url.path.encode()
        query = request.scope.get("query_string") or b""
        target = f"{owner.scheme}://{owner.host}:{owner.port}{raw_path.decode('latin-1')}"
        target += f"?{query.decode('latin-1')}" if query else ""
        try:
            answer = await self._http.request(request.method, target, headers=headers, content=await request.body())
        except httpx.HTTPError as exc:
            log.info("forward to %s failed: %r", owner, exc)
            return unavailable(f"the partition owner {owner} did not answer; retry")
        kept = {h: answer.headers[h] for h in _ANSWER_HEADERS if h in answer.headers}
        return Response(answer.content, status_code=answer.status_code, headers=kept)
