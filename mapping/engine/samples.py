"""Sample cases: a vendor's example input and the canonical output it must map to.

``mapping/samples/<folder>/`` holds, per case ``<case>``:

* ``<case>.input.<ext>``: one payload exactly as the vendor sends it;
* ``<case>.expected.jsonl``: the events, as ``rosterhub mapping apply`` prints them;
* ``<case>.rejected.jsonl`` (only when some records are rejected) and
  ``<case>.skipped.jsonl`` (only when some are skipped).

An optional ``options.yaml`` in the folder sets ``mapping`` (a file stem in
``mapping/vendors``, default: the folder name), ``trust``, ``received_at`` and
``secrets`` (text, test values only), for all cases, with per-case overrides under
``cases: {<case>: {...}}``. The conformance test runs every case it finds, so a new
vendor is tested the day its folder lands.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

__all__ = ["DEFAULT_RECEIVED_AT", "SampleCase", "sample_cases", "samples_folder"]

DEFAULT_RECEIVED_AT = "2026-03-25T10:00:00+00:00"


@dataclass(frozen=True, slots=True)
class SampleCase:
    folder: str
    name: str
    input: Path
    mapping: str
    trust: str | None
    received_at: datetime
    secrets: dict[str, bytes] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return f"{self.folder}/{self.name}"

    def sibling(self, kind: str) -> Path:
        return self.input.with_name(f"{self.name}.{kind}.jsonl")


def samples_folder() -> Path:
    return Path(str(resources.files("rosterhub.mapping") / "samples"))


def sample_cases(root: Path | None = None) -> Iterator[SampleCase]:
    root = root or samples_folder()
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        options_file = folder / "options.yaml"
        options: dict[str, Any] = yaml.safe_load(options_file.read_text()) if options_file.is_file() else {}
        per_case = options.pop("cases", {}) or {}
        for source in sorted(folder.glob("*.input.*")):
            name = source.name.split(".input.", 1)[0]
            opts = {**options, **per_case.get(name, {})}
            yield SampleCase(
                folder=folder.name,
                name=name,
                input=source,
                mapping=opts.get("mapping", folder.name),
                trust=opts.get("trust"),
                received_at=datetime.fromisoformat(str(opts.get("received_at", DEFAULT_RECEIVED_AT))),
                secrets={k: str(v).encode() for k, v in (opts.get("secrets") or {}).items()},
            )
