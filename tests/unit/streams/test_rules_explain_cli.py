"""``rosterhub explain --from-file``: a decision as delivered to a trust, explained without a broker."""

import json

import typer
from typer.testing import CliRunner

from rosterhub.cli import explain_cmd
from rosterhub.streams.booking.rules import evaluate, explain
from tests.unit.streams.test_rules_evaluate import fifth_night_rejected, registrar_fifth_night


def app() -> typer.Typer:
    cli = typer.Typer()
    explain_cmd.register(cli)
    cli.command("noop")(lambda: None)  # a second command keeps typer from flattening the group
    return cli


def test_explains_a_rejection_as_delivered_to_a_trust(tmp_path) -> None:
    results = evaluate(registrar_fifth_night())
    body = {
        "id": "e1",
        "type": "rosterhub.booking.v1.BookingRejected",
        "time": "2026-03-05T10:15:00+00:00",
        "subject": "patchwork:RHQ:90412",
        "data": fifth_night_rejected(results, "2026-03-05T10:15:00+00:00"),
    }
    path = tmp_path / "decision.json"
    path.write_text(json.dumps(body), encoding="utf-8")
    out = CliRunner().invoke(app(), ["explain", "--from-file", str(path)])
    assert out.exit_code == 0, out.output
    assert out.output.startswith("Booking patchwork:RHQ:90412 for shift patchwork:RHQ:ED-0306-N at RHQ: REJECTED")
    assert explain(results) in out.output


def test_refuses_what_is_not_a_decision(tmp_path) -> None:
    for name, text in {"bad.json": "{not json", "other.json": json.dumps({"type": "x", "data": {"a": 1}})}.items():
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        out = CliRunner().invoke(app(), ["explain", "--from-file", str(path)])
        assert out.exit_code == 1
    missing = CliRunner().invoke(app(), ["explain", "--from-file", str(tmp_path / "nope.json")])
    assert missing.exit_code == 1
