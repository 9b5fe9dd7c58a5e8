"""The thin faust layer around :mod:`rosterhub.streams.passport.decide`.

One agent reads ``_rosterhub.passport-in`` (credential events with resolved person ids,
plus identity's merge/split notices) and ``_rosterhub.passport-ticks``, both keyed by
person id and co-partitioned with the ``passport`` table, so one writer owns each
passport. The timer only finds people with due notices (:class:`Schedule`) and sends a
tick for each; the agent, which may write the table, decides and sends.

Policies are loaded and validated when the worker starts: a broken policy file stops
the worker with a ConfigError naming the file and key.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeAlias

import faust
from faust.types import TableT

from rosterhub.envelope import Envelope, encode_event
from rosterhub.streams import faust_typed
from rosterhub.streams.faust_typed import RawStream
from rosterhub.streams.passport import api
from rosterhub.streams.passport.decide import CREDENTIAL_EXPIRED, SOURCE, Step, step, tick
from rosterhub.streams.passport.expiry import next_due
from rosterhub.streams.passport.policy import PolicySet, load_policies
from rosterhub.streams.passport.state import Passport, to_ms
from rosterhub.streams.schedule import TICKS_PER_BEAT, Schedule
from rosterhub.topics import PASSPORT_TICKS

if TYPE_CHECKING:
    from rosterhub.streams.app import StreamContext

__all__ = ["PassportRuntime", "register"]

log = logging.getLogger(__name__)

_TICK = b"tick"
TABLE = "passport"
#: The passports, keyed by the person id's raw bytes (as on passport-in); rows are ``Passport.to_table()``.
PassportTable: TypeAlias = "TableT[bytes, dict[str, Any] | None]"


@dataclass
class PassportRuntime:
    """What the agent, the timer and the web views share inside one worker."""

    app: faust.App
    ctx: StreamContext
    policies: PolicySet
    table: PassportTable
    thresholds: tuple[int, ...]
    schedule: Schedule
    topics: dict[str, faust.TopicT] = field(default_factory=dict)

    def topic(self, name: str) -> faust.TopicT:
        if name not in self.topics:
            self.topics[name] = self.ctx.raw_topic(self.app, name)
        return self.topics[name]

    async def send(self, env: Envelope, *, wait: bool = False) -> None:
        """Encode and send one event; ``wait``: until the broker acknowledged it."""
        schema = self.ctx.encoder.schema(env.type)
        # CredentialExpired made by the passport goes to events.passport, not its schema's events.credential
        # (which identity resolution reads as connector input): docs/passport.md.
        if env.type == CREDENTIAL_EXPIRED and env.source == SOURCE:
            rec = encode_event(env, schema, self.ctx.codec, self.ctx.names.events("passport"))
        else:
            rec = self.ctx.encoder.encode(env)
        fut = await self.topic(rec.topic).send(key=rec.key, value=rec.value, headers=rec.headers)
        if wait:
            await fut


def register(app: faust.App, ctx: StreamContext) -> PassportRuntime:
    settings = ctx.settings
    policies = load_policies([settings.passport_policy_dir]) if settings.passport_policy_dir.exists() else PolicySet({})
    if not policies.trusts:
        log.warning("no trust policies in %s: clearance answers will refuse every trust", settings.passport_policy_dir)
    table = app.Table(
        TABLE,
        default=None,
        key_type=bytes,
        partitions=settings.default_partitions,
        options={"block_cache_size": settings.passport_block_cache_mb * 1024 * 1024},
    )
    # Keys are the raw person-id bytes, exactly as on passport-in: faust's default JSON key
    # serializer would quote them, and the web router would then pick the wrong partition.
    table.key_serializer = "raw"  # type: ignore[attr-defined]  # faust: TableT lacks its Collection's attributes
    rt = PassportRuntime(
        app,
        ctx,
        policies,
        table,
        tuple(sorted(set(settings.passport_expiring_days), reverse=True)),
        Schedule(int(settings.passport_schedule_horizon_s * 1000)),
    )
    ticks_name = ctx.names.prefix + PASSPORT_TICKS.name
    source = ctx.raw_topic(app, ctx.names.passport_in, ticks_name)
    ticks = ctx.raw_topic(app, ticks_name)

    @app.agent(source, name="passport", concurrency=1)
    async def passport_agent(stream: RawStream) -> None:
        async for event in stream.events():
            key = event.key or b""
            person = key.decode()
            now = datetime.now(UTC)
            before = Passport.from_table(table.get(key))
            if event.message.topic == ticks_name:
                result = tick(before, policies=policies, thresholds=rt.thresholds, now=now)
            else:
                env = await ctx.decoded(app, event, "passport")
                if env is None:
                    continue
                result = step(before, env, person=person, policies=policies, thresholds=rt.thresholds, now=now)
            await _commit(rt, key, before, result)

    @faust_typed.timer(app, interval=settings.passport_timer_interval_s, name="passport-expiry-timer")
    async def find_due() -> None:
        now_ms = to_ms(datetime.now(UTC))
        if faust_typed.settling(app):
            return
        if rt.schedule.stale or now_ms >= rt.schedule.horizon_end:
            await _rebuild(rt, now_ms)
        for person in rt.schedule.pop_due(now_ms, TICKS_PER_BEAT):
            await ticks.send(key=person.encode(), value=_TICK)

    app.on_rebalance_complete.connect(rt.schedule.invalidate)
    api.register(rt)
    return rt


async def _commit(rt: PassportRuntime, key: bytes, before: Passport | None, result: Step) -> None:
    # Output before state: a crash in between redoes the step on the old state, giving the same
    # events with the same ids (duplicates a consumer drops), never a lost one.
    for env in result.outputs:
        await rt.send(env)
        log.info("passport %s: %s %s", key.decode(), env.type.rsplit(".", 1)[-1], env.subject or "")
    if result.delete:
        if before is not None:
            del rt.table[key]
        rt.schedule.set(key.decode(), None)
    elif result.passport is not None and result.passport != before:
        rt.table[key] = result.passport.to_table()
        rt.schedule.set(key.decode(), next_due(result.passport, rt.thresholds))


async def _rebuild(rt: PassportRuntime, now_ms: int) -> None:
    """Rescan the owned partitions of the table for notices due within the horizon (yielding as it goes)."""
    entries: list[tuple[str, int | None]] = []
    rt.schedule.begin_rebuild()
    for n, (key, value) in enumerate(rt.table.items()):
        passport = Passport.from_table(value)
        if passport is not None:
            entries.append((key.decode() if isinstance(key, bytes) else str(key), next_due(passport, rt.thresholds)))
        if n % 5000 == 4999:
            await asyncio.sleep(0)
    rt.schedule.rebuild(entries, now_ms)
    log.info(
        "passport schedule rebuilt: %d of %d passports have notices due within the horizon",
        len(rt.schedule),
        len(entries),
    )
