"""The ingress binds its own socket so that a taken port is its own named error (rosterhub.listen)."""

from __future__ import annotations

import socket

import pytest

from rosterhub.errors import PortUnavailable
from rosterhub.listen import listen


def test_a_free_port_is_bound_and_a_taken_one_is_named() -> None:
    sock = listen("127.0.0.1", 0)
    try:
        host, port = sock.getsockname()
        assert host == "127.0.0.1" and port > 0
        sock.listen()
        with pytest.raises(PortUnavailable) as taken:
            listen("127.0.0.1", port)
        assert taken.value.code == "port_unavailable"
        assert f"127.0.0.1:{port}" in str(taken.value) and "in use" in str(taken.value)
    finally:
        sock.close()


def test_an_address_not_of_this_machine_is_named_too() -> None:
    with pytest.raises(PortUnavailable, match=r"cannot listen on 192\.0\.2\.1:8080"):
        listen("192.0.2.1", 8080)  # TEST-NET-1: never a local address
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))  # the failed attempt left nothing bound
