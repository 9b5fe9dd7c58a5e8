"""apply_mapping: records in, events or rejections out, nothing dropped, nothing raised for bad input."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from rosterhub.connectors.simulators.esr import interface_file
from rosterhub.envelope import event_id
from rosterhub.errors import ConfigError, MappingError, ParseError
from rosterhub.mapping.engine import MappingSpec, apply_mapping, find_mapping, load_mapping, vendors_folder
from tests.unit.mapping.mapping_helpers import BOOKING_JSON, GOOD, RECEIVED, payload, write


@pytest.fixture
def spec(tmp_path: Path) -> MappingSpec:
    return load_mapping(write(tmp_path, BOOKING_JSON))


def test_a_record_becomes_an_event(spec: MappingSpec) -> None:
    out = apply_mapping(spec, payload(GOOD), received_at=RECEIVED, trust="rxx")
    [event] = out.events
    assert event.type == "rosterhub.booking.v1.BookingRequested"
    assert event.source == "/vendors/testvendor/RXX"
    assert event.subject == "testvendor:RXX:b1"
    assert event.record_ref == "items[0]"
    assert json.loads(event.raw) == GOOD
    assert event.data["worker"]["identifiers"] == [
        {"system": "https://fhir.hl7.org.uk/Id/nmc-number", "value": "71A2998E"}
    ]
    assert event.data["requested_at"] == datetime(2026, 3, 25, 9, tzinfo=UTC)
    assert event.id == event_id("testvendor", "RXX", event.type, "b1")
    assert not out.rejected and not out.skipped


def test_redelivery_gives_the_same_event_ids(spec: MappingSpec) -> None:
    first = apply_mapping(spec, payload(GOOD), received_at=RECEIVED, trust="RXX")
    again = apply_mapping(spec, payload(GOOD), received_at=datetime.now(UTC), trust="RXX")
    assert [e.id for e in first.events] == [e.id for e in again.events]


def test_bad_record_is_rejected_naming_record_field_value_and_rule(spec: MappingSpec) -> None:
    bad = {**GOOD, "id": "b2", "nmc": "not-a-pin"}
    out = apply_mapping(spec, payload(GOOD, bad, GOOD | {"id": "b3"}), received_at=RECEIVED, trust="RXX")
    assert [e.subject for e in out.events] == ["testvendor:RXX:b1", "testvendor:RXX:b3"]
    [rej] = out.rejected
    err = rej.error
    assert isinstance(err, MappingError)
    # the vendor's field and value; what the mapping was making from them is the target
    assert (err.record, err.field, rej.record_ref) == ("items[1]", "nmc", "items[1]")
    assert (err.value, err.target) == ("not-a-pin", "worker.identifiers[0]")
    assert err.rule.startswith("testvendor.yaml:24 register_identifier()") and err.rule.endswith("[nmc_format]")
    assert json.loads(rej.raw) == bad
    assert err.as_dict()["code"] == "mapping_error"


def test_required_field_missing_and_bad_instant(spec: MappingSpec) -> None:
    out = apply_mapping(spec, payload(GOOD | {"shift": None}, GOOD | {"at": "soon"}), received_at=RECEIVED, trust="RXX")
    first, second = (r.error for r in out.rejected)
    assert (first.field, first.value, first.target) == ("shift", None, "shift_id")
    assert "shift_id is required" in first.message and first.rule.startswith("testvendor.yaml:19")
    assert (second.field, second.value, second.target) == ("at", "soon", "requested_at")


def test_unparseable_payload_is_one_rejection_with_the_whole_payload(spec: MappingSpec) -> None:
    out = apply_mapping(spec, b'{"items": [', received_at=RECEIVED, trust="RXX")
    [rej] = out.rejected
    assert isinstance(rej.error, ParseError) and rej.raw == b'{"items": [' and rej.record_ref == "payload"
    out = apply_mapping(spec, b'{"other": []}', received_at=RECEIVED, trust="RXX")
    assert "matches nothing" in out.rejected[0].error.message


def test_skips_and_unmatched_records_are_reported(spec: MappingSpec) -> None:
    out = apply_mapping(spec, payload({"kind": "ping"}, {"kind": "mystery"}), received_at=RECEIVED, trust="RXX")
    [skipped] = out.skipped
    assert (skipped.record_ref, skipped.reason) == ("items[0]", "health check")
    [rej] = out.rejected
    assert "no event rule matches" in rej.error.message and rej.record_ref == "items[1]"


def test_unknown_trust_rejects_each_record(spec: MappingSpec) -> None:
    out = apply_mapping(spec, payload(GOOD), received_at=RECEIVED)
    assert out.rejected[0].error.field == "trust"


def test_naive_received_at_and_missing_secret_are_configuration_errors(tmp_path: Path, spec: MappingSpec) -> None:
    with pytest.raises(ConfigError):
        apply_mapping(spec, payload(GOOD), received_at=datetime(2026, 1, 1), trust="RXX")
    esr = load_mapping(find_mapping("esr"))
    with pytest.raises(ConfigError, match="esr_identity"):
        apply_mapping(esr, b"HDR|RXX\nTRL|0\n", received_at=RECEIVED)


def test_a_record_is_all_or_nothing(tmp_path: Path) -> None:
    text = (
        BOOKING_JSON.replace("    type: BookingRequested", "    continue: true\n    type: BookingRequested")
        + """
  - name: second
    when: "kind == 'request'"
    type: BookingRequested
    id: [id, {const: two}]
    fields:
      booking_id: {path: id, then: [hub_id]}
      shift_id: {path: shift, then: [hub_id]}
      worker: {record: {display_name: name}}
      vendor: {var: vendor}
      requested_at: {path: at, then: [{local_datetime: "%d/%m/%Y"}]}
"""
    )
    spec = load_mapping(write(tmp_path, text))
    out = apply_mapping(spec, payload(GOOD), received_at=RECEIVED, trust="RXX")
    assert not out.events and (out.rejected[0].error.field, out.rejected[0].error.target) == ("at", "requested_at")
    ok = GOOD | {"at": "2026-03-25"}
    text2 = text.replace('{local_datetime: "%d/%m/%Y"}', "instant")
    out = apply_mapping(load_mapping(write(tmp_path, text2, "t2.yaml")), payload(ok), received_at=RECEIVED, trust="RXX")
    assert len(out.events) == 2 and len({e.id for e in out.events}) == 2


def test_checks_reject_with_their_message(tmp_path: Path) -> None:
    text = BOOKING_JSON.replace(
        "    fields:\n", "    checks:\n      - that: \"name != 'nobody'\"\n        message: no name\n    fields:\n", 1
    )
    spec = load_mapping(write(tmp_path, text))
    out = apply_mapping(spec, payload(GOOD | {"name": "nobody"}), received_at=RECEIVED, trust="RXX")
    assert out.rejected[0].error.message == "no name" and "check" in out.rejected[0].error.rule


def test_converter_crash_on_odd_vendor_data_is_a_rejection(spec: MappingSpec) -> None:
    out = apply_mapping(spec, payload(GOOD | {"at": {"nested": 1}}), received_at=RECEIVED, trust="RXX")
    assert out.rejected and (out.rejected[0].error.field, out.rejected[0].error.target) == ("at", "requested_at")


def test_find_mapping_prefers_the_trust_variant() -> None:
    assert find_mapping("healthroster", "rxy") == vendors_folder() / "healthroster.RXY.yaml"
    assert find_mapping("healthroster", "RZZ") == vendors_folder() / "healthroster.yaml"
    assert find_mapping("patchwork") == vendors_folder() / "patchwork.yaml"
    with pytest.raises(ConfigError, match="known"):
        find_mapping("nosuchvendor")


def test_every_shipped_mapping_file_loads() -> None:
    for path in sorted(vendors_folder().glob("*.yaml")):
        spec = load_mapping(path)
        assert spec.events, path


def test_esr_personal_data_never_leaves_the_mapping() -> None:
    spec = load_mapping(find_mapping("esr"))
    body = interface_file(
        "RXX",
        date(2026, 3, 24),
        "DAILY",
        412,
        [
            "PER|1|N|MR|AL|SMITH|TN123456A|01-JAN-1990|1 High St|Leeds|LS1 1AA|NMC|71A2998E|"
            "Nursing and Midwifery Registered|Band 5",
            "PER|2|N|MS|BO|JONES|AB123456C|02-FEB-1991|2 Low St|Leeds|LS2 2BB|NMC|71A2998F|"
            "Nursing and Midwifery Registered|Band 5",
        ],
    )
    out = apply_mapping(spec, body, received_at=RECEIVED, secrets={"esr_identity": b"k"})
    [event], [rej] = out.events, out.rejected
    text = json.dumps(event.data, default=str) + event.raw.decode() + rej.raw.decode() + str(rej.error.as_dict())
    for secret in ("TN123456A", "AB123456C", "01-JAN-1990", "02-FEB-1991", "1 High St", "LS2 2BB"):
        assert secret not in text
    assert rej.error.value == "<redacted>" and "REDACTED" in rej.raw.decode()
    assert len(event.data["identity_match_key"]) == 64
