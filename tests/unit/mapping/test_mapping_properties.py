"""Property-based tests: identifier normalisation and Europe/London time handling.

Identifiers: every spelling of a valid number normalises to one canonical form, that
form is a fixpoint (normalise(normalise(x)) == normalise(x)), and anything else is
refused with a ConversionError (never another exception, never a "repaired" number).

Times: a shift given as a local date and local start/end wall-clock times lasts the
wall-clock difference adjusted by the change of UTC offset between its ends: 20:00-08:00
is 11 h on the spring-forward night, 13 h on the fall-back night, 12 h otherwise.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from rosterhub.instants import LONDON
from rosterhub.mapping.engine import MappingSpec
from rosterhub.mapping.functions import ConversionError
from rosterhub.mapping.functions.identifiers import HCPC_PREFIXES, normalise_gmc, normalise_hcpc, normalise_nmc
from rosterhub.mapping.functions.times import localise, parse_local_time, shift_bounds, shift_type

DIGIT = st.sampled_from("0123456789")
LETTER = st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
SEPARATOR = st.sampled_from(["", " ", "  ", "-", "."])


def scramble(draw: st.DrawFn, text: str) -> str:
    """The same identifier as a person might type it: random case, separators between characters."""
    out = []
    for ch in text:
        out.append(ch.lower() if draw(st.booleans()) else ch)
        out.append(draw(SEPARATOR) if draw(st.integers(0, 4)) == 0 else "")
    return draw(SEPARATOR) + "".join(out) + draw(st.sampled_from(["", " ", "\t"]))


@st.composite
def gmc_spellings(draw: st.DrawFn) -> tuple[str, str]:
    digits = "".join(draw(st.lists(DIGIT, min_size=7, max_size=7)))
    canonical = draw(st.sampled_from([digits, "L" + digits[1:]]))
    prefix = "C" if canonical[0] != "L" and draw(st.booleans()) else ""
    return scramble(draw, prefix + canonical), canonical


@st.composite
def nmc_spellings(draw: st.DrawFn) -> tuple[str, str]:
    parts = [draw(DIGIT), draw(DIGIT), draw(LETTER), *(draw(DIGIT) for _ in range(4)), draw(LETTER)]
    canonical = "".join(parts)
    return scramble(draw, canonical), canonical


@st.composite
def hcpc_spellings(draw: st.DrawFn) -> tuple[str, str]:
    canonical = draw(st.sampled_from(HCPC_PREFIXES)) + "".join(draw(st.lists(DIGIT, min_size=1, max_size=6)))
    return scramble(draw, canonical), canonical


@dataclass(frozen=True)
class Register:
    """A professional register's numbers: the normaliser, how a person might spell them, the canonical form."""

    normalise: Callable[[str], str]
    spellings: st.SearchStrategy[tuple[str, str]]  # (as typed, canonical)
    canonical: str  # a regular expression


REGISTERS = {
    "gmc": Register(normalise_gmc, gmc_spellings(), r"\d{7}|L\d{6}"),  # with or without the C
    "nmc": Register(normalise_nmc, nmc_spellings(), r"\d{2}[A-Z]\d{4}[A-Z]"),  # in any case and spacing
    "hcpc": Register(normalise_hcpc, hcpc_spellings(), r"(?:" + "|".join(HCPC_PREFIXES) + r")\d{1,6}"),  # each prefix
}


@pytest.mark.parametrize("register", REGISTERS.values(), ids=REGISTERS.keys())
@settings(deadline=None)  # first calls load zone data and mapping files
@given(data=st.data())
def test_every_spelling_normalises_to_one_canonical_fixpoint(register: Register, data: st.DataObject) -> None:
    raw, canonical = data.draw(register.spellings)
    assert register.normalise(raw) == canonical
    assert register.normalise(register.normalise(raw)) == canonical


@settings(deadline=None)  # first calls load zone data and mapping files
@given(st.text(max_size=14))
def test_arbitrary_text_is_either_refused_or_a_valid_fixpoint(text: str) -> None:
    for register in REGISTERS.values():
        try:
            out = register.normalise(text)
        except ConversionError:
            continue
        assert re.fullmatch(register.canonical, out), (text, out)
        assert register.normalise(out) == out


@settings(deadline=None)  # first calls load zone data and mapping files
@given(st.integers(0, 10**12).filter(lambda n: len(str(n)) != 7))
def test_gmc_numbers_of_the_wrong_length_are_refused(number: int) -> None:
    for raw in (str(number), f"C{number}"):
        try:
            normalise_gmc(raw)
        except ConversionError:
            continue
        raise AssertionError(f"{raw!r} was accepted as a GMC number")


@settings(deadline=None)  # first calls load zone data and mapping files
@given(st.from_regex(r"\d{2}[A-Z]\d{5}|\d{3}[A-Z]{2}\d{3}|[A-Z]{2}\d{6}", fullmatch=True))
def test_malformed_nmc_pins_are_refused(raw: str) -> None:
    try:
        normalise_nmc(raw)
    except ConversionError:
        return
    raise AssertionError(f"{raw!r} was accepted as an NMC PIN")


# --- time ------------------------------------------------------------------------------------------


def last_sunday(year: int, month: int) -> date:
    last = date(year, month, calendar.monthrange(year, month)[1])
    return last - timedelta(days=(last.weekday() - 6) % 7)


def wall_offset(day: date, at: time) -> timedelta:
    """UTC offset of a wall-clock time under the documented rule (fold=0)."""
    offset = datetime.combine(day, at).replace(tzinfo=LONDON, fold=0).utcoffset()
    assert offset is not None
    return offset


TIMES = st.times().map(lambda t: t.replace(second=0, microsecond=0))
YEARS = st.integers(1996, 2100)  # EU summer-time rules: last Sunday of March and of October


@st.composite
def shift_days(draw: st.DrawFn) -> date:
    """Any day, with the two clock-change nights (and the days after) drawn often."""
    year = draw(YEARS)
    special = [last_sunday(year, 3), last_sunday(year, 10)]
    choice = draw(st.sampled_from(["any", "spring", "autumn"]))
    if choice == "any":
        return draw(st.dates(date(1996, 1, 1), date(2100, 12, 30)))
    base = special[0] if choice == "spring" else special[1]
    return base + timedelta(days=draw(st.integers(-1, 0)))


@settings(deadline=None)  # first calls load zone data and mapping files
@given(shift_days(), TIMES, TIMES)
@example(date(1996, 3, 31), time(1, 0), time(2, 0))  # found by hypothesis: 01:00 is read as 02:00 BST, the end
@example(date(1996, 3, 31), time(1, 30), time(2, 0))
def test_duration_is_wall_clock_difference_adjusted_by_the_offset_change(day: date, start: time, end: time) -> None:
    begin, finish = shift_bounds(day, start, end)
    wall = datetime.combine(date.min, end) - datetime.combine(date.min, start)
    if wall <= timedelta():
        wall += timedelta(days=1)
    end_day = day + timedelta(days=1) if end <= start else day
    change = wall_offset(end_day, end) - wall_offset(day, start)
    assert finish - begin == wall - change
    if finish <= begin:
        # Only a start in the hour skipped in spring (read an hour later, by the module's rule) with an end at most
        # that hour later on the wall clock, 01:30-02:00 say: no real shift, and the mapping refuses the record.
        assert day == last_sunday(day.year, 3) and time(1) <= start < time(2) and wall <= timedelta(hours=1)
        with pytest.raises(ConversionError, match="not after its start"):
            shift_type(begin, finish)


@settings(deadline=None)  # first calls load zone data and mapping files
@given(YEARS)
def test_night_shift_on_the_clock_change_nights(year: int) -> None:
    spring_eve = last_sunday(year, 3) - timedelta(days=1)
    autumn_eve = last_sunday(year, 10) - timedelta(days=1)
    night = (time(20, 0), time(8, 0))
    begin, finish = shift_bounds(spring_eve, *night)
    assert finish - begin == timedelta(hours=11)
    begin, finish = shift_bounds(autumn_eve, *night)
    assert finish - begin == timedelta(hours=13)
    begin, finish = shift_bounds(spring_eve - timedelta(days=7), *night)
    assert finish - begin == timedelta(hours=12)


@settings(deadline=None)  # first calls load zone data and mapping files
@given(YEARS, st.integers(0, 59))
def test_nonexistent_times_move_forward_and_ambiguous_times_take_the_first(year: int, minute: int) -> None:
    spring, autumn = last_sunday(year, 3), last_sunday(year, 10)
    gap = localise(datetime.combine(spring, time(1, minute)))
    assert gap.astimezone(LONDON).replace(tzinfo=None) == datetime.combine(spring, time(2, minute))
    overlap = localise(datetime.combine(autumn, time(1, minute)))
    assert overlap == datetime.combine(autumn, time(0, minute), tzinfo=UTC)  # 01:mm BST, the first one
    assert overlap.astimezone(LONDON).utcoffset() == timedelta(hours=1)


@settings(deadline=None)  # first calls load zone data and mapping files
@given(st.datetimes(datetime(1996, 1, 1), datetime(2100, 12, 31)).map(lambda d: d.replace(second=0, microsecond=0)))
def test_wall_times_that_exist_once_round_trip(wall: datetime) -> None:
    aware = wall.replace(tzinfo=LONDON)
    assume(aware.astimezone(UTC).astimezone(LONDON).replace(tzinfo=None) == wall)  # not in the gap
    assume(wall.replace(tzinfo=LONDON, fold=1).utcoffset() == aware.utcoffset())  # not in the overlap
    assert localise(wall).astimezone(LONDON).replace(tzinfo=None) == wall


@settings(deadline=None)  # first calls load zone data and mapping files
@given(TIMES)
def test_local_time_parsing_round_trips(at: time) -> None:
    assert parse_local_time(at.strftime("%H:%M")) == (at, False)
    assert parse_local_time(at.strftime("%H%M")) == (at, False)


# --- bad input never raises -----------------------------------------------------------------------

_SPECS: dict[str, MappingSpec] = {}


def _spec(name: str) -> MappingSpec:
    from rosterhub.mapping.engine import find_mapping, load_mapping

    if name not in _SPECS:
        _SPECS[name] = load_mapping(find_mapping(name))
    return _SPECS[name]


_SEEDS = {
    "patchwork": b'{"event": "shift.created", "data": {"shift_id": "1", "organisation_ods": "RXX"}}',
    "healthroster": b'<Export trustCode="RXX"><Duty id="1"><Times>20:00-08:00</Times></Duty></Export>',
    "healthroster_csv": b"Duty ID,Trust Code,Start\n1,RXX,20:00\n",
    "esr": b"HDR|RXX|I|20260101|000000|DAILY|1\nPER|1|N\nTRL|1\n",
    "fhir": b'{"resourceType": "Bundle", "entry": [{"resource": {"resourceType": "Slot", "status": "free"}}]}',
    "nhsp": b"Booking Reference,Trust Code,Status\nB1,RXX,Booked\n",
}


@st.composite
def mangled(draw: st.DrawFn) -> tuple[str, bytes]:
    name = draw(st.sampled_from(sorted(_SEEDS)))
    seed = bytearray(_SEEDS[name])
    for _ in range(draw(st.integers(0, 6))):
        op = draw(st.sampled_from(["flip", "cut", "insert"]))
        at = draw(st.integers(0, max(len(seed) - 1, 0)))
        if op == "flip" and seed:
            seed[at] = draw(st.integers(0, 255))
        elif op == "cut":
            del seed[at : at + draw(st.integers(1, 8))]
        else:
            seed[at:at] = draw(st.binary(min_size=1, max_size=8))
    return name, bytes(seed)


@settings(deadline=None)  # first calls load zone data and mapping files
@given(mangled())
def test_bad_input_never_raises_and_every_record_is_accounted_for(case: tuple[str, bytes]) -> None:
    from rosterhub.errors import ParseError
    from rosterhub.mapping.engine import apply_mapping
    from rosterhub.mapping.engine.formats import read_payload

    name, body = case
    spec = _spec(name)
    out = apply_mapping(
        spec, body, received_at=datetime(2026, 3, 25, tzinfo=UTC), trust="RXX", secrets={"esr_identity": b"k"}
    )
    try:
        refs = [r.ref for r in read_payload(spec.reader, body, spec.sensitive).records]
    except ParseError:
        refs = ["payload"]
    accounted = {e.record_ref for e in out.events} | {r.record_ref for r in out.rejected}
    accounted |= {s.record_ref for s in out.skipped}
    assert accounted == set(refs)
    assert len(out.rejected) + len(out.skipped) + len({e.record_ref for e in out.events}) == len(refs)
    assert all(r.raw for r in out.rejected)
