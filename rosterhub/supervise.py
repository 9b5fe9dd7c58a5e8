"""What ``rosterhub run``'s supervisor decides, as pure functions: why a child stopped, when to start it again.

The process handling (spawning in process groups, signals, waiting) is in :mod:`rosterhub.children`;
everything here takes values (a return code, a log tail, instants) and returns values, so the
policy is tested without starting anything.

Policy, after supervisord's and Erlang/OTP's: a child that dies is started again after an
exponential back-off (``base * 2**(n-1)``, capped), where ``n`` counts the deaths in a row of a
child that did not stay up ``stable_s``; one that ran longer starts again after ``base`` only. The
supervisor never gives up on its own: it stops when asked (a signal, ``--duration``), because a
dead broker or trust system comes back, and a hub that had stopped by itself would not notice.
"""

from __future__ import annotations

import re
import signal
from dataclasses import dataclass, replace

__all__ = ["Life", "RestartPolicy", "after_death", "exit_cause", "restart_delay"]

_ERROR_LINE = re.compile(r"error \[(?P<code>[a-z_]+)\]: (?P<message>.+)")
#: A line that reports an error: a log level (console ``[error  ]`` or JSON ``"level": "error"``), an errno, or
#: an exception's ``SomethingError:``; not merely a logger's name such as ``[uvicorn.error]``.
_ERROR_WORD = re.compile(
    r'\[\s*(?:error|critical|fatal)\s*\]|"level":\s*"(?:error|critical)"|\b(?:ERROR|CRITICAL|FATAL)\b'
    r"|\[Errno \d+\]|\b\w+(?:Error|Exception):"
)


@dataclass(frozen=True, slots=True)
class RestartPolicy:
    base_s: float = 1.0  # first wait before a restart
    cap_s: float = 30.0  # longest wait between two restarts
    stable_s: float = 60.0  # a child up this long had recovered: its next death counts from one again


@dataclass(frozen=True, slots=True)
class Life:
    """One child's history as the supervisor keeps it."""

    started_at: float  # monotonic seconds
    deaths_in_a_row: int = 0  # deaths of lives shorter than ``stable_s``, in a row
    restarts: int = 0  # every restart so far (shown on the status line)


def restart_delay(deaths_in_a_row: int, policy: RestartPolicy) -> float:
    """Seconds to wait before starting a child again after its ``deaths_in_a_row``-th quick death."""
    if deaths_in_a_row < 1:
        raise ValueError(f"deaths count from 1, got {deaths_in_a_row}")
    return min(policy.cap_s, policy.base_s * 2.0 ** min(deaths_in_a_row - 1, 32))


def after_death(life: Life, died_at: float, policy: RestartPolicy) -> tuple[Life, float]:
    """The child's history after a death at ``died_at``, and how long to wait before starting it again."""
    quick = died_at - life.started_at < policy.stable_s
    deaths = life.deaths_in_a_row + 1 if quick else 1
    return replace(life, deaths_in_a_row=deaths), restart_delay(deaths, policy)


def exit_cause(returncode: int, log_tail: str = "") -> str:
    """Why a child stopped, in words: the signal that killed it, or its status and the error it reported.

    A rosterhub command that fails on purpose prints ``error [<code>]: <message>`` (``rosterhub.cli``):
    the last such line of its log names the real cause. Without one, the last line that reports an error
    (a library's, e.g. uvicorn's "address already in use", is often followed by its shutdown lines),
    else the log's last line.
    """
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = f"signal {-returncode}"
        return f"killed by {name}"
    lines = [line.strip() for line in log_tail.splitlines() if line.strip()]
    errors = [m for line in lines if (m := _ERROR_LINE.search(line))]
    if errors:
        detail = f": error [{errors[-1]['code']}]: {errors[-1]['message']}"
    elif reported := [line for line in lines if _ERROR_WORD.search(line)]:
        detail = f"; last error in its log: {reported[-1][:300]}"
    elif lines:
        detail = f"; last log line: {lines[-1][:300]}"
    else:
        detail = ""
    if returncode == 0:
        return f"exited with status 0 without being asked to stop{detail}"
    return f"exited with status {returncode}{detail}"
