"""The thin faust layer around :func:`rosterhub.streams.booking.decide.step`."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import faust

from rosterhub.deadletter import dead_letter
from rosterhub.envelope import decode_record, headers_dict
from rosterhub.errors import InputError
from rosterhub.streams.booking.decide import step
from rosterhub.streams.booking.state import ShiftState

if TYPE_CHECKING:
    from rosterhub.streams.app import StreamContext

__all__ = ["register"]

log = logging.getLogger(__name__)


def register(app: faust.App, ctx: StreamContext) -> None:
    shifts = app.Table("booking-shift-state", default=None, key_type=str, partitions=ctx.settings.default_partitions)
    source = ctx.raw_topic(app, ctx.names.events("shift"), ctx.names.events("booking"))
    out = ctx.raw_topic(app, ctx.names.events("booking"))
    dlq = ctx.raw_topic(app, ctx.names.dlq("decode"))

    @app.agent(source, name="booking-decider", concurrency=1)
    async def decide(stream: faust.StreamT) -> None:
        async for event in stream.events():
            try:
                env = decode_record(event.value, event.headers, ctx.codec)
            except InputError as exc:
                msg = event.message
                rec = dead_letter(
                    topic=dlq.get_topic_name(), stage="decode", error=exc, original=event.value, key=event.key,
                    connector="booking-decider", origin=(msg.topic, msg.partition, msg.offset),
                    original_headers=list(headers_dict(event.headers).items()),
                )  # fmt: skip
                await dlq.send(key=rec.key, value=rec.value, headers=rec.headers)
                log.warning("undecodable record dead-lettered: %s", exc)
                continue
            key = str(env.data.get("shift_id"))
            before = ShiftState.from_table(shifts.get(key))
            result = step(before, env, now=datetime.now(UTC))
            # Output before state: a crash in between re-decides on the old state, giving the same
            # decision with the same event id (a duplicate downstream can drop), never a lost one.
            for decision in result.outputs:
                rec = ctx.encoder.encode(decision)
                await out.send(key=rec.key, value=rec.value, headers=rec.headers)
                log.info("decided %s: %s", decision.subject, decision.type.rsplit(".", 1)[-1])
            if result.state is not None and result.state != before:
                shifts[key] = result.state.to_table()
