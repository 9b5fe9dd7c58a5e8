#!/usr/bin/env python3
"""Run mypy (strict, configured in pyproject.toml) over the whole `rosterhub` package.

Why a script: `connectors/`, `mapping/`, `streams/` and `schemas/` sit at the top of the repository but install as
`rosterhub.connectors`, ... (setup.py, docs/decisions/0001-packaging.md). mypy cannot follow setuptools' editable
finder, so it would see `rosterhub.streams` as missing. This builds the package as it installs, from symlinks in a
scratch folder, runs mypy on it and prints each error under the path a contributor edits (`streams/...`, not
`rosterhub/streams/...`). Usage: `.venv/bin/python tools/typecheck.py [mypy options]`; exit status is mypy's.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REMAPPED = ("connectors", "mapping", "streams", "schemas")  # the folders setup.py's ROOTS maps into rosterhub


def shadow_package(into: Path) -> Path:
    """The installed layout of `rosterhub`, as symlinks into the working tree (edits need no rebuild)."""
    package = into / "rosterhub"
    package.mkdir()
    for entry in (ROOT / "rosterhub").iterdir():
        if entry.name != "__pycache__":
            (package / entry.name).symlink_to(entry)
    for folder in REMAPPED:
        (package / folder).symlink_to(ROOT / folder)
    return package


def to_repo_path(line: str) -> str:
    """`rosterhub/streams/x.py:3: error` -> `streams/x.py:3: error`: the file as it sits in the repository."""
    return re.sub(rf"^rosterhub/({'|'.join(REMAPPED)})/", r"\1/", line)


def main(argv: list[str]) -> int:
    with tempfile.TemporaryDirectory(prefix="rosterhub-typecheck-") as scratch:
        shadow_package(Path(scratch))
        command = [
            sys.executable,
            "-m",
            "mypy",
            "--config-file",
            str(ROOT / "pyproject.toml"),
            "--cache-dir",
            str(ROOT / ".mypy_cache"),
            *argv,
            "-p",
            "rosterhub",
        ]
        result = subprocess.run(command, cwd=scratch, capture_output=True, text=True, check=False)
    for line in (result.stdout + result.stderr).splitlines():
        print(to_repo_path(line))
    return result.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
