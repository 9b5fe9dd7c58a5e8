"""The rosterhub error tree.

Catch a family or a leaf; every class has a stable ``code`` documented in
``docs/errors.md`` (one section per code)::

    RosterhubError
    ├── ConfigError                 bad settings or files, found at start-up
    │   └── MappingFileError        a mapping file is invalid (file, line, key)
    ├── InputError                  one bad record; never stops a worker, goes to a DLQ
    │   ├── ParseError              bytes are not the format they claim (JSON, XML, CSV)
    │   ├── MappingError            a record cannot become a canonical event (record/field/value/rule)
    │   │   └── TrustMismatch       a pushed record is for a trust the sender is not authenticated for
    │   ├── EncodeError             a canonical event does not fit its Avro schema
    │   ├── DecodeError             bytes on a topic cannot be decoded
    │   │   └── UnknownSchemaError  the writer schema's fingerprint/id cannot be resolved
    │   ├── PayloadTooLarge         payload over the configured limit
    │   └── FileRefused             an inbox entry the hub does not read (bad name, hidden, link)
    ├── InternalError               the hub failed on one payload in a way it was not written to expect
    ├── SignatureError              a signed request fails verification
    ├── AccessError                 an HTTP caller may not do this
    │   ├── Unauthenticated         no usable credentials (401)
    │   └── Forbidden               authenticated, but not with this role or for this trust (403)
    ├── DeliveryError               an outbound delivery failed (``retriable`` says whether to retry)
    ├── BrokerUnavailable           no Kafka broker could be reached or started
    │   └── KafkaAuthenticationFailed  the cluster refused the hub's login (SASL or TLS)
    ├── ProcessError                a process of ``rosterhub run`` failed to start (names it and why)
    │   ├── ProcessExited           it exited (the signal that killed it, or its status and reported error)
    │   └── ProcessNotReady         it did not answer in time
    └── ToolUnavailable             an external checker (HAPI FHIR, the AsyncAPI parser) cannot be fetched or run

A refused booking is *not* an error: it is a ``BookingRejected`` event with reason codes.
"""

from __future__ import annotations

from typing import Any, ClassVar

__all__ = [
    "AccessError",
    "BrokerUnavailable",
    "ConfigError",
    "DecodeError",
    "DeliveryError",
    "EncodeError",
    "FileRefused",
    "Forbidden",
    "InputError",
    "InternalError",
    "KafkaAuthenticationFailed",
    "MappingError",
    "MappingFileError",
    "ParseError",
    "PayloadTooLarge",
    "ProcessError",
    "ProcessExited",
    "ProcessNotReady",
    "RosterhubError",
    "SignatureError",
    "ToolUnavailable",
    "TrustMismatch",
    "Unauthenticated",
    "UnknownSchemaError",
]


class RosterhubError(Exception):
    """Base of every error rosterhub raises on purpose."""

    code: ClassVar[str] = "rosterhub_error"

    def __init__(self, message: str, **context: Any) -> None:
        super().__init__(message)
        self.message = message
        self.context = {k: v for k, v in context.items() if v is not None}

    def __str__(self) -> str:
        if not self.context:
            return self.message
        details = ", ".join(f"{k}={v!r}" for k, v in self.context.items())
        return f"{self.message} ({details})"

    def as_dict(self) -> dict[str, Any]:
        """A JSON-able description for HTTP answers and dead-letter headers."""
        return {"code": self.code, "message": self.message, **{k: str(v) for k, v in self.context.items()}}


class ConfigError(RosterhubError):
    code = "config_error"


class MappingFileError(ConfigError):
    code = "mapping_file_error"
    #: Every error of a file checked at once, when it had more than this one (``mapping.engine.build.collect``);
    #: declared, not set: an error raised alone has no such attribute.
    all_errors: list[MappingFileError]

    def __init__(self, message: str, *, file: str, line: int | None = None, key: str | None = None) -> None:
        super().__init__(message, file=file, line=line, key=key)
        self.file, self.line, self.key = file, line, key

    def __str__(self) -> str:
        where = self.file + (f":{self.line}" if self.line else "") + (f" [{self.key}]" if self.key else "")
        return f"{where}: {self.message}"


class InputError(RosterhubError):
    code = "input_error"


class ParseError(InputError):
    code = "parse_error"


class MappingError(InputError):
    """A record that cannot become a canonical event, in the vendor's words.

    ``field`` is the vendor's own name for what failed (a column, a JSON path, an XML element)
    and ``value`` what the vendor sent there; ``target`` is what the mapping was making from it
    (an event field such as ``grade``, or a ``let`` value such as ``let.start``); ``rule`` is the
    mapping file's line and the check that refused it. A record can fail in several places at
    once: ``problems`` then holds every failure (this error is the first of them), so one run
    reports them all.
    """

    code = "mapping_error"

    def __init__(
        self,
        message: str,
        *,
        record: str | None = None,
        field: str | None = None,
        value: Any = None,
        rule: str | None = None,
        target: str | None = None,
    ) -> None:
        super().__init__(message, record=record, field=field, value=value, rule=rule, target=target)
        self.record, self.field, self.value, self.rule, self.target = record, field, value, rule, target
        self.problems: tuple[MappingError, ...] = (self,)

    @classmethod
    def of(cls, problems: list[MappingError]) -> MappingError:
        """One error standing for every problem of a record: the first, carrying them all."""
        first = problems[0]
        first.problems = tuple(problems)
        return first

    def as_dict(self) -> dict[str, Any]:
        out = super().as_dict()
        if len(self.problems) > 1:
            out["problems"] = [RosterhubError.as_dict(p) for p in self.problems]
        return out


class TrustMismatch(MappingError):
    code = "trust_mismatch"


class EncodeError(InputError):
    code = "encode_error"


class DecodeError(InputError):
    code = "decode_error"


class UnknownSchemaError(DecodeError):
    code = "unknown_schema"


class PayloadTooLarge(InputError):
    code = "payload_too_large"


class InternalError(RosterhubError):
    """A bug met while handling one payload: the payload is kept (raw topic, dead letter) with this reason."""

    code = "internal_error"


class FileRefused(InputError):
    """An inbox entry that is not a file the hub reads: moved to failed/ and reported, never left silently."""

    code = "file_refused"


class SignatureError(RosterhubError):
    code = "signature_error"


class AccessError(RosterhubError):
    code = "access_error"


class Unauthenticated(AccessError):
    code = "unauthenticated"


class Forbidden(AccessError):
    code = "forbidden"


class DeliveryError(RosterhubError):
    code = "delivery_error"

    def __init__(self, message: str, *, retriable: bool, **context: Any) -> None:
        super().__init__(message, **context)
        self.retriable = retriable


class BrokerUnavailable(RosterhubError):
    code = "broker_unavailable"


class KafkaAuthenticationFailed(BrokerUnavailable):
    """The cluster answered but refused who the hub is: wrong SCRAM password, unknown user, untrusted certificate."""

    code = "kafka_auth_failed"


class PortUnavailable(RosterhubError):
    """The address a server is configured to listen on is taken (or not this machine's)."""

    code = "port_unavailable"


class ProcessError(RosterhubError):
    code = "process_error"


class ProcessExited(ProcessError):
    code = "process_exited"


class ProcessNotReady(ProcessError):
    code = "process_not_ready"


class ToolUnavailable(RosterhubError):
    code = "tool_unavailable"
