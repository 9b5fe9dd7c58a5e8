"""Who is calling a KPI route: the ONE dependency every /kpi route uses (docs/kpi.md, "Who sees what").

The caller is what a verified bearer token says (:mod:`rosterhub.auth`): the route admits the roles
``programme_manager`` and ``workforce_lead`` (declared once, in :data:`KPI_ROLES`, so they land in the
OpenAPI document and the access matrix). A programme manager sees the collaborative their token names
(claim ``collaborative``; a token without one is refused with 422, since it names nothing to show); a
workforce lead sees their token's trust and the collaborative that trust belongs to (the claim, else the
trust's collaborative as the KPI facts record it).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import HTTPException, Security

from rosterhub.auth.caller import Caller
from rosterhub.auth.roles import Role
from rosterhub.auth.web import Authenticate
from rosterhub.streams.kpi.access import PROGRAMME_MANAGER, WORKFORCE_LEAD, Viewer

__all__ = ["KPI_ROLES", "viewer_dependency"]

#: Who may ask for KPIs at all; what each sees is decided by streams/kpi/access.py.
KPI_ROLES = [Role.PROGRAMME_MANAGER, Role.WORKFORCE_LEAD]


def viewer_dependency(collaborative_of: Callable[[str], str | None]) -> Callable[..., Awaitable[Viewer]]:
    """The dependency, given how to find a trust's collaborative when a workforce lead's token does not say."""

    async def kpi_viewer(caller: Annotated[Caller, Security(Authenticate(), scopes=KPI_ROLES)]) -> Viewer:
        if Role.PROGRAMME_MANAGER in caller.roles:
            if not caller.collaborative:
                raise HTTPException(
                    422, "the token names no collaborative (claim `collaborative`): a programme manager sees theirs"
                )
            return Viewer(subject=caller.subject, role=PROGRAMME_MANAGER, collaborative=caller.collaborative)
        trust = caller.trust or ""  # workforce_lead is trust-bound: the verifier refused a token without a trust
        collaborative = caller.collaborative or collaborative_of(trust)
        return Viewer(subject=caller.subject, role=WORKFORCE_LEAD, collaborative=collaborative, trust=trust)

    return kpi_viewer
