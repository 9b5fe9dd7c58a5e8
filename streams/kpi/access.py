"""Who may see which KPIs: a programme manager every trust of their collaborative, a workforce lead their own
trust's detail and the collaborative's aggregates. Never a person: people are counts, shifts are ids.

Pure: a :class:`Viewer` (from the caller's verified identity) and the filter a request asks for go in; the
filter the figures may be computed with, and what a split or a matrix may show, come out.

* **programme_manager** of collaborative C: any filter within C.
* **workforce_lead** of trust T (in C): figures of T (``trust=T``) in full, drill-down to T's shifts only;
  figures of the whole collaborative (no trust filter) as aggregates; splits by trust show T and one
  ``OTHER_TRUSTS`` row; the migration matrix shows the rows and columns of T, other trusts' flows summed into
  ``OTHER_TRUSTS``; a request for another trust's detail is refused (403).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from rosterhub.streams.kpi.query import KpiFilter

__all__ = [
    "OTHER",
    "PROGRAMME_MANAGER",
    "WORKFORCE_LEAD",
    "AccessDenied",
    "Viewer",
    "narrow",
    "redact_matrix",
    "trust_label",
]

PROGRAMME_MANAGER = "programme_manager"
WORKFORCE_LEAD = "workforce_lead"
OTHER = "OTHER_TRUSTS"


class AccessDenied(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True, slots=True)
class Viewer:
    """The caller, as the KPIs need to know them."""

    subject: str
    role: str  # PROGRAMME_MANAGER or WORKFORCE_LEAD
    collaborative: str | None
    trust: str | None = None  # the workforce lead's own trust

    @property
    def lead(self) -> bool:
        return self.role != PROGRAMME_MANAGER


def narrow(viewer: Viewer, f: KpiFilter, *, detail: bool) -> KpiFilter:
    """The filter the viewer may have figures for. ``detail``: shift-level answers (drill-down, break-glass list)."""
    if not viewer.collaborative:
        raise AccessDenied("no_collaborative", "the caller belongs to no collaborative")
    if f.collaborative not in (None, viewer.collaborative):
        raise AccessDenied("other_collaborative", f"the caller sees {viewer.collaborative} only")
    f = replace(f, collaborative=viewer.collaborative)
    if not viewer.lead:
        return f
    own = frozenset({viewer.trust or ""})
    if f.trusts is not None and f.trusts != own:
        raise AccessDenied("other_trust", f"a workforce lead sees the detail of {viewer.trust} only")
    if detail:
        return replace(f, trusts=own)
    return f


def trust_label(viewer: Viewer) -> Callable[[Any], Any] | None:
    """For splits by trust: a workforce lead sees their trust and one row of every other trust summed."""
    if not viewer.lead:
        return None
    return lambda trust: trust if trust == viewer.trust else OTHER


def redact_matrix(viewer: Viewer, cells: list[dict[str, Any]], *, extra: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """Migration cells for a workforce lead: flows touching their trust; the rest summed per OTHER_TRUSTS pair.

    People in merged cells are summed per original cell (an upper bound, labelled so by the API)."""
    if not viewer.lead:
        return cells
    out: dict[tuple[Any, ...], dict[str, Any]] = {}
    for c in cells:
        home = c["home_trust"] if c["home_trust"] == viewer.trust else OTHER
        host = c["host_trust"] if c["host_trust"] == viewer.trust else OTHER
        key = (home, host, *(c[k] for k in extra))
        cell = out.setdefault(
            key, {"home_trust": home, "host_trust": host, **{k: c[k] for k in extra}, "shifts": 0, "people": 0}
        )
        cell["shifts"] += c["shifts"]
        cell["people"] += c["people"]
    return [out[k] for k in sorted(out)]
