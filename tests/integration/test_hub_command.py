"""The README's first command, as a newcomer runs it: `rosterhub run` with no broker configured.

It must start its own local broker, run worker + ingress + simulated trust endpoint, feed demo
traffic, print counts per topic, show the shift market working (a booking confirmed for a worker
registered through ESR with credentials the host trust accepts, and the hub's updates applied by
a simulator), and stop everything (broker included) on Ctrl-C.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support import free_port

pytestmark = pytest.mark.integration


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def test_run_starts_everything_shows_flow_and_stops_cleanly(tmp_path: Path) -> None:
    kafka_port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ROSTERHUB_") and k != "KAFKA_BOOTSTRAP_SERVERS"}
    env.update(
        {
            "ROSTERHUB_KAFKA_PORT": str(kafka_port),
            "ROSTERHUB_KAFKA_CONTROLLER_PORT": str(free_port()),
            "ROSTERHUB_HTTP_PORT": str(free_port()),
            "ROSTERHUB_DEMO_TRUST_PORT": str(free_port()),
            "ROSTERHUB_DEFAULT_PARTITIONS": "2",
            "PYTHONUNBUFFERED": "1",
        }
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "rosterhub", "run", "--interval", "1.5"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    delivered = re.compile(r"delivered=(\d+)")
    flowing = re.compile(r"(\w+) raw=(\d+) ev=(\d+) dlq=(\d+)")
    last_delivered = 0
    try:
        assert proc.stdout is not None
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
            if m := delivered.search(line):
                last_delivered = int(m.group(1))
            per_connector = flowing.findall(line)
            market = [int(n) for n in re.findall(r"(?:confirmed|patchwork [^|]* upd)=(\d+)", line)]
            flowed = per_connector and all(int(ev) > 0 for _, _, ev, _ in per_connector)
            if flowed and last_delivered >= 3 and len(market) == 2 and min(market) > 0:
                break
        else:
            pytest.fail("no confirmation, or not every connector flowed, within 300 s:\n" + "".join(lines[-20:]))
        assert _port_open(kafka_port), "the hub should have started its own broker"
        proc.send_signal(signal.SIGINT)  # Ctrl-C
        rest, _ = proc.communicate(timeout=90)
        lines.append(rest)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    out = "".join(lines)
    logs = tmp_path / ".rosterhub" / "logs"
    assert proc.returncode == 0, out + "".join(p.read_text() for p in logs.glob("*.log"))
    assert "(local, 4." in out  # the broker's version is announced
    status = [line for line in out.splitlines() if "raw.patchwork=" in line]
    assert status, out
    counts = dict(re.findall(r"(\S+)=(\d+)", status[-1]))
    assert int(counts["raw.patchwork"]) > 0 and int(counts["events.shift"]) > 0
    assert int(counts["events.booking"]) > 0
    assert int(counts["dlq.mapping"]) > 0  # the demo's malformed payloads
    connectors_line = [line for line in out.splitlines() if " ev=" in line][-1]
    vendors = {v for v, *_ in flowing.findall(connectors_line)}
    assert vendors == {"patchwork", "locums_nest", "fhir", "healthroster", "nhsp", "esr"}  # all six, each fed
    assert int(re.findall(r"decisions=(\d+)", connectors_line)[0]) > 0  # the booking processor decided
    # the market works: a known, cleared worker's request was confirmed and filled the shift, and the hub's
    # updates reached a simulator (Patchwork applied them) with delivery receipts on events.delivery
    market = dict(re.findall(r"(confirmed|filled|delivered)=(\d+)", connectors_line.split("decisions=")[1]))
    assert int(market["confirmed"]) > 0 and int(market["filled"]) > 0, connectors_line
    assert int(market["delivered"]) > 0, connectors_line
    assert int(re.findall(r"patchwork [^|]* upd=(\d+)", connectors_line)[0]) > 0
    assert re.search(r"workers=[1-9]\d*/", connectors_line), connectors_line  # the trusts' VC wallet presented
    assert "stopped" in out
    assert not _port_open(kafka_port), "Ctrl-C must stop the broker the hub started"
