"""Inbound pushes: ``POST /ingest/{vendor}``, one route per registered vendor.

Order of checks, and what the sender hears: no credentials, a bad token or a bad or stale
signature -> 401 and *nothing* is written (an unauthenticated body is not ours to keep); a
token without the ``trust_integration`` role, or ``?trust=`` naming another trust than the
credentials' -> 403, nothing written (:mod:`rosterhub.auth.push`); the hub too far behind, or
too many requests in progress -> 429 with Retry-After, nothing written: the sender keeps the
payload and sends it again (connectors/kinds/backpressure.py; only an authenticated sender learns
how busy the hub is); size over the limit -> 413 (payload kept on ``dlq.ingest`` with the
request's correlation id: the sender is known); otherwise the pipeline (``pipeline.ingest``): the
redacted raw copy first, then mapping: 202 when every record mapped, 422 with each rejected
record's reason when some did not (those went to ``dlq.mapping``; a record for another trust than
the sender's is one of them, ``trust_mismatch``), 500 ``internal_error`` when the hub failed after
keeping the payload (the answer names its raw record; a dead letter says why), 503 when the broker
could not take it (nothing kept: retry).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Security
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from rosterhub.auth.push import Pusher, push_authenticator
from rosterhub.auth.roles import Role
from rosterhub.connectors import metrics
from rosterhub.connectors.base import ConnectorSpec, HttpTransport
from rosterhub.connectors.kinds import backpressure
from rosterhub.connectors.kinds.backpressure import Admission
from rosterhub.connectors.pipeline import SENDER_TRUST, IngestContext, IngestFailed, ingest
from rosterhub.connectors.receipt import Receipt, refused
from rosterhub.connectors.registry import connectors
from rosterhub.errors import BrokerUnavailable, PayloadTooLarge
from rosterhub.settings import Settings

__all__ = ["TRANSPORT", "Webhook", "webhook_router"]


def _error(status: int, exc: Exception, correlation_id: str) -> JSONResponse:
    body = exc.as_dict() if hasattr(exc, "as_dict") else {"message": str(exc)}
    return JSONResponse({"error": body, "correlation_id": correlation_id}, status_code=status)


async def _too_large(
    ctx: IngestContext,
    vendor: str,
    body: bytes,
    exc: PayloadTooLarge,
    trust: str,
    content_type: str,
    received_at: datetime,
    correlation_id: str,
) -> JSONResponse:
    """413, the payload (redacted, at most 4 MiB) kept on dlq.ingest with the request's receipt headers.

    Only an authenticated sender gets here (finding 11 of issue #12): what a stranger sends is not kept."""
    receipt = Receipt(
        trust=trust,
        content_type=content_type,
        received_at=received_at,
        correlation_id=correlation_id,
        extra={SENDER_TRUST: trust},
    )
    record = await run_in_threadpool(lambda: refused(ctx, vendor, body, exc, **receipt))
    await run_in_threadpool(ctx.sink.send, [record])
    metrics.REFUSED.labels(vendor, "too_large").inc()
    return _error(413, exc, correlation_id)


#: The 429 answer in the OpenAPI document (the ingress's route table; tests/unit/connectors/test_backpressure.py).
BUSY_RESPONSE: dict[int | str, dict[str, Any]] = {
    429: {
        "description": "The hub is behind (workers' lag on the booking path) or this ingress has too many requests "
        "in progress: nothing was written; send the same payload again after Retry-After seconds.",
        "headers": {
            "Retry-After": {"description": "Seconds to wait before sending again.", "schema": {"type": "integer"}}
        },
    }
}


def webhook_router(settings: Settings, ctx: IngestContext, admission: Admission | None = None) -> APIRouter:
    router = APIRouter(tags=["ingest"])
    gate = admission or Admission(settings.ingress_max_in_flight, backpressure.lag_for(settings, ctx))
    for spec in connectors().values():
        router.add_api_route(
            f"/ingest/{spec.id}",
            _receiver(settings, ctx, spec, gate),
            methods=["POST"],
            status_code=202,
            summary=f"Receive one {spec.title} payload",
            responses=BUSY_RESPONSE,
        )
    return router


def _receiver(
    settings: Settings, ctx: IngestContext, spec: ConnectorSpec, gate: Admission
) -> Callable[..., Awaitable[JSONResponse]]:
    authenticate = push_authenticator(spec, settings.webhook_secrets)
    vendor = spec.id

    async def receive(
        request: Request,
        pusher: Pusher = Security(authenticate, scopes=[Role.TRUST_INTEGRATION]),
        trust: Annotated[
            str | None,
            Query(description="Optional: the sending trust's ODS code, which must be the credentials' trust (403)."),
        ] = None,
    ) -> JSONResponse:
        correlation_id = request.headers.get("X-Correlation-Id") or str(uuid.uuid4())
        # After authentication (the Security dependency above): a stranger learns nothing of how busy the hub is.
        wait = gate.enter()
        if wait is not None:  # the hub is behind, or this ingress is full: nothing written
            metrics.REFUSED.labels(vendor, "busy").inc()
            busy = {"code": "busy", "message": f"the hub is behind; send again in {wait} s"}
            return JSONResponse(
                {"error": busy, "correlation_id": correlation_id}, status_code=429, headers={"Retry-After": str(wait)}
            )
        try:
            return await _receive(request, pusher, correlation_id)
        finally:
            gate.leave()

    async def _receive(request: Request, pusher: Pusher, correlation_id: str) -> JSONResponse:
        started = time.perf_counter()
        body = await request.body()
        received_at = datetime.now(UTC)
        content_type = request.headers.get("content-type", spec.content_type)
        metrics.RECEIVED.labels(vendor).inc()
        if len(body) > settings.max_payload_bytes:
            exc = PayloadTooLarge(
                f"payload of {len(body)} bytes is over the limit of {settings.max_payload_bytes}", vendor=vendor
            )
            return await _too_large(ctx, vendor, body, exc, pusher.trust, content_type, received_at, correlation_id)
        try:
            result = await run_in_threadpool(
                ingest,
                ctx,
                vendor,
                body,
                trust=pusher.trust,
                sender_trust=pusher.trust,
                correlation_id=correlation_id,
                content_type=content_type,
                received_at=received_at,
            )
        except IngestFailed as exc:  # kept on the raw topic, the reason on dlq.mapping
            metrics.REJECTED.labels(vendor, exc.code).inc()
            raw = dict(zip(("topic", "partition", "offset"), exc.raw, strict=True))
            return JSONResponse({"error": exc.as_dict(), "raw": raw, "correlation_id": correlation_id}, status_code=500)
        except PayloadTooLarge as exc:  # its raw copy would not fit a record: refused as the size check would
            return await _too_large(ctx, vendor, body, exc, pusher.trust, content_type, received_at, correlation_id)
        except BrokerUnavailable as exc:  # nothing could be kept: the sender keeps it and retries
            metrics.REFUSED.labels(vendor, "broker").inc()
            response = _error(503, exc, correlation_id)
            response.headers["Retry-After"] = "30"
            return response
        metrics.MAPPED.labels(vendor).inc(len(result.event_ids))
        metrics.DUPLICATES.labels(vendor).inc(result.duplicates)
        for r in result.rejected:
            metrics.REJECTED.labels(vendor, r.error.get("code", "unknown")).inc()
        metrics.LATENCY.labels(vendor).observe(time.perf_counter() - started)
        status = 202 if not result.rejected else 422
        return JSONResponse({**result.as_dict(), "correlation_id": correlation_id}, status_code=status)

    receive.__name__ = f"receive_{vendor}"
    return receive


class Webhook(HttpTransport):
    """Kind ``webhook``: vendors push JSON to ``POST /ingest/{vendor}``; no quirks beyond the common ones
    (the signature is ``ConnectorSpec.signature``)."""

    kind = "webhook"


TRANSPORT = Webhook()
