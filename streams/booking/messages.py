"""The booking saga's internal messages, one typed model each, and their JSON wire form.

Each model is declared once, as a frozen dataclass: its fields are the JSON keys on the topic, its
``KIND`` the ``kind`` key (and the ``rosterhub-saga`` header). :meth:`SagaMessage.to_wire` and
:func:`decode` keep exactly the dicts the stages exchanged before the models existed, so records in
flight, the re-sent checks the shift table keeps (``ShiftState.hold_check``) and the answers the person
table keeps (``PersonState.answers``) all read back unchanged (tests/unit/streams/test_saga_messages.py).

* :class:`Check` (shift stage -> person stage, key person id): the request, the shift as the shift stage
  knows it, the shift rules' results.
* :class:`Answer` (person stage -> shift stage, key shift id): every rule's result, whether the booking was
  recorded, or a ``restamp`` asking for the request to be stamped again (docs/decisions/0012).
* :class:`Release` (shift -> person): drop a booking from the person's timeline.
* :class:`Retime` (shift -> person): move a booking to its shift's new times.
* :class:`Conflict` (person -> shift): the new times clash with another of the person's bookings.
* :class:`Memberships` (kind ``employment``) and :class:`Fence` (identity -> person stage): the person's
  memberships, and a new identity version of the person.

Instants are epoch milliseconds, decimals strings, enums their symbols, so a redelivered message is
byte-identical (:func:`dumps`) and decisions made from it are too.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Self

from rosterhub.streams.identity import crosswalk, memberships

__all__ = [
    "HEADER",
    "Answer",
    "Check",
    "Conflict",
    "Fence",
    "Memberships",
    "Release",
    "Retime",
    "SagaMessage",
    "decode",
    "dumps",
    "loads",
]

#: Header naming the saga message kind; records without it on booking-requests are BookingRequested events.
HEADER = "rosterhub-saga"

_KINDS: dict[str, type[SagaMessage]] = {}


class SagaMessage:
    """A saga message: a frozen, keyword-only dataclass whose fields are its wire keys (in order), plus ``kind``."""

    __slots__ = ()
    KIND: ClassVar[str]
    if TYPE_CHECKING:  # what @dataclass gives each message: dataclasses.fields() takes it
        __dataclass_fields__: ClassVar[dict[str, dataclasses.Field[Any]]]
    #: Keys left off the wire while None (they were added to a message that existed without them).
    SPARSE: ClassVar[tuple[str, ...]] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "KIND" in cls.__dict__:  # a message, not a base of messages
            _KINDS[cls.KIND] = cls

    def to_wire(self) -> dict[str, Any]:
        """The JSON document on the topic (and in the tables that keep a message as sent)."""
        out: dict[str, Any] = {"kind": self.KIND}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if value is not None or f.name not in self.SPARSE:
                out[f.name] = value
        return out

    @classmethod
    def from_wire(cls, data: Mapping[str, Any]) -> Self:
        """Read the wire form; a key a message was once sent without takes its field's default."""
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


def decode(data: Mapping[str, Any]) -> SagaMessage:
    """The typed message for a wire document, by its ``kind``."""
    kind = data.get("kind")
    model = _KINDS.get(str(kind))
    if model is None:
        raise ValueError(f"unknown saga message kind {kind!r}")
    return model.from_wire(data)


def dumps(message: SagaMessage | Mapping[str, Any]) -> bytes:
    """The record value: compact, keys sorted, so a message sent again is byte-identical."""
    wire = message.to_wire() if isinstance(message, SagaMessage) else message
    return json.dumps(wire, sort_keys=True, separators=(",", ":")).encode()


def loads(value: bytes) -> dict[str, Any]:
    """A record value's wire document; ValueError if it is not JSON or not a JSON object (as the readers expect)."""
    wire = json.loads(value)
    if not isinstance(wire, dict):
        raise ValueError(f"a saga message is a JSON object, not {type(wire).__name__}")
    return wire


@dataclass(frozen=True, slots=True, kw_only=True)
class _Booking(SagaMessage):
    """The keys every message about one booking of one shift starts with."""

    booking_id: str
    shift_id: str
    person_id: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Check(_Booking):
    KIND: ClassVar[str] = "check"

    request: dict[str, Any]  # {"extra": the request's rule inputs, "vendor": ...}
    person_v: int | None = None  # identity version of the stamp (docs/decisions/0012); None: unstamped
    shift: dict[str, Any]  # :func:`.saga.shift_json`
    shift_results: list[dict[str, Any]]  # the shift rules' results (Avro RuleResult dicts)


@dataclass(frozen=True, slots=True, kw_only=True)
class Answer(_Booking):
    KIND: ClassVar[str] = "answer"
    SPARSE: ClassVar[tuple[str, ...]] = ("restamp",)

    results: list[dict[str, Any]]
    recorded: bool
    restamp: int | None = None  # the stamp was older than this identity version: stamp again


@dataclass(frozen=True, slots=True, kw_only=True)
class Release(SagaMessage):
    KIND: ClassVar[str] = "release"

    booking_id: str
    person_id: str | None
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Retime(_Booking):
    KIND: ClassVar[str] = "retime"

    shift: dict[str, Any]
    cause: str = ""  # id of the event that re-timed the shift


@dataclass(frozen=True, slots=True, kw_only=True)
class Conflict(_Booking):
    KIND: ClassVar[str] = "conflict"

    detail: str
    cause: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Memberships(SagaMessage):
    """Sent by identity (:func:`rosterhub.streams.identity.memberships.employment_message`)."""

    KIND: ClassVar[str] = memberships.EMPLOYMENT

    person_id: str
    seq: int = -1  # identity-in offset: orders these messages
    memberships: list[dict[str, Any]] | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Fence(SagaMessage):
    """Sent by identity (:func:`rosterhub.streams.identity.crosswalk.fence_message`)."""

    KIND: ClassVar[str] = crosswalk.FENCE

    person_id: str
    version: int
