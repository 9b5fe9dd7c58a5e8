"""The thin faust layer around identity resolution (:mod:`.decide`, :mod:`.merge`).

Two agents, both ``concurrency=1`` (faust #606):

* ``identity-forward`` copies every record of ``events.worker`` and ``events.credential``
  untouched onto ``_rosterhub.identity-in`` (booking requests the shift stage's crosswalk copy cannot
  resolve are put there by the shift stage itself: docs/decisions/0012).
  That topic has ONE partition, so every worker
  event, credential event and human command is resolved by one writer in one order,
  and the tables below (one partition each) are co-partitioned with it.
* ``identity-resolver`` reads identity-in a batch at a time, runs one pure step per record, sends identity events to
  ``events.identity`` and credential events (person id resolved) to
  ``_rosterhub.passport-in``, booking requests (person id stamped, or null when unknown) to
  ``_rosterhub.booking-requests`` for the booking saga, a person's memberships (ESR's substantive assignments)
  to ``_rosterhub.booking-person`` when they change (:mod:`.memberships`), re-reads earlier credential records by
  offset when a link, merge or split needs them re-published, publishes what changed in the crosswalk
  (``_rosterhub.identity-crosswalk``, every worker's read-only copy) and fences for the booking person stage,
  then writes its tables once per batch (:mod:`.batch`: each step reads the tables as the batch's earlier steps
  left them).

Outputs go before table writes (as in the booking decider): a crash in between repeats
the batch on the old state after recovery, giving the same events with the same ids.
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING

import faust
from faust.streams import _current_event

from rosterhub.deadletter import dead_letter
from rosterhub.envelope import headers_dict
from rosterhub.errors import InputError
from rosterhub.streams.booking.saga import HEADER as SAGA_HEADER
from rosterhub.streams.booking.saga import dumps as saga_dumps
from rosterhub.streams.faust_typed import RawEvent, RawStream
from rosterhub.streams.identity import crosswalk
from rosterhub.streams.identity.batch import Batch, write_tables
from rosterhub.streams.identity.crosswalk import FENCE
from rosterhub.streams.identity.reader import IdentityInReader
from rosterhub.streams.identity.records import handle, outgoing, republished
from rosterhub.streams.identity.state import TABLES, Store

if TYPE_CHECKING:
    from rosterhub.streams.app import StreamContext

__all__ = ["register"]

log = logging.getLogger(__name__)

#: identity-in records the resolver takes at a time, and how long it waits to fill a batch (seconds): the tables
#: are written once per batch (batch.py), and a record waits at most this long when identity-in is quiet.
RESOLVE_BATCH = 500
RESOLVE_WITHIN_S = 0.01


def register(app: faust.App, ctx: StreamContext) -> None:
    tables = {name: app.Table(f"identity-{name}", default=None, key_type=str, partitions=1) for name in TABLES}
    inbound = ctx.raw_topic(app, ctx.names.events("worker"), ctx.names.events("credential"))
    identity_in = ctx.raw_topic(app, ctx.names.identity_in)
    crosswalk_out = ctx.raw_topic(app, ctx.names.identity_crosswalk)
    person_topic = ctx.raw_topic(app, ctx.names.booking_person)  # memberships and fences for the booking person stage
    passport_topic = ctx.names.passport_in
    requests_topic = ctx.names.booking_requests
    targets = {
        t.get_topic_name(): t
        for t in (
            ctx.raw_topic(app, ctx.names.events("identity")),
            ctx.raw_topic(app, passport_topic),
            ctx.raw_topic(app, requests_topic),
        )
    }
    dlq = ctx.raw_topic(app, ctx.names.dlq("decode"))
    reader = IdentityInReader(ctx.kafka, ctx.names.identity_in)

    @app.agent(inbound, name="identity-forward", concurrency=1)
    async def forward(stream: RawStream) -> None:
        async for event in stream.events():
            await identity_in.send(key=event.key, value=event.value, headers=list(headers_dict(event.headers).items()))

    @app.agent(identity_in, name="identity-resolver", concurrency=1)
    async def resolve(stream: RawStream) -> None:
        events: Sequence[RawEvent]
        # faust: StreamT does not declare take_events; the Stream an agent is handed has it
        async for events in stream.take_events(RESOLVE_BATCH, within=RESOLVE_WITHIN_S):  # type: ignore[attr-defined]
            batch = Batch(tables)
            for event in events:
                store = batch.store()
                await _step(event, store)
                batch.done(store)
            # After every output of the batch; faust acks the batch's records only after this (batch.py).
            with _writing_as(events[-1]):
                write_tables(tables, batch.pending)

    async def _step(event: RawEvent, store: Store) -> None:
        msg = event.message
        try:
            result = handle(store, event.value, event.headers, msg.offset, ctx.codec)
        except InputError as exc:
            rec = dead_letter(
                topic=dlq.get_topic_name(),
                stage="decode",
                error=exc,
                original=event.value,
                key=event.key,
                connector="identity-resolver",
                origin=(msg.topic, msg.partition, msg.offset),
                original_headers=list(headers_dict(event.headers).items()),
            )
            await dlq.send(key=rec.key, value=rec.value, headers=rec.headers)
            log.warning("identity-in record at offset %s dead-lettered: %s", msg.offset, exc)
            return
        if result.refused:
            log.warning("identity command at offset %s refused: %s", msg.offset, result.refused)
        out = outgoing(result.outputs, ctx.encoder, passport_topic, requests_topic)
        for replay in result.replays:
            fetched = await reader.fetch(replay.offsets)
            copies = [republished(f.value, f.headers, replay, ctx.codec) for f in fetched]
            out += outgoing(copies, ctx.encoder, passport_topic, requests_topic)
        for rec in out:
            await targets[rec.topic].send(key=rec.key, value=rec.value, headers=rec.headers)
        # Before the tables: the person stage's memberships, the crosswalk copy's records (keys before people)
        # and the person stage's fences.
        for message in result.person:
            await person_topic.send(
                key=message["person_id"].encode(),
                value=saga_dumps(message),
                headers=[(SAGA_HEADER, message["kind"].encode())],
            )
        published = crosswalk.changes(store, msg.offset)
        for key, value in published.records:
            await crosswalk_out.send(key=key, value=value)
        for person, version in published.fences:
            fence = crosswalk.fence_message(person, version)
            await person_topic.send(
                key=person.encode(), value=saga_dumps(fence), headers=[(SAGA_HEADER, FENCE.encode())]
            )


@contextmanager
def _writing_as(event: RawEvent) -> Iterator[None]:
    """Table writes outside the stream's own iteration: faust finds the changelog partition (and RocksDB its
    store) from the event being processed, a context variable that ``take_events`` sets in its own task only."""
    token = _current_event.set(weakref.ref(event))
    try:
        yield
    finally:
        _current_event.reset(token)
