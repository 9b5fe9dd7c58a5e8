"""Serves the dashboard page and its static files (the vendored charting library included) from the hub.

Nothing is loaded from outside the hub: the page, its script, its style and the Vega / Vega-Lite /
vega-embed builds (``static/vendor``, vendored from npm with their licences, ``static/vendor/MANIFEST.json``)
come from this package, so the dashboard works on a trust network with no internet. The page holds no
figures itself: it asks the /kpi routes, as the caller, and listens on ``/kpi/stream`` for changes.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

__all__ = ["STATIC", "dashboard_url", "mount_dashboard"]

STATIC = Path(str(resources.files("rosterhub.dashboard") / "static"))


def dashboard_url(base: str, token: str) -> str:
    """The page's address with the caller's bearer token (what ``rosterhub run`` prints).

    The token travels in the URL fragment, which the browser never sends to a server or a log: the page keeps
    it for the session and sends it as ``Authorization: Bearer`` with every /kpi request."""
    return f"{base}/dashboard#token={token}"


def mount_dashboard(app: FastAPI) -> None:
    router = APIRouter(tags=["dashboard"])

    # Public on purpose (security: []): the page holds no figure; its script asks /kpi with the caller's token.
    @router.get("/dashboard", summary="The programme managers' dashboard page (no data: it asks /kpi as the caller)")
    async def page() -> FileResponse:
        return FileResponse(STATIC / "index.html", media_type="text/html", headers={"Cache-Control": "no-cache"})

    app.include_router(router)
    app.mount("/dashboard/static", StaticFiles(directory=STATIC), name="dashboard-static")
