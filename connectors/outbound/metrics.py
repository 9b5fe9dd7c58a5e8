"""Outbound delivery metrics (Prometheus), labelled by destination name (never by anything secret)."""

from prometheus_client import Counter, Gauge, Histogram

DELIVERED = Counter("rosterhub_outbound_delivered_total", "Updates accepted by the receiver", ["destination", "kind"])
FAILED = Counter("rosterhub_outbound_failed_total", "Updates dead-lettered", ["destination", "reason"])
RETRIES = Counter("rosterhub_outbound_retries_total", "Failed attempts that will be retried", ["destination"])
SKIPPED = Counter("rosterhub_outbound_skipped_total", "Updates the platform has no use for", ["destination", "kind"])
BREAKER = Gauge("rosterhub_outbound_breaker_state", "Circuit breaker: 0 closed, 1 half-open, 2 open", ["destination"])
LATENCY = Histogram(
    "rosterhub_outbound_delivery_seconds",
    "Queued to accepted by the receiver",
    ["destination"],
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600),
)
