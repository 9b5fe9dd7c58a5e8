"""One module per platform kind, each exposing ``ADAPTER`` (see ``connectors/outbound/contract.py``).

Modules whose name starts with ``_`` are shared helpers, not platforms. What each platform
is told, and how, is in ``docs/vendors/<platform>.md`` ("Updates from the hub").
"""
