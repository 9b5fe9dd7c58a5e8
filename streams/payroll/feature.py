"""What payroll adds to the hub: its processor and the payroll routes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from rosterhub.features import HubApi, HubRouter, Processor

if TYPE_CHECKING:
    import faust
    from fastapi import APIRouter

    from rosterhub.streams.app import StreamContext


def _install(app: faust.App, ctx: StreamContext, installed: Mapping[str, Any]) -> Any:
    from rosterhub.streams.payroll.agents import register

    return register(app, ctx)


PROCESSORS = (Processor("payroll", 70, _install, "Timesheets, pricing and payroll batches (docs/payroll.md)."),)


def _router(hub: HubApi) -> APIRouter:
    from rosterhub.streams.payroll.api import payroll_router

    s = hub.settings
    return payroll_router(hub.kafka, hub.names, hub.codec, hub.sink, hub.encoder, s.payroll_policy_dir)


ROUTERS = (HubRouter("payroll", 50, _router),)
