"""How a file-based platform simulator (HealthRoster, NHSP, ESR) receives the hub's files.

* :func:`take_drops`: the files the hub dropped in an outbound folder, each moved to ``<folder>/received/`` once
  read, so each is applied once;
* :func:`read_outbound`: the older JSON documents (the hub's delivery body: ``{"id", "type", "time", "subject",
  "data"}``, one per ``*.json`` file, or one per line in ``*.jsonl``), and :func:`new_documents`, those not
  applied before;
* :func:`first_delivery`: the hub's reference seen for the first time, or a redelivery (counted, applied never).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

__all__ = ["Receiver", "first_delivery", "new_documents", "read_outbound", "take_drops"]

log = logging.getLogger(__name__)


def read_outbound(folder: Path) -> Iterator[dict[str, Any]]:
    """Documents the hub dropped in ``folder`` (oldest name first); each file is moved to ``received/`` once read."""
    if not folder.is_dir():
        return
    done = folder / "received"
    for path in sorted(p for p in folder.iterdir() if p.is_file() and p.suffix in (".json", ".jsonl")):
        text = path.read_text(encoding="utf-8")
        try:
            if path.suffix == ".jsonl":
                docs = [json.loads(line) for line in text.splitlines() if line.strip()]
            else:
                whole = json.loads(text)
                docs = whole if isinstance(whole, list) else [whole]
        except json.JSONDecodeError as exc:
            log.warning("simulator: %s is not JSON (%s); moved aside", path.name, exc)
            docs = []
        done.mkdir(exist_ok=True)
        path.replace(done / path.name)
        yield from (d for d in docs if isinstance(d, dict))


class Receiver(Protocol):
    """A simulator that receives the hub's updates: what it applied, by the hub's reference, and how many came
    again."""

    received: dict[str, Any]
    repeats: int


def first_delivery(sim: Receiver, key: str, record: Any) -> bool:
    """True the first time the hub's reference ``key`` arrives (``record`` kept in ``sim.received``); a
    redelivery is counted in ``sim.repeats`` and must change nothing, as a real receiver's idempotency key."""
    if key in sim.received:
        sim.repeats += 1
        return False
    sim.received[key] = record
    return True


def new_documents(folder: Path, received: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """The hub's JSON documents in ``folder`` (:func:`read_outbound`) not applied before, by ``id`` (kept in
    ``received``), as (kind: the type's last part, data)."""
    for doc in read_outbound(folder):
        if doc.get("id") in received:
            continue
        received[str(doc.get("id"))] = doc
        yield str(doc.get("type", "")).rsplit(".", 1)[-1], doc.get("data") or {}


def take_drops(folder: Path, suffix: str) -> Iterator[tuple[Path, bytes]]:
    """Files named ``*<suffix>`` the hub dropped in ``folder`` (name order: the order the hub made them),
    each moved to ``received/`` once read, as :func:`read_outbound` does for JSON."""
    if not folder.is_dir():
        return
    done = folder / "received"
    for path in sorted(p for p in folder.iterdir() if p.is_file() and p.name.endswith(suffix)):
        content = path.read_bytes()
        done.mkdir(exist_ok=True)
        path.replace(done / path.name)
        yield path, content
