"""Query instants: an offset is required (Europe/London times are ambiguous without one); instants as ISO text."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from rosterhub.instants import iso_z, ms_iso_z, parse_instant, to_ms


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2027-03-28T00:30:00Z", datetime(2027, 3, 28, 0, 30, tzinfo=UTC)),
        ("2027-03-28T02:30:00+01:00", datetime(2027, 3, 28, 1, 30, tzinfo=UTC)),
        # a form-encoded query string turns "+" into a space
        ("2027-10-31T01:30:00 01:00", datetime(2027, 10, 31, 1, 30, tzinfo=timezone(timedelta(hours=1)))),
    ],
)
def test_instants_with_an_offset_are_read(text: str, expected: datetime) -> None:
    assert parse_instant(text, "from") == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2027-10-31T01:30:00", "from must carry a UTC offset"),
        ("next tuesday", "from='next tuesday' is not an ISO 8601 date-time"),
    ],
)
def test_other_spellings_are_refused_naming_the_parameter_and_value(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_instant(text, "from")


def test_instants_are_written_as_iso_text_with_z() -> None:
    at = datetime(2027, 3, 28, 0, 30, 15, 250_000, tzinfo=UTC)
    assert iso_z(at) == "2027-03-28T00:30:15.250000Z"
    assert ms_iso_z(to_ms(at)) == "2027-03-28T00:30:15.250000Z"
    assert ms_iso_z(to_ms(datetime(2027, 3, 28, tzinfo=UTC))) == "2027-03-28T00:00:00Z"
    assert ms_iso_z(None) is None
