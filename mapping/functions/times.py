"""Dates, times and shifts, always ending as aware instants.

Vendors send three kinds of time: ISO-8601 with an offset (kept as the instant it
names), ISO-8601 without one, and a local date plus local start/end wall-clock times.
The last two are read in the rostering zone (``Europe/London`` unless the mapping says
otherwise), through :mod:`zoneinfo`, so British Summer Time is never hand-coded.

Wall-clock times that do not map to exactly one instant follow one rule (PEP 495
``fold=0``, the same as java.time's default):

* **non-existent** (the hour skipped when clocks go forward, 01:00-01:59 on the last
  Sunday of March): read with the offset in force *before* the change, i.e. moved
  forward by the gap: 01:30 becomes 02:30 BST;
* **ambiguous** (the hour repeated when clocks go back, 01:00-01:59 on the last Sunday
  of October): the *first* occurrence (BST).

A shift end that is not after its start on the wall clock is on the next day
("19:30-08:00"); "24:00" means midnight at the end of the day. The duration is then
whatever the instants say: a 20:00-08:00 night is 11 h when the clocks go forward and
13 h when they go back, which is what the worker is paid for.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from rosterhub.instants import LONDON
from rosterhub.mapping.functions.registry import ConversionError, converter

__all__ = ["localise", "parse_local_time", "shift_bounds"]

T = TypeVar("T")

_MIN_NIGHT_HOURS = timedelta(hours=3)  # Working Time Regulations: 3 h in night time makes night work

#: A roster's time of day, unless a mapping names another format; this one also takes ``HH:MM:SS`` and ``HHMM``.
_ROSTER_TIME = "%H:%M"
#: A roster's day as UK rostering platforms print it, unless a mapping names another format.
_ROSTER_DATE = "%d/%m/%Y"


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConversionError(f"unknown time zone {name!r}", rule="timezone") from exc


def localise(naive: datetime, tz: str = LONDON.key) -> datetime:
    """The UTC instant of a wall-clock time in ``tz`` (module rule for gaps and overlaps)."""
    return naive.replace(tzinfo=_zone(tz), fold=0).astimezone(UTC)


def _text(value: object, what: str) -> str:
    if not isinstance(value, str | int | float):
        raise ConversionError(f"{what} must be text, got {type(value).__name__}", rule=what)
    return str(value).strip()


def parse_local_time(value: object, time_format: str = _ROSTER_TIME) -> tuple[time, bool]:
    """A wall-clock time and whether it was "24:00" (midnight ending the day)."""
    text = _text(value, "time")
    if text in ("24:00", "2400", "24:00:00"):
        return time(0, 0), True
    for fmt in (time_format, "%H:%M:%S", "%H%M") if time_format == _ROSTER_TIME else (time_format,):
        try:
            return datetime.strptime(text, fmt).time(), False
        except ValueError:
            continue
    raise ConversionError(f"{text!r} is not a time in the format {time_format!r}", rule="time_format")


def _parse_date(value: object, date_format: str) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = _text(value, "date")
    try:
        return datetime.strptime(text, date_format).date()
    except ValueError:
        raise ConversionError(f"{text!r} is not a date in the format {date_format!r}", rule="date_format") from None


def shift_bounds(
    day: date, start: time, end: time, *, end_is_midnight: bool = False, tz: str = LONDON.key
) -> tuple[datetime, datetime]:
    """Start and end instants of a shift rostered on ``day`` from ``start`` to ``end`` (local)."""
    begin = localise(datetime.combine(day, start), tz)
    end_day = day + timedelta(days=1) if end_is_midnight or end <= start else day
    return begin, localise(datetime.combine(end_day, end), tz)


@converter()
def instant(value: object, tz: str = LONDON.key) -> datetime:
    """An ISO-8601 date-time; with an offset or ``Z`` it is that instant, without one it is local time in ``tz``."""
    if isinstance(value, datetime):
        parsed = value
    else:
        text = _text(value, "instant")
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            raise ConversionError(f"{text!r} is not an ISO-8601 date-time", rule="iso8601") from None
    if parsed.tzinfo is None:
        return localise(parsed, tz)
    return parsed.astimezone(UTC)


@converter()
def local_datetime(value: object, format: str, tz: str = LONDON.key) -> datetime:
    """A local date-time in a vendor's own layout (``strptime`` format), read in ``tz``."""
    text = _text(value, "datetime")
    try:
        parsed = datetime.strptime(text, format)
    except ValueError:
        raise ConversionError(f"{text!r} is not a date-time in the format {format!r}", rule="datetime_format") from None
    return localise(parsed, tz) if parsed.tzinfo is None else parsed.astimezone(UTC)


@converter("date")
def to_date(value: object, format: str = "%Y-%m-%d") -> date:
    """A calendar date (no time, no zone), e.g. a date of birth or a training completion date."""
    return _parse_date(value, format)


@converter()
def epoch_millis(value: object) -> datetime:
    """An instant given as milliseconds since 1970-01-01T00:00Z."""
    try:
        return datetime.fromtimestamp(int(str(value)) / 1000, UTC)
    except (ValueError, OverflowError):
        raise ConversionError(f"{value!r} is not epoch milliseconds", rule="epoch_millis") from None


@converter()
def epoch_minutes(value: object) -> int:
    """An instant as whole minutes since 1970-01-01T00:00Z: a shift version for vendors that stamp each change
    but number none (NHSP's Status Date). Later changes get larger numbers; it fits an Avro int until 6053."""
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise ConversionError(f"{value!r} is not an aware instant", rule="epoch_minutes")
    return int(value.timestamp()) // 60


def _arg(name: str, parse: Callable[..., T], *args: object) -> T:
    """``parse(*args)``; its :class:`ConversionError` names the argument ``name`` (so the rejection names the
    vendor's field the value came from)."""
    try:
        return parse(*args)
    except ConversionError as error:
        error.arg = error.arg or name
        raise error from None


def _rostered(day: object, start: object, date_format: str, time_format: str) -> tuple[date, time]:
    """The local day and start time a shift is rostered on, read the same way for its start and its end;
    an error names the argument (``date`` or ``start``) it came from."""
    return _arg("date", _parse_date, day, date_format), _arg("start", parse_local_time, start, time_format)[0]


@converter()
def shift_start(
    date: object,
    start: object,
    *,
    date_format: str = _ROSTER_DATE,
    time_format: str = _ROSTER_TIME,
    tz: str = LONDON.key,
) -> datetime:
    """Start instant of a shift given as a local date and a local start time."""
    day, begin = _rostered(date, start, date_format, time_format)
    return localise(datetime.combine(day, begin), tz)


@converter()
def shift_end(
    date: object,
    start: object,
    end: object,
    *,
    date_format: str = _ROSTER_DATE,
    time_format: str = _ROSTER_TIME,
    tz: str = LONDON.key,
) -> datetime:
    """End instant of a shift on a local date: an end not after the start is on the next day."""
    day, begin = _rostered(date, start, date_format, time_format)
    finish, midnight = _arg("end", parse_local_time, end, time_format)
    return shift_bounds(day, begin, finish, end_is_midnight=midnight, tz=tz)[1]


def _night_overlap(start: datetime, end: datetime, tz: ZoneInfo) -> timedelta:
    """Time of [start, end) inside 23:00-06:00 local, the Working Time Regulations' default night."""
    total = timedelta()
    day = start.astimezone(tz).date() - timedelta(days=1)
    last = end.astimezone(tz).date()
    while day <= last:
        lo = localise(datetime.combine(day, time(23, 0)), tz.key)
        hi = localise(datetime.combine(day + timedelta(days=1), time(6, 0)), tz.key)
        overlap = min(end, hi) - max(start, lo)
        if overlap > timedelta():
            total += overlap
        day += timedelta(days=1)
    return total


@converter()
def shift_type(start: datetime, end: datetime, tz: str = LONDON.key) -> str:
    """Derive the ShiftType symbol from the instants when the vendor does not say.

    NIGHT: at least 3 h within 23:00-06:00 (the Working Time Regulations' night work);
    TWILIGHT: ends after 21:00 or past midnight otherwise; LONG_DAY: over 10 h;
    EARLY: starts before 10:00 and ends by 16:00; LATE: starts 12:00 or later; else DAY.
    """
    if not isinstance(start, datetime) or not isinstance(end, datetime):
        raise ConversionError("shift_type needs start and end instants", rule="shift_type")
    zone = _zone(tz)
    if end <= start:
        raise ConversionError("shift end is not after its start", rule="end_after_start")
    local_start, local_end = start.astimezone(zone), end.astimezone(zone)
    if _night_overlap(start, end, zone) >= _MIN_NIGHT_HOURS:
        return "NIGHT"
    if local_end.date() > local_start.date() or local_end.time() > time(21, 0):
        return "TWILIGHT"
    if end - start > timedelta(hours=10):
        return "LONG_DAY"
    if local_start.time() < time(10, 0) and local_end.time() <= time(16, 0):
        return "EARLY"
    if local_start.time() >= time(12, 0):
        return "LATE"
    return "DAY"


@converter()
def minutes(value: object) -> int:
    """A duration as whole minutes from ``"H:MM"``, ``"HH:MM"`` or a number of minutes."""
    text = _text(value, "minutes")
    if ":" in text:
        hours, _, mins = text.partition(":")
        if hours.isdigit() and mins.isdigit() and len(mins) == 2 and int(mins) < 60:
            return int(hours) * 60 + int(mins)
    elif text.isdigit():
        return int(text)
    raise ConversionError(f"{text!r} is not a duration (H:MM or minutes)", rule="minutes")


@converter()
def hours_to_minutes(value: object) -> int:
    """Decimal hours ("7.5") as whole minutes (450), rounded to the nearest minute."""
    try:
        return round(float(_text(value, "hours")) * 60)
    except ValueError:
        raise ConversionError(f"{value!r} is not a number of hours", rule="hours") from None


@converter()
def hours_between(start: datetime, end: datetime, minus_minutes: object = 0) -> Decimal:
    """Hours from ``start`` to ``end`` less ``minus_minutes`` (a break), to 2 places; negative when end is earlier.

    Computed on instants, so a night across a clock change counts its real length.
    """
    if not isinstance(start, datetime) or not isinstance(end, datetime):
        raise ConversionError("hours_between needs two instants", rule="hours_between")
    try:
        less = int(str(minus_minutes or 0))
    except ValueError:
        raise ConversionError(f"{minus_minutes!r} is not a number of minutes", rule="hours_between") from None
    seconds = Decimal(int((end - start).total_seconds())) - Decimal(less * 60)
    return (seconds / Decimal(3600)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
