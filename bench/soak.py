"""Soak: steady booking traffic while the stream worker is SIGKILLed at random times; then check from the topics.

    .venv/bin/python bench/soak.py --duration 1800 --kills 20         # the long version (docs/benchmarks.md)
    .venv/bin/python bench/soak.py --duration 40 --kills 2 --rate 15  # the short version (tests/integration)

What it does, on the configured broker (``KAFKA_BOOTSTRAP_SERVERS``, else the local KRaft broker): 90 registered
nurses (worker records and passports), one ``rosterhub worker``, and the booking bench's feeder putting Patchwork
payloads (a shift, then one or two requests for it; the raw body on ``raw.patchwork`` and the mapped events) at
``--rate`` payloads/s for ``--duration`` s. Meanwhile the worker is killed with SIGKILL ``--kills`` times at random
moments and started again each time (same state folder). Afterwards, from the topics:

* every booking request fed is decided, and **exactly once**: one decision event id per booking, and every copy
  of that id (a re-sent decision) byte-identical;
* no shift has more than one confirmation (no standing double fill);
* no person has two confirmed bookings that overlap;
* every payload fed is on ``raw.patchwork``.

Not in this version (issue #17 asks for them; see the report): killing the ingress and a polling connector,
restarting the broker, and checking outbound deliveries per idempotency key.
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
import time
import uuid
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

import booking_bench as bb  # noqa: E402

from rosterhub.kafka.access import KafkaAccess  # noqa: E402

DECISIONS = bb.DECISIONS


def _worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "rosterhub", "worker"], env=env, stdout=out, stderr=subprocess.STDOUT, cwd=REPO
        )


def _read_all(kafka: KafkaAccess, topic: str) -> list[Any]:
    from kafka import KafkaConsumer, TopicPartition

    c = KafkaConsumer(**kafka.kafka_python(), enable_auto_commit=False, max_partition_fetch_bytes=4 * 2**20)
    try:
        tps = [TopicPartition(topic, p) for p in sorted(c.partitions_for_topic(topic) or ())]
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


def check(kafka: KafkaAccess, prefix: str, fed: dict[str, float], payloads: int) -> dict[str, Any]:
    """The invariants, from the topics."""
    from rosterhub.codec.catalogue import default_catalogue
    from rosterhub.codec.wire import SingleObjectCodec
    from rosterhub.envelope import decode_record, headers_dict

    codec = SingleObjectCodec(default_catalogue())
    copies: dict[str, set[bytes]] = defaultdict(set)  # decision ce_id -> distinct (value + headers) seen
    ids_by_booking: dict[str, set[str]] = defaultdict(set)
    confirmed: dict[str, Any] = {}
    sent = 0
    for r in _read_all(kafka, prefix + "events.booking"):
        h = headers_dict(r.headers)
        if h.get("ce_type", b"").decode() not in DECISIONS or h.get("ce_source") != bb.HUB_SOURCE.encode():
            continue
        sent += 1
        ce_id = h["ce_id"].decode()
        copies[ce_id].add(r.value + b"|" + json.dumps(sorted((k, v.hex()) for k, v in h.items())).encode())
        env = decode_record(r.value, r.headers, codec)
        ids_by_booking[env.data["booking_id"]].add(ce_id)
        if env.type.endswith("BookingConfirmed"):
            confirmed[env.data["booking_id"]] = env.data
    fills = Counter(d["shift_id"] for d in confirmed.values())
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
    raw = sum(1 for _ in _read_all(kafka, prefix + "raw.patchwork"))
    return {
        "payloads_fed": payloads,
        "on_raw_topic": raw,
        "requests_fed": len(fed),
        "decided": sum(1 for b in fed if ids_by_booking.get(b)),
        "lost": sum(1 for b in fed if not ids_by_booking.get(b)),
        "decision_records": sent,
        "resent_identical": sent - len(copies),
        "decided_twice_differently": sum(1 for b in fed if len(ids_by_booking.get(b, ())) > 1)
        + sum(1 for v in copies.values() if len(v) > 1),
        "shifts_filled_twice": sum(1 for n in fills.values() if n > 1),
        "overlapping_confirmations": overlaps,
    }


def soak(
    kafka: KafkaAccess, *, duration: float, kills: int, rate: int, log_dir: Path, seed: int = 11
) -> dict[str, Any]:
    from rosterhub.connectors.registry import connectors
    from rosterhub.kafka.admin import ensure_topics
    from rosterhub.topics import declared_topics

    bootstrap = kafka.bootstrap_servers
    token = uuid.uuid4().hex[:8]
    prefix, app_id = f"soak{token}.", f"rosterhub-soak-{token}"
    log_dir.mkdir(parents=True, exist_ok=True)
    cfg = bb.BenchConfig(bootstrap=bootstrap, baseline=False, log_dir=log_dir, seed=seed)
    ensure_topics(kafka, declared_topics(connectors(), prefix), default_partitions=6, replication_factor=1)
    pool = bb.nurse_pool(cfg.people_per_trust, seed)
    bb.load_population(cfg, prefix, pool)
    env = {k: v for k, v in os.environ.items() if not k.startswith("ROSTERHUB_")}
    env |= kafka.env()  # the worker's access: address and security (docs/kafka-security.md)
    env |= {
        "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "ROSTERHUB_TOPIC_PREFIX": prefix,
        "ROSTERHUB_APP_ID": app_id,
        "ROSTERHUB_STATE_DIR": str(log_dir / f"state-{token}"),
        "ROSTERHUB_DEFAULT_PARTITIONS": "6",
        "ROSTERHUB_LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(REPO),
    }
    out = log_dir / f"soak-fed-{token}.json"
    feeder_cfg = {
        "bootstrap": bootstrap,
        "prefix": prefix,
        "rate": rate,
        "duration": duration,
        "mode": "premapped",
        "seed": seed,
        "run_id": token[:6],
        "payloads": int(rate * (duration + 1)),
        "people": cfg.people_per_trust,
        "out": str(out),
    }
    log = log_dir / f"soak-worker-{token}.log"
    proc = _worker(env, log)
    bb._wait_linked(kafka, prefix, sum(map(len, pool.values())), [proc])
    feeder = subprocess.Popen(
        [sys.executable, str(REPO / "bench" / "booking_bench.py"), "--feeder", json.dumps(feeder_cfg)],
        cwd=REPO,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert feeder.stdout is not None and feeder.stdin is not None
    if feeder.stdout.readline().strip() != "ready":
        raise RuntimeError("feeder failed")
    rng = random.Random(seed)
    moments = sorted(rng.uniform(0.1 * duration, 0.9 * duration) for _ in range(kills))
    killed = 0
    started = time.monotonic()
    feeder.stdin.write("go\n")
    feeder.stdin.flush()
    procs = [proc]
    try:
        for at in moments:
            time.sleep(max(0.0, started + at - time.monotonic()))
            procs[-1].send_signal(signal.SIGKILL)
            procs[-1].wait()
            killed += 1
            time.sleep(1)
            procs.append(_worker(env, log))
        feeder.wait(timeout=duration + 600)
        fed_doc = json.loads(out.read_text())
        deadline = time.monotonic() + max(120.0, duration)
        result: dict[str, Any] = {}
        while time.monotonic() < deadline:
            result = check(kafka, prefix, fed_doc["fed"], fed_doc["payloads"])
            if result["lost"] == 0:
                break
            time.sleep(5)
    finally:
        for p in procs:
            if p.poll() is None:
                p.terminate()
        for p in procs:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
    return {"duration_s": duration, "rate": rate, "kills": killed, **result, "load_average": os.getloadavg()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--duration", type=float, default=1800)
    ap.add_argument("--kills", type=int, default=20)
    ap.add_argument("--rate", type=int, default=20, help="payloads/s")
    ap.add_argument("--json-out", type=Path)
    args = ap.parse_args()
    from rosterhub.kafka.resolve import resolve_broker
    from rosterhub.settings import load_settings

    kafka = resolve_broker(load_settings(), keep_running=True).access
    log_dir = Path(tempfile.gettempdir()) / "rosterhub-bench" / "soak"
    report = soak(kafka, duration=args.duration, kills=args.kills, rate=args.rate, log_dir=log_dir)
    print(json.dumps(report, indent=2, default=str))
    if args.json_out:
        args.json_out.write_text(json.dumps(report, indent=2, default=str))


if __name__ == "__main__":
    main()
