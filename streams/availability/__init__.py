"""Shift availability: per-shift state, the release cascade, the views.availability view and its queries."""
