"""Limits and strictness on every value a mapping produces, before it becomes an event.

An Avro ``string`` has no length and fastavro accepts any character, so without these
checks a vendor could put 700 KB of "notes" on a topic (and into every partner's CSV
export), or a NUL inside an id. Each text value of a mapped event is checked against:

* **its length**: the mapping's ``max_length`` on that value, else the schema field's
  ``rosterhub.max_length`` (free-text fields such as ``notes`` declare 2000), else
  :data:`DEFAULT_MAX_LENGTH` characters;
* **its characters**: no control characters other than tab, line feed and carriage
  return (no NUL, no C1 controls), and no lone surrogates (not characters at all);

and each array against the field's ``rosterhub.max_items``, else :data:`DEFAULT_MAX_ITEMS`.

Nothing is truncated or cleaned: a value over a limit rejects its record, naming the
field, the vendor's path and the (shortened) value, so the sender learns what to fix.
Pure functions; the engine calls :func:`first_problem` per event.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from rosterhub.mapping.engine.expr import Node

__all__ = ["DEFAULT_MAX_ITEMS", "DEFAULT_MAX_LENGTH", "Problem", "first_problem", "shown"]

#: Characters a text value may hold when neither the mapping nor the schema says otherwise.
DEFAULT_MAX_LENGTH = 200
#: Items an array may hold when the schema does not say otherwise.
DEFAULT_MAX_ITEMS = 100
#: How much of a refused value an error message shows.
SHOWN_CHARS = 60

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


@dataclass(frozen=True, slots=True)
class Problem:
    path: str  # the canonical field, dotted (worker.display_name, worker.identifiers[1].value)
    message: str
    value: str  # shortened and escaped, safe for a header or a log line
    node: Node | None  # the mapping node that made the top-level field, for the rule it names
    check: str  # max_length | max_items | control_character


def shown(text: str) -> str:
    """A value as an error may show it: control characters escaped, at most ``SHOWN_CHARS`` characters."""
    head = _CONTROL.sub(
        lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100 else "\\ufffd", text[:SHOWN_CHARS]
    )
    return head if len(text) <= SHOWN_CHARS else f"{head}... ({len(text)} characters)"


def first_problem(
    data: Mapping[str, Any], schema: Mapping[str, Any], named: Mapping[str, Any], nodes: Mapping[str, Node]
) -> Problem | None:
    """The first value of ``data`` (a record of ``schema``) that breaks a limit, or None."""
    return _record(data, schema, named, nodes, "", None)


def _record(
    data: Mapping[str, Any],
    schema: Mapping[str, Any],
    named: Mapping[str, Any],
    nodes: Mapping[str, Node] | None,
    prefix: str,
    owner: Node | None,
) -> Problem | None:
    for f in schema["fields"]:
        node = (nodes or {}).get(f["name"])
        problem = _value(data.get(f["name"]), f["type"], f, named, node or owner, node, f"{prefix}{f['name']}")
        if problem is not None:
            return problem
    return None


def _value(
    value: Any,
    avro: Any,
    fdef: Mapping[str, Any],
    named: Mapping[str, Any],
    owner: Node | None,
    node: Node | None,
    path: str,
) -> Problem | None:
    if isinstance(value, str):
        return _text(value, fdef, owner, node, path)
    if isinstance(value, list):
        limit = int(fdef.get("rosterhub.max_items", DEFAULT_MAX_ITEMS))
        if len(value) > limit:
            return Problem(
                path,
                f"{_source(node, path)} has {len(value)} items, over the limit of {limit}",
                f"{len(value)} items",
                owner,
                "max_items",
            )
        items = _branch(avro, named, "array")
        item_type = items["items"] if items else None
        item_nodes = node.spec if node is not None and node.kind == "list" and len(node.spec) == len(value) else None
        for i, item in enumerate(value):
            inner = item_nodes[i] if item_nodes else None
            problem = _value(item, item_type, {}, named, owner, inner, f"{path}[{i}]")
            if problem is not None:
                return problem
        return None
    if isinstance(value, dict):
        record = _branch(avro, named, "record")
        if record is None:
            return None  # a map: its values are checked by the schema's own validation
        nodes = node.spec[0] if node is not None and node.kind == "record" else None
        return _record(value, record, named, nodes, f"{path}.", owner)
    return None


def _text(value: str, fdef: Mapping[str, Any], owner: Node | None, node: Node | None, path: str) -> Problem | None:
    bad = _CONTROL.search(value)
    if bad is not None:
        char = bad.group()
        what = "a lone surrogate" if "\ud800" <= char <= "\udfff" else f"the control character U+{ord(char):04X}"
        return Problem(
            path,
            f"{_source(node, path)} holds {what}, which text in the hub may not",
            shown(value),
            owner,
            "control_character",
        )
    limit = _limit(fdef, node)
    if len(value) > limit:
        return Problem(
            path,
            f"{_source(node, path)} is {len(value)} characters long, over the limit of {limit} for {path}",
            shown(value),
            owner,
            "max_length",
        )
    return None


def _limit(fdef: Mapping[str, Any], node: Node | None) -> int:
    if node is not None and node.max_length:
        return node.max_length
    return int(fdef.get("rosterhub.max_length", DEFAULT_MAX_LENGTH))


def _source(node: Node | None, path: str) -> str:
    """How the vendor's side of the value is named: the mapping's path (``data.notes``) when it is one."""
    if node is not None and node.kind in ("path", "column") and node.describe:
        return node.describe
    return path


def _branch(avro: Any, named: Mapping[str, Any], kind: str) -> dict[str, Any] | None:
    """The ``kind`` (record or array) branch of an Avro type, following unions and named references."""
    if isinstance(avro, list):
        for b in avro:
            found = _branch(b, named, kind)
            if found is not None:
                return found
        return None
    if isinstance(avro, str):
        avro = named.get(avro)
    if isinstance(avro, dict):
        if avro.get("type") == kind:
            return avro
        if isinstance(avro.get("type"), dict | list | str) and avro.get("type") not in (
            "record",
            "array",
            "enum",
            "map",
            "fixed",
        ):
            return _branch(avro["type"], named, kind)
    return None
