"""Smoke test of ``bench/kpi_bench.py`` on the real broker: both rows consume the whole backlog (no timing)."""

from __future__ import annotations

from pathlib import Path

import pytest

from rosterhub.kafka.resolve import Resolved
from tests.support import load_bench

pytestmark = pytest.mark.integration


def test_the_kpi_bench_runs_both_rows_over_the_same_records(kafka: Resolved, tmp_path: Path) -> None:
    bench = load_bench("kpi_bench")

    report = bench.run(kafka.bootstrap, 1, 5, tmp_path, ("faust", "kpi"), timeout=300)

    inputs = report["inputs"]
    assert inputs > 300 and report["rows"]["faust"]["records"] == inputs
    kpi = report["rows"]["kpi"]
    assert kpi["inputs"] == inputs and kpi["outputs"] > 0 and kpi["per_s"] > 0
    # Like for like with the pure core: each shift's last record on views.kpi is the pure core's last record.
    assert kpi["shifts"] == kpi["shifts_pure_core"] > 0 and kpi["last_records_differing"] == 0
    assert kpi["revisions"] == kpi["revisions_pure_core"]
    assert report["kpi_vs_empty_hop"] > 0
