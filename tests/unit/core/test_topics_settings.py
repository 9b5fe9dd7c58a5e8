import pytest
from pydantic import ValidationError

from rosterhub.kafka.limits import MAX_RECORD_BYTES
from rosterhub.runtime import TopicNames
from rosterhub.settings import KAFKA_VERSION, Settings
from rosterhub.topics import AUDIT, OUTBOUND_BLOCKS, SCHEMAS, declared_topics, dlq_topic, raw_topic


def test_declared_topics_follow_the_naming_convention() -> None:
    names = [t.name for t in declared_topics(["patchwork", "esr"])]
    assert "_rosterhub.schemas" in names
    assert {"events.shift", "events.booking", "dlq.mapping", "raw.patchwork", "raw.esr"} <= set(names)
    assert all(n == n.lower() for n in names)


def test_prefix_applies_to_every_topic() -> None:
    assert all(t.name.startswith("staging.") for t in declared_topics(["patchwork"], "staging."))


def test_topic_names_prefix_internal_and_declared_topics_alike() -> None:
    names = TopicNames("staging.")
    assert (names.schemas, names.audit, names.outbound_blocks) == (
        "staging." + SCHEMAS.name,
        "staging." + AUDIT.name,
        "staging." + OUTBOUND_BLOCKS.name,
    )
    assert (names.events("shift"), names.dlq("mapping"), names.raw("esr")) == (
        "staging.events.shift",
        "staging.dlq.mapping",
        "staging.raw.esr",
    )
    assert TopicNames().schemas == "_rosterhub.schemas"


def test_schemas_topic_is_compacted_and_others_keep_forever() -> None:
    assert SCHEMAS.configs() == {"cleanup.policy": "compact"}
    assert raw_topic("patchwork").configs() == {
        "cleanup.policy": "delete",
        "retention.ms": "-1",
        "max.message.bytes": str(MAX_RECORD_BYTES),
    }
    assert dlq_topic("ingest").configs()["max.message.bytes"] == str(MAX_RECORD_BYTES)


def test_the_record_limit_is_declared_once_for_the_largest_trusts_refresh() -> None:
    """32 MiB: a 25,000-staff ESR refresh (~25 MB) with its keyed values; what must agree derives from it."""
    from rosterhub.connectors.kinds.filedrop.transport import MAX_FILE_BYTES_CAP
    from rosterhub.connectors.receipt import RAW_RECORD_LIMIT
    from rosterhub.connectors.vendors.esr import MAX_FILE_BYTES as ESR_MAX

    assert MAX_RECORD_BYTES == 32 * 1024 * 1024
    assert RAW_RECORD_LIMIT == MAX_RECORD_BYTES - 64 * 1024
    assert MAX_FILE_BYTES_CAP == MAX_RECORD_BYTES - 512 * 1024
    assert ESR_MAX == MAX_RECORD_BYTES - 4 * 1024 * 1024 <= MAX_FILE_BYTES_CAP
    # the largest file's rh_keyed (~112 bytes a person of ~970 file bytes) still fits beside it
    assert ESR_MAX + ESR_MAX * 112 // 970 < RAW_RECORD_LIMIT


def test_unknown_dlq_stage_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown dead-letter stage"):
        dlq_topic("nowhere")


def test_settings_read_standard_env_names(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "k1:9092,k2:9092")
    monkeypatch.setenv("SCHEMA_REGISTRY_URL", "http://registry:8081")
    monkeypatch.setenv("ROSTERHUB_OUTBOUND_ENDPOINTS", '{"RHQ": "http://trust/outcomes"}')
    s = Settings()
    assert s.kafka_bootstrap_servers == "k1:9092,k2:9092"
    assert s.kafka_url == "kafka://k1:9092;kafka://k2:9092"
    assert s.schema_registry_url == "http://registry:8081"
    assert s.outbound_endpoints == {"RHQ": "http://trust/outcomes"}
    assert s.kafka_version == KAFKA_VERSION


def test_settings_from_toml_file(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = tmp_path / "hub.toml"
    cfg.write_text('topic_prefix = "prod."\nkafka_port = 29999\n[outbound_endpoints]\nRHQ = "http://x"\n')
    monkeypatch.setenv("ROSTERHUB_CONFIG", str(cfg))
    monkeypatch.setenv("ROSTERHUB_KAFKA_PORT", "30001")  # environment beats the file
    s = Settings()
    assert (s.topic_prefix, s.kafka_port, s.outbound_endpoints) == ("prod.", 30001, {"RHQ": "http://x"})


def test_unknown_setting_is_an_error(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = tmp_path / "hub.toml"
    cfg.write_text("kafka_prot = 1\n")
    monkeypatch.setenv("ROSTERHUB_CONFIG", str(cfg))
    with pytest.raises(ValidationError, match="kafka_prot"):
        Settings()
