"""What availability adds to the hub: its processor (with the worker's availability routes)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from rosterhub.errors import ConfigError
from rosterhub.features import Processor

if TYPE_CHECKING:
    import faust

    from rosterhub.streams.app import StreamContext


def _install(app: faust.App, ctx: StreamContext, installed: Mapping[str, Any]) -> Any:
    from rosterhub.streams.availability.agents import register

    passport = installed.get("passport")
    if passport is None:  # settings refuse such a worker_processors (rosterhub/features.py, needs): never silently
        raise ConfigError("availability needs passport installed on the same worker: add passport to worker_processors")
    return register(app, ctx, passport)


PROCESSORS = (
    Processor(
        "availability",
        50,
        _install,
        "Shift availability and the release cascade; reads the passport table in its own worker "
        "(docs/availability.md).",
        needs=("passport",),
    ),
)
