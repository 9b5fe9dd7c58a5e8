"""``dataclasses.asdict`` for the processors' table state, without its per-value ``copy.deepcopy``.

Every table write turns a frozen state dataclass into the dict faust stores as JSON. ``asdict``
deep-copies each leaf and nested dict on the way (~0.5 ms for a held booking shift, several
times per decision, docs/benchmarks.md). The state is JSON-able by construction (dicts, lists,
tuples, dataclasses of them and immutable scalars), so copying the containers and keeping the
scalars gives the same dict, a fresh one that shares nothing mutable with the state.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import fields, is_dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Self, cast

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

__all__ = ["TableRow", "plain", "row", "tuples"]


def plain(value: Any) -> Any:
    """The same value as ``dataclasses.asdict`` (dataclasses as dicts, tuples kept tuples), built faster."""
    kind = type(value)
    if kind is dict:
        return {k: plain(v) for k, v in value.items()}
    if kind is list or kind is tuple:
        return kind(plain(v) for v in value)
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in fields(value)}
    return value


def row(state: DataclassInstance, lists: Iterable[str] = ()) -> dict[str, Any]:
    """``plain`` of a state dataclass, typed as what it is: the dict of its fields that a table stores.

    The tuple fields named in ``lists`` are stored as lists, as JSON gives them back, so a row is the same
    whether it was just written or read back from the changelog; :func:`tuples` turns them back.
    """
    d = {f.name: plain(getattr(state, f.name)) for f in fields(state)}
    for name in lists:
        d[name] = list(d[name])
    return d


def tuples(value: Mapping[str, Any], names: Iterable[str]) -> dict[str, Any]:
    """A table value with the named fields as tuples again (absent ones empty), ready for the state's class."""
    return {**value, **{name: tuple(value.get(name, ())) for name in names}}


class TableRow:
    """Base of a frozen state dataclass that a processor's table stores as a :func:`row`.

    ``LISTS`` names its tuple fields once, for both ways: stored as lists (:meth:`to_table`) and made tuples
    again when read (:meth:`from_table`). A state whose row needs more than that to read (nested dataclasses)
    overrides :meth:`from_table`.
    """

    __slots__ = ()
    LISTS: ClassVar[tuple[str, ...]] = ()

    def to_table(self) -> dict[str, Any]:
        # asdict's value without its deepcopy: written at every change of the state
        return row(cast("DataclassInstance", self), self.LISTS)

    @classmethod
    def from_table(cls, value: Mapping[str, Any] | None) -> Self | None:
        """The state a table row holds; None for no row."""
        return None if value is None else cast(Any, cls)(**tuples(value, cls.LISTS))
