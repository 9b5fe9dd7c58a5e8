from pathlib import Path

import pytest

from rosterhub.errors import BrokerUnavailable
from rosterhub.kafka.local import LocalBroker, _kafka_uuid, fetch_jars, jars_dir
from rosterhub.settings import Settings


def test_server_properties_describe_a_single_kraft_node(tmp_path: Path) -> None:
    broker = LocalBroker(Settings(kafka_data_dir=tmp_path, kafka_port=30001, kafka_controller_port=30002))
    broker._write_config()
    props = dict(line.split("=", 1) for line in broker.props.read_text().splitlines())
    assert props["process.roles"] == "broker,controller"
    assert props["controller.quorum.voters"] == "1@127.0.0.1:30002"
    assert props["listeners"] == "PLAINTEXT://127.0.0.1:30001,CONTROLLER://127.0.0.1:30002"
    assert props["auto.create.topics.enable"] == "false"  # topics come from code
    assert props["offsets.topic.replication.factor"] == "1"
    assert props["share.coordinator.state.topic.replication.factor"] == "1"
    assert props["log.dirs"] == str(tmp_path.resolve() / "data")
    assert str(broker.log_file) in broker.log4j.read_text()


def test_status_without_a_broker(tmp_path: Path) -> None:
    status = LocalBroker(Settings(kafka_data_dir=tmp_path, kafka_port=30003)).status()
    assert not status.running and status.pid is None and status.bootstrap == "127.0.0.1:30003"


def test_stale_pid_file_is_not_a_running_broker(tmp_path: Path) -> None:
    broker = LocalBroker(Settings(kafka_data_dir=tmp_path))
    tmp_path.mkdir(exist_ok=True)
    broker.pid_file.write_text("999999999")
    assert broker.pid() is None
    assert broker.stop() is False and not broker.pid_file.exists()


def test_cached_jars_are_reused_without_maven(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = Settings(cache_dir=tmp_path, kafka_version="9.9.9")
    jars_dir(settings).mkdir(parents=True)
    (jars_dir(settings) / ".complete").write_text("9.9.9")
    monkeypatch.setenv("PATH", "")  # no mvn: must not be needed
    assert fetch_jars(settings) == jars_dir(settings)


def test_missing_maven_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "")
    with pytest.raises(BrokerUnavailable, match="mvn"):
        fetch_jars(Settings(cache_dir=tmp_path, kafka_version="9.9.9"))


def test_cluster_ids_look_like_kafkas() -> None:
    ids = {_kafka_uuid() for _ in range(2000)}  # ~31 of 2,000 raw ids would start with '-'
    assert len(ids) == 2000 and all(len(i) == 22 and "=" not in i and not i.startswith("-") for i in ids)
