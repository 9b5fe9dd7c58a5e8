"""KPIs for programme managers: facts per shift on views.kpi, rolled up by day, week and month (docs/kpi.md)."""
