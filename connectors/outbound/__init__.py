"""Outbound adapters: booking outcomes delivered back to each trust's own system."""
