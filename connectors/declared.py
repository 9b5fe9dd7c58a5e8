"""Connectors declared in a YAML file, for platforms a mapping file and configuration are enough for.

A vendor whose transport is one the hub already has (a webhook, a polled changes feed, a drop
folder) needs nothing in Python: ``connectors/vendors/<vendor>.yaml`` says what
``connectors/vendors/<vendor>.py`` would say in its ``SPEC``, and the registry finds both
kinds of file. Only what Python alone can express (a whole-file hook such as ESR's
reconciliation, a payload converter) still needs a module. Example (docs/vendors/lantum.md)::

    id: lantum
    kind: poll
    title: Lantum-style workforce platform (REST activity feed)
    quirks:
      changes_path: /v2/activity
      changes_field: activity
      changed_at_field: occurred_at

A drop folder's file kinds are written as ``files: [{pattern, mapping, content_type, label}]``;
a webhook's signature as ``signature: {signature_header, timestamp_header, tolerance_s}``; a
``mapping_input`` converter as ``"module:function"`` (imported once, at load). Every key is checked
when the registry loads the file: the top-level keys here, the quirks by the kind's own
:class:`~rosterhub.connectors.base.Quirks` model (``rosterhub.connectors.registry``). A misspelt
one stops start-up, named.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from rosterhub.connectors.base import ConnectorSpec, WebhookSignature
from rosterhub.errors import ConfigError

__all__ = ["load_declared"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Signature(_Strict):
    signature_header: str
    timestamp_header: str
    tolerance_s: int = Field(300, gt=0)


class DeclaredConnector(_Strict):
    """The YAML form of a :class:`~rosterhub.connectors.base.ConnectorSpec`."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    kind: str = Field(pattern=r"^[a-z][a-z0-9_]*$")  # a transport kind; the registry checks it is known
    title: str
    mapping: str | None = None
    content_type: str = "application/json"
    signature: _Signature | None = None
    quirks: dict[str, Any] = Field(default_factory=dict)


def load_declared(path: Path) -> tuple[ConnectorSpec, dict[str, Any]]:
    """The connector a YAML file declares and its quirks as written (the registry validates them by the kind's
    model, once it knows the kind is one it has); a :class:`ConfigError` naming the file and the key otherwise."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        found = DeclaredConnector.model_validate(data)
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"connector file {path.name} cannot be read: {exc}") from None
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'file'}: {e['msg']}" for e in exc.errors())
        raise ConfigError(f"connector file {path.name}: {problems}") from None
    if found.id != path.stem:
        raise ConfigError(f"connector file {path.name} declares id {found.id!r}: the file is named after its id")
    signature = WebhookSignature(**found.signature.model_dump()) if found.signature else None
    spec = ConnectorSpec(
        id=found.id,
        kind=found.kind,
        title=found.title,
        mapping=found.mapping,
        content_type=found.content_type,
        signature=signature,
    )
    return spec, found.quirks
