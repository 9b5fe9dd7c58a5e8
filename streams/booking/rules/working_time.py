"""Working Time Regulations 1998, checked against every booking the hub knows of.

Four rules, each a pure function of the context (numbers from ``policy.working_time``):

- ``wtr_daily_rest``: at least 11 h between this shift and the person's other shifts
  (the regulations' 11 h in each 24, as rotas apply it). Overlaps are ``no_overlap``'s.
- ``wtr_weekly_rest``: 24 h uninterrupted rest in each week (Monday 00:00 to Monday 00:00
  local, reg. 11(6)), or where allowed two 24 h or one 48 h rest in each fortnight
  (fortnights counted from ``fortnight_anchor``). Only the weeks the shift touches count.
- ``wtr_weekly_average``: at most 48 h a week on average over any rolling reference
  period (17 weeks) touching the shift. A signed opt-out lifts the limit; when the
  booking relies on it the pass carries ``WTR_OPTED_OUT`` so the reliance is on record.
- ``wtr_night_average``: night workers at most 8 h per 24 h on average over the same
  reference period, counting its days less one weekly rest day per week (reg. 6(5)):
  8 h x 102 days = 816 h in 17 weeks. There is no opt-out from this limit. A person is a
  night worker when the period holds at least ``night_worker_min_nights`` night shifts.

The hub sees only bookings made through its platforms; hours worked elsewhere and not
booked through the hub (a substantive rota not fed in) are invisible to these checks.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import partial

from rosterhub.streams.booking.policy import WorkingTimePolicy
from rosterhub.streams.booking.rules.clock import add_local_days, fmt, fmt_h, hours, local_date, week_start
from rosterhub.streams.booking.rules.context import RuleContext, WorkInterval
from rosterhub.streams.booking.rules.registry import PERSON, Section, rule
from rosterhub.streams.booking.rules.result import Outcomes, RuleResult
from rosterhub.streams.booking.rules.windows import Window, busiest, free_gaps, merge, windows

__all__ = ["wtr_daily_rest", "wtr_night_average", "wtr_weekly_average", "wtr_weekly_rest"]

WORKING_TIME = Section("working_time", WorkingTimePolicy)
#: The working-time rules: run by the person stage, configured by ``working_time``.
_wtr_rule = partial(rule, stage=PERSON, config=(WORKING_TIME,))


@_wtr_rule(
    "wtr_daily_rest",
    order=500,
    codes={
        "WTR_DAILY_REST": "less than the minimum rest (11 h) between this shift and another booking",
    },
)
def wtr_daily_rest(ctx: RuleContext, out: Outcomes) -> RuleResult:
    """At least ``daily_rest_hours`` between this shift and the nearest booking either side."""
    minimum = ctx.policy.working_time.daily_rest_hours
    new = ctx.new
    gaps: list[tuple[timedelta, WorkInterval]] = []  # only the shortest is described: a person has months of bookings
    for other in ctx.timeline():
        if other.new:
            continue
        if other.end <= new.start:
            gaps.append((new.start - other.end, other))
        elif other.start >= new.end:
            gaps.append((other.start - new.end, other))
    if not gaps:
        return out.ok("no other booking either side")
    gap, other = min(gaps, key=lambda g: g[0])
    if other.end <= new.start:
        between = f"booking {other.booking_id} ending {fmt(other.end)} and this shift starting {fmt(new.start)}"
    else:
        between = f"this shift ending {fmt(new.end)} and booking {other.booking_id} starting {fmt(other.start)}"
    text = f"{fmt_h(hours(gap))} rest between {between} (minimum {fmt_h(minimum)})"
    return out.fail("WTR_DAILY_REST", text) if gap < timedelta(hours=minimum) else out.ok(text)


@_wtr_rule(
    "wtr_weekly_rest",
    order=510,
    codes={
        "WTR_WEEKLY_REST": "no 24 h rest in a week the shift touches (nor 48 h, or two 24 h, in its fortnight)",
    },
)
def wtr_weekly_rest(ctx: RuleContext, out: Outcomes) -> RuleResult:
    """24 h uninterrupted rest in each week the shift touches, or the fortnightly alternative."""
    wt = ctx.policy.working_time
    new, busy = ctx.new, merge(ctx.timeline())
    weekly = timedelta(hours=wt.weekly_rest_hours)
    short = []
    shortest: tuple[timedelta, str] | None = None
    for w0 in _periods(week_start(new.start), new, 7):
        w1 = add_local_days(w0, 7)
        longest = max((e - s for s, e in free_gaps(busy, w0, w1)), default=timedelta(0))
        if shortest is None or longest < shortest[0]:
            shortest = (longest, fmt(w0))
        if longest < weekly:
            short.append(f"longest rest in the week from {fmt(w0)} is {fmt_h(hours(longest))}")
    assert shortest is not None  # the shift touches at least one week
    if not short:
        return out.ok(
            f"longest rest in the week from {shortest[1]} is {fmt_h(hours(shortest[0]))} "
            f"(minimum {fmt_h(wt.weekly_rest_hours)})",
        )
    minimum = f"minimum {fmt_h(wt.weekly_rest_hours)}"
    if not wt.allow_fortnightly_rest:
        return out.fail("WTR_WEEKLY_REST", f"{'; '.join(short)} ({minimum})")
    fortnight_fails = []
    for f0 in _fortnights(ctx, new):
        f1 = add_local_days(f0, 14)
        rests = [e - s for s, e in free_gaps(busy, f0, f1)]
        longest = max(rests, default=timedelta(0))
        if longest < timedelta(hours=wt.fortnightly_rest_hours) and sum(r >= weekly for r in rests) < 2:
            fortnight_fails.append(f"longest rest in the fortnight from {fmt(f0)} is {fmt_h(hours(longest))}")
    if fortnight_fails:
        return out.fail(
            "WTR_WEEKLY_REST",
            f"{'; '.join(short)} ({minimum}); {'; '.join(fortnight_fails)} "
            f"(minimum {fmt_h(wt.fortnightly_rest_hours)} or two of "
            f"{fmt_h(wt.weekly_rest_hours)})",
        )
    return out.ok(
        f"{'; '.join(short)}, but the fortnight has its {fmt_h(wt.fortnightly_rest_hours)} "
        f"(or two {fmt_h(wt.weekly_rest_hours)}) rest",
    )


@_wtr_rule(
    "wtr_weekly_average",
    order=520,
    codes={
        "WTR_WEEKLY_AVERAGE": "average week over the reference period above the limit (48 h) without an opt-out",
        "WTR_OPTED_OUT": "(pass) the average week is above the limit and the person's opt-out is relied on",
    },
)
def wtr_weekly_average(ctx: RuleContext, out: Outcomes) -> RuleResult:
    """At most 48 h a week on average over the rolling reference period; an opt-out is recorded."""
    wt = ctx.policy.working_time
    weeks, limit = wt.reference_weeks, wt.average_weekly_hours
    worst = busiest(_reference_periods(ctx))
    avg = hours(worst.worked) / weeks
    text = (
        f"{fmt_h(avg)} average week over the {weeks} weeks from {fmt(worst.start)} "
        f"({fmt_h(hours(worst.worked))} worked; limit {fmt_h(limit)})"
    )
    if worst.worked <= timedelta(hours=limit * weeks):
        return out.ok(text + (", opt-out on record, not needed" if ctx.request.wtr_opt_out else ""))
    if ctx.request.wtr_opt_out:
        return out.note("WTR_OPTED_OUT", f"opted out of the {fmt_h(limit)} average week: {text}")
    return out.fail("WTR_WEEKLY_AVERAGE", text)


@_wtr_rule(
    "wtr_night_average",
    order=530,
    codes={
        "WTR_NIGHT_AVERAGE": "a night worker's average above 8 h per 24 h over the reference period (no opt-out)",
    },
)
def wtr_night_average(ctx: RuleContext, out: Outcomes) -> RuleResult:
    """Night workers: at most 8 h per 24 h on average over the reference period; no opt-out."""
    wt = ctx.policy.working_time
    weeks = wt.reference_weeks
    days = 7 * weeks - weeks  # reg. 6(5): less one weekly rest day per week
    limit = timedelta(hours=wt.night_average_hours * days)
    nightly = [w for w in _reference_periods(ctx) if w.nights >= wt.night_worker_min_nights]
    if not nightly:
        n = wt.night_worker_min_nights
        need = "no night shift" if n == 1 else f"fewer than {n} night shifts"
        return out.ok(f"not a night worker: {need} in any {weeks} weeks around this shift")
    worst = busiest(nightly)
    avg = hours(worst.worked) / days
    text = (
        f"night worker: {fmt_h(avg)} per 24 h over the {weeks} weeks from {fmt(worst.start)} "
        f"({fmt_h(hours(worst.worked))} over {days} working days; limit {fmt_h(wt.night_average_hours)})"
    )
    return out.fail("WTR_NIGHT_AVERAGE", text) if worst.worked > limit else out.ok(text)


def _reference_periods(ctx: RuleContext) -> list[Window]:
    """The rolling reference periods (``reference_weeks`` long) that touch the new shift: both averages read them."""
    return ctx.derived(_reference_windows)


def _reference_windows(ctx: RuleContext) -> list[Window]:
    return windows(ctx.timeline(), ctx.new, 7 * ctx.policy.working_time.reference_weeks)


def _periods(first: datetime, new: WorkInterval, days: int) -> list[datetime]:
    """Starts of back-to-back ``days``-long local periods, from ``first``, that the new shift touches."""
    out = []
    start = first
    while start < new.end:
        out.append(start)
        start = add_local_days(start, days)
    return out


def _fortnights(ctx: RuleContext, new: WorkInterval) -> list[datetime]:
    """Fortnights (from ``fortnight_anchor``, a Monday) that the new shift touches."""
    monday = week_start(new.start)
    weeks = (local_date(monday) - ctx.policy.working_time.fortnight_anchor).days // 7
    return _periods(add_local_days(monday, -7 * (weeks % 2)), new, 14)
