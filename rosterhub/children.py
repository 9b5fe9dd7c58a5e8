"""The child processes of ``rosterhub run``: started in their own process groups, restarted when they die,
stopped within a bounded time. The decisions (why it died, how long to wait) are :mod:`rosterhub.supervise`.

Each child is the leader of its own process group (``start_new_session``), so a signal meant for it
reaches whatever it started too, and a signal sent to ``rosterhub run``'s group (Ctrl-C in a terminal,
``kill -TERM -<pgid>``) reaches the supervisor alone, which then stops the children in its own time and
order instead of racing them. A child also asks the kernel to SIGTERM it if the supervisor dies
(:func:`bind_to_supervisor`, Linux), so even a SIGKILLed ``rosterhub run`` leaves nothing behind.

Stopping is bounded: SIGTERM to every child's group, then SIGKILL to any group still there after the
timeout; a second Ctrl-C/SIGTERM during the stop SIGKILLs at once (:meth:`Children.kill`).
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from rosterhub.supervise import Life, RestartPolicy, after_death, exit_cause

__all__ = ["CHILD_NAME_ENV", "SUPERVISOR_ENV", "Child", "ChildSpec", "Children", "bind_to_supervisor", "log_tail"]

log = logging.getLogger(__name__)

#: Set in a child's environment to the supervisor's pid: the child binds its life to it.
SUPERVISOR_ENV = "ROSTERHUB_SUPERVISOR_PID"
#: Set in a child's environment to its name (``worker-2``): tools tell ``rosterhub run``'s children apart by it.
CHILD_NAME_ENV = "ROSTERHUB_CHILD_NAME"
_PR_SET_PDEATHSIG = 1


def bind_to_supervisor() -> None:
    """In a child of ``rosterhub run``: be sent SIGTERM when the supervisor dies, however it dies.

    Linux only (``prctl(PR_SET_PDEATHSIG)``); elsewhere a no-op. If the supervisor died before this
    ran (the child was re-parented already), stop at once.
    """
    parent = os.environ.get(SUPERVISOR_ENV)
    if not parent or not sys.platform.startswith("linux"):
        return
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != int(parent):
        raise SystemExit(f"rosterhub run (pid {parent}) is gone; not starting")


def log_tail(path: Path, size: int = 4096) -> str:
    """The last ``size`` bytes of a log, as text (empty when there is none)."""
    try:
        with path.open("rb") as fh:
            fh.seek(max(0, path.stat().st_size - size))
            return fh.read().decode(errors="replace")
    except OSError:
        return ""


@dataclass(frozen=True)
class ChildSpec:
    name: str
    args: list[str]  # after ``python -m rosterhub``
    env: dict[str, str] = field(default_factory=dict)  # this child's own settings, over the shared environment


@dataclass
class Child:
    spec: ChildSpec
    proc: subprocess.Popen[bytes]
    life: Life
    restart_at: float | None = None  # set while dead, waiting out its back-off


@dataclass
class Children:
    """Every child of one ``rosterhub run``; ``say`` prints what happens to them (the status output)."""

    env: dict[str, str]
    log_dir: Path
    policy: RestartPolicy
    say: Callable[[str], None]
    children: dict[str, Child] = field(default_factory=dict)

    def _spawn(self, spec: ChildSpec) -> subprocess.Popen[bytes]:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        with (self.log_dir / f"{spec.name}.log").open("ab") as out:  # the child keeps its own copy of the fd
            return subprocess.Popen(
                [sys.executable, "-m", "rosterhub", *spec.args],
                env={**self.env, **spec.env, SUPERVISOR_ENV: str(os.getpid()), CHILD_NAME_ENV: spec.name},
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def start(self, spec: ChildSpec) -> Child:
        child = Child(spec, self._spawn(spec), Life(time.monotonic()))
        self.children[spec.name] = child
        self.say(f"started {spec.name} (pid {child.proc.pid})")
        return child

    def cause(self, name: str) -> str:
        child = self.children[name]
        code = child.proc.returncode if child.proc.returncode is not None else 0
        return exit_cause(code, log_tail(self.log_dir / f"{name}.log"))

    def dead(self, name: str) -> bool:
        return self.children[name].proc.poll() is not None

    def supervise(self) -> None:
        """One round: note the children that died (and why), start again those whose back-off is over."""
        now = time.monotonic()
        for name, child in self.children.items():
            if child.restart_at is None and child.proc.poll() is not None:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(child.proc.pid, signal.SIGKILL)  # anything it started goes with it
                child.life, delay = after_death(child.life, now, self.policy)
                child.restart_at = now + delay
                self.say(
                    f"{name} (pid {child.proc.pid}) {self.cause(name)}; restarting in {delay:.0f} s "
                    f"(see {self.log_dir / name}.log)"
                )
            elif child.restart_at is not None and now >= child.restart_at:
                child.proc = self._spawn(child.spec)
                child.life = Life(time.monotonic(), child.life.deaths_in_a_row, child.life.restarts + 1)
                child.restart_at = None
                self.say(f"restarted {name} (pid {child.proc.pid}, restart {child.life.restarts})")

    def restarts(self) -> int:
        return sum(c.life.restarts for c in self.children.values())

    def restarted(self) -> str:
        """Each restarted child's name and restarts (``worker-2:1 ingress:2``); empty when none was."""
        return " ".join(f"{name}:{c.life.restarts}" for name, c in self.children.items() if c.life.restarts)

    def _signal(self, sig: signal.Signals) -> None:
        for child in self.children.values():
            if child.proc.poll() is None:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(child.proc.pid, sig)  # the child leads its own group: whatever it started, too

    def stop(self, timeout_s: float) -> list[str]:
        """SIGTERM every child's group; SIGKILL the groups of those still running after ``timeout_s``.
        Returns the names of the children that had to be killed."""
        self._signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline and any(c.proc.poll() is None for c in self.children.values()):
            time.sleep(0.1)
        killed = [name for name, c in self.children.items() if c.proc.poll() is None]
        for name in killed:
            self.say(f"{name} did not stop within {timeout_s:.0f} s: killed")
        self.kill()
        return killed

    def kill(self) -> None:
        """SIGKILL every child's group now and reap them (a second Ctrl-C, or a stop past its time)."""
        self._signal(signal.SIGKILL)
        for child in self.children.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                child.proc.wait(timeout=10)
            # whatever a child started in its group outlives it only until this SIGKILL
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(child.proc.pid, signal.SIGKILL)
