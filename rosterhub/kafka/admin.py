"""Cluster administration through kafka-python: readiness, topic creation, offsets.

kafka-python is the hub's client for everything that is not a stateful stream
processor (connectors, admin, tools); faust (aiokafka) runs the processors.
See docs/decisions/0003-kafka-clients.md.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition
from kafka.errors import KafkaError, TopicAlreadyExistsError

from rosterhub.errors import BrokerUnavailable
from rosterhub.topics import TopicSpec

__all__ = ["TopicCount", "api_version", "broker_answers", "ensure_topics", "topic_counts"]

log = logging.getLogger(__name__)


def broker_answers(bootstrap: str, timeout_s: float = 2.0) -> bool:
    """True when the cluster answers a metadata request (used as the readiness probe)."""
    try:
        admin = KafkaAdminClient(
            bootstrap_servers=bootstrap, request_timeout_ms=int(timeout_s * 1000), client_id="rosterhub-probe"
        )
    except (KafkaError, OSError):
        return False
    try:
        admin.describe_cluster()
        return True
    except (KafkaError, OSError):
        return False
    finally:
        admin.close()


def api_version(bootstrap: str) -> str:
    """The broker protocol level kafka-python negotiates (e.g. ``4.1``), for logs and tests."""
    admin = _admin(bootstrap)
    try:
        data = admin._manager.broker_version_data
        return ".".join(str(p) for p in data.broker_version)
    finally:
        admin.close()


def _admin(bootstrap: str) -> KafkaAdminClient:
    try:
        return KafkaAdminClient(bootstrap_servers=bootstrap, client_id="rosterhub-admin", request_timeout_ms=30000)
    except (KafkaError, OSError) as exc:
        raise BrokerUnavailable(f"no Kafka broker answers at {bootstrap}", cause=str(exc)) from exc


def ensure_topics(
    bootstrap: str, specs: Sequence[TopicSpec], *, default_partitions: int, replication_factor: int
) -> list[str]:
    """Create the topics that do not exist yet; return the names created. Safe to call at every start."""
    admin = _admin(bootstrap)
    try:
        existing = set(admin.list_topics())
        new = {
            s.name: {
                "num_partitions": s.partitions or default_partitions,
                "replication_factor": replication_factor,
                "configs": s.configs(),
            }
            for s in specs
            if s.name not in existing
        }
        if not new:
            return []
        try:
            admin.create_topics(new, wait_for_metadata=True)
        except TopicAlreadyExistsError:
            # Another process created some of them between list and create: that is the goal anyway.
            log.debug("some topics appeared concurrently; continuing")
        created = list(new)
        log.info("created topics: %s", ", ".join(created))
        return created
    finally:
        admin.close()


@dataclass(frozen=True, slots=True)
class TopicCount:
    topic: str
    messages: int  # sum over partitions of (end offset - start offset)


def topic_counts(bootstrap: str, topics: Iterable[str]) -> list[TopicCount]:
    """How many records each topic holds now (end minus beginning offsets)."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, client_id="rosterhub-status", enable_auto_commit=False)
    try:
        result = []
        for topic in topics:
            parts = consumer.partitions_for_topic(topic) or set()
            tps = [TopicPartition(topic, p) for p in parts]
            if not tps:
                result.append(TopicCount(topic, 0))
                continue
            end = consumer.end_offsets(tps)
            begin = consumer.beginning_offsets(tps)
            result.append(TopicCount(topic, sum(end[tp] - begin[tp] for tp in tps)))
        return result
    finally:
        consumer.close()
