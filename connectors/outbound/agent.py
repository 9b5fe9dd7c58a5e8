"""Deliver booking outcomes to trust endpoints over HTTP, in order per shift.

At-least-once with an idempotency key; after ``outbound_max_attempts`` the original
record goes to ``dlq.outbound`` (``rosterhub redrive`` will send it again).
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

import faust
import httpx

from rosterhub.connectors.outbound.delivery import Delivery, backoff_s, plan_delivery, retriable_status
from rosterhub.deadletter import dead_letter
from rosterhub.envelope import decode_record, headers_dict
from rosterhub.errors import DeliveryError, InputError

if TYPE_CHECKING:
    from rosterhub.streams.app import StreamContext

__all__ = ["register", "send_once"]

log = logging.getLogger(__name__)


async def send_once(client: httpx.AsyncClient, delivery: Delivery) -> None:
    try:
        response = await client.post(
            delivery.url, json=delivery.body, headers={"Idempotency-Key": delivery.idempotency_key}
        )
    except httpx.HTTPError as exc:
        raise DeliveryError(f"cannot reach {delivery.url}: {exc!r}", retriable=True, trust=delivery.trust) from exc
    if response.status_code >= 300:
        raise DeliveryError(
            f"{delivery.url} answered {response.status_code}",
            retriable=retriable_status(response.status_code),
            trust=delivery.trust,
        )


def register(app: faust.App, ctx: StreamContext) -> None:
    source = ctx.raw_topic(app, ctx.names.events("booking"))
    dlq = ctx.raw_topic(app, ctx.names.dlq("outbound"))
    settings = ctx.settings

    @app.agent(source, name="outbound-delivery", concurrency=1)
    async def deliver(stream: faust.StreamT) -> None:
        async with httpx.AsyncClient(timeout=settings.outbound_timeout_s) as client:
            async for event in stream.events():
                try:
                    env = decode_record(event.value, event.headers, ctx.codec)
                except InputError:
                    continue  # the booking decider dead-letters undecodable records once
                delivery = plan_delivery(env, settings.outbound_endpoints)
                if delivery is None:
                    continue
                for attempt in range(1, settings.outbound_max_attempts + 1):
                    try:
                        await send_once(client, delivery)
                        log.info("delivered %s to %s", env.id, delivery.trust)
                        break
                    except DeliveryError as exc:
                        if not exc.retriable or attempt == settings.outbound_max_attempts:
                            msg = event.message
                            rec = dead_letter(
                                topic=dlq.get_topic_name(), stage="outbound", error=exc, original=event.value,
                                key=event.key, connector=f"outbound:{delivery.trust}",
                                origin=(msg.topic, msg.partition, msg.offset),
                                original_headers=list(headers_dict(event.headers).items()),
                            )  # fmt: skip
                            await dlq.send(key=rec.key, value=rec.value, headers=rec.headers)
                            log.warning("delivery of %s failed for good: %s", env.id, exc)
                            break
                        await asyncio.sleep(backoff_s(attempt))
