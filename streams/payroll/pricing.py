"""Price approved hours from the employing trust's pay policy: basic, enhancements, holiday pay, fees.

Pure. Money is Decimal, rounded half-up to the penny once per line (``hours x rate``), so every
line satisfies ``amount = round(hours x rate)`` and a batch total is the sum of its lines:

* **basic**: every paid hour at the basic rate of the grade paid (the shift's or the worker's,
  ``pay.basis``), from the staff group's rates, else the rate card, else the medical locum day rate;
* **enhancements**: per hour at most one, the best-paid of those that apply. Agenda for Change
  bands: Annex 5 percentages of the basic rate (weekday nights and Saturdays, Sundays and bank
  holidays). Medical grades with locum rates: the night / weekend / bank-holiday rate's excess over
  the day rate. Other grades: none;
* **holiday pay**: ``holiday_pay_percent`` of the lines above, a lump sum, where the trust pays it;
* **late cancellation**: the fee hours at the basic rate.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import TypedDict

from rosterhub.events.models.common import StaffGroup
from rosterhub.streams.payroll.hours import category_seconds, hours, paid_segments
from rosterhub.streams.payroll.policy import AFC_GRADES, CATEGORIES, NightWindow, PayPolicy

__all__ = ["LINE_KINDS", "PricedLine", "Pricing", "enhancement_rates", "money", "price_fee", "price_worked"]

_CENT = Decimal("0.01")
#: Line kinds in the order a timesheet's lines are issued.
LINE_KINDS = ("basic", "night", "saturday", "sunday", "bank_holiday", "holiday_pay", "late_cancellation")


def money(value: Decimal) -> Decimal:
    return value.quantize(_CENT, rounding=ROUND_HALF_UP)


class PricedLineJson(TypedDict):
    """A priced line as the stages send it (decimals as text)."""

    kind: str
    pay_code: str
    hours: str | None
    rate: str | None
    amount: str


@dataclass(frozen=True, slots=True)
class PricedLine:
    kind: str  # one of LINE_KINDS
    pay_code: str
    hours: Decimal | None
    rate: Decimal | None
    amount: Decimal

    def to_json(self) -> PricedLineJson:
        return {
            "kind": self.kind,
            "pay_code": self.pay_code,
            "hours": None if self.hours is None else str(self.hours),
            "rate": None if self.rate is None else str(self.rate),
            "amount": str(self.amount),
        }

    @classmethod
    def from_json(cls, doc: PricedLineJson) -> PricedLine:
        def dec(v: str | None) -> Decimal | None:
            return None if v is None else Decimal(v)

        return cls(str(doc["kind"]), str(doc["pay_code"]), dec(doc["hours"]), dec(doc["rate"]), Decimal(doc["amount"]))


@dataclass(frozen=True, slots=True)
class Pricing:
    """The lines of one timesheet (or fee), or why it cannot be priced (a rate missing from the card)."""

    lines: tuple[PricedLine, ...] = ()
    error: str | None = None

    @property
    def total(self) -> Decimal:
        return sum((line.amount for line in self.lines), Decimal(0))


def _line(kind: str, pay: PayPolicy, hrs: Decimal | None, rate: Decimal | None, amount: Decimal) -> PricedLine:
    return PricedLine(kind, pay.code(kind), hrs, rate, amount)


def enhancement_rates(
    pay: PayPolicy, staff_group: str, grade: str, basic: Decimal
) -> tuple[NightWindow, dict[str, Decimal]]:
    """The night window and the GBP per hour each unsocial-hours category adds, for this staff group and grade."""
    medical = pay.medical.rates.get(grade) if staff_group == StaffGroup.MEDICAL_DENTAL else None
    if medical is not None:
        weekend = medical.get("weekend")
        others = {
            "night": medical.get("night"),
            "saturday": weekend,
            "sunday": weekend,
            "bank_holiday": medical.get("bank_holiday", weekend),
        }
        rates = {c: money(r - basic) for c, r in others.items() if r is not None and r > basic}
        return pay.medical.night, rates
    if grade not in AFC_GRADES:
        return pay.unsocial.night, {}
    rates = {c: money(basic * pay.unsocial.percentage(c, grade) / 100) for c in CATEGORIES}
    return pay.unsocial.night, {c: r for c, r in rates.items() if r > 0}


def _best(rates: dict[str, Decimal]) -> Callable[[tuple[str, ...]], str | None]:
    def pick(categories: tuple[str, ...]) -> str | None:
        paid = [c for c in categories if c in rates]
        return max(paid, key=lambda c: (rates[c], -CATEGORIES.index(c))) if paid else None

    return pick


def price_worked(
    pay: PayPolicy, *, staff_group: str, grade: str, start: datetime, end: datetime, break_minutes: int
) -> Pricing:
    """Lines for paid time ``[start, end)`` less an unpaid break (see :mod:`.hours` for how it is split)."""
    basic = pay.basic_rate(staff_group, grade)
    if basic is None:
        return Pricing(error=f"no basic rate for {staff_group} {grade} in the pay policy's rate card")
    basic = money(basic)
    night, rates = enhancement_rates(pay, staff_group, grade, basic)
    segments = paid_segments(start, end, break_minutes, night)
    total_hours = hours(sum(s.seconds for s in segments))
    lines = [_line("basic", pay, total_hours, basic, money(total_hours * basic))]
    by_category = category_seconds(segments, _best(rates))
    for category in CATEGORIES[::-1]:  # night, saturday, sunday, bank holiday: the order of LINE_KINDS
        if category in by_category:
            hrs = hours(by_category[category])
            if hrs:
                lines.append(_line(category, pay, hrs, rates[category], money(hrs * rates[category])))
    return Pricing(_with_holiday_pay(pay, lines))


def price_fee(pay: PayPolicy, *, staff_group: str, grade: str, fee_hours: Decimal) -> Pricing:
    """A late-cancellation fee: ``fee_hours`` at the basic rate (and holiday pay on it, where paid)."""
    basic = pay.basic_rate(staff_group, grade)
    if basic is None:
        return Pricing(error=f"no basic rate for {staff_group} {grade} in the pay policy's rate card")
    basic, hrs = money(basic), money(fee_hours)
    return Pricing(_with_holiday_pay(pay, [_line("late_cancellation", pay, hrs, basic, money(hrs * basic))]))


def _with_holiday_pay(pay: PayPolicy, lines: list[PricedLine]) -> tuple[PricedLine, ...]:
    if pay.holiday_pay_percent:
        base = sum((line.amount for line in lines), Decimal(0))
        accrual = money(base * pay.holiday_pay_percent / 100)
        if accrual:
            lines.append(_line("holiday_pay", pay, None, None, accrual))
    return tuple(lines)
