"""The passport step, broker-free: idempotent state changes, expiry notices once per threshold, revocation
propagated to the trusts that relied on the credential, merges and splits, and the timer's schedule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from rosterhub.envelope import Envelope
from rosterhub.streams.passport.decide import step, tick
from rosterhub.streams.passport.expiry import DAY_MS, next_due
from rosterhub.streams.passport.policy import load_policies
from rosterhub.streams.passport.state import Passport, apply, to_ms
from rosterhub.streams.schedule import Schedule
from tests.unit.streams.passport_builders import POLICIES, cred_id, issued, nurse_passport, revoked, verified

NOW = datetime(2026, 6, 1, 9, tzinfo=UTC)
P = "p-1"
POL = load_policies([POLICIES])
THRESHOLDS = (30, 7)
DBS = cred_id("RHQ", "DBS", None)
FIRE = cred_id("RHQ", "CSTF_TRAINING", "FIRE_SAFETY")


def fire_training(issued_at: datetime, expires: datetime) -> Envelope:
    """RHQ's fire-safety training (CSTF level 1) for P, issued at ``issued_at``, expiring at ``expires``."""
    return issued(P, FIRE, "CSTF_TRAINING", "RHQ", issued_at, expires, subject="FIRE_SAFETY", level=1)


def run(events: list[Envelope], passport: Passport | None = None, now: datetime = NOW) -> tuple[Passport | None, list]:
    out = []
    for env in events:
        result = step(passport, env, person=P, policies=POL, thresholds=THRESHOLDS, now=now)
        passport = result.passport
        out += result.outputs
    return passport, out


def kinds(out: list[Envelope]) -> list[str]:
    return [e.type.rsplit(".", 1)[-1] for e in out]


def test_every_change_is_one_passport_update_and_redelivery_changes_nothing() -> None:
    events = nurse_passport(P, "RHQ", NOW)
    passport, out = run(events)
    assert passport is not None and passport.version == len(events) == len(out)
    assert set(kinds(out)) == {"PassportUpdated"} and len({e.id for e in out}) == len(out)
    again, more = run(events, passport)  # at-least-once: the same events again
    assert again == passport and more == []
    older = issued(P, DBS, "DBS", "RHQ", NOW - timedelta(days=400), attrs={"dbs_level": "BASIC"})
    late, nothing = run([older], passport)  # an older issue arriving late
    assert late == passport and nothing == []


def test_state_survives_the_table_round_trip() -> None:
    passport, _ = run([*nurse_passport(P, "RHQ", NOW), revoked(P, DBS, "DBS", "RHQ", NOW)])
    assert passport is not None
    assert Passport.from_table(passport.to_table()) == passport
    assert Passport.from_table(None) is None


def test_revocation_reaches_every_trust_that_relied_on_it_and_only_those() -> None:
    passport, _ = run(nurse_passport(P, "RHQ", NOW))
    _, out = run([revoked(P, DBS, "DBS", "RHQ", NOW, "SuspectNoLongerValid")], passport)
    assert kinds(out) == ["PassportUpdated", "ClearanceChanged", "ClearanceChanged"]
    changed = {e.data["trust"]["ods_code"]: e.data for e in out[1:]}
    assert set(changed) == {"RHQ", "RCU"}  # RFR never accepted RHQ's DBS
    assert changed["RCU"]["accepted_under"] == "SYB-MOU-2025-01" and changed["RHQ"]["accepted_under"] == "own"
    assert {d["revocation_reason"] for d in changed.values()} == {"SuspectNoLongerValid"}
    assert out[0].data["status"] == "REVOKED" and out[0].data["change"] == "REVOKED"


def test_reissue_after_revocation_restores_the_credential() -> None:
    passport, _ = run([*nurse_passport(P, "RHQ", NOW), revoked(P, DBS, "DBS", "RHQ", NOW - timedelta(days=1))])
    assert passport is not None and passport.credentials[DBS].revoked is not None
    again, _ = run([issued(P, DBS, "DBS", "RHQ", NOW, attrs={"dbs_level": "ENHANCED"})], passport)
    assert again is not None and again.credentials[DBS].revoked is None


def test_expiring_once_per_threshold_and_expired_once_by_the_timer() -> None:
    expires = NOW + timedelta(days=40)
    passport, out = run([fire_training(NOW - timedelta(days=300), expires)])
    assert kinds(out) == ["PassportUpdated"]
    assert passport is not None and next_due(passport, THRESHOLDS) == to_ms(expires) - 30 * DAY_MS
    seen: list[Envelope] = []
    for day in range(0, 45):  # the timer ticks daily (and twice a day: duplicates must not matter)
        for hour in (0, 12):
            at = NOW + timedelta(days=day, hours=hour)
            result = tick(passport, policies=POL, thresholds=THRESHOLDS, now=at)
            passport = result.passport
            seen += result.outputs
    assert kinds(seen) == [
        "CredentialExpiring",
        "CredentialExpiring",
        "CredentialExpired",
        "PassportUpdated",
        "ClearanceChanged",
        "ClearanceChanged",
        "ClearanceChanged",
    ]
    assert [e.data["days_ahead"] for e in seen[:2]] == [30, 7]
    assert seen[2].data["expired_at"] == expires and seen[2].source == "/rosterhub/passport"
    assert {e.data["trust"]["ods_code"] for e in seen[4:]} == {"RHQ", "RCU", "RFR"}
    assert passport is not None and next_due(passport, THRESHOLDS) is None


def test_a_credential_issued_close_to_expiry_gets_only_the_tightest_notice_and_renewal_starts_afresh() -> None:
    passport, out = run([fire_training(NOW - timedelta(days=300), NOW + timedelta(days=5))])
    assert kinds(out) == ["PassportUpdated", "CredentialExpiring"] and out[1].data["days_ahead"] == 7
    _renewed, out = run([fire_training(NOW, NOW + timedelta(days=20))], passport)
    assert kinds(out) == ["PassportUpdated", "CredentialExpiring"] and out[1].data["days_ahead"] == 30


def test_our_own_expiry_looping_back_and_foreign_domains_are_ignored() -> None:
    passport, _ = run([fire_training(NOW - timedelta(days=300), NOW + timedelta(days=1))])
    result = tick(passport, policies=POL, thresholds=THRESHOLDS, now=NOW + timedelta(days=2))
    expired = next(e for e in result.outputs if e.type.endswith("CredentialExpired"))
    assert run([expired], result.passport) == (result.passport, [])
    other = Envelope(type="rosterhub.shift.v1.ShiftPosted", source="/x", data={})
    assert run([other], result.passport) == (result.passport, [])


def test_an_issuer_declared_expiry_withdraws_clearance_without_a_second_expired_event() -> None:
    passport, _ = run(nurse_passport(P, "RHQ", NOW))
    declared = Envelope(
        type="rosterhub.credential.v1.CredentialExpired",
        source="/vendors/esr/RHQ",
        data={
            "credential_id": DBS,
            "person_id": P,
            "worker": {"person_id": P, "identifiers": [], "display_name": None},
            "credential_type": "DBS",
            "issuer": {"ods_code": "RHQ", "name": None},
            "cstf_subject": None,
            "level": None,
            "expired_at": NOW,
            "detected_at": NOW,
        },
    )
    after, out = run([declared], passport)
    assert kinds(out) == ["PassportUpdated", "ClearanceChanged", "ClearanceChanged"]
    later = tick(after, policies=POL, thresholds=THRESHOLDS, now=NOW + timedelta(days=400)).outputs
    assert later and not [e for e in later if e.data.get("credential_id") == DBS]  # the others expire; DBS is done


def test_merge_drops_the_merged_away_key_and_split_drops_the_credentials_that_left() -> None:
    passport, _ = run(nurse_passport(P, "RHQ", NOW))
    merged = Envelope(
        type="rosterhub.identity.v1.PersonsMerged",
        source="/rosterhub/identity",
        data={"person_id": "p-survivor", "merged_person_id": P},
    )
    result = step(passport, merged, person=P, policies=POL, thresholds=THRESHOLDS, now=NOW)
    assert result.delete and result.passport is None
    survivor = step(passport, merged, person="p-survivor", policies=POL, thresholds=THRESHOLDS, now=NOW)
    assert not survivor.delete and survivor.passport == passport
    split = Envelope(
        type="rosterhub.identity.v1.PersonSplit",
        source="/rosterhub/identity",
        data={"person_id": P, "new_person_id": "p-new", "credential_ids": [DBS]},
    )
    after = step(passport, split, person=P, policies=POL, thresholds=THRESHOLDS, now=NOW).passport
    assert after is not None and DBS not in after.credentials and len(after.credentials) == 9


def test_verification_keeps_the_latest_per_verifier() -> None:
    passport, _ = run(nurse_passport(P, "RHQ", NOW))
    later = verified(P, DBS, "DBS", "RHQ", NOW + timedelta(days=1), "REQ_REVALID")
    earlier = verified(P, DBS, "DBS", "RHQ", NOW - timedelta(days=100), "VALIDATED")
    p2, _ = run([later, earlier], passport)
    assert p2 is not None and [v.status for v in p2.credentials[DBS].verifications] == ["REQ_REVALID"]
    p3 = apply(p2, verified(P, DBS, "DBS", "RCU", NOW), person=P, now=NOW)
    assert p3 is not None and [v.verifier for v in p3.credentials[DBS].verifications] == ["RCU", "RHQ"]


def test_schedule_pops_each_due_person_once_and_keeps_updates_made_during_a_rebuild() -> None:
    s = Schedule(horizon_ms=1000)
    s.rebuild([("a", 100), ("b", 5000), ("c", None)], now_ms=0)  # b is beyond the horizon
    assert len(s) == 1 and not s.stale
    s.set("d", 50)
    s.set("a", 200)  # moved later: the old heap entry is ignored
    assert s.pop_due(150) == ["d"] and s.pop_due(250) == ["a"] and s.pop_due(10_000) == []
    s.begin_rebuild()
    s.set("e", 10)  # the agent writes while the timer scans the table
    s.rebuild([("e", 900)], now_ms=0)
    assert s.pop_due(20) == ["e"]
    s.invalidate()
    assert s.stale
