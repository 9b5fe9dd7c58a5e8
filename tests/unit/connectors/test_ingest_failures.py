"""Issue #12, finding 7: every exception path ends with the payload kept and a dead letter naming the reason.

The ingress over an in-memory sink (the broker's side of these paths is in
tests/integration/connectors/test_ingress_hardening.py): a failure the hub was not written to
expect, after the raw write, is answered 500 ``internal_error`` naming the kept raw record and
the correlation id, never a bare 500 that keeps nothing; a value fastavro cannot write fails its
record only; a broker that cannot take the raw write is a 503 the sender retries.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import SecretStr

from rosterhub.connectors.kinds.webhook import webhook_router
from rosterhub.connectors.simulators.patchwork import signed_headers
from rosterhub.envelope import headers_dict
from rosterhub.errors import BrokerUnavailable
from tests.unit.connectors.test_fhir_harness import Harness

SAMPLES = Path(__file__).resolve().parents[3] / "mapping" / "samples"
SHIFT = (SAMPLES / "patchwork" / "shift_created.input.json").read_bytes()
SECRET = "unit-secret"


class _Boom(RuntimeError):
    pass


@pytest.fixture
def hub(tmp_path: Path) -> Harness:
    return Harness(tmp_path, webhook_secrets={"patchwork": {"RXX": SecretStr(SECRET)}})  # the sample shift is RXX's


def _webhook(hub: Harness) -> TestClient:
    app = FastAPI()
    app.include_router(webhook_router(hub.settings, hub.ctx))
    return TestClient(app, raise_server_exceptions=False)


def _post(client: TestClient, body: bytes, correlation_id: str = "c-7") -> Any:
    headers = {**signed_headers(SECRET.encode(), body), "X-Correlation-Id": correlation_id}
    return client.post("/ingest/patchwork", content=body, headers=headers)


def test_a_failure_after_the_raw_write_keeps_the_payload_and_says_why(
    hub: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = hub.sink.send

    def send(records: Any) -> Any:  # the raw write and dead letters pass; publishing the events blows up
        records = list(records)
        if any(r.topic.startswith("events.") for r in records):
            raise _Boom("the events topic writer is on fire")
        return real(records)

    monkeypatch.setattr(hub.sink, "send", send)
    r = _post(_webhook(hub), SHIFT)
    assert r.status_code == 500
    body = r.json()
    assert (
        body["error"]["code"] == "internal_error"
        and "_Boom: the events topic writer is on fire" in body["error"]["message"]
    )
    assert body["correlation_id"] == "c-7" and body["raw"]["topic"] == hub.names.raw("patchwork")
    [raw] = hub.sink.on(hub.names.raw("patchwork"))
    assert raw.value == SHIFT
    [dead] = hub.sink.on(hub.names.dlq("mapping"))
    h = headers_dict(dead.headers)
    assert dead.value == SHIFT and h["dlq_code"] == b"internal_error" and h["rh_correlation_id"] == b"c-7"
    assert (h["dlq_origin_topic"], h["dlq_origin_offset"]) == (raw.topic.encode(), b"0")
    assert hub.sink.on(hub.names.events("shift")) == []


def test_a_value_fastavro_cannot_write_fails_its_record_not_the_request(
    hub: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Encoder:  # as fastavro failed on "\ud800" (the probe's 500): a non-EncodeError from the encoder
        def __init__(self, inner: Any) -> None:
            self.inner = inner

        def encode(self, env: Any) -> Any:
            if env.data.get("ward") == "Ward 7 - Acute Medicine":
                raise UnicodeEncodeError("utf-8", "\ud800", 0, 1, "surrogates not allowed")
            return self.inner.encode(env)

    monkeypatch.setattr(hub.ctx, "encoder", Encoder(hub.ctx.encoder))
    r = _post(_webhook(hub), SHIFT)
    assert r.status_code == 422
    [rejected] = r.json()["rejected"]
    assert rejected["code"] == "encode_error" and "UnicodeEncodeError" in rejected["message"]
    [dead] = hub.sink.on(hub.names.dlq("mapping"))
    assert headers_dict(dead.headers)["dlq_code"] == b"encode_error"


def test_a_broker_that_cannot_take_the_raw_write_is_a_503_to_retry(
    hub: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    def down(_records: Any) -> Any:
        raise BrokerUnavailable("no broker answers")

    monkeypatch.setattr(hub.sink, "send", down)
    r = _post(_webhook(hub), SHIFT)
    assert r.status_code == 503 and r.headers["Retry-After"] and r.json()["error"]["code"] == "broker_unavailable"


def test_fhir_failures_the_hub_did_not_expect_are_kept_and_answered(
    hub: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    import rosterhub.connectors.kinds.fhir.endpoint as fhir

    def explode(*_a: Any, **_k: Any) -> Any:
        raise _Boom("planning blew up")

    monkeypatch.setattr(fhir, "plan_request", explode)
    body = json.dumps({"resourceType": "Practitioner", "id": "p1"}).encode()
    r = hub.client.post(  # with RXX's integration token
        "/fhir/RXX/R4/Practitioner",
        content=body,
        headers={"content-type": "application/fhir+json", "X-Correlation-Id": "c-fhir"},
    )
    assert r.status_code == 500 and r.json()["resourceType"] == "OperationOutcome"
    assert "_Boom: planning blew up" in r.json()["issue"][0]["diagnostics"]
    [raw] = hub.sink.on(hub.names.raw("fhir"))
    assert raw.value == body
    [dead] = hub.sink.on(hub.names.dlq("mapping"))
    h = headers_dict(dead.headers)
    assert dead.value == body and h["rh_correlation_id"] == b"c-fhir" and b"planning blew up" in h["dlq_message"]


def test_a_raw_copy_that_would_not_fit_a_record_is_refused_not_retried_for_ever(hub: Harness) -> None:
    from datetime import UTC, datetime

    from rosterhub.connectors.receipt import RAW_RECORD_LIMIT, write_raw
    from rosterhub.errors import PayloadTooLarge

    keyed = {f"line {n}": {"identity_match_key": "f" * 64} for n in range(2, 40_000)}
    payload = b"x" * (RAW_RECORD_LIMIT - 2 * 1024 * 1024)  # fits alone; not with its keyed values
    receipt = {"trust": "RXX", "content_type": "text/plain", "received_at": datetime.now(UTC), "correlation_id": "c"}
    with pytest.raises(PayloadTooLarge, match="split the file"):
        write_raw(hub.ctx, "patchwork", payload, keyed=keyed, **receipt)
    assert hub.sink.records == []
    write_raw(hub.ctx, "patchwork", payload, **receipt)  # without them it fits
    assert len(hub.sink.on(hub.names.raw("patchwork"))) == 1
