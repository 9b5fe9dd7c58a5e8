"""Identity keys and the matching rule: which person a local worker record belongs to.

A record is matched on *identity keys* derived from what the platform sent:

=======  ===============================  ==========================================
tier     key                              from
=======  ===============================  ==========================================
1        ``reg:<register>:<number>``      GMC/NMC/HCPC/GPhC identifiers, normalised by
                                          :mod:`rosterhub.mapping.functions.identifiers`
                                          (the connectors use the same functions)
2        ``mk:<hmac>``                    ``identity_match_key``: the ESR rule, an HMAC of
                                          NI number + date of birth + surname made at
                                          the connector; the clear values never get here
3        ``vid:<vendor>/<trust>|<id>``    vendor ids (``https://rosterhub.org/Id/...``)
=======  ===============================  ==========================================

Register numbers decide first; the match key only "where no register number exists"
(the issue's wording), vendor ids last. Everything here is pure: the caller passes who
owns a key and which register numbers a person's other records carry. A disagreement is
returned as a :class:`Dispute`; nothing is ever merged here.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from rosterhub.mapping.functions.identifiers import REGISTER_SYSTEMS, normalise_register
from rosterhub.mapping.functions.registry import ConversionError

__all__ = [
    "TIERS",
    "Dispute",
    "Match",
    "identifier_of",
    "keys_of",
    "match",
    "person_id_for",
    "tier_of",
]

VENDOR_SYSTEM_PREFIX = "https://rosterhub.org/Id/"
_SYSTEM_TO_REGISTER = {system: name for name, system in REGISTER_SYSTEMS.items()}
_MATCH_KEY = re.compile(r"[0-9a-f]{64}")
_PERSON_NS = uuid.UUID("0b6f4c1e-2d3a-5f48-9c7e-6a5b4d3c2e1f")

#: Tier name -> (link reason when a record joins through it, conflict kind when it disagrees).
TIERS: dict[str, tuple[str, str]] = {
    "reg": ("REGISTER_NUMBER", "REGISTER_NUMBER_SHARED"),
    "mk": ("MATCH_KEY", "MATCH_KEY_DISAGREES"),
    "vid": ("VENDOR_ID", "VENDOR_ID_DISAGREES"),
}


def person_id_for(key: str) -> str:
    """``p-<uuid5>`` of the identity key that created the person: replays give the same id."""
    return f"p-{uuid.uuid5(_PERSON_NS, key)}"


def tier_of(key: str) -> str:
    return key.split(":", 1)[0]


def _register(key: str) -> str:
    return key.split(":")[1]


def keys_of(identifiers: Iterable[Mapping[str, str]], match_key: str | None = None) -> list[str]:
    """Identity keys of a record, sorted by tier then value; malformed or foreign identifiers are ignored.

    A register number that the normaliser refuses is dropped rather than matched: a
    value that does not fit the register is never "repaired" into someone else's number.
    """
    keys: set[str] = set()
    for ident in identifiers:
        system, value = str(ident.get("system", "")).strip(), str(ident.get("value", "")).strip()
        if not value:
            continue
        if system in _SYSTEM_TO_REGISTER:
            try:
                keys.add(f"reg:{_SYSTEM_TO_REGISTER[system]}:{normalise_register(system, value)}")
            except ConversionError:
                continue
        elif system.startswith(VENDOR_SYSTEM_PREFIX) and system.count("/") >= 5:
            keys.add(f"vid:{system.removeprefix(VENDOR_SYSTEM_PREFIX)}|{value}")
    if match_key and _MATCH_KEY.fullmatch(match_key):
        keys.add(f"mk:{match_key}")
    return sorted(keys, key=lambda k: (list(TIERS).index(tier_of(k)), k))


def identifier_of(key: str) -> dict[str, str] | None:
    """The key as an Avro Identifier ``{system, value}``; None for the match key (never repeated)."""
    tier, rest = key.split(":", 1)
    if tier == "reg":
        register, number = rest.split(":", 1)
        return {"system": REGISTER_SYSTEMS[register], "value": number}
    if tier == "vid":
        system, value = rest.split("|", 1)
        return {"system": VENDOR_SYSTEM_PREFIX + system, "value": value}
    return None


@dataclass(frozen=True, slots=True)
class Dispute:
    """Identifiers of one record that point somewhere the record is not going."""

    kind: str  # ConflictKind symbol
    keys: tuple[str, ...]
    others: tuple[str, ...] = ()  # persons other than the record's target
    detail: str = ""


@dataclass(frozen=True, slots=True)
class Match:
    """Where a record goes: an existing ``person`` (None: a new one), and which keys it brings."""

    person: str | None
    via: str | None  # LinkMatch symbol for a new link; None when the record stays where it is
    accepted: tuple[str, ...]
    disputes: tuple[Dispute, ...] = field(default_factory=tuple)


def match(
    presented: Sequence[str],
    *,
    current: str | None,
    owners: Callable[[str], Sequence[str]],
    other_registers: Callable[[str], Mapping[str, set[str]]],
) -> Match:
    """Decide where a record presenting ``presented`` keys goes.

    ``current`` is the person the record already belongs to (it never moves on its own);
    ``owners(key)`` the people whose records present a key; ``other_registers(person)``
    the register numbers (by register) of that person's *other* records.
    """
    disputes: list[Dispute] = []
    usable = list(presented)
    by_register: dict[str, list[str]] = {}
    for key in usable:
        if tier_of(key) == "reg":
            by_register.setdefault(_register(key), []).append(key)
    for register, keys in by_register.items():
        if len(keys) > 1:  # one record, two numbers of one register
            disputes.append(
                Dispute(
                    "REGISTER_NUMBERS_DIFFER",
                    tuple(keys),
                    (),
                    f"the record presents {len(keys)} {register.upper()} numbers at once",
                )
            )
            usable = [k for k in usable if k not in keys]

    target, via = current, None
    if current is None:
        for tier, (reason, _kind) in TIERS.items():
            people = sorted({p for k in usable if tier_of(k) == tier for p in owners(k)})
            if len(people) == 1:
                target, via = people[0], reason
            if people:  # more than one: the record becomes its own person and a human decides (below)
                break

    apart = ""
    if target is not None:
        theirs = other_registers(target)
        for key in [k for k in usable if tier_of(k) == "reg"]:
            held = theirs.get(_register(key), set()) - {key}
            if not held:
                continue
            if current is None and via != "REGISTER_NUMBER":
                # joining would give one person two numbers of one register: stay apart, and the
                # identifiers that pointed there are disputed below
                apart = f"; not joined: that person holds another {_register(key).upper()} number"
                target, via = None, None
                break
            disputes.append(
                Dispute(
                    "REGISTER_NUMBERS_DIFFER",
                    (key, *sorted(held)),
                    (),
                    f"the person already holds another {_register(key).upper()} number",
                )
            )
            usable.remove(key)

    disputed = {k for d in disputes for k in d.keys}
    grouped: dict[str, tuple[list[str], set[str]]] = {}
    for key in usable:
        holders = owners(key)
        if key in disputed or not holders or target in holders:
            continue
        keys, others = grouped.setdefault(TIERS[tier_of(key)][1], ([], set()))
        keys.append(key)
        others.update(holders)
    for kind, (keys, others) in grouped.items():
        disputes.append(
            Dispute(
                kind,
                tuple(keys),
                tuple(sorted(others)),
                f"{tier_of(keys[0])} identifiers point at another person{apart}",
            )
        )
        disputed.update(keys)
    accepted = tuple(k for k in usable if k not in disputed)
    return Match(target, via if current is None else None, accepted, tuple(disputes))
