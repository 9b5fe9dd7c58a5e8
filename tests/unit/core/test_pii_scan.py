"""The personal-data scan can fail: it finds an NI number, a date of birth and a postal address planted in a
record (value, header, Avro body, JSON, CSV), and finds nothing in what the hub itself publishes."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from rosterhub.codec.catalogue import default_catalogue
from rosterhub.codec.wire import SingleObjectCodec
from rosterhub.connectors.pipeline import packaged_mapping
from rosterhub.envelope import Envelope
from rosterhub.mapping.engine import apply_mapping
from rosterhub.mapping.engine.redact import redact_payload
from rosterhub.pii_scan import find_in_record, find_in_text
from rosterhub.runtime import Encoder, TopicNames

SAMPLES = Path(__file__).resolve().parents[3] / "mapping" / "samples"
ESR_SAMPLE = (SAMPLES / "esr" / "daily_change.input.txt").read_bytes()
TODAY = date(2026, 5, 1)
CODEC = SingleObjectCodec(default_catalogue())
ENCODER = Encoder(CODEC, TopicNames(""), default_catalogue())  # type: ignore[arg-type]


def _kinds(value: bytes | None = None, headers: list[tuple[str, bytes]] | None = None, key: bytes | None = None) -> set:
    found = find_in_record("t", 0, 7, key, value, headers or [], decode=CODEC.decode, today=TODAY)
    return {(f.kind, f.text) for f in found}


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("...|AB 99 88 77 C|...", "ni_number"),
        ("ni=ab998877c", "ni_number"),
        ("lives at S9 9ZZ now", "postcode"),
        ("SW1A 1AA", "postcode"),
        ("1 Probe Street, Sheffield", "address"),
        ("born 01-JAN-1970", "date_of_birth"),
        ("1970-01-01", "date_of_birth"),
        ("12/04/1990", "date_of_birth"),
    ],
)
def test_each_kind_is_found_in_text(text: str, kind: str) -> None:
    assert kind in {k for k, _ in find_in_text(text, today=TODAY)}


@pytest.mark.parametrize(
    "text",
    [
        "shift healthroster:RHQ:7742445 on 2026-03-28 (ST3_5, BAND_5, W7AM01, RXX01)",
        "NMC 71A2998E, GMC 7012345, HCPC PH123456, TN 12 34 56 A",  # register numbers; TN is never issued
        "b3c1e0a4-5f7d-4c1e-9a2b-0d6e8f1a2c3b 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
        "a credential achieved 03-NOV-2025, a membership from 01-SEP-2019",
    ],
)
def test_what_the_hub_carries_is_not_taken_for_personal_data(text: str) -> None:
    assert find_in_text(text, today=TODAY) == []


def test_planted_personal_data_is_found_wherever_it_sits() -> None:
    assert ("ni_number", "AB 12 34 56 C") in _kinds(ESR_SAMPLE)  # the raw copy before redaction
    assert ("date_of_birth", "12-APR-1990") in _kinds(ESR_SAMPLE)
    assert ("postcode", "S1 2AB") in _kinds(ESR_SAMPLE)
    assert ("ni_number", "AB123456C") in _kinds(b"{}", headers=[("dlq_value", b"AB123456C")])
    assert ("postcode", "S9 9ZZ") in _kinds(b"x", key=b"S9 9ZZ")
    # an Avro event body: decoded, then every text in it scanned
    env = Envelope(
        type="rosterhub.shift.v1.ShiftPosted",
        source="/vendors/patchwork/RXX",
        data=_shift(notes="meet at 1 Probe Street, S9 9ZZ"),
        id="e-1",
        subject="patchwork:RXX:P-1",
    )
    avro = ENCODER.encode(env).value
    assert avro[:2] == b"\xc3\x01"
    found = find_in_record("events.shift", 0, 1, None, avro, [], decode=CODEC.decode, today=TODAY)
    assert {"value.notes"} <= {f.where for f in found} and {f.kind for f in found} >= {"postcode", "address"}
    # JSON and CSV: a field or column named for a birth date, whatever its format
    assert ("date_of_birth", "1985-06-30") in _kinds(json.dumps({"worker": {"birthDate": "1985-06-30"}}).encode())
    assert ("date_of_birth", "dob=30061985") in _kinds(b"id,dob,name\n1,30061985,Al\n")
    assert ("date_of_birth", "1985") in _kinds(b"{}", headers=[("rh_date_of_birth", b"1985")])


def test_avro_framing_is_not_read_as_text() -> None:
    """A 36-character string is written after its length byte 0x48 ("H"): "H" + "a231771c-..." read as text
    looks like an NI number (seen in a real run on events.passport); decoded, the string is clean."""
    uuid_like = "a231771c-5f7d-4c1e-9a2b-0d6e8f1a2c3b"
    env = Envelope(
        type="rosterhub.shift.v1.ShiftPosted",
        source="/vendors/patchwork/RXX",
        data=_shift(notes=uuid_like),
        id="e-2",
        subject="patchwork:RXX:P-1",
    )
    avro = ENCODER.encode(env).value
    assert b"H" + uuid_like.encode() in avro and find_in_text(avro.decode("latin-1"), today=TODAY)
    assert find_in_record("events.shift", 0, 2, None, avro, [], decode=CODEC.decode, today=TODAY) == []


def test_the_hubs_own_redacted_copies_and_events_come_out_clean() -> None:
    spec = packaged_mapping("esr", None)
    assert _kinds(redact_payload(spec, ESR_SAMPLE).value) == set()
    secrets = {"esr_identity": b"sample-collaborative-secret-not-for-production"}
    out = apply_mapping(spec, ESR_SAMPLE, received_at=datetime(2026, 3, 24, tzinfo=UTC), secrets=secrets)
    assert out.events
    for e in out.events:
        env = Envelope(type=e.type, source=e.source, data=e.data, id=e.id, subject=e.subject)
        record = ENCODER.encode(env)
        assert _kinds(record.value, record.headers) == set(), e.type
    for r in out.rejected:
        assert _kinds(r.raw) == set(), r.record_ref
    assert _kinds(b"{}", headers=[("date_of_birth", b"REDACTED")]) == set()


def _shift(**more: object) -> dict:
    spec = packaged_mapping("patchwork", None)
    payload = json.loads((SAMPLES / "patchwork" / "shift_created.input.json").read_text())
    [event] = apply_mapping(spec, json.dumps(payload).encode(), received_at=datetime(2026, 3, 25, tzinfo=UTC)).events
    return {**event.data, **more}
