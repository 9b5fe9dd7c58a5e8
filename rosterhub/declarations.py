"""Things the hub finds rather than lists (transports, connectors, processors, routers, update kinds, outbound
adapters): where to look for them, and one rule for collecting them by name.

Each kind of thing is declared in its own module (a ``TRANSPORT``, a ``SPEC``, an ``ADAPTER``...) or by an
installed package's entry point. :class:`Declarations` collects them: a name declared twice stops start-up,
naming both places, rather than letting one silently shadow the other.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterator
from importlib.metadata import entry_points
from types import ModuleType
from typing import Any, Generic, TypeVar

from rosterhub.errors import ConfigError

__all__ = ["Declarations", "entry_point_objects", "module_attributes"]

T = TypeVar("T")


class Declarations(Generic[T]):
    """What was found so far, by name, with where each was declared (a module's name, an entry point)."""

    def __init__(self, what: str) -> None:
        self.what = what  # how an error names one: "connector id", "transport kind", "Processor"
        self._found: dict[str, tuple[T, str]] = {}

    def add(self, name: str, item: T, origin: str) -> None:
        if name in self._found:
            raise ConfigError(f"{self.what} {name!r} is declared twice: {self._found[name][1]} and {origin}")
        self._found[name] = (item, origin)

    def by_name(self) -> dict[str, T]:
        """Everything found, in name order."""
        return {name: item for name, (item, _) in sorted(self._found.items())}


def module_attributes(package: ModuleType, attribute: str) -> Iterator[tuple[Any, str]]:
    """``(value, module name)`` of each module directly in ``package`` that defines ``attribute`` (each imported
    once, in the order the folder lists them)."""
    for info in pkgutil.iter_modules(package.__path__):
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        if hasattr(module, attribute):
            yield getattr(module, attribute), module.__name__


def entry_point_objects(group: str) -> Iterator[tuple[Any, str]]:
    """``(object, "entry point <name>")`` of each entry point an installed package declares in ``group``."""
    for ep in entry_points(group=group):
        yield ep.load(), f"entry point {ep.name}"
