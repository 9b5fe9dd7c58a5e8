"""Smoke test of ``bench/passport_latency.py``: two revocations and two expiries on the real broker.

It checks that the harness works end to end (baseline round trips, revocations reaching a partner
trust's clearance, the timer's expiries read back) and never how fast: the figures are the bench's,
run by hand (docs/benchmarks.md). The tests assert order and outcome only (issue 15).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from rosterhub.kafka.resolve import Resolved
from tests.support import load_bench

pytestmark = pytest.mark.integration


def test_the_bench_measures_revocations_and_expiries(kafka: Resolved, tmp_path: Path) -> None:
    bench = load_bench("passport_latency")
    cfg = bench.BenchConfig(kafka.bootstrap, revocations=2, expiries=2, baseline_rounds=3, log_dir=tmp_path)
    report = bench.run_bench(cfg)
    assert report["baseline"]["kafka_round_trip"]["n"] == 3 and report["baseline"]["http_clearance"]["n"] == 3
    assert report["revocation_to_partner_clearance"]["n"] == 2
    expiry = report["expiry_detected_after"]
    assert expiry["n"] == 2 and expiry["p50_ms"] >= 0  # detected at or after the instant, never before
    assert report["ratios"]["revocation_p50_over_baseline_p50"] is not None
    bench.print_report(report)


def test_summary_percentiles() -> None:
    bench = load_bench("passport_latency")
    assert bench.summary([]) == {"n": 0, "p50_ms": None, "p95_ms": None, "max_ms": None}
    s = bench.summary([i / 1000 for i in range(1, 101)])
    assert (s["n"], s["p50_ms"], s["p95_ms"], s["max_ms"]) == (100, 50.5, 95.0, 100.0)
