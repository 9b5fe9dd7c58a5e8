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
