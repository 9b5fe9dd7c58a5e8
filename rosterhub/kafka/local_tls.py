"""TLS material for the local broker: a private CA, the broker's certificate and a client certificate.

Why generated: the local broker is for development and tests, where nobody has a PKI at hand,
yet TLS and mutual TLS must be exercised against a real broker. Everything is made once per
data directory (``<kafka_data_dir>/tls``) with the ``cryptography`` package and reused; keys are
PKCS#8 PEM (the form Kafka's PEM key stores read), readable by their owner only.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

__all__ = ["TlsMaterial", "ensure_tls_material"]

_VALID_FOR = dt.timedelta(days=825)


@dataclass(frozen=True, slots=True)
class TlsMaterial:
    ca: Path  # CA certificate (trust store of both sides)
    broker: Path  # broker key + certificate chain in one PEM file (Kafka's PEM key store)
    client_cert: Path  # the hub's client certificate (mutual TLS)
    client_key: Path

    @property
    def folder(self) -> Path:
        return self.ca.parent


def ensure_tls_material(folder: Path, *, hosts: list[str], client_name: str) -> TlsMaterial:
    """Make (once) and return the CA, broker and client files in ``folder``.

    The broker's certificate names every address in ``hosts`` (IP or DNS), so clients can check
    the host name. The client certificate's CN is ``client_name``: with Kafka's default principal
    mapping plus the rule the local broker sets, it becomes the principal ``User:<client_name>``.
    """
    material = TlsMaterial(folder / "ca.pem", folder / "broker.pem", folder / "client.pem", folder / "client.key")
    if all(p.exists() for p in (material.ca, material.broker, material.client_cert, material.client_key)):
        return material
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o700)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "rosterhub local Kafka CA")])
    now = dt.datetime.now(dt.UTC)
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + _VALID_FOR)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(ca_key, hashes.SHA256())
    )
    broker_key, broker_cert = _leaf(ca_key, ca_cert, "rosterhub-broker", hosts, now)
    client_key, client_cert = _leaf(ca_key, ca_cert, client_name, [], now)
    _write(material.ca, _pem(ca_cert))
    _write(material.broker, _key_pem(broker_key) + _pem(broker_cert) + _pem(ca_cert))
    _write(material.client_cert, _pem(client_cert) + _pem(ca_cert))
    _write(material.client_key, _key_pem(client_key))
    return material


def _leaf(
    ca_key: ec.EllipticCurvePrivateKey, ca_cert: x509.Certificate, cn: str, hosts: list[str], now: dt.datetime
) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    """A certificate usable on both ends of a connection (a broker is also a client of other brokers)."""
    key = ec.generate_private_key(ec.SECP256R1())
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + _VALID_FOR)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False
        )
    )
    if hosts:
        builder = builder.add_extension(x509.SubjectAlternativeName([_san(h) for h in hosts]), critical=False)
    return key, builder.sign(ca_key, hashes.SHA256())


def _san(host: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(host))
    except ValueError:
        return x509.DNSName(host)


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _write(path: Path, data: bytes) -> None:
    path.touch(mode=0o600, exist_ok=True)
    path.chmod(0o600)
    path.write_bytes(data)
