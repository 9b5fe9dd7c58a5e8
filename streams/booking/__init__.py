"""Booking decisions: one writer per shift (events keyed by shift id), every rule recorded."""
