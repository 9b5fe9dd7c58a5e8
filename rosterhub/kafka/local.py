"""A real single-node Apache Kafka broker (KRaft mode) started from Maven Central's jars.

Why: the machines rosterhub is developed and tested on have no Docker engine, and no
fake broker may replace Kafka. ``mvn`` fetches ``org.apache.kafka:kafka_2.13`` and
its runtime dependencies (see ``runtime/pom.xml``) once into ``<cache_dir>/kafka/<version>/libs``;
the broker is formatted once per data directory and then started with ``java``.

The broker runs detached (its own session) with a pid file, so ``rosterhub kafka
start`` returns and a later ``rosterhub kafka stop`` finds it again.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
import uuid
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from rosterhub.errors import BrokerUnavailable, ConfigError
from rosterhub.kafka.access import KafkaAccess
from rosterhub.kafka.limits import MAX_RECORD_BYTES
from rosterhub.kafka.local_security import LocalSecurity
from rosterhub.maven import copy_dependencies
from rosterhub.settings import Settings

__all__ = ["BrokerStatus", "LocalBroker", "fetch_jars", "jars_dir"]


_LOG4J2 = """\
status = warn
appender.file.type = File
appender.file.name = FILE
appender.file.fileName = {log_file}
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = FILE
logger.kafka.name = kafka
logger.kafka.level = INFO
logger.state.name = state.change.logger
logger.state.level = WARN
logger.request.name = kafka.request.logger
logger.request.level = WARN
"""


def jars_dir(settings: Settings) -> Path:
    return settings.cache_dir.expanduser() / "kafka" / settings.kafka_version / "libs"


def fetch_jars(settings: Settings, *, quiet: bool = True) -> Path:
    """Download the broker's jars with Maven unless they are already cached; return the folder."""
    return copy_dependencies(
        resources.files("rosterhub.kafka") / "runtime" / "pom.xml",
        jars_dir(settings),
        properties={"kafka.version": settings.kafka_version},
        expect=f"kafka_*-{settings.kafka_version}.jar",
        what=f"Kafka {settings.kafka_version}'s jars",
        error=BrokerUnavailable,
        quiet=quiet,
    )


@dataclass(frozen=True, slots=True)
class BrokerStatus:
    running: bool
    pid: int | None
    bootstrap: str
    version: str
    data_dir: Path


def _port_open(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(0.5)
        return s.connect_ex((host, port)) == 0


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class LocalBroker:
    """Format, start, watch and stop the local KRaft broker described by ``settings``."""

    host = "127.0.0.1"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.root = settings.kafka_data_dir.expanduser().resolve()
        self.data = self.root / "data"
        self.log_file = self.root / "broker.log"
        self.pid_file = self.root / "broker.pid"
        self.props = self.root / "server.properties"
        self.log4j = self.root / "log4j2.properties"
        self.security = LocalSecurity(settings, self.root, self.host)

    @property
    def bootstrap(self) -> str:
        return f"{self.host}:{self.settings.kafka_port}"

    @property
    def access(self) -> KafkaAccess:
        """How the hub's clients reach this broker (its listener's protocol, SCRAM user, generated TLS files)."""
        return self.security.access(self.bootstrap)

    # -- state ---------------------------------------------------------------------
    def pid(self) -> int | None:
        try:
            pid = int(self.pid_file.read_text().strip())
        except (FileNotFoundError, ValueError):
            return None
        return pid if _pid_alive(pid) else None

    def status(self) -> BrokerStatus:
        pid = self.pid()
        running = pid is not None and _port_open(self.host, self.settings.kafka_port)
        return BrokerStatus(running, pid, self.bootstrap, self.settings.kafka_version, self.root)

    # -- lifecycle -------------------------------------------------------------------
    def _write_config(self) -> None:
        s = self.settings
        self.root.mkdir(parents=True, exist_ok=True)
        self.root.chmod(0o700)  # server.properties holds the broker's own SCRAM secret when SASL is on
        client = self.security.listener
        props = {
            "process.roles": "broker,controller",
            "node.id": "1",
            "controller.quorum.voters": f"1@{self.host}:{s.kafka_controller_port}",
            "listeners": f"{client}://{self.host}:{s.kafka_port},CONTROLLER://{self.host}:{s.kafka_controller_port}",
            "advertised.listeners": f"{client}://{self.host}:{s.kafka_port}",
            "controller.listener.names": "CONTROLLER",
            "inter.broker.listener.name": client,
            "listener.security.protocol.map": f"{client}:{client},CONTROLLER:PLAINTEXT",
            "log.dirs": str(self.data),
            "num.partitions": "1",
            "auto.create.topics.enable": "false",
            "offsets.topic.replication.factor": "1",
            "offsets.topic.num.partitions": "6",
            "transaction.state.log.replication.factor": "1",
            "transaction.state.log.min.isr": "1",
            "share.coordinator.state.topic.replication.factor": "1",
            "share.coordinator.state.topic.min.isr": "1",
            "group.initial.rebalance.delay.ms": "0",
            "log.segment.bytes": str(64 * 1024 * 1024),
            # topics set their own max.message.bytes; this is the default for the others. One broker, so no
            # replica.fetch.max.bytes (and since KIP-74 a follower fetches an oversized batch whole anyway)
            "message.max.bytes": str(MAX_RECORD_BYTES),
            **self.security.server_properties(),
        }
        self.props.touch(mode=0o600, exist_ok=True)
        self.props.write_text("".join(f"{k}={v}\n" for k, v in props.items()))
        self.log4j.write_text(_LOG4J2.format(log_file=self.log_file))

    def _java(self) -> str:
        home = os.environ.get("JAVA_HOME")
        java = str(Path(home) / "bin" / "java") if home else shutil.which("java")
        if not java:
            raise BrokerUnavailable("Java is needed to run the local Kafka broker and is not on PATH")
        return java

    def _classpath(self) -> str:
        libs = fetch_jars(self.settings)
        return f"{libs}/*"

    def _format(self) -> None:
        if (self.data / "meta.properties").exists():
            return
        cluster_id = _kafka_uuid()
        cmd = [
            self._java(),
            "-cp",
            self._classpath(),
            f"-Dlog4j2.configurationFile={self.log4j}",
            "kafka.tools.StorageTool",
            "format",
            "-t",
            cluster_id,
            "-c",
            str(self.props),
            *self.security.format_args(),
        ]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise BrokerUnavailable(f"formatting the broker's storage failed: {proc.stdout}{proc.stderr}")
        self.security.record_format()

    def start(self, *, wait: bool = True) -> BrokerStatus:
        """Start the broker unless it already runs; idempotent."""
        self.security.check()
        current = self.status()
        if current.running:
            return current
        if _port_open(self.host, self.settings.kafka_port):
            raise ConfigError(
                f"port {self.settings.kafka_port} is taken by another process; set ROSTERHUB_KAFKA_PORT "
                "or point KAFKA_BOOTSTRAP_SERVERS at that broker"
            )
        self._write_config()
        self._format()
        self.security.check_format()
        heap = self.settings.kafka_heap
        cmd = [
            self._java(),
            f"-Xmx{heap}",
            f"-Xms{heap}",
            "-XX:+UseG1GC",
            "-Djava.awt.headless=true",
            f"-Dlog4j2.configurationFile={self.log4j}",
            f"-Dkafka.logs.dir={self.root}",
            "-cp",
            self._classpath(),
            "kafka.Kafka",
            str(self.props),
        ]
        with open(self.root / "broker.out", "ab") as out:
            proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        self.pid_file.write_text(str(proc.pid))
        if wait:
            self.wait_ready(proc)
        return self.status()

    def wait_ready(self, proc: subprocess.Popen[bytes] | None = None) -> None:
        """Block until the broker answers a metadata request, or raise with the log's tail."""
        from rosterhub.kafka.admin import broker_answers

        deadline = time.monotonic() + self.settings.kafka_start_timeout_s
        while time.monotonic() < deadline:
            if proc is not None and proc.poll() is not None:
                raise BrokerUnavailable(f"the local broker exited with {proc.returncode}:\n{self.tail(40)}")
            if _port_open(self.host, self.settings.kafka_port) and broker_answers(self.access):
                return
            time.sleep(0.25)
        raise BrokerUnavailable(
            f"the local broker did not answer within {self.settings.kafka_start_timeout_s}s:\n{self.tail(40)}"
        )

    def stop(self, timeout: float = 30.0) -> bool:
        """Stop the broker cleanly (SIGTERM, then SIGKILL after ``timeout``); False if it was not running."""
        pid = self.pid()
        if pid is None:
            self.pid_file.unlink(missing_ok=True)
            return False
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and _pid_alive(pid):
            _reap(pid)
            time.sleep(0.1)
        if _pid_alive(pid):
            os.kill(pid, signal.SIGKILL)
            _reap(pid)
        self.pid_file.unlink(missing_ok=True)
        return True

    def tail(self, lines: int = 50) -> str:
        texts = []
        for f in (self.root / "broker.out", self.log_file):
            if f.exists():
                texts.extend(f.read_text(errors="replace").splitlines()[-lines:])
        return "\n".join(texts[-lines:])


def _reap(pid: int) -> None:
    """Collect our own exited child so it does not linger as a zombie (which still 'exists')."""
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def _kafka_uuid() -> str:
    """A Kafka cluster id: 16 random bytes, URL-safe base64 without padding (22 chars).

    Never one starting with '-': StorageTool would read ``-t -abc...`` as an option (1 start in 64 failed).
    Kafka's own ``Uuid.randomUuid()`` skips those ids for the same reason.
    """
    import base64

    while True:
        cid = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not cid.startswith("-"):
            return cid
