"""Small helpers shared by unit and integration tests (and the benches)."""

import socket
import subprocess


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
