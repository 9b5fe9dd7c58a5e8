"""The FHIR transport's ingress routes, which ``rosterhub serve`` mounts (found by :mod:`rosterhub.features`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rosterhub.features import HubApi, HubRouter

if TYPE_CHECKING:
    from fastapi import APIRouter


def _fhir(hub: HubApi) -> APIRouter:
    from rosterhub.connectors.kinds.fhir.endpoint import fhir_router

    return fhir_router(hub.settings, hub.ingest)


ROUTERS = (HubRouter("fhir", 30, _fhir),)
