"""Issue 16's figures in one run, each against the empty faust hop measured in the same run; JSON out.

    .venv/bin/python bench/issue16.py                      # the issue's sizes (about 25 minutes on 2 cores)
    .venv/bin/python bench/issue16.py --quick              # small sizes: a smoke run (a few minutes)
    .venv/bin/python bench/issue16.py --only ceiling,max1   # some parts only
    .venv/bin/python bench/issue16.py --only ceiling,identity --size esr_staff=2000   # another size

Writes ``bench/results/latest.json`` (``--json-out`` elsewhere) and prints it. Parts, in order:

=========  ==========================================================================================
ceiling    ``bench/hop_ceiling.py``: one empty faust hop, stock faust (``hop_ceiling_per_s``, the
           denominator of every ratio), and the same hop with the hub's tunings (fetcher patch, uvloop,
           linger 5 ms) for comparison
max1       ``bench/booking_bench.py`` flat out from a backlog, 1 worker, 90 registered nurses:
           ``max_sustained_decisions_per_s`` (every request decided), ``hops_per_decision`` (median
           agent steps a request took, from the saga's internal topics)
max2       the same with 2 workers: ``two_worker_ratio`` = max2 / max1, and each worker's share
split      the same with 2 workers in the layout docs/deploy.md suggests: one runs booking with passport and
           open-shifts (which read the passport table there, issue #16), the other every other processor,
           availability among them, at ``nice 10`` (decision 0017: a consumer group per set):
           ``split_decisions_per_s`` and ``split_ratio`` (over max1), with each worker's CPU per decision
steady     100 booking requests/s with their shifts (167 payloads/s) for 5 min: ``p99_ms_at_100``
overload   2 x max1's decisions/s for 2 min: ``overload_ratio`` = decisions/s during the feed / max1
           (and whether every request was decided afterwards)
steady_split    ``steady`` in the ``split`` layout: ``p99_ms_at_100_split``
overload_split  ``overload`` in the ``split`` layout, at 2 x split's decisions/s (runs ``split`` first if it
           was not asked for): ``overload_split_ratio`` = decisions/s during the feed / split's, and
           ``overload_split_all_decided``. The views worker's lower priority is what lets booking keep the CPU
           while input outruns the hub: the views catch up after the feed (docs/deploy.md, "Worker layout")
bulk       a 100,000-shift HealthRoster export through the real file-drop connector
           (``rosterhub connect healthroster --once``; files under ``max_file_bytes``, disjoint duty ids) while
           50 requests/s flow: ``bulk_shifts_per_s`` (the export's posted shifts seen on ``views.availability``,
           distinct by key, per second from connector start) and ``bulk_p99_ms`` (the requests' p99)
identity   an ESR full refresh of 10,000 staff through ``rosterhub connect esr --once``:
           ``esr_refresh_10k_s`` (connector start -> identity-in and passport-in consumed by the
           workers) and ``identity_records_per_s`` (identity-in records / that time)
=========  ==========================================================================================

``load_average`` is the 1-minute load average before and after: on a shared machine the absolute
figures move with it, the ratios much less (docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

import booking_bench as bb  # noqa: E402
import hop_ceiling as hc  # noqa: E402

from rosterhub.connectors.simulators.healthroster import HealthRosterSimulator  # noqa: E402
from rosterhub.kafka.access import KafkaAccess  # noqa: E402

PARTS = ("ceiling", "max1", "max2", "split", "steady", "overload", "steady_split", "overload_split", "bulk", "identity")
#: shifts per HealthRoster export file: ~520 bytes a shift keeps a file under the connector's 1 MiB
#: ``max_file_bytes`` (a file is kept whole as one raw record, and Kafka's default record limit is 1 MiB)
SHIFTS_PER_FILE = 1_500
#: the first HealthRoster duty id of the bulk export (each file takes the next 2 x SHIFTS_PER_FILE ids)
FIRST_DUTY_ID = 10_000_000
#: payloads per booking request in the workload (a shift, then 1 or 2 requests: 5 payloads per 3 requests)
PAYLOADS_PER_REQUEST = 5 / 3

FULL = {
    "ceiling_records": 20_000,
    "max_payloads": 6_000,
    "steady_s": 300,
    "overload_s": 120,
    "bulk_shifts": 100_000,
    "bulk_s": 180,
    "esr_staff": 10_000,
}
QUICK = {
    "ceiling_records": 3_000,
    "max_payloads": 600,
    "steady_s": 15,
    "overload_s": 15,
    "bulk_shifts": 2_000,
    "bulk_s": 20,
    "esr_staff": 200,
}


#: How long a part waits for decisions after its feed, at most. It stops sooner once 30 s pass without a new
#: decision (``booking_bench.run_load``), so this only has to outlast a backlog that is still being decided:
#: ``overload_all_decided`` then says whether every request was decided, not whether the bench waited long enough
#: (a 120 s cut-off left the overload backlog half decided while decisions were still coming).
DRAIN_S = 1800.0


#: The layout docs/deploy.md suggests: booking with passport (its need) and open-shifts (the worker route, which
#: reads the passport too) on one worker; every other processor, availability among them (it reads no passport),
#: on the other at a lower CPU priority, so that under overload decisions keep the CPU and the views catch up
#: afterwards (#16).
SPLIT: dict[str, Any] = {"workers": 2, "layout": (("booking", "passport", "open-shifts"), ()), "views_nice": 10}


def _cfg(bootstrap: str, log_dir: Path, **kw: Any) -> bb.BenchConfig:
    base = bb.BenchConfig(bootstrap=bootstrap, baseline=False, log_dir=log_dir, drain=DRAIN_S)
    return replace(base, **kw)


def _decision_p99(run: dict[str, Any]) -> float | None:
    return run["latency_from_feed"].get("decision (record time)", {}).get("p99_ms")


def _connector(env: dict[str, str], vendor: str, inbox: Path, trust: str, state: Path) -> float:
    """Run the real file-drop connector once over ``inbox``; seconds it took."""
    run_env = {
        **env,
        "ROSTERHUB_CONNECTORS": json.dumps({vendor: {"inboxes": [{"path": str(inbox), "trust": trust}]}}),
        "ROSTERHUB_STATE_DIR": str(state),
        # the ESR mapping's match-key secret (docs/mapping.md): any value will do for a bench
        "ROSTERHUB_MAPPING_SECRET_ESR_IDENTITY": env.get("ROSTERHUB_MAPPING_SECRET_ESR_IDENTITY", "bench-secret"),
    }
    started = time.monotonic()
    subprocess.run(
        [sys.executable, "-m", "rosterhub", "connect", vendor, "--once"],
        env=run_env,
        cwd=REPO,
        check=True,
        timeout=3600,
        stdout=subprocess.DEVNULL,
        stderr=(state / f"connect-{vendor}.log").open("ab"),
    )
    return time.monotonic() - started


def _count(kafka: KafkaAccess, topic: str) -> int:
    from kafka import KafkaConsumer, TopicPartition

    c = KafkaConsumer(**kafka.kafka_python())
    try:
        tps = [TopicPartition(topic, p) for p in sorted(c.partitions_for_topic(topic) or ())]
        return sum(c.end_offsets(tps).values()) if tps else 0
    finally:
        c.close()


def _consumed(kafka: KafkaAccess, group: str, topics: list[str]) -> bool:
    """The group has committed every record of these topics (what the workers have fully handled)."""
    from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition

    admin = KafkaAdminClient(**kafka.kafka_python())
    c = KafkaConsumer(**kafka.kafka_python())
    try:
        tps = [TopicPartition(t, p) for t in topics for p in sorted(c.partitions_for_topic(t) or ())]
        ends = c.end_offsets(tps)
        done = admin.list_group_offsets(group).get(group, {})
        return all(ends[tp] == 0 or (tp in done and done[tp].offset >= ends[tp]) for tp in tps)
    finally:
        c.close()
        admin.close()


class ViewCounter:
    """Distinct shifts of one export seen on ``views.availability``: its keys are shift ids, and the view may emit a
    shift more than once (a revision) while the booking load's own shifts land there too, so the topic's end offset
    is no count of the export's shifts."""

    def __init__(self, kafka: KafkaAccess, topic: str, vendor: str, duty_ids: set[int]) -> None:
        from kafka import KafkaConsumer, TopicPartition

        self._consumer = KafkaConsumer(**kafka.kafka_python(), enable_auto_commit=False)
        tps = [TopicPartition(topic, p) for p in sorted(self._consumer.partitions_for_topic(topic) or ())]
        self._consumer.assign(tps)
        self._consumer.seek_to_beginning(*tps)
        self._prefix, self._ids, self.seen = f"{vendor}:".encode(), duty_ids, set[int]()

    def poll(self) -> int:
        for records in self._consumer.poll(500, max_records=20_000).values():
            for r in records:
                if r.key and r.key.startswith(self._prefix):
                    tail = r.key.rsplit(b":", 1)[-1]
                    if tail.isdigit() and int(tail) in self._ids:
                        self.seen.add(int(tail))
        return len(self.seen)

    def close(self) -> None:
        self._consumer.close()


def export_files(n_shifts: int, inbox: Path, tmp: Path) -> set[int]:
    """A HealthRoster export of ``n_shifts`` duties written as files of :data:`SHIFTS_PER_FILE`; returns the ids
    of the duties the hub posts (``Send to Bank`` ones are not visible to bank workers yet: the mapping skips
    them, docs/vendors/healthroster.md).

    Each file is its own simulator (one seed each), so each is given its own range of duty ids: left to the seed,
    the ranges of 67 files overlap and a duty id repeats across files, which the hub rightly treats as a
    revision of the same shift rather than a new one (the cause of session 5's short count)."""
    posted: set[int] = set()
    for n, i in enumerate(range(0, n_shifts, SHIFTS_PER_FILE)):
        sim = HealthRosterSimulator(1, seed=i + 1, count=min(SHIFTS_PER_FILE, n_shifts - i), days=60)
        sim._next_id = FIRST_DUTY_ID + n * (2 * SHIFTS_PER_FILE)  # room for the clock-change nights it adds
        sim.step()
        assert not posted & sim.duties.keys(), "duty ids repeat across export files"
        posted |= {d.id for d in sim.duties.values() if d.state != "Send to Bank"}
        for f in sim.export(tmp):
            f.rename(inbox / f"bank_requests_RHQ_{i:07d}{f.suffix}")
    return posted


def bulk_side(kafka: KafkaAccess, n_shifts: int, work: Path) -> Any:
    """A HealthRoster export of ``n_shifts`` (files of :data:`SHIFTS_PER_FILE`) through the file-drop connector,
    timed to the view."""

    def side(env: dict[str, str], prefix: str) -> dict[str, Any]:
        inbox = work / f"hr-{uuid.uuid4().hex[:6]}"
        (inbox / "RHQ").mkdir(parents=True)
        posted = export_files(n_shifts, inbox / "RHQ", work / "tmp")
        counter = ViewCounter(kafka, prefix + "views.availability", "healthroster", posted)
        try:
            started = time.monotonic()
            connector_s = _connector(env, "healthroster", inbox / "RHQ", "RHQ", inbox)  # own state: new each run
            failed = sorted((inbox / "RHQ" / "failed").glob("*.report.json"))
            if failed:  # the view would never fill: say why at once rather than wait for the deadline
                reason = json.loads(failed[0].read_text())["reason"]
                raise RuntimeError(f"{len(failed)} export files failed, e.g. {failed[0].name[:-12]}: {reason}")
            deadline = time.monotonic() + 1800
            while counter.poll() < len(posted) and time.monotonic() < deadline:
                pass
            took = time.monotonic() - started
        finally:
            counter.close()
        return {
            "shifts": n_shifts,
            "posted": len(posted),
            "in_view": len(counter.seen),
            "seconds": round(took, 1),
            "connector_s": round(connector_s, 1),
        }

    return side


def esr_side(kafka: KafkaAccess, staff: int, work: Path, group: str) -> Any:
    """An ESR full refresh of ``staff`` people through the file-drop connector, timed until identity and the
    passport have consumed everything it produced."""

    def side(env: dict[str, str], prefix: str) -> dict[str, Any]:
        from rosterhub.connectors.simulators.esr import EsrSimulator

        inbox = work / f"esr-{uuid.uuid4().hex[:6]}"
        sim = EsrSimulator(1, seed=3, count=staff)
        sim.force_refresh()
        sim.step()
        trust = next(iter(sim.esr))
        files = sim.export(work / "esr-out")
        (inbox / trust).mkdir(parents=True)
        for f in files:
            f.rename(inbox / trust / f.name)
        identity_in = prefix + "_rosterhub.identity-in"
        started = time.monotonic()
        connector_s = _connector(env, "esr", inbox / trust, trust, inbox)  # own state: a seeded file is new to each run
        topics = [identity_in, prefix + "_rosterhub.passport-in"]
        deadline = time.monotonic() + 3600
        while not _consumed(kafka, group, topics) and time.monotonic() < deadline:
            time.sleep(1)
        took = time.monotonic() - started
        records = _count(kafka, identity_in)
        return {
            "staff": staff,
            "identity_in_records": records,
            "seconds": round(took, 1),
            "connector_s": round(connector_s, 1),
        }

    return side


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="small sizes (a smoke run)")
    ap.add_argument("--only", default=",".join(PARTS), help=f"comma-separated parts of {PARTS}")
    ap.add_argument("--json-out", type=Path, default=REPO / "bench" / "results" / "latest.json")
    ap.add_argument(
        "--views-nice",
        type=int,
        default=SPLIT["views_nice"],
        help="nice increment of the split layout's views worker (0: the same priority as booking's, a control run)",
    )
    ap.add_argument(
        "--size", action="append", default=[], metavar="NAME=N", help=f"override one size of {sorted(FULL)}"
    )
    ap.add_argument(
        "--setting",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a hub setting for every worker of the run (an A/B run, e.g. booking_admission_waiting=1000)",
    )
    args = ap.parse_args()
    parts = [p for p in args.only.split(",") if p]
    split = {**SPLIT, "views_nice": args.views_nice}
    sizes = dict(QUICK if args.quick else FULL)
    for item in args.size:
        name, _, value = item.partition("=")
        if name not in sizes:
            ap.error(f"--size {item}: no size {name!r} (one of {sorted(sizes)})")
        sizes[name] = int(value)
    worker_env = {f"ROSTERHUB_{n.upper()}": v for n, _, v in (item.partition("=") for item in args.setting)}

    from rosterhub.kafka.resolve import resolve_broker
    from rosterhub.settings import load_settings

    kafka = resolve_broker(load_settings(), keep_running=True).access
    bootstrap = kafka.bootstrap_servers
    work = Path(tempfile.gettempdir()) / "rosterhub-bench" / "issue16"
    work.mkdir(parents=True, exist_ok=True)
    out: dict[str, Any] = {
        "machine": bb.machine(),
        "quick": args.quick,
        "sizes": sizes,
        "views_nice": args.views_nice,
        "worker_settings": worker_env,
        "details": {},
    }
    load = [os.getloadavg()[0]]
    details = out["details"]
    config = partial(_cfg, bootstrap, work, worker_env=worker_env)

    def note(key: str, value: Any) -> None:
        out[key] = value
        print(f"{key}: {value}", flush=True)

    if "ceiling" in parts:
        rows = hc.run(
            bootstrap, sizes["ceiling_records"], ("faust", "faust@drain/uvloop/linger=5"), False, work / "ceiling"
        )["rows"]
        details["ceiling"] = rows
        note("hop_ceiling_per_s", rows["faust"]["per_s"])
    if "max1" in parts or "overload" in parts:
        run = bb.run_load(config(rate=0, max_payloads=sizes["max_payloads"]), 0, uuid.uuid4().hex[:8])
        details["max1"] = run
        note("max_sustained_decisions_per_s", run["decisions_per_s_overall"] if run["decided"] else None)
        note("hops_per_decision", run["hops_per_decision"]["median"])
    if "max2" in parts and details.get("max1"):
        cfg = config(rate=0, max_payloads=sizes["max_payloads"], workers=2)
        run = bb.run_load(cfg, 0, uuid.uuid4().hex[:8])
        details["max2"] = run
        note("two_worker_ratio", bb._ratio(run["decisions_per_s_overall"], details["max1"]["decisions_per_s_overall"]))
    if "split" in parts or "overload_split" in parts:
        cfg = config(rate=0, max_payloads=sizes["max_payloads"], **split)
        run = bb.run_load(cfg, 0, uuid.uuid4().hex[:8])
        details["split"] = run
        note("split_decisions_per_s", run["decisions_per_s_overall"] if run["decided"] else None)
        note("split_decisions_by_outcome", run["decisions_by_outcome"])  # a run that only rejects shows it (#16)
        if details.get("max1"):
            note("split_ratio", bb._ratio(run["decisions_per_s_overall"], details["max1"]["decisions_per_s_overall"]))
    for suffix, layout, top_part in (("", {}, "max1"), ("_split", split, "split")):
        if f"steady{suffix}" in parts:
            rate = round(100 * PAYLOADS_PER_REQUEST)
            cfg = config(rate=rate, duration=sizes["steady_s"], **layout)
            run = bb.run_load(cfg, rate, uuid.uuid4().hex[:8])
            details[f"steady{suffix}"] = run
            note(f"p99_ms_at_100{suffix}", _decision_p99(run))
        if f"overload{suffix}" in parts and details.get(top_part):
            top = details[top_part]["decisions_per_s_overall"]
            rate = max(1, round(2 * top * PAYLOADS_PER_REQUEST))
            cfg = config(rate=rate, duration=sizes["overload_s"], **layout)
            run = bb.run_load(cfg, rate, uuid.uuid4().hex[:8])
            details[f"overload{suffix}"] = run
            note(f"overload{suffix}_ratio", bb._ratio(run["decisions_per_s_during_feed"], top))
            note(f"overload{suffix}_all_decided", run["decided"] == run["requests_fed"])
    if "bulk" in parts:
        rate = round(50 * PAYLOADS_PER_REQUEST)
        cfg = config(rate=rate, duration=sizes["bulk_s"])
        run = bb.run_load(cfg, rate, uuid.uuid4().hex[:8], side=bulk_side(kafka, sizes["bulk_shifts"], work))
        details["bulk"] = run
        side = run.get("side") or {}
        note("bulk_shifts_per_s", round(side["in_view"] / side["seconds"]) if side.get("seconds") else None)
        note("bulk_p99_ms", _decision_p99(run))
    if "identity" in parts:
        token = uuid.uuid4().hex[:8]
        cfg = config(rate=1, duration=5, people_per_trust=0)
        run = bb.run_load(cfg, 1, token, side=esr_side(kafka, sizes["esr_staff"], work, f"rosterhub-bench-{token}"))
        side = run.get("side") or {}
        details["identity"] = side
        secs = side.get("seconds")
        note("esr_refresh_10k_s", round(secs * 10_000 / side["staff"], 1) if secs else None)
        note("identity_records_per_s", round(side["identity_in_records"] / secs) if secs else None)
    load.append(os.getloadavg()[0])
    note("load_average", [round(x, 2) for x in load])
    ceiling = out.get("hop_ceiling_per_s")
    if ceiling:
        out["ratios"] = {
            "decisions_over_hop": bb._ratio(out.get("max_sustained_decisions_per_s"), ceiling),
            "bulk_over_hop": bb._ratio(out.get("bulk_shifts_per_s"), ceiling),
            "identity_over_hop": bb._ratio(out.get("identity_records_per_s"), ceiling),
        }
        out["targets"] = {
            "decisions_over_hop": 0.15,
            "p99_ms_at_100": 250,
            "overload_ratio": 0.8,
            "overload_split_ratio": 0.8,
            "p99_ms_at_100_split": 250,
            "bulk_over_hop": 0.3,
            "bulk_p99_ms": 1000,
            "two_worker_ratio": 1.3,
            "identity_over_hop": 0.3,
            "esr_refresh_10k_s": 60,
            "hops_per_decision": 3,
        }
    args.json_out.parent.mkdir(parents=True, exist_ok=True)
    args.json_out.write_text(json.dumps(out, indent=2, default=str))
    print(json.dumps({k: v for k, v in out.items() if k != "details"}, indent=2, default=str))


if __name__ == "__main__":
    main()
