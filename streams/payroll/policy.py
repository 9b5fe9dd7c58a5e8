"""Payroll policies as configuration: every figure pay, approval and recharges use, with documented defaults.

One YAML file per collaborative (``policies/payroll/collaborative.yaml``) and one per trust that
``extends`` it, merged key by key as the booking policies are (lists replace). Three parts of a
trust's policy are read for three different trusts, on purpose:

* ``timesheets`` and ``approval``: the **host** trust's (its ward checks the hours worked there);
* ``pay``: the **employing** trust's (its payroll pays, from its own rate card);
* ``employment`` and ``recharge``: the collaborative's (who employs, and the on-costs recharged).

The defaults are national figures where one exists (Agenda for Change Annex 5 unsocial hours, the
12.07 % rolled-up holiday pay, NHSP's 4-hour / 2-hour late cancellation) and are listed in
docs/payroll.md; rate cards have no default: a trust that pays must say what it pays.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import time
from decimal import Decimal
from types import MappingProxyType
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from rosterhub.auth.roles import Role
from rosterhub.events.codes import GRADES, PAY_CODES
from rosterhub.events.models.common import StaffGroup
from rosterhub.ods import ODS
from rosterhub.streams.policy_files import known_grade, rate_card

__all__ = [
    "AFC_GRADES",
    "CATEGORIES",
    "ApprovalPolicy",
    "Employment",
    "MedicalRates",
    "MonthlyCutoff",
    "NightWindow",
    "PayPolicy",
    "PayrollPolicy",
    "RechargePolicy",
    "TimesheetRules",
    "UnsocialHours",
    "WeeklyCutoff",
]

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
#: Unsocial-hours categories, in the order a tie between equal enhancements is settled.
CATEGORIES = ("bank_holiday", "sunday", "saturday", "night")
#: Line kind -> pay code, where a pay policy's ``pay_codes`` names none.
DEFAULT_PAY_CODES: Mapping[str, str] = MappingProxyType(
    {
        "basic": "BASIC",
        "night": "NIGHT",
        "saturday": "WEEKEND",
        "sunday": "WEEKEND",
        "bank_holiday": "BANK_HOLIDAY",
        "holiday_pay": "HOLIDAY_PAY",
        "late_cancellation": "LATE_CANCELLATION_FEE",
    }
)
#: Agenda for Change pay bands: the staff paid by Annex 5 percentages (not the medical locum rates).
AFC_GRADES = frozenset(c for c in GRADES.codes if c.startswith("BAND_"))


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _clock(v: Any) -> Any:
    if isinstance(v, int):  # YAML 1.1 reads an unquoted 20:00 as the base-60 number 1200
        raise ValueError('write times quoted, e.g. "20:00"')
    return v


def _pay_code(value: str) -> str:
    if not PAY_CODES.accepts(value):
        raise ValueError(f"{value!r} is not a pay code (docs/events.md) or a trust-local X-<ODS>-<CODE>")
    return value


class TimesheetRules(_Model):
    """How far a timesheet may differ from its booking before the hub queries it (the host trust's)."""

    start_tolerance_minutes: int = Field(default=15, ge=0, description="Actual start vs booked start, either way.")
    end_tolerance_minutes: int = Field(default=15, ge=0, description="Actual end vs booked end, either way.")
    break_tolerance_minutes: int = Field(default=15, ge=0, description="Break taken vs the shift's break.")
    missing_after_days: int = Field(default=7, ge=1, description="Days after a booking ends before it is reported.")
    unmatched_grace_hours: float = Field(
        default=24, gt=0, description="How long a timesheet may wait for its booking before it is queried NO_BOOKING."
    )


class ApprovalPolicy(_Model):
    """Who signs a timesheet off (the host trust's).

    ``auto``: a timesheet within tolerance is approved by the hub at once; one outside it is queried,
    and can still be approved by the ``steps`` roles. ``steps``: every timesheet needs one approval
    per named role, in order (one or two steps), from the platform (its approval_step) or the API.
    """

    mode: Literal["auto", "steps"] = "auto"
    steps: list[str] = Field(default_factory=lambda: [Role.WARD_MANAGER.value], min_length=1, max_length=2)

    @field_validator("steps")
    @classmethod
    def _roles(cls, v: list[str]) -> list[str]:
        """Each step is a role the hub's tokens carry (rosterhub/auth/roles.py), so the API can check it."""
        known = {r.value for r in Role}
        bad = [r for r in v if r not in known]
        if bad or len(set(v)) != len(v):
            raise ValueError(f"steps are distinct roles of the hub ({', '.join(sorted(known))}), got {v}")
        return v


class WeeklyCutoff(_Model):
    """A weekly period ends at ``at`` (Europe/London) on ``weekday``; the period end date is that day."""

    weekday: Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"] = "sunday"
    at: time = time(23, 59, 59)

    _quoted = field_validator("at", mode="before")(_clock)


class MonthlyCutoff(_Model):
    """A monthly period ends at ``at`` on ``day`` of the month (1-28, or ``last``)."""

    day: int | Literal["last"] = "last"
    at: time = time(23, 59, 59)

    _quoted = field_validator("at", mode="before")(_clock)

    @field_validator("day")
    @classmethod
    def _day(cls, v: int | str) -> int | str:
        if isinstance(v, int) and not 1 <= v <= 28:
            raise ValueError("a monthly cut-off day is 1-28 (every month has it) or 'last'")
        return v


class NightWindow(_Model):
    start: time
    end: time

    _quoted = field_validator("start", "end", mode="before")(_clock)


class UnsocialHours(_Model):
    """Agenda for Change Annex 5: unsocial hours as a percentage of the basic rate, by band.

    Each hour gets at most one enhancement: the highest that applies (bank holiday, Sunday,
    Saturday, weekday night; ties in that order). ``percent`` maps each category to band ->
    percentage, with ``default`` for bands not listed.
    """

    night: NightWindow = NightWindow(start=time(20, 0), end=time(6, 0))
    percent: dict[str, dict[str, Decimal]] = Field(
        default_factory=lambda: {
            "night": {"BAND_1": Decimal(50), "BAND_2": Decimal(44), "BAND_3": Decimal(37), "default": Decimal(30)},
            "saturday": {"BAND_1": Decimal(50), "BAND_2": Decimal(44), "BAND_3": Decimal(37), "default": Decimal(30)},
            "sunday": {"BAND_1": Decimal(100), "BAND_2": Decimal(88), "BAND_3": Decimal(74), "default": Decimal(60)},
            "bank_holiday": {
                "BAND_1": Decimal(100),
                "BAND_2": Decimal(88),
                "BAND_3": Decimal(74),
                "default": Decimal(60),
            },
        }
    )

    @field_validator("percent")
    @classmethod
    def _percent(cls, v: dict[str, dict[str, Decimal]]) -> dict[str, dict[str, Decimal]]:
        for category, bands in v.items():
            if category not in CATEGORIES:
                raise ValueError(f"unknown unsocial-hours category {category!r}; known: {', '.join(CATEGORIES)}")
            for band, pct in bands.items():
                known_grade(band, default=True)
                if pct < 0:
                    raise ValueError(f"{category}.{band}: a percentage cannot be negative")
        return v

    def percentage(self, category: str, grade: str) -> Decimal:
        bands = self.percent.get(category, {})
        return bands.get(grade, bands.get("default", Decimal(0)))


class MedicalRates(_Model):
    """Medical locum rates, GBP per hour, per grade: ``day`` is the basic rate; ``night``, ``weekend`` and
    ``bank_holiday`` (default: ``weekend``) replace it for those hours, paid as an enhancement line of the
    difference. Weekend is Saturday and Sunday."""

    night: NightWindow = NightWindow(start=time(21, 0), end=time(7, 0))
    rates: dict[str, dict[str, Decimal]] = Field(default_factory=dict)

    @field_validator("rates")
    @classmethod
    def _rates(cls, v: dict[str, dict[str, Decimal]]) -> dict[str, dict[str, Decimal]]:
        for grade, card in v.items():
            known_grade(grade, default=True)
            if "day" not in card:
                raise ValueError(f"{grade}: a medical locum rate needs at least 'day'")
            unknown = set(card) - {"day", "night", "weekend", "bank_holiday"}
            if unknown:
                raise ValueError(
                    f"{grade}: unknown rate(s) {sorted(unknown)}; known: day, night, weekend, bank_holiday"
                )
            if any(r <= 0 for r in card.values()):
                raise ValueError(f"{grade}: rates must be positive")
        return v


class PayPolicy(_Model):
    """How the employing trust pays bank work."""

    cycle: Literal["weekly", "monthly"] = "weekly"
    weekly_cutoff: WeeklyCutoff = WeeklyCutoff()
    monthly_cutoff: MonthlyCutoff = MonthlyCutoff()
    basis: Literal["shift_grade", "worker_grade"] = Field(
        default="shift_grade", description="Pay at the shift's grade or at the worker's own grade."
    )
    rate_card: dict[str, Decimal] = Field(default_factory=dict, description="Grade -> bank basic rate, GBP/hour.")
    staff_group_rates: dict[StaffGroup, dict[str, Decimal]] = Field(
        default_factory=dict, description="Staff group -> grade -> rate, where a group is paid differently."
    )
    unsocial: UnsocialHours = UnsocialHours()
    medical: MedicalRates = MedicalRates()
    holiday_pay_percent: Decimal | None = Field(
        default=None, ge=0, le=100, description="Rolled-up holiday pay on bank work (12.07 where paid); none: not."
    )
    late_cancellation_fee: bool = Field(
        default=True, description="Pay the fee hours a late cancellation by the trust carries (BookingCancelled)."
    )
    pay_codes: dict[str, str] = Field(
        default_factory=lambda: dict(DEFAULT_PAY_CODES),
        description="Line kind -> pay code (a trust may use its own X-<ODS>-<CODE>).",
    )

    @field_validator("rate_card")
    @classmethod
    def _card(cls, v: dict[str, Decimal]) -> dict[str, Decimal]:
        return rate_card(v, rate="rate", default=True)

    @field_validator("pay_codes")
    @classmethod
    def _codes(cls, v: dict[str, str]) -> dict[str, str]:
        kinds = {"basic", *CATEGORIES, "holiday_pay", "late_cancellation"}
        unknown = set(v) - kinds
        if unknown:
            raise ValueError(f"unknown line kind(s) {sorted(unknown)}; known: {', '.join(sorted(kinds))}")
        for code in v.values():
            _pay_code(code)
        return v

    def code(self, kind: str) -> str:
        return self.pay_codes.get(kind, DEFAULT_PAY_CODES[kind])

    def basic_rate(self, staff_group: str, grade: str) -> Decimal | None:
        if staff_group == StaffGroup.MEDICAL_DENTAL and grade in self.medical.rates:
            return self.medical.rates[grade]["day"]
        by_group = self.staff_group_rates.get(StaffGroup(staff_group), {})
        return by_group.get(grade, self.rate_card.get(grade))


class Employment(_Model):
    """Who employs and pays the collaborative's bank workers."""

    model: Literal["lead_employer", "distributed", "managed_service"] = "distributed"
    lead_employer: str | None = Field(default=None, description="ODS code of the lead employer (lead_employer).")
    provider: str | None = Field(default=None, description="ODS code of the managed service (managed_service).")
    provider_name: str | None = None

    @model_validator(mode="after")
    def _named(self) -> Employment:
        if self.model == "lead_employer" and not (self.lead_employer and ODS.match(self.lead_employer)):
            raise ValueError("a lead_employer model names the lead_employer's ODS code")
        if self.model == "managed_service" and not (self.provider and ODS.match(self.provider)):
            raise ValueError("a managed_service model names the provider's ODS code")
        return self


class RechargePolicy(_Model):
    on_cost_percent: Decimal = Field(
        default=Decimal(0), ge=0, le=100, description="Employer on-costs (NI, pension) added to each recharge, %."
    )


class PayrollPolicy(_Model):
    """One trust's effective payroll policy: its file merged over its collaborative's."""

    trust: str
    name: str | None = None
    collaborative: str | None = None
    members: tuple[str, ...] = ()
    fingerprint: str = ""
    timesheets: TimesheetRules = TimesheetRules()
    approval: ApprovalPolicy = ApprovalPolicy()
    pay: PayPolicy = PayPolicy()
    employment: Employment = Employment()
    recharge: RechargePolicy = RechargePolicy()
