"""Simulators of vendor platforms and trust systems, so the hub runs without any vendor."""
