"""The parts of faust the processors use, with the types faust's own annotations leave out.

faust ships type hints (``py.typed``) but declares ``App.timer`` and ``App.task`` as ``no_type_check`` (a
decorator returning a bare ``Callable``, which strict mypy calls untyped), and its ``TableManagerT`` lacks the
``recovery`` its ``TableManager`` has. The wrappers here type each of those once, so the agents' modules are
checked strictly; they add no behaviour. The aliases name what every processor reads and keeps: raw bytes on
the wire (``StreamContext.raw_topic``) and JSON-ready rows in its tables (a state's ``to_table()``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeAlias, cast

import faust
from faust.types import TableT

__all__ = ["Beat", "RawEvent", "RawStream", "StateTable", "settling", "task", "timer"]

#: A raw topic's stream, as an agent is handed it (values are the record's bytes).
RawStream: TypeAlias = "faust.StreamT[bytes]"
#: One record of a raw topic, as ``stream.events()`` yields it.
RawEvent: TypeAlias = "faust.EventT[bytes]"
#: A processor's state table: the row its state's ``to_table()`` wrote under a key (a shift, booking, trust id),
#: None where there is none (the tables are made with ``default=None``).
StateTable: TypeAlias = "TableT[str, dict[str, Any] | None]"
#: A timer's or a task's body.
Beat: TypeAlias = Callable[[], Awaitable[None]]


def timer(app: faust.App, *, interval: float, name: str) -> Callable[[Beat], Beat]:
    """``@app.timer(interval=..., name=...)``."""
    return cast("Callable[[Beat], Beat]", app.timer(interval=interval, name=name))


def task(app: faust.App) -> Callable[[Beat], Beat]:
    """``@app.task``: started with the worker, after recovery."""

    def decorate(fun: Beat) -> Beat:
        return cast("Beat", app.task(fun))

    return decorate


def settling(app: faust.App) -> bool:
    """The app is rebalancing or recovering its tables: a timer leaves the tables alone until it is done."""
    recovery = getattr(app.tables, "recovery", None)  # faust's TableManager has one; TableManagerT does not say so
    return bool(app.rebalancing or getattr(recovery, "in_recovery", False))
