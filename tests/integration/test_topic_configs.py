"""Issue #16: topics made by an earlier version get the record limit the code relies on, at start (real broker).

Each topic's config is read back with Kafka's own ConfigCommand (what ``kafka-configs.sh --describe`` runs), from
the broker's jars: a client nobody here wrote.
"""

from __future__ import annotations

import logging
import re
import subprocess
from dataclasses import replace

import pytest
from typer.testing import CliRunner

from rosterhub.cli.main import app as cli
from rosterhub.connectors.registry import connectors
from rosterhub.envelope import KafkaRecord
from rosterhub.errors import BrokerUnavailable, ConfigError
from rosterhub.kafka.admin import ensure_topics, topic_counts
from rosterhub.kafka.limits import MAX_RECORD_BYTES
from rosterhub.kafka.local import jars_dir
from rosterhub.kafka.producer import EventSink
from rosterhub.kafka.resolve import Resolved
from rosterhub.settings import Settings
from rosterhub.topics import declared_topics, dlq_topic, raw_topic
from tests.integration.helpers import settings_env

pytestmark = pytest.mark.integration

#: the raw and dead-letter topics' max.message.bytes before session 9 (what an upgraded deployment has)
OLD_LIMIT = 8 * 1024 * 1024
NINE_MB = 9_000_000  # over the old limit, as the 10,000-staff ESR refresh (9.7 MB) is


def kafka_configs(bootstrap: str, topic: str) -> dict[str, str]:
    """The topic's own configs as ``kafka-configs.sh --describe --entity-type topics`` prints them."""
    out = subprocess.run(
        [
            "java",
            "-cp",
            f"{jars_dir(Settings())}/*",
            "kafka.admin.ConfigCommand",  # what bin/kafka-configs.sh runs
            "--bootstrap-server",
            bootstrap,
            "--describe",
            "--entity-type",
            "topics",
            "--entity-name",
            topic,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert f"Dynamic configs for topic {topic} are:" in out.stdout, out.stdout + out.stderr
    return dict(re.findall(r"^\s+([\w.]+)=(\S*) sensitive=", out.stdout, re.MULTILINE))


def send_one(kafka: Resolved, topic: str, size: int) -> None:
    """One record of ``size`` bytes through the hub's own producer (max_request_size at the hub's limit)."""
    sink = EventSink(kafka.access, client_id="rosterhub-test-large")
    try:
        sink.send([KafkaRecord(topic, b"k", b"x" * size, [("rh_test", b"1")])])
    finally:
        sink.close()


def admin_lines(caplog: pytest.LogCaptureFixture) -> list[tuple[int, str]]:
    """What ensure_topics logged (level, message), leaving out the clients' own lines."""
    return [(r.levelno, r.getMessage()) for r in caplog.records if r.name == "rosterhub.kafka.admin"]


def test_a_raw_topic_made_at_8_mib_is_raised_at_start_and_then_takes_a_9_mb_record(
    kafka: Resolved, unique: str, caplog: pytest.LogCaptureFixture
) -> None:
    spec = raw_topic("esr").prefixed(f"t{unique}.")
    old = replace(spec, extra={"max.message.bytes": str(OLD_LIMIT)})  # as the version before session 9 made it
    assert ensure_topics(kafka.access, [old], default_partitions=1, replication_factor=1) == [spec.name]
    assert kafka_configs(kafka.bootstrap, spec.name)["max.message.bytes"] == str(OLD_LIMIT)
    with pytest.raises(BrokerUnavailable, match="MessageSizeTooLarge"):  # the upgraded hub's failure, before
        send_one(kafka, spec.name, NINE_MB)

    caplog.clear()  # only what the second start logs
    with caplog.at_level(logging.INFO, logger="rosterhub.kafka.admin"):
        assert ensure_topics(kafka.access, [spec], default_partitions=1, replication_factor=1) == []

    configs = kafka_configs(kafka.bootstrap, spec.name)
    assert configs["max.message.bytes"] == str(MAX_RECORD_BYTES) == "33554432"
    assert configs["retention.ms"] == "-1" and configs["cleanup.policy"] == "delete"  # the alter reset nothing
    assert admin_lines(caplog) == [
        (logging.INFO, f"topic {spec.name}: raised max.message.bytes from {OLD_LIMIT} to {MAX_RECORD_BYTES}")
    ]  # and no warning: nothing else differs
    send_one(kafka, spec.name, NINE_MB)
    [count] = topic_counts(kafka.access, [spec.name])
    assert count.messages == 1


def test_a_limit_an_operator_raised_and_a_retention_they_chose_are_kept_and_the_retention_named(
    kafka: Resolved, unique: str, caplog: pytest.LogCaptureFixture
) -> None:
    week = 7 * 24 * 3600 * 1000
    spec = dlq_topic("ingest").prefixed(f"t{unique}.")
    operator = replace(spec, retention_ms=week, extra={"max.message.bytes": str(64 * 1024 * 1024)})
    ensure_topics(kafka.access, [operator], default_partitions=1, replication_factor=1)

    caplog.clear()  # only what the second start logs
    with caplog.at_level(logging.INFO, logger="rosterhub.kafka.admin"):
        assert ensure_topics(kafka.access, [spec], default_partitions=1, replication_factor=1) == []

    configs = kafka_configs(kafka.bootstrap, spec.name)
    assert configs["max.message.bytes"] == "67108864" and configs["retention.ms"] == str(week)
    assert admin_lines(caplog) == [  # one warning, no raise
        (
            logging.WARNING,
            f"topic {spec.name}: retention.ms is {week} where the hub declares -1 (left as it is: an operator may "
            "have chosen it)",
        )
    ]


def test_topics_check_lists_the_limit_to_raise_and_changes_nothing(
    kafka: Resolved, unique: str, hub_settings: Settings
) -> None:
    """``rosterhub topics --check`` names what a start would change and exits 1; ``rosterhub topics`` changes it."""
    specs = declared_topics(connectors(), hub_settings.topic_prefix)
    esr = raw_topic("esr").prefixed(hub_settings.topic_prefix).name
    old = [replace(s, extra={"max.message.bytes": str(OLD_LIMIT)}) if s.name == esr else s for s in specs]
    ensure_topics(kafka.access, old, default_partitions=1, replication_factor=1)
    env = settings_env(hub_settings)

    check = CliRunner().invoke(cli, ["topics", "--check"], env=env)

    assert check.exit_code == 1, check.output
    assert check.output == f"raise    {esr} max.message.bytes {OLD_LIMIT} -> {MAX_RECORD_BYTES} (at the next start)\n"
    assert kafka_configs(kafka.bootstrap, esr)["max.message.bytes"] == str(OLD_LIMIT)

    made = CliRunner().invoke(cli, ["topics"], env=env)
    assert made.exit_code == 0, made.output
    assert kafka_configs(kafka.bootstrap, esr)["max.message.bytes"] == str(MAX_RECORD_BYTES)
    again = CliRunner().invoke(cli, ["topics", "--check"], env=env)
    assert again.exit_code == 0, again.output
    assert again.output == f"all {len(specs)} declared topics exist with the limits the hub needs\n"


def test_a_raise_the_cluster_refuses_stops_the_start_naming_the_topic_the_key_and_the_command(
    kafka: Resolved, unique: str
) -> None:
    """The path a principal without AlterConfigs takes (the local broker runs no authorizer, so the refusal here is
    the broker's own: a value over INT's range, which it refuses whatever the rights)."""
    spec = raw_topic("esr").prefixed(f"t{unique}.")
    ensure_topics(kafka.access, [spec], default_partitions=1, replication_factor=1)
    beyond = replace(spec, extra={"max.message.bytes": "3000000000"})

    with pytest.raises(ConfigError) as refused:
        ensure_topics(kafka.access, [beyond], default_partitions=1, replication_factor=1)

    message = str(refused.value)
    assert f"topic {spec.name}: max.message.bytes is {MAX_RECORD_BYTES}, the hub needs 3000000000 (" in message
    assert "InvalidConfigurationError" in message  # the broker's answer
    assert (
        f"by hand: kafka-configs.sh --bootstrap-server {kafka.access.bootstrap_servers} --alter --entity-type topics "
        f"--entity-name {spec.name} --add-config max.message.bytes=3000000000"
    ) in message
    assert kafka_configs(kafka.bootstrap, spec.name)["max.message.bytes"] == str(MAX_RECORD_BYTES)
