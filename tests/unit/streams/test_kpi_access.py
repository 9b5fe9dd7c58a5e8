"""Who sees which KPIs (streams/kpi/access.py), as pure rules."""

from __future__ import annotations

import pytest

from rosterhub.streams.kpi.access import OTHER, AccessDenied, Viewer, narrow, redact_matrix, trust_label
from rosterhub.streams.kpi.query import KpiFilter, period_of

F = KpiFilter(*period_of("2026-11"))
PM = Viewer("pm", "programme_manager", "syb")
LEAD = Viewer("wl", "workforce_lead", "syb", trust="RCU")


def test_a_programme_manager_sees_every_trust_of_their_collaborative_only() -> None:
    assert narrow(PM, F, detail=True).collaborative == "syb" and narrow(PM, F, detail=True).trusts is None
    with pytest.raises(AccessDenied, match="syb"):
        narrow(PM, KpiFilter(F.start, F.end, collaborative="other"), detail=False)
    with pytest.raises(AccessDenied):
        narrow(Viewer("x", "programme_manager", None), F, detail=False)


def test_a_workforce_lead_has_their_trusts_detail_and_the_aggregates() -> None:
    assert narrow(LEAD, F, detail=False).trusts is None  # the collaborative's aggregate figures
    assert narrow(LEAD, F, detail=True).trusts == frozenset({"RCU"})  # drill-down: own shifts only
    with pytest.raises(AccessDenied, match="RCU"):
        narrow(LEAD, KpiFilter(F.start, F.end, trusts=frozenset({"RHQ"})), detail=False)
    label = trust_label(LEAD)
    assert label is not None and label("RCU") == "RCU" and label("RHQ") == OTHER and trust_label(PM) is None


def test_a_workforce_leads_matrix_keeps_their_flows_and_sums_the_rest() -> None:
    cells = [
        {"home_trust": "RCU", "host_trust": "RHQ", "shifts": 3, "people": 2},
        {"home_trust": "RHQ", "host_trust": "RFR", "shifts": 5, "people": 4},
        {"home_trust": "RFR", "host_trust": "RHQ", "shifts": 1, "people": 1},
    ]
    assert redact_matrix(LEAD, cells) == [
        {"home_trust": OTHER, "host_trust": OTHER, "shifts": 6, "people": 5},
        {"home_trust": "RCU", "host_trust": OTHER, "shifts": 3, "people": 2},
    ]
    assert redact_matrix(PM, cells) == cells
