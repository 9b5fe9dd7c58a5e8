"""Connector metrics (Prometheus), labelled by vendor id."""

from prometheus_client import Counter, Gauge, Histogram

RECEIVED = Counter("rosterhub_connector_received_total", "Payloads received", ["vendor"])
MAPPED = Counter("rosterhub_connector_mapped_total", "Canonical events published", ["vendor"])
REJECTED = Counter("rosterhub_connector_rejected_total", "Records dead-lettered", ["vendor", "code"])
REFUSED = Counter("rosterhub_connector_refused_total", "Requests refused before the raw write", ["vendor", "reason"])
LATENCY = Histogram("rosterhub_connector_ingest_seconds", "Receipt to all records acknowledged", ["vendor"])
DUPLICATES = Counter("rosterhub_connector_duplicates_total", "Events not published again (already seen)", ["vendor"])
LAG = Gauge("rosterhub_connector_lag_seconds", "Age of the oldest item received but not yet processed", ["vendor"])
ECHOES = Counter("rosterhub_connector_echoes_total", "Hub-written changes reported back (echoes)", ["vendor"])
