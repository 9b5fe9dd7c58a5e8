"""Documents the hub writes for people: the programme manager's monthly report (docs/kpi.md)."""
