"""Issue #17: a rebalance finishes while records are queued for the agents, and nothing is lost.

Booking requests stream onto events.booking, which four agents read (booking decider, identity
forward, availability, and the router when destinations exist). A second worker joins while the
first has records queued for its agents. Before giving up partitions faust clears those queues and
waits until every record an agent started is acked; in faust-streaming 0.15.3 a record whose queued
copy was cleared is never acked, so the first worker waited for ever and the second never got its
partitions (seen: 2.5 min, then SIGTERM ignored for 90 s). Here the second worker must become ready,
and every request must still be decided exactly as it would have been (each rejected SHIFT_UNKNOWN,
once, with the same event id if decided twice).
"""

from __future__ import annotations

import re
import threading
import uuid
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition

from rosterhub.envelope import Envelope
from rosterhub.settings import Settings
from tests.integration.helpers import wait_for, worker_process
from tests.integration.test_booking_saga import REPO, SOURCE, SagaHub, _request

pytestmark = pytest.mark.integration

FIRST_WAVE = 600
MAX_REQUESTS = 15000


def _ready(log: Path) -> bool:
    return log.exists() and "Worker ready" in log.read_text(errors="replace")


def _lag(bootstrap: str, group: str, topic: str) -> int:
    """Records of ``topic`` the group has not committed yet."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    consumer = KafkaConsumer(bootstrap_servers=bootstrap)
    try:
        committed = admin.list_group_offsets({group: None})[group]
        tps = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        ends = consumer.end_offsets(tps)
        return sum(ends[tp] - (committed[tp].offset if tp in committed else 0) for tp in tps)
    finally:
        admin.close()
        consumer.close()


def test_a_second_worker_joining_under_load_gets_its_partitions_and_nothing_is_skipped(
    kafka: Any, tmp_path: Path
) -> None:
    unique = uuid.uuid4().hex[:10]
    settings = Settings(
        kafka_bootstrap_servers=kafka.bootstrap,
        topic_prefix=f"t{unique}.",
        app_id=f"rosterhub-test-{unique}",
        state_dir=tmp_path / "state",
        default_partitions=2,
    )
    hub = SagaHub(settings, tmp_path)
    env = {
        "ROSTERHUB_BOOKING_POLICY_DIR": str(REPO / "policies" / "booking"),
        "ROSTERHUB_BOOKING_UNKNOWN_SHIFT_GRACE_S": "1",
        "ROSTERHUB_BOOKING_TIMER_INTERVAL_S": "1",
        "ROSTERHUB_STOP_TIMEOUT_S": "20",
    }
    now = datetime.now(UTC)
    requests: list[Envelope] = []
    joined = threading.Event()

    def feed(n: int) -> None:
        first = len(requests)
        batch = [
            _request(f"patchwork:RHQ:rq-{i}", f"patchwork:RHQ:nowhere-{i}", "patchwork:RHQ:pw-x", "RHQ", now)
            for i in range(first, first + n)
        ]
        requests.extend(batch)
        hub.publish(*batch)

    def keep_feeding() -> None:  # as fast as it goes until the second worker is in: the agents' queues fill up
        while not joined.is_set() and len(requests) < MAX_REQUESTS:
            feed(300)

    one_log, two_log = tmp_path / "one.log", tmp_path / "two.log"
    booking = hub.names.events("booking")
    try:
        with worker_process(settings, one_log, ROSTERHUB_STATE_DIR=str(tmp_path / "s1"), **env) as one:
            wait_for(lambda: one.poll() is None and _ready(one_log), timeout=120, what="worker one ready")
            feed(FIRST_WAVE)
            wait_for(lambda: "BookingRejected" in one_log.read_text(errors="replace"), timeout=60, what="deciding")
            feeder = threading.Thread(target=keep_feeding, daemon=True)
            feeder.start()
            with worker_process(settings, two_log, ROSTERHUB_STATE_DIR=str(tmp_path / "s2"), **env) as two:
                try:
                    wait_for(lambda: two.poll() is None and _ready(two_log), timeout=120, what="worker two ready")
                except AssertionError:
                    waits = len(re.findall(r"wait_empty: Waiting for tasks", one_log.read_text(errors="replace")))
                    pytest.fail(f"the second worker never got its partitions; worker one logged {waits} wait_empty")
                finally:
                    joined.set()
                    feeder.join()
                # nothing skipped: the group commits every record of events.booking; the first wave is decided
                wait_for(
                    lambda: _lag(hub.bootstrap, settings.app_id, booking) == 0,
                    timeout=300,
                    interval=2,
                    what=f"every one of {len(requests)} requests read",
                )
                got = hub.wait_decided([r.data["booking_id"] for r in requests[:FIRST_WAVE]], timeout=120)
    finally:
        hub.close()
    assert {e.type.rsplit(".", 1)[-1] for e in got.values()} == {"BookingRejected"}
    assert {tuple(e.data["reason_codes"]) for e in got.values()} == {("SHIFT_UNKNOWN",)}
    decisions = [e for e in hub.events(booking, timeout=5) if e.source == SOURCE]
    # a request decided again after the move repeats the same event, never a different one
    ids = defaultdict(set)
    for e in decisions:
        ids[e.data["booking_id"]].add(e.id)
    assert all(len(v) == 1 for v in ids.values())
