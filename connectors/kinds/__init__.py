"""Transports: one module per way vendors send data (webhook, poll, filedrop, fhir)."""
