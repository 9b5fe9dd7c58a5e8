"""The README's first command, as a newcomer runs it: `rosterhub run` with no broker configured.

It must start its own local broker, run worker + ingress + simulated trust endpoint, feed demo
traffic, print counts per topic, show the shift market working (a booking confirmed for a worker
registered through ESR with credentials the host trust accepts, and the hub's updates applied by
a simulator), and stop everything (broker included) on Ctrl-C.

While it runs, a consumer written from the Avro specification alone (independent_consumer.py)
reads every canonical topic it filled, as another team's consumer would, and issue #12's scan
reads every record of every topic (Avro bodies and headers decoded) for personal data in clear.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from kafka import KafkaAdminClient, KafkaConsumer

from rosterhub.codec.catalogue import default_catalogue
from rosterhub.codec.schema_topic import SchemaTopicReader
from rosterhub.codec.wire import SingleObjectCodec
from rosterhub.kafka.access import KafkaAccess
from rosterhub.kafka.admin import topic_counts
from rosterhub.pii_scan import scan_topics
from rosterhub.topics import CANONICAL, SCHEMAS
from tests.auth_support import Tokens
from tests.integration.independent_consumer import check_topic, read_schemas
from tests.support import free_port

# the fixture waits up to 300 s for the market to fill a shift; its setup counts against the first test
pytestmark = [pytest.mark.integration, pytest.mark.timeout(480)]


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


FLOWING = re.compile(r"(\w+) raw=(\d+) ev=(\d+) dlq=(\d+)")


@dataclass
class HubRun:
    proc: subprocess.Popen[str]
    lines: list[str]
    kafka_port: int
    home: Path
    reader: threading.Thread | None = None

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.kafka_port}"

    def keep_reading(self) -> None:
        """Drain the hub's output in the background (a full pipe would block it) while tests look at topics."""

        def drain() -> None:
            assert self.proc.stdout is not None
            for line in self.proc.stdout:
                self.lines.append(line)

        self.reader = threading.Thread(target=drain, daemon=True)
        self.reader.start()

    def stop(self, signum: int = signal.SIGINT, timeout: float = 90) -> None:
        """Ctrl-C (or a kill when it does not stop in time), then the rest of its output."""
        if self.proc.poll() is None:
            self.proc.send_signal(signum)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.reader is not None:
            self.reader.join(timeout=10)


@pytest.fixture(scope="module")
def hub_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubRun]:
    """``rosterhub run`` until every connector flowed and the market confirmed, filled and delivered."""
    tmp_path = tmp_path_factory.mktemp("hub")
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
    last_delivered = 0
    run = HubRun(proc, lines, kafka_port, tmp_path)
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
            per_connector = FLOWING.findall(line)
            market = [int(n) for n in re.findall(r"(?:confirmed|patchwork [^|]* upd)=(\d+)", line)]
            flowed = per_connector and all(int(ev) > 0 for _, _, ev, _ in per_connector)
            if flowed and last_delivered >= 3 and len(market) == 2 and min(market) > 0:
                break
        else:
            pytest.fail("no confirmation, or not every connector flowed, within 300 s:\n" + "".join(lines[-20:]))
        run.keep_reading()
        _wait_for_every_producing_topic(run, max(deadline, time.monotonic() + 90))
        yield run
    finally:
        run.stop(signal.SIGINT)  # a no-op when a test already stopped it


#: Canonical topics nothing in the demo writes to yet: no connector maps AvailabilityDeclared; and pay lines and
#: recharges follow approved timesheets, which come only once a booked shift is over (the demo's shifts are days
#: ahead; tests/integration/test_payroll_end_to_end.py covers both topics on the broker).
NO_PRODUCER_YET = {"events.availability", "events.payroll", "events.recharge"}


def _wait_for_every_producing_topic(run: HubRun, deadline: float) -> None:
    """Timesheets come only after a simulated shift has ended (NHSP's second day): on a slow machine the
    market fills before that, so the topic checks wait for every topic the demo writes, within the budget."""
    wanted = [spec.name for spec in CANONICAL.values() if spec.name not in NO_PRODUCER_YET]
    empty = wanted
    while time.monotonic() < deadline:
        empty = [c.topic for c in topic_counts(KafkaAccess(run.bootstrap), wanted) if c.messages == 0]
        if not empty:
            return
        time.sleep(3)
    pytest.fail(f"nothing reached {empty} in time:\n" + "".join(run.lines[-20:]))


def test_an_independent_avro_consumer_reads_every_canonical_topic(hub_run: HubRun) -> None:
    """Issue 15: records decoded by the spec-only reader, fingerprints computed independently, and the
    key and ``ce_subject`` are the fields each schema declares (ShiftFilled once carried the booking id)."""
    schemas, problems = read_schemas(hub_run.bootstrap, SCHEMAS.name)
    assert not problems, problems
    codec = SingleObjectCodec(default_catalogue(), SchemaTopicReader(KafkaAccess(hub_run.bootstrap), SCHEMAS.name))
    reports = {
        spec.name: check_topic(hub_run.bootstrap, spec.name, schemas, hub_decode=lambda v: codec.decode(v).record)
        for spec in CANONICAL.values()
    }
    summary = {t: (r.records, r.decoded, dict(r.types)) for t, r in reports.items()}
    print("\n".join(f"{t}: {n} records, {d} decoded {types}" for t, (n, d, types) in summary.items()))
    assert {t for t, r in reports.items() if r.records == 0} <= NO_PRODUCER_YET, summary
    assert {t: r.problems[:5] for t, r in reports.items() if r.problems} == {}
    assert all(r.decoded == r.sampled and (r.sampled == r.records or r.sampled >= 2000) for r in reports.values())
    assert reports["events.booking"].types["ShiftFilled"] > 0, summary  # the market filled a shift
    assert sum(r.decoded for r in reports.values()) >= 1000, summary


def test_no_topic_holds_personal_data_in_clear(hub_run: HubRun) -> None:
    """Issue 12: after the whole demo flow (ESR's people with NI numbers, dates of birth and addresses
    included), no record of any topic holds one in clear (rosterhub.pii_scan; it catches each kind when planted,
    tests/unit/core/test_pii_scan.py)."""
    findings, scanned = scan_topics(KafkaAccess(hub_run.bootstrap))
    print(f"scanned {sum(scanned.values())} records on {len(scanned)} topics")
    assert scanned.get("raw.esr", 0) > 0 and scanned.get("events.worker", 0) > 0, scanned  # ESR's people were there
    assert findings == [], "\n".join(map(str, findings[:20]))


def test_both_stream_workers_share_the_partitions_and_either_answers_for_anyone(hub_run: HubRun) -> None:
    """`run_stream_workers` (2 by default): two workers, every processor each, in the app id's one group, each with
    its share of the partitions (the outbound delivery groups' too); each answers the passport API for any person,
    forwarding to the owner (decision 0009), so the demo wallet may talk to either."""
    out = "".join(hub_run.lines)
    workers = re.search(r"stream workers, every processor in group 'rosterhub': (.*)", out)
    assert workers, out[-3000:]
    ports = dict(re.findall(r"(worker-\d) \(state [^,]+, web :(\d+)\)", workers.group(1)))
    assert sorted(ports) == ["worker-1", "worker-2"] and len(set(ports.values())) == 2, workers.group(0)
    logs = hub_run.home / ".rosterhub" / "logs"
    assert all("Worker ready" in (logs / f"{name}.log").read_text(errors="replace") for name in ports)

    admin = KafkaAdminClient(bootstrap_servers=hub_run.bootstrap)
    try:
        groups = [g["group_id"] for g in admin.list_groups()]
        outbound = sorted(g for g in groups if g.startswith("rosterhub.outbound."))
        described = {g: admin.describe_groups([g])[g] for g in ["rosterhub", *outbound]}
    finally:
        admin.close()
    assert len(outbound) == 21, groups  # 7 vendors x 3 demo trusts

    def owned(group: str) -> list[dict[str, list[int]]]:
        members = described[group].get("members") or ()
        return [
            {tp["topic"]: sorted(tp["partitions"]) for tp in member["member_assignment"]["assigned_partitions"]}
            for member in members
        ]

    stream = owned("rosterhub")
    assert len(stream) == 2, described["rosterhub"]
    assert all(stream), stream  # each worker has partitions
    assert sorted(p for member in stream for p in member.get("events.shift", [])) == [0, 1], stream
    assert all(len(owned(g)) == 2 for g in outbound), {g: owned(g) for g in outbound}

    person = _a_person_with_a_passport(hub_run)
    caller = Tokens(hub_run.home / ".rosterhub" / "issuer").caller("RHQ")
    start = (datetime.now(UTC) + timedelta(days=7)).replace(minute=0, second=0, microsecond=0)
    params = {"staff_group": "NURSING_MIDWIFERY_REGISTERED", "grade": "BAND_5", "at": start.isoformat()}
    answers = {
        name: httpx.get(
            f"http://127.0.0.1:{port}/passport/{person}/clearance", params=params, headers=caller, timeout=10
        )
        for name, port in ports.items()
    }
    assert {n: r.status_code for n, r in answers.items()} == {"worker-1": 200, "worker-2": 200}, {
        n: r.text for n, r in answers.items()
    }
    assert answers["worker-1"].json() == answers["worker-2"].json()


def _a_person_with_a_passport(run: HubRun) -> str:
    """The key of a record on events.passport: a person the passport holds."""
    consumer = KafkaConsumer(
        "events.passport", bootstrap_servers=run.bootstrap, auto_offset_reset="earliest", consumer_timeout_ms=10_000
    )
    try:
        for record in consumer:
            if record.key:
                return record.key.decode()
    finally:
        consumer.close()
    pytest.fail("no record on events.passport")


def test_run_starts_everything_shows_flow_and_stops_cleanly(hub_run: HubRun) -> None:
    proc, kafka_port, tmp_path = hub_run.proc, hub_run.kafka_port, hub_run.home
    assert _port_open(kafka_port), "the hub should have started its own broker"
    hub_run.stop(signal.SIGINT)  # Ctrl-C
    out = "".join(hub_run.lines)
    logs = tmp_path / ".rosterhub" / "logs"
    assert proc.returncode == 0, out + "".join(p.read_text() for p in logs.glob("*.log"))
    assert "(local, 4." in out  # the broker's version is announced
    assert re.search(r"dashboard http://\S+/dashboard#token=\S+", out)  # the KPI dashboard, with a token
    status = [line for line in out.splitlines() if "raw.patchwork=" in line]
    assert status, out
    counts = dict(re.findall(r"(\S+)=(\d+)", status[-1]))
    assert int(counts["raw.patchwork"]) > 0 and int(counts["events.shift"]) > 0
    assert int(counts["events.booking"]) > 0
    assert int(counts["dlq.mapping"]) > 0  # the demo's malformed payloads
    connectors_line = [line for line in out.splitlines() if " ev=" in line][-1]
    vendors = {v for v, *_ in FLOWING.findall(connectors_line)}
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
