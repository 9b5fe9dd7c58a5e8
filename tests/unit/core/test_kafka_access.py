"""KafkaAccess: the one place that turns the Kafka security settings into each client library's arguments."""

from __future__ import annotations

import ast
import asyncio
import dataclasses
import inspect
import ssl
import tomllib
from pathlib import Path

import aiokafka
import faust
import kafka
import kafka.errors as kp
import pytest
from aiokafka import errors as aio
from faust.transport.drivers.aiokafka import credentials_to_aiokafka_auth
from pydantic import SecretStr, ValidationError

from rosterhub.kafka.access import KafkaAccess, access_from_settings, java_properties
from rosterhub.kafka.failures import authentication_failure
from rosterhub.kafka.local_tls import ensure_tls_material
from rosterhub.settings import Settings

ROOT = Path(__file__).resolve().parents[3]
#: Where the hub's own code lives (bench/ and tests/ measure or check it with clients of their own).
PRODUCTION = ("rosterhub", "connectors", "streams", "mapping")
SECRET = "s3cret-not-to-be-seen"


def _sasl(**kw: object) -> Settings:
    options: dict[str, object] = {
        "kafka_bootstrap_servers": "k1:9093,k2:9093",
        "kafka_security_protocol": "SASL_SSL",
        "kafka_sasl_mechanism": "SCRAM-SHA-256",
        "kafka_sasl_username": "hub",
        "kafka_sasl_password": SECRET,
    }
    return Settings(**(options | kw))


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    return ensure_tls_material(tmp_path_factory.mktemp("tls"), hosts=["127.0.0.1", "localhost"], client_name="hub")


def test_every_security_setting_is_carried_by_the_access_and_back() -> None:
    declared = {
        name for name in Settings.model_fields if name.startswith(("kafka_security", "kafka_sasl", "kafka_ssl"))
    }
    carried = {f"kafka_{f.name}" for f in dataclasses.fields(KafkaAccess)} - {"kafka_bootstrap_servers"}
    assert declared == carried
    settings = _sasl(kafka_ssl_check_hostname=False)
    access = access_from_settings(settings)
    assert access_from_settings(Settings(**access.settings())) == access


def test_env_gives_a_child_process_the_same_access(monkeypatch: pytest.MonkeyPatch, tls) -> None:  # type: ignore[no-untyped-def]
    access = access_from_settings(
        Settings(
            kafka_bootstrap_servers="k:9093",
            kafka_security_protocol="SSL",
            kafka_ssl_cafile=tls.ca,
            kafka_ssl_certfile=tls.client_cert,
            kafka_ssl_keyfile=tls.client_key,
            kafka_ssl_check_hostname=False,
        )
    )
    for name, value in access.env().items():
        monkeypatch.setenv(name, value)
    assert access_from_settings(Settings()) == access


def test_secrets_never_show_in_repr_or_settings_dump() -> None:
    settings = _sasl()
    access = access_from_settings(settings)
    assert SECRET not in repr(access) and SECRET not in str(access) and SECRET not in access.who
    assert SECRET not in str(settings.model_dump(mode="json"))


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"kafka_security_protocol": "SASL_SSL"}, "needs kafka_sasl_username and kafka_sasl_password"),
        (
            {
                "kafka_security_protocol": "SASL_PLAINTEXT",
                "kafka_sasl_mechanism": "PLAIN",
                "kafka_sasl_username": "u",
                "kafka_sasl_password": "p",
            },
            "sends the password in clear",
        ),
        ({"kafka_security_protocol": "SSL", "kafka_ssl_certfile": "c.pem"}, "go together"),
        ({"kafka_ssl_cafile": "ca.pem"}, "does not use TLS"),
    ],
)
def test_inconsistent_security_settings_are_refused(options: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        Settings(**options)


def test_plaintext_is_just_the_address() -> None:
    access = KafkaAccess("k:9092")
    assert access.kafka_python() == {"bootstrap_servers": "k:9092", "security_protocol": "PLAINTEXT"}
    assert access.faust() == {"broker": "kafka://k:9092", "broker_credentials": None}
    assert access.java_client_config() == {"bootstrap.servers": "k:9092", "security.protocol": "PLAINTEXT"}
    assert access.ssl_context() is None


def test_sasl_over_tls_arguments_for_kafka_python_and_aiokafka(tls) -> None:  # type: ignore[no-untyped-def]
    access = dataclasses.replace(access_from_settings(_sasl()), ssl_cafile=tls.ca)
    args = access.kafka_python()
    assert args["security_protocol"] == "SASL_SSL"
    assert (args["sasl_mechanism"], args["sasl_plain_username"], args["sasl_plain_password"]) == (
        "SCRAM-SHA-256",
        "hub",
        SECRET,
    )
    ctx = args["ssl_context"]
    assert isinstance(ctx, ssl.SSLContext) and ctx.check_hostname and ctx.verify_mode == ssl.CERT_REQUIRED
    # every argument is one the libraries know (kafka-python's defaults; aiokafka's constructor)
    known = set(kafka.KafkaProducer.DEFAULT_CONFIG) & set(kafka.KafkaConsumer.DEFAULT_CONFIG)
    assert set(args) <= known
    for cls in (aiokafka.AIOKafkaProducer, aiokafka.AIOKafkaConsumer):
        assert set(access.aiokafka()) <= set(inspect.signature(cls.__init__).parameters)


def test_aiokafka_accepts_the_arguments(tls) -> None:  # type: ignore[no-untyped-def]
    """aiokafka checks protocol, mechanism and SSL context when a client is built (no connection yet)."""
    access = dataclasses.replace(access_from_settings(_sasl()), ssl_cafile=tls.ca)

    async def build() -> tuple[str, str]:
        consumer = aiokafka.AIOKafkaConsumer(**access.aiokafka())
        return consumer._client._security_protocol, consumer._client._sasl_mechanism

    assert asyncio.run(build()) == ("SASL_SSL", "SCRAM-SHA-256")
    with pytest.raises(ValueError, match="ssl_context"):  # the check is real: SSL without a context is refused

        async def without_context() -> None:
            aiokafka.AIOKafkaConsumer(**{**access.aiokafka(), "ssl_context": None})

        asyncio.run(without_context())


def test_mutual_tls_loads_the_client_certificate(tls) -> None:  # type: ignore[no-untyped-def]
    access = KafkaAccess(
        "127.0.0.1:9093",
        security_protocol="SSL",
        ssl_cafile=tls.ca,
        ssl_certfile=tls.client_cert,
        ssl_keyfile=tls.client_key,
        ssl_check_hostname=False,
    )
    ctx = access.ssl_context()
    assert ctx is not None and not ctx.check_hostname
    assert [c["subject"] for c in ctx.get_ca_certs()] == [((("commonName", "rosterhub local Kafka CA"),),)]
    with pytest.raises(ssl.SSLError):  # a key that is not the certificate's is refused when loading, not later
        dataclasses.replace(access, ssl_keyfile=tls.broker).ssl_context()
    assert "sasl_mechanism" not in access.kafka_python()


def test_faust_gets_credentials_that_become_the_same_aiokafka_arguments(tls) -> None:  # type: ignore[no-untyped-def]
    sasl = access_from_settings(_sasl(kafka_bootstrap_servers="k1:9093, k2:9093"))
    app_args = sasl.faust()
    assert app_args["broker"] == "kafka://k1:9093;kafka://k2:9093"
    creds = app_args["broker_credentials"]
    assert isinstance(creds, faust.SASLCredentials)
    auth = credentials_to_aiokafka_auth(creds)
    assert (auth["security_protocol"], auth["sasl_mechanism"]) == ("SASL_SSL", "SCRAM-SHA-256")
    assert (auth["sasl_plain_username"], auth["sasl_plain_password"]) == ("hub", SECRET)
    assert isinstance(auth["ssl_context"], ssl.SSLContext)

    plain_sasl = dataclasses.replace(sasl, security_protocol="SASL_PLAINTEXT")
    auth = credentials_to_aiokafka_auth(plain_sasl.faust()["broker_credentials"])
    assert auth["security_protocol"] == "SASL_PLAINTEXT" and auth["ssl_context"] is None

    mtls = KafkaAccess("k:9093", "SSL", ssl_cafile=tls.ca, ssl_certfile=tls.client_cert, ssl_keyfile=tls.client_key)
    auth = credentials_to_aiokafka_auth(mtls.faust()["broker_credentials"])
    assert auth["security_protocol"] == "SSL" and isinstance(auth["ssl_context"], ssl.SSLContext)


def test_java_client_config_for_scram_and_mutual_tls(tls, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    sasl = KafkaAccess(
        "k:9093", "SASL_PLAINTEXT", "SCRAM-SHA-512", "hub", SecretStr('a "quoted" \\ secret'), ssl_check_hostname=True
    )
    props = sasl.java_client_config()
    assert props["sasl.mechanism"] == "SCRAM-SHA-512"
    assert props["sasl.jaas.config"] == (
        "org.apache.kafka.common.security.scram.ScramLoginModule required "
        'username="hub" password="a \\"quoted\\" \\\\ secret";'
    )
    assert "ssl.truststore.location" not in props

    mtls = KafkaAccess(
        "k:9093",
        "SSL",
        ssl_cafile=tls.ca,
        ssl_certfile=tls.client_cert,
        ssl_keyfile=tls.client_key,
        ssl_check_hostname=False,
    )
    props = mtls.java_client_config()
    assert props["ssl.truststore.type"] == props["ssl.keystore.type"] == "PEM"
    assert props["ssl.truststore.location"] == str(tls.ca)
    assert props["ssl.keystore.key"].startswith("-----BEGIN PRIVATE KEY-----")
    assert props["ssl.keystore.certificate.chain"].count("BEGIN CERTIFICATE") == 2
    assert props["ssl.endpoint.identification.algorithm"] == ""
    written = mtls.write_java_properties(tmp_path / "sub" / "client.properties")
    assert written.stat().st_mode & 0o777 == 0o600


def test_java_properties_escape_what_properties_load_would_read_otherwise() -> None:
    text = java_properties({"a key=x": " lead\\back\nnew\tü😀", "plain": "x=y:z #1"})
    assert text == "a\\ key\\=x=\\ lead\\\\back\\nnew\\t\\u00fc\\ud83d\\ude00\nplain=x=y:z #1\n"
    assert text.isascii()  # Properties.load reads ISO-8859-1: everything beyond ASCII is escaped


def test_refused_logins_are_recognised_in_either_library_and_through_causes() -> None:
    assert authentication_failure(kp.SaslAuthenticationFailedError("bad password"))
    assert authentication_failure(aio.SaslAuthenticationFailed("bad password"))
    assert authentication_failure(aio.UnsupportedSaslMechanismError("no SCRAM"))
    wrapped = RuntimeError("bootstrap failed")
    wrapped.__cause__ = ssl.SSLCertVerificationError(1, "certificate verify failed")
    assert "not trusted" in (authentication_failure(wrapped) or "")
    assert authentication_failure(ssl.SSLError(1, "[SSL: TLSV13_ALERT_CERTIFICATE_REQUIRED] alert")) is not None
    assert authentication_failure(kp.KafkaConnectionError("connection refused")) is None
    assert authentication_failure(OSError("no route to host")) is None


def _client_calls(path: Path) -> list[tuple[str, ast.Call]]:
    """Constructions of a Kafka client (kafka-python, aiokafka, faust, confluent-kafka) in one module."""
    names = {
        "KafkaProducer",
        "KafkaConsumer",
        "KafkaAdminClient",
        "AIOKafkaProducer",
        "AIOKafkaConsumer",
        "AIOKafkaAdminClient",
    }
    tree = ast.parse(path.read_text(encoding="utf-8"))
    confluent = {
        alias.asname or alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("confluent_kafka")
        for alias in node.names
        if alias.name in ("Producer", "Consumer", "AdminClient", "DeserializingConsumer", "SerializingProducer")
    }
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
        is_faust_app = isinstance(func, ast.Attribute) and name == "App" and ast.unparse(func.value) == "faust"
        if name in names or name in confluent or is_faust_app:
            found.append((f"{path.relative_to(ROOT)}:{node.lineno} {name}", node))
    return found


def test_every_kafka_client_of_the_hub_takes_its_connection_from_kafka_access() -> None:
    """No client is configured by hand: each gets ``**<access>.kafka_python()`` / ``.aiokafka()`` / ``.faust()``."""
    by_hand = {"bootstrap_servers", "security_protocol", "broker", "broker_credentials", "ssl_context"}
    calls = [c for folder in PRODUCTION for p in sorted((ROOT / folder).rglob("*.py")) for c in _client_calls(p)]
    assert len(calls) >= 15, calls  # the scan finds the hub's clients (not vacuous)
    wrong = []
    for where, call in calls:
        spread = [
            k.value
            for k in call.keywords
            if k.arg is None
            and isinstance(k.value, ast.Call)
            and isinstance(k.value.func, ast.Attribute)
            and k.value.func.attr in ("kafka_python", "aiokafka", "faust")
        ]
        named = {k.arg for k in call.keywords} & by_hand
        explicit = {k.arg for k in call.keywords if k.arg and k.arg.startswith(("sasl_", "ssl_"))}
        if not spread or named or explicit:
            wrong.append(where)
    assert wrong == []


def test_the_configuration_guide_examples_are_valid_settings() -> None:
    from rosterhub.config_docs import render_configuration_md

    section = render_configuration_md().split("## Kafka security", 1)[1]
    blocks = [b.split("```", 1)[0] for b in section.split("```toml\n")[1:]]
    assert len(blocks) == 2
    scram, mtls = (tomllib.loads(b) for b in blocks)
    access = access_from_settings(Settings(**scram, kafka_sasl_password=SECRET))
    assert access.uses_sasl and access.uses_tls and access.sasl_mechanism == "SCRAM-SHA-512"
    access = access_from_settings(Settings(**mtls, kafka_bootstrap_servers="k:9093"))
    assert access.security_protocol == "SSL" and access.ssl_certfile is not None
