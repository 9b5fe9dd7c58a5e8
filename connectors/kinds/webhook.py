"""Inbound webhooks: ``POST /ingest/{vendor}[?trust=ODS]``.

Order of checks, and what the sender hears:
size over the limit -> 413 (payload kept on ``dlq.ingest``); bad or stale signature ->
401 and *nothing* is written (an unauthenticated body is not ours to keep); otherwise the
raw write happens first, then mapping: 202 when every record mapped, 422 with each
rejected record's reason when some did not (those went to ``dlq.mapping``).
"""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from rosterhub.connectors import metrics
from rosterhub.connectors.pipeline import IngestContext, ingest
from rosterhub.connectors.registry import connector
from rosterhub.connectors.signing import verify
from rosterhub.deadletter import dead_letter
from rosterhub.errors import ConfigError, PayloadTooLarge, SignatureError
from rosterhub.settings import Settings

__all__ = ["webhook_router"]

_DLQ_VALUE_LIMIT = 4 * 1024 * 1024  # keep under the broker's message.max.bytes


def _error(status: int, exc: Exception, correlation_id: str) -> JSONResponse:
    body = exc.as_dict() if hasattr(exc, "as_dict") else {"message": str(exc)}
    return JSONResponse({"error": body, "correlation_id": correlation_id}, status_code=status)


def webhook_router(settings: Settings, ctx: IngestContext) -> APIRouter:
    router = APIRouter()

    @router.post("/ingest/{vendor}", status_code=202, summary="Receive one vendor payload")
    async def receive(vendor: str, request: Request, trust: str | None = None) -> JSONResponse:
        started = time.perf_counter()
        correlation_id = request.headers.get("X-Correlation-Id") or str(uuid.uuid4())
        try:
            spec = connector(vendor)
        except ConfigError as exc:
            return _error(404, exc, correlation_id)
        body = await request.body()
        metrics.RECEIVED.labels(vendor).inc()
        if len(body) > settings.max_payload_bytes:
            exc = PayloadTooLarge(
                f"payload of {len(body)} bytes is over the limit of {settings.max_payload_bytes}", vendor=vendor
            )
            record = dead_letter(
                topic=ctx.names.dlq("ingest"),
                stage="ingest",
                error=exc,
                original=body[:_DLQ_VALUE_LIMIT],
                connector=vendor,
                record_ref="payload",
            )
            await run_in_threadpool(ctx.sink.send, [record])
            metrics.REFUSED.labels(vendor, "too_large").inc()
            return _error(413, exc, correlation_id)
        if spec.signature is not None:
            secret = settings.webhook_secrets.get(vendor)
            if secret is None:
                metrics.REFUSED.labels(vendor, "no_secret").inc()
                return _error(503, ConfigError(f"no webhook secret is configured for {vendor}"), correlation_id)
            try:
                verify(
                    secret.get_secret_value().encode(),
                    request.headers.get(spec.signature.timestamp_header),
                    request.headers.get(spec.signature.signature_header),
                    body,
                    now=datetime.now(UTC),
                    tolerance_s=spec.signature.tolerance_s,
                )
            except SignatureError as exc:
                metrics.REFUSED.labels(vendor, "signature").inc()
                return _error(401, exc, correlation_id)
        result = await run_in_threadpool(
            ingest,
            ctx,
            vendor,
            body,
            trust=trust,
            correlation_id=correlation_id,
            content_type=request.headers.get("content-type", spec.content_type),
        )
        metrics.MAPPED.labels(vendor).inc(len(result.event_ids))
        metrics.DUPLICATES.labels(vendor).inc(result.duplicates)
        for r in result.rejected:
            metrics.REJECTED.labels(vendor, r.error.get("code", "unknown")).inc()
        metrics.LATENCY.labels(vendor).observe(time.perf_counter() - started)
        status = 202 if not result.rejected else 422
        return JSONResponse({**result.as_dict(), "correlation_id": correlation_id}, status_code=status)

    return router
