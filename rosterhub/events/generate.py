"""Every artefact generated from the schemas, in one place: models, AsyncAPI, event catalogue.

``rosterhub schemas gen`` writes them; the tests compare the committed files with a
fresh in-memory generation (:func:`stale_artefacts`), so a schema edit without a
regeneration fails CI with the command to run.
"""

from __future__ import annotations

from pathlib import Path

import rosterhub
from rosterhub.codec.catalogue import SchemaCatalogue
from rosterhub.events.asyncapi import render_asyncapi
from rosterhub.events.codegen import generate_models
from rosterhub.events.eventdocs import render_events_md

__all__ = ["ASYNCAPI_PATH", "EVENTS_MD_PATH", "generated_artefacts", "repo_root", "stale_artefacts", "write_artefacts"]

ASYNCAPI_PATH = "docs/asyncapi.yaml"
EVENTS_MD_PATH = "docs/events.md"


def repo_root() -> Path:
    """The source checkout this package runs from (generation is a development task)."""
    return Path(rosterhub.__file__).resolve().parents[1]


def generated_artefacts(catalogue: SchemaCatalogue) -> dict[str, str]:
    """Text of every generated file, by path relative to the repository root."""
    files = generate_models(catalogue)
    files[ASYNCAPI_PATH] = render_asyncapi(catalogue)
    files[EVENTS_MD_PATH] = render_events_md(catalogue)
    return files


def write_artefacts(catalogue: SchemaCatalogue, root: Path) -> list[str]:
    """Write the files that differ (or are missing); returns their relative paths."""
    changed = []
    for rel, text in generated_artefacts(catalogue).items():
        path = root / rel
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            changed.append(rel)
    return changed


def stale_artefacts(catalogue: SchemaCatalogue, root: Path) -> list[str]:
    """Relative paths of generated files whose committed text differs from a fresh generation."""
    return [
        rel
        for rel, text in generated_artefacts(catalogue).items()
        if not (root / rel).exists() or (root / rel).read_text(encoding="utf-8") != text
    ]
