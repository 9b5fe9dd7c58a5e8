"""One identity step for a worker or credential event: (store, event, offset) -> events out.

Pure: the :class:`~streams.identity.state.Store` collects table writes, the returned
:class:`~streams.identity.outputs.Step` lists what to send. ``offset`` is the input's
offset on ``_rosterhub.identity-in`` (one partition), used as the event ``sequence`` and to
find a credential again later.

Idempotent: a redelivered worker event finds the record already linked with the same
keys and changes nothing; a redelivered credential event is recognised by its ce_id; a
conflict already raised (open or resolved) is not raised again.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace

from rosterhub.envelope import Envelope, event_id
from rosterhub.events.models import MembershipChanged
from rosterhub.streams.identity.match import Dispute, keys_of, match, person_id_for
from rosterhub.streams.identity.memberships import employment_message, membership_of
from rosterhub.streams.identity.outputs import (
    BOOKING_REQUESTED,
    CREDENTIAL_TYPES,
    WORKER_TYPES,
    Out,
    Replay,
    Step,
    booking_copy,
    conflict_event,
    linked_event,
    passport_copy,
)
from rosterhub.streams.identity.state import Conflict, Person, Record, Store

__all__ = ["link_worker", "resolve_booking", "route_credential", "step"]

_MEMBERSHIP = MembershipChanged.AVRO_NAME


def step(store: Store, env: Envelope, offset: int) -> Step:
    if env.type in WORKER_TYPES:
        return link_worker(store, env, offset)
    if env.type in CREDENTIAL_TYPES:
        return route_credential(store, env, offset)
    if env.type == BOOKING_REQUESTED:
        return resolve_booking(store, env)
    return Step()  # anything else on the topic is not ours to resolve


def link_worker(store: Store, env: Envelope, offset: int) -> Step:
    d = env.data
    worker_id = d["worker_id"]
    rec = store.record(worker_id) or Record(worker_id)
    presented = keys_of(d["worker"].get("identifiers") or (), d.get("identity_match_key"))
    if env.type == _MEMBERSHIP:
        key, membership = membership_of(d)
        rec = replace(rec, memberships={**rec.memberships, key: membership})
        if rec.person is None:
            store.put_record(rec)  # kept for the person the worker record will name: who someone is comes from it
            return Step()
        presented = sorted({*rec.keys, *(k for k in presented if k.startswith("vid:"))})
    current = rec.person
    m = match(
        presented,
        current=current,
        owners=store.owners,
        other_registers=lambda p: store.registers_of(p, excluding=worker_id),
    )
    person = m.person or _new_person_id(store, m.accepted, worker_id)
    outputs: list[Out] = []
    if current is None:
        outputs.append(linked_event(worker_id, person, m.via or "NEW_PERSON", m.accepted, cause=env, seq=offset))
        owner = store.person(person) or Person(person)
        store.put_person(replace(owner, records=(*owner.records, worker_id)))
    _rekey(store, person, worker_id, old=rec.keys, new=m.accepted)
    for dispute in m.disputes:
        outputs.extend(_raise(store, dispute, worker_id, person, cause=env, seq=offset))
    replays = []
    if rec.parked:
        replays.append(Replay(tuple(o for o, _, _ in rec.parked), person, env.id))
    creds = dict(rec.creds)
    for o, ce_id, cred in rec.parked:
        creds[cred] = (*creds.get(cred, ()), (o, ce_id))
    new_rec = replace(rec, person=person, keys=m.accepted, creds=creds, parked=())
    if new_rec != (store.record(worker_id) or Record(worker_id)):
        store.put_record(new_rec)
    # the person's memberships changed (this one), or a record that brought some was just linked
    changed = env.type == _MEMBERSHIP or (current is None and bool(new_rec.memberships))
    return Step(outputs, replays, person=[employment_message(store, person, offset)] if changed else [])


def route_credential(store: Store, env: Envelope, offset: int) -> Step:
    d = env.data
    local, cred = d["person_id"], d["credential_id"]
    hub = store.live(local)
    if hub is not None:  # already carries a hub person id (e.g. a verified credential from the passport side)
        return Step([Out(passport_copy(env, hub.person_id, local), "passport")])
    rec = store.record(local) or Record(local)
    if any(ce_id == env.id for es in rec.creds.values() for _, ce_id in es) or any(
        i == env.id for _, i, _ in rec.parked
    ):
        return Step()  # redelivered
    outputs: list[Out] = []
    linked_now = rec.person is None
    if rec.person is None:
        person, via = _by_own_identifiers(store, d["worker"].get("identifiers") or ())
        if person is None:
            store.put_record(replace(rec, parked=(*rec.parked, (offset, env.id, cred))))
            return Step()
        owner = store.person(person) or Person(person)
        store.put_person(replace(owner, records=(*owner.records, local)))
        outputs.append(linked_event(local, person, via, (), cause=env, seq=offset))
        replays = [Replay(tuple(o for o, _, _ in rec.parked), person, env.id)] if rec.parked else []
        creds = dict(rec.creds)
        for o, ce_id, c in rec.parked:
            creds[c] = (*creds.get(c, ()), (o, ce_id))
        rec = replace(rec, person=person, creds=creds, parked=())
    else:
        replays = []
    store.put_record(replace(rec, creds={**rec.creds, cred: (*rec.creds.get(cred, ()), (offset, env.id))}))
    assert rec.person is not None
    outputs.append(Out(passport_copy(env, rec.person, local), "passport"))
    # a record linked by its credential may have brought memberships that were waiting for a person
    employment = [employment_message(store, rec.person, offset)] if linked_now and rec.memberships else []
    return Step(outputs, replays, person=employment)


def resolve_booking(store: Store, env: Envelope) -> Step:
    """Stamp the person on a booking request and pass it to the booking saga; unknown: person_id null.

    The person is the one every known key of the request names (after merges), as for a credential;
    no key known, or keys naming different people, leaves it null and the booking is refused
    WORKER_UNKNOWN naming the identifiers. Reads only: a request never links or creates a person.
    """
    given = env.data["worker"].get("person_id")
    live = store.live(given) if given else None
    if live is not None:
        return Step([Out(booking_copy(env, live.person_id, live.version), "booking")])
    keys = keys_of(env.data["worker"].get("identifiers") or ())
    people = {found.person_id: found for k in keys for p in store.owners(k) for found in [store.live(p) or Person(p)]}
    if len(people) == 1:
        [found] = people.values()
        return Step([Out(booking_copy(env, found.person_id, found.version), "booking")])
    return Step([Out(booking_copy(env, None), "booking")])


def _by_own_identifiers(store: Store, identifiers: Iterable[Mapping[str, str]]) -> tuple[str | None, str]:
    """A credential's holder identifiers link it only when every key that is known names one person."""
    keys = keys_of(identifiers)
    people = {p for k in keys for p in store.owners(k)}
    if len(people) != 1:
        return None, ""
    first = next(k for k in keys if store.owners(k))
    return people.pop(), {"reg": "REGISTER_NUMBER", "vid": "VENDOR_ID"}.get(first.split(":")[0], "MATCH_KEY")


def _new_person_id(store: Store, accepted: tuple[str, ...], worker_id: str) -> str:
    """From the record's first accepted key; a key whose person id was used before falls back to the record."""
    if accepted:
        candidate = person_id_for(accepted[0])
        if store.person(candidate) is None:
            return candidate
    return person_id_for(f"rec:{worker_id}")


def _rekey(store: Store, person: str, worker_id: str, *, old: tuple[str, ...], new: tuple[str, ...]) -> None:
    """Keep identity-keys in step with the record's accepted keys."""
    for key in set(new) - set(old):
        store.put_owners(key, [*store.owners(key), person])
    gone = set(old) - set(new)
    if gone:
        still = {
            k for r in store.presenters(person, gone) if r != worker_id for k in (store.record(r) or Record(r)).keys
        }
        for key in gone - still:
            store.put_owners(key, [p for p in store.owners(key) if p != person])


def _raise(store: Store, dispute: Dispute, worker_id: str, person: str, *, cause: Envelope, seq: int) -> list[Out]:
    persons = [person, *(p for p in dispute.others if p != person)]
    conflict_id = event_id("identity.conflict", dispute.kind, worker_id, *sorted(persons), *sorted(dispute.keys))
    if store.conflict(conflict_id) is not None:
        return []  # raised before: once is enough, and a resolved one stays resolved
    records = [worker_id]
    for other in persons:
        records += [r for r in store.presenters(other, set(dispute.keys)) if r not in records]
    store.put_conflict(Conflict(conflict_id, dispute.kind, tuple(persons), tuple(records)))
    for p in persons:
        owner = store.person(p) or Person(p)
        store.put_person(owner.with_conflict(conflict_id))
    return [
        conflict_event(
            conflict_id, dispute.kind, worker_id, persons, records, dispute.keys, dispute.detail, cause=cause, seq=seq
        )
    ]
