"""What availability adds to the hub: its processor (with the worker's availability routes)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from rosterhub.features import Processor

if TYPE_CHECKING:
    import faust

    from rosterhub.streams.app import StreamContext


def _install(app: faust.App, ctx: StreamContext, installed: Mapping[str, Any]) -> Any:
    from rosterhub.streams.availability.agents import register

    return register(app, ctx, installed.get("passport"))


PROCESSORS = (
    Processor(
        "availability",
        50,
        _install,
        "Shift availability and the release cascade; reads the passport table when passport runs on the same "
        "worker (docs/availability.md).",
    ),
)
