"""What a file-drop vendor declares: which file is which, and vendor checks around a file.

A vendor's ``ConnectorSpec.quirks`` tell the file-drop transport (``filedrop.py``):

* ``files``: a sequence of :class:`FileKind`, first match wins. The file *name* picks the
  mapping (NHSP's ``bookings_*.csv`` and ``timesheets_*.csv`` are two mappings of one
  vendor); a name no kind matches is refused, never guessed.
* ``hook`` (optional): a :class:`FileHook` for whole-file checks and follow-up work the
  mapping language cannot express (ESR's header trust and full-refresh reconciliation).
* ``max_file_bytes`` (optional): the vendor's default size limit.
* ``partial_suffixes`` (optional): names of files still being uploaded.
* ``inbox_trust_required`` (optional): every inbox must name its trust.

This module also holds the one redaction the transport does itself: mappings that list
``sensitive`` source fields (ESR's NI number, date of birth, address) must not have them
reach a topic in clear, and the raw topic takes the whole file; see :func:`redact_copy`.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from rosterhub.connectors.state import ConnectorState
from rosterhub.errors import ConfigError, InputError
from rosterhub.mapping.engine import MappingSpec
from rosterhub.mapping.engine.formats import REDACTED
from rosterhub.mapping.engine.model import PipeFormat

__all__ = [
    "DEFAULT_PARTIAL_SUFFIXES",
    "DroppedFile",
    "FileHook",
    "FileKind",
    "blank_unknown_records",
    "file_kinds",
    "redact_copy",
    "redaction_fields",
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


class FileHook(Protocol):
    """Vendor work around one file; both methods are called from the connector's thread."""

    def check(self, payload: bytes, file: DroppedFile) -> InputError | None:
        """Whole-file checks before mapping (after the raw write). An error fails the whole file:
        nothing is published, the file goes to failed/ and the reason to ``dlq.mapping``."""

    def after(self, payload: bytes, file: DroppedFile, state: ConnectorState) -> Mapping[str, Any]:
        """Runs once the file's events and dead letters are acknowledged, before the file is moved.
        Must be idempotent: a crash before the move processes the file again. Returns a report section."""


def file_kinds(quirks: Mapping[str, Any], vendor: str) -> tuple[FileKind, ...]:
    kinds = quirks.get("files")
    if not kinds or not all(isinstance(k, FileKind) for k in kinds):
        raise ConfigError(f"connector {vendor} declares no file kinds (quirks['files'] of FileKind)")
    return tuple(kinds)


def route(name: str, kinds: Sequence[FileKind]) -> FileKind | None:
    """The first kind whose pattern matches the file name, or None (the file is refused)."""
    return next((k for k in kinds if k.matches(name)), None)


def redaction_fields(spec: MappingSpec) -> tuple[str, ...]:
    """The sensitive fields the transport must blank in copies it puts on topics; checks it can.

    Only pipe-delimited files are supported: fields sit at fixed positions per record type,
    so they are blanked byte for byte without re-serialising the file. A sensitive CSV, XML
    or JSON mapping on a file drop is a configuration error rather than a silent leak.
    """
    if not spec.sensitive:
        return ()
    if not isinstance(spec.reader, PipeFormat):
        raise ConfigError(
            f"mapping {spec.path.name} lists sensitive fields but the file-drop transport can only redact "
            f"pipe-delimited files before the raw write (this one is {spec.format})",
            file=str(spec.path),
        )
    return tuple(sorted(spec.sensitive))


def redact_copy(spec: MappingSpec, payload: bytes) -> bytes:
    """``payload`` with every sensitive field of every known record replaced by ``REDACTED``.

    Works on bytes, so a file in the wrong encoding is redacted too (the delimiter is
    ASCII and never part of a UTF-8 multi-byte sequence). Lines of unknown record types
    are blanked entirely: their layout is unknown, so any field might be personal data.
    Line ends, record order and every other byte are kept, so line numbers in errors
    still point at the same lines.
    """
    return _redact(spec, payload, blank_fields=True)


def blank_unknown_records(spec: MappingSpec, payload: bytes) -> bytes:
    """Only the unknown-record-type lines blanked: what the mapping reads when its layout has personal data.

    The mapping's reader dead-letters a line of unknown type with its bytes as they are (it
    knows no layout to redact); a corrupted record tag (``PRR|...``) would otherwise put a
    whole person record on ``dlq.mapping`` in clear. Known records keep every field, so
    ``identity_match_key`` is still computed from the real values.
    """
    return _redact(spec, payload, blank_fields=False)


def _redact(spec: MappingSpec, payload: bytes, *, blank_fields: bool) -> bytes:
    fmt = spec.reader
    if not spec.sensitive or not isinstance(fmt, PipeFormat):
        return payload
    delim = fmt.delimiter.encode()
    positions = {
        tag.encode(): {i + 1 for i, name in enumerate(names) if name in spec.sensitive}
        for tag, names in fmt.record_types.items()
    }
    keep_whole = {fmt.header_tag.encode(), fmt.trailer_tag.encode()}
    out: list[bytes] = []
    for line in payload.splitlines(keepends=True):
        body = line.rstrip(b"\r\n")
        end = line[len(body) :]
        values = body.split(delim)
        tag = values[0].strip()
        if tag in keep_whole or not body.strip():
            out.append(line)
            continue
        blank = positions.get(tag)
        if blank is None:
            out.append(REDACTED.encode() + end)
            continue
        if not blank_fields:
            out.append(line)
            continue
        out.append(delim.join(REDACTED.encode() if i in blank and v else v for i, v in enumerate(values)) + end)
    return b"".join(out)
