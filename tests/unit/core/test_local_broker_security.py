"""The local broker's listener follows ``kafka_security_protocol`` (no broker here: properties and arguments)."""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

import pytest
from cryptography import x509

from rosterhub.errors import ConfigError
from rosterhub.kafka.local import LocalBroker
from rosterhub.kafka.local_security import BROKER_USER
from rosterhub.settings import Settings

PASSWORD = "local-secret"


def _broker(tmp_path: Path, protocol: str, **kw: object) -> LocalBroker:
    options: dict[str, object] = {
        "kafka_data_dir": tmp_path / "kafka",
        "kafka_port": 31001,
        "kafka_controller_port": 31002,
        "kafka_security_protocol": protocol,
    }
    if protocol.startswith("SASL_"):
        options |= {"kafka_sasl_username": "hub", "kafka_sasl_password": PASSWORD}
    return LocalBroker(Settings(**(options | kw)))


def _props(broker: LocalBroker) -> dict[str, str]:
    broker._write_config()
    return dict(line.split("=", 1) for line in broker.props.read_text().splitlines())


def test_sasl_plaintext_has_no_plaintext_client_listener(tmp_path: Path) -> None:
    broker = _broker(tmp_path, "SASL_PLAINTEXT")
    props = _props(broker)
    assert props["listeners"] == "SASL_PLAINTEXT://127.0.0.1:31001,CONTROLLER://127.0.0.1:31002"
    assert props["advertised.listeners"] == "SASL_PLAINTEXT://127.0.0.1:31001"
    assert props["listener.security.protocol.map"] == "SASL_PLAINTEXT:SASL_PLAINTEXT,CONTROLLER:PLAINTEXT"
    assert props["inter.broker.listener.name"] == "SASL_PLAINTEXT"
    assert props["sasl.enabled.mechanisms"] == props["sasl.mechanism.inter.broker.protocol"] == "SCRAM-SHA-512"
    jaas = props["listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config"]
    assert f'username="{BROKER_USER}"' in jaas and PASSWORD not in jaas  # the broker's own user, not the hub's
    assert broker.props.stat().st_mode & 0o077 == 0  # holds the broker's secret
    access = broker.access
    assert (access.security_protocol, access.sasl_username, access.ssl_cafile) == ("SASL_PLAINTEXT", "hub", None)


def test_scram_users_are_given_salted_at_format_time(tmp_path: Path) -> None:
    broker = _broker(tmp_path, "SASL_PLAINTEXT", kafka_sasl_mechanism="SCRAM-SHA-256")
    broker.root.mkdir(parents=True)
    args = broker.security.format_args()
    assert args[::2] == ["--add-scram", "--add-scram"]
    assert PASSWORD not in " ".join(args)  # nothing readable in `ps`
    pattern = r'SCRAM-SHA-256=\[name=([^,]+),iterations=(\d+),salt="([^"]+)",saltedpassword="([^"]+)"\]'
    parsed = [re.fullmatch(pattern, a) for a in args[1::2]]
    assert all(parsed)
    users = {m.group(1): m for m in parsed if m}
    assert set(users) == {"hub", BROKER_USER}
    hub = users["hub"]
    iterations, salt = int(hub.group(2)), base64.b64decode(hub.group(3))
    assert iterations >= 4096  # Kafka's minimum for SCRAM
    # RFC 5802: SaltedPassword := Hi(Normalize(password), salt, i), Hi being PBKDF2 with HMAC of the hash
    assert base64.b64decode(hub.group(4)) == hashlib.pbkdf2_hmac("sha256", PASSWORD.encode(), salt, iterations)


def test_mutual_tls_broker_requires_client_certificates_from_its_own_ca(tmp_path: Path) -> None:
    broker = _broker(tmp_path, "SSL")
    props = _props(broker)
    assert props["listeners"] == "SSL://127.0.0.1:31001,CONTROLLER://127.0.0.1:31002"
    assert props["ssl.client.auth"] == "required"
    assert props["ssl.keystore.type"] == props["ssl.truststore.type"] == "PEM"
    assert "sasl.enabled.mechanisms" not in props
    access = broker.access
    assert access.ssl_cafile is not None and access.ssl_certfile is not None and access.ssl_keyfile is not None
    assert str(access.ssl_cafile) == props["ssl.truststore.location"]
    assert access.ssl_keyfile.stat().st_mode & 0o077 == 0
    broker_cert = x509.load_pem_x509_certificates(Path(props["ssl.keystore.location"]).read_bytes())[0]
    names = broker_cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "127.0.0.1" in {str(ip) for ip in names.get_values_for_type(x509.IPAddress)}  # hostname check passes
    client = x509.load_pem_x509_certificates(access.ssl_certfile.read_bytes())[0]
    ca = x509.load_pem_x509_certificate(access.ssl_cafile.read_bytes())
    client.verify_directly_issued_by(ca)
    assert client.subject.rfc4514_string() == "CN=rosterhub"  # principal User:rosterhub after the mapping rule


def test_sasl_ssl_broker_uses_scram_over_tls_without_client_certificates(tmp_path: Path) -> None:
    broker = _broker(tmp_path, "SASL_SSL")
    props = _props(broker)
    assert props["ssl.client.auth"] == "none"
    assert props["sasl.enabled.mechanisms"] == "SCRAM-SHA-512"
    access = broker.access
    assert access.ssl_cafile is not None and access.ssl_certfile is None


@pytest.mark.parametrize(
    ("protocol", "options", "message"),
    [
        ("SASL_SSL", {"kafka_sasl_mechanism": "PLAIN"}, "supports SCRAM-SHA-256 and SCRAM-SHA-512"),
        ("SASL_PLAINTEXT", {"kafka_sasl_username": BROKER_USER}, "cannot be a local broker user"),
        ("SASL_PLAINTEXT", {"kafka_sasl_username": "a,b"}, "cannot be a local broker user"),
        ("SSL", {"kafka_ssl_cafile": "/etc/ssl/ca.pem"}, "makes its own CA"),
    ],
)
def test_what_the_local_broker_cannot_do_is_refused(
    tmp_path: Path, protocol: str, options: dict[str, object], message: str
) -> None:
    broker = _broker(tmp_path, protocol, **options)
    assert not broker.status().running  # asking for the status of such a broker is fine
    with pytest.raises(ConfigError, match=message):
        broker.start()
    with pytest.raises(ConfigError, match=message):
        _ = broker.access


def test_data_formatted_for_other_scram_users_is_refused(tmp_path: Path) -> None:
    plain = _broker(tmp_path, "PLAINTEXT")
    plain.root.mkdir(parents=True)
    plain.security.check_format()  # formatted before this setting existed: PLAINTEXT, fine
    with pytest.raises(ConfigError, match="formatted for PLAINTEXT"):
        _broker(tmp_path, "SASL_PLAINTEXT").security.check_format()
    sasl = _broker(tmp_path, "SASL_PLAINTEXT")
    sasl.security.record_format()
    sasl.security.check_format()
    with pytest.raises(ConfigError, match="SCRAM user 'hub'"):
        _broker(tmp_path, "SASL_PLAINTEXT", kafka_sasl_username="other").security.check_format()
