"""The thin faust layer around :mod:`.facts` and :mod:`.view`: canonical events in, views.kpi out.

``kpi`` reads events.shift and events.booking, both keyed by shift id, so one writer owns each
shift's row of the ``kpi-shift-facts`` table. It looks at the CloudEvents headers first and skips,
without decoding, every event the KPIs do not read (booking requests, confirmations, vendors'
own cancellations...); otherwise it folds the event into the shift's facts and, when they changed,
publishes the shift's new ShiftKpi record before writing the table. A crash in between can keep the
row and lose the record: the input, delivered again, finds itself folded, and the first input of a
row read from the table sends the shift's current record again (the same revision, which a reader
keeps once: step.py, decision 0014). ``kpi-people`` turns each person's first PassportUpdated into a PersonKpi.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import faust

from rosterhub.envelope import headers_dict
from rosterhub.events.models import PassportUpdated, PersonKpi, ShiftKpi
from rosterhub.streams.booking.outcome import SOURCE as HUB_SOURCE
from rosterhub.streams.booking.policy import BookingPolicies, load_booking_policies
from rosterhub.streams.faust_typed import RawStream
from rosterhub.streams.kpi.facts import TYPES, ShiftFacts
from rosterhub.streams.kpi.facts_table import FactsTable, without_wal
from rosterhub.streams.kpi.policy import KpiPolicies, load_kpi_policies
from rosterhub.streams.kpi.records import ViewRecords
from rosterhub.streams.kpi.step import Step, again, fold, folded
from rosterhub.streams.kpi.view import person_kpi

if TYPE_CHECKING:
    from rosterhub.streams.app import StreamContext

__all__ = ["PERSON_KPI", "SHIFT_KPI", "SOURCE", "kpi_policies", "register"]

log = logging.getLogger(__name__)

TABLE = "kpi-shift-facts"
SOURCE = "/rosterhub/kpi"
SHIFT_KPI = ShiftKpi.AVRO_NAME
PERSON_KPI = PersonKpi.AVRO_NAME
_PASSPORT_UPDATED = PassportUpdated.AVRO_NAME.encode()
_READ = {t.encode(): hub_only for t, hub_only in TYPES.items()}
_HUB = HUB_SOURCE.encode()


def kpi_policies(ctx: StreamContext) -> KpiPolicies:
    """KPI settings (``kpi_policy_dir``) over the booking policies' membership; a bad file stops the worker."""
    s = ctx.settings
    booking = load_booking_policies([s.booking_policy_dir]) if s.booking_policy_dir.exists() else BookingPolicies({})
    return load_kpi_policies([s.kpi_policy_dir], booking)


def _facts_table(app: faust.App, ctx: StreamContext) -> FactsTable:
    # bytes values: FactsTable encodes a shift's facts once for the store and the changelog (facts_table.py)
    table = app.Table(TABLE, default=None, key_type=str, value_type=bytes, partitions=ctx.settings.default_partitions)
    without_wal(table)  # on RocksDB: the changelog topic is the durable copy (facts_table.py)
    facts = FactsTable(table)
    app.on_partitions_revoked.connect(facts.forget)
    app.on_rebalance_complete.connect(facts.forget)
    return facts


def register(app: faust.App, ctx: StreamContext) -> None:
    policies = kpi_policies(ctx)
    facts = _facts_table(app, ctx)
    source = ctx.raw_topic(app, ctx.names.events("shift"), ctx.names.events("booking"))
    view = ctx.raw_topic(app, ctx.names.kpi_view)

    records = ViewRecords(ctx.encoder, SOURCE, ctx.names.kpi_view)  # as encode_event would write them (records.py)

    async def publish(type_: str, data: dict[str, Any], key: str, revision: int) -> None:
        rec = records.record(type_, data, key, revision)
        await view.send(key=rec.key, value=rec.value, headers=rec.headers)

    async def send(key: str, step: Step) -> None:
        """The step's record first, then its facts (a crash in between: the record is sent again, step.py)."""
        if step.record is not None:
            await publish(SHIFT_KPI, step.record, key, step.record["revision"])
        if step.facts is not None:
            facts.set(key, step.facts)

    @app.agent(source, name="kpi", concurrency=1)
    async def kpi(stream: RawStream) -> None:
        async for event in stream.events():
            headers = headers_dict(event.headers)
            hub_only = _READ.get(headers.get("ce_type", b""))
            if hub_only is None or (hub_only and headers.get("ce_source") != _HUB):
                continue  # not a fact the KPIs read: never decoded
            key = (event.key or b"").decode()  # the shift id: events.shift and events.booking are keyed by it
            before: ShiftFacts | None = facts.get(key) if key else None
            if before is not None and folded(before, headers.get("ce_id", b"").decode()):  # an exact redelivery
                await send(key, again(before, loaded=facts.loaded(key), policies=policies))
                continue
            env = await ctx.decoded(app, event, "kpi")
            if env is None:
                continue
            if key != env.data["shift_id"]:  # a record keyed otherwise: its own shift id decides
                key = str(env.data["shift_id"])
                before = facts.get(key)
            loaded = facts.loaded(key)
            step = fold(before, env.type, env.data, event_id=env.id, at=env.time, loaded=loaded, policies=policies)
            await send(key, step)

    people = ctx.raw_topic(app, ctx.names.events("passport"))

    @app.agent(people, name="kpi-people", concurrency=1)
    async def kpi_people(stream: RawStream) -> None:
        async for event in stream.events():
            headers = headers_dict(event.headers)
            if headers.get("ce_type") != _PASSPORT_UPDATED:
                continue
            env = await ctx.decoded(app, event, "kpi-people")
            if env is None:
                continue
            row = person_kpi(env.data)
            if row is not None:
                await publish(PERSON_KPI, row, row["person_id"], 1)
