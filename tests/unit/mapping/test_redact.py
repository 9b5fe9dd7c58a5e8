"""Issue #12, finding 2: what a topic may hold of a payload, for every format, and the keyed values that keep
a redacted copy replayable (the same events, identity_match_key included, without the personal data)."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime
from pathlib import Path

from rosterhub.connectors.pipeline import packaged_mapping
from rosterhub.mapping.engine import apply_mapping
from rosterhub.mapping.engine.redact import redact_payload

SAMPLES = Path(__file__).resolve().parents[3] / "mapping" / "samples"
ESR_SAMPLE = (SAMPLES / "esr" / "daily_change.input.txt").read_bytes()
SECRETS = {"esr_identity": b"sample-collaborative-secret-not-for-production"}
WHEN = datetime(2026, 3, 24, 2, 20, tzinfo=UTC)
PERSONAL = (b"AB 12 34 56 C", b"AB123456D", b"12-APR-1990", b"12 River Lane", b"S1 2AB", b"Sheffield")


def test_pipe_files_are_redacted_field_by_field_and_line_by_line() -> None:
    spec = packaged_mapping("esr", None)
    kept = redact_payload(spec, ESR_SAMPLE)
    assert kept.fields == ("address_line_1", "date_of_birth", "ni_number", "postcode", "town") and not kept.withheld
    for secret in PERSONAL:
        assert secret in ESR_SAMPLE and secret not in kept.value
    assert kept.value.count(b"\n") == ESR_SAMPLE.count(b"\n")
    assert kept.value.splitlines()[0] == ESR_SAMPLE.splitlines()[0] and kept.value.splitlines()[-1] == b"TRL|9"
    assert b"PER|10045871|N|MRS|AMARA|OKAFOR|REDACTED|REDACTED|REDACTED|REDACTED|REDACTED|NMC|12a3456e|" in kept.value
    assert b"|Ward 7 Acute Medicine|" in kept.value  # assignments carry no personal data
    # whatever the encoding or damage, nothing personal survives
    for broken in (
        ESR_SAMPLE.decode().encode("utf-16"),
        ESR_SAMPLE.replace(b"PER|", b"PRR|"),
        ESR_SAMPLE.replace(b"\n", b"\r\n"),
    ):
        out = redact_payload(spec, broken).value
        assert b"AB 12 34 56 C" not in out and "AB 12 34 56 C".encode("utf-16-le") not in out
    # what the mapping dead-letters of a line of unknown type (a corrupted tag) is blanked too
    corrupted = ESR_SAMPLE.replace(b"PER|10045871", b"PRR|10045871")
    outcome = apply_mapping(spec, corrupted, received_at=WHEN, secrets=SECRETS)
    assert all(b"AB 12 34 56 C" not in r.raw for r in outcome.rejected)
    assert any(r.raw == b"REDACTED" for r in outcome.rejected)


def test_a_payload_without_sensitive_fields_keeps_its_bytes() -> None:
    body = (SAMPLES / "patchwork" / "shift_created.input.json").read_bytes()
    assert redact_payload(packaged_mapping("patchwork", None), body).value == body
    assert redact_payload(None, b"anything").value == b"anything"


def test_csv_json_and_xml_are_redacted_wherever_the_names_are() -> None:
    csv_spec = dataclasses.replace(packaged_mapping("nhsp", None), sensitive=frozenset({"Worker Name"}))
    body = (SAMPLES / "nhsp" / "bookings.input.csv").read_bytes()
    header = body.decode("cp1252").splitlines()[0]
    assert "Worker Name" in header
    kept = redact_payload(csv_spec, body)
    rows = kept.value.decode("cp1252").splitlines()
    column = header.split(",").index("Worker Name")
    assert rows[0] == header and len(rows) == len(body.decode("cp1252").splitlines())
    assert {r.split(",")[column] for r in rows[1:] if r.strip()} <= {"REDACTED", ""}

    json_spec = dataclasses.replace(packaged_mapping("fhir", None), sensitive=frozenset({"birthDate", "address"}))
    practitioner = {
        "resourceType": "Practitioner",
        "id": "p1",
        "birthDate": "1970-01-01",
        "address": [{"line": ["1 Probe Street"], "postalCode": "S9 9ZZ"}],
        "name": [{"family": "Okafor"}],
    }
    kept = redact_payload(json_spec, json.dumps(practitioner).encode())
    assert json.loads(kept.value) == {"resourceType": "Practitioner", "id": "p1", "name": [{"family": "Okafor"}]}

    xml = (
        b'<Practitioner xmlns="http://hl7.org/fhir"><id value="p1"/><birthDate value="1970-01-01"/>'
        b'<address><postalCode value="S9 9ZZ"/></address><gender value="female"/></Practitioner>'
    )
    kept = redact_payload(json_spec, xml)  # FHIR XML under the JSON mapping: redacted as XML
    assert b"1970" not in kept.value and b"S9 9ZZ" not in kept.value and b'<gender value="female"' in kept.value
    assert b'<Practitioner xmlns="http://hl7.org/fhir">' in kept.value  # still FHIR XML, default namespace

    for unreadable in (
        b'{"birthDate": "1970-01-01"',
        b"<Practitioner><birthDate",
        '{"birthDate": "1970-01-01"'.encode("utf-16"),
        b'{"birth\\u0044ate": "1970-01-01"',
    ):
        broken = redact_payload(json_spec, unreadable)  # may hold a sensitive field: nothing of it is kept
        assert broken.withheld and broken.value == b"" and broken.header == "*", unreadable
    kept = redact_payload(json_spec, b'{"resourceType": "Bundle", "entry": [')  # broken, no personal field in it
    assert kept.value == b'{"resourceType": "Bundle", "entry": [' and not kept.withheld


def test_keyed_values_make_a_replay_of_the_redacted_copy_give_the_same_events() -> None:
    spec = packaged_mapping("esr", None)
    live = apply_mapping(spec, ESR_SAMPLE, received_at=WHEN, secrets=SECRETS)
    assert live.keyed and all(set(v) == {"identity_match_key"} for v in live.keyed.values())
    assert not any(p in json.dumps(live.keyed).encode() for p in PERSONAL)  # keyed hashes and reasons only
    kept = redact_payload(spec, ESR_SAMPLE).value
    replayed = apply_mapping(spec, kept, received_at=WHEN, secrets=SECRETS, keyed=live.keyed)
    assert [(e.id, e.data) for e in replayed.events] == [(e.id, e.data) for e in live.events]
    keys = [e.data["identity_match_key"] for e in live.events if "identity_match_key" in e.data]
    assert keys and all(k and len(k) == 64 for k in keys)
    # a record refused for its NI number is refused again, for the same reason, though the number is gone
    refused_live = {r.record_ref: r.error.message for r in live.rejected if r.error.target == "identity_match_key"}
    refused_again = {r.record_ref: r.error.message for r in replayed.rejected if r.error.target == "identity_match_key"}
    assert refused_live and refused_again == refused_live
    # without the keyed values (a raw copy written before they were kept) person records map without the key
    bare = apply_mapping(spec, kept, received_at=WHEN, secrets=SECRETS)
    assert {e.id for e in bare.events} >= {e.id for e in live.events}
    assert all(e.data.get("identity_match_key") is None for e in bare.events)


def test_xml_nested_thousands_deep_is_redacted_or_withheld_never_a_recursion_error() -> None:
    """Found by the connector fuzzing (issue #17): FHIR XML 20,000 elements deep raised RecursionError out of the
    pipeline before its raw copy was written."""
    spec = packaged_mapping("fhir", None)
    deep = b"<a>" * 20_000 + b"</a>" * 20_000
    assert redact_payload(spec, deep).value == deep  # nothing sensitive in it: kept as it is
    inside = b"<a>" * 5_000 + b'<birthDate value="1990-04-12"/>' + b"</a>" * 5_000
    kept = redact_payload(spec, inside)
    assert b"1990-04-12" not in kept.value  # taken out, or the whole copy withheld
