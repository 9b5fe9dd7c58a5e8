"""Issue #17: `rosterhub run` supervises its children and never leaves one behind.

A `kill -9` of one of the two stream workers (worker-2), then of the ingress, is logged with the real
cause (killed by SIGKILL, not "broker unavailable") and each is started again and works (the worker gets
ready again and the group has both workers again, the ingress answers again); the hub keeps running.
A SIGTERM sent to the hub's whole process group then stops it, and no process it started is left. A
child that cannot start is reported with its own error (process_exited), not as a broker problem.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from kafka import KafkaAdminClient

from rosterhub.children import SUPERVISOR_ENV
from tests.integration.helpers import wait_for
from tests.support import free_port

pytestmark = pytest.mark.integration


def _env(kafka: Any, http_port: int) -> dict[str, str]:
    unique = uuid.uuid4().hex[:10]
    env = {k: v for k, v in os.environ.items() if not k.startswith("ROSTERHUB_")}
    env.update(
        {
            "KAFKA_BOOTSTRAP_SERVERS": kafka.bootstrap,
            "ROSTERHUB_TOPIC_PREFIX": f"t{unique}.",
            "ROSTERHUB_APP_ID": f"rosterhub-test-{unique}",
            "ROSTERHUB_HTTP_PORT": str(http_port),
            "ROSTERHUB_DEMO_TRUST_PORT": str(free_port()),
            "ROSTERHUB_DEFAULT_PARTITIONS": "2",
            "ROSTERHUB_STOP_TIMEOUT_S": "15",
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


class Hub:
    """`rosterhub run` in its own process group, its output collected line by line."""

    def __init__(self, env: dict[str, str], cwd: Path, *more: str) -> None:
        self.cwd = cwd
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "rosterhub", "run", "--no-demo", "--interval", "0.5", *more],
            cwd=cwd,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,  # its own group, as a terminal gives it: the test can signal the whole group
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line)

    @property
    def out(self) -> str:
        return "".join(self.lines)

    def wait_line(self, pattern: str, *, after: int = 0, timeout: float = 180) -> re.Match[str]:
        def found() -> re.Match[str] | None:
            assert self.proc.poll() is None or self._reader.is_alive(), self.out
            return re.search(pattern, "".join(self.lines[after:]))

        return wait_for(found, timeout=timeout, interval=0.2, what=f"{pattern!r} in:\n{self.out[-3000:]}")

    def pid(self, child: str, *, after: int = 0) -> int:
        matches = re.findall(rf"(?:started|restarted) {child} \(pid (\d+)", "".join(self.lines[after:]))
        assert matches, self.out
        return int(matches[-1])

    def log(self, child: str) -> str:
        path = self.cwd / ".rosterhub" / "logs" / f"{child}.log"
        return path.read_text(errors="replace") if path.exists() else ""


#: `rosterhub run`'s stream workers by default (setting run_stream_workers)
WORKERS = ("worker-1", "worker-2")


def _members(kafka: Any, env: dict[str, str]) -> int:
    """How many members the stream workers' group (the app id) has now."""
    admin = KafkaAdminClient(bootstrap_servers=kafka.bootstrap)
    try:
        return len(admin.describe_groups([env["ROSTERHUB_APP_ID"]])[env["ROSTERHUB_APP_ID"]].get("members") or ())
    finally:
        admin.close()


def _descendants(supervisor: int) -> set[int]:
    """Every live process started by the supervisor: they carry its pid in their environment."""
    mark = f"{SUPERVISOR_ENV}={supervisor}".encode()
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if mark in (entry / "environ").read_bytes().split(b"\0"):
                    state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
                    if state != "Z":
                        found.add(int(entry.name))
            except OSError:
                continue
    return found


@contextmanager
def _hub(env: dict[str, str], cwd: Path) -> Iterator[Hub]:
    hub = Hub(env, cwd)
    try:
        yield hub
    finally:
        if hub.proc.poll() is None:
            os.killpg(hub.proc.pid, signal.SIGKILL)
            hub.proc.wait()
        for pid in _descendants(hub.proc.pid):
            os.kill(pid, signal.SIGKILL)


def test_a_killed_worker_and_ingress_are_restarted_and_a_group_sigterm_leaves_nothing(
    kafka: Any, tmp_path: Path
) -> None:
    http_port = free_port()
    env = _env(kafka, http_port)
    with _hub(env, tmp_path) as hub:
        hub.wait_line(r"Ctrl-C stops everything")
        hub.wait_line(r"\| ")  # a status round
        wait_for(lambda: all("Worker ready" in hub.log(w) for w in WORKERS), timeout=180, what="both workers ready")
        wait_for(lambda: _members(kafka, env) == 2, timeout=120, what="both workers in the group")
        worker = hub.pid("worker-2")
        mark = len(hub.lines)
        os.kill(worker, signal.SIGKILL)
        hub.wait_line(rf"worker-2 \(pid {worker}\) killed by SIGKILL; restarting in \d+ s", after=mark)
        hub.wait_line(r"restarted worker-2 \(pid \d+, restart 1\)", after=mark)
        wait_for(lambda: hub.log("worker-2").count("Worker ready") >= 2, timeout=180, what="the restarted worker ready")
        assert hub.pid("worker-2") != worker
        # the group rebalances back to both workers; worker-1 ran on throughout
        wait_for(lambda: _members(kafka, env) == 2, timeout=120, what="both workers in the group again")
        assert len(re.findall(r"started worker-1 \(pid", hub.out)) == 1
        assert "broker_unavailable" not in hub.out

        ingress = hub.pid("ingress")
        mark = len(hub.lines)
        os.kill(ingress, signal.SIGKILL)
        hub.wait_line(rf"ingress \(pid {ingress}\) killed by SIGKILL; restarting in \d+ s", after=mark)
        hub.wait_line(r"restarted ingress", after=mark)

        def answers() -> bool:
            try:
                return httpx.get(f"http://127.0.0.1:{http_port}/health", timeout=1).status_code == 200
            except httpx.HTTPError:
                return False

        wait_for(answers, timeout=120, what="the restarted ingress answering")
        hub.wait_line(r"restarts=2 \(worker-2:1 ingress:1\)")
        assert hub.proc.poll() is None, "the hub stops only when asked"

        children = _descendants(hub.proc.pid)
        assert {*map(hub.pid, WORKERS), hub.pid("ingress"), hub.pid("trust-endpoint")} <= children
        os.killpg(hub.proc.pid, signal.SIGTERM)  # as `kill -TERM -<pgid>`, or a terminal's Ctrl-C (SIGINT)
        try:
            code = hub.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            pytest.fail("rosterhub run still running 60 s after SIGTERM to its group:\n" + hub.out[-3000:])
        hub._reader.join(timeout=10)
        assert code == 0, hub.out[-3000:]
        assert "stopped" in hub.lines[-1], hub.out[-2000:]
        left = _descendants(hub.proc.pid)
        assert not left, f"left behind: {left}"
        assert not [pid for pid in children if Path(f"/proc/{pid}").exists()]


def test_a_child_that_cannot_start_is_reported_with_its_own_cause(kafka: Any, tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with _hub(_env(kafka, port), tmp_path) as hub:
            code = hub.proc.wait(timeout=180)
            hub._reader.join(timeout=10)
    assert code == 1, hub.out
    cause = r"error \[process_exited\]: ingress exited with status 1: error \[port_unavailable\]: cannot listen on "
    cause += r".*in use"
    assert re.search(cause, hub.out), hub.out
    assert "broker_unavailable" not in hub.out
    assert not _descendants(hub.proc.pid)


def test_a_run_with_a_duration_stops_every_worker_by_itself(kafka: Any, tmp_path: Path) -> None:
    """`rosterhub run --duration`: both stream workers start under their own names and logs, and when the time is up
    everything stops (the workers mid-start, the hardest moment) and nothing is left behind."""
    hub = Hub(_env(kafka, free_port()), tmp_path, "--duration", "15")
    try:
        code = hub.proc.wait(timeout=15 + 60)
    finally:
        if hub.proc.poll() is None:
            os.killpg(hub.proc.pid, signal.SIGKILL)
    hub._reader.join(timeout=10)
    assert code == 0, hub.out[-3000:]
    assert all(hub.pid(w) for w in WORKERS)
    assert "stream workers, every processor in group 'rosterhub-test-" in hub.out
    assert all((tmp_path / ".rosterhub" / "logs" / f"{w}.log").exists() for w in WORKERS)
    assert (tmp_path / ".rosterhub" / "state" / "worker-2").is_dir()  # worker-2's own RocksDB folder
    assert "stopped" in hub.lines[-1], hub.out[-2000:]
    assert not _descendants(hub.proc.pid)
