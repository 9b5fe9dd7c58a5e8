"""Transports: one module or package per way vendors send data, each exposing ``TRANSPORT``.

A kind implements :class:`rosterhub.connectors.base.Transport`; the registry
(:mod:`rosterhub.connectors.registry`) finds every ``TRANSPORT`` here and in the
``rosterhub.transports`` entry points, so adding a kind edits nothing central. HTTP-borne kinds
(``webhook``, ``fhir``) are served by the hub's ingress (``rosterhub serve``); the others run as
a loop in ``rosterhub connect <vendor>`` (:func:`rosterhub.connectors.runtime.run_connector`).
Vendors never appear here, only kinds; they import what they need from a kind's package
(``rosterhub.connectors.kinds.filedrop``...), never from its inner modules.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["HTTP_KINDS", "http_kinds", "runner"]


def http_kinds() -> frozenset[str]:
    """Kinds the ingress serves; ``rosterhub connect`` refuses them."""
    from rosterhub.connectors.registry import transports

    return frozenset(kind for kind, t in transports().items() if t.http)


def runner(kind: str) -> Callable[..., Any]:
    """``run(spec, ctx, options, stop, *, once)`` for a loop kind, its progress stored by the runtime."""
    from rosterhub.connectors.registry import transport
    from rosterhub.connectors.runtime import run_connector

    if transport(kind).http:
        raise KeyError(f"connector kind {kind!r} is served by `rosterhub serve`: it does not run as a loop")
    return run_connector


def __getattr__(name: str) -> Any:
    if name == "HTTP_KINDS":  # derived from the transports found, not a list kept here
        return http_kinds()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
