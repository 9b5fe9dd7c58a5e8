"""What the benches' command lines share: their first options, the broker they run against, the report's output.

Each bench is a script run by hand (``.venv/bin/python bench/<name>.py``); the ones that start copies of themselves
as workers, and every one whose figures docs/benchmarks.md quotes, take these the same way.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

__all__ = ["bench_parser", "emit", "local_bootstrap"]


def bench_parser(doc: str) -> argparse.ArgumentParser:
    """A bench's options before its own: ``--role worker`` is how a bench runs the copies of itself it starts as
    workers, ``--json-out`` keeps the report whose figures docs/benchmarks.md quotes."""
    ap = argparse.ArgumentParser(description=doc.split("\n\n", maxsplit=1)[0])
    ap.add_argument("--role", choices=("bench", "worker"), default="bench")
    ap.add_argument("--json-out", type=Path)
    return ap


def local_bootstrap() -> str:
    """The local broker every bench runs against, started if it is not running (and left running after)."""
    from rosterhub.kafka.resolve import resolve_broker
    from rosterhub.settings import load_settings

    return resolve_broker(load_settings(), keep_running=True).bootstrap


def emit(report: dict[str, Any], json_out: Path | None) -> None:
    """Print the report, and keep it in ``json_out`` when given."""
    text = json.dumps(report, indent=2)
    print(text)
    if json_out:
        json_out.write_text(text)
