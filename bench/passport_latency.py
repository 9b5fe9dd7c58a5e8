"""Passport latencies that the tests no longer assert (issue 15), against a baseline measured in the same run.

    .venv/bin/python bench/passport_latency.py [--revocations 30] [--expiries 30] [--json-out FILE]

On the configured broker (``KAFKA_BOOTSTRAP_SERVERS``, else the local KRaft broker), on fresh topics,
with one ``rosterhub worker`` process and the shipped trust policies:

1. **baseline**, same broker, same worker, same run: the Kafka round trip (a kafka-python producer
   sends one record, acks=all, and a consumer already positioned on the topic sees it) and the HTTP
   round trip of the clearance endpoint for an unknown person (its audit record is written and
   acknowledged before the answer, as for every clearance call);
2. **revocation**: nurses whose RHQ checks clear them at RCU (RCU accepts RHQ's DBS under the MoU);
   for each, a CredentialRevoked of the DBS goes to ``_rosterhub.passport-in`` and RCU's clearance is
   polled (5 ms apart) until it answers REVOKED: the time from the produce call to that answer;
3. **expiry**: fire-safety courses that expire a few seconds after the worker is ready (spread by
   0.25 s); from each CredentialExpired on ``events.passport``, ``detected_at - expired_at``: how long
   the timer (``passport_timer_interval_s``, 1 s) took to notice, with no input event.

Reports p50 / p95 / max and the ratios to the baseline. Targets (issue 6): a revocation visible at a
partner trust within 1 s; an expiry noticed within the timer interval plus 1 s.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import httpx  # noqa: E402
from kafka import KafkaConsumer, KafkaProducer, TopicPartition  # noqa: E402

from rosterhub.codec.catalogue import default_catalogue  # noqa: E402
from rosterhub.codec.schema_topic import publish_schemas  # noqa: E402
from rosterhub.codec.wire import SingleObjectCodec  # noqa: E402
from rosterhub.connectors.registry import connectors  # noqa: E402
from rosterhub.envelope import Envelope, decode_record, encode_event  # noqa: E402
from rosterhub.kafka.access import KafkaAccess  # noqa: E402
from rosterhub.kafka.admin import ensure_topics  # noqa: E402
from rosterhub.runtime import TopicNames  # noqa: E402
from rosterhub.settings import Settings  # noqa: E402
from rosterhub.topics import TopicSpec, declared_topics  # noqa: E402
from tests.auth_support import Tokens  # noqa: E402
from tests.integration.helpers import wait_for, worker_process  # noqa: E402
from tests.support import free_port  # noqa: E402
from tests.unit.streams.passport_builders import POLICIES, cred_id, issued, nurse_passport, revoked  # noqa: E402

NURSE = {"staff_group": "NURSING_MIDWIFERY_REGISTERED", "grade": "BAND_5"}
FIRE = cred_id("RHQ", "CSTF_TRAINING", "FIRE_SAFETY")


@dataclass(frozen=True)
class BenchConfig:
    bootstrap: str
    revocations: int = 30
    expiries: int = 30
    baseline_rounds: int = 50
    log_dir: Path = Path(tempfile.gettempdir())


def summary(values_s: list[float]) -> dict[str, Any]:
    """p50 / p95 / max in milliseconds (None when nothing was measured)."""
    if not values_s:
        return {"n": 0, "p50_ms": None, "p95_ms": None, "max_ms": None}
    ordered = sorted(values_s)
    p95 = ordered[min(len(ordered) - 1, max(0, round(0.95 * len(ordered)) - 1))]
    return {
        "n": len(ordered),
        "p50_ms": round(statistics.median(ordered) * 1000, 1),
        "p95_ms": round(p95 * 1000, 1),
        "max_ms": round(ordered[-1] * 1000, 1),
    }


class Hub:
    """Fresh topics on the broker, a producer to passport-in, and the worker's HTTP API."""

    def __init__(self, cfg: BenchConfig, token: str) -> None:
        self.cfg = cfg
        tokens = Tokens(cfg.log_dir / f"issuer-{token}")
        self.settings = tokens.accepting(
            Settings(
                kafka_bootstrap_servers=cfg.bootstrap,
                topic_prefix=f"pbench{token}.",
                app_id=f"passport-bench-{token}",
                state_dir=cfg.log_dir / f"state-{token}",
                default_partitions=3,
            )
        )
        #: RCU's rota manager reading clearances (a trust user's token and the purpose of the read)
        self.caller = tokens.caller("RCU", "bench", "booking")
        self.names = TopicNames(self.settings.topic_prefix)
        self.catalogue = default_catalogue()
        self.codec = SingleObjectCodec(self.catalogue)
        self.rtt_topic = f"{self.settings.topic_prefix}bench.rtt"
        specs = [*declared_topics(connectors(), self.settings.topic_prefix), TopicSpec(self.rtt_topic, partitions=1)]
        ensure_topics(KafkaAccess(cfg.bootstrap), specs, default_partitions=3, replication_factor=1)
        self.producer = KafkaProducer(bootstrap_servers=cfg.bootstrap, acks="all", linger_ms=0)
        publish_schemas(self.producer, self.names.schemas, list(self.catalogue))
        self.http = httpx.Client(timeout=10)
        self.url = ""

    def close(self) -> None:
        self.http.close()
        self.producer.close()

    def send(self, *events: Envelope) -> None:
        for env in events:
            rec = encode_event(env, self.catalogue.get(env.type), self.codec, self.names.passport_in)
            self.producer.send(rec.topic, key=env.data["person_id"].encode(), value=rec.value, headers=rec.headers)
        self.producer.flush()

    def clearance(self, person: str, start: datetime, end: datetime) -> dict[str, Any]:
        params = {**NURSE, "at": start.isoformat(), "end": end.isoformat()}
        r = self.http.get(f"{self.url}/passport/{person}/clearance", params=params, headers=self.caller)
        r.raise_for_status()
        answer: dict[str, Any] = r.json()
        return answer

    @contextmanager
    def worker(self) -> Iterator[None]:
        port = free_port()
        env = {
            "ROSTERHUB_WORKER_WEB_PORT": str(port),
            "ROSTERHUB_PASSPORT_POLICY_DIR": str(POLICIES),
            "ROSTERHUB_STATE_DIR": str(self.settings.state_dir),
        }
        log = self.cfg.log_dir / f"worker-{self.settings.app_id}.log"
        with worker_process(self.settings, log, **env) as proc:
            self.url = f"http://127.0.0.1:{port}"

            def ready() -> bool:
                assert proc.poll() is None, log.read_text()[-3000:]
                try:
                    answer = self.http.get(f"{self.url}/passport/nobody/clearance", params=NURSE, headers=self.caller)
                except httpx.HTTPError:
                    return False
                assert answer.status_code not in (401, 403), f"the worker refused the bench's token: {answer.text}"
                return answer.is_success

            wait_for(ready, timeout=180, interval=0.5, what="the worker's web server")
            yield


def kafka_round_trips(hub: Hub, rounds: int) -> list[float]:
    consumer = KafkaConsumer(bootstrap_servers=hub.cfg.bootstrap, enable_auto_commit=False)
    tp = TopicPartition(hub.rtt_topic, 0)
    consumer.assign([tp])
    consumer.seek_to_end(tp)
    consumer.position(tp)
    out = []
    try:
        for i in range(rounds):
            t0 = time.perf_counter()
            hub.producer.send(hub.rtt_topic, value=str(i).encode()).get(timeout=30)
            while not any(r.value == str(i).encode() for rs in consumer.poll(timeout_ms=5).values() for r in rs):
                pass
            out.append(time.perf_counter() - t0)
    finally:
        consumer.close()
    return out


def http_round_trips(hub: Hub, rounds: int, start: datetime, end: datetime) -> list[float]:
    out = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        hub.clearance("nobody", start, end)
        out.append(time.perf_counter() - t0)
    return out


def revocation_latencies(hub: Hub, people: list[str], start: datetime, end: datetime) -> list[float]:
    out = []
    dbs = cred_id("RHQ", "DBS", None)
    for person in people:
        t0 = time.perf_counter()
        hub.send(revoked(person, dbs, "DBS", "RHQ", datetime.now(UTC), "SuspectNoLongerValid"))
        while hub.clearance(person, start, end)["reasons"] != ["REVOKED"]:
            time.sleep(0.005)
            if time.perf_counter() - t0 > 60:
                raise RuntimeError(f"the revocation of {person}'s DBS never reached RCU")
        out.append(time.perf_counter() - t0)
    return out


def expiry_lags(hub: Hub, token: str, n: int) -> list[float]:
    now = datetime.now(UTC)
    first = (now + timedelta(seconds=8)).replace(microsecond=0)
    expected = {}
    for i in range(n):
        person = f"p-expiry-{token}-{i}"
        expires = first + timedelta(milliseconds=250 * i)
        events = [e for e in nurse_passport(person, "RHQ", now) if e.data["credential_id"] != FIRE]
        events.append(
            issued(person, FIRE, "CSTF_TRAINING", "RHQ", now - timedelta(days=300), expires, subject="FIRE_SAFETY")
        )
        hub.send(*events)
        expected[person] = expires
    consumer = KafkaConsumer(bootstrap_servers=hub.cfg.bootstrap, enable_auto_commit=False)
    topic = hub.names.events("passport")
    tps = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or set())]
    consumer.assign(tps)
    consumer.seek_to_beginning(*tps)
    lags: dict[str, float] = {}
    deadline = time.monotonic() + 120 + n * 0.25
    try:
        while len(lags) < n and time.monotonic() < deadline:
            for records in consumer.poll(timeout_ms=500).values():
                for r in records:
                    env = decode_record(r.value, r.headers, hub.codec)
                    person = env.data.get("person_id")
                    if env.type.endswith("CredentialExpired") and person in expected:
                        assert env.data["expired_at"] == expected[person]
                        lags[person] = (env.data["detected_at"] - env.data["expired_at"]).total_seconds()
    finally:
        consumer.close()
    if len(lags) < n:
        raise RuntimeError(f"only {len(lags)} of {n} expiries were noticed")
    return list(lags.values())


def run_bench(cfg: BenchConfig) -> dict[str, Any]:
    token = uuid.uuid4().hex[:8]
    hub = Hub(cfg, token)
    start = (datetime.now(UTC) + timedelta(days=7)).replace(minute=0, second=0, microsecond=0)
    end = start + timedelta(hours=12)
    people = [f"p-revoke-{token}-{i}" for i in range(cfg.revocations)]
    try:
        now = datetime.now(UTC)
        for person in people:
            hub.send(*nurse_passport(person, "RHQ", now))
        with hub.worker():
            for person in people:
                wait_for(
                    lambda p=person: hub.clearance(p, start, end)["cleared"], timeout=120, what=f"{person} cleared"
                )
            kafka = kafka_round_trips(hub, cfg.baseline_rounds)
            http = http_round_trips(hub, cfg.baseline_rounds, start, end)
            revocation = revocation_latencies(hub, people, start, end)
            expiry = expiry_lags(hub, token, cfg.expiries)
    finally:
        hub.close()
    base = summary([k + h for k, h in zip(kafka, http, strict=False)])
    report = {
        "machine": {"cpus": os.cpu_count(), "load_average": os.getloadavg()},
        "baseline": {"kafka_round_trip": summary(kafka), "http_clearance": summary(http), "kafka_plus_http": base},
        "revocation_to_partner_clearance": summary(revocation),
        "expiry_detected_after": summary(expiry),
    }
    rev = report["revocation_to_partner_clearance"]
    report["ratios"] = {
        "revocation_p50_over_baseline_p50": _ratio(rev["p50_ms"], base["p50_ms"]),
        "revocation_p95_over_baseline_p95": _ratio(rev["p95_ms"], base["p95_ms"]),
    }
    return report


def _ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 1) if a is not None and b else None


def print_report(report: dict[str, Any]) -> None:
    m = report["machine"]
    print(f"{m['cpus']} CPUs, load average {' / '.join(f'{x:.1f}' for x in m['load_average'])}")
    rows = [
        ("baseline: Kafka round trip", report["baseline"]["kafka_round_trip"]),
        ("baseline: HTTP clearance (unknown person)", report["baseline"]["http_clearance"]),
        ("baseline: Kafka + HTTP", report["baseline"]["kafka_plus_http"]),
        ("revocation -> partner's clearance", report["revocation_to_partner_clearance"]),
        ("expiry -> CredentialExpired (detected_at - expired_at)", report["expiry_detected_after"]),
    ]
    print(f"{'':58} {'n':>4} {'p50 ms':>9} {'p95 ms':>9} {'max ms':>9}")
    for name, s in rows:
        print(f"{name:58} {s['n']:>4} {s['p50_ms']!s:>9} {s['p95_ms']!s:>9} {s['max_ms']!s:>9}")
    print(f"ratios: {report['ratios']}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--revocations", type=int, default=30)
    ap.add_argument("--expiries", type=int, default=30)
    ap.add_argument("--baseline-rounds", type=int, default=50)
    ap.add_argument("--json-out", type=Path)
    args = ap.parse_args()

    from rosterhub.kafka.resolve import resolve_broker
    from rosterhub.settings import load_settings

    bootstrap = resolve_broker(load_settings(), keep_running=True).bootstrap
    cfg = BenchConfig(
        bootstrap,
        revocations=args.revocations,
        expiries=args.expiries,
        baseline_rounds=args.baseline_rounds,
        log_dir=Path(tempfile.mkdtemp(prefix="passport-bench-")),
    )
    print(f"passport latency bench on {bootstrap}; logs in {cfg.log_dir}", flush=True)
    report = run_bench(cfg)
    print_report(report)
    if args.json_out:
        args.json_out.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
