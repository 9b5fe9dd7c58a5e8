"""Where is Kafka? One answer for the hub, the tools and the tests.

Order: ``KAFKA_BOOTSTRAP_SERVERS`` (an existing cluster) > a testcontainers broker when a
Docker engine answers (tests only: ``allow_docker``; PLAINTEXT only) > the local KRaft broker
started from Maven jars. The answer is a :class:`KafkaAccess` (address and security) that every
client of the process is built from. The caller owns what was started and must call
:meth:`Resolved.close`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from rosterhub.kafka.access import KafkaAccess, access_from_settings
from rosterhub.kafka.admin import probe
from rosterhub.kafka.local import LocalBroker
from rosterhub.settings import Settings

__all__ = ["Resolved", "docker_available", "resolve_broker"]

log = logging.getLogger(__name__)


@dataclass
class Resolved:
    access: KafkaAccess  # address and security: what every client of the hub is given
    origin: str  # "configured" | "docker" | "local"
    version: str | None = None  # broker version when the hub knows it (local jars)
    _close: Callable[[], object] | None = field(default=None, repr=False)  # its result, if any, is ignored

    @property
    def bootstrap(self) -> str:
        return self.access.bootstrap_servers

    def close(self) -> None:
        if self._close is not None:
            self._close()
            self._close = None


def docker_available() -> bool:
    """True when a Docker engine answers (not merely a docker CLI on PATH)."""
    try:
        import docker  # testcontainers' dependency

        client = docker.from_env(timeout=3)
        client.ping()
        return True
    except Exception:
        return False


def _start_container() -> Resolved:
    from testcontainers.kafka import KafkaContainer

    container = KafkaContainer().with_kraft()
    container.start()
    return Resolved(KafkaAccess(container.get_bootstrap_server()), "docker", None, container.stop)


def resolve_broker(settings: Settings, *, allow_docker: bool = False, keep_running: bool = False) -> Resolved:
    """Find or start a broker. ``keep_running`` leaves a started local broker up on close."""
    if settings.kafka_bootstrap_servers:
        access = access_from_settings(settings)
        probe(access, timeout_s=10)  # names a refused login (kafka_auth_failed) instead of hanging on it
        return Resolved(access, "configured")
    if allow_docker and settings.kafka_security_protocol == "PLAINTEXT" and docker_available():
        log.info("starting Kafka in Docker (testcontainers)")
        return _start_container()
    broker = LocalBroker(settings)
    already = broker.status().running
    status = broker.start(wait=True)
    log.info("local Kafka %s at %s (%s)", status.version, status.bootstrap, "reused" if already else "started")
    stop = None if (already or keep_running) else broker.stop
    return Resolved(broker.access, "local", status.version, stop)
