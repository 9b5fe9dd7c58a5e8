"""The faust side of outbound delivery: the router agent and the per-destination delivery loops.

The **router** (agent ``outbound-router``) reads the availability view on views.availability
and the topics of every declared update kind's event (:mod:`.kinds`: events.booking,
events.timesheet, events.payroll...), decides with the pure functions in ``routing.py`` who
must be told what, and queues one record per (update, destination) on ``out.<destination>``,
keyed by the kind's order field (the shift id, or a pay update's batch id). Its table
``outbound-router`` remembers per shift (views and booking events are keyed by shift id, so
one agent instance owns a shift) the view revision applied, who the shift was open to, and
the latest view record (attached to booking updates as ``Update.shift``). Destinations whose
adapter declares ``kinds`` are queued only those.

The **delivery loops** (``engine.DeliveryLoop``, one per destination, started as an app task)
each consume their own queue with their own consumer group, so no destination waits for
another. Nothing here runs when no destination is configured.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any

import faust
import httpx

from rosterhub.connectors.outbound.contract import Adapter, Destination
from rosterhub.connectors.outbound.delivery import idempotency_key
from rosterhub.connectors.outbound.destinations import adapters, destinations, resolve
from rosterhub.connectors.outbound.engine import DeliveryLoop, EngineConfig
from rosterhub.connectors.outbound.kinds import declared, for_event, source_domains
from rosterhub.connectors.outbound.queue import Queued, StoredRecord, encode_queued
from rosterhub.connectors.outbound.routing import ShiftMemory, route_outcome, route_view
from rosterhub.envelope import KafkaRecord
from rosterhub.errors import InputError
from rosterhub.events.models import ShiftAvailability
from rosterhub.kafka.admin import ensure_topics
from rosterhub.topics import outbound_topic

if TYPE_CHECKING:
    from rosterhub.streams.app import StreamContext

__all__ = ["register"]

log = logging.getLogger(__name__)

VIEW_TYPE = ShiftAvailability.AVRO_NAME


def _load(doc: dict[str, Any] | None) -> ShiftMemory | None:
    """The table value (faust stores table values as JSON: a dict comes back) as router memory."""
    if not doc:
        return None
    return ShiftMemory(
        doc["revision"],
        doc["version"],
        tuple(doc["open_to"]),
        tuple(doc["host"]) if doc.get("host") else None,
        {"view": doc.get("view")},
    )


def _dump(mem: ShiftMemory) -> dict[str, Any]:
    return {
        "revision": mem.revision,
        "version": mem.version,
        "open_to": list(mem.open_to),
        "host": list(mem.host) if mem.host else None,
        "view": mem.extra.get("view"),
    }


def register(app: faust.App, ctx: StreamContext) -> None:
    settings = ctx.settings
    dests = destinations(settings)
    if not dests:
        log.info("outbound: no destinations configured; router and delivery loops not started")
        return
    # a destination without an adapter stops the worker at start, named
    adapter_of = resolve(dests, adapters(tuple(settings.outbound_adapter_modules)))
    ensure_topics(
        ctx.kafka,
        [outbound_topic(d.name).prefixed(settings.topic_prefix) for d in dests],
        default_partitions=settings.default_partitions,
        replication_factor=settings.replication_factor,
    )
    _register_router(app, ctx, dests, adapter_of)
    _register_delivery(app, ctx, dests, adapter_of)  # metrics: the worker's /metrics (streams/web.py)


def _register_router(
    app: faust.App, ctx: StreamContext, dests: list[Destination], adapter_of: dict[str, Adapter]
) -> None:
    names = ctx.names
    view_topic = names.events("view")
    source = ctx.raw_topic(app, *sorted({names.events(d) for d in source_domains()} | {view_topic}))
    queues = {d.name: ctx.raw_topic(app, names.outbound(d.name)) for d in dests}
    memory = app.Table("outbound-router", default=None, key_type=str, partitions=ctx.settings.default_partitions)
    kinds = declared()
    takes = {d.name: getattr(adapter_of[d.name], "kinds", None) for d in dests}

    @app.agent(source, name="outbound-router", concurrency=1)
    async def route(stream: faust.StreamT[bytes]) -> None:
        async for event in stream.events():
            try:
                env = ctx.decode(event)
            except InputError:
                continue  # the processors reading these topics dead-letter undecodable records once
            is_view = event.message.topic == view_topic
            if not is_view and not for_event(env):
                continue  # an input, or an event nobody declared a kind for
            shift_id = str(env.data.get("shift_id") or "")
            uses_view = is_view or any(k.uses_view for k in for_event(env))
            if uses_view and not shift_id:
                continue
            before = _load(memory.get(shift_id)) if uses_view else None
            stored = StoredRecord.of(event.value, event.headers)
            after: ShiftMemory | None = None
            if is_view:
                if env.type != VIEW_TYPE:
                    continue
                routed, after = route_view(before, env.data, dests)
                if after is None:
                    continue  # an older or repeated revision
                after = ShiftMemory(
                    after.revision, after.version, after.open_to, after.host, {"view": stored.to_json()}
                )
                shift = None
            else:
                routed = route_outcome(env, before, dests)
                view = before.extra.get("view") if before else None
                shift = StoredRecord.from_json(view) if view else None
            # Queue before remembering: a crash in between routes the record again with the same keys.
            for r in routed:
                accepted = takes[r.destination]
                if accepted is not None and r.kind not in accepted:
                    continue
                order = str(env.data.get(kinds[r.kind].order_field) or shift_id)
                q = Queued(idempotency_key(env.id, r.destination), r.destination, r.kind, order, stored, shift)
                rec = encode_queued(q, queues[r.destination].get_topic_name())
                await queues[r.destination].send(key=rec.key, value=rec.value, headers=rec.headers)
                log.info("outbound: %s %s -> %s (%s)", r.kind, order, r.destination, q.key)
            if after is not None:
                memory[shift_id] = _dump(after)


def _register_delivery(
    app: faust.App, ctx: StreamContext, dests: list[Destination], adapter_of: dict[str, Adapter]
) -> None:
    settings, names = ctx.settings, ctx.names

    async def publish(rec: KafkaRecord) -> None:
        fut = await ctx.raw_topic(app, rec.topic).send(key=rec.key, value=rec.value, headers=rec.headers)
        await fut

    async def deliver() -> None:
        config = EngineConfig.from_settings(settings)
        async with httpx.AsyncClient(timeout=config.timeout_s) as client:
            loops = [
                DeliveryLoop(
                    d,
                    adapter_of[d.name],
                    topic=names.outbound(d.name),
                    group_id=f"{settings.app_id}.outbound.{d.name.lower()}",
                    kafka=ctx.kafka,
                    dlq_topic=names.dlq("outbound"),
                    codec=ctx.codec,
                    encode=ctx.encoder.encode,
                    publish=publish,
                    client=client,
                    config=config,
                    blocks_topic=names.outbound_blocks,
                )
                for d in dests
            ]
            log.info("outbound: delivering to %s", ", ".join(sorted(d.name for d in dests)))
            await until_stopping(app, asyncio.gather(*(loop.run() for loop in loops)))

    app.task(deliver)  # a call, not a decorator: faust types ``App.task``'s result as a union of untyped callables


async def until_stopping(app: faust.App, work: Awaitable[Any]) -> None:
    """Run ``work`` until the app begins to stop, then abandon it at once (issue #17).

    faust cancels app tasks only at the end of its stop, after the consumer and tables: deliveries
    kept retrying meanwhile, for minutes when that stop hung. Abandoning is safe: a delivery loop
    commits a batch only once it is delivered, so what was in flight is read again after the
    restart and sent with the same idempotency key (receivers dedupe on it).
    """
    task = asyncio.ensure_future(work)
    stopping = asyncio.ensure_future(app.wait_until_stopped())
    try:
        await asyncio.wait({task, stopping}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopping.cancel()
        if not task.done():
            log.info("outbound: worker stopping; deliveries in flight abandoned, they resume on restart")
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
