"""Finds every transport kind and every connector; nothing central lists either.

* **Transport kinds**: each module or package in ``connectors/kinds/`` exposing ``TRANSPORT`` (a
  :class:`~rosterhub.connectors.base.Transport`), plus the ``rosterhub.transports`` entry points.
* **Connectors**: modules and YAML files in ``connectors/vendors/``, plus the ``rosterhub.connectors``
  entry points. A YAML file declares a connector that needs no Python (``connectors/declared.py``).

Each connector's quirks are validated against its kind's :class:`~rosterhub.connectors.base.Quirks`
model here, when the registry loads: a bad quirk stops start-up naming the vendor, the quirk and the
value. A duplicate id or kind stops start-up rather than letting one silently shadow another.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Mapping
from dataclasses import replace
from functools import cache
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, TypeVar

from rosterhub.connectors import kinds, vendors
from rosterhub.connectors.base import ConnectorSpec, Transport
from rosterhub.connectors.declared import load_declared
from rosterhub.errors import ConfigError

__all__ = ["TRANSPORT_GROUP", "connector", "connectors", "transport", "transports"]

T = TypeVar("T")

#: Entry-point group of transport kinds packaged outside the hub.
TRANSPORT_GROUP = "rosterhub.transports"


@cache
def transports() -> dict[str, Transport]:
    found: dict[str, tuple[Transport, str]] = {}

    def add(candidate: object, origin: str) -> None:
        if not isinstance(candidate, Transport):
            raise ConfigError(f"{origin} does not provide a Transport (got {type(candidate).__name__})")
        if candidate.kind in found:
            raise ConfigError(
                f"transport kind {candidate.kind!r} is declared twice: {found[candidate.kind][1]} and {origin}"
            )
        found[candidate.kind] = (candidate, origin)

    for info in pkgutil.iter_modules(kinds.__path__):
        module = importlib.import_module(f"{kinds.__name__}.{info.name}")
        if hasattr(module, "TRANSPORT"):
            add(module.TRANSPORT, module.__name__)
    for ep in entry_points(group=TRANSPORT_GROUP):
        add(ep.load(), f"entry point {ep.name}")
    return {k: v[0] for k, v in sorted(found.items())}


def transport(kind: str) -> Transport:
    return _known(transports(), kind, "transport kind")


@cache
def connectors() -> dict[str, ConnectorSpec]:
    found: dict[str, tuple[ConnectorSpec, str]] = {}
    known = transports()

    def add(spec: object, origin: str, declared: Mapping[str, Any] | None = None) -> None:
        if not isinstance(spec, ConnectorSpec):
            raise ConfigError(f"{origin} does not provide a ConnectorSpec (got {type(spec).__name__})")
        if spec.id in found:
            raise ConfigError(f"connector id {spec.id!r} is declared twice: {found[spec.id][1]} and {origin}")
        if spec.kind not in known:
            raise ConfigError(
                f"connector {spec.id!r} ({origin}) is of kind {spec.kind!r}, which no transport provides; "
                f"known: {', '.join(known)}"
            )
        quirks = known[spec.kind].check_quirks(spec.id, origin, spec.quirks if declared is None else declared)
        found[spec.id] = (replace(spec, quirks=quirks), origin)

    for info in pkgutil.iter_modules(vendors.__path__):
        module = importlib.import_module(f"{vendors.__name__}.{info.name}")
        if hasattr(module, "SPEC"):
            add(module.SPEC, module.__name__)
    for folder in vendors.__path__:
        for path in sorted(Path(folder).glob("*.yaml")):
            spec, quirks = load_declared(path)
            add(spec, f"connectors/vendors/{path.name}", quirks)
    for ep in entry_points(group="rosterhub.connectors"):
        add(ep.load(), f"entry point {ep.name}")
    return {k: v[0] for k, v in sorted(found.items())}


def connector(vendor: str) -> ConnectorSpec:
    return _known(connectors(), vendor, "vendor")


def _known(found: Mapping[str, T], name: str, what: str) -> T:
    try:
        return found[name]
    except KeyError:
        raise ConfigError(f"unknown {what} {name!r}; known: {', '.join(found)}") from None
