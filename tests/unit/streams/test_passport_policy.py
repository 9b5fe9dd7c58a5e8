"""Trust policy files: the shipped examples validate, inheritance works, and mistakes name the file and key."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rosterhub.cli.main import app
from rosterhub.errors import ConfigError
from rosterhub.instants import LONDON
from rosterhub.streams.passport.policy import (
    CREDENTIAL_TYPES,
    STAFF_GROUPS,
    Period,
    add_period,
    load_policies,
    parse_policy_file,
)
from tests.unit.streams.passport_builders import POLICIES, REPO


def test_shipped_policies_load_with_three_trusts_and_their_agreements() -> None:
    policies = load_policies([POLICIES])
    assert sorted(policies.trusts) == ["RCU", "RFR", "RHQ"]
    rhq, rcu, rfr = (policies.trusts[t] for t in ("RHQ", "RCU", "RFR"))
    assert rcu.accepts("RHQ", "DBS").id == "SYB-MOU-2025-01"  # type: ignore[union-attr]
    assert rfr.accepts("RHQ", "DBS") is None and rfr.accepts("RHQ", "CSTF_TRAINING").id == "SYB-TRAINING-2025-02"  # type: ignore[union-attr]
    assert rhq.accepts("RHQ", "DBS") is True and rhq.accepts("RFR", "CSTF_TRAINING") is None
    # inherited from the collaborative, overridden per key
    assert str(rhq.renewal("FIRE_SAFETY", 1)) == "P1Y" and str(rcu.renewal("FIRE_SAFETY", 1)) == "P2Y"
    assert str(rcu.renewal("INFECTION_PREVENTION_CONTROL", 1)) == "P3Y"
    assert str(rcu.renewal("INFECTION_PREVENTION_CONTROL", 2)) == "P1Y"
    assert str(rfr.max_age["DBS"]) == "P1Y" and str(rcu.max_age["DBS"]) == "P3Y"
    assert [r.name for r in rcu.requirements][-1] == "children-safeguarding"
    assert len({p.fingerprint for p in policies.trusts.values()}) == 3
    assert set(policies.vc_issuers()) == {rhq.vc_issuer.id, rcu.vc_issuer.id, rfr.vc_issuer.id}  # type: ignore[union-attr]


def test_enum_symbols_follow_the_avro_schemas() -> None:
    import json

    common = REPO / "schemas" / "avro" / "common"
    assert tuple(json.loads((common / "CredentialType.avsc").read_text())["symbols"]) == CREDENTIAL_TYPES
    assert tuple(json.loads((common / "StaffGroup.avsc").read_text())["symbols"]) == STAFF_GROUPS


@pytest.mark.parametrize(
    ("text", "key", "message"),
    [
        ("kind: trust\ntrust: rhq\n", "trust", "ODS code"),
        ("kind: trust\ntrust: RHQ\ncstf_renewal: {FIRE_SAFETY: 1 year}\n", "cstf_renewal", "ISO 8601"),
        ("kind: trust\ntrust: RHQ\ncstf_renewal: {FIRE_DRILL: P1Y}\n", "cstf_renewal", "unknown CSTF subject"),
        (
            "kind: trust\ntrust: RHQ\nagreements: [{id: M, issuers: [RCU], credential_types: [DBX]}]\n",
            "agreements.0.credential_types",
            "unknown credential type",
        ),
        (
            "kind: trust\ntrust: RHQ\nrequirements: [{name: r, staff_groups: [NURSES], credentials: [{type: DBS}]}]\n",
            "requirements.0.staff_groups",
            "unknown staff group",
        ),
        (
            "kind: trust\ntrust: RHQ\nrequirements: [{name: r, credentials: [{type: CSTF_TRAINING}]}]\n",
            "requirements.0.credentials.0",
            "cstf_subject is required",
        ),
        (
            "kind: trust\ntrust: RHQ\n"
            "requirements: [{name: r, credentials: [{type: DBS, attributes: {level: [X]}}]}]\n",
            "requirements.0.credentials.0.attributes",
            "unknown credential attribute",
        ),
        ("kind: trust\ntrust: RHQ\nmoo: 1\n", "moo", "Extra inputs"),
        ("- just a list\n", None, "a mapping"),
    ],
)
def test_invalid_files_name_the_file_and_key(tmp_path: Path, text: str, key: str | None, message: str) -> None:
    f = tmp_path / "RHQ.yaml"
    f.write_text(text)
    with pytest.raises(ConfigError, match=message) as info:
        parse_policy_file(f)
    assert info.value.context["file"] == str(f)
    if key:
        assert info.value.context["key"] == key


def test_cross_file_mistakes(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("kind: trust\ntrust: RHQ\nextends: nowhere\n")
    with pytest.raises(ConfigError, match="unknown collaborative"):
        load_policies([tmp_path])
    (tmp_path / "a.yaml").write_text("kind: trust\ntrust: RHQ\n")
    (tmp_path / "b.yaml").write_text("kind: trust\ntrust: RHQ\n")
    with pytest.raises(ConfigError, match="two policy files"):
        load_policies([tmp_path])


def test_periods_are_calendar_periods_in_london() -> None:
    leap = datetime(2028, 2, 29, 10, tzinfo=UTC)
    assert add_period(leap, Period.parse("P1Y")).astimezone(LONDON).date().isoformat() == "2029-02-28"
    winter = datetime(2026, 1, 15, 9, tzinfo=UTC)  # 09:00 GMT -> 09:00 BST six months later (08:00 UTC)
    summer = add_period(winter, Period.parse("P6M"))
    assert summer.astimezone(LONDON).hour == 9 and summer.astimezone(UTC).hour == 8
    assert Period.parse("P2W").days == 14 and str(Period.parse("P1Y6M")) == "P1Y6M"
    with pytest.raises(ValueError, match="ISO 8601"):
        Period.parse("P")


def test_cli_policy_check(tmp_path: Path) -> None:
    runner = CliRunner()
    ok = runner.invoke(app, ["passport", "policy-check", str(POLICIES)])
    assert ok.exit_code == 0, ok.output
    assert "RCU" in ok.output and "SYB-MOU-2025-01" in ok.output
    bad = tmp_path / "RXX.yaml"
    bad.write_text("kind: trust\ntrust: RXX\ncstf_renewal: {FIRE_SAFETY: yearly}\n")
    failed = runner.invoke(app, ["passport", "policy-check", str(bad)])
    assert failed.exit_code == 1 and "cstf_renewal" in failed.output
