"""The plan for topics that exist already (issue #16): raise the record limit, never lower it, name other drift."""

from __future__ import annotations

from rosterhub.kafka.limits import MAX_RECORD_BYTES
from rosterhub.topic_configs import ConfigChange, TopicConfigPlan, alter_command, plan_topic_configs, refused_raises
from rosterhub.topics import SCHEMAS, TopicSpec, dlq_topic, raw_topic

RAW = raw_topic("esr")
LIMIT = str(MAX_RECORD_BYTES)
OLD = str(8 * 1024 * 1024)


def effective(**configs: str | None) -> dict[str, str | None]:
    """A topic's configs as DescribeConfigs reports them: ``max_message_bytes=...`` for ``max.message.bytes``."""
    base: dict[str, str | None] = {"cleanup.policy": "delete", "retention.ms": "-1", "max.message.bytes": LIMIT}
    base.update({k.replace("_", "."): v for k, v in configs.items()})
    return base


def test_a_lower_limit_is_raised_to_the_declared_one() -> None:
    plan = plan_topic_configs([RAW], {RAW.name: effective(max_message_bytes=OLD)})
    assert plan == TopicConfigPlan(raises=(ConfigChange(RAW.name, "max.message.bytes", LIMIT, OLD),))


def test_a_higher_limit_is_kept_and_an_equal_one_is_left_alone() -> None:
    higher = plan_topic_configs([RAW], {RAW.name: effective(max_message_bytes=str(64 * 1024 * 1024))})
    equal = plan_topic_configs([RAW], {RAW.name: effective()})
    assert higher == equal == TopicConfigPlan()
    assert higher.drift_warnings() == []


def test_a_limit_the_topic_does_not_report_is_raised() -> None:
    """Unset and no default reported (the broker always reports one: defensive): nothing there to lower."""
    plan = plan_topic_configs([RAW], {RAW.name: effective(max_message_bytes=None)})
    assert plan.raises == (ConfigChange(RAW.name, "max.message.bytes", LIMIT, None),)


def test_limits_are_compared_as_numbers() -> None:
    assert plan_topic_configs([RAW], {RAW.name: effective(max_message_bytes="9" * 3)}).raises != ()
    assert plan_topic_configs([RAW], {RAW.name: effective(max_message_bytes="1" + "0" * 9)}).raises == ()


def test_other_keys_that_differ_are_named_and_never_altered() -> None:
    dlq = dlq_topic("ingest")
    week = str(7 * 24 * 3600 * 1000)
    plan = plan_topic_configs(
        [RAW, dlq],
        {
            RAW.name: effective(retention_ms=week, cleanup_policy="compact,delete", max_message_bytes=OLD),
            dlq.name: effective(retention_ms=week),
        },
    )
    assert plan.raises == (ConfigChange(RAW.name, "max.message.bytes", LIMIT, OLD),)
    assert plan.drift == (
        ConfigChange(RAW.name, "cleanup.policy", "delete", "compact,delete"),
        ConfigChange(RAW.name, "retention.ms", "-1", week),
        ConfigChange(dlq.name, "retention.ms", "-1", week),
    )
    assert plan.drift_warnings() == [  # one line per topic, each key with its declared and actual value
        f"topic raw.esr: cleanup.policy is compact,delete where the hub declares delete; retention.ms is {week} "
        "where the hub declares -1 (left as it is: an operator may have chosen it)",
        f"topic dlq.ingest: retention.ms is {week} where the hub declares -1 (left as it is: an operator may have "
        "chosen it)",
    ]


def test_a_cleanup_policy_list_is_the_same_in_any_order() -> None:
    both = TopicSpec("x.both", extra={"cleanup.policy": "compact,delete"})
    assert plan_topic_configs([both], {both.name: effective(cleanup_policy="delete, compact")}) == TopicConfigPlan()


def test_a_compacted_topic_is_checked_for_its_policy_only() -> None:
    """``_rosterhub.schemas`` declares ``cleanup.policy=compact`` and nothing else: a retention or a record limit
    of the topic's own is not compared, and never raised."""
    as_made = {"cleanup.policy": "compact", "retention.ms": "604800000", "max.message.bytes": "1048588"}
    assert plan_topic_configs([SCHEMAS], {SCHEMAS.name: as_made}) == TopicConfigPlan()
    deleted = plan_topic_configs([SCHEMAS], {SCHEMAS.name: {**as_made, "cleanup.policy": "delete"}})
    assert deleted == TopicConfigPlan(drift=(ConfigChange(SCHEMAS.name, "cleanup.policy", "compact", "delete"),))


def test_topics_that_do_not_exist_are_left_to_creation_and_unreadable_ones_listed() -> None:
    missing, unreadable = raw_topic("nhsp"), dlq_topic("mapping")
    plan = plan_topic_configs([missing, unreadable, RAW], {unreadable.name: {}, RAW.name: effective()})
    assert plan == TopicConfigPlan(unread=(unreadable.name,))


def test_the_prefix_is_part_of_every_name() -> None:
    spec = RAW.prefixed("prod.")
    plan = plan_topic_configs([spec], {spec.name: effective(max_message_bytes=OLD)})
    assert plan.raises[0].topic == "prod.raw.esr"
    assert alter_command(plan.raises[0], "kafka-1:9094") == (
        "kafka-configs.sh --bootstrap-server kafka-1:9094 --alter --entity-type topics --entity-name prod.raw.esr "
        f"--add-config max.message.bytes={LIMIT}"
    )


def test_a_refused_raise_names_topic_key_values_the_answer_and_the_command() -> None:
    dlq = dlq_topic("ingest").prefixed("prod.")
    raw = RAW.prefixed("prod.")
    plan = plan_topic_configs(
        [raw, dlq], {raw.name: effective(max_message_bytes=OLD), dlq.name: effective(max_message_bytes=None)}
    )
    assert list(plan.raises_by_topic()) == ["prod.raw.esr", "prod.dlq.ingest"]
    denied = "[Error 29] TopicAuthorizationFailedError: Authorization failed."
    message = refused_raises([(c, denied) for c in plan.raises], "kafka-1:9094")
    assert message.splitlines()[1:] == [
        f"  topic prod.raw.esr: max.message.bytes is {OLD}, the hub needs {LIMIT} ({denied}); by hand: "
        "kafka-configs.sh --bootstrap-server kafka-1:9094 --alter --entity-type topics --entity-name prod.raw.esr "
        f"--add-config max.message.bytes={LIMIT}",
        f"  topic prod.dlq.ingest: max.message.bytes is unset, the hub needs {LIMIT} ({denied}); by hand: "
        "kafka-configs.sh --bootstrap-server kafka-1:9094 --alter --entity-type topics --entity-name prod.dlq.ingest "
        f"--add-config max.message.bytes={LIMIT}",
    ]
    assert "AlterConfigs" in message.splitlines()[0]
