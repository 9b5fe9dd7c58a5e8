"""The webhook transport's ingress routes, which ``rosterhub serve`` mounts.

A transport package declares its own routes in its ``feature`` module (see ``fhir/feature.py``);
the single-module ``webhook`` kind declares them here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rosterhub.features import HubApi, HubRouter

if TYPE_CHECKING:
    from fastapi import APIRouter


def _webhook(hub: HubApi) -> APIRouter:
    from rosterhub.connectors.kinds.webhook import webhook_router

    return webhook_router(hub.settings, hub.ingest)


ROUTERS = (HubRouter("webhook", 10, _webhook),)
