"""Issue #12 on the real ingress and broker: what a prober sent, and what must become of it.

Findings 2, 7, 8, 9 and the first bullet of 11: personal data pushed to the ingress never
reaches a topic in clear; odd bytes (a 5000-digit integer, a lone surrogate, duplicate
keys, a dict or a NUL where an id belongs, 950 KB of free text) are refused with a clear
error, their payload kept on ``raw.<vendor>`` with a dead letter saying why, never a 500
that keeps nothing; and dead letters of refused requests carry the request's correlation id.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import httpx
import pytest

from rosterhub.api import create_api
from rosterhub.auth.roles import Role
from rosterhub.codec.catalogue import default_catalogue
from rosterhub.codec.wire import SingleObjectCodec
from rosterhub.connectors.registry import connectors
from rosterhub.connectors.replay import replay_raw
from rosterhub.connectors.runtime import connector_context
from rosterhub.connectors.simulators.patchwork import shift_created, signed_headers
from rosterhub.envelope import decode_record, headers_dict
from rosterhub.instants import LONDON
from rosterhub.kafka.access import access_from_settings
from rosterhub.kafka.admin import topic_counts
from rosterhub.pii_scan import scan_topics
from rosterhub.runtime import TopicNames
from rosterhub.settings import Settings
from rosterhub.topics import declared_topics
from tests.auth_support import Tokens
from tests.integration.helpers import read_topic, serve_in_thread
from tests.support import free_port

pytestmark = pytest.mark.integration

SECRET = "pw-hardening-secret"
REPO = Path(__file__).resolve().parents[3]
ESR_SAMPLE = REPO / "mapping" / "samples" / "esr" / "daily_change.input.txt"
# what the ESR sample holds in clear: NI number (as typed and compact), date of birth, address
ESR_PERSONAL = [b"AB 12 34 56 C", b"AB123456C", b"12-APR-1990", b"12 River Lane", b"S1 2AB"]


@pytest.fixture
def settings(declared_hub: Settings, tokens: Tokens) -> Settings:
    # RHQ signs its Patchwork webhooks with its own secret; other vendors push with RHQ's (or RXX's) token
    return tokens.accepting(
        declared_hub, webhook_secrets={"patchwork": {"RHQ": SECRET}}, max_payload_bytes=2 * 1024 * 1024
    )


ESR_SECRET = "ingress-test-collaborative-secret"


@pytest.fixture
def ingress(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    assert settings.kafka_bootstrap_servers
    monkeypatch.setenv("ROSTERHUB_MAPPING_SECRET_ESR_IDENTITY", ESR_SECRET)  # the ingress maps ESR with the key
    with serve_in_thread(create_api(settings, access_from_settings(settings)), free_port()) as url:
        yield url


def _records(settings: Settings, topic: str) -> list:
    assert settings.kafka_bootstrap_servers
    [n] = [c.messages for c in topic_counts(access_from_settings(settings), [topic])]
    return read_topic(settings.kafka_bootstrap_servers, topic, at_least=n, timeout=30) if n else []


def _signed(ingress: str, body: bytes, **headers: str) -> httpx.Response:
    return httpx.post(
        f"{ingress}/ingest/patchwork",
        content=body,
        timeout=60,
        headers={**signed_headers(SECRET.encode(), body), "content-type": "application/json", **headers},
    )


def _shift(shift_id: object = "P-1", **data: object) -> dict:
    payload = shift_created("P-1", "RHQ", datetime(2026, 10, 24, 20, 0, tzinfo=LONDON), 12, grade="Band 5", ward="AMU")
    payload["data"] = {**payload["data"], "shift_id": shift_id, **data}
    return payload


def _kept_with_reason(settings: Settings, vendor: str, code: str) -> tuple[dict[str, bytes], bytes]:
    """The payload is on raw.<vendor> and one dead letter points at it with ``code``; returns the dead letter."""
    names = TopicNames(settings.topic_prefix)
    [raw] = _records(settings, names.raw(vendor))
    dead = [d for d in _records(settings, names.dlq("mapping")) if headers_dict(d.headers)["dlq_code"] == code.encode()]
    assert len(dead) == 1, [headers_dict(d.headers) for d in _records(settings, names.dlq("mapping"))]
    h = headers_dict(dead[0].headers)
    assert (h["dlq_origin_topic"], int(h["dlq_origin_offset"])) == (names.raw(vendor).encode(), raw.offset)
    assert int(h["dlq_origin_partition"]) == raw.partition
    return h, raw.value


# --- finding 2: ESR personal data pushed to the ingress --------------------------------------------


def test_esr_pushed_to_the_ingress_reaches_no_topic_in_clear(settings: Settings, ingress: str, tokens: Tokens) -> None:
    names = TopicNames(settings.topic_prefix)
    body = ESR_SAMPLE.read_bytes()
    assert all(p in body.replace(b" ", b"") or p in body for p in ESR_PERSONAL)
    r = httpx.post(
        f"{ingress}/ingest/esr",
        content=body,
        timeout=60,
        headers={"content-type": "text/plain", **tokens.bearer(Role.TRUST_INTEGRATION, "RXX")},
    )
    assert r.status_code != 500, r.text
    [raw] = _records(settings, names.raw("esr"))
    assert headers_dict(raw.headers)["rh_redacted"] == b"address_line_1,date_of_birth,ni_number,postcode,town"
    assert raw.value.count(b"\n") == body.count(b"\n")  # the file's lines are all there, personal fields blanked
    topics = [names.raw("esr"), names.dlq("mapping"), names.dlq("ingest")] + [
        names.events(d) for d in ("worker", "credential")
    ]
    for topic in topics:
        for rec in _records(settings, topic):
            seen = rec.value + b"".join(v for _, v in rec.headers)
            leaked = [p for p in ESR_PERSONAL if p in seen or p in seen.replace(b" ", b"")]
            assert not leaked, f"{topic} holds {leaked} in clear"
    # the topic scan of the end-to-end test, over every topic of this test: nothing in clear
    assert settings.kafka_bootstrap_servers
    mine = [t.name for t in declared_topics(connectors(), settings.topic_prefix)]
    findings, scanned = scan_topics(access_from_settings(settings), topics=mine)
    assert scanned[names.raw("esr")] == 1 and findings == [], findings
    # mapped with the key, and the key kept with the redacted copy: a replay makes the same events
    assert r.status_code == 422 and r.json()["accepted"] > 0  # the sample has one person with a bad NI number
    codec = SingleObjectCodec(default_catalogue())
    workers = [decode_record(x.value, x.headers, codec) for x in _records(settings, names.events("worker"))]
    keys = {w.data["identity_match_key"] for w in workers if w.type.endswith("WorkerRegistered")}
    assert keys and all(k and len(k) == 64 for k in keys)
    kept = json.loads(headers_dict(raw.headers)["rh_keyed"])  # per record: the key, or why there is none
    assert len(kept) > len(keys) and all(set(v) == {"identity_match_key"} for v in kept.values())
    assert settings.kafka_bootstrap_servers
    with connector_context(settings, access_from_settings(settings), owner="ingress") as ctx:
        ctx.secrets = {"esr_identity": ESR_SECRET.encode()}
        summary = replay_raw(ctx, access_from_settings(settings), "esr")
    assert (summary.payloads, summary.published) == (1, 0)  # nothing new: the same events, key included
    assert summary.duplicates == r.json()["accepted"] and summary.rejected == len(r.json()["rejected"])


# --- finding 7: unhandled exceptions lose payloads ------------------------------------------------


HUGE = "9" * 5000


@pytest.mark.parametrize("vendor", ["patchwork", "locums_nest", "fhir"])
def test_a_5000_digit_integer_is_refused_and_kept_with_its_reason(
    settings: Settings, ingress: str, tokens: Tokens, vendor: str
) -> None:
    rhq = tokens.bearer(Role.TRUST_INTEGRATION, "RHQ")
    if vendor == "patchwork":
        body = json.dumps(_shift(break_minutes=0)).replace('"break_minutes": 0', f'"break_minutes": {HUGE}').encode()
        r = _signed(ingress, body)
    elif vendor == "locums_nest":
        body = '{"object": "change_list", "organisation": {"ods_code": "RHQ"}, "changes": [{"change_id": HUGE}]}'
        body = body.replace("HUGE", HUGE)
        r = httpx.post(f"{ingress}/ingest/locums_nest", content=body.encode(), timeout=60, headers=rhq)
    else:
        body = '{"resourceType": "Practitioner", "id": "probe-1", "birthDate": HUGE}'.replace("HUGE", HUGE)
        r = httpx.post(
            f"{ingress}/fhir/RHQ/R4/Practitioner",
            content=body.encode(),
            timeout=60,
            headers={"content-type": "application/fhir+json", **rhq},
        )
    assert 400 <= r.status_code < 500, r.text
    h, raw = _kept_with_reason(settings, vendor, "parse_error")
    assert b"digits" in h["dlq_message"], h["dlq_message"]
    if vendor != "fhir":
        assert raw == (body if isinstance(body, bytes) else body.encode())


def test_a_lone_surrogate_is_refused_and_kept_with_its_reason(settings: Settings, ingress: str) -> None:
    body = json.dumps(_shift(ward="AMU")).replace('"ward": "AMU"', '"ward": "\\ud800"').encode()
    assert b"\\ud800" in body
    r = _signed(ingress, body)
    assert r.status_code == 422, r.text
    assert r.json()["rejected"][0]["code"] == "parse_error"
    h, raw = _kept_with_reason(settings, "patchwork", "parse_error")
    assert raw == body and b"surrogate" in h["dlq_message"]


# --- finding 8: no limit on free-text fields ------------------------------------------------------


def test_950_kb_of_free_text_is_refused_naming_the_field(settings: Settings, ingress: str) -> None:
    names = TopicNames(settings.topic_prefix)
    body = json.dumps(_shift(notes="n" * 700_000, ward="w" * 250_000)).encode()
    assert len(body) > 950_000
    r = _signed(ingress, body)
    assert r.status_code == 422, r.text[:500]
    [rejected] = r.json()["rejected"]
    # named in the vendor's words (its field, and the event field it made); both fields over their limits, in one run
    assert rejected["code"] == "mapping_error" and rejected["field"] in ("data.ward", "data.notes")
    assert {(p["field"], p["target"]) for p in rejected["problems"]} == {("data.ward", "ward"), ("data.notes", "notes")}
    assert "limit" in rejected["message"] and len(rejected["value"]) < 200  # the value, shortened
    assert _records(settings, names.events("shift")) == []
    _kept_with_reason(settings, "patchwork", "mapping_error")


# --- finding 9: odd values are coerced instead of rejected -----------------------------------------


@pytest.mark.parametrize(
    ("case", "code", "field"),
    [
        ("a dict as the shift id", "mapping_error", "data.shift_id"),
        ("a NUL inside the shift id", "mapping_error", "data.shift_id"),
        ("duplicate keys", "parse_error", None),
    ],
)
def test_odd_values_are_refused_not_coerced(
    settings: Settings, ingress: str, case: str, code: str, field: str | None
) -> None:
    names = TopicNames(settings.topic_prefix)
    if case == "a dict as the shift id":
        body = json.dumps(_shift({"nested": 1})).encode()
    elif case == "a NUL inside the shift id":
        body = json.dumps(_shift("probe\u0000A-8")).encode()
    else:
        text = json.dumps(_shift("probe-dup"))
        body = text.replace('"shift_id": "probe-dup"', '"shift_id": "probe-dup", "shift_id": "probe-other"').encode()
        assert body.count(b'"shift_id"') == 2
    r = _signed(ingress, body)
    assert r.status_code == 422, r.text
    [rejected] = r.json()["rejected"]
    assert rejected["code"] == code, rejected
    if field is not None:
        assert rejected["field"] == field
    else:
        assert "shift_id" in rejected["message"] and "duplicate" in rejected["message"]
    assert _records(settings, names.events("shift")) == []
    _kept_with_reason(settings, "patchwork", code)


# --- finding 11, first bullet: dlq.ingest records carry the correlation id ------------------------


def test_refused_requests_are_dead_lettered_with_their_correlation_id(
    settings: Settings, ingress: str, tokens: Tokens
) -> None:
    names = TopicNames(settings.topic_prefix)
    big = json.dumps(_shift(notes="x" * (2 * 1024 * 1024))).encode()
    r = _signed(ingress, big, **{"X-Correlation-Id": "probe-11a-webhook"})
    assert r.status_code == 413 and r.json()["correlation_id"] == "probe-11a-webhook"
    r = httpx.post(
        f"{ingress}/fhir/RHQ/R4/Practitioner",
        content=b"<not fhir/>",
        timeout=30,
        headers={
            "content-type": "text/plain",
            "X-Correlation-Id": "probe-11a-fhir",
            **tokens.bearer(Role.TRUST_INTEGRATION, "RHQ"),
        },
    )
    assert r.status_code == 415
    dead = [headers_dict(d.headers) for d in _records(settings, names.dlq("ingest"))]
    assert sorted(h.get("rh_correlation_id", b"") for h in dead) == [b"probe-11a-fhir", b"probe-11a-webhook"]
    assert all(h["rh_vendor"] in (b"patchwork", b"fhir") and h["rh_received_at"] for h in dead)
