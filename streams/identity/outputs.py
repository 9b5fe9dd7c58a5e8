"""What one identity step produces: events for ``events.identity``, copies for ``_rosterhub.passport-in``,
and re-reads of earlier credential events (by offset on ``_rosterhub.identity-in``).

Every event id is derived from the input that caused it (UUIDv5), and every instant
from the input's time, so a redelivered input or a replay gives byte-identical events.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from rosterhub.envelope import Envelope, event_id
from rosterhub.events.models import (
    BookingRequested,
    CredentialExpired,
    CredentialIssued,
    CredentialRevoked,
    CredentialVerified,
    IdentityConflict,
    MembershipChanged,
    PersonLinked,
    PersonsMerged,
    PersonSplit,
    WorkerRegistered,
    WorkerUpdated,
)
from rosterhub.streams.identity.match import identifier_of

__all__ = [
    "BOOKING_REQUESTED",
    "CONFLICT",
    "CREDENTIAL_TYPES",
    "LINKED",
    "MERGED",
    "PERSON_VERSION",
    "SOURCE",
    "SPLIT",
    "WORKER_TYPES",
    "Out",
    "Replay",
    "Step",
    "booking_copy",
    "conflict_event",
    "linked_event",
    "passport_copy",
]

SOURCE = "/rosterhub/identity"
LINKED = PersonLinked.AVRO_NAME
CONFLICT = IdentityConflict.AVRO_NAME
MERGED = PersonsMerged.AVRO_NAME
SPLIT = PersonSplit.AVRO_NAME
WORKER_TYPES = frozenset(m.AVRO_NAME for m in (WorkerRegistered, WorkerUpdated, MembershipChanged))
#: CloudEvents extension on a stamped BookingRequested: the person's identity version (docs/decisions/0012).
PERSON_VERSION = "personversion"
#: Booking requests the shift stage's crosswalk copy cannot resolve pass through identity (docs/decisions/0012).
BOOKING_REQUESTED = BookingRequested.AVRO_NAME
CREDENTIAL_TYPES = frozenset(
    m.AVRO_NAME for m in (CredentialIssued, CredentialVerified, CredentialRevoked, CredentialExpired)
)


@dataclass(frozen=True, slots=True)
class Out:
    """An event to send: ``to`` is ``identity`` (events.identity), ``passport`` (passport-in) or
    ``booking`` (the booking saga's requests topic).

    ``key`` overrides the schema's key field (a PersonsMerged goes to passport-in under
    the merged-away person, whose passport must drop it).
    """

    env: Envelope
    to: str
    key: str | None = None


@dataclass(frozen=True, slots=True)
class Replay:
    """Re-read these identity-in offsets (credential events) and re-publish them under ``person``."""

    offsets: tuple[int, ...]
    person: str
    causation: str


@dataclass(frozen=True, slots=True)
class Step:
    outputs: list[Out] = field(default_factory=list)
    replays: list[Replay] = field(default_factory=list)
    refused: str | None = None  # a command that could not be carried out, and why (logged)
    #: saga messages for _rosterhub.booking-person, keyed by their person_id (memberships.employment_message)
    person: list[dict[str, Any]] = field(default_factory=list)


def _identifiers(keys: tuple[str, ...] | list[str]) -> list[dict[str, str]]:
    return [i for i in (identifier_of(k) for k in keys) if i is not None]


def linked_event(
    worker_id: str,
    person: str,
    match: str,
    keys: tuple[str, ...],
    *,
    cause: Envelope,
    seq: int,
    previous: str | None = None,
) -> Out:
    data = {
        "person_id": person,
        "worker_id": worker_id,
        "previous_person_id": previous,
        "match": match,
        "identifiers": _identifiers(keys),
        "linked_at": cause.time,
        "sequence": seq,
    }
    return Out(
        _caused(LINKED, worker_id, event_id("identity.linked", worker_id, person, cause.id), data, cause), "identity"
    )


def conflict_event(
    conflict_id: str,
    kind: str,
    worker_id: str,
    persons: list[str],
    records: list[str],
    keys: tuple[str, ...],
    detail: str,
    *,
    cause: Envelope,
    seq: int,
) -> Out:
    data = {
        "conflict_id": conflict_id,
        "person_id": persons[0],
        "kind": kind,
        "worker_id": worker_id,
        "person_ids": persons,
        "worker_ids": records,
        "identifiers": _identifiers(keys),
        "match_key_involved": any(k.startswith("mk:") for k in keys),
        "detail": detail or None,
        "raised_at": cause.time,
        "sequence": seq,
    }
    return Out(_caused(CONFLICT, conflict_id, event_id("identity.conflict", conflict_id), data, cause), "identity")


def _caused(type_: str, subject: str, id_: str, data: dict[str, Any], cause: Envelope) -> Envelope:
    """Identity's event about ``subject`` caused by the input ``cause``: stamped with its time and named as its
    effect (``ce_causationid``), so a replay gives byte-identical events."""
    return Envelope(
        type=type_,
        source=SOURCE,
        data=data,
        id=id_,
        subject=subject,
        time=cause.time,
        extensions={"causationid": cause.id},
    )


def command_event(type_: str, data: dict[str, Any], *, command_id: str, time: datetime) -> Envelope:
    return Envelope(
        type=type_,
        source=SOURCE,
        data=data,
        id=event_id("identity.command", command_id),
        subject=command_id,
        time=time,
        extensions={"causationid": command_id},
    )


def passport_copy(env: Envelope, person: str, local: str | None, causation: str | None = None) -> Envelope:
    """The same credential event (same ce_id and type) with ``person_id`` resolved, for passport-in.

    The original local id travels in the ``ce_localworker`` extension; a copy re-published
    by a merge or split names the command in ``ce_causationid``.
    """
    data = {**env.data, "person_id": person, "worker": {**env.data["worker"], "person_id": person}}
    extensions = {**env.extensions, **({"localworker": local} if local else {})}
    if causation:
        extensions["causationid"] = causation
    return replace(env, data=data, extensions=extensions)


def booking_copy(env: Envelope, person: str | None, version: int | None = None) -> Envelope:
    """The same BookingRequested (same ce_id) with ``worker.person_id`` set to the resolved person, or null.

    ``version`` (the person's identity version, :mod:`.crosswalk`) travels in the ``ce_personversion`` extension:
    the booking person stage checks it against the fences it has seen.
    """
    data = {**env.data, "worker": {**env.data["worker"], "person_id": person}}
    extensions = {k: v for k, v in env.extensions.items() if k != PERSON_VERSION}
    if person is not None and version is not None:
        extensions[PERSON_VERSION] = str(version)
    return replace(env, data=data, extensions=extensions)
