"""The official AsyncAPI parser (``@asyncapi/parser`` + the Avro schema parser) from npm, cached.

The tool's ``package.json``, ``package-lock.json`` (exact versions and integrity hashes) and
``validate.mjs`` ship in ``asyncapi-parser/``. ``install`` copies them to
``<cache_dir>/npm/asyncapi-<hash of the three files>`` and runs ``npm ci`` there once, so a
fresh clone needs no ``node_modules`` of its own and a changed lock file installs afresh.
``validate.mjs`` prints every diagnostic and a closing line
``<file>: <e> error(s), <w> warning(s), <o> other diagnostic(s)`` (others: information, hints);
exit status 1 when any is an error.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from rosterhub.errors import ToolUnavailable
from rosterhub.settings import Settings

__all__ = ["Diagnostics", "install", "tool_dir", "validate"]

_FILES = ("package.json", "package-lock.json", "validate.mjs")
_MARKER = ".complete"


def _sources() -> dict[str, bytes]:
    root = resources.files("rosterhub.tools") / "asyncapi-parser"
    return {name: (root / name).read_bytes() for name in _FILES}


def tool_dir(settings: Settings) -> Path:
    digest = hashlib.sha256(b"".join(_sources().values())).hexdigest()[:16]
    return settings.cache_dir.expanduser() / "npm" / f"asyncapi-{digest}"


def install(settings: Settings, *, quiet: bool = True) -> Path:
    """``npm ci`` the parser into the cache unless it is there already; return the folder."""
    target = tool_dir(settings)
    if (target / _MARKER).exists():
        return target
    npm = shutil.which("npm")
    if npm is None or shutil.which("node") is None:
        raise ToolUnavailable("node and npm are needed to fetch the AsyncAPI parser and are not on PATH")
    target.mkdir(parents=True, exist_ok=True)
    for name, data in _sources().items():
        (target / name).write_bytes(data)
    proc = subprocess.run(
        [npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts", *(["--silent"] if quiet else [])],
        cwd=target,
        capture_output=quiet,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        detail = ((proc.stdout or "") + (proc.stderr or ""))[-2000:] if quiet else ""
        raise ToolUnavailable(f"npm ci could not install the AsyncAPI parser in {target}:\n{detail}")
    if not (target / "node_modules" / "@asyncapi" / "parser" / "package.json").exists():
        raise ToolUnavailable(f"npm ci finished but @asyncapi/parser is not in {target}/node_modules")
    (target / _MARKER).write_text("ok")
    return target


@dataclass(frozen=True, slots=True)
class Diagnostics:
    returncode: int
    output: str
    errors: int
    warnings: int
    others: int  # information and hints


def validate(path: Path, settings: Settings | None = None, *, timeout: float = 120) -> Diagnostics:
    """Run the parser on one document and count its errors, warnings and other diagnostics."""
    tool = install(settings or Settings())
    node = shutil.which("node")
    if node is None:
        raise ToolUnavailable("node is needed to run the AsyncAPI parser and is not on PATH")
    proc = subprocess.run(
        [node, str(tool / "validate.mjs"), str(Path(path).resolve())],
        cwd=tool,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    output = proc.stdout + proc.stderr
    counts = [-1, -1, -1]  # no closing line: the parser did not finish
    for line in proc.stdout.splitlines():
        if " error(s), " in line and line.endswith(" other diagnostic(s)"):
            words = line.rsplit(": ", 1)[1].split()
            counts = [int(words[0]), int(words[2]), int(words[4])]
    return Diagnostics(proc.returncode, output, *counts)
