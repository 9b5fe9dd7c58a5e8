"""The explain read model: booking id -> decision offset from headers only; a decision as a JSON document."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from rosterhub.codec.catalogue import default_catalogue
from rosterhub.codec.wire import SingleObjectCodec
from rosterhub.envelope import Envelope, decode_record, encode_event
from rosterhub.streams.booking.decisions import DecisionIndex, DecisionRef, decision_booking_id, decision_document
from rosterhub.streams.booking.rules import evaluate, explain, failed_codes, reason_codes
from tests.unit.streams.test_rules_evaluate import partner_nurse_acting_up, registrar_fifth_night

CODEC = SingleObjectCodec(default_catalogue())
DECIDED = datetime(2026, 3, 5, 10, 15, tzinfo=UTC)


def _about(booking_id: str, shift_id: str, person: str, host_name: str | None) -> dict:
    """The fields a decision starts with: the booking, the shift, the worker and the host trust (RHQ)."""
    return {
        "booking_id": booking_id,
        "shift_id": shift_id,
        "worker": {"person_id": person},
        "host_trust": {"ods_code": "RHQ", "name": host_name},
    }


def _hub_event(kind: str, data: dict) -> Envelope:
    """``data`` as the booking processor emits a ``kind`` decision, decided at DECIDED."""
    return Envelope(
        f"rosterhub.booking.v1.{kind}", "/rosterhub/booking", data, subject=data["booking_id"], time=DECIDED
    )


def rejected_decision(booking_id: str = "patchwork:RHQ:90412", shift_id: str = "patchwork:RHQ:ED-0306-N") -> Envelope:
    """The registrar's fifth night of docs/booking.md as the booking processor emits it."""
    results = evaluate(registrar_fifth_night())
    data = {
        **_about(booking_id, shift_id, "p-4711", "Sheffield Teaching Hospitals"),
        "reason_codes": failed_codes(results),
        "rule_results": [r.to_avro() for r in results],
        "decided_at": DECIDED,
    }
    return _hub_event("BookingRejected", data)


def confirmed_decision(booking_id: str = "patchwork:RCU:5513", shift_id: str = "patchwork:RHQ:W6-0304-LD") -> Envelope:
    """The partner trust's nurse acting up, confirmed (a grade tolerance noted)."""
    results = evaluate(partner_nurse_acting_up())
    data = {
        **_about(booking_id, shift_id, "p-0815", None),
        "rule_results": [r.to_avro() for r in results],
        "start": datetime(2026, 3, 4, 7, 30, tzinfo=UTC),
        "end": datetime(2026, 3, 4, 20, tzinfo=UTC),
        "decided_at": DECIDED,
    }
    return _hub_event("BookingConfirmed", data)


def headers_of(env: Envelope) -> list[tuple[str, bytes]]:
    return encode_event(env, default_catalogue().get(env.type), CODEC, "events.booking").headers


def test_only_the_hubs_decisions_are_indexed_by_booking_id_from_headers() -> None:
    decision = rejected_decision()
    assert decision_booking_id(headers_of(decision)) == "patchwork:RHQ:90412"
    vendor_said = Envelope(decision.type, "/vendors/patchwork/RHQ", decision.data, subject="patchwork:RHQ:90412")
    assert decision_booking_id(headers_of(vendor_said)) is None  # an input, not the hub's decision
    assert (
        decision_booking_id(
            [
                ("ce_type", b"rosterhub.booking.v1.BookingCancelled"),
                ("ce_source", b"/rosterhub/booking"),
                ("ce_subject", b"b1"),
            ]
        )
        is None
    )
    assert decision_booking_id(None) is None
    assert decision_booking_id({"ce_type": b"rosterhub.booking.v1.BookingConfirmed"}) is None


def test_the_latest_decision_record_wins() -> None:
    index = DecisionIndex()
    headers = headers_of(rejected_decision())
    assert index.apply(1, 7, headers) == "patchwork:RHQ:90412"
    assert index.apply(1, 3, headers) == "patchwork:RHQ:90412"  # an older offset (re-read) does not replace it
    assert index.get("patchwork:RHQ:90412") == DecisionRef(1, 7)
    index.apply(1, 12, headers)  # a redelivered decision later on the partition
    assert index.get("patchwork:RHQ:90412") == DecisionRef(1, 12)
    assert index.apply(0, 1, [("ce_type", b"rosterhub.booking.v1.BookingRequested")]) is None
    assert len(index) == 1
    assert index.get("nope") is None


def test_document_of_a_rejection_has_every_rule_with_meanings_and_the_text() -> None:
    env = rejected_decision()
    record = encode_event(env, default_catalogue().get(env.type), CODEC, "events.booking")
    doc = decision_document(decode_record(record.value, record.headers, CODEC), DecisionRef(2, 41))
    json.dumps(doc)  # plain JSON: instants as ISO strings
    assert doc["outcome"] == "REJECTED"
    assert doc["booking_id"] == "patchwork:RHQ:90412"
    assert doc["decided_at"] == "2026-03-05T10:15:00+00:00"
    assert [c["code"] for c in doc["reason_codes"]] == [
        "PASSPORT_NOT_CLEARED",
        "JD_CONSECUTIVE_NIGHTS",
        "JD_WEEKEND_FREQUENCY",
    ]
    assert doc["reason_codes"][0]["meaning"] == reason_codes()["PASSPORT_NOT_CLEARED"]
    assert len(doc["rules"]) == 19
    nights = next(r for r in doc["rules"] if r["rule"] == "jd_consecutive_nights")
    assert nights["mark"] == "FAIL"
    assert nights["meaning"] == reason_codes()["JD_CONSECUTIVE_NIGHTS"]
    assert "5 consecutive nights" in nights["detail"]
    assert doc["explanation"].endswith(explain(evaluate(registrar_fifth_night())))
    assert doc["explanation"].startswith("Booking patchwork:RHQ:90412 for shift patchwork:RHQ:ED-0306-N at RHQ: REJ")
    assert doc["event"]["partition"] == 2
    assert doc["event"]["offset"] == 41


def test_document_of_a_confirmation_marks_the_noted_pass() -> None:
    doc = decision_document(confirmed_decision())
    assert doc["outcome"] == "CONFIRMED"
    assert doc["reason_codes"] == []
    grade = next(r for r in doc["rules"] if r["rule"] == "grade_match")
    assert (grade["mark"], grade["reason_code"], grade["passed"]) == ("note", "GRADE_TOLERANCE_USED", True)
    assert grade["meaning"] == reason_codes()["GRADE_TOLERANCE_USED"]
    assert all(r["mark"] == "pass" for r in doc["rules"] if r["rule"] != "grade_match")
    assert doc["explanation"].splitlines()[1] == "Confirmed: all 19 rules passed."
    assert "partition" not in doc["event"]
