"""Release cascade configuration: the shipped files load, and mistakes name the file and the key."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from rosterhub.errors import ConfigError
from rosterhub.streams.availability.policy import load_availability_policy, parse_duration
from rosterhub.streams.booking.policy import load_booking_policies

REPO = Path(__file__).resolve().parents[3]
BOOKING = load_booking_policies([REPO / "policies" / "booking"])


def test_shipped_cascade_applies_to_every_member_and_a_trust_may_replace_it() -> None:
    policy = load_availability_policy([REPO / "policies" / "availability"], BOOKING)
    assert set(policy.cascades) == {"RHQ", "RCU", "RFR"}
    assert [s.to for s in policy.cascade("RHQ")][-1] == "AGENCY_TIER_3"
    assert [s.to for s in policy.cascade("RCU")][-1] == "AGENCY_TIER_2"
    assert policy.cascade("RHQ")[0].after == timedelta(hours=48)
    assert policy.members("RHQ") == ("RCU", "RFR", "RHQ") and policy.cascade("XYZ") == ()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("48h", timedelta(hours=48)),
        ("90m", timedelta(minutes=90)),
        ("2d", timedelta(days=2)),
        ("1h30m", timedelta(minutes=90)),
        ("0.5s", timedelta(seconds=0.5)),
    ],
)
def test_durations(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    ("body", "key", "message"),
    [
        (
            "collaborative: south-yorkshire-bassetlaw\ncascade:\n  - {to: AGENCY_TIER_1, after: 48}\n",
            "cascade.0.after",
            "write a unit",
        ),
        (
            "collaborative: south-yorkshire-bassetlaw\ncascade:\n  - {to: AGENCY_TIER_1, after: 2 days}\n",
            "cascade.0.after",
            "not a duration",
        ),
        (
            "collaborative: south-yorkshire-bassetlaw\ncascade:\n  - {to: COLLABORATIVE_BANK}\n",
            "cascade.0",
            "needs after, within or both",
        ),
        (
            "collaborative: south-yorkshire-bassetlaw\ncascade:\n  - {to: AGENCY_TIER_1, after: 1h}\n"
            "  - {to: COLLABORATIVE_BANK, after: 1h}\n",
            "cascade",
            "strictly wider tiers",
        ),
        (
            "collaborative: south-yorkshire-bassetlaw\ncascade:\n  - {to: AGENCY_TIER_9, after: 1h}\n",
            "cascade.0.to",
            "AGENCY_TIER_1",
        ),
        ("collaborative: south-yorkshire-bassetlaw\ntrusts:\n  rhq: {cascade: []}\n", "trusts", "ODS code"),
        ("collaborative: south-yorkshire-bassetlaw\ncascades: []\n", "cascades", "Extra inputs"),
    ],
)
def test_errors_name_file_and_key(tmp_path: Path, body: str, key: str, message: str) -> None:
    f = tmp_path / "syb.yaml"
    f.write_text(body)
    with pytest.raises(ConfigError, match=message) as info:
        load_availability_policy([tmp_path], BOOKING)
    assert info.value.context["file"] == str(f) and info.value.context["key"] == key


def test_two_files_for_one_collaborative_are_refused(tmp_path: Path) -> None:
    for name in ("a.yaml", "b.yaml"):
        (tmp_path / name).write_text("collaborative: south-yorkshire-bassetlaw\n")
    with pytest.raises(ConfigError, match="also configured in"):
        load_availability_policy([tmp_path], BOOKING)
