"""Kafka records in and out of the resolver: parse one identity-in record and route it to the
right pure step; turn what the step produced into records for events.identity and passport-in.

No I/O here (the codec's schema lookups aside): the agent sends what these functions return.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

from rosterhub.codec.wire import EventCodec
from rosterhub.envelope import Envelope, KafkaRecord, decode_record, encode_event, headers_dict
from rosterhub.runtime import Encoder
from rosterhub.streams.identity.commands import MergeCommand, is_command, parse_command
from rosterhub.streams.identity.decide import step
from rosterhub.streams.identity.memberships import messages
from rosterhub.streams.identity.merge import merge, split
from rosterhub.streams.identity.outputs import BOOKING_REQUESTED, Out, Replay, Step, passport_copy
from rosterhub.streams.identity.state import Store

__all__ = ["forwarded_booking", "handle", "outgoing", "republished"]

Headers = Sequence[tuple[str, bytes]] | Mapping[str, bytes] | None


def handle(store: Store, value: bytes, headers: Headers, offset: int, codec: EventCodec) -> Step:
    """One record of ``_rosterhub.identity-in``: a human command, or a worker/credential event.

    Raises :class:`~rosterhub.errors.InputError` for a record that cannot be read (dead-lettered by the agent).
    """
    if is_command(headers):
        parsed = parse_command(value, headers)
        cause = Envelope(type="command", source=parsed.source, data={}, id=parsed.command_id, time=parsed.time)
        if isinstance(parsed.command, MergeCommand):
            done = merge(store, parsed.command, command_id=parsed.command_id, cause=cause, seq=offset)
        else:
            done = split(store, parsed.command, command_id=parsed.command_id, cause=cause, seq=offset)
        # records moved between people: each person's memberships go to the booking person stage again
        return replace(done, person=messages(store, store.writes["persons"], offset)) if not done.refused else done
    return step(store, decode_record(value, headers, codec), offset)


def forwarded_booking(headers: Headers) -> bool:
    """A vendor's BookingRequested on events.booking (read from headers, without decoding the body)."""
    hdrs = headers_dict(headers)
    ours = hdrs.get("ce_source", b"").startswith(b"/rosterhub/")
    return hdrs.get("ce_type") == BOOKING_REQUESTED.encode() and not ours


def outgoing(outputs: list[Out], encoder: Encoder, passport_topic: str, booking_topic: str = "") -> list[KafkaRecord]:
    """Identity events to events.identity (keyed by person id); credential copies and merge/split
    notices to passport-in (keyed by person id, or by the ``Out.key`` override); resolved booking
    requests to the booking saga's requests topic (keyed by shift id)."""
    records = []
    for out in outputs:
        if out.to == "identity":
            records.append(encoder.encode(out.env))
            continue
        topic = booking_topic if out.to == "booking" else passport_topic
        rec = encode_event(out.env, encoder.schema(out.env.type), encoder.codec, topic)
        records.append(replace(rec, key=out.key.encode()) if out.key else rec)
    return records


def republished(value: bytes, headers: Headers, replay: Replay, codec: EventCodec) -> Out:
    """A credential event re-read from identity-in, re-keyed to the replay's person (same ce_id)."""
    env = decode_record(value, headers, codec)
    return Out(passport_copy(env, replay.person, env.data["person_id"], replay.causation), "passport")
