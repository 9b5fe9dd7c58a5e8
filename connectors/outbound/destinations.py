"""Destinations from settings, and the adapters that speak to them (found, never switched on).

Adapters are modules in ``connectors/outbound/adapters/`` exposing ``ADAPTER`` (modules named
``_*`` are helpers), plus any installed package's ``rosterhub.outbound_adapters`` entry points,
the way ``connectors/registry.py`` finds connectors. A duplicate platform stops start-up.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping, Sequence
from functools import cache
from itertools import chain
from typing import TypeGuard

from rosterhub.connectors.outbound import adapters as adapters_pkg
from rosterhub.connectors.outbound.contract import Adapter, Destination
from rosterhub.declarations import Declarations, entry_point_objects, module_attributes
from rosterhub.errors import ConfigError
from rosterhub.settings import Settings

__all__ = ["ENTRY_POINT_GROUP", "LEGACY_PLATFORM", "adapters", "destinations", "resolve"]

ENTRY_POINT_GROUP = "rosterhub.outbound_adapters"
#: Platform of the destinations made from the legacy ``outbound_endpoints`` setting.
LEGACY_PLATFORM = "outcomes"


def _is_adapter(candidate: object) -> TypeGuard[Adapter]:
    """What the registry can check of the :class:`Adapter` contract without calling it: a name and a render."""
    return isinstance(getattr(candidate, "platform", None), str) and callable(getattr(candidate, "render", None))


@cache
def adapters(extra_modules: tuple[str, ...] = ()) -> dict[str, Adapter]:
    """Every adapter by platform name: the adapters folder, entry points, and ``extra_modules`` (settings)."""
    found: Declarations[Adapter] = Declarations("outbound platform")

    def add(adapter: object, origin: str) -> None:
        if not _is_adapter(adapter):
            raise ConfigError(f"{origin} does not provide an outbound Adapter (needs .platform and .render)")
        found.add(adapter.platform, adapter, origin)

    for adapter, origin in chain(module_attributes(adapters_pkg, "ADAPTER"), entry_point_objects(ENTRY_POINT_GROUP)):
        add(adapter, origin)
    for name in extra_modules:
        try:
            module = importlib.import_module(name)
        except ImportError as exc:
            raise ConfigError(f"outbound adapter module {name!r} cannot be imported: {exc}") from None
        add(getattr(module, "ADAPTER", None), name)
    return found.by_name()


def destinations(settings: Settings) -> list[Destination]:
    """Configured destinations, plus one ``outcomes-<ODS>`` trust-wide feed per legacy endpoint."""
    out = [
        Destination(
            name=c.name,
            trust=c.trust.upper(),
            platform=c.platform,
            url=c.url,
            folder=c.folder,
            secret=c.secret.get_secret_value() if c.secret else None,
            options=dict(c.options),
            adapter=c.adapter,
        )
        for c in settings.outbound_destinations
    ]
    configured = {d.name for d in out}
    for ods, url in sorted(settings.outbound_endpoints.items()):
        name = f"outcomes-{ods}"
        if name not in configured:
            out.append(Destination(name, ods.upper(), LEGACY_PLATFORM, url=url, options={"all_platforms": True}))
    seen: dict[str, str] = {}
    for d in out:
        if d.name.lower() in seen:  # names become topic names, which are lower case
            raise ConfigError(f"outbound destinations {seen[d.name.lower()]!r} and {d.name!r} share a name")
        seen[d.name.lower()] = d.name
    return out


def resolve(dests: Sequence[Destination], known: Mapping[str, Adapter] | None = None) -> dict[str, Adapter]:
    """The adapter of every destination by destination name; a missing one stops start-up, named."""
    known = adapters() if known is None else known
    out: dict[str, Adapter] = {}
    for d in dests:
        name = d.adapter or d.platform
        if name not in known:
            what = f"adapter {name!r}" if d.adapter else f"adapter for platform {d.platform!r}"
            raise ConfigError(
                f"outbound destination {d.name!r}: no {what}; known: {', '.join(known)} "
                '(a platform without an adapter of its own: adapter = "rosterhub_webhook")'
            )
        out[d.name] = known[name]
    return out
