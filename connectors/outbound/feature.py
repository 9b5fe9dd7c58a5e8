"""What outbound delivery adds to the hub: its processor (routing and delivery loops)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from rosterhub.features import Processor

if TYPE_CHECKING:
    import faust

    from rosterhub.streams.app import StreamContext


def _install(app: faust.App, ctx: StreamContext, installed: Mapping[str, Any]) -> None:
    from rosterhub.connectors.outbound.agent import register

    return register(app, ctx)


PROCESSORS = (
    Processor("outbound", 20, _install, "Booking outcomes delivered to the trusts' systems (docs/outbound.md)."),
)
