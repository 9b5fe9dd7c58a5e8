"""What availability adds to the hub: its processor, and ``open-shifts`` (a worker's own open shifts, by passport)."""

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

    return register(app, ctx, installed.get("open-shifts"))  # its view follower and routes, when it runs here


def _install_open_shifts(app: faust.App, ctx: StreamContext, installed: Mapping[str, Any]) -> Any:
    from rosterhub.streams.availability.open_shifts import register

    passport = installed.get("passport")
    if passport is None:  # settings refuse such a worker_processors (rosterhub/features.py, needs): never silently
        raise ConfigError("open-shifts needs passport installed on the same worker: add passport to worker_processors")
    return register(app, ctx, passport)


#: open-shifts installs before availability (order), which then reuses its view follower: one per worker
PROCESSORS = (
    Processor(
        "open-shifts",
        45,
        _install_open_shifts,
        "A worker's own open shifts (GET /availability/workers/{person}/shifts), cleared by their passport: reads "
        "the passport table in its own worker; no agent, a follower of views.availability (docs/availability.md).",
        needs=("passport",),
    ),
    Processor(
        "availability",
        50,
        _install,
        "Shift availability and the release cascade, and the open-shift lists (docs/availability.md).",
    ),
)
