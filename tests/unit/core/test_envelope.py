from datetime import UTC, datetime

import pytest

from rosterhub.codec.catalogue import default_catalogue
from rosterhub.codec.wire import SingleObjectCodec
from rosterhub.envelope import Envelope, decode_record, encode_event, event_id
from rosterhub.errors import DecodeError


def _request() -> Envelope:
    return Envelope(
        type="rosterhub.booking.v1.BookingRequested",
        source="/vendors/patchwork/RHQ",
        subject="patchwork:RHQ:b-1",
        id=event_id("patchwork", "b-1"),
        time=datetime(2026, 3, 29, 0, 30, tzinfo=UTC),
        data={
            "booking_id": "patchwork:RHQ:b-1",
            "shift_id": "patchwork:RHQ:s-9",
            "worker": {
                "person_id": None,
                "identifiers": [{"system": "https://fhir.hl7.org.uk/Id/nmc-number", "value": "71A2998E"}],
                "display_name": "A. Nurse",
            },
            "vendor": "patchwork",
            "requested_at": datetime(2026, 3, 29, 0, 30, tzinfo=UTC),
        },
    )


def test_binary_mode_headers_follow_cloudevents_kafka_binding() -> None:
    cat = default_catalogue()
    env = _request()
    rec = encode_event(env, cat.get(env.type), SingleObjectCodec(cat), "events.booking")
    headers = dict(rec.headers)
    assert headers["ce_specversion"] == b"1.0"
    assert headers["ce_id"] == env.id.encode()
    assert headers["ce_type"] == b"rosterhub.booking.v1.BookingRequested"
    assert headers["ce_source"] == b"/vendors/patchwork/RHQ"
    assert headers["ce_subject"] == b"patchwork:RHQ:b-1"
    assert headers["ce_time"] == b"2026-03-29T00:30:00Z"
    assert headers["content-type"] == b"application/avro"
    assert rec.key == b"patchwork:RHQ:s-9"  # keyed by shift: requests for one shift serialise
    assert rec.value[:2] == b"\xc3\x01"


def test_round_trip() -> None:
    cat = default_catalogue()
    codec = SingleObjectCodec(cat)
    env = _request()
    rec = encode_event(env, cat.get(env.type), codec, "events.booking")
    back = decode_record(rec.value, rec.headers, codec)
    assert {k: back.data[k] for k in env.data} == env.data
    # fields the request did not set come back at their schema defaults (the booking rules' inputs)
    assert {k: v for k, v in back.data.items() if k not in env.data and v not in (None, False)} == {}
    assert (back.id, back.type, back.source, back.subject) == (env.id, env.type, env.source, env.subject)
    assert back.time == env.time


def test_type_header_must_match_body() -> None:
    cat = default_catalogue()
    codec = SingleObjectCodec(cat)
    rec = encode_event(_request(), cat.get("rosterhub.booking.v1.BookingRequested"), codec, "t")
    headers = [(k, b"rosterhub.shift.v1.ShiftPosted" if k == "ce_type" else v) for k, v in rec.headers]
    with pytest.raises(DecodeError, match="does not match"):
        decode_record(rec.value, headers, codec)


def test_missing_cloudevents_headers_is_a_decode_error() -> None:
    with pytest.raises(DecodeError, match="no CloudEvents"):
        decode_record(b"\xc3\x01" + b"\x00" * 8, [], SingleObjectCodec(default_catalogue()))


def test_event_ids_are_deterministic() -> None:
    assert event_id("patchwork", "x", 1) == event_id("patchwork", "x", 1)
    assert event_id("patchwork", "x", 1) != event_id("patchwork", "x", 2)


def test_subject_and_key_are_the_fields_the_schema_declares_whatever_the_producer_says() -> None:
    """Declared once (``rosterhub.subject``, ``rosterhub.key``): a producer naming another subject cannot
    put it on the wire (issue 15: ShiftFilled went out with the booking id as its subject)."""
    from rosterhub.events.examples import example_events

    cat = default_catalogue()
    codec = SingleObjectCodec(cat)
    for name, event in example_events().items():
        es = cat.get(name)
        env = event.to_envelope("/tests")
        wrong = Envelope(type=env.type, source=env.source, data=env.data, subject="something-else")
        rec = encode_event(wrong, es, codec, "t")
        assert dict(rec.headers)["ce_subject"].decode() == str(env.data[es.subject_field]), name
        assert rec.key == str(env.data[es.key_field]).encode(), name
