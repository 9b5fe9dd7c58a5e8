"""Identity's crosswalk as every worker sees it: a read-only copy, exact as of one resolver step.

The booking shift stage stamps a request's person from this copy instead of routing every request through
``_rosterhub.identity-in`` (one partition, two hops): docs/decisions/0012-identity-off-the-request-path.md.

**What the resolver publishes** (:func:`changes`, on ``_rosterhub.identity-crosswalk``, one partition,
compacted), after each step that changed who owns an identity key or a person's standing:

* ``k:<identity key>`` -> the people whose records present the key (``[]``: nobody now);
* ``p:<person id>`` -> the person it was merged into (or null) and its **version**: the identity-in offset of
  the last step that could change what a request naming this person resolves to (a merge, a split, an identity
  key taken from or shared with the person). New keys for nobody before change no version.

Every record carries its step (``s``) and the step's record count (``of``): the copy applies a step only whole,
so it always equals the resolver's state after some step *W*. Key records come before person records.

**Fences.** For each person whose version moved, the resolver also sends a *fence* (the new version) to the
person's partition of ``_rosterhub.booking-person``; the person stage refuses a check stamped with another
version than the last fence it has seen (:mod:`rosterhub.streams.booking.person`).

**Resolving** (:meth:`Crosswalk.resolve`): only when every identity key of the request is known to the copy
and, after merges, they name exactly one person; anything else (a key the copy does not know, no key, several
people, the copy still loading) is left to the resolver itself (``None``), as before this copy existed.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from rosterhub.streams.identity.match import keys_of
from rosterhub.streams.identity.state import Person, Store

__all__ = ["Changes", "Crosswalk", "Resolution", "changes", "decode", "fence_message"]

FENCE = "identity"


@dataclass(frozen=True, slots=True)
class Changes:
    """What one resolver step publishes: crosswalk records (key, value) in order, and fences (person, version)."""

    records: list[tuple[bytes, bytes]] = field(default_factory=list)
    fences: list[tuple[str, int]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Resolution:
    person: str
    version: int


def _owners(value: Any) -> set[str]:
    return set(value or ())


def changes(store: Store, seq: int) -> Changes:
    """The crosswalk records and fences for the step whose table writes ``store`` holds; bumps versions in place.

    A person's version moves to ``seq`` when the step took an identity key from them, gave one of their keys to
    someone else as well, gave them a key someone else held, or changed whom they were merged into: exactly the
    changes after which a request resolved to them from an older copy might resolve otherwise.
    """
    bumped: set[str] = set()
    keys = store.writes["keys"]
    for key, new in keys.items():
        old, now = _owners(store.before("keys", key)), _owners(new)
        if old and old != now:
            bumped |= old | now  # everyone the key named before or names now: their requests may resolve otherwise
    for pid, new in store.writes["persons"].items():
        old = store.before("persons", pid)
        if old is not None and (old.get("m") != new.get("m")):
            bumped.add(pid)
    for pid in sorted(bumped):
        bumping = store.person(pid) or Person(pid)
        store.put_person(bumping.at_version(seq))
    entries: list[tuple[str, dict[str, Any]]] = [
        (f"k:{key}", {"o": sorted(_owners(new))}) for key, new in sorted(keys.items())
    ]
    for pid in sorted(bumped):
        person = store.person(pid)
        assert person is not None
        entries.append((f"p:{pid}", {"m": person.merged_into, "v": person.version}))
    records = [
        (k.encode(), json.dumps({**v, "s": seq, "of": len(entries)}, separators=(",", ":")).encode())
        for k, v in entries
    ]
    return Changes(records, [(pid, seq) for pid in sorted(bumped)])


def fence_message(person: str, version: int) -> dict[str, Any]:
    return {"kind": FENCE, "person_id": person, "version": version}


def decode(key: bytes, value: bytes) -> tuple[str, dict[str, Any]]:
    return key.decode(), json.loads(value)


@dataclass
class Crosswalk:
    """The copy: identity key -> owners, person -> (merged into, version); applied one whole step at a time."""

    owners: dict[str, tuple[str, ...]] = field(default_factory=dict)
    merged: dict[str, str] = field(default_factory=dict)
    versions: dict[str, int] = field(default_factory=dict)
    people: set[str] = field(default_factory=set)  # every person id seen as an owner (persons are never removed)
    step: int = -1  # the last step applied whole: the copy equals the resolver's state after it
    ready: bool = False  # caught up with the topic's end once; until then every request goes to the resolver
    _pending: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    _pending_step: int = -1

    def apply(self, key: str, value: dict[str, Any]) -> None:
        """One record, in topic order; a step is applied when all its records are in, or a later step begins
        (compaction may have removed records a later step superseded)."""
        s = int(value["s"])
        if self._pending and s != self._pending_step:
            self._flush()
        self._pending_step = s
        self._pending.append((key, value))
        if len(self._pending) >= int(value.get("of", 1)):
            self._flush()

    def _flush(self) -> None:
        for key, value in self._pending:
            kind, name = key.split(":", 1)
            if kind == "k":
                self.owners[name] = tuple(value.get("o") or ())
                self.people.update(self.owners[name])
            elif kind == "p":
                if value.get("m"):
                    self.merged[name] = value["m"]
                else:
                    self.merged.pop(name, None)
                self.versions[name] = int(value.get("v", 0))
                self.people.add(name)
        self.step = max(self.step, self._pending_step)
        self._pending = []

    def live(self, person: str) -> str:
        seen: set[str] = set()
        while person in self.merged and person not in seen:
            seen.add(person)
            person = self.merged[person]
        return person

    def resolve(self, identifiers: Iterable[Mapping[str, str]], given: str | None = None) -> Resolution | None:
        """The person the resolver would stamp at :attr:`step`, with their version; None: ask the resolver."""
        if not self.ready:
            return None
        if given:
            if given in self.people:
                person = self.live(given)
                return Resolution(person, self.versions.get(person, 0))
            return None  # a person id the copy has not seen (yet): the resolver knows
        keys = keys_of(identifiers)
        if not keys or any(k not in self.owners for k in keys):
            return None
        people = {self.live(p) for k in keys for p in self.owners[k]}
        if len(people) != 1:
            return None
        person = people.pop()
        return Resolution(person, self.versions.get(person, 0))
