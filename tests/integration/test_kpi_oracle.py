"""The oracle test through the real KPI processor on the broker.

A generated month of three trusts' traffic (tests/kpi_traffic.py: fills, cancellations after a fill,
re-times across midnight and both clock changes, late, replayed and duplicated events) is produced to
events.shift, events.booking and events.passport in its disturbed delivery order; a ``rosterhub worker``
running the KPI processor folds it; views.kpi is read back (as the API's reader does) and every month's
and week's figures must equal the independent DuckDB SQL computation over the same delivered events.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition
from kafka.errors import KafkaError

from rosterhub.codec.catalogue import default_catalogue
from rosterhub.codec.wire import SingleObjectCodec
from rosterhub.envelope import decode_record
from rosterhub.events.models import ShiftKpi
from rosterhub.features import worker_group
from rosterhub.kafka.admin import ensure_topics
from rosterhub.kafka.resolve import Resolved
from rosterhub.runtime import TopicNames
from rosterhub.streams.booking.policy import load_booking_policies
from rosterhub.streams.kpi.policy import load_kpi_policies
from rosterhub.streams.kpi.query import KpiFilter, KpiQueries, period_of
from rosterhub.streams.kpi.store import KpiStore
from rosterhub.topics import declared_topics
from tests.integration.helpers import produce_events, worker_process
from tests.kpi_compare import compare_period, mismatches
from tests.kpi_oracle import Oracle
from tests.kpi_traffic import generate
from tests.support import isolated_settings

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]


def _consumed(bootstrap: str, group: str, topics: list[str], timeout: float) -> None:
    """Wait until the worker's consumer group has committed the end of every input partition."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap)
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        ends = consumer.end_offsets(
            [TopicPartition(t, p) for t in topics for p in sorted(consumer.partitions_for_topic(t) or ())]
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                committed = admin.list_group_offsets({group: None}).get(group, {})
            except KafkaError as exc:  # a fresh broker makes its offsets topic on the group's first use
                if not exc.retriable:
                    raise
                committed = {}
            # an empty partition has nothing to commit (a test producing part of its traffic at a time)
            if all(end == 0 or (committed.get(tp) and committed[tp].offset >= end) for tp, end in ends.items()):
                return
            time.sleep(1)
        raise AssertionError(f"the KPI worker did not consume {topics} within {timeout}s")
    finally:
        consumer.close()
        admin.close()


def _read_view(bootstrap: str, topic: str, last: dict[str, dict[str, Any]] | None = None) -> KpiStore:
    """views.kpi as the API's reader keeps it; ``last``, when given, receives each shift's last ShiftKpi (what
    compaction keeps)."""
    codec = SingleObjectCodec(default_catalogue())
    store = KpiStore()
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    try:
        tps = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
        consumer.assign(tps)
        consumer.seek_to_beginning(*tps)
        ends = consumer.end_offsets(tps)
        while any(consumer.position(tp) < end for tp, end in ends.items()):
            for batch in consumer.poll(timeout_ms=500).values():
                for rec in batch:
                    env = decode_record(rec.value, rec.headers, codec)
                    store.apply(env.type, env.data)
                    if last is not None and env.type == ShiftKpi.AVRO_NAME:
                        last[env.data["shift_id"]] = env.data
    finally:
        consumer.close()
    store.ready = True
    return store


def test_the_processor_on_the_broker_equals_the_oracle(kafka: Resolved, tmp_path: Path) -> None:
    settings = isolated_settings(kafka.bootstrap, tmp_path)
    names = TopicNames(settings.topic_prefix)
    ensure_topics(kafka.access, declared_topics([], settings.topic_prefix), default_partitions=3, replication_factor=1)
    traffic = generate(seed=29, shifts_per_trust_day=5, people_per_trust=25)
    delivered = traffic.delivered()
    produce_events(kafka.bootstrap, names, delivered)
    inputs = [names.events("shift"), names.events("booking"), names.events("passport")]
    with worker_process(settings, tmp_path / "worker.log", ROSTERHUB_WORKER_PROCESSORS=["kpi"]):
        _consumed(kafka.bootstrap, worker_group(settings.app_id, ["kpi"]), inputs, timeout=600)
        time.sleep(2)  # the last outputs are produced before the commit that covers their inputs
    store = _read_view(kafka.bootstrap, names.kpi_view)
    policies = load_kpi_policies([REPO / "policies/kpi"], load_booking_policies([REPO / "policies/booking"]))
    reference = dict(policies.for_trust("RHQ").agency_reference_rates)
    oracle = Oracle(delivered, reference=reference, members=["RHQ", "RCU", "RFR"])
    q = KpiQueries(store)
    october = q.summary(KpiFilter(*period_of("2026-10")))
    assert october["shifts_filled"] > 200 and october["cancellations_after_fill"] > 5 and october["break_glass"] > 0
    assert len(store.first_credential) == 75  # one PersonKpi per person, from the passport's first version
    for grain in ("month", "week"):
        for period in oracle.periods(grain):
            assert compare_period(q, oracle, period, grain) == {}, f"{grain} {period}"
    for split in ({"trust": "RFR"}, {"shift_type": "NIGHT"}, {"staff_group": "NURSING_MIDWIFERY_REGISTERED"}):
        assert mismatches(q, oracle, *period_of("2026-10"), **split) == {}, split
