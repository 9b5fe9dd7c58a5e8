"""Booking on workers of its own (``worker_processors``), the other processors on another worker.

faust gives one consumer group's partitions to its members whatever agents each member runs. When every worker
joined the app id's one group, a booking-only worker and a views worker split ``events.booking`` between them:
the requests on the views worker's partitions reached no booking agent and were never decided, and the shifts on
the booking worker's partitions never reached the availability view. Each processor set now has its own group
(``rosterhub.features.worker_group``, decision 0017), so each reads every record of the topics it needs.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from kafka import KafkaAdminClient

from rosterhub.envelope import decode_record
from rosterhub.features import processor_names, worker_group
from rosterhub.settings import Settings
from tests.integration.helpers import read_topic, settings_env, wait_for, worker_process
from tests.integration.test_booking_saga import SagaHub, _request, _shift
from tests.support import isolated_settings

pytestmark = pytest.mark.integration

SHIFTS = 12  # over 3 partitions: with one shared group, some land on each worker's partitions


@pytest.fixture
def split(kafka: Any, tmp_path: Path) -> Iterator[tuple[SagaHub, Settings]]:
    settings = isolated_settings(kafka.bootstrap, tmp_path)
    hub = SagaHub(settings, tmp_path)
    try:
        yield hub, settings
    finally:
        hub.close()


def test_a_booking_only_worker_and_a_views_worker_each_see_every_record(
    split: tuple[SagaHub, Settings], tmp_path: Path
) -> None:
    hub, settings = split
    now = datetime.now(UTC)
    base = (now + timedelta(days=20)).replace(hour=8, minute=0, second=0, microsecond=0)
    shifts = [_shift(f"patchwork:RHQ:lay-{i}", "RHQ", base + timedelta(days=i)) for i in range(SHIFTS)]
    requests = [
        _request(f"patchwork:RHQ:layb-{i}", s.data["shift_id"], f"patchwork:RHQ:pw-lay-{i}", "RHQ", now)
        for i, s in enumerate(shifts)
    ]
    hub.publish(*shifts)
    hub.publish(*requests)
    rest = [name for name in processor_names() if name != "booking"]
    with (
        worker_process(settings, tmp_path / "booking.log", ROSTERHUB_WORKER_PROCESSORS=["booking"]),
        worker_process(settings, tmp_path / "views.log", ROSTERHUB_WORKER_PROCESSORS=rest),
    ):
        # every request decided (strangers: identity, on the views worker, links each as a new person, and the
        # booking worker then rejects them for their missing credentials; a decision either way)
        decided = hub.wait_decided([r.data["booking_id"] for r in requests], timeout=240)
        assert len(decided) == SHIFTS

        def viewed() -> set[str] | None:
            recs = read_topic(settings.kafka_bootstrap_servers or "", hub.names.availability_view, at_least=0)
            keys = {decode_record(r.value, r.headers, hub.codec).data["shift_id"] for r in recs}
            return keys if keys >= {s.data["shift_id"] for s in shifts} else None

        wait_for(viewed, timeout=120, interval=1, what="every shift on views.availability")

        admin = KafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap_servers)
        try:
            booking_group = worker_group(settings.app_id, ["booking"])
            views_group = worker_group(settings.app_id, rest)
            described = {g: admin.describe_groups([g])[g] for g in (booking_group, views_group)}
        finally:
            admin.close()
        # a third worker for KPIs alone would be a second reader and writer of what the views worker does
        third = subprocess.run(
            [sys.executable, "-m", "rosterhub", "worker"],
            env=settings_env(settings, ROSTERHUB_WORKER_PROCESSORS=["kpi"]),
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
    # each processor set is a group of its own, with its worker as the one member
    assert booking_group == f"{settings.app_id}.run.booking"
    assert {g: len(d.get("members") or ()) for g, d in described.items()} == {booking_group: 1, views_group: 1}
    assert third.returncode == 1, third.stderr
    assert "error [config_error]" in third.stderr
    assert f"overlap the running worker group(s) {views_group}" in third.stderr
