"""The KPI processor's events/s against the empty faust hop of ``bench/hop_ceiling.py``, in the same run.

Both read the same records: a generated month of three trusts' canonical events (``tests/kpi_traffic.py``:
shifts posted, released, updated, withdrawn; the booking processor's fills, cancellations, no-shows and
refusals; the vendors' requests and cancellations the KPIs skip; duplicates and late versions), Avro
single-object encoded, from a backlog on one broker:

=====================  =================================================================================
row                    what runs
=====================  =================================================================================
``faust``              hop_ceiling's empty hop: one agent, ``concurrency=1``, each record sent on unchanged
``kpi``                ``rosterhub worker`` running only the KPI processor (``worker_processors=["kpi"]``),
                       its RocksDB table and changelog, reading events.shift + events.booking, writing views.kpi
``kpi-memory``         the same with ``store=memory://`` (as hop_ceiling's table rows)
=====================  =================================================================================

A row's events/s is the number of input records over the time from its first to its last output record
(broker timestamps): the empty hop writes one record per input, the KPI processor one per change of a
shift's facts (``outputs``), spread over the whole backlog. Target (issue 13): ``kpi`` at least half
of ``faust``.

Like for like with the pure core (``tests/kpi_pure.py``): how many records the worker publishes depends on the
order it meets the two input topics in (a revision made while nothing places the shift yet, such as a refusal
read before the posting, has no record; the next record carries it: tests/unit/streams/test_kpi_publish_order.py),
so ``outputs`` and ``outputs_pure_core`` (the pure core in delivery order) differ. What must not differ is what a
reader of the compacted topic keeps: each KPI row reports ``shifts`` / ``shifts_pure_core``, ``revisions`` /
``revisions_pure_core`` (the sum of each shift's last revision: the changes made) and ``last_records_differing``
(shifts whose last record on views.kpi is not the pure core's last record: 0).

    .venv/bin/python bench/kpi_bench.py                      # the month: ~10,000 records
    .venv/bin/python bench/kpi_bench.py --per-day 3          # a smoke run (~1,800 records)

Run by hand (the tests only smoke it: tests/integration/test_kpi_bench.py); figures in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))


def traffic_records(per_day: int, seed: int) -> tuple[list[tuple[str, bytes, bytes, list]], dict[str, Any]]:
    """(domain, key, value, headers) of every delivered event, and the pure core's views.kpi over them: how many
    records it publishes in delivery order and each shift's last record."""
    from rosterhub.codec.catalogue import default_catalogue
    from rosterhub.codec.wire import SingleObjectCodec
    from rosterhub.envelope import encode_event
    from rosterhub.streams.booking.policy import load_booking_policies
    from rosterhub.streams.kpi.policy import load_kpi_policies
    from tests.kpi_pure import run_pure
    from tests.kpi_traffic import generate

    catalogue = default_catalogue()
    codec = SingleObjectCodec(catalogue)
    traffic = generate(seed=seed, shifts_per_trust_day=per_day)
    delivered = [d for d in traffic.delivered() if d[0] != "passport"]
    out = []
    for domain, key, env in delivered:
        rec = encode_event(env, catalogue.get(env.type), codec, domain)
        out.append((domain, key.encode(), rec.value, list(rec.headers)))
    policies = load_kpi_policies([REPO / "policies/kpi"], load_booking_policies([REPO / "policies/booking"]))
    last: dict[str, dict[str, Any]] = {}
    _, published = run_pure(delivered, policies, last)
    return out, {"published": published, "last": last}


def _preload(bootstrap: str, records: list[tuple[str, bytes, bytes, list]], topic_of: dict[str, str]) -> None:
    from kafka import KafkaProducer

    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5, batch_size=256 * 1024)
    for domain, key, value, headers in records:
        producer.send(topic_of[domain], key=key, value=value, headers=headers)
    producer.flush()
    producer.close()


def run_kpi(
    bootstrap: str, records: list, pure: dict[str, Any], log_dir: Path, *, store: str, timeout: float
) -> dict[str, Any]:
    """A KPI-only worker over a preloaded backlog: input records per second from its first to its last output."""
    from rosterhub.features import worker_group
    from rosterhub.kafka.access import KafkaAccess
    from rosterhub.kafka.admin import ensure_topics
    from rosterhub.runtime import TopicNames
    from rosterhub.topics import declared_topics
    from tests.support import stop

    token = uuid.uuid4().hex[:8]
    prefix = f"kpibench{token}."
    names = TopicNames(prefix)
    ensure_topics(KafkaAccess(bootstrap), declared_topics([], prefix), default_partitions=6, replication_factor=1)
    _preload(bootstrap, records, {"shift": names.events("shift"), "booking": names.events("booking")})
    env = {k: v for k, v in os.environ.items() if not k.startswith("ROSTERHUB_")}
    env.update(
        KAFKA_BOOTSTRAP_SERVERS=bootstrap,
        ROSTERHUB_TOPIC_PREFIX=prefix,
        ROSTERHUB_APP_ID=f"kpibench-{token}",
        ROSTERHUB_STATE_DIR=str(log_dir / f"state-{token}"),
        ROSTERHUB_STORE=store,
        ROSTERHUB_DEFAULT_PARTITIONS="6",
        ROSTERHUB_WORKER_PROCESSORS='["kpi"]',
        ROSTERHUB_LOG_LEVEL="WARNING",
    )
    with (log_dir / f"kpi-{token}.log").open("ab") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "rosterhub", "worker"], env=env, stdout=log, stderr=subprocess.STDOUT, cwd=REPO
        )
    try:
        seen = watch_outputs(bootstrap, names, worker_group(f"kpibench-{token}", ["kpi"]), proc.pid, timeout)
    finally:
        stop(proc)
    last = seen.pop("last")
    counts = {"outputs": seen["records"], "outputs_pure_core": pure["published"], **like_for_like(last, pure["last"])}
    if not seen.get("seconds"):
        return {**seen, "inputs": len(records), **counts}
    return {
        "inputs": len(records),
        **counts,
        "seconds": seen["seconds"],
        "per_s": round(len(records) / seen["seconds"]),
        "cpu_ms_per_input": round(seen["cpu_s"] * 1000 / len(records), 3),
    }


def like_for_like(last: dict[bytes, tuple[bytes, list]], pure_last: dict[str, dict[str, Any]]) -> dict[str, int]:
    """The worker's last record per shift on views.kpi against the pure core's (both as a reader decodes them)."""
    from rosterhub.codec.catalogue import default_catalogue
    from rosterhub.codec.wire import SingleObjectCodec
    from rosterhub.envelope import Envelope, decode_record, encode_event

    catalogue = default_catalogue()
    codec = SingleObjectCodec(catalogue)
    schema = catalogue.get("rosterhub.kpi.v1.ShiftKpi")
    mine = {}
    for value, headers in last.values():
        env = decode_record(value, headers, codec)
        if env.type == schema.full_name:
            mine[env.data["shift_id"]] = env.data
    theirs = {}
    for shift, row in pure_last.items():  # through the codec, as the worker's records were
        rec = encode_event(Envelope(schema.full_name, "/bench", row), schema, codec, "views.kpi")
        theirs[shift] = decode_record(rec.value, rec.headers, codec).data
    return {
        "shifts": len(mine),
        "shifts_pure_core": len(theirs),
        "revisions": sum(r["revision"] for r in mine.values()),
        "revisions_pure_core": sum(r["revision"] for r in theirs.values()),
        "last_records_differing": sum(mine.get(s) != r for s, r in theirs.items()) + len(mine.keys() - theirs.keys()),
    }


def watch_outputs(bootstrap: str, names: Any, group: str, pid: int, timeout: float) -> dict[str, Any]:
    """Follow views.kpi until the worker's group has committed the end of both input topics; the span of
    its outputs' broker timestamps and its CPU in that span. (How many records the worker writes depends on the
    order it meets the events in, across two topics and six partitions, so it cannot be waited for.)"""
    from booking_bench import cpu_seconds
    from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition

    inputs = [names.events("shift"), names.events("booking")]
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    ends = consumer.end_offsets(
        [TopicPartition(t, p) for t in inputs for p in sorted(consumer.partitions_for_topic(t) or ())]
    )
    out = [TopicPartition(names.kpi_view, p) for p in sorted(consumer.partitions_for_topic(names.kpi_view) or ())]
    consumer.assign(out)
    consumer.seek_to_beginning(*out)
    stamps: list[int] = []
    last: dict[bytes, tuple[bytes, list]] = {}  # each key's latest record, decoded after the run
    cpu_first = 0.0
    deadline = time.monotonic() + timeout
    done_at: float | None = None
    try:
        while time.monotonic() < deadline:
            for batch in consumer.poll(timeout_ms=300).values():
                if not stamps and batch:
                    cpu_first = cpu_seconds(pid)
                stamps += [m.timestamp for m in batch]
                for m in batch:
                    last[m.key] = (m.value, m.headers)
            if done_at is None:
                committed = admin.list_group_offsets({group: None}).get(group, {})
                if all(committed.get(tp) and committed[tp].offset >= end for tp, end in ends.items()):
                    done_at = time.monotonic()
            elif time.monotonic() - done_at > 3:  # outputs of the last inputs are on the broker before the commit
                break
        cpu = cpu_seconds(pid) - cpu_first
    finally:
        consumer.close()
        admin.close()
    if len(stamps) < 2 or done_at is None:
        return {"records": len(stamps), "per_s": None, "finished": done_at is not None, "last": last}
    return {"records": len(stamps), "seconds": round((max(stamps) - min(stamps)) / 1000, 2), "cpu_s": cpu, "last": last}


def run(
    bootstrap: str, per_day: int, seed: int, log_dir: Path, rows: tuple[str, ...], timeout: float = 900
) -> dict[str, Any]:
    from hop_ceiling import run_variant

    log_dir.mkdir(parents=True, exist_ok=True)
    records, pure = traffic_records(per_day, seed)
    report: dict[str, Any] = {
        "inputs": len(records),
        "kpi_outputs": pure["published"],
        "bytes_avg": sum(len(v) for _, _, v, _ in records) // len(records),
        "load_before": os.getloadavg(),
        "rows": {},
    }
    hop_records = [(key, value, headers) for _, key, value, headers in records]
    for row in rows:
        started = time.monotonic()
        if row == "faust":
            report["rows"][row] = run_variant(bootstrap, "faust", hop_records, log_dir, timeout)
        else:
            store = "memory://" if row == "kpi-memory" else "rocksdb://"
            report["rows"][row] = run_kpi(bootstrap, records, pure, log_dir, store=store, timeout=timeout)
        report["rows"][row]["wall_s"] = round(time.monotonic() - started, 1)
    hop = report["rows"].get("faust", {}).get("per_s")
    for row in ("kpi", "kpi-memory"):
        kpi = report["rows"].get(row, {}).get("per_s")
        if hop and kpi:
            report[f"{row}_vs_empty_hop"] = round(kpi / hop, 3)
    report["load_after"] = os.getloadavg()
    return report


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--per-day", type=int, default=18, help="shifts per trust per day of the generated month")
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--rows", default="faust,kpi,kpi-memory")
    ap.add_argument("--json-out", type=Path)
    args = ap.parse_args()
    from bench_cli import emit, local_bootstrap

    report = run(
        local_bootstrap(), args.per_day, args.seed, Path("/tmp/rosterhub-bench/kpi"), tuple(args.rows.split(","))
    )
    emit(report, args.json_out)


if __name__ == "__main__":
    main()
