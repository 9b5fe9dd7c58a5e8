"""What the passport adds to the hub: its processor (with the worker's passport routes)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from rosterhub.features import Processor

if TYPE_CHECKING:
    import faust

    from rosterhub.streams.app import StreamContext


def _install(app: faust.App, ctx: StreamContext, installed: Mapping[str, Any]) -> Any:
    from rosterhub.streams.passport.agents import register

    return register(app, ctx)


PROCESSORS = (Processor("passport", 30, _install, "Credential passports and clearance (docs/passport.md)."),)
