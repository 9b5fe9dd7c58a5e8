"""How long the person stage has lately taken to answer this worker's checks: why a hold's re-send waits.

A hold re-sends its check when no answer came in ``booking_hold_resend_s``, in case the check or its answer was
lost. Kafka loses neither; what delays an answer is almost always a backlog in front of the person stage, and
there a re-send only adds a tick, a table write, a check and an answer per hold to the same backlog: at twice
the rate the saga can decide, 1.4 re-sends a decision took a decision from 11.5 to 19.7 ms of worker CPU
(docs/benchmarks.md, "Re-sends under a backlog"), so the more it fell behind, the slower it decided. A check
is therefore re-sent only once it has waited :data:`PATIENCE` times as long as the answers this worker has been
getting lately (:func:`~rosterhub.streams.booking.holds.resend_wait_ms`). A check really lost among answers that
flow is still re-sent, later; with no answer at all for a :data:`WINDOW_MS`, the delay is 0 and re-sends are as
before.

The delay is this worker's view, in memory: each tick carries the value its beat saw (:func:`tick_value`), so
a tick re-processed after a crash decides as it did the first time.
"""

from __future__ import annotations

import json
from collections import deque
from dataclasses import dataclass, field

__all__ = ["PATIENCE", "WINDOW_MS", "AnswerDelay", "tick_delay_ms", "tick_value"]

#: How many times the recent answer delay a hold waits before it re-sends its check.
PATIENCE = 2
#: How far back the answers count (ms): long enough to span a backlog's ups and downs, short enough that a
#: drained backlog stops delaying re-sends within a minute.
WINDOW_MS = 60_000


@dataclass
class AnswerDelay:
    """The longest answer delay seen in the last :data:`WINDOW_MS` (a sliding-window maximum, O(1) amortised)."""

    #: (seen at ms, delay ms), delays strictly decreasing from the front: the front is the window's maximum.
    _samples: deque[tuple[int, int]] = field(default_factory=deque)

    def observe(self, delay_ms: int, at_ms: int) -> None:
        """An answer came ``delay_ms`` after its check was (last) sent."""
        samples = self._samples
        while samples and samples[-1][1] <= delay_ms:
            samples.pop()  # never the maximum again: a larger, later sample outlives it
        samples.append((at_ms, max(delay_ms, 0)))
        self._trim(at_ms)

    def current(self, at_ms: int) -> int:
        """The longest delay seen in the window ending at ``at_ms`` (0: no answer in it)."""
        self._trim(at_ms)
        return self._samples[0][1] if self._samples else 0

    def _trim(self, at_ms: int) -> None:
        while self._samples and self._samples[0][0] <= at_ms - WINDOW_MS:
            self._samples.popleft()


def tick_value(delay_ms: int) -> bytes:
    """A tick's value: the answer delay the beat that sent it saw."""
    return json.dumps({"delay_ms": delay_ms}, separators=(",", ":")).encode()


def tick_delay_ms(value: bytes | None) -> int:
    """The delay a tick carries; 0 for a tick without one (written before ticks carried it: ``b"tick"``)."""
    if not value or not value.startswith(b"{"):
        return 0
    delay = json.loads(value).get("delay_ms", 0)
    return delay if isinstance(delay, int) and delay > 0 else 0
