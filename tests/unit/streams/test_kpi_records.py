"""views.kpi records from ViewRecords are byte for byte what encode_event wrote for the KPI agent before.

Every ShiftKpi of a generated month (fills with rates, caps, costs, savings and cancellations' notice hours:
the Avro decimals) and PersonKpi records: the same key, the same value bytes, the same headers in the same
order, for the same send time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from rosterhub.codec.catalogue import default_catalogue
from rosterhub.codec.wire import SingleObjectCodec
from rosterhub.envelope import Envelope, KafkaRecord, event_id
from rosterhub.runtime import Encoder, TopicNames
from rosterhub.streams.booking.policy import load_booking_policies
from rosterhub.streams.kpi.agents import PERSON_KPI, SHIFT_KPI, SOURCE
from rosterhub.streams.kpi.facts import reads
from rosterhub.streams.kpi.policy import load_kpi_policies
from rosterhub.streams.kpi.records import ViewRecords
from rosterhub.streams.kpi.step import fold
from rosterhub.streams.kpi.view import person_kpi
from tests.kpi_traffic import generate

REPO = Path(__file__).resolve().parents[3]
TOPIC = "t.views.kpi"


@pytest.fixture(scope="module")
def encoder() -> Encoder:
    catalogue = default_catalogue()
    return Encoder(SingleObjectCodec(catalogue), TopicNames("t."), catalogue)


def _published() -> list[tuple[str, str, dict[str, Any]]]:
    """(type, key, record) of every record the agent publishes over a generated month, in delivery order."""
    policies = load_kpi_policies([REPO / "policies/kpi"], load_booking_policies([REPO / "policies/booking"]))
    table: dict[str, Any] = {}
    out = []
    for domain, key, env in generate(seed=13, shifts_per_trust_day=2).delivered():
        if domain == "passport":
            if (row := person_kpi(env.data)) is not None:
                out.append((PERSON_KPI, row["person_id"], row))
            continue
        if not reads(env.type, env.source):
            continue
        step = fold(table.get(key), env.type, env.data, event_id=env.id, at=env.time, loaded=False, policies=policies)
        if step.record is not None:
            out.append((SHIFT_KPI, key, step.record))
        if step.facts is not None:
            table[key] = step.facts
    return out


def _before(encoder: Encoder, type_: str, key: str, row: dict[str, Any], at: datetime) -> KafkaRecord:
    """What the agent sent before ViewRecords: an Envelope through encode_event."""
    revision = row.get("revision", 1)
    env = Envelope(type_, SOURCE, row, event_id("kpi", type_, key, revision), subject=key, time=at)
    return encoder.encode(env, validate=False)


def test_every_record_of_a_month_is_byte_for_byte_what_encode_event_wrote(encoder: Encoder) -> None:
    published = _published()
    fills = [r for t, _, r in published if t == SHIFT_KPI and r["fill"] and r["fill"]["cost"] is not None]
    assert len(fills) > 100 and any(r["fill"]["savings"] for r in fills)  # the decimals are exercised
    assert any(r["cancellations"] for _, _, r in published if "cancellations" in r)
    assert {t for t, _, _ in published} == {SHIFT_KPI, PERSON_KPI}
    records = ViewRecords(encoder, SOURCE, TOPIC)
    start = datetime(2026, 12, 7, 3, 58, 12, 752955, tzinfo=UTC)
    for n, (type_, key, row) in enumerate(published):
        # whole seconds too: isoformat then drops the fraction
        at = start + timedelta(microseconds=n * 250_001) if n % 5 else start.replace(microsecond=0) + timedelta(n)
        mine = records.record(type_, row, key, row.get("revision", 1), at)
        before = _before(encoder, type_, key, row, at)
        assert (mine.key, mine.value, mine.headers) == (before.key, before.value, before.headers), (n, key)
        assert mine.topic == TOPIC


def test_the_send_time_is_now_when_not_given(encoder: Encoder) -> None:
    type_, key, row = next(p for p in _published() if p[0] == SHIFT_KPI)
    records = ViewRecords(encoder, SOURCE, TOPIC)
    records.record(type_, row, key, row["revision"])  # the first goes through encode_event: the template
    low = datetime.now(UTC)
    sent = dict(records.record(type_, row, key, row["revision"]).headers)
    high = datetime.now(UTC)
    assert low <= datetime.fromisoformat(sent["ce_time"].decode()) <= high
    assert sent["ce_id"].decode() == event_id("kpi", type_, key, row["revision"])
