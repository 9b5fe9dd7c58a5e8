"""``rosterhub simulate ...``: every module in ``connectors/simulators/`` adds its own commands.

A simulator module defines ``register_cli(group: typer.Typer) -> None``; this file only
finds them, so adding a vendor's simulator edits nothing here.
"""

from __future__ import annotations

import importlib
import pkgutil

import typer

from rosterhub.connectors import simulators

__all__ = ["app"]

app = typer.Typer(no_args_is_help=True, help="Simulators of vendor platforms and trust systems.")

for _info in sorted(pkgutil.iter_modules(simulators.__path__), key=lambda i: i.name):
    _module = importlib.import_module(f"{simulators.__name__}.{_info.name}")
    if hasattr(_module, "register_cli"):
        _module.register_cli(app)
