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

from collections.abc import Iterator, Mapping
from dataclasses import replace
from functools import cache
from itertools import chain
from pathlib import Path
from typing import Any, TypeVar

from rosterhub.connectors import kinds, vendors
from rosterhub.connectors.base import ConnectorSpec, Quirks, Transport
from rosterhub.connectors.declared import load_declared
from rosterhub.declarations import Declarations, entry_point_objects, module_attributes
from rosterhub.errors import ConfigError

__all__ = ["CONNECTOR_GROUP", "TRANSPORT_GROUP", "connector", "connectors", "transport", "transports"]

T = TypeVar("T")

#: Entry-point group of transport kinds packaged outside the hub.
TRANSPORT_GROUP = "rosterhub.transports"
#: Entry-point group of connectors packaged outside the hub.
CONNECTOR_GROUP = "rosterhub.connectors"


@cache
def transports() -> dict[str, Transport]:
    found: Declarations[Transport] = Declarations("transport kind")
    for candidate, origin in chain(module_attributes(kinds, "TRANSPORT"), entry_point_objects(TRANSPORT_GROUP)):
        if not isinstance(candidate, Transport):
            raise ConfigError(f"{origin} does not provide a Transport (got {type(candidate).__name__})")
        found.add(candidate.kind, candidate, origin)
    return found.by_name()


def transport(kind: str) -> Transport:
    return _known(transports(), kind, "transport kind")


@cache
def connectors() -> dict[str, ConnectorSpec]:
    found: Declarations[ConnectorSpec] = Declarations("connector id")
    quirks: dict[str, Quirks] = {}  # each connector's, checked by its kind's model
    known = transports()

    def yaml_declared() -> Iterator[tuple[object, str, Mapping[str, Any] | None]]:
        for folder in vendors.__path__:
            for path in sorted(Path(folder).glob("*.yaml")):
                spec, raw = load_declared(path)  # the YAML's quirks, checked by the kind's own model below
                yield spec, f"connectors/vendors/{path.name}", raw

    sources = chain(
        ((spec, origin, None) for spec, origin in module_attributes(vendors, "SPEC")),
        yaml_declared(),
        ((spec, origin, None) for spec, origin in entry_point_objects(CONNECTOR_GROUP)),
    )
    for spec, origin, raw in sources:
        if not isinstance(spec, ConnectorSpec):
            raise ConfigError(f"{origin} does not provide a ConnectorSpec (got {type(spec).__name__})")
        found.add(spec.id, spec, origin)
        if spec.kind not in known:
            raise ConfigError(
                f"connector {spec.id!r} ({origin}) is of kind {spec.kind!r}, which no transport provides; "
                f"known: {', '.join(known)}"
            )
        quirks[spec.id] = known[spec.kind].check_quirks(spec.id, origin, spec.quirks if raw is None else raw)
    return {vendor: replace(spec, quirks=quirks[vendor]) for vendor, spec in found.by_name().items()}


def connector(vendor: str) -> ConnectorSpec:
    return _known(connectors(), vendor, "vendor")


def _known(found: Mapping[str, T], name: str, what: str) -> T:
    try:
        return found[name]
    except KeyError:
        raise ConfigError(f"unknown {what} {name!r}; known: {', '.join(found)}") from None
