"""The file-drop transport (kind ``filedrop``): vendors export files into folders (SFTP inboxes).

This module is what a file-drop vendor imports: :class:`FileDropQuirks` (its declaration),
:class:`FileKind` (which file is which), and :class:`FileHook`/:class:`DroppedFile` for whole-file
checks and follow-up work. The rest of the package is the transport's own:

* ``transport``: options, the inbox loop, ``run``;
* ``process``: one file, exactly once (the steps and their order);
* ``fence``: no loss and no duplicate when the connector dies mid-file;
* ``routes``, ``scan``, ``report``: file kinds, settled files, reports next to moved files.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from rosterhub.connectors.base import ConnectorSpec, SourceRun, Transport
from rosterhub.connectors.kinds.filedrop.routes import DroppedFile, FileDropQuirks, FileHook, FileKind

if TYPE_CHECKING:
    from rosterhub.connectors.pipeline import IngestContext

__all__ = ["TRANSPORT", "DroppedFile", "FileDrop", "FileDropQuirks", "FileHook", "FileKind"]


class FileDrop(Transport):
    kind = "filedrop"
    quirks = FileDropQuirks

    def run(
        self,
        spec: ConnectorSpec,
        ctx: IngestContext,
        options: Mapping[str, Any],
        stop: threading.Event,
        *,
        once: bool,
        **seams: Any,
    ) -> SourceRun:
        from rosterhub.connectors.kinds.filedrop.transport import run  # the loop's dependencies load when used

        return run(spec, ctx, options, stop, once=once, **seams)


TRANSPORT = FileDrop()
