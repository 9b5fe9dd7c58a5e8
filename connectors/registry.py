"""Finds every connector: modules and YAML files in ``connectors/vendors/``, plus the ``rosterhub.connectors``
entry points. A YAML file declares a connector that needs no Python (``connectors/declared.py``).

A duplicate id stops start-up rather than letting one vendor silently shadow another.
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache
from importlib.metadata import entry_points
from pathlib import Path

from rosterhub.connectors import vendors
from rosterhub.connectors.base import ConnectorSpec
from rosterhub.connectors.declared import load_declared
from rosterhub.errors import ConfigError

__all__ = ["connector", "connectors"]


@cache
def connectors() -> dict[str, ConnectorSpec]:
    found: dict[str, tuple[ConnectorSpec, str]] = {}

    def add(spec: object, origin: str) -> None:
        if not isinstance(spec, ConnectorSpec):
            raise ConfigError(f"{origin} does not provide a ConnectorSpec (got {type(spec).__name__})")
        if spec.id in found:
            raise ConfigError(f"connector id {spec.id!r} is declared twice: {found[spec.id][1]} and {origin}")
        found[spec.id] = (spec, origin)

    for info in pkgutil.iter_modules(vendors.__path__):
        module = importlib.import_module(f"{vendors.__name__}.{info.name}")
        if hasattr(module, "SPEC"):
            add(module.SPEC, module.__name__)
    for folder in vendors.__path__:
        for path in sorted(Path(folder).glob("*.yaml")):
            add(load_declared(path), f"connectors/vendors/{path.name}")
    for ep in entry_points(group="rosterhub.connectors"):
        add(ep.load(), f"entry point {ep.name}")
    return {k: v[0] for k, v in sorted(found.items())}


def connector(vendor: str) -> ConnectorSpec:
    try:
        return connectors()[vendor]
    except KeyError:
        raise ConfigError(f"unknown vendor {vendor!r}; known: {', '.join(connectors())}") from None
