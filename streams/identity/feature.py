"""What identity resolution adds to the hub: its processor and the identity routes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from rosterhub.features import HubApi, HubRouter, Processor

if TYPE_CHECKING:
    import faust
    from fastapi import APIRouter

    from rosterhub.streams.app import StreamContext


def _install(app: faust.App, ctx: StreamContext, installed: Mapping[str, Any]) -> None:
    from rosterhub.streams.identity.agents import register

    return register(app, ctx)


PROCESSORS = (Processor("identity", 40, _install, "Identity resolution and the crosswalk (docs/identity.md)."),)


def _router(hub: HubApi) -> APIRouter:
    from rosterhub.streams.identity.api import identity_router

    return identity_router(hub.kafka, hub.names, hub.codec, hub.sink)


ROUTERS = (HubRouter("identity", 20, _router),)
