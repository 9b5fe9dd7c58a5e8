"""The thin faust layer around the three payroll stages (docs/payroll.md).

* ``payroll-bookings`` (:mod:`.bookings`) reads events.shift and events.booking (keyed by shift
  id) and sends each booking's pay facts to ``_rosterhub.payroll-bookings``, keyed by booking id;
* ``payroll-timesheets`` (:mod:`.timesheets`) reads events.timesheet, the booking facts and the
  timer's ticks (all keyed by booking id): matches, queries, approves, prices; sends queries,
  approvals and missing-timesheet reports to events.timesheet and priced lines to
  ``_rosterhub.payroll-priced``, keyed by the employing trust;
* ``payroll-batches`` (:mod:`.batches`) reads the priced lines and batch commands of each
  employing trust in one order: numbers lines into batches, reverses corrections, closes
  batches; sends PayrollLineIssued / PayrollBatchClosed (events.payroll, keyed by batch) and
  RechargeLineRaised (events.recharge, keyed by statement).

All ``concurrency=1`` (faust #606); outputs before table writes, so a crash repeats a step on
the old state with the same ids (duplicates a consumer drops), never loses one. Each step runs
at its input record's time, so a re-processed record decides the same.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import faust

from rosterhub.envelope import Envelope, decode_record, headers_dict
from rosterhub.errors import InputError
from rosterhub.events.models.booking import (
    BookingCancelled,
    BookingConfirmed,
    BookingRejected,
    BookingRequested,
    NoShow,
)
from rosterhub.events.models.shift import ShiftPosted, ShiftUpdated
from rosterhub.events.models.timesheet import TimesheetApproved, TimesheetQueried, TimesheetSubmitted
from rosterhub.instants import to_ms
from rosterhub.streams import faust_typed
from rosterhub.streams.faust_typed import RawEvent, RawStream, StateTable
from rosterhub.streams.payroll import batches, bookings, metrics, timesheets
from rosterhub.streams.payroll.bookings import ShiftFacts
from rosterhub.streams.payroll.load import PayrollPolicies, load_payroll_policies
from rosterhub.streams.payroll.state import BookingSheets
from rosterhub.streams.schedule import Schedule
from rosterhub.topics import PAYROLL_BOOKINGS, PAYROLL_PRICED, PAYROLL_TICKS

if TYPE_CHECKING:
    from rosterhub.streams.app import StreamContext

__all__ = ["dumps", "register"]

log = logging.getLogger(__name__)

_TICK = b"tick"
HORIZON_MS = 24 * 3600 * 1000
#: How stages 2 and 3 send an event (encoded to its schema's topic).
Publish = Callable[[Envelope], Awaitable[None]]
_TIMESHEET_TYPES = frozenset(m.AVRO_NAME.encode() for m in (TimesheetSubmitted, TimesheetApproved, TimesheetQueried))
#: What stage 1 reads of events.shift and events.booking (anything else is passed over on its ce_type header,
#: without decoding the body).
_STAGE1_TYPES = frozenset(
    m.AVRO_NAME.encode()
    for m in (ShiftPosted, ShiftUpdated, BookingRequested, BookingConfirmed, BookingRejected, BookingCancelled, NoShow)
)


def dumps(message: dict[str, Any]) -> bytes:
    return json.dumps(message, sort_keys=True, separators=(",", ":")).encode()


def _time(event: RawEvent) -> datetime:
    ts = getattr(event.message, "timestamp", None)
    return datetime.fromtimestamp(ts, UTC) if ts else datetime.now(UTC)


def register(app: faust.App, ctx: StreamContext) -> PayrollPolicies | None:
    folder = ctx.settings.payroll_policy_dir
    if not folder.exists():
        log.warning("no payroll policies in %s: timesheets are not matched, approved or paid", folder)
        return None
    policies = load_payroll_policies([folder])  # a broken file stops the worker here, naming file and key
    parts = ctx.settings.default_partitions
    sends: dict[str, faust.TopicT] = {}

    async def publish(env: Envelope) -> None:
        rec = ctx.encoder.encode(env)
        if rec.topic not in sends:
            sends[rec.topic] = ctx.raw_topic(app, rec.topic)
        await sends[rec.topic].send(key=rec.key, value=rec.value, headers=rec.headers)

    _stage1(app, ctx, app.Table("payroll-shift-facts", default=None, key_type=str, partitions=parts))
    sheets = app.Table("payroll-timesheets", default=None, key_type=str, partitions=parts)
    schedule = _timer(app, ctx, sheets, policies)
    _stage2(app, ctx, sheets, schedule, policies, publish)
    _stage3(app, ctx, app.Table("payroll-batches", default=None, key_type=str, partitions=parts), policies, publish)
    return policies


def _stage1(app: faust.App, ctx: StreamContext, table: StateTable) -> None:
    names = ctx.names
    out = ctx.raw_topic(app, names.of(PAYROLL_BOOKINGS))

    @app.agent(
        ctx.raw_topic(app, names.events("shift"), names.events("booking")), name="payroll-bookings", concurrency=1
    )
    async def stage1(stream: RawStream) -> None:
        async for event in stream.events():
            if headers_dict(event.headers).get("ce_type") not in _STAGE1_TYPES:
                continue
            try:
                env = decode_record(event.value, event.headers, ctx.codec)
            except InputError:
                continue  # the booking and availability processors dead-letter undecodable records once
            key = str(env.data.get("shift_id") or "")
            if not key:
                continue
            before = ShiftFacts.from_table(table.get(key))
            result = bookings.step(before, env)
            for msg in result.out:
                await out.send(key=msg["booking_id"].encode(), value=dumps(msg))
            if result.state is not None and result.state != before:
                table[key] = result.state.to_table()


def _stage2(
    app: faust.App,
    ctx: StreamContext,
    table: StateTable,
    schedule: Schedule,
    policies: PayrollPolicies,
    publish: Publish,
) -> None:
    names = ctx.names
    facts, ticks = names.of(PAYROLL_BOOKINGS), names.of(PAYROLL_TICKS)
    to_batches = ctx.raw_topic(app, names.of(PAYROLL_PRICED))
    source = ctx.raw_topic(app, names.events("timesheet"), facts, ticks)

    @app.agent(source, name="payroll-timesheets", concurrency=1)
    async def stage2(stream: RawStream) -> None:
        async for event in stream.events():
            now, topic = _time(event), event.message.topic
            key = (event.key or b"").decode()
            before = BookingSheets.from_table(table.get(key))
            if topic == ticks:
                result = timesheets.tick(before, policies=policies, now=now) if before else None
            elif topic == facts:
                msg = json.loads(event.value)
                result = timesheets.step(before, msg, policies=policies, now=now)
            else:
                hdrs = headers_dict(event.headers)
                if hdrs.get("ce_source") == timesheets.SOURCE.encode() or (
                    "ce_type" in hdrs and hdrs["ce_type"] not in _TIMESHEET_TYPES
                ):
                    continue  # our own queries and approvals read back; events the stage does not take
                env = await ctx.decoded(app, event, "payroll-timesheets")
                if env is None:
                    continue
                key = str(env.data["booking_id"])
                before = BookingSheets.from_table(table.get(key))
                result = timesheets.step(before, env, policies=policies, now=now)
            if result is None:
                continue
            for out in result.events:
                await publish(out)
                metrics.TIMESHEET_EVENTS.labels(out.type.rsplit(".", 1)[-1]).inc()
                log.info("payroll %s: %s %s", key, out.type.rsplit(".", 1)[-1], out.data.get("reason") or "")
            for msg in result.priced:
                if msg.get("error"):
                    metrics.UNPRICED.inc()
                    log.error("payroll %s: %s cannot be priced: %s", key, msg["ref"], msg["error"])
                    continue
                await to_batches.send(key=msg["employer"].encode(), value=dumps(msg))
            after = result.state
            if after is not None and after != before:
                table[key] = after.to_table()
            schedule.set(key, timesheets.due_ms(after or before, policies))


def _stage3(app: faust.App, ctx: StreamContext, table: StateTable, policies: PayrollPolicies, publish: Publish) -> None:
    @app.agent(ctx.raw_topic(app, ctx.names.of(PAYROLL_PRICED)), name="payroll-batches", concurrency=1)
    async def stage3(stream: RawStream) -> None:
        async for event in stream.events():
            now, trust = _time(event), (event.key or b"").decode()
            msg = json.loads(event.value)
            policy = policies.get(trust)
            if policy is None:
                log.error("payroll: no pay policy for employing trust %s; %s not issued", trust, msg.get("ref"))
                continue
            state = batches.TrustBatches.from_table(trust, table.get(f"trust:{trust}"))
            if msg["kind"] == "close":
                by = msg.get("by") or "unknown"
                result = batches.close(state, msg["batch_id"], policy.pay, by=by, now=now, name=policy.name)
                if not result.events and msg["batch_id"] not in state.closed:
                    log.warning("payroll: %s is not a batch of %s; nothing closed", msg["batch_id"], trust)
            else:
                ref_key = f"ref:{msg['ref']}"
                result = batches.take(state, table.get(ref_key), msg, policy.pay, now)
            for out in result.events:
                await publish(out)
            metrics.LINES.inc(sum(1 for e in result.events if e.type.endswith("PayrollLineIssued")))
            if result.ref is not None and msg["kind"] != "close":
                table[f"ref:{msg['ref']}"] = result.ref
            if result.batches != state:
                table[f"trust:{trust}"] = result.batches.to_table()


def _timer(app: faust.App, ctx: StreamContext, table: StateTable, policies: PayrollPolicies) -> Schedule:
    """Ticks for bookings whose unmatched timesheet or missing timesheet is due, through their own partition."""
    schedule = Schedule(HORIZON_MS)
    ticks = ctx.raw_topic(app, ctx.names.of(PAYROLL_TICKS))

    @faust_typed.timer(app, interval=ctx.settings.payroll_timer_interval_s, name="payroll-timer")
    async def find_due() -> None:
        if faust_typed.settling(app):
            return
        now_ms = to_ms(datetime.now(UTC))
        if schedule.stale or now_ms >= schedule.horizon_end:
            schedule.begin_rebuild()
            entries: list[tuple[str, int | None]] = []
            for n, (key, value) in enumerate(table.items()):
                entries.append((str(key), timesheets.due_ms(BookingSheets.from_table(value), policies)))
                if n % 5000 == 4999:
                    await asyncio.sleep(0)
            schedule.rebuild(entries, now_ms)
        for key in schedule.pop_due(now_ms):
            await ticks.send(key=key.encode(), value=_TICK)

    app.on_rebalance_complete.connect(schedule.invalidate)
    return schedule
