"""Jars from Maven Central, copied into the hub's cache once: Kafka's broker and HAPI FHIR's validator.

A ``pom.xml`` shipped in the package lists what to fetch; ``mvn dependency:copy-dependencies`` copies its runtime
dependencies into a cache folder. A marker file is written last, so an interrupted copy is done again rather than
used half-finished, and a cached copy needs no Maven (a machine that fetched once works offline).
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable, Mapping
from importlib.resources import as_file
from importlib.resources.abc import Traversable
from pathlib import Path

__all__ = ["copy_dependencies"]

_MARKER = ".complete"


def copy_dependencies(
    pom: Traversable,
    target: Path,
    *,
    properties: Mapping[str, str],
    expect: str,
    what: str,
    error: Callable[[str], Exception],
    quiet: bool = True,
) -> Path:
    """``target``, holding ``pom``'s runtime dependencies (with ``-D`` ``properties``) unless it already does.

    ``expect``: a glob of the jar whose presence shows the copy worked; ``what``: what is fetched, in errors;
    ``error``: the caller's error for a missing Maven or a failed copy (e.g. ``BrokerUnavailable``)."""
    if (target / _MARKER).exists():
        return target
    mvn = shutil.which("mvn")
    if mvn is None:
        raise error(f"Maven (`mvn`) is needed to fetch {what} and is not on PATH")
    target.mkdir(parents=True, exist_ok=True)
    with as_file(pom) as pom_file:
        cmd = [
            mvn,
            "-B",
            *(["-q"] if quiet else []),
            "-f",
            str(pom_file),
            "dependency:copy-dependencies",
            *(f"-D{k}={v}" for k, v in properties.items()),
            "-DincludeScope=runtime",
            f"-DoutputDirectory={target}",
        ]
        proc = subprocess.run(cmd, capture_output=quiet, text=True, check=False)
    if proc.returncode != 0:
        detail = (proc.stdout or "")[-2000:] if quiet else ""
        raise error(f"mvn could not fetch {what}:\n{detail}")
    if not any(target.glob(expect)):
        raise error(f"mvn finished but no {expect} is in {target}")
    (target / _MARKER).write_text(" ".join(properties.values()))
    return target
