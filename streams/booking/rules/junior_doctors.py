"""2016 terms and conditions for doctors in training: rota limits on each booking.

They apply to the *person*: a worker whose own grade is one of
``junior_doctors.training_grades`` (FY1-ST8 by default). For everyone else each rule
passes with a sentence saying so, so a decision still lists every rule (the family's
``exempt=`` check, declared once on ``_jd_rule``).

- ``jd_shift_length``: no shift over 13 h (real hours: 20:00-08:00 on 24-25 Oct 2026 is 13 h).
- ``jd_72h_in_7_days``: at most 72 h in any 7 consecutive local days (rolling, :mod:`.windows`).
- ``jd_consecutive_long_shifts`` / ``_nights`` / ``_shifts``: at most 5 long (over 10 h),
  4 night or 8 shifts of any kind on consecutive days, then 48 h / 46 h / 48 h rest
  before the next shift. A shift's day is the local date it starts on, so a night
  starting Friday 20:00 is Friday's; two shifts on one day both count.
- ``jd_weekends``: at most 1 weekend worked in any 2 consecutive ones. A weekend is
  worked when any shift has time between 00:01 Saturday and 23:59 Sunday (local), so a
  Friday night into Saturday morning and a Sunday night both count.

Only violations that involve the requested shift fail it: a breach already on the rota
without it is for the rota's owner, not a reason to refuse this booking.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, timedelta
from functools import partial

from rosterhub.streams.booking.policy import JuniorDoctorsPolicy, RunLimit
from rosterhub.streams.booking.rules.clock import fmt, fmt_h, hours, local_date, weekends_worked
from rosterhub.streams.booking.rules.context import RuleContext, WorkInterval
from rosterhub.streams.booking.rules.registry import PERSON, Section, rule
from rosterhub.streams.booking.rules.result import Outcomes, RuleResult
from rosterhub.streams.booking.rules.windows import busiest, windows

__all__ = [
    "jd_72h_in_7_days",
    "jd_consecutive_long_shifts",
    "jd_consecutive_nights",
    "jd_consecutive_shifts",
    "jd_shift_length",
    "jd_weekends",
]

JUNIOR_DOCTORS = Section("junior_doctors", JuniorDoctorsPolicy)


def _not_in_training(ctx: RuleContext) -> str | None:
    """None when the rules apply (the worker's grade is a training grade); otherwise the sentence they pass with."""
    grade = ctx.request.grade
    if grade in ctx.policy.junior_doctors.training_grades:
        return None
    return f"applies to doctors in training only; the worker's grade is {grade}"


#: The junior doctors' rules: run by the person stage, configured by ``junior_doctors``, for doctors in training.
_jd_rule = partial(rule, stage=PERSON, config=(JUNIOR_DOCTORS,), exempt=_not_in_training)


@_jd_rule("jd_shift_length", order=600, codes={"JD_SHIFT_TOO_LONG": "a doctor in training's shift is longer than 13 h"})
def jd_shift_length(ctx: RuleContext, out: Outcomes) -> RuleResult:
    """No shift longer than ``max_shift_hours`` real hours."""
    limit, length = ctx.policy.junior_doctors.max_shift_hours, ctx.new.hours
    text = f"{fmt_h(length)} shift (limit {fmt_h(limit)})"
    return out.fail("JD_SHIFT_TOO_LONG", text) if length > limit else out.ok(text)


@_jd_rule("jd_72h_in_7_days", order=610, codes={"JD_72_HOURS_IN_7_DAYS": "more than 72 h in some 7 consecutive days"})
def jd_72h_in_7_days(ctx: RuleContext, out: Outcomes) -> RuleResult:
    """At most ``max_hours_in_7_days`` in any 7 local days touching the shift."""
    limit = ctx.policy.junior_doctors.max_hours_in_7_days
    worst = busiest(windows(ctx.timeline(), ctx.new, 7))
    text = f"{fmt_h(hours(worst.worked))} in the 7 days from {fmt(worst.start)} (limit {fmt_h(limit)})"
    return out.fail("JD_72_HOURS_IN_7_DAYS", text) if worst.worked > timedelta(hours=limit) else out.ok(text)


@_jd_rule(
    "jd_consecutive_long_shifts",
    order=620,
    codes={
        "JD_CONSECUTIVE_LONG_SHIFTS": "more than 5 long (over 10 h) shifts on consecutive days",
        "JD_REST_AFTER_LONG_SHIFTS": "less than 48 h rest after the maximum run of long shifts",
    },
)
def jd_consecutive_long_shifts(ctx: RuleContext, out: Outcomes) -> RuleResult:
    """At most 5 long shifts on consecutive days, then 48 h rest."""
    jd = ctx.policy.junior_doctors
    long = jd.long_shift_over_hours
    return _run_rule(ctx, out, "long shifts", "LONG_SHIFTS", jd.consecutive_long_shifts, lambda iv: iv.hours > long)


@_jd_rule(
    "jd_consecutive_nights",
    order=630,
    codes={
        "JD_CONSECUTIVE_NIGHTS": "more than 4 night shifts on consecutive days",
        "JD_REST_AFTER_NIGHTS": "less than 46 h rest after the maximum run of night shifts",
    },
)
def jd_consecutive_nights(ctx: RuleContext, out: Outcomes) -> RuleResult:
    """At most 4 nights on consecutive days, then 46 h rest."""
    limit = ctx.policy.junior_doctors.consecutive_nights
    return _run_rule(ctx, out, "nights", "NIGHTS", limit, lambda iv: iv.night)


@_jd_rule(
    "jd_consecutive_shifts",
    order=640,
    codes={
        "JD_CONSECUTIVE_SHIFTS": "more than 8 shifts on consecutive days",
        "JD_REST_AFTER_SHIFTS": "less than 48 h rest after the maximum run of shifts",
    },
)
def jd_consecutive_shifts(ctx: RuleContext, out: Outcomes) -> RuleResult:
    """At most 8 shifts on consecutive days, then 48 h rest."""
    limit = ctx.policy.junior_doctors.consecutive_shifts
    return _run_rule(ctx, out, "shifts", "SHIFTS", limit, lambda iv: True)


@_jd_rule(
    "jd_weekends",
    order=650,
    codes={
        "JD_WEEKEND_FREQUENCY": "more than 1 weekend worked in 2 consecutive weekends",
    },
)
def jd_weekends(ctx: RuleContext, out: Outcomes) -> RuleResult:
    """At most 1 weekend worked in any 2 consecutive weekends that include this shift's."""
    limit = ctx.policy.junior_doctors.weekends
    mine = weekends_worked(ctx.new.start, ctx.new.end)
    if not mine:
        return out.ok("no weekend work (00:01 Saturday to 23:59 Sunday)")
    worked = {sat for iv in ctx.timeline() for sat in weekends_worked(iv.start, iv.end)}
    for sat in mine:
        for first in (sat - timedelta(weeks=k) for k in range(limit.in_)):
            span = [first + timedelta(weeks=k) for k in range(limit.in_)]
            hit = [d for d in span if d in worked]
            if len(hit) > limit.max:
                names = ", ".join(f"Sat {d:%d %b}" for d in hit)
                text = f"works the weekends of {names}: {len(hit)} in {limit.in_} (limit {limit.max} in {limit.in_})"
                return out.fail("JD_WEEKEND_FREQUENCY", text)
    return out.ok(f"works the weekend of Sat {mine[0]:%d %b}; limit {limit.max} in {limit.in_} respected")


def _run_rule(
    ctx: RuleContext, out: Outcomes, noun: str, suffix: str, limit: RunLimit, kind: Callable[[WorkInterval], bool]
) -> RuleResult:
    """At most ``limit.max`` shifts of a ``kind`` on consecutive days, then ``limit.rest_hours`` rest."""
    timeline = ctx.timeline()
    runs = _runs([iv for iv in timeline if kind(iv)])
    longest = 0
    for run in runs:
        has_new = any(iv.new for iv in run)
        longest = max(longest, len(run)) if has_new else longest
        first, last = run[0], run[-1]
        span = f"from {fmt(first.start)} to {fmt(last.end)}"
        if has_new and len(run) > limit.max:
            return out.fail(f"JD_CONSECUTIVE_{suffix}", f"{len(run)} consecutive {noun} {span} (limit {limit.max})")
        if len(run) < limit.rest_from:
            continue
        after = next((iv for iv in timeline if iv.start >= last.end and iv not in run), None)
        if after is None or not (has_new or after.new):
            continue
        rest = after.start - last.end
        if rest < timedelta(hours=limit.rest_hours):
            text = (
                f"{fmt_h(hours(rest))} rest after {len(run)} consecutive {noun} ending {fmt(last.end)} "
                f"before the shift starting {fmt(after.start)} (minimum {fmt_h(limit.rest_hours)})"
            )
            return out.fail(f"JD_REST_AFTER_{suffix}", text)
    if not longest:
        return out.ok(f"not one of the {noun} counted (limit {limit.max} in a row)")
    return out.ok(
        f"{longest} consecutive {noun} with this one (limit {limit.max}, then {fmt_h(limit.rest_hours)} rest)"
    )


def _runs(shifts: Sequence[WorkInterval]) -> list[list[WorkInterval]]:
    """Group shifts (sorted by start) into runs on consecutive local days (same day counts as consecutive)."""
    runs: list[list[WorkInterval]] = []
    previous: date | None = None
    for iv in shifts:
        day = local_date(iv.start)
        if previous is not None and runs and (day - previous).days <= 1:
            runs[-1].append(iv)
        else:
            runs.append([iv])
        previous = day
    return runs
