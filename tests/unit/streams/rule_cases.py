"""Booking-rule cases kept as data: one YAML table per rule family under ``cases/``, read into pytest params.

The rule tests are many cases of one shape (book a shift next to some other bookings, expect a verdict and a
phrase in the detail), so the cases are data and the shape is written once, here. Each case's id is
``rule: what it shows``, so a failure still says what it checks.

A file holds ``cases:`` (rule id -> list of rows) and may hold ``shift:`` and ``request:`` defaults for every
row. A row has:

- ``case``: what it shows (the test id);
- ``new``: the shift being booked, ``2026-03-02 07:00-19:30`` (Europe/London wall clock; an end at or before
  the start is the next day);
- ``others``: the person's other bookings, each one of
  - ``b1 2026-03-01 08:00-20:00``: one booking, id ``b1``;
  - ``5 daily from 2026-03-02 07:00-19:30``: one a day, ids ``o0``.. (``... as q``: ids ``q0``..);
  - ``17 weeks of Mon Tue Thu Fri from 2026-01-05 08:00-20:00``: the pattern's shifts, ids ``w<date>``,
    less the one on the new shift's day (that is the shift being booked);
- ``request``/``policy``: fields of the worker's request, and policy sections (as ``booking_builders.policy``);
- ``code``: the reason code expected (none: the rule passes); ``passes: true`` where a code comes with a pass;
- ``words``: a phrase the detail must contain.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from rosterhub.events.models.common import StaffGroup
from rosterhub.streams.booking.policy import BookingPolicy
from rosterhub.streams.booking.rules import OtherBooking, RuleResult
from tests.unit.streams.booking_builders import POLICY, ctx, other, others_daily, policy, request, shift, span

CASES = Path(__file__).parent / "cases"
_TIMES = r"(?P<start>\d\d:\d\d)-(?P<end>\d\d:\d\d)"
_ONE = re.compile(rf"(?P<id>\S+) (?P<day>\d{{4}}-\d\d-\d\d) {_TIMES}")
_DAILY = re.compile(rf"(?P<n>\d+) daily from (?P<day>\S+) {_TIMES}(?: as (?P<prefix>\w+))?")
_WEEKLY = re.compile(rf"(?P<n>\d+) weeks of (?P<days>[A-Z][a-z]{{2}}(?: [A-Z][a-z]{{2}})*) from (?P<day>\S+) {_TIMES}")
_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


@dataclass(frozen=True)
class RuleCase:
    """One row: the shift booked, the person's other bookings, and the verdict expected."""

    rule: str
    new: tuple[datetime, datetime]
    others: list[OtherBooking]
    code: str | None
    passes: bool
    words: str
    shift: dict[str, Any] = field(default_factory=dict)
    request: dict[str, Any] = field(default_factory=dict)
    policy: BookingPolicy = POLICY

    def run(self, rule: Callable[[Any], RuleResult]) -> RuleResult:
        return rule(ctx(shift(*self.new, **self.shift), request(**self.request), self.others, policy_=self.policy))

    def check(self, rule: Callable[[Any], RuleResult]) -> None:
        """The rule's verdict and code are the ones expected, and the detail says why in the expected words."""
        result = self.run(rule)
        assert (result.rule, result.passed, result.reason_code) == (self.rule, self.passes, self.code), result.detail
        assert self.words in result.detail


def weekly_pattern(first_monday: str, weeks: int, weekdays: Iterable[int], start: str, end: str) -> list[OtherBooking]:
    """Bookings on the given weekdays (0 = Monday) of ``weeks`` weeks, same wall-clock times each time."""
    monday = date.fromisoformat(first_monday)
    days = [monday + timedelta(weeks=w, days=d) for w in range(weeks) for d in weekdays]
    return [other(f"w{d.isoformat()}", *span(d.isoformat(), start, end)) for d in days]


def _others(text: str, new_day: str) -> list[OtherBooking]:
    if m := _DAILY.fullmatch(text):
        return others_daily(m["day"], int(m["n"]), m["start"], m["end"], prefix=m["prefix"] or "o")
    if m := _WEEKLY.fullmatch(text):
        weekdays = [_WEEKDAYS.index(d) for d in m["days"].split()]
        booked = weekly_pattern(m["day"], int(m["n"]), weekdays, m["start"], m["end"])
        return [o for o in booked if o.booking_id != f"w{new_day}"]
    if m := _ONE.fullmatch(text):
        return [other(m["id"], *span(m["day"], m["start"], m["end"]))]
    raise ValueError(f"not a booking: {text!r}")


def _fields(values: dict[str, Any]) -> dict[str, Any]:
    return {k: StaffGroup(v) if k == "staff_group" else v for k, v in values.items()}


def _case(rule: str, row: dict[str, Any], defaults: dict[str, Any]) -> Any:
    day, times = row["new"].split(" ")
    start, end = times.split("-")
    code = row.get("code")
    case = RuleCase(
        rule=rule,
        new=span(day, start, end),
        others=[o for text in row.get("others", []) for o in _others(text, day)],
        code=code,
        passes=row.get("passes", code is None),
        words=row["words"],
        shift=_fields(defaults.get("shift", {})),
        request=_fields({**defaults.get("request", {}), **row.get("request", {})}),
        policy=policy(**row["policy"]) if "policy" in row else POLICY,
    )
    return pytest.param(case, id=f"{rule}: {row['case']}")


def rule_cases(name: str, *rules: str) -> list[Any]:
    """The cases of ``cases/<name>.yaml`` (only those of ``rules``, if given), as pytest params."""
    doc = yaml.safe_load((CASES / f"{name}.yaml").read_text())
    chosen = rules or tuple(doc["cases"])
    return [_case(rule, row, doc) for rule in chosen for row in doc["cases"][rule]]
