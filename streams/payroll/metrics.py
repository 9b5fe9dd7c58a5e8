"""Payroll metrics (Prometheus), on the worker's /metrics."""

from prometheus_client import Counter

TIMESHEET_EVENTS = Counter(
    "rosterhub_payroll_timesheet_events_total", "Queries, approvals and missing-timesheet reports by the hub", ["type"]
)
LINES = Counter("rosterhub_payroll_lines_total", "Payroll lines issued (reversals included)")
UNPRICED = Counter("rosterhub_payroll_unpriced_total", "Approved timesheets the pay policy could not price")
