"""Smoke test of ``bench/hop_ceiling.py`` on the real broker: every hop under test copies every record.

It checks the harness, never speed (figures come from the bench run by hand, docs/benchmarks.md).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from rosterhub.kafka.resolve import Resolved

pytestmark = pytest.mark.integration

BENCH = Path(__file__).resolve().parents[2] / "bench"


def test_each_hop_variant_copies_every_record(kafka: Resolved, tmp_path: Path) -> None:
    sys.path.insert(0, str(BENCH))
    spec = importlib.util.spec_from_file_location("hop_ceiling", BENCH / "hop_ceiling.py")
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    sys.modules["hop_ceiling"] = bench
    spec.loader.exec_module(bench)

    report = bench.run(kafka.bootstrap, 120, ("aiokafka", "faust+table+codec"), False, tmp_path, timeout=90)

    assert report["records"] == 120
    for variant in ("aiokafka", "faust+table+codec"):
        row = report["rows"][variant]
        assert row["records"] == 120, (variant, row)
        assert row["per_s"] and row["per_s"] > 0
