"""Demo traffic for ``rosterhub run``: every vendor simulator, pointed at the hub.

A simulator module in ``connectors/simulators/`` takes part by defining
``demo_source(ctx: DemoContext) -> DemoSource | None``; this module only finds them, so a
seventh vendor's simulator joins the demo without editing anything here. A source says
which connector options make the hub read from it (an inbox folder, a base URL), and
how to produce one more tick of traffic.
"""

from __future__ import annotations

import importlib
import pkgutil
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rosterhub.connectors import simulators
from rosterhub.demo_market import Workforce

__all__ = ["DEMO_TRUSTS", "DemoContext", "DemoSource", "demo_sources", "file_destinations", "free_port"]

DEMO_TRUSTS = ("RHQ", "RCU", "RFR")  # Sheffield Teaching, Sheffield Children's, Rotherham


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _anonymous(_trust: str) -> dict[str, str]:
    return {}


@dataclass(frozen=True)
class DemoContext:
    ingress: str  # the hub's HTTP base URL
    base_dir: Path  # where file-drop simulators may create inboxes
    secrets: dict[str, dict[str, str]]  # webhook secrets by vendor, then by trust (each trust signs with its own)
    trusts: tuple[str, ...] = DEMO_TRUSTS
    seed: int = 7
    #: the demo's registered nurses, shared by the simulators: ESR adds its staff, bank apps pick requesters
    workforce: Workforce = field(default_factory=Workforce)
    #: trust -> the Authorization header of that trust's integration (role trust_integration), for pushes
    bearer: Callable[[str], dict[str, str]] = _anonymous


def _noop() -> None:
    return None


@dataclass
class DemoSource:
    vendor: str
    tick: Callable[[], object]  # its result, if any, is ignored
    connector_options: dict[str, Any] | None = None  # None: served by the ingress, no `connect` process
    close: Callable[[], None] = _noop
    every: int = 1  # tick on every n-th round
    env: dict[str, str] = field(default_factory=dict)  # for the hub's child processes (demo secrets)
    #: where the hub delivers updates back to this simulator (``outbound_destinations`` entries)
    destinations: list[dict[str, Any]] = field(default_factory=list)
    #: how many of the hub's updates the simulator has applied so far (None: it does not receive updates)
    received: Callable[[], int] | None = None


def file_destinations(
    platform: str, trusts: tuple[str, ...], folder: Path, options: dict[str, Any] | None = None
) -> list[dict[str, Any]]:
    """One ``outbound_destinations`` entry per trust, all dropping into the simulator's outbound folder."""
    common = {"platform": platform, "folder": str(folder), "options": options or {}}
    return [{"name": f"{platform}-{t}", "trust": t, **common} for t in trusts]


def demo_sources(ctx: DemoContext) -> list[DemoSource]:
    """One source per simulator module that offers one, in vendor order."""
    sources = []
    for info in sorted(pkgutil.iter_modules(simulators.__path__), key=lambda i: i.name):
        module = importlib.import_module(f"{simulators.__name__}.{info.name}")
        hook = getattr(module, "demo_source", None)
        if hook is not None and (source := hook(ctx)) is not None:
            sources.append(source)
    return sources
