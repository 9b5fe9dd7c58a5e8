"""What identity resolution remembers, in four small faust tables (changelog-backed, one partition).

============================  =====================================================
table                         key -> value (JSON)
============================  =====================================================
``identity-records``          local worker id -> person, accepted keys, offsets of its
                              credential events on ``_rosterhub.identity-in``, parked
                              credentials
``identity-keys``             identity key -> people whose records present it
``identity-persons``          person id -> records, merged-into, absorbed (for undo),
                              open conflict ids
``identity-conflicts``        conflict id -> kind, people, records, open/resolved
============================  =====================================================

Values hold ids and offsets only, never event bodies: a credential is re-read from
``_rosterhub.identity-in`` (kept forever, one partition) by offset when a merge or split
must re-publish it. :class:`Store` reads through an overlay and collects writes, so the
pure functions never touch a table and the agent applies the writes in one place.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

__all__ = ["TABLES", "Conflict", "Person", "Record", "Store"]

TABLES = ("records", "keys", "persons", "conflicts")


@dataclass(frozen=True, slots=True)
class Record:
    """One platform's record of a worker at one trust."""

    worker_id: str
    person: str | None = None  # None: not linked yet (only parked credentials so far)
    keys: tuple[str, ...] = ()  # identity keys accepted for its person
    creds: Mapping[str, tuple[tuple[int, str], ...]] = field(default_factory=dict)  # credential id -> (offset, ce_id)
    parked: tuple[tuple[int, str, str], ...] = ()  # (offset, ce_id, credential id) waiting for a link
    #: assignment key -> membership (type, trust, from, to, ended), from MembershipChanged (memberships.py)
    memberships: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        out = {
            "p": self.person,
            "k": list(self.keys),
            "c": {c: [list(e) for e in es] for c, es in self.creds.items()},
            "q": [list(e) for e in self.parked],
        }
        return {**out, "m": {k: dict(v) for k, v in self.memberships.items()}} if self.memberships else out

    @classmethod
    def from_json(cls, worker_id: str, v: Mapping[str, Any]) -> Record:
        creds = {c: tuple((int(o), str(i)) for o, i in es) for c, es in v.get("c", {}).items()}
        parked = tuple((int(o), str(i), str(c)) for o, i, c in v.get("q", ()))
        return cls(worker_id, v.get("p"), tuple(v.get("k", ())), creds, parked, dict(v.get("m", {})))

    def offsets(self) -> list[int]:
        return sorted(o for es in self.creds.values() for o, _ in es)


@dataclass(frozen=True, slots=True)
class Person:
    person_id: str
    records: tuple[str, ...] = ()
    merged_into: str | None = None
    absorbed: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # merged person -> its records then
    conflicts: tuple[str, ...] = ()  # open conflict ids involving this person
    #: identity-in offset of the last step that could change what a request naming this person resolves to
    #: (crosswalk.changes): the booking person stage refuses checks stamped with another version.
    version: int = 0

    def to_json(self) -> dict[str, Any]:
        d = {
            "r": list(self.records),
            "m": self.merged_into,
            "a": {k: list(v) for k, v in self.absorbed.items()},
            "x": list(self.conflicts),
        }
        return {**d, "v": self.version} if self.version else d

    @classmethod
    def from_json(cls, person_id: str, v: Mapping[str, Any]) -> Person:
        absorbed = {k: tuple(rs) for k, rs in v.get("a", {}).items()}
        return cls(person_id, tuple(v.get("r", ())), v.get("m"), absorbed, tuple(v.get("x", ())), int(v.get("v", 0)))

    def at_version(self, version: int) -> Person:
        return replace(self, version=version)

    def with_conflict(self, conflict_id: str) -> Person:
        return self if conflict_id in self.conflicts else replace(self, conflicts=(*self.conflicts, conflict_id))


@dataclass(frozen=True, slots=True)
class Conflict:
    conflict_id: str
    kind: str
    persons: tuple[str, ...]
    records: tuple[str, ...]
    status: str = "open"  # "open" | "resolved"
    resolved_by: str | None = None  # command id

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "p": list(self.persons),
            "r": list(self.records),
            "s": self.status,
            "by": self.resolved_by,
        }

    @classmethod
    def from_json(cls, conflict_id: str, v: Mapping[str, Any]) -> Conflict:
        return cls(conflict_id, v["kind"], tuple(v["p"]), tuple(v["r"]), v.get("s", "open"), v.get("by"))


class Store:
    """Reads the tables (any mappings: faust tables or dicts) through an overlay of pending writes."""

    def __init__(self, tables: Mapping[str, Mapping[str, Any]]) -> None:
        self._tables = tables
        self.writes: dict[str, dict[str, Any]] = {name: {} for name in TABLES}

    def before(self, table: str, key: str) -> Any:
        """The table's value as it was before this step's writes."""
        return self._tables[table].get(key)

    def _get(self, table: str, key: str) -> Any:
        pending = self.writes[table]
        return pending[key] if key in pending else self._tables[table].get(key)

    def record(self, worker_id: str) -> Record | None:
        v = self._get("records", worker_id)
        return None if v is None else Record.from_json(worker_id, v)

    def person(self, person_id: str) -> Person | None:
        v = self._get("persons", person_id)
        return None if v is None else Person.from_json(person_id, v)

    def live(self, person_id: str) -> Person | None:
        """The person, following merges to the survivor."""
        seen: set[str] = set()
        person = self.person(person_id)
        while person is not None and person.merged_into and person.person_id not in seen:
            seen.add(person.person_id)
            person = self.person(person.merged_into)
        return person

    def owners(self, key: str) -> list[str]:
        return list(self._get("keys", key) or ())

    def conflict(self, conflict_id: str) -> Conflict | None:
        v = self._get("conflicts", conflict_id)
        return None if v is None else Conflict.from_json(conflict_id, v)

    def put_record(self, rec: Record) -> None:
        self.writes["records"][rec.worker_id] = rec.to_json()

    def put_person(self, person: Person) -> None:
        self.writes["persons"][person.person_id] = person.to_json()

    def put_conflict(self, conflict: Conflict) -> None:
        self.writes["conflicts"][conflict.conflict_id] = conflict.to_json()

    def put_owners(self, key: str, people: list[str]) -> None:
        self.writes["keys"][key] = sorted(set(people)) or None  # None: delete the key

    def registers_of(self, person_id: str, *, excluding: str) -> dict[str, set[str]]:
        """Register keys (by register) presented by the person's records other than ``excluding``."""
        out: dict[str, set[str]] = {}
        person = self.person(person_id)
        for worker_id in person.records if person else ():
            rec = self.record(worker_id)
            for key in rec.keys if rec and worker_id != excluding else ():
                if key.startswith("reg:"):
                    out.setdefault(key.split(":")[1], set()).add(key)
        return out

    def presenters(self, person_id: str, keys: set[str]) -> list[str]:
        """Records of the person that present any of ``keys``."""
        person = self.person(person_id)
        found = []
        for worker_id in person.records if person else ():
            rec = self.record(worker_id)
            if rec and keys & set(rec.keys):
                found.append(worker_id)
        return found
