"""Backpressure (connectors/kinds/backpressure.py): the ingress answers 429 with Retry-After while the workers are
too far behind or it is full, and connectors wait instead of reading more."""

from __future__ import annotations

import threading
from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import SecretStr

from rosterhub.auth.tokens import TokenVerifier
from rosterhub.auth.web import Access, install_access
from rosterhub.connectors.kinds.backpressure import Admission, HubLag, retry_after, wait_for_room
from rosterhub.connectors.kinds.webhook import webhook_router
from rosterhub.connectors.simulators.patchwork import signed_headers
from tests.unit.connectors.test_fhir_harness import Harness

SHIFT = (
    Path(__file__).resolve().parents[3] / "mapping" / "samples" / "patchwork" / "shift_created.input.json"
).read_bytes()
SECRET = "unit-secret"


def _lag(lag: int, limit: int, drain_per_s: float = 0.0) -> HubLag:
    return HubLag(lambda: lag, limit, lag=lag, drain_per_s=drain_per_s)  # not started: the test sets the figures


def test_retry_after_is_the_excess_over_the_drain_rate_within_bounds() -> None:
    assert retry_after(500, 100.0) == 5
    assert retry_after(1, 1000.0) == 1  # at least a second
    assert retry_after(10**9, 1.0) == 60  # at most a minute
    assert retry_after(10, 0.0) == 60  # nothing draining: the longest wait


def _ingress(tmp: Path, gate: Admission) -> tuple[Harness, TestClient]:
    """The hub's webhook routes with its access control, over an in-memory sink; RXX signs its Patchwork pushes."""
    hub = Harness(tmp, webhook_secrets={"patchwork": {"RXX": SecretStr(SECRET)}})
    app = FastAPI()
    install_access(app, Access(TokenVerifier.from_settings(hub.settings), "test"))
    app.include_router(webhook_router(hub.settings, hub.ctx, admission=gate))
    return hub, TestClient(app, raise_server_exceptions=False)


def test_the_ingress_answers_429_with_retry_after_while_the_hub_is_behind_and_writes_nothing(tmp_path: Path) -> None:
    gate = Admission(8, _lag(30_000, 20_000, drain_per_s=1_000.0))
    hub, client = _ingress(tmp_path, gate)
    r = client.post("/ingest/patchwork", content=SHIFT, headers=signed_headers(SECRET.encode(), SHIFT))
    assert r.status_code == 429 and r.headers["Retry-After"] == "10"
    assert r.json()["error"]["code"] == "busy" and gate.in_flight == 0
    assert hub.sink.records == []  # nothing kept: the sender sends it again


def test_the_429_comes_after_authentication_and_is_in_the_openapi_document(tmp_path: Path) -> None:
    gate = Admission(8, _lag(30_000, 20_000, drain_per_s=1_000.0))
    hub, client = _ingress(tmp_path, gate)
    unsigned = client.post("/ingest/patchwork", content=SHIFT)
    assert unsigned.status_code == 401  # a stranger is refused as ever and learns nothing of the hub's load
    wrong = client.post("/ingest/patchwork", content=SHIFT, headers=signed_headers(b"not-the-secret", SHIFT))
    assert wrong.status_code == 401 and "Retry-After" not in wrong.headers
    op = client.get("/openapi.json").json()["paths"]["/ingest/patchwork"]["post"]
    assert "Retry-After" in op["responses"]["429"]["headers"]
    assert op["security"]  # the route still names who may call it (the access matrix reads this)
    assert hub.sink.records == []


def test_a_full_ingress_refuses_the_next_request_and_takes_it_once_one_leaves() -> None:
    gate = Admission(2, _lag(0, 20_000))
    assert gate.enter() is None and gate.enter() is None
    assert gate.enter() == 1
    gate.leave()
    assert gate.enter() is None and gate.in_flight == 2


def test_the_lag_follower_measures_how_fast_the_backlog_drains() -> None:
    readings = iter([5_000, 4_000, 3_000])
    lag = HubLag(lambda: next(readings, 3_000), limit=1_000, poll_s=0.01).start()
    try:
        threading.Event().wait(0.2)
    finally:
        lag.stop()
    assert lag.lag == 3_000 and lag.drain_per_s > 0
    assert lag.behind() is not None and _lag(999, 1_000).behind() is None


def test_a_connector_waits_while_the_hub_is_behind_and_goes_on_when_it_caught_up() -> None:
    lag, stop = _lag(50_000, 1_000, drain_per_s=100_000.0), threading.Event()
    done = threading.Event()
    t = threading.Thread(target=lambda: (wait_for_room(lag, stop), done.set()))
    t.start()
    assert not done.wait(0.3)  # still behind: the connector does not read more
    lag.lag = 0
    assert done.wait(5)
    t.join()
