"""A stream worker whose stop is bounded: it ends within ``stop_timeout_s`` of SIGTERM whatever is in flight.

faust's own worker (mode's ``Worker``) stops on the first SIGTERM/SIGINT and ignores the next ones,
and its stop waits, without a bound, for whatever it is waiting on: records agents started
(``wait_empty``, see ``faust_fixes``), a producer flush to a broker that is gone, a consumer leaving
its group. Issue #17 saw a SIGTERMed worker still running minutes later, re-parented to init. Here:

- the signal handlers are the process's own (``signal.signal``), not the event loop's, so they run
  even when the loop is blocked by an agent: the first SIGTERM/SIGINT starts faust's graceful stop
  *and* arms a deadline on a thread; a second one exits at once;
- at the deadline the process exits with :data:`EXIT_STOP_ABANDONED` without finishing the stop;
- a backstop that needs no Python code at all: the same signal handler first arms ``signal.alarm``
  (the alarm(2) system call) for :data:`BACKSTOP_MARGIN_S` after the deadline, with SIGALRM at its
  default action, so the kernel ends the process (status -SIGALRM, 142 in a shell) even when the
  deadline's thread can never run: the interpreter stuck in C code holding the GIL, or
  ``Timer.start()`` blocked on a lock the interrupted code held (the suspected cause of a CI hang of
  ``test_stopping`` in session 5).
  Nothing is lost by either: what was not committed is read again when the worker (or another)
  takes the partitions, and outbound deliveries not acknowledged are sent again with the same
  idempotency key (at-least-once, idempotent processors: docs/decisions/0004 and 0008).
"""

from __future__ import annotations

import math
import os
import signal
import threading
from types import FrameType
from typing import Any

from faust.worker import Worker

__all__ = ["BACKSTOP_MARGIN_S", "EXIT_STOP_ABANDONED", "BoundedStop", "BoundedWorker", "arm_backstop"]

#: Exit status of a worker that did not finish its stop in time (sysexits' EX_TEMPFAIL: start it again).
EXIT_STOP_ABANDONED = 75

#: Seconds after ``stop_timeout_s`` at which the kernel's SIGALRM ends a worker whose deadline did not (below
#: ``rosterhub run``'s own margin, ``hub.STOP_MARGIN_S``, after which it SIGKILLs its children).
BACKSTOP_MARGIN_S = 2.0


def arm_backstop(after_s: float) -> None:
    """SIGALRM at its default action (terminate) in ``after_s`` (rounded up to whole seconds): no handler, so no
    Python code has to run for it to end the process. Replaces any alarm already set (the process sets none)."""
    signal.signal(signal.SIGALRM, signal.SIG_DFL)
    signal.alarm(max(1, math.ceil(after_s)))


def _exit_now(why: str) -> None:
    """Leave without running the rest of the stop; written straight to stderr (the logging locks may be held)."""
    line = f"[rosterhub worker] {why}; exiting now (status {EXIT_STOP_ABANDONED}), what was not committed is read again"
    os.write(2, f"\n{line}\n".encode())
    os._exit(EXIT_STOP_ABANDONED)


class BoundedStop:
    """For a mode ``Worker`` (faust's worker is one: the signal handling is mode's): the stop bounded by
    ``stop_timeout_s``, and a second signal exiting at once."""

    loop: Any
    stop_timeout_s: float
    _deadline: threading.Timer | None = None
    _on_sigusr1: Any
    _on_sigusr2: Any
    _schedule_shutdown: Any

    def _install_signal_handlers_unix(self) -> None:
        # SIGUSR1/SIGUSR2 (tracebacks, debugger) stay with the loop, as faust has them
        self.loop.add_signal_handler(signal.SIGUSR1, self._on_sigusr1)
        self.loop.add_signal_handler(signal.SIGUSR2, self._on_sigusr2)
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self._on_stop_signal)

    def _on_stop_signal(self, signum: int, _frame: FrameType | None) -> None:
        name = signal.Signals(signum).name
        if self._deadline is not None:
            _exit_now(f"{name} again while stopping")
        arm_backstop(self.stop_timeout_s + BACKSTOP_MARGIN_S)  # first: what follows may block (a lock)
        self._deadline = threading.Timer(
            self.stop_timeout_s, _exit_now, args=(f"stop not finished {self.stop_timeout_s:.0f} s after {name}",)
        )
        self._deadline.daemon = True
        self._deadline.start()
        self.loop.call_soon_threadsafe(self._schedule_shutdown, signal.Signals(signum))


class BoundedWorker(BoundedStop, Worker):
    """faust's ``Worker`` with a bounded stop."""

    def __init__(self, *services: Any, stop_timeout_s: float, **kwargs: Any) -> None:
        super().__init__(*services, **kwargs)
        self.stop_timeout_s = stop_timeout_s
