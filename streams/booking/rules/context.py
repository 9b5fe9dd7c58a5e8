"""Everything a booking rule may look at, as one frozen value: :class:`RuleContext`.

Rules are pure functions of a context, so a decision can be re-run (and explained) from
the same inputs. Whoever builds the context (the booking agent, later) gathers the
person's other confirmed bookings from *every* trust and platform, the passport's
clearance and the host trust's effective policy; the rules never fetch anything.

Instants are stored in UTC (aware datetimes in, converted on construction), so rules can
subtract them safely; see :mod:`.clock` for why.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar

from rosterhub.events.models.common import MembershipType, ReleaseTier, ShiftType, StaffGroup
from rosterhub.streams.booking.policy import BookingPolicy
from rosterhub.streams.booking.rules.clock import is_night, utc
from rosterhub.streams.booking.rules.passport import Clearance

__all__ = ["BookingRequest", "Employment", "OtherBooking", "RuleContext", "ShiftSpec", "WorkInterval"]

T = TypeVar("T")


def _instants(obj: object, start: datetime, end: datetime, what: str) -> None:
    s, e = utc(start), utc(end)
    if e <= s:
        raise ValueError(f"{what} ends ({e.isoformat()}) at or before it starts ({s.isoformat()})")
    object.__setattr__(obj, "start", s)
    object.__setattr__(obj, "end", e)


@dataclass(frozen=True, slots=True)
class BookingRequest:
    """Who asks, and how they would be engaged for this shift."""

    booking_id: str
    person_id: str
    membership: MembershipType  # how this booking engages them: BANK, SUBSTANTIVE or AGENCY
    grade: str  # the worker's own canonical grade
    staff_group: StaffGroup  # the worker's staff group
    home_trust: str | None = None  # ODS code of the trust whose bank (or payroll) they belong to
    substantive_employer: str | None = None  # ODS code of the trust employing them substantively, if any
    agency: str | None = None  # agency id, for AGENCY engagements
    framework: str | None = None  # framework the agency supplies under
    charge_rate: Decimal | None = None  # GBP per hour the agency charges the trust (all-in)
    break_glass: bool = False  # the trust invoked the break-glass clause for this booking
    break_glass_authoriser: str | None = None  # who authorised it (recorded on the result)
    wtr_opt_out: bool = False  # signed opt-out of the 48 h average week


@dataclass(frozen=True, slots=True)
class ShiftSpec:
    """The requested shift as the hub knows it (from ShiftPosted and the shift table)."""

    shift_id: str
    trust: str
    staff_group: StaffGroup
    grade: str
    start: datetime
    end: datetime
    tier: ReleaseTier = ReleaseTier.OWN_BANK
    rate: Decimal | None = None  # bank rate offered, GBP per hour
    shift_type: ShiftType = ShiftType.OTHER
    status: str = "open"  # the booking processor's shift status: open | filled | awaiting_shift
    filled_by: str | None = None

    def __post_init__(self) -> None:
        _instants(self, self.start, self.end, f"shift {self.shift_id}")

    @property
    def duration(self) -> timedelta:
        return self.end - self.start


@dataclass(frozen=True, slots=True)
class OtherBooking:
    """Another confirmed booking of the same person, at any trust, through any platform.

    ``is_night`` may be given by whoever knows better; left ``None`` it is worked out from
    the times with the host trust's night period.
    """

    booking_id: str
    trust: str
    start: datetime
    end: datetime
    is_night: bool | None = None

    def __post_init__(self) -> None:
        _instants(self, self.start, self.end, f"booking {self.booking_id}")


@dataclass(frozen=True, slots=True)
class WorkInterval:
    """One shift in the person's timeline; ``new`` marks the one being decided."""

    booking_id: str
    trust: str
    start: datetime
    end: datetime
    night: bool
    new: bool

    @property
    def hours(self) -> float:
        return (self.end - self.start).total_seconds() / 3600


@dataclass(frozen=True, slots=True)
class Employment:
    """A membership the hub holds for the person (ESR's assignments, through identity): who employs them, how."""

    trust: str
    membership: MembershipType
    start: date | None = None
    end: date | None = None  # last day; None: open-ended
    ended: bool = False  # the source said it ended (ESR's T), whatever ``end`` says

    def substantive_on(self, day: date) -> bool:
        """A substantive assignment in force on ``day``."""
        if self.membership != MembershipType.SUBSTANTIVE or (self.ended and self.end is None):
            return False
        return (self.start is None or self.start <= day) and (self.end is None or day <= self.end)

    @classmethod
    def from_json(cls, value: Mapping[str, Any]) -> Employment:
        """From identity's membership message (streams/identity/memberships.py)."""

        def day(text: Any) -> date | None:
            return date.fromisoformat(str(text)) if text else None

        kind = str(value.get("type") or "OTHER")
        membership = MembershipType(kind) if kind in MembershipType.__members__ else MembershipType.OTHER
        return cls(
            str(value.get("trust") or ""),
            membership,
            day(value.get("from")),
            day(value.get("to")),
            bool(value.get("ended")),
        )


@dataclass(frozen=True, slots=True)
class RuleContext:
    request: BookingRequest
    shift: ShiftSpec
    policy: BookingPolicy
    others: tuple[OtherBooking, ...] = field(default_factory=tuple)
    clearance: Clearance | None = None  # None: the passport has not answered yet
    #: the person's memberships as identity last told the person stage (ESR's assignments); None: it has told
    #: nothing, so no record of a membership source (ESR) is linked to this person
    employments: tuple[Employment, ...] | None = None

    #: What rules derive from the context, by the function that derives it (:meth:`derived`).
    _derived: dict[Callable[[RuleContext], Any], Any] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def derived(self, make: Callable[[RuleContext], T]) -> T:
        """``make(self)``, worked out once per context: a check runs a dozen rules over the same bookings (the
        timeline, the working-time windows), and a person's bookings reach months back."""
        if make not in self._derived:
            self._derived[make] = make(self)
        return self._derived[make]  # type: ignore[no-any-return]  # stored by the same make

    @property
    def new(self) -> WorkInterval:
        return self.derived(_new)

    def timeline(self) -> tuple[WorkInterval, ...]:
        """The person's shifts with this one, by start; their own re-sent booking of this id is left out."""
        return self.derived(_timeline)


def _new(ctx: RuleContext) -> WorkInterval:
    s = ctx.shift
    night = is_night(s.start, s.end, ctx.policy.night)
    return WorkInterval(ctx.request.booking_id, s.trust, s.start, s.end, night, new=True)


def _timeline(ctx: RuleContext) -> tuple[WorkInterval, ...]:
    night = ctx.policy.night
    items = [
        WorkInterval(
            o.booking_id,
            o.trust,
            o.start,
            o.end,
            o.is_night if o.is_night is not None else is_night(o.start, o.end, night),
            new=False,
        )
        for o in ctx.others
        if o.booking_id != ctx.request.booking_id
    ]
    return tuple(sorted([*items, ctx.new], key=lambda w: (w.start, w.end, w.booking_id)))
