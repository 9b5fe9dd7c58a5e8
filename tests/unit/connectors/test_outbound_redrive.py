"""Redrive planning (pure): which dead letters go back on which queue, in what order, and which are skipped."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from rosterhub.connectors.outbound.queue import Queued, StoredRecord, encode_queued
from rosterhub.connectors.outbound.redrive import parse_since, plan_redrive
from rosterhub.errors import ConfigError
from rosterhub.runtime import TopicNames

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def _dead(dest: str, key: str, shift: str, *, at: datetime = NOW, reason: str = "permanent") -> tuple:
    rec = encode_queued(Queued(key, dest, "shift_filled", shift, StoredRecord(b"ev", (("ce_id", b"e"),))), "x")
    headers = [
        ("dlq_stage", b"outbound"),
        ("dlq_failed_at", at.isoformat().encode()),
        ("dlq_reason", reason.encode()),
        ("dlq_destination", dest.encode()),
        *rec.headers,
    ]
    return rec.key, rec.value, headers


def test_dead_letters_go_back_in_order_with_the_same_bytes_and_a_redrive_mark() -> None:
    dls = [
        _dead("A", "k1", "S1"),
        _dead("A", "k2", "S1", reason="parked"),
        _dead("B", "k3", "S2"),
        _dead("A", "k1", "S1"),
        _dead("A", "k4", "S3"),
        _dead("gone", "k5", "S4"),
        (b"S5", b"junk", [("dlq_stage", b"outbound"), ("dlq_destination", b"A")]),
        (b"x", b"y", [("dlq_stage", b"mapping")]),
    ]
    plan = plan_redrive(dls, names=TopicNames("t."), destinations=["A", "B"], delivered={"k4"})
    assert [(c.destination, c.key, c.action) for c in plan] == [
        ("A", "k1", "send"),
        ("A", "k2", "send"),
        ("B", "k3", "send"),
        ("A", "k1", "repeat"),
        ("A", "k4", "delivered"),
        ("gone", "k5", "unknown"),
        ("A", "", "unreadable"),
    ]
    first = plan[0].record
    assert first is not None and first.topic == "t.out.a" and first.key == b"S1" and first.value == dls[0][1]
    assert ("rh_redrive", b"1") in first.headers and not any(k.startswith("dlq_") for k, _ in first.headers)


def test_destination_and_since_filters() -> None:
    dls = [_dead("A", "k1", "S1", at=NOW - timedelta(hours=3)), _dead("A", "k2", "S2"), _dead("B", "k3", "S3")]
    plan = plan_redrive(
        dls, names=TopicNames(), destinations=["A", "B"], delivered=set(), only="A", since=NOW - timedelta(hours=1)
    )
    assert [c.key for c in plan] == ["k2"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30m", NOW - timedelta(minutes=30)),
        ("2h", NOW - timedelta(hours=2)),
        ("1d", NOW - timedelta(days=1)),
        ("2026-11-23T10:00:00", datetime(2026, 11, 23, 10, tzinfo=UTC)),
        ("2026-11-23T10:00:00+00:00", datetime(2026, 11, 23, 10, tzinfo=UTC)),
        (None, None),
    ],
)
def test_since_is_a_time_or_a_duration_back(text: str | None, expected: datetime | None) -> None:
    assert parse_since(text, NOW) == expected


def test_a_bad_since_is_named() -> None:
    with pytest.raises(ConfigError, match="--since 'yesterday'"):
        parse_since("yesterday", NOW)
