"""Who is calling a KPI route: the ONE dependency every /kpi route and the dashboard use (see docs/kpi.md).

Access control by bearer tokens (issue 12, ``rosterhub.auth``) is not on this branch's base yet. Until it
is, the caller is identified the way the passport API identifies it today: by headers its authenticating
gateway sets (``X-Rosterhub-User``, ``X-Rosterhub-Role``, ``X-Rosterhub-Collaborative``, and for a workforce
lead ``X-Rosterhub-Trust``); a request without them is refused (401). Swapping this function for one built
on ``Security(Authenticate(), scopes=[Role.PROGRAMME_MANAGER, Role.WORKFORCE_LEAD])`` changes no route.
"""

from __future__ import annotations

from fastapi import HTTPException, Request

from rosterhub.streams.kpi.access import PROGRAMME_MANAGER, WORKFORCE_LEAD, Viewer

__all__ = ["HEADERS", "kpi_viewer"]

HEADERS = ("X-Rosterhub-User", "X-Rosterhub-Role", "X-Rosterhub-Collaborative", "X-Rosterhub-Trust")


async def kpi_viewer(request: Request) -> Viewer:
    user, role, collaborative, trust = (request.headers.get(h, "").strip() or None for h in HEADERS)
    if not user or not role:
        raise HTTPException(401, f"who is calling? headers {', '.join(HEADERS[:3])} are required")
    if role not in (PROGRAMME_MANAGER, WORKFORCE_LEAD):
        raise HTTPException(403, f"role {role!r} does not see KPIs: {PROGRAMME_MANAGER} or {WORKFORCE_LEAD}")
    if role == WORKFORCE_LEAD and not trust:
        raise HTTPException(403, "a workforce lead acts for a trust: X-Rosterhub-Trust is required")
    return Viewer(subject=user, role=role, collaborative=collaborative, trust=trust if role == WORKFORCE_LEAD else None)
