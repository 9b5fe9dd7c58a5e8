"""Timesheets turned into priced payroll lines per second, against the empty faust hop in the same run.

The workload is the payroll processor's own: ``--timesheets`` bookings at RHQ worked by RCU's bank
nurses (distributed model, the shipped ``policies/payroll``), each a weekday night within tolerance,
so every timesheet is matched, approved by the hub, priced (basic, night enhancement, holiday pay),
numbered into RCU's weekly batch and recharged to RHQ: 3 lines and 3 recharges per timesheet. The
booking facts (``_rosterhub.payroll-bookings``) and the TimesheetSubmitted events (events.timesheet,
Avro single-object, as a connector writes them) are loaded first; then a worker process running the
three payroll agents, and nothing else, works through the backlog. Timesheets per second run from
the first line issued to the last (broker timestamps), with the worker's CPU per timesheet.

The baseline is ``bench/hop_ceiling.py``'s ``faust`` row (one record in, one out, nothing else) on
the same number of the timesheet records, against the same broker, in the same run. A timesheet
crosses two payroll hops (timesheet stage, batch stage), so about half the hop's rate is the ceiling.

    .venv/bin/python bench/payroll_bench.py --timesheets 5000          # the full run (a quiet machine)
    .venv/bin/python bench/payroll_bench.py --timesheets 200           # a smoke run

Figures and how to read them: docs/benchmarks.md ("Payroll").
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from rosterhub.instants import LONDON

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

LINES_PER_TIMESHEET = 3


# ---------------------------------------------------------------- the payroll agents alone (worker process)


def worker_main(prefix: str, app_id: str, bootstrap: str, state: str) -> None:
    """A faust worker with the payroll processor's agents only (what ``rosterhub worker`` runs for payroll)."""
    import faust

    from rosterhub.codec.catalogue import default_catalogue
    from rosterhub.kafka.access import KafkaAccess
    from rosterhub.runtime import Encoder, TopicNames, make_codec
    from rosterhub.settings import Settings
    from rosterhub.streams import faust_fixes
    from rosterhub.streams.app import StreamContext
    from rosterhub.streams.payroll import agents
    from rosterhub.streams.web import WorkerWeb

    settings = Settings(
        kafka_bootstrap_servers=bootstrap,
        topic_prefix=prefix,
        app_id=app_id,
        state_dir=Path(state),
        default_partitions=6,
        payroll_policy_dir=REPO / "policies" / "payroll",
    )
    faust_fixes.apply()
    kafka = KafkaAccess(bootstrap)
    app = faust.App(
        app_id,
        **kafka.faust(),
        store="rocksdb://",
        datadir=state,
        topic_partitions=6,
        consumer_auto_offset_reset="earliest",
        producer_acks=-1,
        key_serializer="raw",
        value_serializer="raw",
        web_enabled=False,
        autodiscover=False,
    )
    catalogue = default_catalogue()
    names = TopicNames(prefix)
    codec = make_codec(settings, kafka, catalogue)
    web = WorkerWeb(app, settings, names)  # not served: web_enabled is off and the payroll agents add no route
    encoder = Encoder(codec, names, catalogue)
    agents.register(app, StreamContext(settings, kafka, names, codec, catalogue, encoder, web))
    from hop_ceiling import _run

    sys.argv = [sys.argv[0], "worker"]
    _run(app)


# ---------------------------------------------------------------- workload and measuring (bench process)


def workload(n: int) -> tuple[list[tuple[bytes, bytes]], list[tuple[bytes | None, bytes, list[tuple[str, bytes]]]]]:
    """(booking facts records, TimesheetSubmitted records) for ``n`` worked nights, as stage 1 and a connector
    write them."""
    from rosterhub.codec.catalogue import default_catalogue
    from rosterhub.codec.wire import SingleObjectCodec
    from rosterhub.envelope import Envelope, event_id
    from rosterhub.runtime import Encoder, TopicNames
    from rosterhub.streams.payroll.agents import dumps
    from rosterhub.streams.payroll.hours import bank_holiday

    encoder = Encoder(SingleObjectCodec(default_catalogue()), TopicNames(""), default_catalogue())
    facts, sheets = [], []
    # Monday to Thursday nights of 2026 with no bank holiday either side: 3 lines each (basic, night, holiday pay)
    days = [datetime(2026, 1, 1, 20, tzinfo=LONDON) + timedelta(days=d) for d in range(365)]
    nights = [
        d
        for d in days
        if d.weekday() <= 3 and not bank_holiday(d.date()) and not bank_holiday(d.date() + timedelta(days=1))
    ]
    token = uuid.uuid4().hex[:6]
    for i in range(n):
        day = nights[i % len(nights)]
        start, end = day, day + timedelta(hours=12)
        bid, sid = f"patchwork:RCU:PB{token}-{i}", f"healthroster:RHQ:D{token}-{i}"
        worker = {
            "person_id": f"person:{i % 400:04d}",
            "identifiers": [{"system": "https://fhir.hl7.org.uk/Id/nmc-number", "value": f"{i % 90:02d}A1234B"}],
            "display_name": f"Nurse {i % 400}",
        }
        msg = {
            "kind": "booking",
            "status": "confirmed",
            "booking_id": bid,
            "shift_id": sid,
            "seq": 1,
            "worker": worker,
            "vendor": "patchwork",
            "worker_grade": "BAND_5",
            "worker_staff_group": "NURSING_MIDWIFERY_REGISTERED",
            "home_trust": "RCU",
            "membership": "BANK",
            "host": "RHQ",
            "host_name": None,
            "shift_vendor": "healthroster",
            "shift_grade": "BAND_5",
            "staff_group": "NURSING_MIDWIFERY_REGISTERED",
            "start": start.astimezone(UTC).isoformat(),
            "end": end.astimezone(UTC).isoformat(),
            "break_minutes": 60,
            "hourly_rate": None,
            "ward": "Ward 3B",
            "cost_centre": None,
        }
        facts.append((bid.encode(), dumps(msg)))
        data = {
            "timesheet_id": f"patchwork:RCU:TS{token}-{i}",
            "booking_id": bid,
            "shift_id": sid,
            "worker": worker,
            "host_trust": {"ods_code": "RHQ", "name": None},
            "vendor": "patchwork",
            "actual_start": start,
            "actual_end": end + timedelta(minutes=i % 10),
            "break_minutes": 60,
            "hours": (Decimal(11 * 60 + i % 10) / 60).quantize(Decimal("0.01")),
            "submitted_at": end + timedelta(minutes=30),
        }
        env = Envelope(
            "rosterhub.timesheet.v1.TimesheetSubmitted", "/vendors/patchwork/RCU", data, event_id("bench", token, i)
        )
        rec = encoder.encode(env)
        sheets.append((rec.key, rec.value, list(rec.headers)))
    return facts, sheets


def run_payroll(bootstrap: str, n: int, log_dir: Path, timeout: float) -> dict[str, Any]:
    from hop_ceiling import preload, watch
    from kafka import KafkaProducer

    from rosterhub.connectors.registry import connectors
    from rosterhub.kafka.access import KafkaAccess
    from rosterhub.kafka.admin import ensure_topics
    from rosterhub.runtime import TopicNames
    from rosterhub.topics import PAYROLL_BOOKINGS, declared_topics
    from tests.support import stop

    token = uuid.uuid4().hex[:8]
    prefix = f"pb{token}."
    names = TopicNames(prefix)
    kafka = KafkaAccess(bootstrap)
    ensure_topics(kafka, declared_topics(connectors(), prefix), default_partitions=6, replication_factor=1)
    facts, sheets = workload(n)
    producer = KafkaProducer(acks="all", linger_ms=5, batch_size=256 * 1024, **kafka.kafka_python())
    for key, value in facts:
        producer.send(names.of(PAYROLL_BOOKINGS), key=key, value=value)
    producer.flush()
    producer.close()
    preload(bootstrap, names.events("timesheet"), sheets)
    state = log_dir / f"state-{token}"
    cmd = [sys.executable, __file__, "--role", "worker", "--prefix", prefix, "--app-id", f"payroll-bench-{token}"]
    cmd += ["--bootstrap", bootstrap, "--state", str(state)]
    with (log_dir / f"payroll-{token}.log").open("ab") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, cwd=REPO)
    try:
        seen = watch(bootstrap, names.events("payroll"), n * LINES_PER_TIMESHEET, proc.pid, timeout)
    finally:
        stop(proc)
    lines = seen["records"]
    per_s = None if not seen.get("seconds") else round(lines / LINES_PER_TIMESHEET / seen["seconds"])
    cpu = seen.get("cpu_ms_per_record")
    return {
        "timesheets": n,
        "lines": lines,
        "seconds": seen.get("seconds"),
        "timesheets_per_s": per_s,
        "lines_per_s": seen.get("per_s"),
        "cpu_ms_per_timesheet": None if cpu is None else round(cpu * LINES_PER_TIMESHEET, 3),
    }


def run(bootstrap: str, n: int, log_dir: Path, timeout: float = 900) -> dict[str, Any]:
    from hop_ceiling import run_variant

    log_dir.mkdir(parents=True, exist_ok=True)
    _, sheets = workload(n)
    report: dict[str, Any] = {"timesheets": n, "load_before": os.getloadavg()}
    report["faust_hop"] = run_variant(bootstrap, "faust", sheets, log_dir, timeout)
    report["payroll"] = run_payroll(bootstrap, n, log_dir, timeout)
    hop, mine = report["faust_hop"].get("per_s"), report["payroll"].get("timesheets_per_s")
    report["ratio_to_hop"] = round(mine / hop, 3) if hop and mine else None
    report["load_after"] = os.getloadavg()
    return report


def main() -> None:
    from bench_cli import bench_parser, emit, local_bootstrap

    ap = bench_parser(__doc__)
    ap.add_argument("--timesheets", type=int, default=5000)
    for opt in ("--prefix", "--app-id", "--bootstrap", "--state"):
        ap.add_argument(opt)
    args = ap.parse_args()
    if args.role == "worker":
        worker_main(args.prefix, args.app_id, args.bootstrap, args.state)
        return
    started = time.monotonic()
    report = run(local_bootstrap(), args.timesheets, Path("/tmp/rosterhub-bench/payroll"))
    report["wall_s"] = round(time.monotonic() - started, 1)
    emit(report, args.json_out)


if __name__ == "__main__":
    main()
