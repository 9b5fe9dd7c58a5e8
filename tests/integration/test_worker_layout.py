"""Booking on workers of its own (``worker_processors``), the other processors on another worker.

faust gives one consumer group's partitions to its members whatever agents each member runs. When every worker
joined the app id's one group, a booking-only worker and a views worker split ``events.booking`` between them:
the requests on the views worker's partitions reached no booking agent and were never decided, and the shifts on
the booking worker's partitions never reached the availability view. Each processor set now has its own group
(``rosterhub.features.worker_group``, decision 0017), so each reads every record of the topics it needs.

Booking reads the passport table in its own worker: a booking-only worker rejected every request
``PASSPORT_UNKNOWN``, silently (issue #16). The booking worker runs booking with passport (its ``needs``) and
open-shifts (a worker's own open shifts, which reads the passport too); availability's agent, which reads no
passport, runs with the views. The test asserts that cleared people's requests are confirmed, not only decided,
that the views worker's availability view shows them filled, and that each worker's availability routes answer
as docs/deploy.md says: the worker route on the booking worker, a clear refusal of it on the views worker.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from kafka import KafkaAdminClient

from rosterhub.envelope import decode_record
from rosterhub.features import processor_names, worker_group
from rosterhub.settings import Settings
from rosterhub.streams.identity.match import person_id_for
from tests.integration.helpers import read_topic, settings_env, wait_for, wait_serving
from tests.integration.test_booking_saga import SagaHub, _codes, _request, _shift
from tests.support import isolated_settings
from tests.unit.streams.identity_harness import worker
from tests.unit.streams.passport_builders import nurse_passport

pytestmark = pytest.mark.integration

SHIFTS = 12  # over 3 partitions: with one shared group, some land on each worker's partitions
#: the booking worker's set (docs/deploy.md's example): booking with what it needs (passport), and open-shifts (the
#: worker route, which needs passport too); availability and the other views run on the views worker
BOOKING_SET = ["booking", "passport", "open-shifts"]
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
        views, views_url = hub.start_worker(stack, "views", "state-views", ROSTERHUB_WORKER_PROCESSORS=rest)
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

        # the availability agent runs on the views worker, apart from booking, and still sees every decision: its
        # view (the views worker's read model, over its HTTP API) shows the confirmed shifts filled by the cleared
        def shown(base: str, shift_id: str) -> dict[str, Any] | None:
            r = httpx.get(f"{base}/availability/shifts/{shift_id}", headers=hub.caller("RHQ"), timeout=10)
            return r.json() if r.status_code == 200 else None

        first = shifts[0].data["shift_id"]
        wait_serving(views, tmp_path / "views.log", lambda: shown(views_url, first) is not None, what="the views web")
        filled = {
            s.data["shift_id"]: wait_for(
                lambda sid=s.data["shift_id"]: (v := shown(views_url, sid)) and v["status"] == "FILLED" and v,
                timeout=60,
                what=f"{s.data['shift_id']} FILLED on the views worker",
            )
            for s in shifts[: len(cleared)]
        }
        confirmed_to = {e.data["shift_id"]: e.data["worker"]["person_id"] for e in got[: len(cleared)]}
        assert {sid: v["filled_by"]["person_id"] for sid, v in filled.items()} == confirmed_to
        assert all(not v["open"] for v in filled.values())

        # a worker's own open shifts: served by the booking worker (passport and open-shifts, no availability
        # agent) from its own follower of the view; refused clearly by the views worker, which has no passport
        nurse = person_id_for(f"reg:nmc:{CLEARED[0]}")
        query = {"staff_group": "NURSING_MIDWIFERY_REGISTERED", "grade": "BAND_5", "home_trust": "RHQ", "trust": "RHQ"}
        still_open = {s.data["shift_id"] for s in shifts[len(cleared) :]}

        def listed() -> set[str] | None:
            r = httpx.get(
                f"{url}/availability/workers/{nurse}/shifts", params=query, headers=hub.caller("RHQ"), timeout=10
            )
            assert r.status_code in (200, 503), r.text  # 503: the booking worker's follower still loading
            ids = {v["shift_id"] for v in r.json()["shifts"]} if r.status_code == 200 else set()
            return ids if ids >= still_open else None

        assert wait_for(listed, timeout=60, what="the open shifts in the cleared nurse's list") == still_open
        elsewhere = httpx.get(
            f"{views_url}/availability/workers/{nurse}/shifts", params=query, headers=hub.caller("RHQ"), timeout=10
        )
        assert elsewhere.status_code == 404, elsewhere.text
        assert elsewhere.json()["code"] == "not_served_here" and "open-shifts" in elsewhere.json()["message"]
        anonymous = httpx.get(f"{views_url}/availability/workers/{nurse}/shifts", params=query, timeout=10)
        assert anonymous.status_code == 401, anonymous.text  # the refusal keeps the route's bearer token

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
    assert booking_group == f"{settings.app_id}.run.booking.passport.open-shifts"
    assert views_group == f"{settings.app_id}.run.outbound.identity.availability.kpi.payroll"
    assert {g: len(d.get("members") or ()) for g, d in described.items()} == {booking_group: 1, views_group: 1}
    assert third.returncode == 1, third.stderr
    assert "error [config_error]" in third.stderr
    assert f"overlap the running worker group(s) {views_group}" in third.stderr
