"""A stream worker whose stop is bounded: it ends within ``stop_timeout_s`` of SIGTERM whatever is in flight.

faust's own worker (mode's ``Worker``) stops on the first SIGTERM/SIGINT and ignores the next ones,
and its stop waits, without a bound, for whatever it is waiting on: records agents started
(``wait_empty``, see ``faust_fixes``), a producer flush to a broker that is gone, a consumer leaving
its group. Issue #17 saw a SIGTERMed worker still running minutes later, re-parented to init. Here:

- the signal handlers are the process's own (``signal.signal``), not the event loop's, so they run
  even when the loop is blocked by an agent: the first SIGTERM/SIGINT starts faust's graceful stop
  *and* arms a deadline on a thread; a second one exits at once;
- at the deadline the process exits with :data:`EXIT_STOP_ABANDONED` without finishing the stop.
  Nothing is lost by that: what was not committed is read again when the worker (or another)
  takes the partitions, and outbound deliveries not acknowledged are sent again with the same
  idempotency key (at-least-once, idempotent processors: docs/decisions/0004 and 0008).
"""

from __future__ import annotations

import os
import signal
import threading
from types import FrameType
from typing import Any

from faust.worker import Worker

__all__ = ["EXIT_STOP_ABANDONED", "BoundedStop", "BoundedWorker"]

#: Exit status of a worker that did not finish its stop in time (sysexits' EX_TEMPFAIL: start it again).
EXIT_STOP_ABANDONED = 75


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
        self._deadline = threading.Timer(
            self.stop_timeout_s, _exit_now, args=(f"stop not finished {self.stop_timeout_s:.0f} s after {name}",)
        )
        self._deadline.daemon = True
        self._deadline.start()
        self.loop.call_soon_threadsafe(self._schedule_shutdown, signal.Signals(signum))


class BoundedWorker(BoundedStop, Worker):  # type: ignore[misc]
    """faust's ``Worker`` with a bounded stop."""

    def __init__(self, *services: Any, stop_timeout_s: float, **kwargs: Any) -> None:
        super().__init__(*services, **kwargs)
        self.stop_timeout_s = stop_timeout_s
