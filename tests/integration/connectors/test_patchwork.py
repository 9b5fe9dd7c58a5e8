"""Patchwork-style webhooks through the real ingress and broker: happy path, redelivery,
bad input of every kind, and a crash in the middle of a request."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import httpx
import pytest
from fastapi.testclient import TestClient

from rosterhub.auth.roles import Role
from rosterhub.codec.catalogue import default_catalogue
from rosterhub.codec.wire import SingleObjectCodec
from rosterhub.connectors import metrics
from rosterhub.connectors.outbound.adapters.patchwork import ADAPTER
from rosterhub.connectors.outbound.contract import Destination, Update, wire_headers
from rosterhub.connectors.pipeline import ingest
from rosterhub.connectors.runtime import connector_context
from rosterhub.connectors.simulators.patchwork import (
    booking_requested,
    create_patchwork_platform,
    shift_created,
    signed_headers,
)
from rosterhub.envelope import Envelope, decode_record, headers_dict
from rosterhub.instants import LONDON
from rosterhub.kafka.access import access_from_settings
from rosterhub.kafka.admin import topic_counts
from rosterhub.runtime import TopicNames
from rosterhub.settings import Settings
from tests.auth_support import Tokens
from tests.integration.helpers import CrashingSink, read_topic

pytestmark = pytest.mark.integration

SECRET = "pw-secret"


@pytest.fixture
def settings(declared_hub: Settings, tokens: Tokens) -> Settings:
    # RHQ's own secret: the trust of a signed webhook is the one whose secret verifies it
    return tokens.accepting(declared_hub, webhook_secrets={"patchwork": {"RHQ": SECRET}}, max_payload_bytes=64 * 1024)


def post(ingress: str, payload: dict | bytes, *, secret: str = SECRET, now: float | None = None) -> httpx.Response:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return httpx.post(
        f"{ingress}/ingest/patchwork", content=body, timeout=30, headers=signed_headers(secret.encode(), body, now)
    )


def count(settings: Settings, *topics: str) -> list[int]:
    assert settings.kafka_bootstrap_servers
    return [c.messages for c in topic_counts(access_from_settings(settings), topics)]


def night(shift_id: str, grade: str = "Band 5") -> dict:
    return shift_created(shift_id, "RHQ", datetime(2026, 10, 24, 20, 0, tzinfo=LONDON), 13, grade=grade, ward="AMU")


def test_happy_path_and_redelivery(settings: Settings, ingress: str) -> None:
    names = TopicNames(settings.topic_prefix)
    shift = night("P-1")
    request = booking_requested("PB-1", "P-1", "RHQ", "71A2998E", datetime(2026, 10, 1, 9, tzinfo=UTC))
    assert post(ingress, shift).json()["accepted"] == 1
    assert post(ingress, request).json()["accepted"] == 1
    for payload in (shift, request):  # the vendor redelivers both
        again = post(ingress, payload)
        assert again.status_code == 202 and again.json()["duplicates"] == 1 and again.json()["accepted"] == 0
    assert count(settings, names.raw("patchwork"), names.events("shift"), names.events("booking")) == [4, 1, 1]

    codec = SingleObjectCodec(default_catalogue())
    assert settings.kafka_bootstrap_servers
    [posted] = read_topic(settings.kafka_bootstrap_servers, names.events("shift"), at_least=1)
    env = decode_record(posted.value, posted.headers, codec)
    assert env.source == "/vendors/patchwork/RHQ"
    assert env.data["shift_id"] == "patchwork:RHQ:P-1" and env.data["grade"] == "BAND_5"
    assert (env.data["end"] - env.data["start"]).total_seconds() == 13 * 3600  # clocks go back that night
    [booked] = read_topic(settings.kafka_bootstrap_servers, names.events("booking"), at_least=1)
    worker = decode_record(booked.value, booked.headers, codec).data["worker"]
    assert {"system": "https://fhir.hl7.org.uk/Id/nmc-number", "value": "71A2998E"} in worker["identifiers"]


NO_START = {**night("P-3"), "data": {k: v for k, v in night("P-3")["data"].items() if k != "start_time"}}


@pytest.mark.parametrize(
    ("case", "payload", "status", "code"),
    [
        ("malformed JSON", b'{"event": "shift.created", "data": {', 422, "parse_error"),
        ("wrong encoding", json.dumps(night("P-2")).encode("utf-16"), 422, "parse_error"),
        ("missing field", NO_START, 422, "mapping_error"),
        ("unknown grade", night("P-4", grade="Band 55"), 422, "mapping_error"),
        ("too large", json.dumps({**night("P-5"), "notes": "x" * 70_000}).encode(), 413, "payload_too_large"),
    ],
)
def test_bad_input_is_answered_and_dead_lettered(
    settings: Settings, ingress: str, case: str, payload: dict | bytes, status: int, code: str
) -> None:
    names = TopicNames(settings.topic_prefix)
    response = post(ingress, payload)
    assert response.status_code == status, response.text
    body = response.json()
    error = body["error"] if "error" in body else body["rejected"][0]
    assert error["code"] == code
    if case == "missing field":
        assert error["message"] == "data.start_time is required but missing"
    if case == "unknown grade":
        assert (error["field"], error["value"], error["target"]) == ("data.grade", "Band 55", "grade")
    stage = "ingest" if status == 413 else "mapping"
    assert settings.kafka_bootstrap_servers
    [dead] = read_topic(settings.kafka_bootstrap_servers, names.dlq(stage), at_least=1)
    original = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    assert dead.value == original  # the original bytes, for replay after a fix
    assert headers_dict(dead.headers)["dlq_code"] == code.encode()
    assert count(settings, names.events("shift"))[0] == 0


@pytest.mark.parametrize(
    ("case", "secret", "age_s"), [("bad signature", "not-the-secret", 0), ("stale timestamp", SECRET, 600)]
)
def test_unauthenticated_requests_are_refused_and_nothing_is_written(
    settings: Settings, ingress: str, case: str, secret: str, age_s: int
) -> None:
    names = TopicNames(settings.topic_prefix)
    response = post(ingress, night("P-9"), secret=secret, now=time.time() - age_s)
    assert response.status_code == 401 and response.json()["error"]["code"] == "signature_error"
    assert count(settings, names.raw("patchwork"), names.dlq("mapping"), names.dlq("ingest")) == [0, 0, 0]


def test_an_echo_of_the_hubs_own_update_is_kept_raw_but_not_taken_in(settings: Settings, ingress: str) -> None:
    """The hub fills Patchwork's shift (signed webhook); Patchwork reports the change back with the hub's
    reference: the ingress keeps the raw webhook and counts an echo, and publishes nothing new. The same
    change made in Patchwork itself (no reference) is taken in."""
    names = TopicNames(settings.topic_prefix)
    shift = night("P-E1")
    assert post(ingress, shift).json()["accepted"] == 1
    platform = TestClient(create_patchwork_platform(SECRET.encode()))
    platform.app.state.shifts["P-E1"] = dict(shift["data"])  # type: ignore[attr-defined]
    dest = Destination("patchwork-RHQ", "RHQ", "patchwork", url="http://patchwork", secret=SECRET)
    view = {
        "shift_id": "patchwork:RHQ:P-E1",
        "vendor": "patchwork",
        "vendor_shift_id": "P-E1",
        "trust": {"ods_code": "RHQ", "name": "RHQ"},
    }
    event = Envelope(
        type="rosterhub.booking.v1.ShiftFilled",
        source="/rosterhub/booking",
        data={"booking_id": "patchwork:RHQ:PB-9", "host_trust": view["trust"]},
    )
    update = Update("fill-1", dest.name, "shift_filled", view["shift_id"], view["shift_id"], event, view)
    call = ADAPTER.render(update, dest)
    headers = wire_headers(call, dest, update.key, now=time.time())
    assert platform.post(call.path, content=call.body, headers=headers).status_code == 204
    [echo] = platform.app.state.outbox  # type: ignore[attr-defined]
    echoes_before = metrics.ECHOES.labels("patchwork")._value.get()
    answer = post(ingress, echo)
    assert answer.status_code == 202 and answer.json()["echoes"] == 1 and answer.json()["accepted"] == 0
    assert metrics.ECHOES.labels("patchwork")._value.get() - echoes_before == 1
    assert count(settings, names.raw("patchwork"), names.events("shift"), names.dlq("mapping")) == [2, 1, 0]
    own_change = {**echo, "id": "evt-own", "data": {k: v for k, v in echo["data"].items() if k != "hub_reference"}}
    assert post(ingress, own_change).json()["accepted"] == 1  # without the reference: a change of Patchwork's own
    assert count(settings, names.raw("patchwork"), names.events("shift")) == [3, 2]


@pytest.mark.parametrize("survive", [1, 2], ids=["after-raw-write", "after-canonical-write"])
def test_crash_mid_request_then_vendor_retry_publishes_exactly_once(settings: Settings, survive: int) -> None:
    """survive=1: raw written, canonical not; survive=2: canonical written, the vendor never got its 202."""
    names = TopicNames(settings.topic_prefix)
    assert settings.kafka_bootstrap_servers
    payload = json.dumps(night("P-20")).encode()
    with connector_context(settings, access_from_settings(settings)) as ctx:
        crashing = CrashingSink(ctx.sink, survive)
        ctx_crash = type(ctx)(sink=crashing, encoder=ctx.encoder, names=ctx.names, state=ctx.state)
        with pytest.raises(SystemExit):
            ingest(ctx_crash, "patchwork", payload, trust=None, content_type="application/json", correlation_id="c1")
    # A new process on the same durable state; the vendor retries because it never saw a 2xx.
    with connector_context(settings, access_from_settings(settings)) as ctx:
        retry = ingest(ctx, "patchwork", payload, trust=None, content_type="application/json", correlation_id="c2")
    assert len(retry.event_ids) + retry.duplicates == 1
    assert count(settings, names.events("shift"))[0] == 1
    assert count(settings, names.raw("patchwork"))[0] >= 2  # every receipt is kept


def test_ingress_metrics_count_by_vendor(settings: Settings, ingress: str, tokens: Tokens) -> None:
    post(ingress, night("P-30"))
    post(ingress, night("P-30"))
    post(ingress, b"{")
    post(ingress, night("P-31"), secret="not-the-secret")
    metrics = httpx.get(f"{ingress}/metrics", headers=tokens.bearer(Role.OPERATOR), timeout=10).text
    assert 'rosterhub_connector_refused_total{reason="signature_error",vendor="patchwork"}' in metrics
    assert 'rosterhub_connector_received_total{vendor="patchwork"}' in metrics
    assert 'rosterhub_connector_duplicates_total{vendor="patchwork"}' in metrics
    assert 'rosterhub_connector_rejected_total{code="parse_error",vendor="patchwork"}' in metrics
