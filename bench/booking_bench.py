"""Booking decisions under sustained vendor load, against Kafka's own perf tools (run by hand, not in the tests).

    .venv/bin/python bench/booking_bench.py [--rate 5000] [--duration 20] [--max] [--mode premapped|pipeline]
                                            [--workers 1] [--deliver] [--no-baseline] [--json-out FILE]

What it does, on the configured broker (``KAFKA_BOOTSTRAP_SERVERS``, else the local KRaft broker):

1. **baseline**: Kafka's ``ProducerPerformance`` (kafka-producer-perf-test) with *our* raw payloads
   (``--payload-file``: the same Patchwork webhook bodies the load uses), acks=all, linger 5 ms,
   idempotent like the hub's producer, at the target rate and flat out; then ``ConsumerPerformance``
   reads them back. Same broker, same run, same topic partitioning.
2. **load**: Patchwork-style webhook payloads (``connectors/simulators/patchwork.py``: a shift posted,
   then one or two booking requests for it, the second one losing) go into the hub the way the connector
   pipeline puts them there: the raw payload on ``raw.patchwork`` (``pipeline.raw_record``) and the
   mapped, Avro-encoded canonical events on ``events.shift`` / ``events.booking``. A feeder *process*
   paces them at ``--rate`` payloads/s (``--max``: flat out). ``--mode pipeline`` maps each payload
   live (``pipeline.map_and_publish``, the connector's own CPU cost inside the latency); ``premapped``
   (default) maps them before the clock starts, so the figures are the hub's stream path alone.
   Acknowledgements are awaited every 100 ms rather than per payload (a concurrent ingress's effect).
3. ``rosterhub worker`` process(es) (fresh topics and state per run) decide; a collector follows
   events.booking (and the booking processor's internal ``_rosterhub.booking-*`` topics, whatever
   exists) by CloudEvents headers; with ``--deliver`` a receiver stands in for the trusts' systems
   (``outbound_endpoints``) and notes when each outcome arrives.
4. reports decisions/s sustained and latency p50/p95/p99 from a payload's feed time to each hop: the
   request on events.booking, any internal topic, the decision on events.booking (its record
   timestamp: when the worker produced it), the decision as a consumer sees it, and delivery.

Latencies are wall-clock (one machine, one clock); the first ``--warmup`` seconds are not counted.
Target (issue 7): 5,000 events/s with p99 < 500 ms on the 2-core machine.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from fastapi import FastAPI, Request, Response  # noqa: E402  (module level: the receiver's annotations resolve)

from rosterhub.envelope import KafkaRecord, decode_record, headers_dict  # noqa: E402
from rosterhub.instants import LONDON  # noqa: E402
from rosterhub.kafka.access import KafkaAccess  # noqa: E402
from rosterhub.streams.booking.outcome import SOURCE as HUB_SOURCE  # noqa: E402

TRUSTS = ("RHQ", "RCU", "RFR")
REQUESTED = "rosterhub.booking.v1.BookingRequested"
DECISIONS = {"rosterhub.booking.v1.BookingConfirmed", "rosterhub.booking.v1.BookingRejected"}
SAGA_HEADER = "rosterhub-saga"  # streams/booking/saga.py HEADER


# ---------------------------------------------------------------- workload (pure)


#: What the load posts: registered nursing shifts (most at the nurses' own band 5), in the simulator's patterns.
ROLE = ("Registered Nursing", ("Band 5", "Band 5", "Band 5", "Band 6"), ("Ward 3B", "Acute Medical Unit", "Ward 12"))
PATTERNS = (("early", 7, 0, 7.5), ("late", 14, 0, 7.5), ("long day", 7, 30, 12.5), ("night", 20, 0, 12.0))


def nurse_pool(per_trust: int, seed: int) -> dict[str, list[str]]:
    """NMC PINs of the band 5 bank nurses registered (with passports) at each trust before the clock starts."""
    from rosterhub.connectors.simulators.patchwork import nmc_pin

    rng = random.Random(seed * 7919)
    return {trust: [nmc_pin(rng) for _ in range(per_trust)] for trust in TRUSTS}


def workload(
    payloads: int, seed: int, run_id: str, pool: dict[str, list[str]] | None = None
) -> list[tuple[str, bytes, str | None]]:
    """(trust, webhook body, hub booking id or None) in feed order: each shift, then its 1-2 requests.

    With a ``pool`` the requests come from the trust's registered nurses (every rule runs; some are confirmed,
    the second request loses, busy nurses are refused on overlap and rest rules); without one, from people the
    hub has never seen (refused at the person stage, WORKER_UNKNOWN).
    """
    from rosterhub.connectors.simulators.patchwork import booking_requested, nmc_pin, shift_created

    rng = random.Random(seed)
    group, grades, wards = ROLE
    out: list[tuple[str, bytes, str | None]] = []
    n = 0
    while len(out) < payloads:
        n += 1
        trust = rng.choice(TRUSTS)
        _label, hour, minute, hours = rng.choice(PATTERNS)
        day = date(2027, 1, 4) + timedelta(days=rng.randint(0, 27))
        start = datetime(day.year, day.month, day.day, hour, minute, tzinfo=LONDON)
        shift_id = f"S{run_id}-{n}"
        shift = shift_created(
            shift_id, trust, start, hours, grade=rng.choice(grades), ward=rng.choice(wards), staff_group=group
        )
        out.append((trust, json.dumps(shift).encode(), None))
        for i in range(1 + n % 2):
            pin = rng.choice(pool[trust]) if pool else nmc_pin(rng)
            local = f"B{run_id}-{n}-{i}"
            body = booking_requested(local, shift_id, trust, pin, datetime.now(UTC), grade="Band 5", staff_group=group)
            out.append((trust, json.dumps(body).encode(), f"patchwork:{trust}:{local}"))
    return out[:payloads]


def population_events(pool: dict[str, list[str]]) -> list[Any]:
    """Each nurse as the worker record and passport a trust's systems would have sent (identity, then passport)."""
    from tests.unit.streams.identity_harness import worker
    from tests.unit.streams.passport_builders import nurse_passport

    now = datetime.now(UTC)
    events = []
    for trust, pins in pool.items():
        for pin in pins:
            local = f"patchwork:{trust}:w-{pin}"
            events += [worker(local, nmc=pin), *nurse_passport(local, trust, now, age=timedelta(days=30))]
    return events


def percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile (None for no values)."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def latency_summary(values_s: list[float]) -> dict[str, Any]:
    ms = [v * 1000 for v in values_s]
    return {
        "n": len(ms),
        "p50_ms": percentile(ms, 0.50),
        "p95_ms": percentile(ms, 0.95),
        "p99_ms": percentile(ms, 0.99),
        "max_ms": max(ms) if ms else None,
    }


_PRODUCER_LINE = re.compile(
    r"(\d+) records sent, ([\d.]+) records/sec \(([\d.]+) MB/sec\), ([\d.]+) ms avg latency, ([\d.]+) ms max "
    r"latency, (\d+) ms 50th, (\d+) ms 95th, (\d+) ms 99th, (\d+) ms 99.9th"
)


def parse_producer_perf(output: str) -> dict[str, float]:
    """The final summary line of kafka-producer-perf-test."""
    found = _PRODUCER_LINE.findall(output)
    if not found:
        raise ValueError(f"no ProducerPerformance summary in: {output[-500:]!r}")
    sent, rps, mbs, avg, mx, p50, p95, p99, p999 = found[-1]
    return {
        "records": int(sent),
        "records_per_s": float(rps),
        "mb_per_s": float(mbs),
        "avg_ms": float(avg),
        "max_ms": float(mx),
        "p50_ms": float(p50),
        "p95_ms": float(p95),
        "p99_ms": float(p99),
        "p999_ms": float(p999),
    }


def parse_consumer_perf(output: str) -> dict[str, float]:
    """The CSV header and values kafka-consumer-perf-test prints."""
    lines = [ln for ln in output.splitlines() if ln.count(",") >= 5]
    header = next((ln for ln in lines if "nMsg.sec" in ln), None)
    if header is None or lines.index(header) + 1 >= len(lines):
        raise ValueError(f"no ConsumerPerformance summary in: {output[-500:]!r}")
    values = lines[lines.index(header) + 1]
    row = dict(zip([h.strip() for h in header.split(",")], [v.strip() for v in values.split(",")], strict=False))
    return {
        "records": int(float(row["data.consumed.in.nMsg"])),
        "records_per_s": float(row["nMsg.sec"]),
        "mb_per_s": float(row["MB.sec"]),
    }


# ---------------------------------------------------------------- feeder (its own process)


class _NoWaitSink:
    """The pipeline's sink without the per-send acknowledgement wait; the feeder flushes every 100 ms."""

    def __init__(self, producer: Any) -> None:
        self.producer = producer

    def send(self, records: list[KafkaRecord]) -> list[tuple[int, int]]:
        for r in records:
            self.producer.send(r.topic, key=r.key, value=r.value, headers=r.headers)
        return [(-1, -1)] * len(records)


def feeder_main(cfg: dict[str, Any]) -> None:
    """Prepare the records, say ``ready``, wait for ``go`` on stdin, feed at the rate, write what was fed when."""
    from rosterhub.codec.catalogue import default_catalogue
    from rosterhub.codec.wire import SingleObjectCodec
    from rosterhub.connectors.pipeline import IngestContext, map_and_publish, packaged_mapping, raw_record
    from rosterhub.envelope import Envelope
    from rosterhub.kafka.access import KafkaAccess
    from rosterhub.kafka.producer import make_producer
    from rosterhub.mapping.engine import apply_mapping
    from rosterhub.runtime import Encoder, TopicNames

    names = TopicNames(cfg["prefix"])
    encoder = Encoder(SingleObjectCodec(default_catalogue()), names, default_catalogue())
    producer = make_producer(KafkaAccess(cfg["bootstrap"]), client_id="rosterhub-bench-feeder")
    sink = _NoWaitSink(producer)
    ctx = IngestContext(sink=sink, encoder=encoder, names=names)  # type: ignore[arg-type]
    pool = nurse_pool(cfg["people"], cfg["seed"]) if cfg["people"] else None
    items = workload(cfg["payloads"], cfg["seed"], cfg["run_id"], pool)
    premapped: list[list[KafkaRecord]] = []
    if cfg["mode"] == "premapped":
        for trust, body, _ in items:
            spec = packaged_mapping("patchwork", trust)
            outcome = apply_mapping(spec, body, received_at=datetime.now(UTC), trust=trust)
            premapped.append(
                [encoder.encode(Envelope(e.type, e.source, e.data, e.id, e.subject)) for e in outcome.events]
            )
    print("ready", flush=True)
    sys.stdin.readline()
    rate = cfg["rate"]
    fed: dict[str, float] = {}
    start = time.time()
    last_flush = start
    sent = 0
    for i, (trust, body, booking) in enumerate(items):
        if rate:
            due = start + i / rate
            wait = due - time.time()
            if wait > 0.001:
                time.sleep(wait)
        if time.time() - start > cfg["duration"]:
            break
        now = time.time()
        raw = raw_record(
            names,
            "patchwork",
            body,
            key=None,
            trust=trust,
            content_type="application/json",
            received_at=datetime.fromtimestamp(now, UTC),
            correlation_id=f"bench-{i}",
        )
        if premapped:
            sink.send([raw, *premapped[i]])
        else:
            sink.send([raw])
            map_and_publish(
                ctx,
                "patchwork",
                body,
                trust=trust,
                received_at=datetime.fromtimestamp(now, UTC),
                origin=(raw.topic, -1, -1),
                original_headers=raw.headers,
            )
        sent += 1
        if booking:
            fed[booking] = now
        if now - last_flush >= 0.1:
            producer.flush()
            last_flush = time.time()
    producer.flush()
    end = time.time()
    producer.close()
    Path(cfg["out"]).write_text(json.dumps({"start": start, "end": end, "payloads": sent, "fed": fed}))


# ---------------------------------------------------------------- collector and receiver (bench process)


@dataclass
class Seen:
    """First time each booking id reached each hop: (record timestamp s, wall time seen s)."""

    hops: dict[str, dict[str, tuple[float, float]]] = field(default_factory=dict)
    outcomes: dict[str, str] = field(default_factory=dict)
    #: booking id -> a rejection's reason codes (issue #16: a run that only rejects must show it, and why)
    reasons: dict[str, tuple[str, ...]] = field(default_factory=dict)
    #: booking id -> records of it on the saga's internal topics (each one an agent step: the hops of a decision)
    internal: dict[str, int] = field(default_factory=dict)
    #: decisions per events.booking partition (each worker's share, with the partitions it owned)
    by_partition: dict[int, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def note(self, hop: str, booking: str, ts: float, seen: float) -> None:
        with self.lock:
            self.hops.setdefault(hop, {}).setdefault(booking, (ts, seen))
            if hop.startswith("_rosterhub."):
                self.internal[booking] = self.internal.get(booking, 0) + 1

    def count(self, hop: str) -> int:
        with self.lock:
            return len(self.hops.get(hop, {}))


class Collector:
    """Follows events.booking and the booking processor's internal topics from the beginning."""

    def __init__(self, bootstrap: str, prefix: str, seen: Seen) -> None:
        self.bootstrap, self.prefix, self.seen = bootstrap, prefix, seen
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name="bench-collector", daemon=True)

    def topics(self) -> list[str]:
        from kafka import KafkaConsumer

        c = KafkaConsumer(bootstrap_servers=self.bootstrap)
        try:
            names = c.topics()
        finally:
            c.close()
        hops = ("_rosterhub.booking-", "_rosterhub.identity-in")  # the saga's stages, whichever exist
        internal = sorted(
            t
            for t in names
            if t.startswith(tuple(self.prefix + h for h in hops))
            and not t.endswith("booking-ticks")
            and "-changelog" not in t
        )
        return [self.prefix + "events.booking", *internal]

    def _run(self) -> None:
        from kafka import KafkaConsumer, TopicPartition

        from rosterhub.codec.catalogue import default_catalogue
        from rosterhub.codec.wire import SingleObjectCodec

        codec = SingleObjectCodec(default_catalogue())
        consumer = KafkaConsumer(
            bootstrap_servers=self.bootstrap,
            enable_auto_commit=False,
            group_id=None,
            max_partition_fetch_bytes=4 * 2**20,
        )
        tps = [TopicPartition(t, p) for t in self.topics() for p in sorted(consumer.partitions_for_topic(t) or ())]
        consumer.assign(tps)
        consumer.seek_to_beginning(*tps)
        undecodable: dict[str, int] = {}
        try:
            while not self.stop.is_set():
                for tp, records in consumer.poll(timeout_ms=200).items():
                    now = time.time()
                    hop_topic = tp.topic[len(self.prefix) :]
                    for r in records:
                        h = headers_dict(r.headers)
                        kind = h.get("ce_type", b"").decode()
                        subject = h.get("ce_subject", b"").decode() or None
                        if hop_topic == "events.booking":
                            if kind in DECISIONS and h.get("ce_source", b"").decode() == HUB_SOURCE and subject:
                                if subject not in self.seen.outcomes:
                                    self.seen.by_partition[tp.partition] = (
                                        self.seen.by_partition.get(tp.partition, 0) + 1
                                    )
                                    if kind.endswith("Rejected"):
                                        data = decode_record(r.value, r.headers, codec).data
                                        self.seen.reasons[subject] = tuple(data.get("reason_codes") or ())
                                self.seen.note("decision", subject, r.timestamp / 1000, now)
                                self.seen.outcomes.setdefault(subject, kind.rsplit(".", 1)[-1])
                            elif kind == REQUESTED and subject:
                                self.seen.note("request", subject, r.timestamp / 1000, now)
                            continue
                        booking = subject
                        if booking is None and SAGA_HEADER in h:  # the saga's JSON messages (check, answer, ...)
                            with suppress(ValueError):
                                booking = json.loads(r.value).get("booking_id")
                            if h[SAGA_HEADER] == b"identity":
                                continue  # identity's fences are not a request's hop
                        if booking is None and undecodable.get(hop_topic, 0) < 50:
                            try:
                                booking = decode_record(r.value, r.headers, codec).data.get("booking_id")
                            except Exception:  # an internal format we do not know: give up after 50
                                undecodable[hop_topic] = undecodable.get(hop_topic, 0) + 1
                        if booking:
                            self.seen.note(hop_topic, str(booking), r.timestamp / 1000, now)
        finally:
            consumer.close()


def _booking_ids(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for k, v in value.items():
            if k == "booking_id" and isinstance(v, str):
                yield v
            else:
                yield from _booking_ids(v)
    elif isinstance(value, list):
        for v in value:
            yield from _booking_ids(v)


def receiver_app(seen: Seen) -> Any:
    """A stand-in for every trust's system: takes any POST, notes the booking ids in its JSON body."""
    app = FastAPI()

    @app.post("/{path:path}")
    async def receive(path: str, request: Request) -> Response:
        now = time.time()
        with suppress(ValueError):
            for booking in _booking_ids(await request.json()):
                seen.note("delivered", booking, now, now)
        return Response(status_code=204)

    return app


# ---------------------------------------------------------------- orchestration


@dataclass
class BenchConfig:
    bootstrap: str
    rate: int = 5000  # payloads/s; 0: flat out
    duration: float = 20.0
    mode: str = "premapped"
    workers: int = 1
    partitions: int = 6
    warmup: float = 2.0
    drain: float = 60.0
    seed: int = 7
    deliver: bool = False
    baseline: bool = True
    max_payloads: int = 200_000  # flat out: how many to prepare
    log_dir: Path = field(default_factory=lambda: Path(tempfile.gettempdir()) / "rosterhub-bench")
    log_level: str = "WARNING"
    find_max_from: int = 0  # also search the max sustained rate, doubling from this rate (0: no search)
    p99_limit_ms: float = 500.0  # what "sustained" allows for the decision p99
    people_per_trust: int = 30  # registered nurses (worker record + passport) per trust; 0: requests by strangers
    #: Experiment: the worker's consumers ask the broker to hold a fetch at most this long (faust hard-codes 1500 ms).
    fetch_max_wait_ms: int | None = None
    linger_ms: float | None = None  # the workers' producer linger (stream_producer_linger_s); None: the hub's default
    profile_worker: bool = False  # run the (first) worker under cProfile; the stats file goes to log_dir
    #: Smoke tests only: run Kafka's perf tools while the worker starts, to save wall time (figures then skewed).
    baseline_alongside: bool = False
    worker_env: dict[str, str] = field(default_factory=dict)  # extra settings for the workers (A/B runs)
    #: Which processors each worker runs (``worker_processors``), one list per worker; empty: every worker runs
    #: all. A layout such as ``(("booking", "passport", "open-shifts"), ())`` gives booking a worker of its own (with
    #: passport, whose table it reads, and open-shifts, the worker route that reads it too: settings refuse a set
    #: without them) and the rest (``()``: every processor the other lists do not name, availability among them)
    #: to another, the way docs/deploy.md scales booking apart from views.
    layout: tuple[tuple[str, ...], ...] = ()
    #: ``nice`` increment of the workers that run no booking processor: on a shared host the views may lag a
    #: burst and catch up, while decisions keep the cores.
    views_nice: int = 0


def run_baseline(cfg: BenchConfig, prefix: str, bodies: list[bytes], rate: int, records: int) -> dict[str, Any]:
    """kafka-producer-perf-test with our payloads at ``rate`` (0: flat out), then kafka-consumer-perf-test."""
    from rosterhub.kafka.access import KafkaAccess
    from rosterhub.kafka.admin import ensure_topics
    from rosterhub.kafka.local import fetch_jars
    from rosterhub.settings import Settings
    from rosterhub.topics import TopicSpec

    libs = fetch_jars(Settings())
    topic = f"{prefix}bench.baseline.{rate or 'max'}"
    ensure_topics(
        KafkaAccess(cfg.bootstrap),
        [TopicSpec(topic, cfg.partitions)],
        default_partitions=cfg.partitions,
        replication_factor=1,
    )
    payload_file = cfg.log_dir / f"{prefix}payloads.txt"
    payload_file.write_bytes(b"\n".join(bodies))
    java = ["java", "-Xmx512m", "-cp", f"{libs}/*"]
    prod = subprocess.run(
        [
            *java,
            "org.apache.kafka.tools.ProducerPerformance",
            "--topic",
            topic,
            "--num-records",
            str(records),
            "--throughput",
            str(rate or -1),
            "--payload-file",
            str(payload_file),
            "--producer-props",
            f"bootstrap.servers={cfg.bootstrap}",
            "acks=all",
            "linger.ms=5",
            "enable.idempotence=true",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    cons = subprocess.run(
        [
            *java,
            "org.apache.kafka.tools.ConsumerPerformance",
            "--bootstrap-server",
            cfg.bootstrap,
            "--topic",
            topic,
            "--num-records",
            str(records),
            "--timeout",
            "60000",
            "--group",
            f"bench-{uuid.uuid4().hex[:8]}",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    return {
        "producer": parse_producer_perf(prod.stdout + prod.stderr),
        "consumer": parse_consumer_perf(cons.stdout + cons.stderr),
    }


#: ``rosterhub worker`` with every aiokafka consumer's fetch_max_wait_ms replaced (``--fetch-max-wait-ms``).
_PATCHED_WORKER = """
import runpy, sys, aiokafka
_init = aiokafka.AIOKafkaConsumer.__init__
def _patched(self, *a, **kw):
    kw["fetch_max_wait_ms"] = %d
    _init(self, *a, **kw)
aiokafka.AIOKafkaConsumer.__init__ = _patched
sys.argv = ["rosterhub", "worker"]
runpy.run_module("rosterhub", run_name="__main__")
"""


def worker_layout(cfg: BenchConfig) -> list[list[str]]:
    """Each worker's ``worker_processors`` ([] = all), with ``()`` in the layout meaning "the processors no other
    worker runs", from the declared processors, so a new processor lands on the "rest" worker by itself."""
    if not cfg.layout:
        return [[] for _ in range(cfg.workers)]
    if len(cfg.layout) != cfg.workers:
        raise ValueError(f"layout names {len(cfg.layout)} workers, the run has {cfg.workers}")
    from rosterhub.features import processor_names

    named = {p for group in cfg.layout for p in group}
    rest = [p for p in processor_names() if p not in named]
    return [list(group) if group else rest for group in cfg.layout]


def booking_group(cfg: BenchConfig, app_id: str) -> str:
    """The consumer group of the workers that decide bookings (rosterhub.features.worker_group)."""
    from rosterhub.features import processor_names, worker_group

    runs = next((r for r in worker_layout(cfg) if not r or "booking" in r), [])
    return worker_group(app_id, runs or processor_names())


@contextmanager
def _workers(cfg: BenchConfig, env: dict[str, str]) -> Iterator[list[subprocess.Popen[bytes]]]:
    procs = []
    try:
        for i in range(cfg.workers):
            name = f"worker-{env['ROSTERHUB_APP_ID']}-{i}"
            runs = worker_layout(cfg)[i]
            log = (cfg.log_dir / f"{name}.log").open("ab")
            profile = (
                ["-m", "cProfile", "-o", str(cfg.log_dir / f"{name}.pstats")]
                if cfg.profile_worker and not i and not cfg.fetch_max_wait_ms
                else []
            )
            run = (
                ["-c", _PATCHED_WORKER % cfg.fetch_max_wait_ms]
                if cfg.fetch_max_wait_ms
                else ["-m", "rosterhub", "worker"]
            )
            own_env = env | ({"ROSTERHUB_WORKER_PROCESSORS": json.dumps(runs)} if runs else {})
            nice = ["nice", "-n", str(cfg.views_nice)] if cfg.views_nice and runs and "booking" not in runs else []
            procs.append(
                subprocess.Popen(
                    [*nice, sys.executable, *profile, *run],
                    env=own_env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    cwd=REPO,
                )
            )
        yield procs
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


@contextmanager
def _receiver(seen: Seen) -> Iterator[str]:
    from rosterhub.connectors.simulators.serving import serving
    from tests.support import free_port

    with serving(receiver_app(seen), free_port()) as url:
        yield url


def run_load(
    cfg: BenchConfig, rate: int, token: str, side: Callable[[dict[str, str], str], dict[str, Any]] | None = None
) -> dict[str, Any]:
    """One load run at ``rate`` (0: flat out) against fresh topics and fresh worker(s).

    ``side(env, prefix)`` runs in a thread from the moment the feed starts (a bulk load, an ESR refresh) with the
    workers' environment; what it returns is reported under ``side``.
    """
    from rosterhub.connectors.registry import connectors
    from rosterhub.kafka.access import KafkaAccess
    from rosterhub.kafka.admin import ensure_topics
    from rosterhub.topics import declared_topics

    prefix = f"bench{token}."
    app_id = f"rosterhub-bench-{token}"
    state = cfg.log_dir / f"state-{token}"
    ensure_topics(
        KafkaAccess(cfg.bootstrap),
        declared_topics(connectors(), prefix),
        default_partitions=cfg.partitions,
        replication_factor=1,
    )
    seen = Seen()
    pool = nurse_pool(cfg.people_per_trust, cfg.seed) if cfg.people_per_trust else None
    population = load_population(cfg, prefix, pool) if pool else 0
    env = {k: v for k, v in os.environ.items() if not k.startswith("ROSTERHUB_")}
    env |= {
        "KAFKA_BOOTSTRAP_SERVERS": cfg.bootstrap,
        "ROSTERHUB_TOPIC_PREFIX": prefix,
        "ROSTERHUB_APP_ID": app_id,
        "ROSTERHUB_STATE_DIR": str(state),
        "ROSTERHUB_DEFAULT_PARTITIONS": str(cfg.partitions),
        "ROSTERHUB_LOG_LEVEL": cfg.log_level,
        "PYTHONPATH": str(REPO),
        **({"ROSTERHUB_STREAM_PRODUCER_LINGER_S": str(cfg.linger_ms / 1000)} if cfg.linger_ms is not None else {}),
        **cfg.worker_env,
    }
    payloads = int(rate * (cfg.duration + 1)) if rate else cfg.max_payloads
    out = cfg.log_dir / f"fed-{token}.json"
    feeder_cfg = {
        "bootstrap": cfg.bootstrap,
        "prefix": prefix,
        "rate": rate,
        "duration": cfg.duration,
        "mode": cfg.mode,
        "seed": cfg.seed,
        "run_id": token[:6],
        "payloads": payloads,
        "people": cfg.people_per_trust,
        "out": str(out),
    }
    with _receiver(seen) if cfg.deliver else _null() as receiver_url:
        if receiver_url:
            env["ROSTERHUB_OUTBOUND_ENDPOINTS"] = json.dumps({t: f"{receiver_url}/outcomes/{t}" for t in TRUSTS})
        feeder = subprocess.Popen(
            [sys.executable, __file__, "--feeder", json.dumps(feeder_cfg)],
            cwd=REPO,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        with _workers(cfg, env) as procs:
            collector = Collector(cfg.bootstrap, prefix, seen)
            t_ready = time.time()
            if pool:  # every nurse in the workers' crosswalk copies first, so the feed measures the request path
                _wait_linked(KafkaAccess(cfg.bootstrap), prefix, sum(map(len, pool.values())), procs)
            warm = _warm_up(cfg, prefix, seen, procs, pool)
            worker_ready_s = time.time() - t_ready
            collector.thread.start()
            assert feeder.stdout is not None and feeder.stdin is not None
            if feeder.stdout.readline().strip() != "ready":
                raise RuntimeError(f"feeder failed (log: {cfg.log_dir})")
            load_before = os.getloadavg()
            cpu_each_before = [cpu_seconds(p.pid) for p in procs]
            cpu_before = sum(cpu_each_before)
            ends_before = topic_ends(KafkaAccess(cfg.bootstrap), prefix, app_id)
            side_out: dict[str, Any] = {}
            side_thread = (
                threading.Thread(target=lambda: side_out.update(side(env, prefix)), daemon=True) if side else None
            )
            feeder.stdin.write("go\n")
            feeder.stdin.flush()
            if side_thread:
                side_thread.start()
            feeder.wait(timeout=cfg.duration + 600)
            if side_thread:
                side_thread.join(timeout=3600)
            fed_doc = json.loads(out.read_text())
            fed: dict[str, float] = fed_doc["fed"]
            hop = "delivered" if cfg.deliver else "decision"
            deadline, last, last_change = time.time() + cfg.drain, -1, time.time()
            group, committed, committed_change = booking_group(cfg, app_id), -1, time.time()
            while time.time() < deadline:
                got = sum(1 for b in fed if b in seen.hops.get(hop, {}))
                if got >= len(fed):
                    break
                if got != last:
                    last, last_change = got, time.time()
                elif time.time() - last_change > min(QUIET_S, cfg.drain):
                    # No decision for a while. Still working through other input queued ahead of the requests
                    # (the booking group's commits move) is progress; only a group that stopped committing too
                    # is done, and what is missing then stays missing.
                    now_committed = group_committed(KafkaAccess(cfg.bootstrap), group)
                    if now_committed != committed:
                        committed, committed_change = now_committed, time.time()
                    elif time.time() - committed_change > STALLED_S:
                        break
                    time.sleep(2.0)
                time.sleep(0.25)
            worker_cpu = sum(cpu_seconds(p.pid) for p in procs) - cpu_before
            per_worker_cpu = [round(cpu_seconds(p.pid), 1) for p in procs]
            feed_cpu_each = [cpu_seconds(p.pid) - b for p, b in zip(procs, cpu_each_before, strict=True)]
            ends_after = topic_ends(KafkaAccess(cfg.bootstrap), prefix, app_id)
            assignment = group_assignment(
                KafkaAccess(cfg.bootstrap), booking_group(cfg, app_id), prefix + "events.booking"
            )
            collector.stop.set()
            collector.thread.join(timeout=10)
            load_after = os.getloadavg()
    result = summarise(cfg, rate, fed_doc, seen, worker_ready_s, (load_before, load_after))
    result["population"] = {
        "nurses": sum(map(len, pool.values())) if pool else 0,
        "events": population,
        "warm_up": warm,
    }
    result["worker_cpu_s"] = round(worker_cpu, 1)
    result["worker_cpu_s_each"] = per_worker_cpu
    if side:
        result["side"] = side_out
    result["workers_share"] = shares(assignment, result["decisions_by_partition"])
    result["worker_cpu_ms_per_decision"] = round(1000 * worker_cpu / max(result["decided"], 1), 2)
    result["record_flow"] = flow_per_decision(ends_before, ends_after, result["decided"])
    layout = worker_layout(cfg)
    result["layout"] = [runs or ["all"] for runs in layout]
    result["worker_cpu_ms_per_decision_each"] = [
        round(1000 * cpu / max(result["decided"], 1), 2) for cpu in feed_cpu_each
    ]
    return result


def _wait_linked(kafka: KafkaAccess, prefix: str, people: int, procs: list[subprocess.Popen[bytes]]) -> None:
    """Until identity has published each nurse's two identity keys (NMC PIN, Patchwork id) on the crosswalk."""
    from kafka import KafkaConsumer, TopicPartition

    topic = prefix + "_rosterhub.identity-crosswalk"
    consumer = KafkaConsumer(**kafka.kafka_python())
    try:
        deadline = time.time() + 600
        while time.time() < deadline and not any(p.poll() is not None for p in procs):
            tps = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
            if tps and sum(consumer.end_offsets(tps).values()) >= 2 * people:
                return
            time.sleep(1)
    finally:
        consumer.close()


def topic_ends(kafka: KafkaAccess, prefix: str, app_id: str) -> dict[str, int]:
    """Each of the run's topics' records so far (the sum of its partitions' end offsets): two snapshots give the
    records every topic gained, so a run says where a decision's records go, not only how long it took."""
    from kafka import KafkaConsumer, TopicPartition

    consumer = KafkaConsumer(**kafka.kafka_python())
    try:
        topics = sorted(t for t in consumer.topics() if t.startswith((prefix, app_id)))  # app_id: tables' changelogs
        tps = [TopicPartition(t, p) for t in topics for p in sorted(consumer.partitions_for_topic(t) or ())]
        ends = consumer.end_offsets(tps) if tps else {}
        out: dict[str, int] = {}
        for tp, end in ends.items():
            name = tp.topic.removeprefix(prefix).removeprefix(app_id + "-")
            out[name] = out.get(name, 0) + end
        return out
    finally:
        consumer.close()


def flow_per_decision(before: dict[str, int], after: dict[str, int], decided: int) -> dict[str, Any]:
    """Records each topic gained during the feed and drain, per decision, largest first."""
    gained = {t: after.get(t, 0) - before.get(t, 0) for t in after}
    per = {t: round(n / max(decided, 1), 2) for t, n in sorted(gained.items(), key=lambda kv: -kv[1]) if n}
    return {"records_per_decision": round(sum(gained.values()) / max(decided, 1), 2), "by_topic": per}


#: Seconds without a new decision after which the drain asks whether the booking workers still make progress.
QUIET_S = 30.0
#: Seconds without a new decision AND without a commit of the booking workers' group that end the drain: longer
#: than faust's slowest commits seen under load (up to ~100 s, "Timer commit is overlapping" in the workers' logs).
STALLED_S = 150.0


def group_committed(kafka: KafkaAccess, group: str) -> int:
    """The sum of the group's committed offsets over every partition: it moves while the workers get through input."""
    from kafka import KafkaAdminClient

    admin = KafkaAdminClient(**kafka.kafka_python(), client_id="rosterhub-bench-admin")
    try:
        offsets = admin.list_group_offsets(group).get(group, {})  # kafka-python 3: {group: {partition: offset}}
        return sum(meta.offset for meta in offsets.values() if meta.offset >= 0)
    finally:
        admin.close()


def group_assignment(kafka: KafkaAccess, group: str, topic: str) -> dict[str, list[int]]:
    """Which events.booking partitions each member of the workers' group owns (client id -> partitions)."""
    from kafka import KafkaAdminClient

    admin = KafkaAdminClient(**kafka.kafka_python(), client_id="rosterhub-bench-admin")
    try:
        info = admin.describe_groups([group])[group]
        out: dict[str, list[int]] = {}
        for i, member in enumerate(info.get("members") or ()):
            assigned = member.get("member_assignment") or {}
            tps = assigned.get("assigned_partitions", []) if isinstance(assigned, dict) else []
            parts = [p for tp in tps if tp.get("topic") == topic for p in tp.get("partitions", ())]
            out[f"{member.get('client_id', '?')}#{i}"] = sorted(parts)
        return out
    except Exception as exc:  # a figure for the report, never a reason to lose the run
        return {"error": [str(exc)]}  # type: ignore[dict-item]
    finally:
        admin.close()


def shares(assignment: dict[str, list[int]], by_partition: dict[int, int]) -> list[dict[str, Any]]:
    """Each worker's share of the partitions and of the decisions (decisions counted by their partition)."""
    total_p = sum(len(ps) for ps in assignment.values()) or 1
    total_d = sum(by_partition.values()) or 1
    return [
        {
            "member": m,
            "partitions": ps,
            "partition_share": round(len(ps) / total_p, 2),
            "decision_share": round(sum(by_partition.get(p, 0) for p in ps) / total_d, 2),
        }
        for m, ps in sorted(assignment.items())
    ]


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc), to tell CPU cost from waiting for a core."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextmanager
def _null() -> Iterator[None]:
    yield None


def _warm_up(
    cfg: BenchConfig, prefix: str, seen: Seen, procs: list[subprocess.Popen[bytes]], pool: dict[str, list[str]] | None
) -> str:
    """Feed a shift and a request until the worker(s) decide it (confirmed, with a pool: the last nurse registered is
    through identity and passport, so the population is loaded). Returns what happened, for the report."""
    from rosterhub.codec.catalogue import default_catalogue
    from rosterhub.codec.wire import SingleObjectCodec
    from rosterhub.connectors.pipeline import IngestContext, map_and_publish
    from rosterhub.connectors.simulators.patchwork import booking_requested, shift_created
    from rosterhub.kafka.access import KafkaAccess
    from rosterhub.kafka.producer import EventSink
    from rosterhub.runtime import Encoder, TopicNames

    names = TopicNames(prefix)
    sink = EventSink(KafkaAccess(cfg.bootstrap), client_id="rosterhub-bench-warmup")
    ctx = IngestContext(
        sink=sink, encoder=Encoder(SingleObjectCodec(default_catalogue()), names, default_catalogue()), names=names
    )
    trust = TRUSTS[-1]
    pin = pool[trust][-1] if pool else "04C1234D"
    probe = Collector(cfg.bootstrap, prefix, seen)
    probe.thread.start()
    deadline = time.time() + 240
    attempt, outcome = 0, "none"
    try:
        while True:
            attempt += 1
            tag = f"warm{uuid.uuid4().hex[:6]}"
            start = datetime(2027, 2, 1, 7, tzinfo=LONDON) + timedelta(days=attempt)
            for body in (
                shift_created(f"S{tag}", trust, start, 7.5, grade="Band 5", ward="Ward 3B", staff_group=ROLE[0]),
                booking_requested(
                    f"B{tag}", f"S{tag}", trust, pin, datetime.now(UTC), grade="Band 5", staff_group=ROLE[0]
                ),
            ):
                map_and_publish(
                    ctx,
                    "patchwork",
                    json.dumps(body).encode(),
                    trust=trust,
                    received_at=datetime.now(UTC),
                    origin=(names.raw("patchwork"), -1, -1),
                    original_headers=[],
                )
            booking = f"patchwork:{trust}:B{tag}"
            while booking not in seen.hops.get("decision", {}):
                if time.time() > deadline or any(p.poll() is not None for p in procs):
                    raise RuntimeError(f"no decision from the worker for the warm-up request (logs: {cfg.log_dir})")
                time.sleep(0.2)
            outcome = seen.outcomes.get(booking, "?")
            if not pool or outcome == "BookingConfirmed" or time.time() > deadline - 20:
                break
            time.sleep(3)  # the nurse's passport is still on its way: ask again for another shift
    finally:
        probe.stop.set()
        probe.thread.join(timeout=10)
        sink.close()
    with seen.lock:
        seen.hops.clear()
        seen.outcomes.clear()
        seen.reasons.clear()
    return f"{outcome} after {attempt} attempt(s)"


def load_population(cfg: BenchConfig, prefix: str, pool: dict[str, list[str]]) -> int:
    """Produce the nurses' worker records and passports (before the worker starts); returns how many events."""
    from rosterhub.codec.catalogue import default_catalogue
    from rosterhub.codec.wire import SingleObjectCodec
    from rosterhub.kafka.access import KafkaAccess
    from rosterhub.kafka.producer import EventSink
    from rosterhub.runtime import Encoder, TopicNames

    encoder = Encoder(SingleObjectCodec(default_catalogue()), TopicNames(prefix), default_catalogue())
    events = population_events(pool)
    sink = EventSink(KafkaAccess(cfg.bootstrap), client_id="rosterhub-bench-population")
    try:
        sink.send([encoder.encode(e) for e in events])
    finally:
        sink.close()
    return len(events)


def summarise(
    cfg: BenchConfig,
    rate: int,
    fed_doc: dict[str, Any],
    seen: Seen,
    ready_s: float,
    load: tuple[tuple[float, ...], tuple[float, ...]],
) -> dict[str, Any]:
    start, end = fed_doc["start"], fed_doc["end"]
    fed: dict[str, float] = fed_doc["fed"]
    counted = {b: t for b, t in fed.items() if t >= start + cfg.warmup}
    feed_s = max(end - start, 1e-9)
    decisions = seen.hops.get("decision", {})
    window = (start + cfg.warmup, end)
    in_window = sum(1 for ts, _ in decisions.values() if window[0] <= ts <= window[1])
    last_decision = max((ts for b, (ts, _) in decisions.items() if b in fed), default=start)
    hops: dict[str, Any] = {}
    for hop, found in sorted(seen.hops.items(), key=lambda kv: _hop_order(kv[0])):
        hops[hop + " (record time)"] = latency_summary([found[b][0] - t for b, t in counted.items() if b in found])
        if hop == "decision":
            hops["decision (seen by a consumer)"] = latency_summary(
                [found[b][1] - t for b, t in counted.items() if b in found]
            )
    outcomes: dict[str, int] = {}
    by_reason: Counter[str] = Counter()  # confirmed / rejected by reason codes (a run that only rejects shows it)
    for b in fed:
        kind = seen.outcomes.get(b)
        if kind:
            outcomes[kind] = outcomes.get(kind, 0) + 1
            if kind == "BookingConfirmed":
                by_reason["confirmed"] += 1
            else:
                by_reason[f"rejected {'+'.join(seen.reasons.get(b, ())) or '(no reason code)'}"] += 1
    steps = [1 + seen.internal.get(b, 0) for b in fed if b in decisions]
    return {
        "hops_per_decision": {
            "median": statistics.median(steps) if steps else None,
            "max": max(steps, default=None),
            "histogram": dict(sorted(Counter(steps).items())),
        },
        "decisions_by_partition": dict(sorted(seen.by_partition.items())),
        "rate_target": rate or "max",
        "mode": cfg.mode,
        "workers": cfg.workers,
        "partitions": cfg.partitions,
        "payloads_fed": fed_doc["payloads"],
        "feed_seconds": round(feed_s, 2),
        "payloads_per_s": round(fed_doc["payloads"] / feed_s, 1),
        "requests_fed": len(fed),
        "decided": sum(1 for b in fed if b in decisions),
        "outcomes": outcomes,
        "decisions_by_outcome": dict(by_reason.most_common()),
        "decisions_per_s_during_feed": round(in_window / max(window[1] - window[0], 1e-9), 1),
        "decisions_per_s_overall": round(sum(1 for b in fed if b in decisions) / max(last_decision - start, 1e-9), 1),
        "drain_after_feed_s": round(max(0.0, last_decision - end), 2),
        "latency_from_feed": hops,
        "worker_ready_s": round(ready_s, 1),
        "load_average_before_after": [list(load[0]), list(load[1])],
    }


def _hop_order(hop: str) -> tuple[int, str]:
    order = {"request": 0, "_rosterhub.identity-in": 1, "decision": 8, "delivered": 9}
    return order.get(hop, 5), hop


def run_bench(cfg: BenchConfig, rates: list[int]) -> dict[str, Any]:
    """Baseline (unless off) and one load run per rate; everything the report needs, as a dict."""
    cfg.log_dir.mkdir(parents=True, exist_ok=True)
    report: dict[str, Any] = {
        "machine": machine(),
        "config": {k: str(v) for k, v in asdict(cfg).items()},
        "baseline": {},
        "runs": [],
    }
    token = uuid.uuid4().hex[:8]

    def baseline() -> None:
        bodies = [b for _, b, _ in workload(min(2000, max(10, cfg.rate or 2000)), cfg.seed, token[:6])]
        report["record_bytes_mean"] = round(sum(map(len, bodies)) / len(bodies), 1)
        for rate in rates:
            records = int((rate or cfg.rate or 5000) * cfg.duration)
            report["baseline"][str(rate or "max")] = run_baseline(cfg, f"bench{token}.", bodies, rate, records)

    alongside = threading.Thread(target=baseline, daemon=True) if cfg.baseline and cfg.baseline_alongside else None
    if alongside:
        alongside.start()
    elif cfg.baseline:
        baseline()
    for i, rate in enumerate(rates):
        report["runs"].append(run_load(cfg, rate, f"{token}{i}"))
    if cfg.find_max_from:
        report["max_sustainable"] = find_max(cfg, cfg.find_max_from, token)
    if alongside:
        alongside.join(timeout=300)
    for run in report["runs"]:
        base = report["baseline"].get(str(run["rate_target"]))
        if base:
            e2e = run["latency_from_feed"].get("decision (record time)", {})
            run["vs_baseline"] = {
                "decisions_per_s_over_producer_records_per_s": _ratio(
                    run["decisions_per_s_during_feed"], base["producer"]["records_per_s"]
                ),
                "payloads_per_s_over_producer_records_per_s": _ratio(
                    run["payloads_per_s"], base["producer"]["records_per_s"]
                ),
                "p99_over_producer_p99": _ratio(e2e.get("p99_ms"), base["producer"]["p99_ms"]),
                "p50_over_producer_p50": _ratio(e2e.get("p50_ms"), base["producer"]["p50_ms"]),
            }
    return report


def sustained(run: dict[str, Any], p99_limit_ms: float) -> bool:
    """A rate is sustained when every request fed was decided, decisions kept pace during the feed (at least 90 %
    of the requests fed per second) and the decision p99 (from the payload fed) is within the limit."""
    p99 = run["latency_from_feed"].get("decision (record time)", {}).get("p99_ms")
    requests_per_s = run["requests_fed"] / max(run["feed_seconds"], 1e-9)
    return (
        run["decided"] == run["requests_fed"]
        and run["decisions_per_s_during_feed"] >= 0.9 * requests_per_s
        and p99 is not None
        and p99 <= p99_limit_ms
    )


def find_max(cfg: BenchConfig, start: int, token: str) -> dict[str, Any]:
    """The highest rate (doubling from ``start``, up to ``cfg.rate``) the hub sustains, each step a fresh run."""
    steps: list[dict[str, Any]] = []
    best, rate = None, start
    while rate <= max(cfg.rate, start):
        run = run_load(cfg, rate, f"{token}m{len(steps)}")
        ok = sustained(run, cfg.p99_limit_ms)
        e2e = run["latency_from_feed"].get("decision (record time)", {})
        steps.append(
            {
                "rate": rate,
                "sustained": ok,
                "decided": run["decided"],
                "requests_fed": run["requests_fed"],
                "decisions_per_s_during_feed": run["decisions_per_s_during_feed"],
                "decision_p50_ms": e2e.get("p50_ms"),
                "decision_p99_ms": e2e.get("p99_ms"),
                "worker_cpu_ms_per_decision": run["worker_cpu_ms_per_decision"],
                "load_average_before_after": run["load_average_before_after"],
            }
        )
        if not ok:
            break
        best, rate = rate, rate * 2
    return {"p99_limit_ms": cfg.p99_limit_ms, "max_sustained_payloads_per_s": best, "steps": steps}


def _ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 2) if a is not None and b else None


def machine() -> dict[str, Any]:
    cpu = next(
        (
            ln.split(":", 1)[1].strip()
            for ln in Path("/proc/cpuinfo").read_text().splitlines()
            if ln.startswith("model name")
        ),
        "unknown",
    )
    mem = next(
        (
            int(ln.split()[1]) // 1024
            for ln in Path("/proc/meminfo").read_text().splitlines()
            if ln.startswith("MemTotal")
        ),
        0,
    )
    return {
        "cpus": os.cpu_count(),
        "cpu": cpu,
        "mem_mib": mem,
        "python": sys.version.split()[0],
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def print_report(report: dict[str, Any]) -> None:
    m = report["machine"]
    print(f"\nmachine: {m['cpus']} CPUs ({m['cpu']}), {m['mem_mib']:,} MiB, Python {m['python']}, {m['when']}")
    if report["baseline"]:
        print(f"record size (our webhook bodies): {report.get('record_bytes_mean')} bytes mean")
        for rate, b in report["baseline"].items():
            p, c = b["producer"], b["consumer"]
            print(
                f"baseline {rate:>5}: producer {p['records_per_s']:,.0f} rec/s p50 {p['p50_ms']} ms "
                f"p99 {p['p99_ms']} ms; consumer {c['records_per_s']:,.0f} rec/s"
            )
    for run in report["runs"]:
        print(
            f"\nload {run['rate_target']} payloads/s ({run['mode']}, {run['workers']} worker(s), "
            f"{run['partitions']} partitions): fed {run['payloads_fed']:,} payloads at {run['payloads_per_s']:,}/s; "
            f"{run['decided']:,}/{run['requests_fed']:,} requests decided {run['outcomes']} "
            f"(by outcome: {run.get('decisions_by_outcome', {})}); "
            f"{run['decisions_per_s_during_feed']:,} decisions/s during the feed, "
            f"{run['decisions_per_s_overall']:,} overall; drained {run['drain_after_feed_s']} s after"
        )
        heads = "".join(f"{h:>10}" for h in ("p50 ms", "p95 ms", "p99 ms", "max ms"))
        print(f"  {'hop (latency from the payload fed)':40}{'n':>8}{heads}")
        for hop, s in run["latency_from_feed"].items():
            cells = "".join(
                f"{s[k]:>10.0f}" if s[k] is not None else f"{'-':>10}" for k in ("p50_ms", "p95_ms", "p99_ms", "max_ms")
            )
            print(f"  {hop:40}{s['n']:>8}{cells}")
        pop = run.get("population") or {}
        print(f"  population: {pop.get('nurses')} nurses ({pop.get('events')} events); warm-up: {pop.get('warm_up')}")
        if run.get("vs_baseline"):
            print(f"  vs baseline: {run['vs_baseline']}")
        print(
            f"  worker CPU: {run['worker_cpu_s']} s, {run['worker_cpu_ms_per_decision']} ms per decision; "
            f"load average before/after: {run['load_average_before_after']}"
        )


def print_search(report: dict[str, Any]) -> None:
    found = report.get("max_sustainable")
    if not found:
        return
    print(
        f"\nmax sustained rate (every request decided, keeping pace, decision p99 <= {found['p99_limit_ms']} ms): "
        f"{found['max_sustained_payloads_per_s'] or 'none of the rates tried'} payloads/s"
    )
    for step in found["steps"]:
        load = step["load_average_before_after"][0][0]
        print(
            f"  {step['rate']:>6}/s: {'sustained' if step['sustained'] else 'NOT sustained'}; decided "
            f"{step['decided']}/{step['requests_fed']}, {step['decisions_per_s_during_feed']} decisions/s, p50 "
            f"{step['decision_p50_ms']} ms, p99 {step['decision_p99_ms']} ms, worker CPU "
            f"{step['worker_cpu_ms_per_decision']} ms/decision, load average {load:.1f}"
        )


def _config_options(ap: argparse.ArgumentParser) -> Callable[..., None]:
    """``option(flag, name, **argparse keywords)``: a flag that sets the ``BenchConfig`` field ``name``, so its
    default and type are the field's own and cannot drift from the ones the benches built in code get."""

    def option(flag: str, name: str, **extra: Any) -> None:
        default = getattr(BenchConfig, name)
        ap.add_argument(flag, dest=name, type=type(default), default=default, **extra)

    return option


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--feeder":
        feeder_main(json.loads(sys.argv[2]))
        return
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    option = _config_options(ap)
    option("--rate", "rate", help="target payloads/s (events in)")
    ap.add_argument("--max", action="store_true", help="also run flat out (the max sustainable rate)")
    ap.add_argument("--only-max", action="store_true", help="run only flat out")
    option("--duration", "duration", help="seconds of feeding per run")
    option("--mode", "mode", choices=("premapped", "pipeline"))
    option("--workers", "workers")
    option("--partitions", "partitions")
    ap.add_argument("--deliver", action="store_true", help="deliver outcomes to a receiver and time that too")
    ap.add_argument("--no-baseline", dest="baseline", action="store_false")
    option("--max-payloads", "max_payloads")
    option("--people", "people_per_trust", help="registered nurses per trust (0: strangers only)")
    option(
        "--find-max",
        "find_max_from",
        metavar="START",
        help="search the max sustained rate: doubling from START payloads/s up to --rate",
    )
    option("--p99-limit-ms", "p99_limit_ms", help="decision p99 a sustained rate must meet")
    option("--drain", "drain", help="seconds to wait for decisions after the feed")
    ap.add_argument("--linger-ms", type=float, default=None, help="the workers' producer linger (default: the hub's)")
    ap.add_argument("--fetch-max-wait-ms", type=int, help="experiment: override faust's 1500 ms fetch wait")
    ap.add_argument("--profile-worker", action="store_true", help="cProfile the worker (stats in the log folder)")
    ap.add_argument("--json-out", type=Path)
    args = ap.parse_args()

    from rosterhub.kafka.resolve import resolve_broker
    from rosterhub.settings import load_settings

    bootstrap = resolve_broker(load_settings(), keep_running=True).bootstrap
    rates = [0] if args.only_max else [args.rate, 0] if args.max else [] if args.find_max_from else [args.rate]
    # each option's dest is the BenchConfig field it sets
    cfg = BenchConfig(
        bootstrap=bootstrap, **{f.name: getattr(args, f.name) for f in fields(BenchConfig) if f.name in args}
    )
    print(
        f"booking bench on {bootstrap}: rates {rates} ({args.mode}), {args.duration} s each; logs in {cfg.log_dir}",
        flush=True,
    )
    report = run_bench(cfg, rates)
    print_report(report)
    print_search(report)
    if args.json_out:
        args.json_out.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
