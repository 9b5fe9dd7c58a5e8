"""Memberships identity holds for each person, and the message that hands them to the booking person stage.

ESR (and any source of ``MembershipChanged``) says who is employed where: a substantive
assignment at a trust, a bank membership. The moonlighting rule must decide on those facts,
not on what the platform asking for an agency booking declares about the worker
(docs/booking.md, "moonlighting"). Identity is where a record becomes a person, so it keeps
each record's memberships (``Record.memberships``) and, whenever a person's memberships may
have changed (a membership of a linked record, a record linked that brought memberships, a
merge or a split), sends the person's complete list to ``_rosterhub.booking-person`` under the
person id: an ``employment`` message. The person stage keeps the newest (by ``seq``, the
identity-in offset of its cause) and the booking rules read it from the rule context.

Pure: values in, values out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from rosterhub.streams.identity.state import Store

__all__ = ["EMPLOYMENT", "employment_message", "membership_of", "person_memberships"]

#: Kind of the saga message carrying a person's memberships to the booking person stage.
EMPLOYMENT = "employment"


def _iso(value: Any) -> str | None:
    return None if value is None else value.isoformat() if hasattr(value, "isoformat") else str(value)


def membership_of(data: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """(key, membership) of a MembershipChanged event: the key names the assignment (its first identifier,
    e.g. ESR's assignment number) so a later change or ending of it replaces the same entry."""
    idents = data["worker"].get("identifiers") or ()
    assignment = str(idents[0]["value"]) if idents else data["worker_id"]
    kind = str(data["membership_type"])
    home = (data.get("home_trust") or {}).get("ods_code")
    ended = str(data.get("change")) == "ENDED"
    value = {
        "type": kind,
        "trust": home,
        "from": _iso(data.get("effective_from")),
        "to": _iso(data.get("effective_to")),
        "ended": ended,
        "agency": data.get("agency"),
    }
    return f"{home}|{kind}|{assignment}", value


def person_memberships(store: Store, person_id: str) -> list[dict[str, Any]]:
    """Every membership of every record of the person (after merges: the survivor's), ordered by key."""
    person = store.person(person_id)
    if person is None or person.merged_into:
        return []
    found: dict[str, Mapping[str, Any]] = {}
    for worker_id in person.records:
        record = store.record(worker_id)
        if record is not None:
            found.update(record.memberships)
    return [{"key": k, **v} for k, v in sorted(found.items())]


def employment_message(store: Store, person_id: str, seq: int) -> dict[str, Any]:
    """The saga message telling the person stage the person's memberships as of identity-in offset ``seq``."""
    return {"kind": EMPLOYMENT, "person_id": person_id, "seq": seq, "memberships": person_memberships(store, person_id)}


def messages(store: Store, people: Iterable[str], seq: int) -> list[dict[str, Any]]:
    return [employment_message(store, p, seq) for p in sorted(set(people))]
