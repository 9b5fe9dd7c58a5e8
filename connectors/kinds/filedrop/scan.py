"""Which files in an inbox are ready: complete uploads only, in a stable order.

A file counts as complete when one of these holds:

* the vendor (or deployment) uses a *done marker*: ``<name><done_suffix>`` exists next to
  it (the marker itself is never processed, and is moved along with the file);
* otherwise its size and modification time have not changed for ``settle_s`` seconds,
  either across two looks at the folder or because its mtime is that old already.

Upload-in-progress names (``.part`` and friends, see ``routes``), reports, done
markers and sub-folders (``processed/``, ``failed/``) are never candidates. Entries the
hub will not read are candidates with a ``problem``, so that they are *reported* (moved to
``failed/`` with a report and a dead letter) rather than left in the inbox unexplained
(issue #12): a name that is not valid UTF-8 (it cannot be named in a report, a header or
a log line as it is), a hidden file (``.name``: not something a vendor's export is named),
a symbolic link (never followed: it could point anywhere on the host), anything that is
not a regular file (a FIFO would block the reader). Candidates come in name order:
vendors put the date and a sequence number in their file names, so name order is the
order the files were produced in (ESR change files must be applied in sequence).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

__all__ = ["REPORT_SUFFIX", "Candidate", "Settler", "name_problem", "safe_name"]

REPORT_SUFFIX = ".report.json"


@dataclass(frozen=True, slots=True)
class Candidate:
    path: Path
    size: int
    mtime: float  # seconds since the epoch
    marker: Path | None = None  # the done marker to move along with the file
    reprocess: bool = False  # dropped in the inbox's reprocess/ folder: take it even if seen before
    problem: str | None = None  # why it is not taken: name | hidden | symlink | special (see the module docstring)

    @property
    def name(self) -> str:
        """The entry's name as reports, headers and logs show it: undecodable bytes as ``%xx``."""
        return safe_name(self.path.name)


def safe_name(name: str) -> str:
    """``name`` made printable: bytes that are not UTF-8 (kept by Python as surrogates) become ``%xx``."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return os.fsencode(name).decode("utf-8", errors="backslashreplace").replace("\\x", "%")
    return name


def name_problem(name: str) -> str | None:
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return "name"
    return "hidden" if name.startswith(".") else None


@dataclass(frozen=True, slots=True)
class _Look:
    size: int
    mtime_ns: int
    first_seen: float  # monotonic-free: the caller's clock, seconds since the epoch


class Settler:
    """Remembers what it saw per path between scans (in memory: a restart only delays a file by ``settle_s``)."""

    def __init__(self, settle_s: float, *, done_suffix: str | None, partial_suffixes: Iterable[str]) -> None:
        self.settle_s = settle_s
        self.done_suffix = done_suffix
        self.partial_suffixes = tuple(s.casefold() for s in partial_suffixes)
        self._looks: dict[Path, _Look] = {}

    def _ignored(self, name: str) -> bool:
        folded = name.casefold()
        return (
            folded.endswith(REPORT_SUFFIX)
            or folded.endswith(self.partial_suffixes)
            or (self.done_suffix is not None and folded.endswith(self.done_suffix.casefold()))
        )

    def scan(self, inbox: Path, now: float) -> tuple[list[Candidate], list[Candidate]]:
        """(ready, waiting) files of ``inbox``; ``now`` is wall-clock seconds (mtimes are wall-clock too)."""
        ready: list[Candidate] = []
        waiting: list[Candidate] = []
        seen: set[Path] = set()
        try:
            entries = sorted(os.scandir(inbox), key=lambda e: e.name)
        except FileNotFoundError:
            return [], []
        for entry in entries:
            if self._ignored(entry.name):
                continue
            try:
                if entry.is_dir(follow_symlinks=False):
                    continue
                problem = name_problem(entry.name)
                if entry.is_symlink():
                    problem = problem or "symlink"
                elif not entry.is_file(follow_symlinks=False):
                    problem = problem or "special"
                st = entry.stat(follow_symlinks=False)
            except FileNotFoundError:  # moved away between listing and stat
                continue
            path = Path(entry.path)
            seen.add(path)
            look = self._looks.get(path)
            if look is None or (look.size, look.mtime_ns) != (st.st_size, st.st_mtime_ns):
                look = _Look(st.st_size, st.st_mtime_ns, now)
                self._looks[path] = look
            marker = None
            if self.done_suffix is not None and problem is None:  # an entry with a problem gets no marker
                marker = path.with_name(path.name + self.done_suffix)
                settled = marker.is_file()
            else:
                age = now - st.st_mtime_ns / 1e9
                settled = age >= self.settle_s or now - look.first_seen >= self.settle_s
            cand = Candidate(path, st.st_size, st.st_mtime_ns / 1e9, marker, problem=problem)
            (ready if settled else waiting).append(cand)
        for gone in [p for p in self._looks if p.parent == inbox and p not in seen]:
            del self._looks[gone]
        return ready, waiting

    def forget(self, path: Path) -> None:
        self._looks.pop(path, None)
