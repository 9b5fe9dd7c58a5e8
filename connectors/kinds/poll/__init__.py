"""REST polling of a vendor's "changes" endpoint (kind ``poll``), run by ``rosterhub connect <vendor>``.

This module is what a polled vendor imports: :class:`PollQuirks`, its endpoint's wire facts
(paths, parameter and field names), and :class:`PollOptions`, the deployment options
(``[connectors.<vendor>]``). The rest of the package is the transport's own:

* ``poller``: the polling loop (its docstring has the whole pass, and why a poison page is skipped);
* ``page``: page checks and the cursor :class:`~rosterhub.connectors.kinds.poll.page.Position`;
* ``policy``: waits and retries (pure); ``http``: one request; ``options``: the options model.
"""

from __future__ import annotations

from rosterhub.connectors.base import LoopTransport
from rosterhub.connectors.kinds.poll.options import PollOptions
from rosterhub.connectors.kinds.poll.page import PollQuirks

__all__ = ["TRANSPORT", "Poll", "PollOptions", "PollQuirks"]


class Poll(LoopTransport):
    kind = "poll"
    quirks = PollQuirks
    loop = f"{__name__}.poller"


TRANSPORT = Poll()
