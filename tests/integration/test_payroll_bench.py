"""Smoke test of ``bench/payroll_bench.py`` on the real broker: every timesheet becomes its priced lines, and the
empty faust hop of the same run copies every record. It checks the harness, never speed (figures come from the
bench run by hand, docs/benchmarks.md)."""

from __future__ import annotations

from pathlib import Path

import pytest

from rosterhub.kafka.resolve import Resolved
from tests.support import load_bench

pytestmark = pytest.mark.integration


def test_every_timesheet_is_priced_and_the_hop_baseline_runs_alongside(kafka: Resolved, tmp_path: Path) -> None:
    load_bench("hop_ceiling")
    bench = load_bench("payroll_bench")

    report = bench.run(kafka.bootstrap, 40, tmp_path, timeout=180)

    assert report["faust_hop"]["records"] == 40 and report["faust_hop"]["per_s"] > 0
    assert report["payroll"]["lines"] == 40 * 3
    assert report["payroll"]["timesheets_per_s"] > 0 and report["ratio_to_hop"] > 0
