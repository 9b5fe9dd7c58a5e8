"""What a human decides: merge two people, or split records off one. Pure, like :mod:`.decide`.

Both are reversible. A merge remembers which records the merged-away person had
(``absorbed``); splitting exactly those records off the survivor revives the old person
id, so ``merge A B`` then ``split A --records <B's records>`` restores every link. A split
moves records to a new person ``p-<uuid5 of the command id>``; merging it back undoes it.

Each decision re-publishes the moved records' credential events on passport-in under
their new person (re-read by offset) and tells the passport which key lost them.
Commands that do not fit the state (unknown or merged person, records not on the
person) are refused with a reason and change nothing.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from rosterhub.envelope import Envelope
from rosterhub.streams.identity.commands import MergeCommand, SplitCommand
from rosterhub.streams.identity.match import person_id_for
from rosterhub.streams.identity.outputs import MERGED, SPLIT, Out, Replay, Step, command_event, linked_event
from rosterhub.streams.identity.state import Person, Record, Store

__all__ = ["merge", "split"]


def merge(store: Store, cmd: MergeCommand, *, command_id: str, cause: Envelope, seq: int) -> Step:
    into, gone = store.person(cmd.into), store.person(cmd.merge)
    refused = _check_live(into, cmd.into) or _check_live(gone, cmd.merge)
    if refused or into is None or gone is None:
        return Step(refused=refused)
    if into.person_id == gone.person_id:
        return Step(refused="a person cannot be merged into itself")
    moved = gone.records
    for key in {k for r in moved for k in _rec(store, r).keys}:
        store.put_owners(key, [into.person_id if p == gone.person_id else p for p in store.owners(key)])
    absorbed = {**into.absorbed, **gone.absorbed, gone.person_id: moved}
    resolves = _resolve(store, {*into.conflicts, *gone.conflicts}, command_id)
    store.put_person(replace(into, records=(*into.records, *moved), absorbed=absorbed, conflicts=()))
    store.put_person(replace(gone, records=(), merged_into=into.person_id, absorbed={}, conflicts=()))
    creds, offsets = _move(store, moved, into.person_id)
    data = {
        "person_id": into.person_id,
        "merged_person_id": gone.person_id,
        **_moved(moved, creds, resolves, cmd, command_id, seq),
        "merged_at": cause.time,
    }
    env = command_event(MERGED, data, command_id=command_id, time=cause.time)
    outputs = [Out(env, "identity"), Out(env, "passport", key=gone.person_id)]
    for r in moved:
        outputs.append(
            linked_event(r, into.person_id, "MERGE", _rec(store, r).keys, cause=cause, seq=seq, previous=gone.person_id)
        )
    return Step(outputs, [Replay(offsets, into.person_id, command_id)] if offsets else [])


def split(store: Store, cmd: SplitCommand, *, command_id: str, cause: Envelope, seq: int) -> Step:
    person = store.person(cmd.person)
    refused = _check_live(person, cmd.person)
    if refused or person is None:
        return Step(refused=refused)
    moved = tuple(dict.fromkeys(cmd.records))
    if strangers := [r for r in moved if r not in person.records]:
        return Step(refused=f"not records of {person.person_id}: {', '.join(strangers)}")
    kept = tuple(r for r in person.records if r not in moved)
    if not kept:
        return Step(refused="a split must leave the person at least one record")
    revived = next((p for p, rs in person.absorbed.items() if set(rs) == set(moved)), None)
    new_id = revived or person_id_for(f"split:{command_id}")
    kept_keys = {k for r in kept for k in _rec(store, r).keys}
    for key in {k for r in moved for k in _rec(store, r).keys}:
        others = [p for p in store.owners(key) if p != person.person_id]
        store.put_owners(key, [*others, new_id, *([person.person_id] if key in kept_keys else [])])
    absorbed = {p: rs for p, rs in person.absorbed.items() if p != revived and not set(rs) <= set(moved)}
    taken = {p: rs for p, rs in person.absorbed.items() if p != revived and set(rs) <= set(moved)}
    resolves = _resolve(store, set(person.conflicts), command_id)
    store.put_person(replace(person, records=kept, absorbed=absorbed, conflicts=()))
    store.put_person(Person(new_id, records=moved, absorbed=taken))
    creds, offsets = _move(store, moved, new_id)
    data = {
        "person_id": person.person_id,
        "new_person_id": new_id,
        "revived": revived is not None,
        **_moved(moved, creds, resolves, cmd, command_id, seq),
        "split_at": cause.time,
    }
    env = command_event(SPLIT, data, command_id=command_id, time=cause.time)
    outputs = [Out(env, "identity"), Out(env, "passport")]
    for r in moved:
        outputs.append(
            linked_event(r, new_id, "SPLIT", _rec(store, r).keys, cause=cause, seq=seq, previous=person.person_id)
        )
    return Step(outputs, [Replay(offsets, new_id, command_id)] if offsets else [])


def _moved(
    moved: tuple[str, ...],
    creds: list[str],
    resolves: list[str],
    cmd: MergeCommand | SplitCommand,
    command_id: str,
    seq: int,
) -> dict[str, Any]:
    """What a PersonMerged and a PersonSplit both say: the records and credentials a command moved, the conflicts
    it closed, who asked and why."""
    return {
        "worker_ids": list(moved),
        "credential_ids": creds,
        "resolves": resolves,
        "command_id": command_id,
        "reason": cmd.reason,
        "requested_by": cmd.requested_by,
        "sequence": seq,
    }


def _check_live(person: Person | None, asked: str) -> str | None:
    if person is None:
        return f"unknown person {asked}"
    if person.merged_into:
        return f"{asked} was merged into {person.merged_into}; use that id"
    return None


def _rec(store: Store, worker_id: str) -> Record:
    return store.record(worker_id) or Record(worker_id)


def _move(store: Store, moved: tuple[str, ...], to: str) -> tuple[list[str], tuple[int, ...]]:
    """Point the records at their new person; return their credential ids and identity-in offsets."""
    creds: list[str] = []
    offsets: list[int] = []
    for worker_id in moved:
        rec = _rec(store, worker_id)
        store.put_record(replace(rec, person=to))
        creds += [c for c in rec.creds if c not in creds]
        offsets += rec.offsets()
    return sorted(creds), tuple(sorted(offsets))


def _resolve(store: Store, conflict_ids: set[str], command_id: str) -> list[str]:
    closed = []
    for conflict_id in sorted(conflict_ids):
        conflict = store.conflict(conflict_id)
        if conflict is not None and conflict.status == "open":
            store.put_conflict(replace(conflict, status="resolved", resolved_by=command_id))
            closed.append(conflict_id)
    return closed
