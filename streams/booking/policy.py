"""Booking policies as configuration: the numbers and switches each booking rule reads.

One YAML file per collaborative (``policies/booking/collaborative.yaml``) and one per
trust (``policies/booking/RHQ.yaml``) that ``extends`` it. A trust file overrides the
collaborative key by key, to any depth (``working_time.reference_weeks`` alone);
lists replace rather than add, so a trust can *narrow* the approved frameworks.

Every file is validated on its own (so an error names the file that holds the bad key)
and the merged result again, when the worker starts: a typo in a rate card must stop the
worker, not silently reject every agency booking. Nothing a trust may vary is a constant
of the rule code; the defaults below are the national ones from docs/booking.md.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, time
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    NonNegativeFloat,
    NonNegativeInt,
    PositiveFloat,
    PositiveInt,
    ValidationError,
    create_model,
    field_validator,
    model_validator,
)

from rosterhub.events.codes import GRADES
from rosterhub.events.models.common import StaffGroup
from rosterhub.streams.policy_files import OdsCode, OdsCodes, known_grade, load_extending, rate_card

if TYPE_CHECKING:
    from rosterhub.streams.booking.rules.registry import Section

M = TypeVar("M", bound=BaseModel)

__all__ = [
    "AgencyPolicy",
    "BookingPolicies",
    "BookingPolicy",
    "CancellationPolicy",
    "GradePolicy",
    "GradeTolerance",
    "JuniorDoctorsPolicy",
    "MoonlightingPolicy",
    "NightPeriod",
    "RunLimit",
    "WeekendLimit",
    "WorkingTimePolicy",
    "load_booking_policies",
]

_TRAINING_GRADES = ["FY1", "FY2", "CT1_2", "ST3_5", "ST6_8"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class NightPeriod(_Model):
    """Night time in local wall-clock hours, and how much of a shift must fall in it.

    WTR regulation 2: night time is a period of at least 7 hours that includes midnight to
    05:00 (default 23:00-06:00); a *night shift* has at least ``min_hours`` (3) of its
    working time in it, which is also the 2016 junior doctors' contract definition.
    """

    start: time = time(23, 0)
    end: time = time(6, 0)
    min_hours: float = Field(default=3, gt=0, le=24)

    @field_validator("start", "end", mode="before")
    @classmethod
    def _quoted(cls, v: Any) -> Any:
        if isinstance(v, int):  # YAML 1.1 reads an unquoted 23:00 as the base-60 number 1380
            raise ValueError('write times quoted, e.g. "23:00" (unquoted, YAML reads 23:00 as a number)')
        return v

    @model_validator(mode="after")
    def _wtr_night_time(self) -> NightPeriod:
        start_min = self.start.hour * 60 + self.start.minute
        end_min = self.end.hour * 60 + self.end.minute
        length = (end_min - start_min) % (24 * 60)
        covers = (start_min >= end_min or start_min == 0) and end_min >= 5 * 60
        if length < 7 * 60 or not covers:
            raise ValueError("night time must be at least 7 hours and include midnight to 05:00 (WTR regulation 2)")
        return self


class WorkingTimePolicy(_Model):
    """Working Time Regulations 1998 limits. Weeks start Monday 00:00 local (WTR reg. 11(6))."""

    daily_rest_hours: NonNegativeFloat = Field(default=11, description="Minimum rest between two shifts.")
    weekly_rest_hours: NonNegativeFloat = Field(
        default=24, description="Uninterrupted rest in each Monday-Sunday week."
    )
    fortnightly_rest_hours: NonNegativeFloat = Field(default=48, description="Alternative: rest in each fortnight.")
    allow_fortnightly_rest: bool = Field(default=True, description="Whether the fortnightly alternative counts.")
    fortnight_anchor: date = Field(default=date(2024, 1, 1), description="A Monday on which fortnights start.")
    average_weekly_hours: PositiveFloat = Field(default=48, description="Limit on the average week (opt-out allowed).")
    reference_weeks: int = Field(default=17, ge=1, le=52, description="Reference period, rolling, in weeks.")
    night_average_hours: PositiveFloat = Field(default=8, description="Night workers' average per 24 h (no opt-out).")
    night_worker_min_nights: int = Field(
        default=1, ge=1, description="Night shifts within the reference period that make a person a night worker."
    )

    @field_validator("fortnight_anchor")
    @classmethod
    def _monday(cls, v: date) -> date:
        if v.weekday() != 0:
            raise ValueError(f"{v.isoformat()} is not a Monday")
        return v


class RunLimit(_Model):
    """At most ``max`` shifts of a kind on consecutive days; ``rest_hours`` off after a run of ``rest_after``."""

    max: PositiveInt
    rest_hours: NonNegativeFloat
    rest_after: PositiveInt | None = Field(default=None, description="Run length that needs the rest (default: max).")

    @property
    def rest_from(self) -> int:
        return self.rest_after or self.max


class WeekendLimit(_Model):
    """At most ``max`` weekends worked in any ``in_`` consecutive weekends (YAML key ``in``)."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    max: NonNegativeInt = 1
    in_: PositiveInt = Field(default=2, alias="in")

    @model_validator(mode="after")
    def _sensible(self) -> WeekendLimit:
        if self.max >= self.in_:
            raise ValueError(f"max ({self.max}) must be smaller than in ({self.in_}), or the limit never applies")
        return self


class JuniorDoctorsPolicy(_Model):
    """2016 terms and conditions for doctors in training (England): rota limits, by the person's grade."""

    training_grades: list[str] = Field(default_factory=lambda: list(_TRAINING_GRADES))
    max_hours_in_7_days: PositiveFloat = 72
    max_shift_hours: PositiveFloat = 13
    long_shift_over_hours: PositiveFloat = 10
    consecutive_long_shifts: RunLimit = RunLimit(max=5, rest_hours=48)
    consecutive_nights: RunLimit = RunLimit(max=4, rest_hours=46)
    consecutive_shifts: RunLimit = RunLimit(max=8, rest_hours=48)
    weekends: WeekendLimit = WeekendLimit()

    @field_validator("training_grades")
    @classmethod
    def _grades(cls, v: list[str]) -> list[str]:
        return [known_grade(g) for g in v]


class GradeTolerance(_Model):
    """How many grades above (``up``) or below (``down``) their own a worker may book."""

    up: int = Field(default=0, ge=0, le=2)
    down: int = Field(default=0, ge=0, le=2)


class GradePolicy(_Model):
    default: GradeTolerance = GradeTolerance()
    staff_groups: dict[StaffGroup, GradeTolerance] = Field(default_factory=dict)
    local: dict[str, str] = Field(default_factory=dict, description="Trust-local grade -> national grade it ranks as.")

    @field_validator("local")
    @classmethod
    def _local(cls, v: dict[str, str]) -> dict[str, str]:
        for local, national in v.items():
            known_grade(local)
            if national not in GRADES.codes:
                raise ValueError(f"{local} must rank as a national grade, not {national!r}")
        return v

    def tolerance(self, staff_group: str) -> GradeTolerance:
        return self.staff_groups.get(StaffGroup(staff_group), self.default)


class AgencyPolicy(_Model):
    """NHS agency rules: price cap over a rate card, approved frameworks, release tiers, break glass."""

    cap_uplift_percent: Decimal = Field(default=Decimal(55), ge=0, description="Cap = basic pay x (1 + this/100).")
    rate_card: dict[str, Decimal] = Field(default_factory=dict, description="Grade -> basic pay, GBP per hour.")
    approved_frameworks: list[str] = Field(default_factory=list)
    tiers: dict[str, int] = Field(default_factory=dict, description="Agency id -> release tier it sees (1-3).")
    default_tier: int = Field(default=3, ge=1, le=3, description="Tier of an agency not listed in tiers.")
    break_glass_allowed: bool = False
    bank_only_staff_groups: list[StaffGroup] = Field(
        default_factory=lambda: [StaffGroup.ADMIN_CLERICAL, StaffGroup.ESTATES_ANCILLARY]
    )

    @field_validator("rate_card")
    @classmethod
    def _rates(cls, v: dict[str, Decimal]) -> dict[str, Decimal]:
        return rate_card(v, rate="basic pay")

    @field_validator("tiers")
    @classmethod
    def _tiers(cls, v: dict[str, int]) -> dict[str, int]:
        bad = {a: t for a, t in v.items() if t not in {1, 2, 3}}
        if bad:
            raise ValueError(f"agency tiers are 1, 2 or 3, got {bad}")
        return v

    def cap(self, grade: str) -> Decimal | None:
        basic = self.rate_card.get(grade)
        return None if basic is None else (basic * (1 + self.cap_uplift_percent / 100)).quantize(Decimal("0.01"))


class MoonlightingPolicy(_Model):
    ban: bool = Field(default=False, description="Refuse agency bookings of people employed by a member trust.")


class CancellationPolicy(_Model):
    """Late cancellation: a trust that cancels a booked shift inside the notice period owes the worker a fee.

    NHSP BankShare's terms (docs/shared domain reference): cancelling within 4 hours of the start pays 2 hours.
    Notice is measured in real hours between the cancellation and the shift's start (UTC instants), so a
    cancellation across a clock change counts the hours that actually pass.
    """

    late_notice_hours: Decimal = Field(default=Decimal(4), ge=0, description="Less notice than this is late.")
    fee_hours: Decimal = Field(default=Decimal(2), ge=0, description="Hours paid to the worker for a late cancel.")
    fee_when_cancelled_by: list[str] = Field(
        default_factory=lambda: ["TRUST", "HUB"],
        description="Cancelling parties whose late cancellation owes the fee (a worker's own never does).",
    )


class _Sections(_Model):
    """The keys every policy file may hold; rules added later add their own (:func:`_with_rule_sections`)."""

    name: str | None = None
    rules: dict[str, bool] = Field(default_factory=dict, description="Rule id -> enabled (default: all enabled).")
    night: NightPeriod = NightPeriod()
    working_time: WorkingTimePolicy = WorkingTimePolicy()
    junior_doctors: JuniorDoctorsPolicy = JuniorDoctorsPolicy()
    grades: GradePolicy = GradePolicy()
    agency: AgencyPolicy = AgencyPolicy()
    moonlighting: MoonlightingPolicy = MoonlightingPolicy()
    cancellation: CancellationPolicy = CancellationPolicy()

    @field_validator("rules")
    @classmethod
    def _rule_ids(cls, v: dict[str, bool]) -> dict[str, bool]:
        from rosterhub.streams.booking.rules import registry  # the rules import this module

        known = registry.rule_ids()
        unknown = sorted(set(v) - set(known))
        if unknown:
            raise ValueError(f"unknown rule(s) {unknown}; known: {', '.join(known)}")
        locked = sorted(r.id for r in registry.rules() if r.always_on and v.get(r.id) is False)
        if locked:
            raise ValueError(f"{', '.join(locked)} cannot be disabled")
        return v


_S = TypeVar("_S", bound=_Sections)


class _CollaborativeFile(_Sections):
    kind: Literal["collaborative"]
    id: str
    members: OdsCodes = Field(default_factory=list)


class _TrustFile(_Sections):
    kind: Literal["trust"] = "trust"
    trust: OdsCode
    extends: str | None = None


class BookingPolicy(_Sections):
    """One trust's effective booking policy: its file merged over its collaborative's."""

    trust: str
    collaborative: str | None = None
    members: tuple[str, ...] = Field(default=(), description="ODS codes of the collaborative's member trusts.")
    fingerprint: str = ""

    def enabled(self, rule_id: str) -> bool:
        return self.rules.get(rule_id, True)

    def config(self, section: Section[M]) -> M:
        """The section a rule reads (:class:`~.rules.registry.Section`), as its model."""
        value = getattr(self, section.key)
        assert isinstance(value, section.model), f"policy section {section.key} is not a {section.model.__name__}"
        return value


def _with_rule_sections(model: type[_S]) -> type[_S]:
    """``model`` plus a field for each policy section a registered rule reads that ``model`` does not declare.

    The built-in sections (``working_time``, ``agency`` ...) are typed fields above, which the rules declaring
    them name with the same model (tests/unit/streams/test_rule_registry.py checks); a section of a rule added
    later is validated by the model the rule declares, with the same errors (file, key) as a built-in one.
    """
    from rosterhub.streams.booking.rules import registry  # the rules import this module

    extra = tuple(sorted((k, m) for k, m in registry.sections().items() if k not in model.model_fields))
    return _extended(model, extra)


@functools.cache
def _extended(model: type[_S], extra: tuple[tuple[str, type[BaseModel]], ...]) -> type[_S]:
    if not extra:
        return model
    fields: dict[str, Any] = {}
    for key, section in extra:
        try:
            fields[key] = (section, section())  # every key has a default: the section may be left out
        except ValidationError:
            fields[key] = (section | None, None)  # a required key: the rule reads None when the section is absent
    return create_model(model.__name__, __base__=model, __module__=model.__module__, **fields)


@dataclass(frozen=True)
class BookingPolicies:
    """Every trust's effective policy, by ODS code."""

    trusts: Mapping[str, BookingPolicy]

    def get(self, trust: str) -> BookingPolicy | None:
        return self.trusts.get(trust)


def load_booking_policies(paths: Iterable[Path]) -> BookingPolicies:
    """Load ``*.yaml`` files (or directories of them) into validated, merged per-trust policies."""
    trusts = load_extending(
        paths,
        "booking policy",
        collaborative=_with_rule_sections(_CollaborativeFile),
        trust=_with_rule_sections(_TrustFile),
        policy=_with_rule_sections(BookingPolicy),
        not_inherited=frozenset({"name"}),  # a trust's policy is named by its own file
    )
    return BookingPolicies(trusts)
