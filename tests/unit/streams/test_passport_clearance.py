"""Clearance as a pure function, table-driven: acceptance per issuer and type, renewal periods from policy,
maximum age, mid-shift expiry, revocation, verification, and the reasons reported."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from rosterhub.streams.passport.clearance import REASONS, clearance
from rosterhub.streams.passport.policy import load_policies
from rosterhub.streams.passport.state import Passport, apply
from tests.unit.streams.passport_builders import POLICIES, cred_id, issued, nurse_passport, revoked, verified

NOW = datetime(2026, 6, 1, 9, tzinfo=UTC)
START, END = datetime(2026, 6, 8, 20, tzinfo=UTC), datetime(2026, 6, 9, 8, tzinfo=UTC)  # a night shift
P = "p-1"
POL = load_policies([POLICIES])


def build(*events) -> Passport:
    passport = None
    for env in events:
        passport = apply(passport, env, person=P, now=NOW)
    assert passport is not None
    return passport


def nurse(issuer: str = "RHQ", **kw) -> list:
    return nurse_passport(P, issuer, NOW, **kw)


def check(
    passport: Passport | None,
    trust: str,
    *,
    group: str = "NURSING_MIDWIFERY_REGISTERED",
    grade: str = "BAND_5",
    start: datetime = START,
    end: datetime = END,
):
    return clearance(passport, POL.trusts[trust], staff_group=group, grade=grade, start=start, end=end, person=P)


def unmet(result) -> dict[str, str]:
    return {r.requirement: r.reason for r in result.unmet}


def without(events: list, cid: str) -> list:
    return [e for e in events if e.data["credential_id"] != cid]


DBS = cred_id("RHQ", "DBS", None)
FIRE = cred_id("RHQ", "CSTF_TRAINING", "FIRE_SAFETY")


@pytest.mark.parametrize(
    ("issuer", "trust", "cleared", "reasons"),
    [
        ("RHQ", "RHQ", True, ()),  # own checks
        ("RHQ", "RCU", True, ()),  # B accepts A's DBS and the rest under SYB-MOU-2025-01
        ("RHQ", "RFR", False, ("ISSUER_NOT_ACCEPTED",)),  # C accepts A's training only
        ("RCU", "RHQ", True, ()),
        ("RCU", "RFR", False, ("ISSUER_NOT_ACCEPTED",)),
    ],
)
def test_acceptance_of_partners_checks(issuer: str, trust: str, cleared: bool, reasons: tuple) -> None:
    result = check(build(*nurse(issuer)), trust)
    assert (result.cleared, result.reasons) == (cleared, reasons)


def test_c_refuses_exactly_the_checks_it_has_no_agreement_for_and_accepts_the_training() -> None:
    result = check(build(*nurse("RHQ")), "RFR")
    assert set(unmet(result)) == {
        "IDENTITY",
        "RIGHT_TO_WORK",
        "PROFESSIONAL_REGISTRATION:register=NMC",
        "DBS:dbs_level=ENHANCED|ENHANCED_BARRED",
        "OCCUPATIONAL_HEALTH:oh_item=FIT_TO_WORK",
    }
    fire = next(r for r in result.requirements if r.requirement == "CSTF_TRAINING:FIRE_SAFETY")
    assert fire.met and fire.used is not None and fire.used.accepted_under == "SYB-TRAINING-2025-02"


# (name, how to change the nurse's DBS, trust, expected reason of the DBS requirement)
DBS_CASES = [
    ("missing", lambda evs: without(evs, DBS), "RHQ", "MISSING"),
    ("revoked", lambda evs: [*evs, revoked(P, DBS, "DBS", "RHQ", NOW - timedelta(hours=1))], "RCU", "REVOKED"),
    (
        "basic where enhanced needed",
        lambda evs: [
            *without(evs, DBS),
            issued(P, DBS, "DBS", "RHQ", NOW - timedelta(days=10), attrs={"dbs_level": "BASIC"}),
            verified(P, DBS, "DBS", "RHQ", NOW),
        ],
        "RHQ",
        "ATTRIBUTE_MISMATCH",
    ),
    (
        "never verified",
        lambda evs: [e for e in evs if not (e.data["credential_id"] == DBS and "Verified" in e.type)],
        "RHQ",
        "UNVERIFIED",
    ),
    (
        "verification failed",
        lambda evs: [*evs, verified(P, DBS, "DBS", "RCU", NOW, "VAL_FAIL")],
        "RCU",
        "VERIFICATION_FAILED",
    ),
    (
        "a failure by a verifier the trust does not accept is ignored",
        lambda evs: [*evs, verified(P, DBS, "DBS", "RFR", NOW, "VAL_FAIL")],
        "RCU",
        None,
    ),
    (
        "2.5 years old: within the collaborative's 3 years at A",
        lambda evs: nurse_passport(P, "RHQ", NOW, age=timedelta(days=913), expires_in=timedelta(days=900)),
        "RHQ",
        None,
    ),
    (
        "2.5 years old: over B's 2-year limit for partners' DBS",
        lambda evs: nurse_passport(P, "RHQ", NOW, age=timedelta(days=913), expires_in=timedelta(days=900)),
        "RCU",
        "MAX_AGE_EXCEEDED",
    ),
    (
        "recheck overdue",
        lambda evs: [
            *without(evs, DBS),
            issued(P, DBS, "DBS", "RHQ", NOW - timedelta(days=10), attrs={"dbs_level": "ENHANCED"}),
            verified(P, DBS, "DBS", "RHQ", NOW - timedelta(days=40), next_due=NOW - timedelta(days=10)),
        ],
        "RHQ",
        "VERIFICATION_OVERDUE",
    ),
    (
        "issued after the shift starts",
        lambda evs: [
            *without(evs, DBS),
            issued(P, DBS, "DBS", "RHQ", START + timedelta(hours=1), attrs={"dbs_level": "ENHANCED"}),
            verified(P, DBS, "DBS", "RHQ", NOW),
        ],
        "RHQ",
        "NOT_YET_VALID",
    ),
    (
        "only a verification arrived",
        lambda evs: [*without(evs, DBS), verified(P, DBS, "DBS", "RHQ", NOW)],
        "RHQ",
        "NOT_ISSUED",
    ),
]


@pytest.mark.parametrize(("name", "change", "trust", "reason"), DBS_CASES, ids=[c[0] for c in DBS_CASES])
def test_dbs_reasons(name: str, change, trust: str, reason: str | None) -> None:
    result = check(build(*change(nurse())), trust)
    got = unmet(result).get("DBS:dbs_level=ENHANCED|ENHANCED_BARRED")
    assert got == reason, result.as_dict()
    assert result.cleared == (reason is None) or unmet(result).keys() - {"DBS:dbs_level=ENHANCED|ENHANCED_BARRED"}


def _fire(issued_at: datetime, expires: datetime | None) -> list:
    return [
        *without(nurse(), FIRE),
        issued(P, FIRE, "CSTF_TRAINING", "RHQ", issued_at, expires, subject="FIRE_SAFETY", level=1),
    ]


def days(n: int) -> datetime:
    """``n`` days from NOW (negative: before)."""
    return NOW + timedelta(days=n)


FIRE_CASES = [  # (case, issued at, issuer's expiry, trust asking, reason) for the night shift START-END
    ("valid all shift", days(-100), days(300), "RCU", None),
    (
        "expires in the middle of the night shift: must be valid at the end",
        days(-100),
        datetime(2026, 6, 9, 3, tzinfo=UTC),
        "RCU",
        "EXPIRES_DURING_SHIFT",
    ),
    ("expires exactly at the shift end", days(-100), END, "RCU", "EXPIRES_DURING_SHIFT"),
    ("expires a millisecond after the end", days(-100), END + timedelta(milliseconds=1), "RCU", None),
    ("expired before the shift", days(-100), NOW, "RCU", "EXPIRED"),
    # 18 months ago, issuer says 2 years: B's renewal period is 2 years (fine), A's and C's is 1 year
    ("18 months: within B's two-year renewal", days(-548), days(182), "RCU", None),
    ("18 months: past A's one-year renewal", days(-548), days(182), "RHQ", "CSTF_RENEWAL_DUE"),
    ("18 months: past C's one-year renewal", days(-548), days(182), "RFR", "CSTF_RENEWAL_DUE"),
    ("A's renewal falls in the shift", datetime(2025, 6, 9, 2, tzinfo=UTC), None, "RHQ", "EXPIRES_DURING_SHIFT"),
    ("no issuer expiry: renewal period alone", days(-200), None, "RCU", None),
]


@pytest.mark.parametrize(
    ("issued_at", "expires", "trust", "reason"), [c[1:] for c in FIRE_CASES], ids=[c[0] for c in FIRE_CASES]
)
def test_training_validity(issued_at, expires, trust, reason) -> None:
    result = check(build(*_fire(issued_at, expires)), trust)  # the night shift START-END
    fire = next(r for r in result.requirements if r.requirement == "CSTF_TRAINING:FIRE_SAFETY")
    assert fire.reason == reason, fire
    if trust != "RFR":
        assert result.cleared == (reason is None)


def test_renewal_periods_come_from_the_policy_not_the_code(tmp_path: Path) -> None:
    for f in POLICIES.glob("*.yaml"):
        (tmp_path / f.name).write_text(f.read_text().replace("FIRE_SAFETY: P2Y", "FIRE_SAFETY: P6M"))
    changed = load_policies([tmp_path])
    passport = build(*_fire(NOW - timedelta(days=200), None))
    fire = "CSTF_TRAINING:FIRE_SAFETY"
    assert unmet(check(passport, "RCU")).get(fire) is None
    stricter = clearance(
        passport,
        changed.trusts["RCU"],
        staff_group="NURSING_MIDWIFERY_REGISTERED",
        grade="BAND_5",
        start=START,
        end=END,
    )
    assert unmet(stricter)[fire] == "CSTF_RENEWAL_DUE"


def test_levels_and_per_level_renewal() -> None:
    ipc = cred_id("RHQ", "CSTF_TRAINING", "INFECTION_PREVENTION_CONTROL")
    base = without(nurse(), ipc)
    level1 = build(
        *base,
        issued(
            P, ipc, "CSTF_TRAINING", "RHQ", NOW - timedelta(days=30), subject="INFECTION_PREVENTION_CONTROL", level=1
        ),
    )
    assert unmet(check(level1, "RHQ"))["CSTF_TRAINING:INFECTION_PREVENTION_CONTROL@L2"] == "LEVEL_TOO_LOW"
    old_l2 = build(
        *base,
        issued(
            P, ipc, "CSTF_TRAINING", "RHQ", NOW - timedelta(days=400), subject="INFECTION_PREVENTION_CONTROL", level=2
        ),
    )
    assert unmet(check(old_l2, "RHQ"))["CSTF_TRAINING:INFECTION_PREVENTION_CONTROL@L2"] == "CSTF_RENEWAL_DUE"  # L2: P1Y
    level3 = build(
        *base,
        issued(
            P, ipc, "CSTF_TRAINING", "RHQ", NOW - timedelta(days=30), subject="INFECTION_PREVENTION_CONTROL", level=3
        ),
    )
    assert check(level3, "RHQ").cleared  # a higher level counts


def test_the_best_candidate_is_used_and_every_candidate_is_reported() -> None:
    old = cred_id("RHQ", "DBS", "old")
    events = [
        *nurse(),
        issued(P, old, "DBS", "RHQ", NOW - timedelta(days=2000), attrs={"dbs_level": "ENHANCED"}),
        revoked(P, old, "DBS", "RHQ", NOW - timedelta(days=1000)),
    ]
    dbs = next(r for r in check(build(*events), "RCU").requirements if r.requirement.startswith("DBS"))
    assert dbs.met and dbs.used is not None and dbs.used.credential_id == DBS
    assert {c.credential_id: c.reasons for c in dbs.candidates}[old] == ("REVOKED", "MAX_AGE_EXCEEDED", "UNVERIFIED")


def test_requirements_add_up_from_rules_and_unknown_roles_are_refused() -> None:
    passport = build(*nurse())
    assert "CSTF_TRAINING:SAFEGUARDING_CHILDREN" in {r.requirement for r in check(passport, "RCU").requirements}
    assert "CSTF_TRAINING:SAFEGUARDING_CHILDREN" not in {r.requirement for r in check(passport, "RHQ").requirements}
    admin = check(passport, "RHQ", group="ADMIN_CLERICAL", grade="BAND_3")
    assert admin.cleared and len(admin.requirements) == 5
    no_rules = POL.trusts["RHQ"].model_copy(update={"requirements": []})
    refused = clearance(passport, no_rules, staff_group="ADMIN_CLERICAL", grade="BAND_3", start=START, end=END)
    assert (refused.cleared, refused.reasons) == (False, ("NO_RULE_FOR_ROLE",))


def test_empty_passport_lists_every_requirement_as_missing_and_codes_are_documented() -> None:
    result = check(None, "RHQ")
    assert not result.cleared and set(unmet(result).values()) == {"MISSING"} and len(result.unmet) == 9
    docs = (POLICIES.parent / "docs" / "passport.md").read_text()
    assert all(f"`{code}`" in docs for code in REASONS)


def test_valid_until_is_the_earliest_effective_expiry_and_answers_are_json() -> None:
    result = check(build(*_fire(NOW - timedelta(days=100), NOW + timedelta(days=30))), "RCU")
    assert result.cleared and result.valid_until is not None
    assert result.as_dict()["valid_until"] == (NOW + timedelta(days=30)).isoformat().replace("+00:00", "Z")
