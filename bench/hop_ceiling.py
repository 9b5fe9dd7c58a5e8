"""The best one stream hop can do on this machine: a ceiling for any saga built of faust hops.

A booking decision crosses 4-5 topics (docs/benchmarks.md). Whatever the hub's own code costs, a hop cannot
be faster than the stream machinery that carries it, so this bench measures that machinery alone, on the
hub's own records (mapped Patchwork shifts and booking requests, Avro single-object encoded), from a backlog,
in one run against one broker:

=====================  =====================================================================================
row                    one record in, one record out, nothing else
=====================  =====================================================================================
``jvm``                Kafka's ProducerPerformance and ConsumerPerformance on the same records (the baseline)
``aiokafka``           a plain aiokafka loop: getmany, send each record on, commit per batch (no faust)
``faust``              a faust agent, ``concurrency=1``, raw bytes in and out, the hub's producer acks
``faust-batch``        the same, the agent taking up to 500 events at a time (``stream.take_events``)
``faust+table``        ``faust``, plus one table write per record (a changelog record, as every hub stage has)
``faust+table+codec``  faust+table, plus decoding and re-encoding the record with the hub's codec
=====================  =====================================================================================

Each row runs in its own process on a backlog of ``--records`` records and reports records/s from its first
to its last output, and its CPU per record. A saga of H hops tops out at about (faust row)/H per core.

    .venv/bin/python bench/hop_ceiling.py --records 20000

Run by hand (not in the tests, which only smoke-test it); figures go to docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

VARIANTS = ("aiokafka", "faust", "faust-batch", "faust+table", "faust+table+codec")


# ---------------------------------------------------------------- the hop under test (worker process)


def _faust_worker(
    variant: str, bootstrap: str, source: str, sink: str, app_id: str, state: str, tuning: frozenset[str]
) -> None:
    import faust

    from rosterhub.streams import faust_drain

    if "drain" in tuning:
        faust_drain.apply()
    if "uvloop" in tuning:
        import mode.loop

        mode.loop.use("uvloop")
    linger = next((float(t.split("=", 1)[1]) for t in tuning if t.startswith("linger=")), 0.0)

    from rosterhub.codec.catalogue import default_catalogue
    from rosterhub.codec.wire import SingleObjectCodec
    from rosterhub.envelope import decode_record, encode_event, headers_dict
    from rosterhub.runtime import Encoder, TopicNames

    catalogue = default_catalogue()
    codec = SingleObjectCodec(catalogue)
    encoder = Encoder(codec, TopicNames(""), catalogue)
    app = faust.App(
        app_id,
        broker=f"kafka://{bootstrap}",
        store="memory://",
        datadir=state,
        producer_acks=-1,
        producer_linger=linger / 1000,
        consumer_auto_offset_reset="earliest",
        key_serializer="raw",
        value_serializer="raw",
        web_enabled=False,
        autodiscover=False,
        topic_partitions=6,
    )
    src = app.topic(source, key_type=bytes, value_type=bytes, key_serializer="raw", value_serializer="raw")
    dst = app.topic(sink, key_type=bytes, value_type=bytes, key_serializer="raw", value_serializer="raw")
    table = app.Table(f"{app_id}-seen", default=None, key_type=str) if variant.startswith("faust+") else None

    if variant == "faust-batch":

        @app.agent(src, concurrency=1)
        async def batched(stream: faust.StreamT) -> None:
            async for events in stream.take_events(500, within=0.01):
                for event in events:
                    await dst.send(key=event.key, value=event.value, headers=list(headers_dict(event.headers).items()))

        _run(app)
        return

    @app.agent(src, concurrency=1)
    async def hop(stream: faust.StreamT) -> None:
        async for event in stream.events():
            value, headers = event.value, list(headers_dict(event.headers).items())
            if variant == "faust+table+codec":
                env = decode_record(value, headers, codec)
                rec = encode_event(env, encoder.schema(env.type), codec, sink)
                value, headers = rec.value, rec.headers
            await dst.send(key=event.key, value=value, headers=headers)
            if table is not None:
                table[(event.key or b"").decode()] = event.message.offset

    _run(app)


def _run(app: Any) -> None:
    from faust.worker import Worker

    runner = Worker(app, loglevel="warning", quiet=True)
    runner.spinner = None  # as `rosterhub worker` does (docs/benchmarks.md, "Per-event waste removed")
    runner.execute_from_commandline()


async def _aiokafka_worker(bootstrap: str, source: str, sink: str, group: str) -> None:
    from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

    consumer = AIOKafkaConsumer(
        source, bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False, auto_offset_reset="earliest"
    )
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await consumer.start()
    await producer.start()
    try:
        while True:
            batches = await consumer.getmany(timeout_ms=1000, max_records=500)
            futures = [
                await producer.send(sink, key=m.key, value=m.value, headers=list(m.headers or ()))
                for msgs in batches.values()
                for m in msgs
            ]
            if futures:
                await asyncio.gather(*futures)
                await consumer.commit()
    finally:
        await producer.stop()
        await consumer.stop()


def worker_main(args: argparse.Namespace) -> None:
    if args.variant == "aiokafka":
        asyncio.run(_aiokafka_worker(args.bootstrap, args.source, args.sink, args.app_id))
    else:
        sys.argv = [sys.argv[0], "worker"]
        tuning = frozenset(t for t in (args.tuning or "").split(",") if t)
        _faust_worker(args.variant, args.bootstrap, args.source, args.sink, args.app_id, args.state, tuning)


# ---------------------------------------------------------------- records, baseline, measuring (bench process)


def hub_records(n: int, seed: int = 7) -> list[tuple[bytes | None, bytes, list[tuple[str, bytes]]]]:
    """``n`` of the hub's own canonical records (shifts and booking requests, as the booking bench feeds)."""
    from booking_bench import workload

    from rosterhub.codec.catalogue import default_catalogue
    from rosterhub.codec.wire import SingleObjectCodec
    from rosterhub.connectors.pipeline import packaged_mapping
    from rosterhub.envelope import Envelope
    from rosterhub.mapping.engine import apply_mapping
    from rosterhub.runtime import Encoder, TopicNames

    encoder = Encoder(SingleObjectCodec(default_catalogue()), TopicNames(""), default_catalogue())
    out: list[tuple[bytes | None, bytes, list[tuple[str, bytes]]]] = []
    for trust, body, _ in workload(n, seed, uuid.uuid4().hex[:6]):
        outcome = apply_mapping(packaged_mapping("patchwork", trust), body, received_at=datetime.now(UTC), trust=trust)
        for e in outcome.events:
            rec = encoder.encode(Envelope(e.type, e.source, e.data, e.id, e.subject))
            out.append((rec.key, rec.value, list(rec.headers)))
    return out[:n]


def preload(bootstrap: str, topic: str, records: list[tuple[bytes | None, bytes, list[tuple[str, bytes]]]]) -> None:
    from kafka import KafkaProducer

    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5, batch_size=256 * 1024)
    for key, value, headers in records:
        producer.send(topic, key=key, value=value, headers=headers)
    producer.flush()
    producer.close()


def watch(bootstrap: str, topic: str, n: int, pid: int, timeout: float) -> dict[str, Any]:
    """Read ``topic`` until ``n`` records: rate from the first to the last output's broker timestamp, and the
    worker's CPU between the first and the last output (start-up excluded)."""
    from booking_bench import cpu_seconds
    from kafka import KafkaConsumer, TopicPartition

    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    tps = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
    consumer.assign(tps)
    consumer.seek_to_beginning(*tps)
    stamps: list[int] = []
    cpu_first = cpu_last = 0.0
    deadline = time.monotonic() + timeout
    while len(stamps) < n and time.monotonic() < deadline:
        for batch in consumer.poll(timeout_ms=200).values():
            if not stamps and batch:
                cpu_first = cpu_seconds(pid)
            stamps += [m.timestamp for m in batch]
    cpu_last = cpu_seconds(pid)
    consumer.close()
    if len(stamps) < 2:
        return {"records": len(stamps), "per_s": None, "cpu_ms_per_record": None}
    span_s = (max(stamps) - min(stamps)) / 1000
    return {
        "records": len(stamps),
        "seconds": round(span_s, 2),
        "per_s": round(len(stamps) / span_s),
        "cpu_ms_per_record": round((cpu_last - cpu_first) * 1000 / len(stamps), 3),
    }


def run_variant(
    bootstrap: str, variant: str, records: list[Any], log_dir: Path, timeout: float, tuning: str = ""
) -> dict[str, Any]:
    from rosterhub.kafka.access import KafkaAccess
    from rosterhub.kafka.admin import ensure_topics
    from rosterhub.topics import TopicSpec
    from tests.support import stop

    token = uuid.uuid4().hex[:8]
    source, sink = f"ceiling-{token}-in", f"ceiling-{token}-out"
    ensure_topics(
        KafkaAccess(bootstrap), [TopicSpec(source, 6), TopicSpec(sink, 6)], default_partitions=6, replication_factor=1
    )
    preload(bootstrap, source, records)
    state = log_dir / f"state-{token}"
    pstats = log_dir / f"{variant}-{token}.pstats"
    profile = ["-m", "cProfile", "-o", str(pstats)] if os.environ.get("HOP_PROFILE") else []  # cProfile the hop
    cmd = [
        sys.executable,
        *profile,
        __file__,
        "--role",
        "worker",
        "--variant",
        variant,
        "--bootstrap",
        bootstrap,
        "--source",
        source,
        "--sink",
        sink,
        "--app-id",
        f"ceiling-{token}",
        "--state",
        str(state),
        "--tuning",
        tuning,
    ]
    with (log_dir / f"{variant}-{token}.log").open("ab") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, cwd=REPO)
    try:
        return watch(bootstrap, sink, len(records), proc.pid, timeout)
    finally:
        stop(proc)


def run(
    bootstrap: str, n: int, variants: tuple[str, ...], baseline: bool, log_dir: Path, timeout: float = 600
) -> dict[str, Any]:
    from booking_bench import BenchConfig, run_baseline

    log_dir.mkdir(parents=True, exist_ok=True)
    records = hub_records(n)
    report: dict[str, Any] = {
        "records": len(records),
        "bytes_avg": sum(len(v) for _, v, _ in records) // len(records),
        "load_before": os.getloadavg(),
        "rows": {},
    }
    if baseline:
        cfg = BenchConfig(bootstrap=bootstrap, partitions=6, log_dir=log_dir)
        report["rows"]["jvm"] = run_baseline(
            cfg, f"ceiling-{uuid.uuid4().hex[:6]}-", [v for _, v, _ in records][:500], 0, len(records)
        )
    for spec in variants:
        # "faust@drain/uvloop/linger=5": a variant run with the hub's tunings (streams/faust_drain.py, uvloop, linger)
        variant, _, tuning = spec.partition("@")
        report["rows"][spec] = run_variant(bootstrap, variant, records, log_dir, timeout, tuning.replace("/", ","))
    report["load_after"] = os.getloadavg()
    return report


def main() -> None:
    from bench_cli import bench_parser, emit, local_bootstrap

    ap = bench_parser(__doc__)
    ap.add_argument("--records", type=int, default=20_000)
    ap.add_argument("--variants", default=",".join(VARIANTS))
    ap.add_argument("--no-baseline", action="store_true")
    # worker role
    for opt in ("--variant", "--bootstrap", "--source", "--sink", "--app-id", "--state", "--tuning"):
        ap.add_argument(opt)
    args = ap.parse_args()
    if args.role == "worker":
        worker_main(args)
        return
    report = run(
        local_bootstrap(),
        args.records,
        tuple(v for v in args.variants.split(",") if v),
        not args.no_baseline,
        Path("/tmp/rosterhub-bench/ceiling"),
    )
    emit(report, args.json_out)


if __name__ == "__main__":
    main()
