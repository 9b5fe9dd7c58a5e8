"""The bounded worker stop (rosterhub.streams.stopping): a stop that cannot finish still ends the process.

Each test runs a real worker process (mode's Worker: faust's worker is one, and the signal handling
is mode's) around a service whose stop never ends, or whose event loop is blocked as a stuck agent's
would be, and signals it. mode's own Worker waits for ever and ignores every further SIGTERM (issue
#17); the bounded one exits with EXIT_STOP_ABANDONED and says why.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from rosterhub.streams.stopping import EXIT_STOP_ABANDONED

SCRIPT = textwrap.dedent(
    """
    import asyncio, ctypes, sys, time
    from mode import Service, Worker
    from rosterhub.streams.stopping import BoundedStop

    class BoundedWorker(BoundedStop, Worker):  # as rosterhub.streams.stopping.BoundedWorker, on mode's Worker
        stop_timeout_s = 3

    class Stuck(Service):
        async def on_started(self):
            print("started", flush=True)
            if sys.argv[2] == "blocked-loop":
                self.add_future(self._block())

        async def _block(self):
            await asyncio.sleep(0.5)
            print("loop blocked", flush=True)
            time.sleep(3600)  # an agent doing blocking work: the event loop runs nothing else

        async def on_stop(self):
            if sys.argv[2] == "gil-held":
                # stuck in C code that keeps the GIL: neither the deadline's thread nor any Python signal
                # handler can run again (PyDLL keeps the GIL during the call; a normal mutex locked twice)
                libc, mutex = ctypes.PyDLL(None), ctypes.create_string_buffer(64)
                print("holding the GIL, for ever", flush=True)
                libc.pthread_mutex_lock(mutex)
                libc.pthread_mutex_lock(mutex)
            print("stopping, for ever", flush=True)
            await asyncio.sleep(3600)  # e.g. a flush to a broker that is gone

    bounded = sys.argv[1] == "bounded"
    worker = (BoundedWorker if bounded else Worker)(Stuck(), quiet=True)
    worker.execute_from_commandline()
    """
)


def _start(tmp_path: Path, kind: str, case: str) -> tuple[subprocess.Popen[str], Path]:
    script = tmp_path / "stuck.py"
    script.write_text(SCRIPT)
    out = tmp_path / f"{kind}-{case}.log"
    proc = subprocess.Popen(
        [sys.executable, str(script), kind, case], stdout=out.open("w"), stderr=subprocess.STDOUT, text=True
    )
    wanted = "loop blocked" if case == "blocked-loop" else "started"
    deadline = time.monotonic() + 60
    while wanted not in out.read_text():
        assert proc.poll() is None and time.monotonic() < deadline, out.read_text()
        time.sleep(0.1)
    return proc, out


def _wait(proc: subprocess.Popen[str], out: Path, timeout: float = 60) -> int:
    try:
        return proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        pytest.fail(f"the worker did not exit within {timeout} s of the signal:\n{out.read_text()}")


@pytest.mark.parametrize("case", ["stuck-stop", "blocked-loop"])
def test_a_stop_that_cannot_finish_ends_at_the_deadline(tmp_path: Path, case: str) -> None:
    proc, out = _start(tmp_path, "bounded", case)
    proc.send_signal(signal.SIGTERM)
    assert _wait(proc, out) == EXIT_STOP_ABANDONED
    assert "stop not finished 3 s after SIGTERM" in out.read_text()


def test_the_backstop_ends_a_worker_whose_python_code_can_never_run_again(tmp_path: Path) -> None:
    """The kernel's SIGALRM (default action, armed by the first SIGTERM) ends it: no Python handler has to run."""
    proc, out = _start(tmp_path, "bounded", "gil-held")
    proc.send_signal(signal.SIGTERM)
    while "holding the GIL" not in out.read_text():
        assert proc.poll() is None, out.read_text()
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)  # its handler cannot run either: the second-signal exit does not happen
    assert _wait(proc, out) == -signal.SIGALRM
    text = out.read_text()
    assert "stop not finished" not in text and "again while stopping" not in text


def test_a_second_signal_exits_at_once(tmp_path: Path) -> None:
    proc, out = _start(tmp_path, "bounded", "stuck-stop")
    proc.send_signal(signal.SIGTERM)
    while "stopping, for ever" not in out.read_text():
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    assert _wait(proc, out) == EXIT_STOP_ABANDONED
    assert "SIGINT again while stopping" in out.read_text()


def test_mode_s_own_worker_still_ignores_a_second_sigterm(tmp_path: Path) -> None:
    """If this starts failing, mode/faust bound their stop themselves: re-check streams/stopping.py."""
    proc, out = _start(tmp_path, "faust", "stuck-stop")
    try:
        proc.send_signal(signal.SIGTERM)
        while "stopping, for ever" not in out.read_text():
            time.sleep(0.05)
        proc.send_signal(signal.SIGTERM)
        with pytest.raises(subprocess.TimeoutExpired):
            proc.wait(timeout=8)
    finally:
        proc.kill()
        proc.wait()
