"""The ingress routes of the HTTP-borne transports (``webhook``, ``fhir``), which ``rosterhub serve`` mounts."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rosterhub.features import HubApi, HubRouter

if TYPE_CHECKING:
    from fastapi import APIRouter


def _webhook(hub: HubApi) -> APIRouter:
    from rosterhub.connectors.kinds.webhook import webhook_router

    return webhook_router(hub.settings, hub.ingest)


def _fhir(hub: HubApi) -> APIRouter:
    from rosterhub.connectors.kinds.fhir import fhir_router

    return fhir_router(hub.settings, hub.ingest)


ROUTERS = (HubRouter("webhook", 10, _webhook), HubRouter("fhir", 30, _fhir))
