"""What the KPIs add to the hub: their processor, the KPI routes and the headline KPIs on ``/metrics``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from rosterhub.features import HubApi, HubRouter, Processor

if TYPE_CHECKING:
    import faust
    from fastapi import APIRouter

    from rosterhub.streams.app import StreamContext


def _install(app: faust.App, ctx: StreamContext, installed: Mapping[str, Any]) -> None:
    from rosterhub.streams.kpi.agents import register

    return register(app, ctx)


PROCESSORS = (Processor("kpi", 60, _install, "KPI facts per shift on views.kpi (docs/kpi.md)."),)


def _router(hub: HubApi) -> APIRouter:
    from prometheus_client import REGISTRY

    from rosterhub.streams.kpi.api import kpi_router
    from rosterhub.streams.kpi.metrics import KpiCollector

    router, service = kpi_router(hub.kafka, hub.names, hub.codec)
    collector = KpiCollector(service.queries, lambda: service.ready)
    # the headline KPIs on /metrics (streams/kpi/metrics.py)
    hub.on_lifespan(lambda: REGISTRY.register(collector), lambda: REGISTRY.unregister(collector))
    return router


ROUTERS = (HubRouter("kpi", 60, _router),)
