from typer.testing import CliRunner

from rosterhub.cli.main import app

runner = CliRunner()


def test_every_command_explains_itself() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in ("kafka", "run", "worker", "serve", "topics", "simulate", "config"):
        assert command in result.output
    kafka = runner.invoke(app, ["kafka", "--help"])
    for sub in ("start", "stop", "status", "logs", "fetch"):
        assert sub in kafka.output


def test_kafka_status_exits_1_when_not_running(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("ROSTERHUB_KAFKA_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("ROSTERHUB_KAFKA_PORT", "30999")
    result = runner.invoke(app, ["kafka", "status"])
    assert result.exit_code == 1 and "not running" in result.output
