"""The soak harness's short version (bench/soak.py): mixed traffic through the real connectors while the broker is
restarted and the worker, the ingress and the polling connector are each SIGKILLed once.

Afterwards, from the topics: every vendor payload on its raw topic and mapped or dead-lettered; every booking
request decided exactly once (re-sent decisions byte-identical); no shift filled twice; no person with
overlapping confirmations; every expected outbound update applied by the trust receiver, once per idempotency key.
The long version's counts are in docs/benchmarks.md.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "bench"))

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]  # ~3 min on a quiet machine; the load can double it


def test_kills_of_each_process_and_a_broker_restart_lose_nothing_and_duplicate_nothing(tmp_path: Path) -> None:
    import soak

    report = soak.soak(duration=30, kills=4, rate=4, log_dir=tmp_path)
    raw = {v: (report[f"{v}_raw"], report[f"{v}_mapped"] + report[f"{v}_dead_lettered"]) for v in soak.VENDORS}
    held = {
        "each kind of process killed once": report["kills_by_process"] == dict.fromkeys(soak.VICTIMS, 1),
        # every vendor payload is on its raw topic, and mapped or dead-lettered
        "webhooks on raw": report["webhook_payloads_accepted"] > 0 and report["webhook_payloads_not_on_raw"] == 0,
        "webhooks all accepted in the end": report["webhook_never_accepted"] == 0,
        "feed on raw": report["feed_changes_published"] > 0 and report["feed_changes_not_on_raw"] == 0,
        "raw mapped or dead-lettered": all(n > 0 and n == accounted for n, accounted in raw.values()),
        # every booking request decided exactly once, a re-sent decision identical
        "none lost": report["requests_fed"] > 0 and report["lost"] == 0,
        "all decided": report["decided"] == report["requests_on_topic"] >= report["requests_fed"],
        "none decided twice": report["decided_twice_differently"] == 0,
        "no double fill": report["shifts_filled_twice"] == 0,
        "no overlap": report["overlapping_confirmations"] == 0,
        # every outbound update delivered, and applied once per idempotency key
        "outbound all delivered": report["outbound_expected"] > 0 and report["outbound_missing"] == 0,
        "outbound once per key": report["outbound_keys_applied"] == report["outbound_expected"]
        and report["outbound_unexpected"] == 0
        and report["outbound_deliveries"] == report["outbound_keys_applied"] + report["outbound_repeats"],
    }
    assert all(held.values()), ([k for k, ok in held.items() if not ok], report)
