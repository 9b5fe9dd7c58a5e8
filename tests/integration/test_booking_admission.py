"""A worker holds its input back while the saga's own records wait, and decides every request once (docs/booking.md,
"Under overload: decisions before new input").

The hold is set so low here (4 saga records waiting) that a backlog of 60 requests on 30 shifts, there before the
worker starts, makes it hold back and resume; every request must still be decided, once, and each shift
filled at most once.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.integration.test_booking_saga import SagaHub, _request, _shift
from tests.support import isolated_settings
from tests.unit.streams.identity_harness import worker
from tests.unit.streams.passport_builders import nurse_passport

pytestmark = pytest.mark.integration

SHIFTS = 30
NURSES = (("patchwork:RHQ:adm-a", "81A8181A"), ("nhsp:RHQ:adm-b", "82B8282B"))


@pytest.fixture
def hub(kafka: Any, tmp_path: Path) -> Iterator[SagaHub]:
    hub = SagaHub(isolated_settings(kafka.bootstrap, tmp_path), tmp_path)
    try:
        yield hub
    finally:
        hub.close()


def test_a_worker_holding_its_input_back_decides_every_request_once(hub: SagaHub) -> None:
    now = datetime.now(UTC)
    base = (now + timedelta(days=10)).replace(hour=8, minute=0, second=0, microsecond=0)
    hub.publish(*(worker(local, nmc=nmc) for local, nmc in NURSES))
    for local, _ in NURSES:
        hub.publish(*nurse_passport(local, "RHQ", now))
    shifts = [f"patchwork:RHQ:adm-{i}" for i in range(SHIFTS)]
    hub.publish(*(_shift(s, "RHQ", base + timedelta(days=2 * i)) for i, s in enumerate(shifts)))
    requests = [
        _request(f"{local.split(':')[0]}:RHQ:adm-{n}-{i}", s, local, "RHQ", now)
        for i, s in enumerate(shifts)
        for n, (local, _) in enumerate(NURSES)
    ]
    hub.publish(*requests)

    with hub.worker(ROSTERHUB_BOOKING_ADMISSION_WAITING="4", ROSTERHUB_STREAM_FETCH_PARTITION_BYTES="32768"):
        decided = hub.wait_decided([r.data["booking_id"] for r in requests], timeout=180)

    log = (hub.tmp / "worker.log").read_text()
    assert log.count("booking admission: holding back input") >= 1, "the worker never held its input back"
    assert log.count("booking admission: resumed input") >= 1
    assert len(decided) == len(requests)
    confirmed = Counter(
        env.data["shift_id"] for env in decided.values() if env.type.rsplit(".", 1)[-1] == "BookingConfirmed"
    )
    assert confirmed and max(confirmed.values()) == 1, confirmed
