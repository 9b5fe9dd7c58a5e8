"""The thin faust layer around :mod:`rosterhub.streams.availability.decide`.

One agent reads events.shift, events.booking and ``_rosterhub.availability-ticks``, all
keyed by shift id on co-partitioned topics, so one writer owns each shift's row of the
``availability-shift-state`` table. The cascade timer only *finds* shifts whose release
or completion is due (``due_ms``) and sends a tick for each; the agent, which may write
the table, decides (faust concurrency 1, as for booking and passport). Due instants are
kept in memory for the next hour (the passport's :class:`Schedule`), rebuilt from the
table after a rebalance, so the timer does not scan the table on every beat. Outputs go before
the table write: a crash in between redoes the step on the old state with the same event
ids (duplicates a consumer drops), never a lost release or view.

Each worker also follows the whole view topic into a :class:`ViewStore` for the HTTP
queries (:mod:`.api`): the ``open-shifts`` processor's when it runs on this worker
(:mod:`.open_shifts`, with the passport), else one of its own. The agent reads no passport.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import faust

from rosterhub.envelope import Envelope
from rosterhub.streams import faust_typed
from rosterhub.streams.availability import api
from rosterhub.streams.availability.decide import Step, step, tick
from rosterhub.streams.availability.open_shifts import OpenShifts, booking_policies
from rosterhub.streams.availability.policy import AvailabilityPolicy, load_availability_policy
from rosterhub.streams.availability.readmodel import ViewStore, follow_in_worker
from rosterhub.streams.availability.state import ShiftView, to_ms
from rosterhub.streams.faust_typed import RawStream, StateTable
from rosterhub.streams.schedule import TICKS_PER_BEAT, Schedule

if TYPE_CHECKING:
    from rosterhub.streams.app import StreamContext

__all__ = ["AvailabilityRuntime", "register"]

log = logging.getLogger(__name__)

_TICK = b"tick"
TABLE = "availability-shift-state"
#: The timer keeps the due instants of the next hour in memory and rescans its table partitions once an hour
#: (and after every rebalance), instead of scanning the table on every beat.
HORIZON_MS = 3600 * 1000


@dataclass
class AvailabilityRuntime:
    """What the agent, the timer and the web views share inside one worker."""

    app: faust.App
    ctx: StreamContext
    policy: AvailabilityPolicy
    store: ViewStore


def _policy(ctx: StreamContext) -> AvailabilityPolicy:
    s = ctx.settings
    booking = booking_policies(s)
    if not s.availability_policy_dir.exists():
        log.warning("no release cascade in %s: shifts stay at the tier they were posted at", s.availability_policy_dir)
        return AvailabilityPolicy({}, booking)
    return load_availability_policy([s.availability_policy_dir], booking)


def register(app: faust.App, ctx: StreamContext, open_shifts: OpenShifts | None = None) -> AvailabilityRuntime:
    """The agent, the cascade timer and (unless ``open_shifts`` runs on this worker and has them) the view follower
    and the availability routes."""
    settings = ctx.settings
    policy = _policy(ctx)  # a broken file stops the worker here with a ConfigError naming file and key
    store = open_shifts.store if open_shifts is not None else follow_in_worker(app, ctx)
    rt = AvailabilityRuntime(app, ctx, policy, store)
    table = app.Table(TABLE, default=None, key_type=str, partitions=settings.default_partitions)
    ticks_name = ctx.names.availability_ticks
    source = ctx.raw_topic(app, ctx.names.events("shift"), ctx.names.events("booking"), ticks_name)
    ticks = ctx.raw_topic(app, ticks_name)
    topics: dict[str, faust.TopicT] = {}
    schedule = Schedule(HORIZON_MS)

    async def send(env: Envelope) -> None:
        rec = ctx.encoder.encode(env)  # ShiftReleased -> events.shift; ShiftAvailability -> views.availability
        if rec.topic not in topics:
            topics[rec.topic] = ctx.raw_topic(app, rec.topic)
        await topics[rec.topic].send(key=rec.key, value=rec.value, headers=rec.headers)

    @app.agent(source, name="availability", concurrency=1)
    async def availability(stream: RawStream) -> None:
        async for event in stream.events():
            now = datetime.now(UTC)
            if event.message.topic == ticks_name:
                key = (event.key or b"").decode()
                before = ShiftView.from_table(table.get(key))
                result = tick(before, policy=policy, now=now) if before else Step(None)
            else:
                env = await ctx.decoded(app, event, "availability")
                if env is None:
                    continue
                key = str(env.data.get("shift_id") or "")
                if not key:
                    continue
                before = ShiftView.from_table(table.get(key))
                result = step(before, env, policy=policy, now=now)
            for out in result.outputs:
                await send(out)
                log.info("availability %s: %s", key, out.type.rsplit(".", 1)[-1])
            if result.state is not None and result.state != before:
                table[key] = result.state.to_table()
            if result.state is not None:
                schedule.set(key, result.state.due_ms)

    _cascade_timer(app, settings.availability_timer_interval_s, table, schedule, ticks)
    if open_shifts is None:  # else open-shifts registered the routes (with the worker's own list) on this worker
        api.register(ctx.web, store, None)
    return rt


def _cascade_timer(app: faust.App, interval: float, table: StateTable, schedule: Schedule, ticks: faust.TopicT) -> None:
    """Send a tick for every shift whose release or completion is due; only the agent acts on it."""

    @faust_typed.timer(app, interval=interval, name="availability-cascade-timer")
    async def find_due() -> None:
        if faust_typed.settling(app):
            return
        now_ms = to_ms(datetime.now(UTC))
        if schedule.stale or now_ms >= schedule.horizon_end:
            await _rebuild(table, schedule, now_ms)
        for key in schedule.pop_due(now_ms, TICKS_PER_BEAT):
            await ticks.send(key=key.encode(), value=_TICK)

    app.on_rebalance_complete.connect(schedule.invalidate)


async def _rebuild(table: StateTable, schedule: Schedule, now_ms: int) -> None:
    """Rescan the owned table partitions for releases and completions due within the horizon."""
    schedule.begin_rebuild()
    entries: list[tuple[str, int | None]] = []
    for n, (key, value) in enumerate(table.items()):
        entries.append((str(key), value.get("due_ms") if value else None))
        if n % 5000 == 4999:
            await asyncio.sleep(0)
    schedule.rebuild(entries, now_ms)
