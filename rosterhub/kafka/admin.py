"""Cluster administration through kafka-python: readiness, topic creation and limits, offsets.

kafka-python is the hub's client for everything that is not a stateful stream
processor (connectors, admin, tools); faust (aiokafka) runs the processors.
See docs/decisions/0003-kafka-clients.md.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from aiokafka.errors import KafkaError as AioKafkaError
from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition
from kafka.admin import ConfigResource, ConfigResourceType
from kafka.errors import KafkaError, TopicAlreadyExistsError
from kafka.protocol.broker_version_data import infer_broker_version_from_api_versions

from rosterhub.errors import BrokerUnavailable, ConfigError, KafkaAuthenticationFailed
from rosterhub.kafka.access import KafkaAccess
from rosterhub.kafka.failures import authentication_failure
from rosterhub.topic_configs import ConfigChange, TopicConfigPlan, plan_topic_configs, refused_raises
from rosterhub.topics import TopicSpec

__all__ = [
    "TopicCheck",
    "TopicCount",
    "api_version",
    "broker_answers",
    "check_topics",
    "ensure_topics",
    "probe",
    "refused_login",
    "topic_counts",
]

log = logging.getLogger(__name__)


def probe(kafka: KafkaAccess, timeout_s: float = 10.0) -> None:
    """Ask the cluster for its metadata; raise :class:`BrokerUnavailable` naming why it did not answer.

    A refused login (wrong SCRAM password, unknown user, untrusted certificate) raises
    :class:`KafkaAuthenticationFailed` within a second: kafka-python retries a refused login until
    its bootstrap time-out and then reports only "Unable to bootstrap", so the login is first tried
    once on its own (:func:`refused_login`).
    """
    refused = refused_login(kafka, timeout_s)
    if refused is not None:
        raise KafkaAuthenticationFailed(
            f"the Kafka cluster at {kafka.bootstrap_servers} refused the hub's login ({kafka.who}, "
            f"{kafka.security_protocol}): {refused}"
        )
    timeout_ms = int(timeout_s * 1000)
    try:
        admin = KafkaAdminClient(
            **kafka.kafka_python(),
            request_timeout_ms=timeout_ms,
            bootstrap_timeout_ms=timeout_ms,
            client_id="rosterhub-probe",
        )
    except (KafkaError, OSError) as exc:
        raise _unavailable(kafka, exc) from exc
    try:
        admin.describe_cluster()
    except (KafkaError, OSError) as exc:
        raise _unavailable(kafka, exc) from exc
    finally:
        admin.close()


def refused_login(kafka: KafkaAccess, timeout_s: float = 10.0) -> str | None:
    """Open one connection to the first bootstrap server that accepts one; the cause if it refused the login.

    None when the login succeeded or no server could be reached (that is for the caller's probe to report).
    Uses aiokafka's connection, which authenticates once and raises the broker's own answer. Call it from
    synchronous code only (it runs its own event loop).
    """
    from aiokafka.conn import create_conn

    options = {k: v for k, v in kafka.aiokafka().items() if k != "bootstrap_servers"}

    async def attempt() -> str | None:
        for hostport in kafka.bootstrap_servers.split(","):
            host, _, port = hostport.strip().rpartition(":")
            try:
                conn = await asyncio.wait_for(
                    create_conn(host.strip("[]"), int(port), request_timeout_ms=int(timeout_s * 1000), **options),
                    timeout_s,
                )
            except (KafkaError, AioKafkaError, OSError, TimeoutError) as exc:
                cause = authentication_failure(exc)
                if cause is not None:
                    return cause
                continue
            conn.close()
            return None
        return None

    return asyncio.run(attempt())


def broker_answers(kafka: KafkaAccess, timeout_s: float = 2.0) -> bool:
    """True when the cluster answers a metadata request with the hub's credentials (the readiness probe)."""
    try:
        probe(kafka, timeout_s)
    except BrokerUnavailable:
        return False
    return True


def api_version(kafka: KafkaAccess) -> str:
    """The broker protocol level kafka-python negotiates (e.g. ``4.1``), for logs and tests."""
    admin = _admin(kafka)
    try:
        # The version kafka-python infers from the broker's ApiVersions answer, as it does on connecting.
        version: tuple[int, ...] = infer_broker_version_from_api_versions(admin.api_versions())
        return ".".join(str(p) for p in version)
    finally:
        admin.close()


def live_groups(kafka: KafkaAccess) -> list[str]:
    """The consumer groups that have members now (stable or rebalancing), by name."""
    from kafka.admin import GroupState

    live = [GroupState.STABLE, GroupState.PREPARING_REBALANCE, GroupState.COMPLETING_REBALANCE]
    admin = _admin(kafka)
    try:
        found = admin.list_groups(states_filter=live)
        return sorted(group["group_id"] for group in found)
    except KafkaError as exc:
        raise _unavailable(kafka, exc) from exc
    finally:
        admin.close()


def _admin(kafka: KafkaAccess) -> KafkaAdminClient:
    try:
        return KafkaAdminClient(**kafka.kafka_python(), client_id="rosterhub-admin", request_timeout_ms=30000)
    except (KafkaError, OSError) as exc:
        raise _unavailable(kafka, exc) from exc


def _unavailable(kafka: KafkaAccess, exc: BaseException) -> BrokerUnavailable:
    """The error to report for a failed connection: an authentication failure is named as such."""
    auth = authentication_failure(exc)
    if auth is not None:
        return KafkaAuthenticationFailed(
            f"the Kafka cluster at {kafka.bootstrap_servers} refused the hub's login ({kafka.who}, "
            f"{kafka.security_protocol}): {auth}"
        )
    return BrokerUnavailable(
        f"no Kafka broker answers at {kafka.bootstrap_servers} ({kafka.security_protocol})", cause=str(exc)
    )


def ensure_topics(
    kafka: KafkaAccess, specs: Sequence[TopicSpec], *, default_partitions: int, replication_factor: int
) -> list[str]:
    """Create the topics that do not exist yet; return the names created. Safe to call at every start.

    Topics that exist already get the limits the code relies on (``max.message.bytes``): raised to the declared
    value when lower, never lowered; other declared configs that differ are named in a warning and left as they
    are (:mod:`rosterhub.topic_configs`). A raise the cluster refuses (no AlterConfigs right) stops the start with
    a :class:`ConfigError` naming each topic, key and the command to run by hand (docs/deploy.md, "Record size").
    """
    admin = _admin(kafka)
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
        if new:
            try:
                admin.create_topics(new, wait_for_metadata=True)
            except TopicAlreadyExistsError:
                # Another process created some of them between list and create: that is the goal anyway.
                log.debug("some topics appeared concurrently; continuing")
            log.info("created topics: %s", ", ".join(new))
        _apply(kafka, admin, _plan(kafka, admin, [s for s in specs if s.name in existing]))
        return list(new)
    finally:
        admin.close()


@dataclass(frozen=True, slots=True)
class TopicCheck:
    """What :func:`ensure_topics` would do now: create ``missing``, and what ``plan`` says about the others."""

    missing: list[str]
    plan: TopicConfigPlan


def check_topics(kafka: KafkaAccess, specs: Sequence[TopicSpec]) -> TopicCheck:
    """Compare the declared topics with the cluster's, changing nothing (``rosterhub topics --check``)."""
    admin = _admin(kafka)
    try:
        existing = set(admin.list_topics())
        plan = _plan(kafka, admin, [s for s in specs if s.name in existing])
        return TopicCheck([s.name for s in specs if s.name not in existing], plan)
    finally:
        admin.close()


def _plan(kafka: KafkaAccess, admin: KafkaAdminClient, specs: Sequence[TopicSpec]) -> TopicConfigPlan:
    """Read the effective configs of these existing topics (broker defaults included) and plan what to change."""
    if not specs:
        return TopicConfigPlan()
    resources = [ConfigResource(ConfigResourceType.TOPIC, s.name) for s in specs]
    try:
        answer = admin.describe_configs(resources, config_filter="all")
    except (KafkaError, OSError) as exc:
        raise _unavailable(kafka, exc) from exc
    # kafka-python drops a resource's error code: a topic the principal may not DescribeConfigs comes back empty
    topics = answer.get("topic", {})
    described = {s.name: {k: v.get("value") for k, v in topics.get(s.name, {}).items()} for s in specs}
    return plan_topic_configs(specs, described)


def _apply(kafka: KafkaAccess, admin: KafkaAdminClient, plan: TopicConfigPlan) -> None:
    """Log the drift, raise the limits (an incremental alter of those keys only), fail naming what was refused."""
    for line in plan.drift_warnings():
        log.warning("%s", line)
    if plan.unread:
        # The documented least-privilege layout: only the `rosterhub topics` job's admin user reads topic configs.
        log.info(
            "the configs of %d existing topic(s) could not be read (no DescribeConfigs right?), so their record "
            "limits were not checked: %s; `rosterhub topics` run with a user that may describe and alter topic "
            "configs checks and raises them",
            len(plan.unread),
            ", ".join(plan.unread),
        )
    if not plan.raises:
        return
    by_topic = plan.raises_by_topic()
    resources = [
        ConfigResource(ConfigResourceType.TOPIC, topic, {c.key: c.declared for c in changes})
        for topic, changes in by_topic.items()
    ]
    try:
        # incremental=True: IncrementalAlterConfigs sets these keys only. kafka-python's default (None) falls back
        # to a whole-config AlterConfigs on a broker without it, which resets every key it does not name.
        answers = admin.alter_configs(resources, raise_on_unknown=False, incremental=True).get("topic", {})
    except (KafkaError, OSError) as exc:
        answers = {topic: str(exc) for topic in by_topic}
    refused: list[tuple[ConfigChange, str]] = []
    for topic, changes in by_topic.items():
        outcome = answers.get(topic, "no answer")  # "OK", or the broker's error for this topic
        for c in changes:
            if outcome == "OK":
                log.info("topic %s: raised %s from %s to %s", topic, c.key, c.shown, c.declared)
            else:
                refused.append((c, outcome))
    if refused:
        raise ConfigError(refused_raises(refused, kafka.bootstrap_servers))


@dataclass(frozen=True, slots=True)
class TopicCount:
    topic: str
    messages: int  # sum over partitions of (end offset - start offset)


def topic_counts(kafka: KafkaAccess, topics: Iterable[str]) -> list[TopicCount]:
    """How many records each topic holds now (end minus beginning offsets)."""
    consumer = KafkaConsumer(**kafka.kafka_python(), client_id="rosterhub-status", enable_auto_commit=False)
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
