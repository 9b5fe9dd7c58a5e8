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
from fastapi.responses import FileResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

__all__ = ["STATIC", "dashboard_url", "mount_dashboard"]

STATIC = Path(str(resources.files("rosterhub.dashboard") / "static"))


def dashboard_url(base: str, collaborative: str | None, role: str = "programme_manager") -> str:
    """The page's address for a programme manager of ``collaborative`` (what ``rosterhub run`` prints).

    The caller travels in the URL fragment, which the browser never sends: the page turns it into the
    caller headers of every /kpi request (streams/kpi/viewer.py)."""
    fragment = f"user=demo-{role.replace('_', '-')}&role={role}"
    if collaborative:
        fragment += f"&collaborative={collaborative}"
    return f"{base}/dashboard#{fragment}"


def mount_dashboard(app: FastAPI) -> None:
    router = APIRouter(tags=["dashboard"], include_in_schema=False)

    @router.get("/dashboard")
    async def page() -> FileResponse:
        return FileResponse(STATIC / "index.html", media_type="text/html", headers={"Cache-Control": "no-cache"})

    @router.get("/dashboard/")
    async def slash() -> RedirectResponse:
        return RedirectResponse("/dashboard")

    app.include_router(router)
    app.mount("/dashboard/static", StaticFiles(directory=STATIC), name="dashboard-static")
