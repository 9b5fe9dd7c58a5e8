"""Issue 6's "done when", end to end on the real broker: identity resolution and the passport in one worker.

Connector-shaped canonical events go to events.worker and events.credential (credentials
carry LOCAL ids, as the ESR mapping emits them); the worker forwards them to identity-in,
resolves people, re-keys credentials onto passport-in, and the passport answers clearance
over HTTP. Trusts: A = RHQ (issuer), B = RCU (accepts RHQ's checks), C = RFR (training only).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from rosterhub.envelope import Envelope
from rosterhub.runtime import Encoder
from rosterhub.settings import Settings
from tests.integration.helpers import wait_for
from tests.integration.test_passport import PassportHub
from tests.unit.streams.identity_harness import match_key, worker
from tests.unit.streams.passport_builders import (
    cred_id,
    issued,
    passport_with_fire_safety_expiring,
    revoked,
)

pytestmark = pytest.mark.integration

PIN = "71A2998E"
AT_A = "esr:RHQ:20311457"  # ESR at trust A
AT_B = "healthroster:RCU:HR-004512"  # HealthRoster at trust B
FIRE = cred_id("RHQ", "CSTF_TRAINING", "FIRE_SAFETY")


class EndToEnd(PassportHub):
    def publish(self, *envs: Envelope) -> None:
        """As a connector: each event to its events.<domain> topic, keyed by its schema's key (local ids)."""
        encoder = Encoder(self.codec, self.names, self.catalogue)
        for env in envs:
            rec = encoder.encode(env)
            self.producer.send(rec.topic, key=rec.key, value=rec.value, headers=rec.headers)
        self.producer.flush()


@pytest.fixture
def e2e(hub_settings: Settings, tmp_path: Path) -> Iterator[EndToEnd]:
    with closing(EndToEnd(hub_settings, tmp_path)) as h:
        yield h


def test_done_when_one_person_partner_checks_expiry_revocation_and_conflict(e2e: EndToEnd) -> None:
    with e2e.worker() as url:
        now = datetime.now(UTC)
        expires = (now + timedelta(seconds=30)).replace(microsecond=0)
        creds = passport_with_fire_safety_expiring(AT_A, "RHQ", now, expires)
        # credentials first (parked until their worker is known), then the two platforms' records
        e2e.publish(*creds)
        e2e.publish(worker(AT_A, nmc=PIN, mk=match_key("nurse")), worker(AT_B, nmc=PIN))
        # a third record: the PIN of this nurse, the match key of somebody else -> raised, not merged
        e2e.publish(worker("esr:RFR:88", mk=match_key("someone else")))
        e2e.publish(worker("locums_nest:RFR:LN-7", nmc=PIN, mk=match_key("someone else")))

        def identity() -> list[Envelope] | None:
            got = e2e.events(e2e.names.events("identity"))
            return got if sum(e.type.endswith("IdentityConflict") for e in got) else None

        events = wait_for(identity, timeout=90, what="identity events with a conflict")
        links = {e.data["worker_id"]: e.data["person_id"] for e in events if e.type.endswith("PersonLinked")}
        person = links[AT_A]
        assert links[AT_B] == person  # registered in two platforms at two trusts: one person
        [conflict] = [e for e in events if e.type.endswith("IdentityConflict")]
        assert conflict.data["kind"] == "MATCH_KEY_DISAGREES" and links["esr:RFR:88"] != person
        assert not [e for e in events if e.type.endswith("PersonsMerged")]

        start, end = expires - timedelta(hours=12), expires - timedelta(seconds=1)
        at_b = wait_for(
            lambda: (c := e2e.clearance(url, person, "RCU", start, end))["cleared"] and c,
            timeout=60,
            what="A's checks clearing the nurse at B",
        )
        dbs = next(r for r in at_b["requirements"] if r["requirement"].startswith("DBS"))
        assert dbs["candidates"][0]["accepted_under"] == "SYB-MOU-2025-01"
        at_c = e2e.clearance(url, person, "RFR", start, end)
        assert not at_c["cleared"]
        assert {r["requirement"].split(":")[0] for r in at_c["requirements"] if not r["met"]} >= {"DBS", "IDENTITY"}

        # training expiry flips clearance at the instant, and the timer emits the events once
        assert e2e.clearance(url, person, "RHQ", start, expires)["reasons"] == ["EXPIRES_DURING_SHIFT"]
        assert e2e.clearance(url, person, "RHQ", expires, expires + timedelta(hours=8))["reasons"] == ["EXPIRED"]

        def expired() -> list[Envelope] | None:
            got = [e for e in e2e.events(e2e.names.events("passport")) if e.type.endswith("CredentialExpired")]
            return got or None

        [exp] = wait_for(expired, timeout=90, what="CredentialExpired from the passport's timer")
        assert exp.data["person_id"] == person and exp.data["expired_at"] == expires

        # a revocation at A (published with A's local id) ends B's clearance, through identity resolution
        later = (datetime.now(UTC) + timedelta(days=3)).replace(microsecond=0)
        shift = (later, later + timedelta(hours=12))
        renewed = issued(
            AT_A, FIRE, "CSTF_TRAINING", "RHQ", now, now + timedelta(days=365), subject="FIRE_SAFETY", level=1
        )
        e2e.publish(renewed)
        wait_for(lambda: e2e.clearance(url, person, "RCU", *shift)["cleared"], what="cleared again after renewal")
        e2e.publish(revoked(AT_A, cred_id("RHQ", "DBS", None), "DBS", "RHQ", datetime.now(UTC), "SuspectNoLongerValid"))
        answer = wait_for(
            lambda: (c := e2e.clearance(url, person, "RCU", *shift))["reasons"] and c,
            timeout=90,
            what="the revocation at A (published with A's local id) reaching B's clearance",
        )
        assert not answer["cleared"] and answer["reasons"] == ["REVOKED"]  # latency: bench/passport_latency.py

    passport = e2e.events(e2e.names.events("passport"))
    kinds = Counter(e.type.rsplit(".", 1)[-1] for e in passport if e.data.get("credential_id") == FIRE)
    assert kinds["CredentialExpired"] == 1 and kinds["CredentialExpiring"] <= 1
    assert max(Counter(e.id for e in passport).values()) == 1
    assert max(Counter(e.id for e in e2e.events(e2e.names.events("identity"))).values()) == 1
