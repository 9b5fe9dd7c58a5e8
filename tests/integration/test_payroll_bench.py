"""Smoke test of ``bench/payroll_bench.py`` on the real broker: every timesheet becomes its priced lines, and the
empty faust hop of the same run copies every record. It checks the harness, never speed (figures come from the
bench run by hand, docs/benchmarks.md)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from rosterhub.kafka.resolve import Resolved

pytestmark = pytest.mark.integration

BENCH = Path(__file__).resolve().parents[2] / "bench"


def _load(name: str) -> object:
    spec = importlib.util.spec_from_file_location(name, BENCH / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def test_every_timesheet_is_priced_and_the_hop_baseline_runs_alongside(kafka: Resolved, tmp_path: Path) -> None:
    sys.path.insert(0, str(BENCH))
    _load("hop_ceiling")
    bench = _load("payroll_bench")

    report = bench.run(kafka.bootstrap, 40, tmp_path, timeout=180)  # type: ignore[attr-defined]

    assert report["faust_hop"]["records"] == 40 and report["faust_hop"]["per_s"] > 0
    assert report["payroll"]["lines"] == 40 * 3
    assert report["payroll"]["timesheets_per_s"] > 0 and report["ratio_to_hop"] > 0
