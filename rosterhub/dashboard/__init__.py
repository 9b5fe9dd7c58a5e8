"""The programme managers' dashboard: a page the hub serves, drawn from the /kpi API (docs/dashboard.md)."""
