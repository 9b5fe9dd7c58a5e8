"""The soak harness's short version (bench/soak.py): booking traffic while the worker is SIGKILLed twice.

Every request decided exactly once (re-sent decisions byte-identical), no shift filled twice, no person with
overlapping confirmations, every payload on its raw topic. The long version's counts are in docs/benchmarks.md.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "bench"))

pytestmark = pytest.mark.integration


def test_two_kills_of_the_worker_lose_nothing_and_decide_nothing_twice(kafka: Any, tmp_path: Path) -> None:
    import soak

    report = soak.soak(kafka.access, duration=40, kills=2, rate=15, log_dir=tmp_path)
    print(report)
    assert report["kills"] == 2
    assert report["requests_fed"] > 0 and report["lost"] == 0
    assert report["decided"] == report["requests_fed"]
    assert report["decided_twice_differently"] == 0
    assert report["shifts_filled_twice"] == 0 and report["overlapping_confirmations"] == 0
    assert report["on_raw_topic"] == report["payloads_fed"]
