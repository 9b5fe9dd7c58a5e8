"""Outbound delivery on the real broker, one worker for the module.

Three destinations served by test receivers: A (host platform at RHQ) is DOWN (connection refused)
for ``OUTAGE_S`` seconds while updates for several shifts flow; B (RXX) keeps receiving meanwhile and
finishes while A is still down; when A returns it receives every update, in queue order per shift,
each idempotency key once. C (RYY) refuses permanently (HTTP 400): its update is dead-lettered, the
next update of the same shift parks behind it, and after C is fixed ``rosterhub redrive`` delivers
both, once, in order. Receipts are checked on events.delivery.

The outage is 60 s by default ("minutes" scaled for CI); run it for real minutes with
``ROSTERHUB_TEST_OUTAGE_S=300 .venv/bin/pytest tests/integration/test_outbound_delivery.py``.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from kafka import KafkaProducer

from rosterhub.auth.roles import Role
from rosterhub.codec.catalogue import default_catalogue
from rosterhub.codec.wire import SingleObjectCodec
from rosterhub.connectors.registry import connectors
from rosterhub.envelope import Envelope, decode_record, headers_dict
from rosterhub.kafka.admin import ensure_topics
from rosterhub.kafka.resolve import Resolved
from rosterhub.runtime import TopicNames
from rosterhub.topics import declared_topics
from tests.auth_support import Tokens
from tests.integration.helpers import (
    ProducingHub,
    read_topic,
    run_cli,
    settings_env,
    wait_for,
    wait_serving,
    worker_process,
)
from tests.integration.outbound_support import Receiver
from tests.support import free_port, isolated_settings
from tests.unit.connectors.outbound_builders import outcome, view, view_event

pytestmark = pytest.mark.integration

OUTAGE_S = float(os.environ.get("ROSTERHUB_TEST_OUTAGE_S", "60"))
SHIFTS = [f"echo:RHQ:S{i}" for i in range(1, 5)]


@dataclass
class Hub(ProducingHub):
    receivers: dict[str, Receiver]
    env: dict[str, str]
    web: str
    log: Path
    metrics_headers: dict[str, str]

    def send(self, env: Envelope, topic: str) -> None:
        self.produce(topic, env, env.data["shift_id"])

    def breaker(self, destination: str) -> float | None:
        text = httpx.get(f"{self.web}/metrics", headers=self.metrics_headers, timeout=5).text
        line = f'rosterhub_outbound_breaker_state{{destination="{destination}"}}'
        return next((float(x.rsplit(" ", 1)[1]) for x in text.splitlines() if x.startswith(line)), None)

    def attempts_failed(self, keys: list[str]) -> str:
        """The worker's log lines on failed attempts for the keys received more than once: why each was sent again
        (a timeout, a reset), since CI keeps no files."""
        repeated = {k for k in keys if keys.count(k) > 1}
        lines = self.log.read_text(errors="replace").splitlines() if self.log.exists() else []
        why = [line for line in lines if "attempt" in line and any(k in line for k in repeated)]
        return "\n".join([f"received more than once: {sorted(repeated)}", *why[-20:]])

    def redrive(self, *args: str) -> str:
        return run_cli(self.env, "redrive", *args)

    def queued_keys(self, destination: str, at_least: int) -> list[tuple[str, str]]:
        """(shift id, idempotency key) of every update the router queued for a destination, in queue order."""
        records = read_topic(self.bootstrap, self.names.outbound(destination), at_least=at_least)
        records.sort(key=lambda r: (r.partition, r.offset))
        return [(r.key.decode(), headers_dict(r.headers)["rh_out_key"].decode()) for r in records]

    def receipts(self, at_least: int) -> list[tuple[str, dict]]:
        records = read_topic(self.bootstrap, self.names.events("delivery"), at_least=at_least)
        return [
            (e.type.rsplit(".", 1)[-1], e.data)
            for e in (decode_record(r.value, r.headers, self.codec) for r in records)
        ]


@pytest.fixture(scope="module")
def hub(kafka: Resolved, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    tmp = tmp_path_factory.mktemp("outbound")
    tokens = Tokens(tmp / "issuer")
    settings = isolated_settings(kafka.bootstrap, tmp, auth_issuers=[tokens.issuer.accepted()])
    ensure_topics(
        kafka.access,
        declared_topics(connectors(), settings.topic_prefix),
        default_partitions=3,
        replication_factor=1,
    )
    receivers = {name: Receiver(free_port()) for name in ("A", "B", "C")}
    for r in receivers.values():
        r.start()
    dests = [
        {"name": n, "trust": t, "platform": "echo", "url": receivers[n].url}
        for n, t in (("A", "RHQ"), ("B", "RXX"), ("C", "RYY"))
    ]
    web_port = free_port()
    extra = {
        "ROSTERHUB_OUTBOUND_DESTINATIONS": json.dumps(dests),
        "ROSTERHUB_OUTBOUND_ADAPTER_MODULES": json.dumps(["tests.integration.outbound_support"]),
        "ROSTERHUB_OUTBOUND_BACKOFF_BASE_S": "0.2",
        "ROSTERHUB_OUTBOUND_BACKOFF_CAP_S": "2",
        "ROSTERHUB_OUTBOUND_BREAKER_FAILURES": "3",
        "ROSTERHUB_OUTBOUND_BREAKER_RESET_S": "1",
        # Long enough that a receiver slowed by a loaded machine is not timed out and sent a repeat (the guarantee
        # is at-least-once, but this test checks that nothing is repeated without a cause): A's outage is refused
        # connections, which fail at once whatever the timeout.
        "ROSTERHUB_OUTBOUND_TIMEOUT_S": "10",
        "ROSTERHUB_WORKER_WEB_PORT": str(web_port),
    }
    log = tmp / "worker.log"
    producer = KafkaProducer(bootstrap_servers=kafka.bootstrap, acks="all", linger_ms=0)
    codec = SingleObjectCodec(default_catalogue())
    try:
        with worker_process(settings, log, **extra) as proc:
            h = Hub(
                settings,
                TopicNames(settings.topic_prefix),
                codec,
                producer,
                receivers,
                settings_env(settings, **extra),
                f"http://127.0.0.1:{web_port}",
                log,
                tokens.bearer(Role.OPERATOR),  # /metrics is the operator's
            )

            wait_serving(proc, log, lambda: h.breaker("A") is not None, what="worker with outbound delivery loops")
            yield h
    finally:
        producer.close()
        for r in receivers.values():
            r.stop()


def test_a_dead_destination_holds_up_nobody_and_gets_everything_in_order_once_back(hub: Hub) -> None:
    a, b, c = hub.receivers["A"], hub.receivers["B"], hub.receivers["C"]
    a.stop()
    c.refuse = True
    down_at = time.monotonic()
    views, booking = hub.names.events("view"), hub.names.events("booking")
    for i, shift in enumerate(SHIFTS, start=1):
        hub.send(view_event(view(shift, 1000, visible_to=("RHQ", "RXX"), vendor="echo")), views)
        hub.send(outcome("BookingConfirmed", shift, f"echo:RXX:B{i}"), booking)
        hub.send(outcome("ShiftFilled", shift, f"echo:RXX:B{i}"), booking)
        hub.send(view_event(view(shift, 1001, open_=False, vendor="echo")), views)
        hub.send(outcome("BookingCancelled", shift, f"echo:RXX:B{i}"), booking)
    # C: a booking through RYY's platform that RYY's system refuses, then its cancellation (parks behind it)
    hub.send(outcome("BookingConfirmed", "echo:RHQ:S9", "echo:RYY:B9"), booking)
    hub.send(outcome("BookingCancelled", "echo:RHQ:S9", "echo:RYY:B9"), booking)
    hub.producer.flush()

    # B: open, confirmed, withdrawn, cancelled for each shift - all delivered while A is still down
    b_queue = hub.queued_keys("B", at_least=4 * len(SHIFTS))
    wait_for(lambda: len(b.got) >= len(b_queue), timeout=45, what="B's updates while A is down")
    assert not a.is_up  # B had everything while A was still down (A restarts only after the outage below)
    assert sorted(b.keys()) == sorted(k for _, k in b_queue), hub.attempts_failed(b.keys())
    kinds = [body["kind"] for _, body in b.got if body["shift_id"] == SHIFTS[0]]
    assert sorted(kinds) == ["booking_cancelled", "booking_confirmed", "shift_open", "shift_withdrawn"]
    assert kinds.index("booking_confirmed") < kinds.index("booking_cancelled")  # same topic, same order
    wait_for(lambda: hub.breaker("A") == 2.0, timeout=30, what="A's circuit breaker open")

    # C: dead-lettered (refused) and parked; fixed; redrive delivers both, once, in order
    dlq = wait_for(
        lambda: (
            [
                r
                for r in read_topic(hub.bootstrap, hub.names.dlq("outbound"), at_least=2, timeout=5)
                if headers_dict(r.headers).get("dlq_destination") == b"C"
            ]
            or None
        ),
        timeout=30,
        what="C's dead letters",
    )
    dlq.sort(key=lambda r: r.offset)
    assert [headers_dict(r.headers)["dlq_reason"] for r in dlq] == [b"permanent", b"parked"]
    c_queue = hub.queued_keys("C", at_least=2)
    assert [r.value for r in dlq] == [r.value for r in read_topic(hub.bootstrap, hub.names.outbound("C"), at_least=2)]
    assert [headers_dict(r.headers)["rh_out_key"].decode() for r in dlq] == [k for _, k in c_queue]
    assert len(c.refused) == 1  # the parked one was never sent
    blocks = {r.key: r.value for r in read_topic(hub.bootstrap, hub.names.outbound_blocks, at_least=1)}
    assert blocks == {b"C\x1fecho:RHQ:S9": c_queue[0][1].encode()}  # survives a restart: read back on assignment
    c.refuse = False
    dry = hub.redrive("--destination", "C", "--dry-run")
    assert "2 would send" in dry and c.got == []
    out = hub.redrive("--destination", "C")
    assert "2 sent" in out, out
    wait_for(lambda: len(c.got) >= 2, timeout=30, what="C's redriven updates")
    assert c.keys() == [k for _, k in c_queue]
    assert [body["kind"] for _, body in c.got] == ["booking_confirmed", "booking_cancelled"]

    def c_receipts() -> list | None:
        got = [d for t, d in hub.receipts(at_least=1) if t == "DeliverySucceeded" and d["destination"] == "C"]
        return got if len(got) >= 2 else None

    assert all(d["redriven"] for d in wait_for(c_receipts, timeout=30, what="C's receipts"))
    blocks = read_topic(hub.bootstrap, hub.names.outbound_blocks, at_least=2)
    assert [(r.key, r.value) for r in blocks][-1] == (b"C\x1fecho:RHQ:S9", b"")  # unblocked
    again = hub.redrive("--destination", "C")
    assert "0 sent" in again and again.count("skipped (delivered since)") == 2

    # A comes back after the outage: every update, once, in queue order per shift
    time.sleep(max(0.0, OUTAGE_S - (time.monotonic() - down_at)))
    a_queue = hub.queued_keys("A", at_least=2 * len(SHIFTS) + 1)
    a.start()
    wait_for(lambda: len(a.got) >= len(a_queue), timeout=60, what="A's updates after the outage")
    time.sleep(1)  # anything still in flight would show up as a repeat
    assert len(a.keys()) == len(set(a.keys())) == len(a_queue)
    for shift in {s for s, _ in a_queue}:
        assert [k for k, body in a.got if body["shift_id"] == shift] == [k for s, k in a_queue if s == shift]
    assert len(b.keys()) == len(set(b.keys())) and len(c.keys()) == 2

    receipts = hub.receipts(at_least=len(a_queue) + len(b_queue) + 4)
    a_ok = {d["idempotency_key"]: d for t, d in receipts if t == "DeliverySucceeded" and d["destination"] == "A"}
    assert set(a_ok) == {k for _, k in a_queue}
    assert max(d["attempts"] for d in a_ok.values()) > 1
    assert min(d["latency_ms"] for d in a_ok.values()) >= (OUTAGE_S - 15) * 1000
    failed = [(d["destination"], d["reason"], d["kind"]) for t, d in receipts if t == "DeliveryFailed"]
    assert failed == [("C", "permanent", "booking_confirmed"), ("C", "parked", "booking_cancelled")]
