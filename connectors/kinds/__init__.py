"""Transports: one module per way vendors send data.

HTTP-borne kinds (``webhook``, ``fhir``) are served by the hub's ingress (``rosterhub
serve``); the others run as a loop in ``rosterhub connect <vendor>``. A kind module
exposes ``run(spec, ctx, options, stop)``; vendors never appear here, only kinds.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

__all__ = ["HTTP_KINDS", "runner"]

#: Kinds the ingress serves; ``rosterhub connect`` refuses them.
HTTP_KINDS = frozenset({"webhook", "fhir"})

#: Kind -> module with a ``run`` function (imported on demand: a kind's dependencies load only when used).
_RUNNERS = {
    "filedrop": "rosterhub.connectors.kinds.filedrop",
    "poll": "rosterhub.connectors.kinds.poll",
}


def runner(kind: str) -> Callable[..., Any]:
    try:
        module = _RUNNERS[kind]
    except KeyError:
        raise KeyError(f"connector kind {kind!r} does not run as a loop; known: {', '.join(_RUNNERS)}") from None
    return importlib.import_module(module).run
