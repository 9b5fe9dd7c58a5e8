"""The broker question behind the ingress's 429 (connectors/kinds/backpressure.py), on the real broker."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.structs import OffsetAndMetadata

from rosterhub.connectors.kinds.backpressure import consumer_group_lag
from rosterhub.kafka.admin import ensure_topics
from rosterhub.topics import TopicSpec
from tests.integration.helpers import wait_for

pytestmark = pytest.mark.integration


def test_the_lag_is_what_the_workers_group_has_not_committed(kafka: Any) -> None:
    topic, group = f"lag-{uuid.uuid4().hex[:8]}", f"workers-{uuid.uuid4().hex[:8]}"
    ensure_topics(kafka.access, [TopicSpec(topic, 2)], default_partitions=2, replication_factor=1)
    producer = KafkaProducer(**kafka.access.kafka_python(), acks="all")
    for i in range(10):
        producer.send(topic, key=str(i).encode(), value=b"x", partition=i % 2)
    producer.flush()
    producer.close()
    read = consumer_group_lag(kafka.access, group, [topic])
    # the first answers may be None (the cluster's group coordinator not there yet): the ingress holds nobody back
    assert wait_for(lambda: read() is not None, what="a lag answer") and read() == 10  # nothing committed yet
    consumer = KafkaConsumer(**kafka.access.kafka_python(), group_id=group, enable_auto_commit=False)
    consumer.commit({TopicPartition(topic, 0): OffsetAndMetadata(5, "", -1)})
    consumer.close()
    assert read() == 5


def test_with_a_group_per_processor_set_the_lag_is_the_slowest_worker_group_that_reads_the_topics(
    kafka: Any,
) -> None:
    """A booking-only worker and a views worker are two groups (decision 0017): the ingress paces by the slower of
    the two on the booking path's topics, and a group that does not read them (another app's, a passport-only
    worker's) does not count."""
    from rosterhub.connectors.kinds.backpressure import _groups_of
    from rosterhub.features import processor_names, worker_group

    app = f"app-{uuid.uuid4().hex[:8]}"
    topic = f"lag-{uuid.uuid4().hex[:8]}"
    ensure_topics(kafka.access, [TopicSpec(topic, 1)], default_partitions=1, replication_factor=1)
    producer = KafkaProducer(**kafka.access.kafka_python(), acks="all")
    for i in range(10):
        producer.send(topic, key=str(i).encode(), value=b"x")
    producer.flush()
    producer.close()
    booking = worker_group(app, ["booking"])
    views = worker_group(app, [n for n in processor_names() if n != "booking"])
    other_topic = f"other-{uuid.uuid4().hex[:8]}"
    ensure_topics(kafka.access, [TopicSpec(other_topic, 1)], default_partitions=1, replication_factor=1)

    def commit(group: str, at: int, on: str = topic) -> None:
        consumer = KafkaConsumer(**kafka.access.kafka_python(), group_id=group, enable_auto_commit=False)
        consumer.commit({TopicPartition(on, 0): OffsetAndMetadata(at, "", -1)})
        consumer.close()

    read = consumer_group_lag(kafka.access, _groups_of(app), [topic])
    assert wait_for(lambda: read() is not None, what="a lag answer") and read() == 10  # no worker group yet
    commit(booking, 9)
    commit(views, 4)
    commit(f"{app}.outbound.rxa", 0)  # a delivery group of the app: not a worker group
    commit(f"{app}x.run.booking", 0)  # another app's worker group
    commit(worker_group(app, ["passport"]), 0, on=other_topic)  # a worker group that does not read the topic
    assert wait_for(lambda: read() == 6, what="the views group's lag (the slower reader)")
    commit(views, 10)
    assert wait_for(lambda: read() == 1, what="the booking group's lag once the views caught up")
