"""Holding a worker's partitions back and releasing them loses no record and repeats none (streams/faust_pause.py).

faust's own ``pause_partitions`` drops the rest of the batch its fetcher is handing out and then commits past the
gap: the booking worker's first admission control lost ten thousand requests that way. Here a real faust worker
(tests/integration/pause_probe.py) reads 30,000 records over three partitions while its partitions are held back
and released every 30 ms, behind a small agent queue, and must process each record exactly once, in offset order.
"""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from kafka import KafkaAdminClient, KafkaProducer
from kafka.admin import NewTopic

from tests.integration.helpers import wait_for

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
RECORDS = 30_000
PARTITIONS = 3


def test_records_held_back_and_released_are_each_processed_once_in_order(kafka: Any, tmp_path: Path) -> None:
    bootstrap = kafka.bootstrap
    topic = f"pause-probe-{uuid.uuid4().hex[:8]}"
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    admin.create_topics([NewTopic(topic, PARTITIONS, 1)])
    admin.close()
    producer = KafkaProducer(bootstrap_servers=bootstrap, linger_ms=5)
    for i in range(RECORDS):
        producer.send(topic, value=b"x" * 200, partition=i % PARTITIONS)
    producer.flush()
    producer.close()

    out = tmp_path / "seen.txt"
    log = (tmp_path / "probe.log").open("wb")
    probe = subprocess.Popen(
        [sys.executable, "-m", "tests.integration.pause_probe", bootstrap, topic, str(out)],
        cwd=REPO,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:

        def lines() -> list[str]:
            assert probe.poll() is None, (tmp_path / "probe.log").read_text()[-3000:]  # the probe died: say why
            return out.read_text().splitlines() if out.exists() else []

        wait_for(lambda: len(lines()) >= RECORDS, timeout=180, what=f"{RECORDS} records processed")
        time.sleep(2)  # anything delivered twice would arrive now
        seen = [tuple(map(int, line.split())) for line in lines()]
    finally:
        probe.terminate()
        probe.wait(timeout=30)
        log.close()

    beats = out.with_suffix(".beats").read_text().split()
    assert beats.count("hold") >= 20 and beats.count("release") >= 20  # it really held back, many times
    assert len(seen) == RECORDS, "a record was processed twice"
    for p in range(PARTITIONS):
        offsets = [o for q, o in seen if q == p]
        assert offsets == list(range(RECORDS // PARTITIONS)), f"partition {p}: a record skipped or out of order"
