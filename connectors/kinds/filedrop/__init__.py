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

from rosterhub.connectors.base import LoopTransport
from rosterhub.connectors.kinds.filedrop.routes import DroppedFile, FileDropQuirks, FileHook, FileKind

__all__ = ["TRANSPORT", "DroppedFile", "FileDrop", "FileDropQuirks", "FileHook", "FileKind"]


class FileDrop(LoopTransport):
    kind = "filedrop"
    quirks = FileDropQuirks
    loop = f"{__name__}.transport"


TRANSPORT = FileDrop()
