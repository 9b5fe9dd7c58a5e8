"""Update kinds, each declared once by the processor whose events it carries (found, never listed here).

An update kind is what one trust system is told: ``booking_confirmed``, ``shift_open``,
``timesheet_queried``, ``pay_line``... Each is an :class:`OutboundKind` declared in the module
``outbound`` of the processor that emits its event (``rosterhub.streams.<processor>.outbound``,
exposing ``OUTBOUND_KINDS``), or by an installed package through the ``rosterhub.outbound_kinds``
entry point group. From those declarations alone come the router's topics (the event types'
``events.<domain>``), who gets each update (``audience``), the order it is delivered in
(``order_field``), and the kinds a queued record may carry. A processor that sends something
new declares a kind next to its code; nothing central changes (docs/outbound.md).
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from itertools import chain
from typing import TYPE_CHECKING, Any

from rosterhub.codec.catalogue import default_catalogue
from rosterhub.connectors.outbound.contract import Destination
from rosterhub.declarations import Declarations, entry_point_objects
from rosterhub.envelope import Envelope
from rosterhub.errors import ConfigError

if TYPE_CHECKING:
    from rosterhub.connectors.outbound.routing import ShiftMemory

__all__ = [
    "ENTRY_POINT_GROUP",
    "Audience",
    "OutboundKind",
    "declared",
    "for_event",
    "kind_names",
    "platform_of_id",
    "source_domains",
]

ENTRY_POINT_GROUP = "rosterhub.outbound_kinds"

#: Whether ``destination`` must be told about the event; the router's memory of the shift (its host, from the
#: availability view) is passed for kinds that declare ``uses_view``, else None. Pure.
Audience = Callable[[Envelope, Destination, "ShiftMemory | None"], bool]


@dataclass(frozen=True, slots=True)
class OutboundKind:
    """One update kind: the hub event it comes from and who is told."""

    name: str  # the update kind adapters render, e.g. "timesheet_queried"
    event_type: str  # Avro full name of the hub event routed as this kind
    source: str  # CloudEvents source of the processor whose events these are (others' are inputs, not news)
    audience: Audience | None  # None: routed by the router's own view transitions (shift_open / shift_withdrawn)
    order_field: str = "shift_id"  # event field whose value orders the updates (and keys out.<destination>)
    uses_view: bool = False  # the audience needs the router's memory of the shift's host
    doc: str = ""


def _streams_modules() -> list[Any]:
    from rosterhub import streams

    found = []
    for info in pkgutil.iter_modules(streams.__path__):
        if not info.ispkg:
            continue
        name = f"{streams.__name__}.{info.name}.outbound"
        try:
            found.append(importlib.import_module(name))
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
    return found


@cache
def declared() -> dict[str, OutboundKind]:
    """Every declared kind by name; a name declared twice, or an event type not in the schemas, stops start-up."""
    catalogue = default_catalogue()
    found: Declarations[OutboundKind] = Declarations("update kind")
    modules = ((getattr(module, "OUTBOUND_KINDS", ()), module.__name__) for module in _streams_modules())
    for kinds, origin in chain(modules, entry_point_objects(ENTRY_POINT_GROUP)):
        for kind in kinds:
            found.add(kind.name, kind, origin)
            try:
                catalogue.get(kind.event_type)
            except KeyError:
                raise ConfigError(f"update kind {kind.name!r} ({origin}): unknown event {kind.event_type}") from None
    return found.by_name()


def kind_names() -> tuple[str, ...]:
    return tuple(declared())


@cache
def _by_event() -> Mapping[tuple[str, str], tuple[OutboundKind, ...]]:
    index: dict[tuple[str, str], list[OutboundKind]] = {}
    for kind in declared().values():
        if kind.audience is not None:
            index.setdefault((kind.source, kind.event_type), []).append(kind)
    return {k: tuple(v) for k, v in index.items()}


def for_event(env: Envelope) -> tuple[OutboundKind, ...]:
    """The kinds an event is routed as (none for an input or an event nobody declared)."""
    return _by_event().get((env.source, env.type), ())


def source_domains() -> tuple[str, ...]:
    """Topic domains the router reads: those of every declared kind's event."""
    catalogue = default_catalogue()
    return tuple(sorted({catalogue.get(k.event_type).domain for k in declared().values()}))


def platform_of_id(hub_id: Any) -> tuple[str | None, str | None]:
    """(platform, trust) of a hub id ``<vendor>:<trust>:<id>``; (None, None) when it is not one."""
    parts = str(hub_id or "").split(":")
    return (parts[0], parts[1]) if len(parts) >= 3 else (None, None)
