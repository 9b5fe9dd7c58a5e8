"""What a file-drop vendor declares: which file is which, and vendor checks around a file.

A vendor's ``ConnectorSpec.quirks`` (:class:`FileDropQuirks`, checked when the registry loads) tell the
file-drop transport (``transport.py``):

* ``files``: a sequence of :class:`FileKind`, first match wins. The file *name* picks the
  mapping (NHSP's ``bookings_*.csv`` and ``timesheets_*.csv`` are two mappings of one
  vendor); a name no kind matches is refused, never guessed.
* ``hook`` (optional): a :class:`FileHook` for whole-file checks and follow-up work the
  mapping language cannot express (ESR's header trust and full-refresh reconciliation).
* ``max_file_bytes`` (optional): the vendor's default size limit.
* ``partial_suffixes`` (optional): names of files still being uploaded.
* ``inbox_trust_required`` (optional): every inbox must name its trust.

Redaction of personal data is not the transport's: every transport writes through
``rosterhub.connectors.receipt``, which redacts (``rosterhub.mapping.engine.redact``).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field, field_validator

from rosterhub.connectors.base import Quirks
from rosterhub.connectors.state import Dedupe
from rosterhub.errors import InputError
from rosterhub.mapping.engine import MappingSpec

__all__ = [
    "DEFAULT_PARTIAL_SUFFIXES",
    "DroppedFile",
    "FileDropQuirks",
    "FileHook",
    "FileKind",
    "route",
]

#: Upload-in-progress names (SFTP clients and the hub's simulators write ``<name>.part`` then rename).
DEFAULT_PARTIAL_SUFFIXES = (".part", ".partial", ".filepart", ".tmp", ".uploading")


@dataclass(frozen=True, slots=True)
class FileKind:
    """One kind of file a vendor drops: a name pattern (``fnmatch``, case-insensitive) and its mapping."""

    pattern: str
    mapping: str  # mapping file stem in mapping/vendors/ (``nhsp_timesheets``); trust variants apply
    content_type: str = "application/octet-stream"
    label: str = ""  # for reports and logs: "bookings", "timesheets", "XML export"

    def matches(self, name: str) -> bool:
        return fnmatch.fnmatchcase(name.casefold(), self.pattern.casefold())


@dataclass(frozen=True, slots=True)
class DroppedFile:
    """One file being processed, as a hook sees it."""

    vendor: str
    name: str
    inbox: Path
    trust: str | None  # the inbox's trust (ODS), None when the files name it per record
    kind: FileKind
    spec: MappingSpec
    sha256: str
    correlation_id: str
    received_at: datetime


@runtime_checkable
class FileHook(Protocol):
    """Vendor work around one file; both methods are called from the connector's thread."""

    def check(self, payload: bytes, file: DroppedFile) -> InputError | None:
        """Whole-file checks before mapping (after the raw write). An error fails the whole file:
        nothing is published, the file goes to failed/ and the reason to ``dlq.mapping``."""

    def after(self, payload: bytes, file: DroppedFile, state: Dedupe) -> Mapping[str, Any]:
        """Runs once the file's events and dead letters are acknowledged, before the file is moved.
        Must be idempotent: a crash before the move processes the file again. Returns a report section."""


class _File(BaseModel):
    """A :class:`FileKind` as a YAML declaration writes it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    pattern: str
    mapping: str
    content_type: str = "application/octet-stream"
    label: str = ""


class FileDropQuirks(Quirks):
    """What a file-drop vendor declares (module docstring)."""

    files: tuple[FileKind, ...] = Field(min_length=1)
    hook: FileHook | None = None
    max_file_bytes: int | None = Field(None, ge=1)
    partial_suffixes: tuple[str, ...] = DEFAULT_PARTIAL_SUFFIXES
    inbox_trust_required: bool = False

    @field_validator("files", mode="before")
    @classmethod
    def _declared(cls, value: Any) -> Any:
        if isinstance(value, list | tuple):
            return tuple(
                FileKind(**_File.model_validate(f).model_dump()) if isinstance(f, Mapping) else f for f in value
            )
        return value


def route(name: str, kinds: Sequence[FileKind]) -> FileKind | None:
    """The first kind whose pattern matches the file name, or None (the file is refused)."""
    return next((k for k in kinds if k.matches(name)), None)
