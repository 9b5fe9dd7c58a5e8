"""How every client of the hub reaches Kafka: address plus security, one value, many client libraries.

A :class:`KafkaAccess` is built once per process - from the settings for an existing cluster
(:func:`access_from_settings`), or by the local broker, which knows the TLS files it generated - and
passed down to every place that opens a connection. Each client library gets its connection
arguments from one method here (kafka-python, aiokafka, faust, Kafka's Java tools), so no module
spells ``security_protocol`` or a password itself and a cluster that requires SCRAM or mutual TLS
needs no change anywhere else (docs/kafka-security.md).

The field names are the ``kafka_*`` settings without their prefix; :meth:`KafkaAccess.settings`
turns an access back into those settings, for child processes and tests.
"""

from __future__ import annotations

import dataclasses
import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from rosterhub.settings import Settings

__all__ = ["KafkaAccess", "access_from_settings", "java_properties"]

#: The settings a KafkaAccess carries besides the address: ``kafka_<field>`` for each field below.
_SETTING_PREFIX = "kafka_"


@dataclass(frozen=True)
class KafkaAccess:
    """Where the cluster is and how to authenticate to it. ``repr`` never shows a secret (SecretStr)."""

    bootstrap_servers: str
    security_protocol: str = "PLAINTEXT"
    sasl_mechanism: str = "SCRAM-SHA-512"
    sasl_username: str | None = None
    sasl_password: SecretStr | None = None
    ssl_cafile: Path | None = None
    ssl_certfile: Path | None = None
    ssl_keyfile: Path | None = None
    ssl_key_password: SecretStr | None = None
    ssl_check_hostname: bool = True

    # -- what the settings say ----------------------------------------------------------
    @property
    def uses_sasl(self) -> bool:
        return self.security_protocol.startswith("SASL_")

    @property
    def uses_tls(self) -> bool:
        return self.security_protocol.endswith("SSL")

    @property
    def who(self) -> str:
        """Who the hub is to the broker, for error messages (never a secret)."""
        if self.uses_sasl:
            return f"SASL {self.sasl_mechanism} user {self.sasl_username!r}"
        if self.ssl_certfile is not None:
            return f"TLS client certificate {self.ssl_certfile}"
        return "no credentials"

    def settings(self) -> dict[str, Any]:
        """The ``kafka_*`` settings that give this access back (for ``Settings(**...)`` or a child's env)."""
        return {f"{_SETTING_PREFIX}{f.name}": getattr(self, f.name) for f in dataclasses.fields(self)}

    def env(self) -> dict[str, str]:
        """The same as environment variables, for child processes (secrets in clear: the child's env only)."""
        out = {}
        for name, value in self.settings().items():
            if value is None:
                continue
            plain = value.get_secret_value() if isinstance(value, SecretStr) else value
            out[f"ROSTERHUB_{name.upper()}"] = str(plain).lower() if isinstance(plain, bool) else str(plain)
        return out

    # -- one method per client library ---------------------------------------------------
    def ssl_context(self) -> ssl.SSLContext | None:
        """The TLS context every Python client uses (None without TLS): CA, client certificate, hostname check."""
        if not self.uses_tls:
            return None
        ctx = ssl.create_default_context(
            ssl.Purpose.SERVER_AUTH, cafile=str(self.ssl_cafile) if self.ssl_cafile else None
        )
        ctx.check_hostname = self.ssl_check_hostname
        if self.ssl_certfile is not None:
            password = self.ssl_key_password.get_secret_value() if self.ssl_key_password else None
            ctx.load_cert_chain(str(self.ssl_certfile), str(self.ssl_keyfile) if self.ssl_keyfile else None, password)
        return ctx

    def kafka_python(self) -> dict[str, Any]:
        """Keyword arguments for kafka-python's KafkaProducer, KafkaConsumer and KafkaAdminClient."""
        args: dict[str, Any] = {
            "bootstrap_servers": self.bootstrap_servers,
            "security_protocol": self.security_protocol,
        }
        args.update(self._sasl_kwargs())
        if self.uses_tls:
            args["ssl_context"] = self.ssl_context()
        return args

    def aiokafka(self) -> dict[str, Any]:
        """Keyword arguments for aiokafka's AIOKafkaConsumer, AIOKafkaProducer and AIOKafkaAdminClient."""
        return self.kafka_python()  # aiokafka took kafka-python's argument names; checked by a unit test

    def faust(self) -> dict[str, Any]:
        """``faust.App`` arguments: the broker URL and ``broker_credentials`` (SASL or SSL credentials)."""
        import faust

        broker = ";".join(f"kafka://{hp.strip()}" for hp in self.bootstrap_servers.split(","))
        credentials: faust.types.auth.CredentialsT | None = None
        if self.uses_sasl:
            credentials = faust.SASLCredentials(
                username=self.sasl_username,
                password=self.sasl_password.get_secret_value() if self.sasl_password else None,
                mechanism=self.sasl_mechanism,
                ssl_context=self.ssl_context(),
            )
        elif self.uses_tls:
            credentials = faust.SSLCredentials(self.ssl_context())
        return {"broker": broker, "broker_credentials": credentials}

    def java_client_config(self) -> dict[str, str]:
        """Client properties for Kafka's Java tools (console consumer, perf tools): see :func:`java_properties`."""
        props = {"bootstrap.servers": self.bootstrap_servers, "security.protocol": self.security_protocol}
        if self.uses_sasl:
            module = {
                "PLAIN": "org.apache.kafka.common.security.plain.PlainLoginModule",
            }.get(self.sasl_mechanism, "org.apache.kafka.common.security.scram.ScramLoginModule")
            password = self.sasl_password.get_secret_value() if self.sasl_password else ""
            props["sasl.mechanism"] = self.sasl_mechanism
            props["sasl.jaas.config"] = (
                f"{module} required username={_jaas_quote(self.sasl_username or '')} password={_jaas_quote(password)};"
            )
        if self.uses_tls:
            props["ssl.endpoint.identification.algorithm"] = "https" if self.ssl_check_hostname else ""
            if self.ssl_cafile is not None:
                props["ssl.truststore.type"] = "PEM"
                props["ssl.truststore.location"] = str(self.ssl_cafile)
            if self.ssl_certfile is not None and self.ssl_keyfile is not None:
                # Inline PEM: the Java tools want key and chain in one keystore, the hub keeps them in two files.
                props["ssl.keystore.type"] = "PEM"
                props["ssl.keystore.certificate.chain"] = self.ssl_certfile.read_text()
                props["ssl.keystore.key"] = self.ssl_keyfile.read_text()
                if self.ssl_key_password is not None:
                    props["ssl.key.password"] = self.ssl_key_password.get_secret_value()
        return props

    def write_java_properties(self, path: Path) -> Path:
        """Write :meth:`java_client_config` as a ``client.properties`` file readable by its owner only."""
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600, exist_ok=True)
        path.chmod(0o600)
        path.write_text(java_properties(self.java_client_config()), encoding="latin-1")
        return path

    def _sasl_kwargs(self) -> dict[str, Any]:
        if not self.uses_sasl:
            return {}
        return {
            "sasl_mechanism": self.sasl_mechanism,
            "sasl_plain_username": self.sasl_username,
            "sasl_plain_password": self.sasl_password.get_secret_value() if self.sasl_password else None,
        }


def access_from_settings(settings: Settings, bootstrap_servers: str | None = None) -> KafkaAccess:
    """The access the settings describe; ``bootstrap_servers`` overrides theirs (a resolved local broker)."""
    bootstrap = bootstrap_servers or settings.kafka_bootstrap_servers
    if not bootstrap:
        raise ValueError("no Kafka bootstrap servers: set KAFKA_BOOTSTRAP_SERVERS or resolve a broker first")
    fields = {
        f.name: getattr(settings, f"{_SETTING_PREFIX}{f.name}")
        for f in dataclasses.fields(KafkaAccess)
        if f.name != "bootstrap_servers"
    }
    return KafkaAccess(bootstrap_servers=bootstrap, **fields)


def _jaas_quote(value: str) -> str:
    """A JAAS option value in double quotes (Kafka's JaasConfig tokenizer reads backslash escapes)."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def java_properties(props: dict[str, str]) -> str:
    """``java.util.Properties`` text: values escaped so that ``Properties.load`` reads them back unchanged."""

    def escape(text: str, *, key: bool) -> str:
        out = []
        for i, ch in enumerate(text):
            if ch == "\\":
                out.append("\\\\")
            elif ch == "\n":
                out.append("\\n")
            elif ch == "\r":
                out.append("\\r")
            elif ch == "\t":
                out.append("\\t")
            elif ch == "\f":
                out.append("\\f")
            elif (key and ch in "=: #!") or (ch == " " and i == 0) or (i == 0 and ch in "#!"):
                out.append("\\" + ch)
            elif ord(ch) > 0x7E or ord(ch) < 0x20:
                units = ch.encode("utf-16-be")  # a character beyond U+FFFF is two escaped surrogates
                out.extend(f"\\u{units[j]:02x}{units[j + 1]:02x}" for j in range(0, len(units), 2))
            else:
                out.append(ch)
        return "".join(out)

    return "".join(f"{escape(k, key=True)}={escape(v, key=False)}\n" for k, v in props.items())
