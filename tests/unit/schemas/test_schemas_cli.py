"""``rosterhub schemas list|gen|check|release`` through typer's test runner."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from rosterhub.cli import schemas_cmd
from rosterhub.cli.main import app
from rosterhub.codec.catalogue import SchemaCatalogue

REPO = Path(__file__).resolve().parents[3]


runner = CliRunner()


def test_registered_on_the_main_app() -> None:
    result = runner.invoke(app, ["schemas", "--help"])
    assert result.exit_code == 0
    for command in ("list", "gen", "check", "release"):
        assert command in result.output


def test_list_shows_every_event_with_key_and_fingerprint(catalogue: SchemaCatalogue) -> None:
    result = runner.invoke(schemas_cmd.app, ["list"])
    assert result.exit_code == 0
    for es in catalogue:
        line = next(line for line in result.output.splitlines() if line.startswith(es.full_name + " "))
        assert f"key={es.key_field}" in line and line.endswith(es.fingerprint_hex)


def test_gen_writes_into_a_root_and_is_idempotent(tmp_path: Path) -> None:
    first = runner.invoke(schemas_cmd.app, ["gen", "--root", str(tmp_path)])
    assert first.exit_code == 0, first.output
    assert (tmp_path / "docs" / "asyncapi.yaml").is_file()
    assert (tmp_path / "rosterhub" / "events" / "models" / "shift.py").read_text(encoding="utf-8") == (
        REPO / "rosterhub" / "events" / "models" / "shift.py"
    ).read_text(encoding="utf-8")
    again = runner.invoke(schemas_cmd.app, ["gen", "--root", str(tmp_path)])
    assert "everything is up to date" in again.output


def test_release_refuses_an_existing_version() -> None:
    result = runner.invoke(schemas_cmd.app, ["release", "v1"])
    assert result.exit_code == 1
    assert "never changed" in result.output
