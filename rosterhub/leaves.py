"""The walk over a nested value (dicts and lists of plain values) that changes only its leaves.

Events, views and answers are trees of dicts and lists whose leaves (instants, dates, decimals, enums) each
output writes its own way: ISO text for an API, epoch milliseconds for an AsyncAPI example, London time for the
event docs, symbols for fastavro. The walk is the same for all of them, so it lives here once and each caller
says only what becomes of a leaf.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

__all__ = ["map_leaves"]


def map_leaves(value: Any, leaf: Callable[[Any], Any], *, sequences: tuple[type[Iterable[Any]], ...] = (list,)) -> Any:
    """``value`` with each leaf replaced by ``leaf(leaf)``: a dict keeps its keys, a list (or any of
    ``sequences``) becomes a list; anything else is a leaf, whole."""
    if isinstance(value, dict):
        return {k: map_leaves(v, leaf, sequences=sequences) for k, v in value.items()}
    if isinstance(value, sequences):
        return [map_leaves(v, leaf, sequences=sequences) for v in value]
    return leaf(value)
