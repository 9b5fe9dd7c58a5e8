"""A read model of ``events.identity`` for the API and the CLI: who is who, and the open conflicts.

Why a fold of the topic and not a query of the worker: the worker's RocksDB tables are
private to its process, and faust's web server (which could route a query to the
partition owner) is the passport's decision; ``events.identity`` already holds every
link, conflict, merge and split. Partitions are read in any interleaving, so each event
carries ``sequence`` (the identity-in offset of its cause) and a record keeps the link
with the highest sequence: the fold gives the same answer whatever the read order.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rosterhub.envelope import Envelope
from rosterhub.leaves import map_leaves
from rosterhub.streams.identity.outputs import CONFLICT, LINKED, MERGED, SPLIT

__all__ = ["IdentityView"]


@dataclass
class IdentityView:
    links: dict[str, tuple[str, int]] = field(default_factory=dict)  # record -> (person, sequence)
    members: dict[str, set[str]] = field(default_factory=dict)  # person -> records
    merged: dict[str, tuple[str | None, int]] = field(default_factory=dict)  # person -> (merged into, sequence)
    conflicts: dict[str, dict[str, Any]] = field(default_factory=dict)
    resolved: dict[str, str] = field(default_factory=dict)  # conflict id -> command id
    results: dict[str, dict[str, Any]] = field(default_factory=dict)  # command id -> merge/split summary
    events: int = 0

    def apply(self, env: Envelope) -> None:
        d = env.data
        self.events += 1
        seq = int(d.get("sequence", 0))
        if env.type == LINKED:
            self._link(d["worker_id"], d["person_id"], seq)
        elif env.type == CONFLICT:
            self.conflicts[d["conflict_id"]] = map_leaves(d, _iso)
        elif env.type in (MERGED, SPLIT):
            kind = "merge" if env.type == MERGED else "split"
            self.results[d["command_id"]] = {"kind": kind, **map_leaves(d, _iso)}
            for conflict_id in d.get("resolves", ()):
                self.resolved[conflict_id] = d["command_id"]
            if kind == "merge":
                self._merged(d["merged_person_id"], d["person_id"], seq)
                self._merged(d["person_id"], None, seq)
            else:
                self._merged(d["new_person_id"], None, seq)
            for worker_id in d.get("worker_ids", ()):
                self._link(worker_id, d["person_id"] if kind == "merge" else d["new_person_id"], seq)

    def _link(self, worker_id: str, person: str, seq: int) -> None:
        old = self.links.get(worker_id)
        if old is not None and old[1] > seq:
            return
        if old is not None:
            self.members.get(old[0], set()).discard(worker_id)
        self.links[worker_id] = (person, seq)
        self.members.setdefault(person, set()).add(worker_id)

    def _merged(self, person: str, into: str | None, seq: int) -> None:
        old = self.merged.get(person)
        if old is None or old[1] <= seq:
            self.merged[person] = (into, seq)

    def person_of(self, worker_id: str) -> str | None:
        link = self.links.get(worker_id)
        return link[0] if link else None

    def merged_into(self, person: str) -> str | None:
        return self.merged.get(person, (None, 0))[0]

    def knows(self, person: str) -> bool:
        return person in self.members or person in self.merged

    def records(self, person: str) -> list[str]:
        return sorted(self.members.get(person, ()))

    def open_conflicts(self, person: str | None = None) -> list[dict[str, Any]]:
        found = [
            {**c, "status": "open"}
            for cid, c in self.conflicts.items()
            if cid not in self.resolved and (person is None or person in c["person_ids"])
        ]
        return sorted(found, key=lambda c: (c["sequence"], c["conflict_id"]))

    def person(self, person: str) -> dict[str, Any] | None:
        if not self.knows(person):
            return None
        return {
            "person_id": person,
            "merged_into": self.merged_into(person),
            "records": self.records(person),
            "open_conflicts": [c["conflict_id"] for c in self.open_conflicts(person)],
        }

    def check_merge(self, into: str, merge: str) -> str | None:
        """Why the worker would refuse this merge, as far as this view knows (None: looks fine)."""
        for person in (into, merge):
            if not self.knows(person):
                return f"unknown person {person}"
            if self.merged_into(person):
                return f"{person} was merged into {self.merged_into(person)}; use that id"
        return "a person cannot be merged into itself" if into == merge else None

    def check_split(self, person: str, records: list[str]) -> str | None:
        if not self.knows(person):
            return f"unknown person {person}"
        if self.merged_into(person):
            return f"{person} was merged into {self.merged_into(person)}; use that id"
        mine = set(self.records(person))
        if strangers := [r for r in records if r not in mine]:
            return f"not records of {person}: {', '.join(strangers)}"
        return "a split must leave the person at least one record" if mine <= set(records) else None


def _iso(value: Any) -> Any:
    """An instant as ISO text, for API answers."""
    return value.isoformat() if hasattr(value, "isoformat") else value
