"""Small helpers shared by unit and integration tests (and the benches)."""

import socket
import subprocess
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rosterhub.settings import Settings


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
