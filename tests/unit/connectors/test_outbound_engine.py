"""The delivery loop without a broker: retries, permanent refusals, parking behind a dead letter, redrive,
expiry, the breaker, per-shift order within a batch, receipts; and the two transports."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from aiokafka.structs import ConsumerRecord

from rosterhub.codec.catalogue import default_catalogue
from rosterhub.codec.wire import SingleObjectCodec
from rosterhub.connectors.outbound.contract import SIGN, Destination, FileDrop, HttpCall, Rendered, Update
from rosterhub.connectors.outbound.delivery import idempotency_key
from rosterhub.connectors.outbound.engine import REDRIVE_HEADER, DeliveryLoop, EngineConfig, fold_blocks
from rosterhub.connectors.outbound.queue import Queued, StoredRecord, encode_queued
from rosterhub.connectors.outbound.transport import drop_file, file_name, send_http
from rosterhub.connectors.signing import verify
from rosterhub.envelope import KafkaRecord, decode_record, encode_event, headers_dict
from rosterhub.errors import DeliveryError
from rosterhub.kafka.access import KafkaAccess
from rosterhub.runtime import Encoder, TopicNames
from tests.unit.connectors.outbound_builders import EchoAdapter, dest, outcome

CATALOGUE = default_catalogue()
CODEC = SingleObjectCodec(CATALOGUE)
FAST = EngineConfig(max_age_s=60, backoff_base_s=0.001, backoff_cap_s=0.005, breaker_failures=50, breaker_reset_s=0.01)


class Harness:
    def __init__(
        self,
        respond: Callable[[httpx.Request], httpx.Response],
        config: EngineConfig = FAST,
        adapter: object | None = None,
    ) -> None:
        self.requests: list[httpx.Request] = []
        self.published: list[KafkaRecord] = []
        self.respond = respond
        self.offset = 0

        def handler(request: httpx.Request) -> httpx.Response:
            self.requests.append(request)
            return self.respond(request)

        self.client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
        self.loop = DeliveryLoop(
            dest("echo-A", "RHQ", "echo"),
            adapter or EchoAdapter(),
            topic="out.echo-a",
            group_id="g",
            kafka=KafkaAccess("unused:9092"),
            dlq_topic="dlq.outbound",
            codec=CODEC,
            encode=Encoder(CODEC, TopicNames(""), CATALOGUE).encode,
            publish=self._publish,
            client=self.client,
            config=config,
            blocks_topic="blocks",
        )

    async def _publish(self, rec: KafkaRecord) -> None:
        self.published.append(rec)

    def record(
        self, shift: str, n: int, *, redrive: bool = False, value: bytes | None = None, age_s: float = 0
    ) -> ConsumerRecord:
        env = outcome("ShiftFilled", shift, f"patchwork:RXX:B{n}", n=n)
        ev = encode_event(env, CATALOGUE.get(env.type), CODEC, "events.booking")
        q = Queued(
            idempotency_key(env.id, "echo-A"), "echo-A", "shift_filled", shift, StoredRecord.of(ev.value, ev.headers)
        )
        rec = encode_queued(q, "out.echo-a", [(REDRIVE_HEADER, b"1")] if redrive else [])
        self.offset += 1
        return ConsumerRecord(
            "out.echo-a",
            0,
            self.offset,
            int((time.time() - age_s) * 1000),
            0,
            rec.key,
            value if value is not None else rec.value,
            None,
            0,
            0,
            rec.headers,
        )

    def receipts(self) -> list[tuple[str, dict]]:
        out = []
        for rec in self.published:
            if rec.topic.endswith("events.delivery"):
                env = decode_record(rec.value, rec.headers, CODEC)
                out.append((env.type.rsplit(".", 1)[-1], env.data))
        return out

    def dead_letters(self) -> list[KafkaRecord]:
        return [r for r in self.published if r.topic == "dlq.outbound"]


def run(coro: object) -> object:
    return asyncio.run(coro)  # type: ignore[arg-type]


def _status(*codes: int) -> Callable[[httpx.Request], httpx.Response]:
    seq = list(codes)
    return lambda _r: httpx.Response(seq.pop(0) if len(seq) > 1 else seq[0])


def test_retriable_failures_are_retried_and_the_receipt_counts_attempts() -> None:
    h = Harness(_status(503, 429, 200))
    rec = h.record("S1", 1)
    run(h.loop.handle(rec))
    assert len(h.requests) == 3
    assert {r.headers["Idempotency-Key"] for r in h.requests} == {headers_dict(rec.headers)["rh_out_key"].decode()}
    [(kind, data)] = h.receipts()
    assert kind == "DeliverySucceeded" and data["attempts"] == 3 and data["kind"] == "shift_filled"
    assert data["idempotency_key"] == headers_dict(rec.headers)["rh_out_key"].decode() and not data["redriven"]
    assert h.dead_letters() == []


def test_a_permanent_refusal_is_dead_lettered_and_later_updates_of_that_shift_park_behind_it() -> None:
    h = Harness(_status(422))
    first, second, other = h.record("S1", 1), h.record("S1", 2), h.record("S2", 3)
    run(h.loop.handle(first))
    h.respond = _status(200)
    run(h.loop.handle(second))
    run(h.loop.handle(other))
    assert [json.loads(r.content)["shift_id"] for r in h.requests] == ["S1", "S2"]  # S1's second never sent
    dl = h.dead_letters()
    assert [r.value for r in dl] == [first.value, second.value]  # the queued records, byte for byte
    first_h, second_h = headers_dict(dl[0].headers), headers_dict(dl[1].headers)
    assert (first_h["dlq_reason"], first_h["dlq_destination"], first_h["dlq_stage"]) == (
        b"permanent",
        b"echo-A",
        b"outbound",
    )
    assert b"422" in first_h["dlq_message"]
    head_key = headers_dict(first.headers)["rh_out_key"]
    assert second_h["dlq_reason"] == b"parked" and second_h["dlq_parked_behind"] == head_key
    kinds = [(k, d["reason"] if k == "DeliveryFailed" else d["shift_id"]) for k, d in h.receipts()]
    assert kinds == [("DeliveryFailed", "permanent"), ("DeliveryFailed", "parked"), ("DeliverySucceeded", "S2")]

    # redrive: the follower cannot overtake the head; the head goes, then the follower
    run(h.loop.handle(h.record("S1", 2, redrive=True)))
    assert headers_dict(h.dead_letters()[-1].headers)["dlq_reason"] == b"parked"
    run(h.loop.handle(h.record("S1", 1, redrive=True)))
    run(h.loop.handle(h.record("S1", 2, redrive=True)))
    assert [json.loads(r.content)["shift_id"] for r in h.requests] == ["S1", "S2", "S1", "S1"]
    assert h.loop.blocked == {}
    assert [d["redriven"] for k, d in h.receipts() if k == "DeliverySucceeded"] == [False, True, True]
    # the block was written to the blocks topic and cleared there: it survives a restart
    blocks = [(r.key, r.value) for r in h.published if r.topic == "blocks"]
    assert blocks == [(b"echo-A\x1fS1", head_key), (b"echo-A\x1fS1", b"")]
    assert fold_blocks(blocks[:1], "echo-A") == {"S1": head_key.decode()} and fold_blocks(blocks, "echo-A") == {}


def test_blocks_are_folded_per_destination_last_record_wins() -> None:
    records = [
        (b"A\x1fS1", b"k1"),
        (b"B\x1fS1", b"k9"),
        (b"A\x1fS2", b"k2"),
        (b"A\x1fS1", b""),
        (None, b"x"),
        (b"A\x1fS3", b"k3"),
        (b"AB\x1fS4", b"k4"),
    ]
    assert fold_blocks(records, "A") == {"S2": "k2", "S3": "k3"}


def test_an_update_older_than_max_age_is_given_up_as_expired() -> None:
    h = Harness(
        _status(503), EngineConfig(max_age_s=0.05, backoff_base_s=0.01, backoff_cap_s=0.02, breaker_failures=100)
    )
    run(h.loop.handle(h.record("S1", 1)))
    [(kind, data)] = h.receipts()
    assert kind == "DeliveryFailed" and data["reason"] == "expired" and data["attempts"] >= 1
    assert "503" in data["error"]


def test_max_attempts_gives_up_after_that_many() -> None:
    h = Harness(_status(500), EngineConfig(max_attempts=2, backoff_base_s=0.001, backoff_cap_s=0.001))
    run(h.loop.handle(h.record("S1", 1)))
    assert len(h.requests) == 2 and h.receipts()[0][1]["reason"] == "max_attempts"


def test_the_breaker_opens_after_consecutive_failures_and_holds_calls_until_it_half_opens() -> None:
    h = Harness(
        _status(503, 503, 200),
        EngineConfig(backoff_base_s=0.001, backoff_cap_s=0.001, breaker_failures=2, breaker_reset_s=0.3),
    )
    started = time.monotonic()
    run(h.loop.handle(h.record("S1", 1)))
    assert len(h.requests) == 3 and time.monotonic() - started >= 0.3  # the third call waited for half-open
    assert h.loop.breaker.state(time.monotonic()) == "closed"


def test_a_batch_keeps_each_shifts_order_while_shifts_run_concurrently() -> None:
    h = Harness(_status(200), FAST)
    batch = [h.record(s, n) for n in range(1, 5) for s in ("S1", "S2", "S3")]
    run(h.loop.process(batch))
    for shift in ("S1", "S2", "S3"):
        expected = [json.loads(r.value)["key"] for r in batch if r.key == shift.encode()]
        got = [r.headers["Idempotency-Key"] for r in h.requests if json.loads(r.content)["shift_id"] == shift]
        assert got == expected


class _Nothing:
    platform = "echo"

    def render(self, update: Update, destination: Destination) -> Rendered | None:
        return None


class _Broken:
    platform = "echo"

    def render(self, update: Update, destination: Destination) -> Rendered | None:
        raise KeyError("vendor_shift_id")


def test_an_update_the_platform_has_no_use_for_is_skipped_without_a_receipt() -> None:
    h = Harness(_status(200), adapter=_Nothing())
    run(h.loop.handle(h.record("S1", 1)))
    assert h.requests == [] and h.published == []


def test_an_adapter_error_or_an_undecodable_record_is_dead_lettered_not_fatal() -> None:
    h = Harness(_status(200), adapter=_Broken())
    run(h.loop.handle(h.record("S1", 1)))
    assert h.receipts()[0][1]["reason"] == "undeliverable" and "vendor_shift_id" in h.receipts()[0][1]["error"]
    h2 = Harness(_status(200))
    run(h2.loop.handle(h2.record("S9", 1, value=b"not json")))
    [dl] = h2.dead_letters()
    assert dl.value == b"not json" and headers_dict(dl.headers)["dlq_reason"] == b"undeliverable"


def test_a_tombstone_on_the_queue_is_dead_lettered_not_fatal() -> None:
    """A record with no value (a tombstone) was a TypeError out of ``handle``: the batch failed, was read again
    and failed again, stopping the destination's deliveries. It is undeliverable like any unreadable record."""
    h = Harness(_status(200))
    run(h.loop.handle(dataclasses.replace(h.record("S9", 1), value=None)))
    [dl] = h.dead_letters()
    assert dl.value == b"" and headers_dict(dl.headers)["dlq_reason"] == b"undeliverable"
    assert h.requests == []


# --- transports ----------------------------------------------------------------------------------------------------
def test_http_call_is_signed_at_send_time_with_the_destination_secret() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(201)

    d = Destination("pw-RXX", "RXX", "patchwork", url="http://pw.test/hooks/", secret="s3cret")
    call = HttpCall("POST", "/rosterhub", b'{"a":1}', headers={SIGN: "hmac-sha256"})

    async def go() -> int:
        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
            return await send_http(client, d, call, "key-1", time.time())

    assert run(go()) == 201
    [req] = seen
    assert str(req.url) == "http://pw.test/hooks/rosterhub" and req.headers["Idempotency-Key"] == "key-1"
    assert SIGN not in req.headers and "s3cret" not in str(req.headers)
    from datetime import UTC, datetime

    verify(
        b"s3cret",
        req.headers["X-Rosterhub-Timestamp"],
        req.headers["X-Rosterhub-Signature"],
        req.content,
        now=datetime.now(UTC),
        tolerance_s=60,
    )


@pytest.mark.parametrize(("status", "retriable"), [(500, True), (408, True), (429, True), (404, False), (301, False)])
def test_http_status_decides_retriable(status: int, retriable: bool) -> None:
    d = Destination("x", "R", "p", url="http://x.test")

    async def go() -> None:
        async with httpx.AsyncClient(transport=httpx.MockTransport(lambda _r: httpx.Response(status))) as client:
            await send_http(client, d, HttpCall("POST", "", b""), "k", time.time())

    with pytest.raises(DeliveryError) as err:
        run(go())
    assert err.value.retriable is retriable


def test_refused_connection_is_retriable() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    async def go() -> None:
        async with httpx.AsyncClient(transport=httpx.MockTransport(refuse)) as client:
            await send_http(client, Destination("x", "R", "p", url="http://x.test"), HttpCall("POST", "", b""), "k", 0)

    with pytest.raises(DeliveryError, match="cannot reach") as err:
        run(go())
    assert err.value.retriable


def test_file_drop_is_atomic_and_a_repeat_overwrites_the_same_file(tmp_path: Path) -> None:
    d = Destination("hr", "RHQ", "healthroster", folder=str(tmp_path / "in"))
    first = drop_file(d, FileDrop("fill.xml", b"<v1/>"), "k-1")
    again = drop_file(d, FileDrop("fill.xml", b"<v2/>"), "k-1")
    other = drop_file(d, FileDrop("fill-k-2.xml", b"<x/>"), "k-2")
    assert first == again and again.read_bytes() == b"<v2/>"
    assert sorted(p.name for p in (tmp_path / "in").iterdir()) == ["fill-k-1.xml", "fill-k-2.xml"]  # no temp files
    assert other.name == "fill-k-2.xml"


@pytest.mark.parametrize("name", ["../x.csv", "a/b.csv", ".hidden", ""])
def test_file_drop_names_must_be_plain(name: str) -> None:
    with pytest.raises(DeliveryError, match="plain file name") as err:
        file_name(FileDrop(name, b""), "k")
    assert not err.value.retriable
