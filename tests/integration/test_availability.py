"""The availability processor on the real broker: one worker process for the whole module.

Events are produced straight to events.shift / events.booking as connectors and the
booking processor write them (hub outcomes with source /rosterhub/booking), and the
view is read back from views.availability, over the worker's HTTP API, and once with
Kafka's own console consumer. Each test uses its own shift ids, so they share the worker.
The release cascade is shortened for RHQ only (seconds); the other trusts keep the
shipped hours, so their shifts stay where they are during the module.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from kafka import KafkaProducer
from kafka.admin import ConfigResource, ConfigResourceType, KafkaAdminClient

from rosterhub.codec.catalogue import default_catalogue
from rosterhub.codec.schema_topic import publish_schemas
from rosterhub.codec.wire import SingleObjectCodec
from rosterhub.connectors.registry import connectors
from rosterhub.envelope import Envelope, decode_record
from rosterhub.kafka.admin import ensure_topics
from rosterhub.kafka.resolve import Resolved
from rosterhub.runtime import TopicNames
from rosterhub.topics import declared_topics
from tests.auth_support import Tokens
from tests.integration.helpers import (
    ProducingHub,
    console_consume_one,
    read_topic,
    wait_for,
    wait_serving,
    worker_process,
)
from tests.support import free_port, isolated_settings
from tests.unit.streams.passport_builders import POLICIES, nurse_passport

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
CASCADE = """collaborative: south-yorkshire-bassetlaw
cascade:
  - {to: COLLABORATIVE_BANK, after: 48h}
trusts:
  RHQ:
    cascade:
      - {to: COLLABORATIVE_BANK, after: 2s}
      - {to: AGENCY_TIER_1, after: 2s}
"""
NURSE = {"staff_group": "NURSING_MIDWIFERY_REGISTERED", "grade": "BAND_5"}


@dataclass
class Hub(ProducingHub):
    url: str
    tokens: Tokens

    def send(self, topic: str, env: Envelope, key: str) -> None:
        self.produce(topic, env, key)
        self.producer.flush()

    def shift(
        self,
        trust: str,
        version: int = 1,
        *,
        ward: str = "Ward 1",
        shift_id: str | None = None,
        kind: str = "ShiftPosted",
        **extra: object,
    ) -> str:
        sid = shift_id or f"healthroster:{trust}:{uuid.uuid4().hex[:8]}"
        start = (datetime.now(UTC) + timedelta(days=7)).replace(microsecond=0)
        data = {
            "shift_id": sid,
            "version": version,
            "vendor": "healthroster",
            "vendor_shift_id": sid.rsplit(":", 1)[-1],
            "trust": {"ods_code": trust, "name": None},
            "ward": ward,
            "staff_group": NURSE["staff_group"],
            "grade": NURSE["grade"],
            "shift_type": "DAY",
            "start": start,
            "end": start + timedelta(hours=12),
            "hourly_rate": Decimal("21.50"),
            **extra,
        }
        if kind == "ShiftPosted":
            data["posted_at"] = datetime.now(UTC)
        else:
            data["updated_at"] = datetime.now(UTC)
        self.send(
            self.names.events("shift"), Envelope(f"rosterhub.shift.v1.{kind}", "/vendors/healthroster/x", data), sid
        )
        return sid

    def views(self, shift_id: str, at_least: int = 1) -> list[dict]:
        def found() -> list[dict] | None:
            recs = read_topic(self.bootstrap, self.names.availability_view, at_least=0, timeout=1)
            mine = [decode_record(r.value, r.headers, self.codec).data for r in recs if r.key == shift_id.encode()]
            return mine if len(mine) >= at_least else None

        return wait_for(found, timeout=30, interval=0.3, what=f"{at_least} view records of {shift_id}")

    def get(self, path: str, trust: str = "RCU", **kw: object) -> httpx.Response:
        """GET as a bank office user of ``trust`` (token and purpose)."""
        headers = self.tokens.caller(trust, "bank-office-1")
        return httpx.get(f"{self.url}{path}", timeout=10, headers=headers, **kw)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def hub(kafka: Resolved, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    tmp = tmp_path_factory.mktemp("availability")
    tokens = Tokens(tmp / "issuer")
    settings = isolated_settings(kafka.bootstrap, tmp, auth_issuers=[tokens.issuer.accepted()])
    names = TopicNames(settings.topic_prefix)
    codec = SingleObjectCodec(default_catalogue())
    ensure_topics(
        kafka.access,
        declared_topics(connectors(), settings.topic_prefix),
        default_partitions=3,
        replication_factor=1,
    )
    producer = KafkaProducer(bootstrap_servers=kafka.bootstrap, acks="all", linger_ms=0)
    publish_schemas(producer, names.schemas, list(codec.catalogue))
    (tmp / "cascade").mkdir()
    (tmp / "cascade" / "syb.yaml").write_text(CASCADE)
    port = free_port()
    env = {
        "ROSTERHUB_WORKER_WEB_PORT": str(port),
        "ROSTERHUB_PASSPORT_POLICY_DIR": str(POLICIES),
        "ROSTERHUB_BOOKING_POLICY_DIR": str(REPO / "policies" / "booking"),
        "ROSTERHUB_AVAILABILITY_POLICY_DIR": str(tmp / "cascade"),
        "ROSTERHUB_AVAILABILITY_TIMER_INTERVAL_S": "0.3",
    }
    log = tmp / "worker.log"
    with worker_process(settings, log, **env) as proc:
        h = Hub(settings, names, codec, producer, f"http://127.0.0.1:{port}", tokens)

        wait_serving(
            proc,
            log,
            lambda: h.get("/availability/shifts").status_code == 200,
            timeout=60,
            what="worker web server and availability read model",
        )
        try:
            yield h
        finally:
            producer.close()


def test_posted_shift_appears_on_the_compacted_view_readable_by_kafkas_console_consumer(hub: Hub) -> None:
    sid = hub.shift("RCU")
    (view,) = hub.views(sid)
    assert (view["status"], view["open"], view["tier"], view["revision"]) == ("POSTED", True, "OWN_BANK", 1)
    assert view["visible_to"] == ["RCU"] and view["next_release_at"] is not None  # 48 h away
    admin = KafkaAdminClient(bootstrap_servers=hub.bootstrap)
    try:
        res = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, hub.names.availability_view)])
    finally:
        admin.close()
    assert "'cleanup.policy'" in repr(res) and "'compact'" in repr(res), res  # {type: {name: {key: {data}}}}
    # check=False: it exits 1 when --timeout-ms ends the read
    stdout = console_consume_one(hub.bootstrap, hub.names.availability_view, check=False)
    line = next(ln for ln in stdout.splitlines() if f"\t{sid}\t" in ln)
    assert "ce_type:rosterhub.view.v1.ShiftAvailability" in line and "ce_source:/rosterhub/availability" in line


def test_cascade_timer_releases_without_any_other_event(hub: Hub) -> None:
    sid = hub.shift("RHQ")

    def released() -> list[Envelope] | None:
        recs = read_topic(hub.bootstrap, hub.names.events("shift"), at_least=0, timeout=1)
        envs = [decode_record(r.value, r.headers, hub.codec) for r in recs if r.key == sid.encode()]
        mine = [e for e in envs if e.type.endswith("ShiftReleased")]
        return mine if len(mine) >= 2 else None

    first, second = wait_for(released, timeout=30, interval=0.5, what="two automatic releases")
    assert first.source == "/rosterhub/availability" and first.data["automatic"] is True
    assert [(e.data["from_tier"], e.data["to_tier"], e.data["version"]) for e in (first, second)] == [
        ("OWN_BANK", "COLLABORATIVE_BANK", 2),
        ("COLLABORATIVE_BANK", "AGENCY_TIER_1", 3),
    ]
    assert second.data["price_cap_rate"] == Decimal("23.76")  # RHQ's BAND_5 basic pay + 55 %
    last = wait_for(
        lambda: (v := hub.views(sid, 3)[-1])["tier"] == "AGENCY_TIER_1" and v, timeout=20, what="view at AGENCY_TIER_1"
    )
    assert (last["status"], last["agency_visible"], last["visible_to"]) == ("RELEASED", True, ["RCU", "RFR", "RHQ"])
    api = wait_for(
        lambda: (r := hub.get(f"/availability/shifts/{sid}", trust="RHQ").json())["tier"] == "AGENCY_TIER_1" and r,
        timeout=20,
        what="HTTP view at AGENCY_TIER_1",
    )
    assert api["revision"] == last["revision"] and api["next_release_at"] is None


def test_replayed_older_version_leaves_the_view_unchanged(hub: Hub) -> None:
    sid = hub.shift("RCU", ward="Ward A")
    hub.shift("RCU", 2, ward="Ward B", shift_id=sid, kind="ShiftUpdated")
    hub.views(sid, 2)
    hub.shift("RCU", 1, ward="Ward OLD", shift_id=sid)  # a replayed ShiftPosted v1 (new event id)
    hub.shift("RCU", 3, ward="Ward C", shift_id=sid, kind="ShiftUpdated")  # then a newer one, same partition
    views = hub.views(sid, 3)
    assert [(v["revision"], v["version"], v["ward"]) for v in views] == [
        (1, 1, "Ward A"),
        (2, 2, "Ward B"),
        (3, 3, "Ward C"),
    ]


def test_open_shifts_for_workers_and_a_hub_confirmation_fills_the_shift(hub: Hub) -> None:
    now = datetime.now(UTC)
    cleared = f"p-{uuid.uuid4().hex[:8]}"
    for env in nurse_passport(cleared, "RCU", now):
        hub.send(hub.names.passport_in, env, cleared)
    sid = hub.shift("RCU", ward="Ward Q")
    hub.views(sid)

    def listed(person: str, home: str) -> dict:
        r = hub.get(
            f"/availability/workers/{person}/shifts",
            params={**NURSE, "home_trust": home, "trust": "RCU"},
        )
        assert r.status_code == 200, r.text
        return r.json()

    mine = wait_for(
        lambda: (b := listed(cleared, "RCU")) and sid in [s["shift_id"] for s in b["shifts"]] and b,
        timeout=30,
        what="the shift in the cleared worker's list",
    )
    shown = next(s for s in mine["shifts"] if s["shift_id"] == sid)
    assert (shown["ward"], shown["status"], shown["visible_to"]) == ("Ward Q", "POSTED", ["RCU"])
    other_trust = listed(cleared, "RHQ")  # cleared, but RCU's own bank still holds the shift
    assert sid not in [s["shift_id"] for s in other_trust["shifts"]]
    assert other_trust["excluded"].get("NOT_RELEASED_TO_COLLABORATIVE", 0) >= 1
    uncleared = listed(f"p-{uuid.uuid4().hex[:8]}", "RCU")  # no passport at all
    assert sid not in [s["shift_id"] for s in uncleared["shifts"]]
    assert uncleared["excluded"].get("PASSPORT_NOT_CLEARED", 0) >= 1

    def open_ids() -> list[str]:
        listing = hub.get("/availability/shifts", params={"trust": "RCU"}).json()
        return [s["shift_id"] for s in listing["shifts"]]

    assert sid in open_ids()
    # RCU's own bank holds it: RHQ neither lists it nor reads it
    assert sid not in [s["shift_id"] for s in hub.get("/availability/shifts", trust="RHQ").json()["shifts"]]
    assert hub.get(f"/availability/shifts/{sid}", trust="RHQ").status_code == 403
    worker = {"person_id": cleared, "identifiers": [], "display_name": None}
    start = datetime.fromisoformat(shown["start"])
    confirmed = Envelope(
        "rosterhub.booking.v1.BookingConfirmed",
        "/rosterhub/booking",
        {
            "booking_id": f"patchwork:RCU:{uuid.uuid4().hex[:6]}",
            "shift_id": sid,
            "worker": worker,
            "host_trust": {"ods_code": "RCU", "name": None},
            "start": start,
            "end": start + timedelta(hours=12),
            "rule_results": [],
            "decided_at": now,
            "vendor": "patchwork",
        },
    )
    hub.send(hub.names.events("booking"), confirmed, sid)
    filled = hub.views(sid, 2)[-1]
    assert (filled["status"], filled["open"], filled["filled_via"]) == ("FILLED", False, "patchwork")
    assert filled["filled_by"]["person_id"] == cleared and filled["visible_to"] == []
    wait_for(lambda: sid not in open_ids(), timeout=20, what="the filled shift gone from the open list")
    assert sid not in [s["shift_id"] for s in listed(cleared, "RCU")["shifts"]]
    # the host reads who filled it, and that read of a worker is audited under the token's trust and subject
    one = wait_for(lambda: (r := hub.get(f"/availability/shifts/{sid}").json()).get("filled_by") and r, timeout=20)
    assert one["filled_by"]["person_id"] == cleared
    audit = [json.loads(r.value) for r in read_topic(hub.bootstrap, hub.names.audit, at_least=1)]
    reads = [(a["resource"], a["trust"], a["user"]) for a in audit if a["person"] == cleared]
    assert ("shift", "RCU", "bank-office-1") in reads and ("availability", "RCU", "bank-office-1") in reads
