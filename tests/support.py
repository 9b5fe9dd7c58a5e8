"""Small helpers shared by unit and integration tests (and the benches)."""

import importlib.util
import socket
import subprocess
import sys
import uuid
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rosterhub.settings import Settings


BENCH = Path(__file__).resolve().parents[1] / "bench"


def load_bench(name: str) -> ModuleType:
    """``bench/<name>.py`` as the module ``name``: the benches are scripts, not a package. ``bench/`` goes on the
    path because a bench imports its siblings by name (payroll_bench uses bench_cli), and the module is
    registered under its name before it runs because dataclasses resolve their module by name."""
    if str(BENCH) not in sys.path:
        sys.path.insert(0, str(BENCH))
    spec = importlib.util.spec_from_file_location(name, BENCH / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def stop(proc: "subprocess.Popen[bytes]", timeout: float = 30) -> None:
    """SIGTERM, and SIGKILL only if it has not exited within ``timeout``: a worker's graceful stop commits its
    offsets and flushes its producer, which is what restart tests rely on."""
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def isolated_settings(bootstrap: str, tmp: Path, *, partitions: int = 3, **extra: Any) -> "Settings":
    """Settings of their own on the shared session broker: a fresh topic prefix and app id (hence consumer
    groups) and a state dir under ``tmp``, so no test reads another's topics or state."""
    from rosterhub.settings import Settings

    unique = uuid.uuid4().hex[:10]
    return Settings(
        kafka_bootstrap_servers=bootstrap,
        topic_prefix=f"t{unique}.",
        app_id=f"rosterhub-test-{unique}",
        state_dir=tmp / "state",
        default_partitions=partitions,
        **extra,
    )
