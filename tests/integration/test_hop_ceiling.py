"""Smoke test of ``bench/hop_ceiling.py`` on the real broker: every hop under test copies every record.

It checks the harness, never speed (figures come from the bench run by hand, docs/benchmarks.md).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from rosterhub.kafka.resolve import Resolved
from tests.support import load_bench

pytestmark = pytest.mark.integration


def test_each_hop_variant_copies_every_record(kafka: Resolved, tmp_path: Path) -> None:
    bench = load_bench("hop_ceiling")

    report = bench.run(kafka.bootstrap, 120, ("aiokafka", "faust+table+codec"), False, tmp_path, timeout=90)

    assert report["records"] == 120
    for variant in ("aiokafka", "faust+table+codec"):
        row = report["rows"][variant]
        assert row["records"] == 120, (variant, row)
        assert row["per_s"] and row["per_s"] > 0
