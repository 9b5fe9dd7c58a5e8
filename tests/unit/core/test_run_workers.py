"""`rosterhub run`'s stream workers (rosterhub.hub._worker_specs, setting `run_stream_workers`): one keeps today's
`worker`; more each get a name, a RocksDB folder and a web port of their own, and settle the way the child reads
its settings (the spec's env over the shared environment)."""

from __future__ import annotations

from pathlib import Path

import pytest

from rosterhub.children import ChildSpec
from rosterhub.hub import _child_specs, _worker_specs, _workers_line
from rosterhub.settings import Settings


def _settings(workers: int, state: Path = Path(".rosterhub/state")) -> Settings:
    return Settings(run_stream_workers=workers, state_dir=state)


def _as_child(spec: ChildSpec, settings: Settings, web_port: int | None) -> Settings:
    """The settings the child reads: the supervisor's (state_dir, web port) with the spec's env over them."""
    values: dict[str, object] = {"state_dir": settings.state_dir, "worker_web_port": web_port}
    values.update({k.removeprefix("ROSTERHUB_").lower(): v for k, v in spec.env.items() if k.startswith("ROSTERHUB_")})
    return Settings.model_validate(values)


def test_one_worker_is_todays_worker() -> None:
    specs = _worker_specs(_settings(1), 6066)
    assert specs == [ChildSpec("worker", ["worker"])]
    assert specs[0].env == {}  # the shared state_dir and web port, as before


def test_the_default_is_two_workers_in_the_run() -> None:
    names = [s.name for s in _child_specs(Settings(), ["esr"], 6066)]
    assert names == ["trust-endpoint", "worker-1", "worker-2", "ingress", "connect-esr"]


@pytest.mark.parametrize("count", [2, 3, 4])
def test_each_worker_has_its_own_state_dir_and_web_port(count: int) -> None:
    settings = _settings(count, Path("/srv/hub/state"))
    specs = _worker_specs(settings, 6066)
    assert [s.name for s in specs] == [f"worker-{n}" for n in range(1, count + 1)]
    assert all(s.args == ["worker"] for s in specs)
    resolved = [_as_child(s, settings, 6066) for s in specs]
    # worker-1 keeps the folder an earlier run's tables are in and the port the demo wallet talks to
    assert resolved[0].state_dir == Path("/srv/hub/state") and resolved[0].worker_web_port == 6066
    dirs = [r.state_dir for r in resolved]
    ports = [r.worker_web_port for r in resolved]
    assert len(set(dirs)) == count and len(set(ports)) == count, (dirs, ports)
    assert all(d == Path("/srv/hub/state") / f"worker-{n}" for n, d in enumerate(dirs[1:], start=2))
    # every worker runs every processor in the app id's one group
    assert all(r.worker_processors == settings.worker_processors and r.app_id == settings.app_id for r in resolved)


def test_workers_without_a_web_server_get_no_port() -> None:
    specs = _worker_specs(_settings(2), None)
    assert all("ROSTERHUB_WORKER_WEB_PORT" not in s.env for s in specs)
    assert specs[1].env == {"ROSTERHUB_STATE_DIR": str(Path(".rosterhub/state") / "worker-2")}


def test_the_banner_names_each_worker_with_its_folder_and_port() -> None:
    settings = _settings(2)
    specs = _child_specs(settings, [], 6066)
    line = _workers_line(specs, settings, 6066)
    port = specs[2].env["ROSTERHUB_WORKER_WEB_PORT"]
    assert line == (
        "stream workers, every processor in group 'rosterhub': worker-1 (state .rosterhub/state, web :6066), "
        f"worker-2 (state .rosterhub/state/worker-2, web :{port})"
    )
    assert _workers_line(_child_specs(_settings(1), [], None), _settings(1), None) == (
        "stream workers, every processor in group 'rosterhub': worker (state .rosterhub/state)"
    )


def test_zero_workers_is_refused() -> None:
    with pytest.raises(ValueError, match="run_stream_workers"):
        Settings(run_stream_workers=0)
