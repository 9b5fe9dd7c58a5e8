"""The thin faust layer around :mod:`rosterhub.streams.booking.decide`.

One agent reads shift events, booking events and timer ticks, all keyed by shift id on
co-partitioned topics, so one writer owns each shift. The timer only *finds* shifts
with overdue parked requests and sends a tick for each; the agent, which may write the
table, does the expiring.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import faust

from rosterhub.envelope import Envelope, decode_record
from rosterhub.errors import InputError
from rosterhub.streams.booking.decide import Step, expire, step
from rosterhub.streams.booking.state import ShiftState, to_ms

if TYPE_CHECKING:
    from rosterhub.streams.app import StreamContext

__all__ = ["register"]

log = logging.getLogger(__name__)

_TICK = b"tick"


def register(app: faust.App, ctx: StreamContext) -> None:
    settings = ctx.settings
    grace = timedelta(seconds=settings.booking_unknown_shift_grace_s)
    shifts = app.Table("booking-shift-state", default=None, key_type=str, partitions=settings.default_partitions)
    source = ctx.raw_topic(app, ctx.names.events("shift"), ctx.names.events("booking"), ctx.names.booking_ticks)
    out = ctx.raw_topic(app, ctx.names.events("booking"))
    ticks = ctx.raw_topic(app, ctx.names.booking_ticks)

    @app.agent(source, name="booking-decider", concurrency=1)
    async def decide(stream: faust.StreamT) -> None:
        async for event in stream.events():
            now = datetime.now(UTC)
            if event.message.topic == ticks.get_topic_name():
                key = (event.key or b"").decode()
                before = ShiftState.from_table(shifts.get(key))
                result = expire(before, now=now, grace=grace) if before else Step(None)
            else:
                try:
                    env: Envelope = decode_record(event.value, event.headers, ctx.codec)
                except InputError as exc:
                    await ctx.dead_letter(app, event, exc, "booking-decider")
                    continue
                key = str(env.data.get("shift_id"))
                before = ShiftState.from_table(shifts.get(key))
                result = step(before, env, now=now)
            # Output before state: a crash in between re-decides on the old state, giving the same
            # decision with the same event id (a duplicate downstream can drop), never a lost one.
            for decision in result.outputs:
                rec = ctx.encoder.encode(decision)
                await out.send(key=rec.key, value=rec.value, headers=rec.headers)
                log.info("decided %s: %s", decision.subject, decision.type.rsplit(".", 1)[-1])
            if result.state is not None and result.state != before:
                shifts[key] = result.state.to_table()

    @app.timer(interval=settings.booking_timer_interval_s, name="booking-parked-timer")
    async def find_overdue() -> None:
        cutoff = to_ms(datetime.now(UTC) - grace)
        for key, value in list(shifts.items()):
            state = ShiftState.from_table(value)
            if state and state.status == "awaiting_shift" and any(p.parked_at_ms <= cutoff for p in state.parked):
                await ticks.send(key=key.encode(), value=_TICK)
