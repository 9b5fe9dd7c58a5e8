"""Every canonical event, built through its model with realistic values, survives the wire unchanged.

Three paths: the Avro single-object codec alone, the CloudEvents Kafka envelope around
it (``encode_event`` / ``decode_record``), and back into the pydantic model.
"""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest

from rosterhub.codec.catalogue import SchemaCatalogue
from rosterhub.codec.wire import SingleObjectCodec
from rosterhub.envelope import decode_record, encode_event, headers_dict
from rosterhub.events import EVENT_MODELS, AvroEvent
from rosterhub.events.examples import example_events
from rosterhub.instants import LONDON
from rosterhub.topics import canonical_topic

NAMES = sorted(example_events())


def test_every_event_has_a_model_and_an_example(catalogue: SchemaCatalogue, examples: dict[str, AvroEvent]) -> None:
    names = {e.full_name for e in catalogue}
    assert names == set(EVENT_MODELS) == set(examples)
    required = {
        "ShiftPosted",
        "ShiftUpdated",
        "ShiftCancelled",
        "ShiftReleased",
        "BookingRequested",
        "BookingConfirmed",
        "BookingRejected",
        "ShiftFilled",
        "BookingCancelled",
        "NoShow",
        "WorkerRegistered",
        "WorkerUpdated",
        "MembershipChanged",
        "CredentialIssued",
        "CredentialVerified",
        "CredentialRevoked",
        "CredentialExpired",
        "AvailabilityDeclared",
        "TimesheetSubmitted",
        "TimesheetApproved",
        "TimesheetQueried",
        "PayrollLine",
        "RechargeRaised",
    }
    assert required <= {n.rsplit(".", 1)[1] for n in names}


@pytest.mark.parametrize("name", NAMES)
def test_single_object_round_trip(name: str, catalogue: SchemaCatalogue, examples: dict[str, AvroEvent]) -> None:
    event = examples[name]
    schema = catalogue.get(name)
    codec = SingleObjectCodec(catalogue)
    data = codec.encode(schema, event.to_avro())
    assert data[:2] == b"\xc3\x01" and data[2:10] == schema.fingerprint
    decoded = codec.decode(data)
    assert decoded.full_name == name
    assert decoded.record == event.to_avro()
    assert type(event).from_avro(decoded.record) == event


@pytest.mark.parametrize("name", NAMES)
def test_envelope_round_trip(name: str, catalogue: SchemaCatalogue, examples: dict[str, AvroEvent]) -> None:
    event = examples[name]
    schema = catalogue.get(name)
    codec = SingleObjectCodec(catalogue)
    env = event.to_envelope("/vendors/healthroster/RHQ", "healthroster", event.subject(catalogue), 1)
    record = encode_event(env, schema, codec, canonical_topic(schema.domain).name)
    assert record.topic == canonical_topic(schema.domain).name
    assert record.key == event.key(catalogue).encode()
    headers = headers_dict(record.headers)
    assert headers["ce_type"] == name.encode()
    assert headers["ce_subject"] == event.subject(catalogue).encode()
    assert headers["ce_dataschema"] == f"urn:avro:crc64:{schema.fingerprint_hex}".encode()
    back = decode_record(record.value, record.headers, codec)
    assert (back.type, back.id, back.source, back.subject) == (env.type, env.id, env.source, env.subject)
    assert EVENT_MODELS[back.type].from_avro(back.data) == event


def test_same_input_gives_same_event_id(examples: dict[str, AvroEvent]) -> None:
    event = examples["rosterhub.shift.v1.ShiftPosted"]
    first = event.to_envelope("/vendors/healthroster/RHQ", "healthroster", "SH-2026-118842", 1)
    again = event.to_envelope("/vendors/healthroster/RHQ", "healthroster", "SH-2026-118842", 1)
    other = event.to_envelope("/vendors/healthroster/RHQ", "healthroster", "SH-2026-118842", 2)
    assert first.id == again.id != other.id


def test_examples_are_realistic(examples: dict[str, AvroEvent]) -> None:
    """The examples are documentation too: they must look like the real thing."""

    posted = examples["rosterhub.shift.v1.ShiftPosted"]
    start, end = posted.start.astimezone(LONDON), posted.end.astimezone(LONDON)
    assert start.date() < end.date(), "the example night shift crosses midnight"
    assert (end.hour - start.hour) % 24 == 12, "12 hours on the rota (wall clock)..."
    # ...but 11 real hours: the clocks go forward. (Subtracting two datetimes that share a tzinfo
    # compares wall clocks in Python, which is why the models hold UTC.)
    assert posted.end - posted.start == timedelta(hours=11)
    assert posted.start.tzinfo is not None and posted.start.utcoffset() == timedelta(0)
    values = {i.system.rsplit("/", 1)[1]: i.value for e in examples.values() for i in _identifiers(e)}
    assert re.fullmatch(r"\d\d[A-Z]\d{4}[A-Z]", values["nmc-number"])
    assert re.fullmatch(r"\d{7}", values["gmc-number"])
    assert posted.trust.ods_code == "RHQ" and posted.site is not None and posted.site.ods_code == "RHQ01"
    assert posted.hourly_rate == Decimal("23.45")
    line = examples["rosterhub.timesheet.v1.PayrollLine"]
    assert line.hours is not None and line.rate is not None
    assert line.amount == (line.hours * line.rate).quantize(Decimal("0.01"))
    recharge = examples["rosterhub.timesheet.v1.RechargeRaised"]
    assert recharge.amount == recharge.pay_amount + recharge.on_cost_amount


def _identifiers(event: AvroEvent) -> list:
    worker = getattr(event, "worker", None)
    return list(worker.identifiers) if worker is not None else []


def test_a_record_that_does_not_fit_names_the_event_field_and_value(
    catalogue: SchemaCatalogue, examples: dict[str, AvroEvent]
) -> None:
    """fastavro's ValidationError carries its errors as a JSON list; the EncodeError must spell them out."""
    from rosterhub.errors import EncodeError

    name = "rosterhub.booking.v1.BookingRequested"
    record = {**examples[name].to_avro(), "booking_id": 42}
    with pytest.raises(EncodeError) as caught:
        SingleObjectCodec(catalogue).encode(catalogue.get(name), record)
    message = str(caught.value)
    assert "BookingRequested does not fit its schema" in message
    assert "booking_id is <42>" in message, message
