"""Soak: steady mixed traffic through the real connectors while hub processes are SIGKILLed and the broker restarted.

    .venv/bin/python bench/soak.py --duration 1800 --kills 20          # the long version (docs/benchmarks.md)
    .venv/bin/python bench/soak.py --duration 30 --kills 4 --rate 4    # the short version (tests/integration)

What it runs, every piece real and on this machine:

* its own local KRaft broker (``rosterhub.kafka.local.LocalBroker``, a data folder and two free ports of its own);
* the hub's processes as children, restarted by this harness (their supervisor here) whenever one dies:
  ``rosterhub worker`` (the stream processors and the outbound adapters), ``rosterhub serve`` (the HTTP ingress)
  and ``rosterhub connect locums_nest`` (a polling connector);
* traffic: Patchwork webhooks (a shift, then one or two booking requests from registered nurses), signed and
  POSTed to the ingress at ``--rate`` payloads/s, each sent again until the ingress says 2xx (as a platform does);
  and the Locum's Nest simulator, whose activity feed the connector polls, growing by ``--feed-per-minute``
  changes a minute;
* a trust-side HTTP receiver for the hub's ``outcomes`` adapter (``ROSTERHUB_OUTBOUND_ENDPOINTS``), which records
  every delivery with its ``Idempotency-Key`` and applies each key once.

Meanwhile, at ``--kills`` random moments, in turn: the broker is restarted (stopped with SIGTERM, then started on
the same data folder and port), and the worker, the ingress and the connector are SIGKILLed (and started again at
once). A child that dies by itself (e.g. one that cannot reach the broker while it restarts) is started again too,
and listed under ``unplanned_exits``. Afterwards it checks from the topics, and reports the counts:

* every vendor payload is on its raw topic (each accepted webhook body; each change the simulator published), and
  every raw record is mapped (each event its mapping yields is on an events topic) or dead-lettered (a DLQ record
  names it as its origin);
* every booking request is decided exactly once (one decision event id per booking) and every re-sent copy of a
  decision is byte-identical;
* no shift has more than one confirmation (no standing double fill);
* no person has two confirmed bookings that overlap;
* every outbound update expected (each decision, to its trust's receiver) was delivered, and the receiver applied
  each idempotency key once: distinct keys applied = expected, deliveries beyond that are counted as repeats.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

import booking_bench as bb  # noqa: E402
from fastapi import FastAPI, Header, Request  # noqa: E402  (module level: the route's annotations resolve here)

from rosterhub.kafka.access import KafkaAccess  # noqa: E402

DECISIONS = bb.DECISIONS
POLLED = "locums_nest"
VENDORS = ("patchwork", POLLED)
#: Seconds after the traffic's end a webhook is still sent again (the ingress restarting); after that the
#: sender stops and counts the payload as never accepted
RETRY_GRACE_S = 120.0
#: what is killed, in turn ("broker": restarted; first, so that a short run's slowest recovery overlaps its traffic)
VICTIMS = ("broker", "worker", "ingress", f"connect-{POLLED}")


def _free_port() -> int:
    from tests.support import free_port

    return free_port()


def _read_all(kafka: KafkaAccess, topic: str) -> list[Any]:
    from kafka import KafkaConsumer, TopicPartition

    c = KafkaConsumer(**kafka.kafka_python(), enable_auto_commit=False, max_partition_fetch_bytes=8 * 2**20)
    try:
        tps = [TopicPartition(topic, p) for p in sorted(c.partitions_for_topic(topic) or ())]
        if not tps:
            return []
        c.assign(tps)
        c.seek_to_beginning(*tps)
        ends = c.end_offsets(tps)
        out: list[Any] = []
        while any(c.position(tp) < ends[tp] for tp in tps):
            for batch in c.poll(timeout_ms=500).values():
                out += batch
        return out
    finally:
        c.close()


# ---------------------------------------------------------------- the trust side of the outcomes adapter


@dataclass
class TrustReceiver:
    """A trust system taking the hub's outcomes: every delivery recorded, each idempotency key applied once."""

    deliveries: list[tuple[str, str, str]] = field(default_factory=list)  # (trust, idempotency key, event id)
    applied: dict[str, str] = field(default_factory=dict)  # key -> event id, the first delivery of it
    lock: threading.Lock = field(default_factory=threading.Lock)

    def app(self) -> Any:
        app = FastAPI(title="soak trust receiver")

        @app.post("/outcomes/{trust}", status_code=204)
        async def outcome(trust: str, request: Request, idempotency_key: str = Header(...)) -> None:
            body = await request.json()
            with self.lock:
                self.deliveries.append((trust, idempotency_key, str(body.get("id"))))
                self.applied.setdefault(idempotency_key, str(body.get("id")))

        return app


# ---------------------------------------------------------------- the hub's processes, supervised here


class Hub:
    """The broker and the hub's children; a child that dies is started again (the harness is their supervisor)."""

    def __init__(self, broker: Any, env: dict[str, str], log_dir: Path) -> None:
        self.broker, self.env, self.log_dir = broker, env, log_dir
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.commands = {
            "worker": ["worker"],
            "ingress": ["serve"],
            f"connect-{POLLED}": ["connect", POLLED],
        }
        self.kills: Counter[str] = Counter()
        self.deaths: Counter[str] = Counter()  # deaths not caused here (e.g. while the broker was away)
        self.exits: list[str] = []

    def start(self, name: str) -> None:
        with (self.log_dir / f"{name}.log").open("ab") as out:
            self.procs[name] = subprocess.Popen(
                [sys.executable, "-m", "rosterhub", *self.commands[name]],
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=REPO,
            )

    def start_all(self) -> None:
        for name in self.commands:
            self.start(name)

    def supervise(self) -> None:
        for name, proc in list(self.procs.items()):
            if proc.poll() is not None:
                self.deaths[name] += 1
                self.exits.append(f"{name} exited {proc.returncode}")
                time.sleep(0.5)
                self.start(name)

    def kill(self, victim: str) -> None:
        if victim == "broker":
            self.broker.stop()
            time.sleep(2)
            self.broker.start()
        else:
            self.procs[victim].send_signal(signal.SIGKILL)
            self.procs[victim].wait()
            self.start(victim)
        self.kills[victim] += 1

    def stop(self) -> None:
        from tests.support import stop

        for proc in self.procs.values():
            stop(proc, timeout=60)  # SIGTERM, SIGKILL after 60 s


# ---------------------------------------------------------------- traffic


@dataclass
class Webhooks:
    """Patchwork webhooks, each POSTed to the ingress until it says 2xx, at ``rate`` payloads/s."""

    ingress: str
    secrets: dict[str, bytes]
    items: list[tuple[str, bytes, str | None]]
    rate: float
    accepted: list[bytes] = field(default_factory=list)
    fed: dict[str, float] = field(default_factory=dict)  # hub booking id -> when accepted
    attempts_refused: int = 0
    answers: Counter[str] = field(default_factory=Counter)  # status (or error name) -> times answered
    never_accepted: int = 0  # payloads still refused when the retries' deadline passed (a finding, reported)
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self, duration: float) -> None:
        import httpx

        from rosterhub.connectors.simulators.patchwork import signed_headers

        started = time.monotonic()
        with httpx.Client(timeout=10) as client:
            for i, (trust, body, booking) in enumerate(self.items):
                due = started + i / self.rate
                time.sleep(max(0.0, due - time.monotonic()))
                if time.monotonic() - started > duration or self.stop.is_set():
                    return
                while not self.stop.is_set():
                    try:
                        headers = signed_headers(self.secrets[trust], body)
                        r = client.post(f"{self.ingress}/ingest/patchwork", content=body, headers=headers)
                        self.answers[str(r.status_code)] += 1
                        if 200 <= r.status_code < 300:
                            break
                    except httpx.HTTPError as exc:
                        self.answers[type(exc).__name__] += 1
                    self.attempts_refused += 1
                    if time.monotonic() - started > duration + RETRY_GRACE_S:
                        self.never_accepted += 1
                        return
                    time.sleep(0.5)
                else:
                    return
                self.accepted.append(body)
                if booking:
                    self.fed[booking] = time.time()


# ---------------------------------------------------------------- the checks, from the topics


def _decisions(kafka: KafkaAccess, prefix: str) -> dict[str, Any]:
    from rosterhub.codec.catalogue import default_catalogue
    from rosterhub.codec.wire import SingleObjectCodec
    from rosterhub.envelope import decode_record, headers_dict

    codec = SingleObjectCodec(default_catalogue())
    copies: dict[str, set[bytes]] = defaultdict(set)  # decision ce_id -> distinct (value + headers) seen
    ids_by_booking: dict[str, set[str]] = defaultdict(set)
    confirmed: dict[str, Any] = {}
    requested: set[str] = set()
    sent = 0
    for r in _read_all(kafka, prefix + "events.booking"):
        h = headers_dict(r.headers)
        ce_type = h.get("ce_type", b"").decode()
        if ce_type.endswith("BookingRequested"):
            requested.add(decode_record(r.value, r.headers, codec).data["booking_id"])
        if ce_type not in DECISIONS or h.get("ce_source") != bb.HUB_SOURCE.encode():
            continue
        sent += 1
        ce_id = h["ce_id"].decode()
        copies[ce_id].add(r.value + b"|" + json.dumps(sorted((k, v.hex()) for k, v in h.items())).encode())
        env = decode_record(r.value, r.headers, codec)
        ids_by_booking[env.data["booking_id"]].add(ce_id)
        if env.type.endswith("BookingConfirmed"):
            confirmed[env.data["booking_id"]] = env.data
    return {
        "copies": copies,
        "ids_by_booking": ids_by_booking,
        "confirmed": confirmed,
        "requested": requested,
        "sent": sent,
    }


def _overlaps(confirmed: dict[str, Any]) -> int:
    by_person: dict[str, list[tuple[Any, Any, str]]] = defaultdict(list)
    for b, d in confirmed.items():
        by_person[str(d["worker"].get("person_id"))].append((d["start"], d["end"], b))
    overlaps = 0
    for spans in by_person.values():
        latest_end = None
        for start, end, _ in sorted(spans):
            if latest_end is not None and start < latest_end:
                overlaps += 1
            latest_end = end if latest_end is None else max(latest_end, end)
    return overlaps


def _raw_accounted(kafka: KafkaAccess, prefix: str, raw: dict[str, list[Any]]) -> dict[str, int]:
    """Raw records mapped (every event their mapping yields is on an events topic) or dead-lettered (a DLQ record
    names them as its origin), per vendor; the mapping is applied here again, as the connector did."""
    from rosterhub.codec.catalogue import default_catalogue
    from rosterhub.codec.wire import SingleObjectCodec
    from rosterhub.connectors.pipeline import IngestContext, map_payload
    from rosterhub.envelope import headers_dict
    from rosterhub.runtime import Encoder, TopicNames
    from rosterhub.topics import CANONICAL, DLQ_STAGES

    names = TopicNames(prefix)
    ctx = IngestContext(
        sink=None, encoder=Encoder(SingleObjectCodec(default_catalogue()), names, default_catalogue()), names=names
    )  # type: ignore[arg-type]
    event_ids = {
        headers_dict(r.headers).get("ce_id", b"").decode() for d in CANONICAL for r in _read_all(kafka, names.events(d))
    }
    origins: set[tuple[str, int, int]] = set()
    for stage in DLQ_STAGES:
        for r in _read_all(kafka, names.dlq(stage)):
            h = headers_dict(r.headers)
            if "dlq_origin_topic" in h:
                origins.add(
                    (h["dlq_origin_topic"].decode(), int(h["dlq_origin_partition"]), int(h["dlq_origin_offset"]))
                )
    out: dict[str, int] = {}
    for vendor, records in raw.items():
        mapped = dead = neither = 0
        for r in records:
            h = headers_dict(r.headers)
            trust = h.get("rh_trust", b"").decode() or None
            received = (
                datetime.fromisoformat(h["rh_received_at"].decode()) if "rh_received_at" in h else datetime.now(UTC)
            )
            m = map_payload(ctx, vendor, r.value, trust=trust, received_at=received, headers=list(r.headers))
            is_dead = (r.topic, r.partition, r.offset) in origins
            ids = [e.id for e in m.outcome.events] if m.outcome is not None else []
            rejected = m.outcome is None or bool(m.outcome.rejected)
            if ids and all(i in event_ids for i in ids) and (not rejected or is_dead):
                mapped += 1
            elif is_dead and all(i in event_ids for i in ids):
                dead += 1
            elif not ids and not rejected:
                mapped += 1  # nothing to map (an echo of the hub's own update, an empty page)
            else:
                neither += 1
        out |= {f"{vendor}_raw": len(records), f"{vendor}_mapped": mapped, f"{vendor}_dead_lettered": dead}
        out[f"{vendor}_neither"] = neither
    return out


def check(
    kafka: KafkaAccess,
    prefix: str,
    webhooks: Webhooks,
    feed: Any,
    receiver: TrustReceiver,
    endpoints: dict[str, str],
) -> dict[str, Any]:
    """The invariants, from the topics (and the receiver's record of deliveries)."""
    from rosterhub.connectors.outbound.delivery import idempotency_key
    from rosterhub.connectors.outbound.routing import requester_of

    d = _decisions(kafka, prefix)
    ids_by_booking, copies, fed = d["ids_by_booking"], d["copies"], webhooks.fed
    fills = Counter(c["shift_id"] for c in d["confirmed"].values())
    raw = {v: _read_all(kafka, f"{prefix}raw.{v}") for v in VENDORS}
    on_raw = Counter(r.value for r in raw["patchwork"])
    published = {str(c["change_id"]) for ods in feed.organisations for c in feed.platform.changes(ods)}
    polled = set()
    for r in raw[POLLED]:
        with suppress(ValueError, AttributeError):
            polled |= {str(c.get("change_id")) for c in json.loads(r.value).get("changes", ())}
    # the outbound updates expected: each decision to the receiver of its (requesting) trust
    expected: dict[str, str] = {}
    for booking, ce_ids in ids_by_booking.items():
        _vendor, trust = requester_of({"booking_id": booking})
        if trust in endpoints:
            for ce_id in ce_ids:
                expected[idempotency_key(ce_id, f"outcomes-{trust}")] = ce_id
    with receiver.lock:
        deliveries = list(receiver.deliveries)
        applied = dict(receiver.applied)
    requests = d["requested"]
    return {
        "webhook_payloads_accepted": len(webhooks.accepted),
        "webhook_payloads_not_on_raw": sum(1 for b in webhooks.accepted if not on_raw[b]),
        "webhook_attempts_refused": webhooks.attempts_refused,
        "webhook_never_accepted": webhooks.never_accepted,
        "webhook_answers": dict(webhooks.answers),
        "feed_changes_published": len(published),
        "feed_changes_not_on_raw": len(published - polled),
        **_raw_accounted(kafka, prefix, raw),
        "requests_fed": len(fed),
        "requests_on_topic": len(requests),
        "decided": sum(1 for b in requests if ids_by_booking.get(b)),
        "lost": sum(1 for b in requests | set(fed) if not ids_by_booking.get(b)),
        "decision_records": d["sent"],
        "resent_identical": d["sent"] - len(copies),
        "decided_twice_differently": sum(1 for ids in ids_by_booking.values() if len(ids) > 1)
        + sum(1 for v in copies.values() if len(v) > 1),
        "shifts_filled_twice": sum(1 for n in fills.values() if n > 1),
        "overlapping_confirmations": _overlaps(d["confirmed"]),
        "outbound_expected": len(expected),
        "outbound_deliveries": len(deliveries),
        "outbound_keys_applied": len(applied),
        "outbound_repeats": len(deliveries) - len(applied),
        "outbound_missing": len(set(expected) - set(applied)),
        "outbound_unexpected": len(set(applied) - set(expected)),
    }


def _settled(result: dict[str, Any]) -> bool:
    return (
        result["lost"] == 0
        and result["outbound_missing"] == 0
        and result["feed_changes_not_on_raw"] == 0
        and result["patchwork_neither"] == 0
        and result[f"{POLLED}_neither"] == 0
    )


# ---------------------------------------------------------------- the run


@contextmanager
def _broker(log_dir: Path) -> Iterator[Any]:
    from rosterhub.kafka.local import LocalBroker
    from rosterhub.settings import Settings

    settings = Settings(kafka_data_dir=log_dir / "kafka", kafka_port=_free_port(), kafka_controller_port=_free_port())
    broker = LocalBroker(settings)
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()


def soak(
    *, duration: float, kills: int, rate: float, log_dir: Path, seed: int = 11, feed_per_minute: float = 30
) -> dict[str, Any]:
    from rosterhub.connectors.registry import connectors
    from rosterhub.connectors.simulators.locums_nest import LocumsNestSimulator
    from rosterhub.connectors.simulators.serving import serving
    from rosterhub.kafka.admin import ensure_topics
    from rosterhub.topics import declared_topics

    token = uuid.uuid4().hex[:8]
    prefix, app_id = f"soak{token}.", f"rosterhub-soak-{token}"
    log_dir.mkdir(parents=True, exist_ok=True)
    with ExitStack() as stack:
        broker = stack.enter_context(_broker(log_dir))
        kafka = broker.access
        cfg = bb.BenchConfig(bootstrap=kafka.bootstrap_servers, baseline=False, log_dir=log_dir, seed=seed)
        ensure_topics(kafka, declared_topics(connectors(), prefix), default_partitions=6, replication_factor=1)
        pool = bb.nurse_pool(cfg.people_per_trust, seed)
        bb.load_population(cfg, prefix, pool)
        receiver = TrustReceiver()
        trust_url = stack.enter_context(serving(receiver.app(), _free_port()))
        endpoints = {t: f"{trust_url}/outcomes/{t}" for t in bb.TRUSTS}
        feed = LocumsNestSimulator(2, seed=seed, initial_changes=10, changes_per_minute=feed_per_minute)
        feed_url = stack.enter_context(feed.running(_free_port()))
        secrets = {t: uuid.uuid4().hex for t in bb.TRUSTS}
        http_port = _free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("ROSTERHUB_")}
        env |= kafka.env()  # the children's access: address and security (docs/kafka-security.md)
        env |= {
            "KAFKA_BOOTSTRAP_SERVERS": kafka.bootstrap_servers,
            "ROSTERHUB_TOPIC_PREFIX": prefix,
            "ROSTERHUB_APP_ID": app_id,
            "ROSTERHUB_STATE_DIR": str(log_dir / "state"),
            "ROSTERHUB_DEFAULT_PARTITIONS": "6",
            "ROSTERHUB_LOG_LEVEL": "WARNING",
            "ROSTERHUB_HTTP_PORT": str(http_port),
            "ROSTERHUB_WEBHOOK_SECRETS": json.dumps({"patchwork": secrets}),
            "ROSTERHUB_OUTBOUND_ENDPOINTS": json.dumps(endpoints),
            "ROSTERHUB_CONNECTORS": json.dumps({POLLED: feed.connector_options(feed_url, poll_interval_s=2)}),
            "PYTHONPATH": str(REPO),
        }
        hub = Hub(broker, env, log_dir)
        stack.callback(hub.stop)
        hub.start_all()
        bb._wait_linked(kafka, prefix, sum(map(len, pool.values())), [hub.procs["worker"]])
        ingress = f"http://127.0.0.1:{http_port}"
        _wait_http(f"{ingress}/health", hub)
        items = bb.workload(int(rate * (duration + 1)), seed, token[:6], pool)
        webhooks = Webhooks(ingress, {t: s.encode() for t, s in secrets.items()}, items, rate)
        stack.callback(webhooks.stop.set)
        sender = threading.Thread(target=webhooks.run, args=(duration,), daemon=True)
        rng = random.Random(seed)
        moments = sorted(rng.uniform(0.1 * duration, 0.9 * duration) for _ in range(kills))
        started = time.monotonic()
        sender.start()
        for n, at in enumerate(moments):
            while time.monotonic() < started + at:
                hub.supervise()
                time.sleep(0.2)
            hub.kill(VICTIMS[n % len(VICTIMS)])
        while sender.is_alive():
            hub.supervise()
            sender.join(timeout=0.5)
        feed.changes_per_minute = 0  # the feed stops growing: what it published must all arrive
        deadline = time.monotonic() + max(180.0, duration / 2)
        result: dict[str, Any] = {}
        while time.monotonic() < deadline:
            hub.supervise()
            result = check(kafka, prefix, webhooks, feed, receiver, endpoints)
            if _settled(result):
                break
            time.sleep(5)
        waited = time.monotonic() - started - duration
    report = {
        "duration_s": duration,
        "rate": rate,
        "kills": sum(hub.kills.values()),
        "kills_by_process": dict(hub.kills),
        "unplanned_exits": hub.exits,
        "settled_after_s": round(waited, 1),
        **result,
        "load_average": os.getloadavg(),
        "log_dir": str(log_dir),
    }
    (log_dir / "report.json").write_text(json.dumps(report, indent=2, default=str))
    return report


def _wait_http(url: str, hub: Hub, timeout: float = 120) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        hub.supervise()
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"{url} did not answer within {timeout} s")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--duration", type=float, default=1800)
    ap.add_argument("--kills", type=int, default=20)
    ap.add_argument("--rate", type=float, default=8, help="webhook payloads/s")
    ap.add_argument("--feed-per-minute", type=float, default=30, help="changes/min on the polled feed")
    ap.add_argument("--log-dir", type=Path, default=Path(tempfile.gettempdir()) / "rosterhub-bench" / "soak")
    ap.add_argument("--json-out", type=Path)
    args = ap.parse_args()
    log_dir = args.log_dir / time.strftime("%Y%m%dT%H%M%S")
    print(f"soak: logs in {log_dir}", flush=True)
    report = soak(
        duration=args.duration, kills=args.kills, rate=args.rate, log_dir=log_dir, feed_per_minute=args.feed_per_minute
    )
    print(json.dumps(report, indent=2, default=str), flush=True)
    if args.json_out:
        args.json_out.write_text(json.dumps(report, indent=2, default=str))


if __name__ == "__main__":
    main()
