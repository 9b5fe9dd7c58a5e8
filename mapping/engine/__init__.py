"""Declarative vendor mapping: vendor records in, canonical events out.

The public surface the connectors and the CLI use::

    spec = load_mapping(find_mapping("patchwork", trust="RXX"))
    outcome = apply_mapping(spec, body, received_at=now, trust="RXX")
    outcome.events     # MappedEvent: type, data, id, subject, source, record_ref, raw
    outcome.rejected   # Rejection: error (MappingError | ParseError), record_ref, raw
    outcome.skipped    # Skipped: records a skip rule set aside, with the reason

The language is documented in docs/mapping.md; the modules, in load order:
``yamlsrc`` (YAML with lines, ``extends``), ``model`` (pydantic model of the language),
``build`` (checks against converter signatures and Avro schemas), ``formats`` (record
readers), ``expr`` (compiled expressions), ``apply`` (the pure mapping step).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from rosterhub.errors import ConfigError
from rosterhub.mapping.engine.apply import MappedEvent, MappingOutcome, Rejection, Skipped, apply_mapping
from rosterhub.mapping.engine.load import check_mapping, current_catalogue, load_mapping
from rosterhub.mapping.engine.spec import MappingSpec

__all__ = [
    "MappedEvent",
    "MappingOutcome",
    "MappingSpec",
    "Rejection",
    "Skipped",
    "apply_mapping",
    "check_mapping",
    "current_catalogue",
    "find_mapping",
    "load_mapping",
    "vendors_folder",
]


def vendors_folder() -> Path:
    """The installed ``mapping/vendors`` folder."""
    return Path(str(resources.files("rosterhub.mapping") / "vendors"))


def find_mapping(vendor: str, trust: str | None = None) -> Path:
    """The trust's variant ``<vendor>.<ODS>.yaml`` when it exists, else ``<vendor>.yaml``."""
    folder = vendors_folder()
    if trust:
        variant = folder / f"{vendor}.{trust.strip().upper()}.yaml"
        if variant.is_file():
            return variant
    base = folder / f"{vendor}.yaml"
    if not base.is_file():
        known = sorted(p.stem for p in folder.glob("*.yaml") if "." not in p.stem)
        raise ConfigError(f"no mapping file for vendor {vendor!r} (known: {', '.join(known)})", vendor=vendor)
    return base
