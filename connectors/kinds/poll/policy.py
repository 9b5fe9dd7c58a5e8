"""When a poller may ask again: retry, back-off and rate-limit decisions, as pure functions.

The HTTP loop in :mod:`rosterhub.connectors.kinds.poll.poller` does the I/O; every decision it
takes about waiting is made here from values (status, headers, attempt number, ``now``
and a random number), so each rule is unit-tested without a server or a clock:

* ``2xx`` -> proceed.
* ``429`` -> wait at least ``Retry-After`` (delta-seconds or an HTTP-date, RFC 9110
  §10.2.3), plus up to 10 % jitter so several pollers do not return in the same
  instant; without the header, exponential back-off. A ``Retry-After`` longer than
  ``max_retry_after_s`` ends this attempt (``give_up``) but ``delay_s`` still says how long
  the vendor asked for, and the poller asks nothing of that trust before then.
* ``408``, ``5xx``, timeouts and connection errors -> exponential back-off with equal
  jitter (half fixed, half random: the wait always grows, yet retries spread out).
  A ``503`` with ``Retry-After`` is honoured like a 429.
* any other status (``401``/``403`` credentials, ``400``, ``404``, ``410`` ...) -> give up:
  retrying cannot help; the poller reports it and tries again next cycle.
* after ``max_retries`` retries -> give up.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Literal

__all__ = ["Decision", "RetryPolicy", "backoff_delay", "decide", "rate_limit_pause", "retry_after_seconds"]

Action = Literal["proceed", "retry", "give_up"]

_RETRIABLE = frozenset({408, 500, 502, 503, 504})


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    max_retries: int = 5
    base_s: float = 1.0  # first back-off step
    cap_s: float = 60.0  # no single back-off step is longer
    max_retry_after_s: float = 300.0  # longer Retry-After: stop this cycle rather than block the loop


@dataclass(frozen=True, slots=True)
class Decision:
    action: Action
    delay_s: float = 0.0  # retry: wait this long first; give_up: ask this source nothing before this long
    reason: str = ""


def retry_after_seconds(value: str | None, now: datetime) -> float | None:
    """``Retry-After`` as seconds from ``now``; ``None`` when absent or unreadable. Never negative."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    if text.isdigit():
        return float(int(text))
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # RFC 9110 dates are GMT; parsedate gives naive for "-0000"
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


def backoff_delay(attempt: int, policy: RetryPolicy, rand: float) -> float:
    """Equal-jitter exponential back-off: attempt 0 waits base/2..base, each next step doubles, capped."""
    step = min(policy.cap_s, policy.base_s * math.pow(2, max(0, attempt)))
    return step / 2 + rand * step / 2


def _header(headers: Mapping[str, str], name: str) -> str | None:
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            return value
    return None


def decide(
    status: int | None,
    headers: Mapping[str, str],
    attempt: int,
    policy: RetryPolicy,
    *,
    now: datetime,
    rand: float,
    failure: str = "",
) -> Decision:
    """What to do after one request. ``status`` is ``None`` for a timeout or connection error
    (``failure`` says which); ``attempt`` counts retries already made (0 for the first request)."""
    if status is not None and 200 <= status < 300:
        return Decision("proceed")
    what = failure or f"HTTP {status}"
    if status is not None and status not in _RETRIABLE and status != 429:
        return Decision("give_up", reason=f"{what}: not retriable")
    asked = retry_after_seconds(_header(headers, "Retry-After"), now) if status in (429, 503) else None
    if asked is not None and asked > policy.max_retry_after_s:
        return Decision("give_up", asked, f"{what}: Retry-After {asked:.0f} s is over {policy.max_retry_after_s:.0f} s")
    if attempt >= policy.max_retries:
        return Decision("give_up", asked or 0.0, f"{what}: still failing after {attempt} retries")
    if asked is not None:
        return Decision("retry", asked + rand * min(1.0, 0.1 * asked), f"{what}: Retry-After {asked:.1f} s")
    return Decision("retry", backoff_delay(attempt, policy, rand), f"{what}: backing off")


def rate_limit_pause(headers: Mapping[str, str], remaining_header: str, reset_header: str) -> float:
    """Seconds to wait before the next request when the vendor says the window is spent.

    ``<remaining_header>: 0`` with ``<reset_header>: <seconds until the window resets>``
    (delta-seconds, as in the IETF RateLimit header draft): wait that long rather than
    spend a request on a certain 429. Anything else: no pause.
    """
    remaining, reset = _header(headers, remaining_header), _header(headers, reset_header)
    if remaining is None or reset is None or remaining.strip() != "0":
        return 0.0
    try:
        seconds = float(reset.strip())
    except ValueError:
        return 0.0
    return seconds if math.isfinite(seconds) and seconds > 0 else 0.0
