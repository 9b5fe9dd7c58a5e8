"""REST polling of a vendor's "changes" endpoint (kind ``poll``), run by ``rosterhub connect <vendor>``.

This module is what a polled vendor imports: :class:`PollQuirks`, its endpoint's wire facts
(paths, parameter and field names), and :class:`PollOptions`, the deployment options
(``[connectors.<vendor>]``). The rest of the package is the transport's own:

* ``poller``: the polling loop (its docstring has the whole pass, and why a poison page is skipped);
* ``page``: page checks and the cursor :class:`~rosterhub.connectors.kinds.poll.page.Position`;
* ``policy``: waits and retries (pure); ``http``: one request; ``options``: the options model.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from rosterhub.connectors.base import ConnectorSpec, SourceRun, Transport
from rosterhub.connectors.kinds.poll.options import PollOptions
from rosterhub.connectors.kinds.poll.page import PollQuirks

if TYPE_CHECKING:
    from rosterhub.connectors.pipeline import IngestContext

__all__ = ["TRANSPORT", "Poll", "PollOptions", "PollQuirks"]


class Poll(Transport):
    kind = "poll"
    quirks = PollQuirks

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
        from rosterhub.connectors.kinds.poll.poller import run  # httpx and the loop load when used

        return run(spec, ctx, options, stop, once=once, **seams)


TRANSPORT = Poll()
