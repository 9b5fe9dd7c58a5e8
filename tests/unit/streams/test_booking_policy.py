"""Booking policy files: the shipped ones load and merge; a bad file stops start-up naming file and key."""

from pathlib import Path

import pytest

from rosterhub.errors import ConfigError
from rosterhub.events.models.common import StaffGroup
from rosterhub.streams.booking.policy import load_booking_policies
from rosterhub.streams.booking.rules import rule_ids

ROOT = Path(__file__).resolve().parents[3]
SHIPPED = ROOT / "policies" / "booking"

COLLABORATIVE = """\
kind: collaborative
id: syb
members: [RHQ, RCU]
working_time: {reference_weeks: 17, daily_rest_hours: 11}
agency:
  rate_card: {BAND_5: 15.33}
  tiers: {a1: 1}
"""


def test_the_shipped_policies_load_and_merge() -> None:
    policies = load_booking_policies([SHIPPED])
    assert set(policies.trusts) == {"RHQ", "RCU", "RFR"}
    rhq, rcu, rfr = policies.get("RHQ"), policies.get("RCU"), policies.get("RFR")
    assert rhq.members == ("RHQ", "RCU", "RFR") and rhq.collaborative == "south-yorkshire-bassetlaw"
    nursing = StaffGroup.NURSING_MIDWIFERY_REGISTERED
    assert rhq.grades.tolerance(nursing).up == 1  # RHQ's own key...
    assert rhq.grades.tolerance(StaffGroup.MEDICAL_DENTAL).down == 1  # ...next to the collaborative's
    assert rcu.grades.tolerance(StaffGroup.MEDICAL_DENTAL).down == 0
    assert (rcu.agency.break_glass_allowed, rhq.agency.break_glass_allowed) == (False, True)
    assert rcu.junior_doctors.weekends.in_ == 3
    assert (rfr.working_time.reference_weeks, rhq.working_time.reference_weeks) == (26, 17)
    assert rfr.agency.tiers == {} and rfr.agency.default_tier == 2  # an empty mapping replaces
    assert str(rhq.agency.cap("BAND_5")) == "23.76"
    assert all(p.enabled(r) for p in policies.trusts.values() for r in rule_ids())
    assert len({p.fingerprint for p in policies.trusts.values()}) == 3


def write(tmp_path: Path, trust: str, collaborative: str = COLLABORATIVE) -> Path:
    (tmp_path / "collaborative.yaml").write_text(collaborative, encoding="utf-8")
    (tmp_path / "RHQ.yaml").write_text(trust, encoding="utf-8")
    return tmp_path


def test_a_trust_overrides_one_nested_key(tmp_path) -> None:
    folder = write(tmp_path, "kind: trust\ntrust: RHQ\nextends: syb\nworking_time: {reference_weeks: 26}\n")
    rhq = load_booking_policies([folder]).get("RHQ")
    assert (rhq.working_time.reference_weeks, rhq.working_time.daily_rest_hours) == (26, 11)
    assert rhq.agency.tiers == {"a1": 1}


BAD_TRUST_FILES = [
    ("typo in a section", "working_tme: {reference_weeks: 26}", "working_tme", "Extra inputs"),
    ("unknown grade in the rate card", "agency: {rate_card: {BAND_55: 20}}", "agency.rate_card", "unknown grade"),
    ("negative pay", "agency: {rate_card: {BAND_5: -1}}", "agency.rate_card", "must be positive"),
    ("unknown rule", "rules: {no_overlaps: false}", "rules", "unknown rule"),
    ("shift_open switched off", "rules: {shift_open: false}", "rules", "cannot be disabled"),
    ("unquoted time", "night: {start: 23:00, end: '06:00'}", "night.start", "write times quoted"),
    ("night time missing 00:00-05:00", "night: {start: '01:00', end: '08:00'}", "night", "midnight to 05:00"),
    (
        "fortnights from a Tuesday",
        "working_time: {fortnight_anchor: 2024-01-02}",
        "working_time.fortnight_anchor",
        "not a Monday",
    ),
    (
        "weekend limit that never applies",
        "junior_doctors: {weekends: {max: 2, in: 2}}",
        "junior_doctors.weekends",
        "must be smaller",
    ),
    ("agency tier 4", "agency: {tiers: {a2: 4}}", "agency.tiers", "1, 2 or 3"),
    ("grade tolerance of 3", "grades: {default: {up: 3}}", "grades.default.up", "less than or equal to 2"),
    (
        "unknown staff group",
        "grades: {staff_groups: {NURSES: {up: 1}}}",
        "grades.staff_groups.NURSES",
        "Input should be",
    ),
    ("local grade mapped to a local grade", "grades: {local: {X-RHQ-A: X-RHQ-B}}", "grades.local", "national grade"),
    ("unknown collaborative", "extends: other", "extends", "unknown collaborative"),
]


@pytest.mark.parametrize(
    ("extra", "key", "message"), [c[1:] for c in BAD_TRUST_FILES], ids=[c[0] for c in BAD_TRUST_FILES]
)
def test_a_bad_trust_file_names_file_and_key(tmp_path, extra, key, message) -> None:
    head = "kind: trust\ntrust: RHQ\n" + ("" if extra.startswith("extends") else "extends: syb\n")
    folder = write(tmp_path, head + extra + "\n")
    with pytest.raises(ConfigError) as err:
        load_booking_policies([folder])
    assert err.value.context["file"].startswith(str(folder / "RHQ.yaml"))
    assert err.value.context.get("key") == key
    assert message in str(err.value)


def test_a_bad_collaborative_file_is_named(tmp_path) -> None:
    folder = write(tmp_path, "kind: trust\ntrust: RHQ\nextends: syb\n", COLLABORATIVE + "members: [rhq]\n")
    with pytest.raises(ConfigError) as err:
        load_booking_policies([folder])
    assert err.value.context["file"] == str(folder / "collaborative.yaml") and err.value.context["key"] == "members"


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({"RHQ.yaml": "kind: trust\ntrust: RFR\nextends: syb\n"}, "RFR is not listed in members of syb"),
        (
            {"RHQ.yaml": "kind: trust\ntrust: RHQ\n", "RHQ2.yaml": "kind: trust\ntrust: RHQ\n"},
            "two booking policy files",
        ),
        ({"RHQ.yaml": "- just\n- a list\n"}, "a booking policy file is a mapping"),
        ({"RHQ.yaml": "kind: trust\ntrust: [RHQ\n"}, "cannot read booking policy file"),
        ({"RHQ.yaml": "kind: trust\ntrust: rhq\n"}, "trust must be an ODS code"),
        ({"c2.yaml": COLLABORATIVE}, "two files for collaborative syb"),
    ],
)
def test_file_set_errors(tmp_path, files, message) -> None:
    (tmp_path / "collaborative.yaml").write_text(COLLABORATIVE, encoding="utf-8")
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        load_booking_policies([tmp_path])


def test_a_trust_without_a_collaborative_gets_the_national_defaults(tmp_path) -> None:
    (tmp_path / "RXX.yaml").write_text("kind: trust\ntrust: RXX\n", encoding="utf-8")
    rxx = load_booking_policies([tmp_path / "RXX.yaml"]).get("RXX")
    assert rxx.members == () and rxx.collaborative is None
    assert (rxx.working_time.average_weekly_hours, rxx.junior_doctors.max_hours_in_7_days) == (48, 72)
    assert rxx.agency.cap_uplift_percent == 55 and rxx.moonlighting.ban is False
