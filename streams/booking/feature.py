"""What the booking feature adds to the hub: its decision processor and the explanation routes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from rosterhub.features import HubApi, HubRouter, Processor

if TYPE_CHECKING:
    import faust
    from fastapi import APIRouter

    from rosterhub.streams.app import StreamContext


def _install(app: faust.App, ctx: StreamContext, installed: Mapping[str, Any]) -> None:
    from rosterhub.streams.booking.agents import register

    return register(app, ctx)


#: the person stage reads the person's passport from the passport table in this worker (agents.py ``_clearance``)
PROCESSORS = (
    Processor(
        "booking", 10, _install, "Booking decisions, one writer per shift (docs/booking.md).", needs=("passport",)
    ),
)


def _router(hub: HubApi) -> APIRouter:
    from rosterhub.streams.booking.api import booking_router

    return booking_router(hub.kafka, hub.names, hub.codec)


ROUTERS = (HubRouter("booking", 40, _router),)
