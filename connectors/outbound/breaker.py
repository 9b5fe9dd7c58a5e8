"""A circuit breaker per destination: a small pure state machine, the clock passed in.

Why not a library: ``pybreaker`` is synchronous and ``aiobreaker`` wraps the call itself, while
the engine needs to *ask* before a call ("may I try now, and if not, when?") so that waiting
tasks sleep until the breaker half-opens instead of spinning. The three states:

* ``closed``: calls flow; ``failure_threshold`` consecutive retriable failures open it.
* ``open``: no calls until ``reset_after_s`` has passed since it opened.
* ``half_open``: exactly one trial call is let through; its success closes the breaker,
  its failure opens it again for another ``reset_after_s``.

A permanent refusal (a 4xx) proves the destination is up, so callers report it as a success.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

__all__ = ["STATE_VALUES", "Breaker", "BreakerState"]

BreakerState = Literal["closed", "open", "half_open"]

#: Gauge values for metrics: 0 closed, 1 half-open, 2 open.
STATE_VALUES: dict[str, int] = {"closed": 0, "half_open": 1, "open": 2}


@dataclass(frozen=True, slots=True)
class Breaker:
    """Immutable breaker state; every transition returns a new one (easy to table-test)."""

    failure_threshold: int = 5
    reset_after_s: float = 30.0
    failures: int = 0
    opened_at: float | None = None  # monotonic seconds when it (re)opened
    trial_in_flight: bool = False

    def state(self, now: float) -> BreakerState:
        if self.opened_at is None:
            return "closed"
        if now - self.opened_at < self.reset_after_s:
            return "open"
        return "half_open"

    def retry_at(self) -> float | None:
        """When an open breaker lets a trial through (None when closed)."""
        return None if self.opened_at is None else self.opened_at + self.reset_after_s

    def acquire(self, now: float) -> tuple[bool, Breaker]:
        """May a call start now? Half-open lets one trial through and holds the others."""
        state = self.state(now)
        if state == "closed":
            return True, self
        if state == "open" or self.trial_in_flight:
            return False, self
        return True, replace(self, trial_in_flight=True)

    def on_success(self) -> Breaker:
        return replace(self, failures=0, opened_at=None, trial_in_flight=False)

    def on_failure(self, now: float) -> Breaker:
        failures = self.failures + 1
        if self.opened_at is not None or failures >= self.failure_threshold:
            # a failed trial (or a late failure of a call started before it opened) (re)opens it
            return replace(self, failures=failures, opened_at=now, trial_in_flight=False)
        return replace(self, failures=failures)
