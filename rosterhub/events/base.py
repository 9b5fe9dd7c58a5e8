"""Base classes of the generated event models, and the instant type they share.

The models in :mod:`rosterhub.events.models` are generated from the ``.avsc`` files
(the wire contract); what is common to all of them lives here, hand-written, so the
generator stays a printer of fields. Two rules matter to callers:

* Instants are timezone-aware. A naive ``datetime`` is refused, because a naive
  "02:00" on a clock-change night in Europe/London names zero or two instants. Aware
  values are converted to UTC and truncated to whole milliseconds - exactly what the
  Avro ``timestamp-millis`` wire keeps - so a model equals itself after a round trip.
* ``to_avro()`` returns the plain dict fastavro writes (enums as their symbol strings,
  decimals as ``Decimal``, dates as ``date``); ``from_avro()`` accepts what fastavro reads.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import Enum
from typing import Annotated, Any, ClassVar, Self

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict

from rosterhub.codec.catalogue import EventSchema, SchemaCatalogue, default_catalogue
from rosterhub.envelope import Envelope, event_id
from rosterhub.leaves import map_leaves

__all__ = ["AvroEvent", "AvroRecord", "UtcInstant", "symbol", "to_utc_millis"]


def to_utc_millis(value: datetime) -> datetime:
    """An aware datetime as UTC, truncated to the millisecond the wire keeps."""
    utc = value.astimezone(UTC)
    return utc.replace(microsecond=utc.microsecond - utc.microsecond % 1000)


#: An aware instant, normalised to UTC milliseconds (naive datetimes are a validation error).
UtcInstant = Annotated[AwareDatetime, AfterValidator(to_utc_millis)]


def _symbol(value: Any) -> Any:
    """An enum as its symbol: fastavro and JSON want plain strings."""
    return value.value if isinstance(value, Enum) else value


def symbol(value: Any) -> str:
    """An enum field of an event as its symbol's text, whether it holds the model's enum or the string fastavro
    (or JSON) decoded: the processors read events both ways, and state and reports keep plain strings."""
    return str(getattr(value, "value", value))


class AvroRecord(BaseModel):
    """A model generated from an Avro record schema (events and shared records alike)."""

    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)

    AVRO_NAME: ClassVar[str]

    @classmethod
    def avro_namespace(cls) -> str:
        """The schema's namespace, e.g. ``rosterhub.booking.v1`` (every type of one domain and version)."""
        return cls.AVRO_NAME.rpartition(".")[0]

    def to_avro(self) -> dict[str, Any]:
        """The record as the dict fastavro writes with this model's schema."""
        avro: dict[str, Any] = map_leaves(self.model_dump(mode="python"), _symbol)
        return avro

    @classmethod
    def from_avro(cls, data: dict[str, Any]) -> Self:
        """A model from the dict fastavro read (validated like any other input)."""
        return cls.model_validate(data)


class AvroEvent(AvroRecord):
    """A canonical event: a record schema with a topic, a key field and a subject field."""

    @classmethod
    def event_schema(cls, catalogue: SchemaCatalogue | None = None) -> EventSchema:
        """This event's standalone schema (Kafka binding, fingerprint) from the catalogue."""
        return (catalogue or default_catalogue()).get(cls.AVRO_NAME)

    def key(self, catalogue: SchemaCatalogue | None = None) -> str:
        """The Kafka message key: the value of the field the schema names in ``rosterhub.key``."""
        return str(getattr(self, self.event_schema(catalogue).key_field))

    def subject(self, catalogue: SchemaCatalogue | None = None) -> str:
        """The CloudEvents ``subject``: the value of the schema's ``rosterhub.subject`` field."""
        return str(getattr(self, self.event_schema(catalogue).subject_field))

    def to_envelope(self, source: str, *id_parts: object, time: datetime | None = None) -> Envelope:
        """Wrap the event for :func:`rosterhub.envelope.encode_event`.

        ``id_parts`` (e.g. vendor, record id, version) make the CloudEvents id deterministic,
        so a redelivered input yields the same ``ce_id``; without them the id is random.
        """
        extra: dict[str, Any] = {"id": event_id(self.AVRO_NAME, *id_parts)} if id_parts else {}
        if time is not None:
            extra["time"] = time
        return Envelope(type=self.AVRO_NAME, source=source, data=self.to_avro(), subject=self.subject(), **extra)
