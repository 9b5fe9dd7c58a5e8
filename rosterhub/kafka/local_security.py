"""The local broker's client listener secured the way the settings say the hub's clients talk.

One setting, ``kafka_security_protocol``, decides both sides, so they cannot disagree:

* ``PLAINTEXT`` - the default, as before.
* ``SASL_PLAINTEXT`` / ``SASL_SSL`` - SCRAM only. The hub's user (``kafka_sasl_username``) and
  the broker's own inter-broker user are created when the storage is formatted
  (``kafka-storage format --add-scram``), given as salted SCRAM credentials so no password appears
  on a command line.
* ``SSL`` - mutual TLS: the broker requires a client certificate signed by its own CA
  (:mod:`rosterhub.kafka.local_tls`) and maps the certificate's CN to the principal ``User:<CN>``.

The KRaft controller listener stays PLAINTEXT on the loopback address: only the broker itself
uses it. There is no PLAINTEXT client listener when a secure protocol is chosen.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
import secrets
from pathlib import Path

from rosterhub.errors import ConfigError
from rosterhub.kafka.access import KafkaAccess, access_from_settings
from rosterhub.kafka.local_tls import TlsMaterial, ensure_tls_material
from rosterhub.settings import Settings

__all__ = ["BROKER_USER", "LocalSecurity"]

#: The broker's own SCRAM user (inter-broker listener); never the hub's.
BROKER_USER = "rosterhub-broker"
_SCRAM_ITERATIONS = 8192
_SCRAM_HASH = {"SCRAM-SHA-256": "sha256", "SCRAM-SHA-512": "sha512"}
_USER_PATTERN = "letters, digits, '.', '_' and '-'"


class LocalSecurity:
    """Broker properties, format arguments and the hub's access for one local broker's data directory."""

    def __init__(self, settings: Settings, root: Path, host: str) -> None:
        self.settings = settings
        self.protocol = settings.kafka_security_protocol
        self.root = root
        self.host = host
        self.marker = root / "security.json"

    def check(self) -> None:
        """Refuse what the local broker cannot do (at start, not when merely asking for its status)."""
        s = self.settings
        if self.protocol.startswith("SASL_"):
            if s.kafka_sasl_mechanism not in _SCRAM_HASH:
                raise ConfigError(
                    f"the local broker supports SCRAM-SHA-256 and SCRAM-SHA-512, not {s.kafka_sasl_mechanism}; "
                    "point KAFKA_BOOTSTRAP_SERVERS at a cluster that offers it"
                )
            name = s.kafka_sasl_username or ""
            if not name or not all(c.isalnum() or c in "._-" for c in name) or name == BROKER_USER:
                raise ConfigError(
                    f"kafka_sasl_username {name!r} cannot be a local broker user: use {_USER_PATTERN}, "
                    f"not {BROKER_USER!r}"
                )
        if self.protocol.endswith("SSL") and (s.kafka_ssl_cafile or s.kafka_ssl_certfile):
            raise ConfigError(
                "the local broker makes its own CA and certificates (in <kafka_data_dir>/tls): unset kafka_ssl_cafile, "
                "kafka_ssl_certfile and kafka_ssl_keyfile, or point KAFKA_BOOTSTRAP_SERVERS at your own cluster"
            )

    # -- files --------------------------------------------------------------------------
    @property
    def listener(self) -> str:
        """The client listener's name (also its protocol)."""
        return self.protocol

    def tls(self) -> TlsMaterial | None:
        if not self.protocol.endswith("SSL"):
            return None
        client = self.settings.kafka_sasl_username or "rosterhub"
        return ensure_tls_material(self.root / "tls", hosts=[self.host, "localhost"], client_name=client)

    def broker_secret(self) -> str:
        """The broker's own SCRAM password, made once per data directory and kept beside it (mode 0600)."""
        path = self.root / "broker.secret"
        if not path.exists():
            path.touch(mode=0o600)
            path.write_text(secrets.token_urlsafe(24))
        return path.read_text().strip()

    # -- what the broker is told ----------------------------------------------------------
    def server_properties(self) -> dict[str, str]:
        """Listener, SASL and TLS properties of the broker (merged over the plain ones)."""
        if self.protocol == "PLAINTEXT":
            return {}
        name = self.listener.lower()
        props = {"inter.broker.listener.name": self.listener}
        if self.protocol.startswith("SASL_"):
            mech = self.settings.kafka_sasl_mechanism
            props |= {
                "sasl.enabled.mechanisms": mech,
                "sasl.mechanism.inter.broker.protocol": mech,
                f"listener.name.{name}.{mech.lower()}.sasl.jaas.config": (
                    "org.apache.kafka.common.security.scram.ScramLoginModule required "
                    f'username="{BROKER_USER}" password="{self.broker_secret()}";'
                ),
            }
        tls = self.tls()
        if tls is not None:
            props |= {
                "ssl.keystore.type": "PEM",
                "ssl.keystore.location": str(tls.broker),
                "ssl.truststore.type": "PEM",
                "ssl.truststore.location": str(tls.ca),
                "ssl.client.auth": "required" if self.protocol == "SSL" else "none",
                "ssl.principal.mapping.rules": "RULE:^CN=([^,]+).*$/$1/,DEFAULT",
                "ssl.endpoint.identification.algorithm": "https",
            }
        return props

    def format_args(self) -> list[str]:
        """``kafka-storage format`` arguments that create the SCRAM users (salted: no password on argv)."""
        if not self.protocol.startswith("SASL_"):
            return []
        s = self.settings
        mech = s.kafka_sasl_mechanism
        password = s.kafka_sasl_password.get_secret_value() if s.kafka_sasl_password else ""
        users = [(s.kafka_sasl_username or "", password), (BROKER_USER, self.broker_secret())]
        return [arg for name, pw in users for arg in ("--add-scram", _salted_scram(mech, name, pw))]

    def formatted_for(self) -> dict[str, str | None]:
        """What the storage was formatted for, recorded so a later start with other settings fails clearly."""
        s = self.settings
        sasl = self.protocol.startswith("SASL_")
        return {
            "protocol": self.protocol,
            "sasl_mechanism": s.kafka_sasl_mechanism if sasl else None,
            "sasl_username": s.kafka_sasl_username if sasl else None,
        }

    def record_format(self) -> None:
        self.marker.write_text(json.dumps(self.formatted_for(), sort_keys=True))

    def check_format(self) -> None:
        """Refuse to start on a data directory formatted for another user or mechanism (SCRAM users live there)."""
        if not self.marker.exists():
            recorded = {"protocol": "PLAINTEXT", "sasl_mechanism": None, "sasl_username": None}
        else:
            recorded = json.loads(self.marker.read_text())
        wanted = self.formatted_for()
        needs_users = wanted["sasl_username"] is not None
        if needs_users and (recorded["sasl_username"], recorded["sasl_mechanism"]) != (
            wanted["sasl_username"],
            wanted["sasl_mechanism"],
        ):
            raise ConfigError(
                f"the local broker's data in {self.root} was formatted for {recorded['protocol']} "
                f"(SCRAM user {recorded['sasl_username']!r}, {recorded['sasl_mechanism']}), not for "
                f"{wanted['protocol']} with SCRAM user {wanted['sasl_username']!r} ({wanted['sasl_mechanism']}): "
                "stop it and use another kafka_data_dir (or delete that one)"
            )

    # -- what the hub's clients are told ----------------------------------------------------
    def access(self, bootstrap: str) -> KafkaAccess:
        """The hub's access to this broker: the settings, plus the generated CA (and client certificate for SSL)."""
        self.check()
        access = access_from_settings(self.settings, bootstrap)
        tls = self.tls()
        if tls is None:
            return access
        if self.protocol == "SSL":
            return dataclasses.replace(
                access, ssl_cafile=tls.ca, ssl_certfile=tls.client_cert, ssl_keyfile=tls.client_key
            )
        return dataclasses.replace(access, ssl_cafile=tls.ca)


def _salted_scram(mechanism: str, name: str, password: str) -> str:
    """A SCRAM credential in kafka-storage's salted form: Hi(password, salt, i) = PBKDF2-HMAC (RFC 5802)."""
    salt = secrets.token_bytes(16)
    salted = hashlib.pbkdf2_hmac(_SCRAM_HASH[mechanism], password.encode(), salt, _SCRAM_ITERATIONS)
    b64 = base64.b64encode
    return (
        f"{mechanism}=[name={name},iterations={_SCRAM_ITERATIONS},"
        f'salt="{b64(salt).decode()}",saltedpassword="{b64(salted).decode()}"]'
    )
