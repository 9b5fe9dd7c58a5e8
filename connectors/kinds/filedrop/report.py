"""The report written next to every file the connector moves, and the move itself.

A trust's IT team reads ``processed/`` and ``failed/``, not Kafka: each moved file gets
``<name>.report.json`` saying what became of it (events published, duplicates, each
rejected record with its reason, where the raw copy sits on the broker, the correlation
id to search the logs for). Writes are atomic (temporary name, then rename), so a
half-written report is never mistaken for a finished one.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from rosterhub.connectors.kinds.filedrop.scan import REPORT_SUFFIX

__all__ = ["FileReport", "move_with_report", "unique_destination"]

Status = Literal["processed", "failed", "duplicate"]


#: The report's fields the dedupe store's summary keeps, in its order (then the counts of records).
_SUMMARY_FIELDS = ("file", "inbox", "status", "moved_to", "correlation_id", "received_at", "raw")


@dataclass
class FileReport:
    """What became of one file; ``as_dict`` is the JSON report."""

    file: str
    inbox: str
    vendor: str
    trust: str | None
    sha256: str
    size: int
    correlation_id: str
    received_at: datetime
    status: Status = "processed"
    kind: str | None = None
    mapping: str | None = None
    reason: dict[str, Any] | None = None  # why the whole file failed (code, message, ...)
    raw: dict[str, Any] | None = None  # topic, partition, offset of the raw copy
    events: int = 0
    event_types: dict[str, int] = field(default_factory=dict)
    duplicates: int = 0
    echoes: int = 0  # records that were the hub's own update reported back (docs/outbound-adapters.md)
    rejected: list[dict[str, Any]] = field(default_factory=list)
    dead_letters: list[dict[str, Any]] = field(default_factory=list)  # topic + why, for whole-file dead letters
    duplicate_of: dict[str, Any] | None = None
    sections: dict[str, Any] = field(default_factory=dict)  # vendor hook sections (ESR reconciliation)
    notes: list[str] = field(default_factory=list)
    finished_at: datetime | None = None
    moved_to: str | None = None

    def count_types(self, types: list[str]) -> None:
        self.event_types = dict(sorted(Counter(t.rsplit(".", 1)[-1] for t in types).items()))

    def as_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "status": self.status,
            "vendor": self.vendor,
            "trust": self.trust,
            "kind": self.kind,
            "mapping": self.mapping,
            "inbox": self.inbox,
            "moved_to": self.moved_to,
            "sha256": self.sha256,
            "size_bytes": self.size,
            "correlation_id": self.correlation_id,
            "received_at": self.received_at.isoformat(),
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
            "reason": self.reason,
            "raw": self.raw,
            "records": {
                "events_published": self.events,
                "event_types": self.event_types,
                "duplicates": self.duplicates,
                "echoes": self.echoes,
                "rejected": len(self.rejected),
            },
            "rejected": self.rejected,
            "dead_letters": self.dead_letters,
            "duplicate_of": self.duplicate_of,
            **self.sections,
            "notes": self.notes,
        }

    def summary(self) -> dict[str, Any]:
        """What the dedupe store keeps about a finished file (no per-record detail): the report's own fields,
        written as the report writes them, so a summary and a report never disagree about a file."""
        report = self.as_dict()
        records = report["records"]
        return {
            **{key: report[key] for key in _SUMMARY_FIELDS},
            "events": records["events_published"],
            "duplicates": records["duplicates"],
            "rejected": records["rejected"],
        }


def unique_destination(folder: Path, name: str) -> Path:
    """``folder/name``, or ``folder/<stem>-<n><suffix>`` when a file of that name was moved there before."""
    target = folder / name
    if not target.exists() and not (folder / (name + REPORT_SUFFIX)).exists():
        return target
    stem, dot, suffix = name.partition(".")
    n = 1
    while True:
        candidate = folder / f"{stem}-{n}{dot}{suffix}"
        if not candidate.exists() and not (folder / (candidate.name + REPORT_SUFFIX)).exists():
            return candidate
        n += 1


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    tmp.replace(path)


def move_with_report(source: Path, destination: Path, report: Mapping[str, Any], *, marker: Path | None = None) -> None:
    """Write ``<destination>.report.json``, then move the file (and its done marker) there.

    The report comes first: a crash between the two leaves the file in the inbox, and
    the next run finishes the move (the dedupe store knows the file was processed).
    """
    destination.parent.mkdir(parents=True, exist_ok=True)
    body = json.dumps(report, indent=2, ensure_ascii=False, default=str).encode("utf-8") + b"\n"
    _write_atomic(destination.with_name(destination.name + REPORT_SUFFIX), body)
    _move(source, destination)
    if marker is not None and marker.exists():
        _move(marker, destination.with_name(destination.name + marker.name[len(source.name) :]))


def _move(source: Path, destination: Path) -> None:
    """Rename; copy then delete when processed/ or failed/ is configured on another file system."""
    try:
        source.replace(destination)
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            raise
        tmp = destination.with_name(f".{destination.name}.tmp")
        shutil.copy2(source, tmp)
        tmp.replace(destination)
        source.unlink()
