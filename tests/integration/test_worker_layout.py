"""Booking on workers of its own (``worker_processors``), the other processors on another worker.

faust gives one consumer group's partitions to its members whatever agents each member runs. When every worker
joined the app id's one group, a booking-only worker and a views worker split ``events.booking`` between them:
the requests on the views worker's partitions reached no booking agent and were never decided, and the shifts on
the booking worker's partitions never reached the availability view. Each processor set now has its own group
(``rosterhub.features.worker_group``, decision 0017), so each reads every record of the topics it needs.

Booking reads the passport table in its own worker (as availability does): a booking-only worker rejected every
request ``PASSPORT_UNKNOWN``, silently (issue #16). The booking worker runs booking with passport and availability
(their ``needs``), and the test asserts that cleared people's requests are confirmed, not only decided.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from kafka import KafkaAdminClient

from rosterhub.envelope import decode_record
from rosterhub.features import processor_names, worker_group
from rosterhub.settings import Settings
from tests.integration.helpers import read_topic, settings_env, wait_for, wait_serving, worker_process
from tests.integration.test_booking_saga import SagaHub, _codes, _request, _shift
from tests.support import isolated_settings
from tests.unit.streams.identity_harness import worker
from tests.unit.streams.passport_builders import nurse_passport

pytestmark = pytest.mark.integration

SHIFTS = 12  # over 3 partitions: with one shared group, some land on each worker's partitions
#: the booking worker's set: booking with what it needs (passport), and availability, which needs passport too
BOOKING_SET = ["booking", "passport", "availability"]
CLEARED = ("61A6161A", "62B6262B", "63C6363C", "64D6464D")  # NMC pins of nurses with every credential
UNCLEARED = ("71E7171E", "72F7272F", "73G7373G", "74H7474H")  # registered, no credentials


@pytest.fixture
def split(kafka: Any, tmp_path: Path) -> Iterator[tuple[SagaHub, Settings]]:
    settings = isolated_settings(kafka.bootstrap, tmp_path)
    hub = SagaHub(settings, tmp_path)
    try:
        yield hub, settings
    finally:
        hub.close()


def test_a_booking_worker_and_a_views_worker_each_see_every_record_and_confirm_the_cleared(
    split: tuple[SagaHub, Settings], tmp_path: Path
) -> None:
    hub, settings = split
    now = datetime.now(UTC)
    base = (now + timedelta(days=20)).replace(hour=8, minute=0, second=0, microsecond=0)
    shifts = [_shift(f"patchwork:RHQ:lay-{i}", "RHQ", base + timedelta(days=i)) for i in range(SHIFTS)]
    # people: 4 cleared nurses, 4 registered without credentials, 4 strangers (one request each)
    cleared = [f"patchwork:RHQ:pw-ok-{i}" for i in range(len(CLEARED))]
    uncleared = [f"patchwork:RHQ:pw-no-{i}" for i in range(len(UNCLEARED))]
    strangers = [f"patchwork:RHQ:pw-lay-{i}" for i in range(SHIFTS - len(cleared) - len(uncleared))]
    hub.publish(
        *(
            worker(local, nmc=nmc)
            for local, nmc in (*zip(cleared, CLEARED, strict=True), *zip(uncleared, UNCLEARED, strict=True))
        )
    )
    for local in cleared:
        hub.publish(*nurse_passport(local, "RHQ", now))
    people = [*cleared, *uncleared, *strangers]
    requests = [
        _request(f"patchwork:RHQ:layb-{i}", s.data["shift_id"], people[i], "RHQ", now) for i, s in enumerate(shifts)
    ]
    hub.publish(*shifts)
    rest = [name for name in processor_names() if name not in BOOKING_SET]
    with ExitStack() as stack:
        booking, url = hub.start_worker(stack, "booking", "state-booking", ROSTERHUB_WORKER_PROCESSORS=BOOKING_SET)
        stack.enter_context(worker_process(settings, tmp_path / "views.log", ROSTERHUB_WORKER_PROCESSORS=rest))
        wait_serving(booking, tmp_path / "booking.log", lambda: hub.serves(url), what="the booking worker")
        # the person stage reads the passport table as it is when its check runs: the credentials first
        hub.wait_cleared(url, CLEARED, "RHQ", base + timedelta(days=1), timeout=180)
        hub.publish(*requests)
        # every request decided (strangers: identity, on the views worker, links each as a new person, and the
        # booking worker then rejects them; a decision either way)
        decided = hub.wait_decided([r.data["booking_id"] for r in requests], timeout=240)
        assert len(decided) == SHIFTS
        # decided by their real reasons (issue #16: a booking worker without passport rejected every request
        # PASSPORT_UNKNOWN): the cleared are confirmed, the others rejected, none for want of a passport table
        got = [decided[r.data["booking_id"]] for r in requests]
        outcomes = [(e.type.rsplit(".", 1)[-1], _codes(e)) for e in got]
        assert [kind for kind, _ in outcomes[: len(cleared)]] == ["BookingConfirmed"] * len(cleared), outcomes
        assert outcomes[len(cleared) : len(people) - len(strangers)] == [
            ("BookingRejected", ["PASSPORT_NOT_CLEARED"])
        ] * len(uncleared), outcomes
        for kind, codes in outcomes[len(people) - len(strangers) :]:
            assert kind == "BookingRejected" and codes and "PASSPORT_UNKNOWN" not in codes, outcomes

        def viewed() -> set[str] | None:
            recs = read_topic(settings.kafka_bootstrap_servers or "", hub.names.availability_view, at_least=0)
            keys = {decode_record(r.value, r.headers, hub.codec).data["shift_id"] for r in recs}
            return keys if keys >= {s.data["shift_id"] for s in shifts} else None

        wait_for(viewed, timeout=120, interval=1, what="every shift on views.availability")

        admin = KafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap_servers)
        try:
            booking_group = worker_group(settings.app_id, BOOKING_SET)
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
    assert booking_group == f"{settings.app_id}.run.booking.passport.availability"
    assert {g: len(d.get("members") or ()) for g, d in described.items()} == {booking_group: 1, views_group: 1}
    assert third.returncode == 1, third.stderr
    assert "error [config_error]" in third.stderr
    assert f"overlap the running worker group(s) {views_group}" in third.stderr
