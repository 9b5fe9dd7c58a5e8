"""The ingress's listening socket, bound before anything else starts.

Bound by the hub rather than by uvicorn so that a taken port is the process's own named error
(``error [port_unavailable]: ...``, which the supervisor reports as the child's cause) and not a
library's log line followed by shutdown noise; and before the broker is resolved, so the answer is
immediate.
"""

from __future__ import annotations

import socket

from rosterhub.errors import PortUnavailable

__all__ = ["listen"]


def listen(host: str, port: int) -> socket.socket:
    """A bound TCP socket for ``host:port`` (uvicorn listens on it); :class:`PortUnavailable` when taken."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does: restarts reuse TIME_WAIT ports
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise PortUnavailable(f"cannot listen on {host}:{port}: {exc.strerror or exc} (errno {exc.errno})") from None
    sock.set_inheritable(True)
    return sock
