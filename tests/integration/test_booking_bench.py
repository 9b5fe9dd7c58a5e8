"""Smoke test of ``bench/booking_bench.py``: a few seconds at a low rate on the real broker.

It checks the harness works end to end (Kafka's perf tools parsed, payloads fed, decisions
collected, per-hop figures computed), never how fast anything is: speed is for the bench run by
hand (docs/benchmarks.md).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from rosterhub.kafka.resolve import Resolved
from tests.support import load_bench

pytestmark = pytest.mark.integration


def test_the_bench_harness_produces_figures_and_decisions(kafka: Resolved, tmp_path: Path) -> None:
    bench = load_bench("booking_bench")
    cfg = bench.BenchConfig(
        bootstrap=kafka.bootstrap,
        rate=40,
        duration=3,
        warmup=0.5,
        drain=40,
        partitions=3,
        log_dir=tmp_path,
        baseline_alongside=True,
        people_per_trust=0,
    )
    report = bench.run_bench(cfg, [40])

    base = report["baseline"]["40"]
    assert base["producer"]["records"] == 120
    assert base["producer"]["p99_ms"] >= 0
    assert base["consumer"]["records"] == 120
    [run] = report["runs"]
    assert run["payloads_fed"] >= 100
    assert run["requests_fed"] > 50
    assert run["decided"] == run["requests_fed"], run
    assert sum(run["outcomes"].values()) == run["decided"]
    hops = run["latency_from_feed"]
    assert hops["request (record time)"]["n"] > 0
    assert hops["decision (record time)"]["p99_ms"] is not None
    assert hops["decision (seen by a consumer)"]["n"] == hops["decision (record time)"]["n"]
    assert run["worker_cpu_ms_per_decision"] > 0
    assert run["vs_baseline"]["p99_over_producer_p99"] is not None
    bench.print_report(report)  # the text report renders from the same figures


def test_percentiles_and_perf_tool_parsing() -> None:
    bench = load_bench("booking_bench")
    assert bench.percentile([], 0.5) is None
    assert bench.percentile([3.0, 1.0, 2.0], 0.5) == 2.0
    assert bench.percentile(list(range(1, 101)), 0.99) == 99
    out = (
        "100 records sent, 99.6 records/sec (0.04 MB/sec), 3.41 ms avg latency, 110.00 ms max latency, "
        "2 ms 50th, 5 ms 95th, 110 ms 99th, 110 ms 99.9th.\n"
    )
    assert bench.parse_producer_perf(out)["p99_ms"] == 110.0
    cons = (
        "start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms, "
        "fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec\n2026-11-23 18:12:01:000, 2026-11-23 18:12:02:000, 0.04, "
        "0.04, 100, 100.0, 300, 700, 0.06, 142.8\n"
    )
    assert bench.parse_consumer_perf(cons) == {"records": 100, "records_per_s": 100.0, "mb_per_s": 0.04}
    with pytest.raises(ValueError, match="no ProducerPerformance summary"):
        bench.parse_producer_perf("nothing")


def test_a_rate_is_sustained_only_when_every_request_is_decided_in_pace_and_in_time() -> None:
    bench = load_bench("booking_bench")
    run = {
        "requests_fed": 600,
        "feed_seconds": 20.0,
        "decided": 600,
        "decisions_per_s_during_feed": 29.0,
        "latency_from_feed": {"decision (record time)": {"p99_ms": 450.0}},
    }
    assert bench.sustained(run, 500)
    assert not bench.sustained(run, 400)  # too slow at p99
    assert not bench.sustained({**run, "decided": 599}, 500)  # one left undecided
    assert not bench.sustained({**run, "decisions_per_s_during_feed": 20.0}, 500)  # fell behind during the feed
    assert not bench.sustained({**run, "latency_from_feed": {}}, 500)
