"""``rosterhub mapping check`` and ``apply`` through typer's CliRunner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rosterhub.cli.mapping_cmd import app
from rosterhub.mapping.engine.samples import samples_folder
from tests.unit.mapping.mapping_helpers import BOOKING_JSON, write

runner = CliRunner()
SAMPLES = samples_folder()


def test_check_ok_and_broken(tmp_path: Path) -> None:
    good = runner.invoke(app, ["check", str(write(tmp_path, BOOKING_JSON))])
    assert good.exit_code == 0 and "OK (vendor testvendor, json, 1 event rule(s): BookingRequested)" in good.stdout
    bad = write(tmp_path, BOOKING_JSON.replace("then: [hub_id]", "then: [hub_idd]"), "bad.yaml")
    result = runner.invoke(app, ["check", str(bad)])
    assert result.exit_code == 1
    assert f"{bad}:18 [events[0].fields.booking_id.then[0]]: unknown function 'hub_idd'" in result.stderr
    assert "2 error(s)" in result.stderr


def test_apply_prints_events_and_exits_0() -> None:
    result = runner.invoke(
        app,
        [
            "apply",
            "--mapping",
            "patchwork",
            "--input",
            str(SAMPLES / "patchwork/shift_created.input.json"),
            "--received-at",
            "2026-03-25T10:00:00Z",
        ],
    )
    assert result.exit_code == 0, result.stderr
    [line] = result.stdout.splitlines()
    event = json.loads(line)
    assert event["type"] == "rosterhub.shift.v1.ShiftPosted" and event["data"]["end"] == "2026-03-29T07:00:00.000Z"


def test_apply_reports_rejections_on_stderr_and_exits_2() -> None:
    mapping = Path(__file__).parents[3] / "mapping/vendors/healthroster.yaml"
    result = runner.invoke(
        app, ["apply", "-m", str(mapping), "-i", str(SAMPLES / "healthroster/bank_requests.input.xml")]
    )
    assert result.exit_code == 2
    assert len(result.stdout.splitlines()) == 3
    lines = [json.loads(x) for x in result.stderr.splitlines()]
    rejected = [x for x in lines if "code" in x]
    # the duty by its own id, the vendor's element and the value it sent, what the mapping was making
    assert rejected[0]["record"] == "/BankRequestExport/Duty[5] 7731908"
    assert (rejected[0]["field"], rejected[0]["value"]) == ("DutyDate", "31/02/2026")
    assert rejected[0]["target"] == "let.start, let.end"
    assert set(rejected[0]) == {"code", "message", "record", "field", "value", "target", "rule"}
    assert any(x.get("skipped", "").startswith("/BankRequestExport/Duty[2] ") for x in lines)


def test_apply_with_secrets_and_usage_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    esr_input = str(SAMPLES / "esr/daily_change.input.txt")
    missing = runner.invoke(app, ["apply", "-m", "esr", "-i", esr_input])
    assert missing.exit_code == 1 and "esr_identity" in missing.stderr
    given = runner.invoke(app, ["apply", "-m", "esr", "-i", esr_input, "--secret", "esr_identity=x"])
    assert given.exit_code == 2 and given.stdout.count("rosterhub.") >= 6
    monkeypatch.setenv("ROSTERHUB_MAPPING_SECRET_ESR_IDENTITY", "x")
    assert runner.invoke(app, ["apply", "-m", "esr", "-i", esr_input]).stdout == given.stdout
    assert runner.invoke(app, ["apply", "-m", "nosuch", "-i", esr_input]).exit_code == 1
    bad = write(tmp_path, "vendor: [\n", "broken.yaml")
    assert runner.invoke(app, ["apply", "-m", str(bad), "-i", esr_input]).exit_code == 1
    assert runner.invoke(app, ["apply", "-m", "esr", "-i", esr_input, "--secret", "novalue"]).exit_code == 1
    assert runner.invoke(app, ["apply", "-m", "patchwork", "-i", esr_input, "--received-at", "x"]).exit_code == 1
