"""KPI API latency and memory over a year of ten trusts' history (about 2 million shifts).

    .venv/bin/python bench/kpi_api_bench.py                          # the target: 12 months x 10 trusts, ~2 M
    .venv/bin/python bench/kpi_api_bench.py --shifts-per-day 40      # a smoke run (~146,000 shifts)

What it does, in one process:

1. builds the read model the API serves (:class:`rosterhub.streams.kpi.store.KpiStore`) from generated
   ShiftKpi records, as the view follower would apply them: ``--trusts`` trusts of two collaboratives for the
   12 months to the end of ``--month``, ``--shifts-per-day`` shifts per trust per day (550 gives ~2 million),
   with fills (bank and agency, some over the cap, break glass), cancellations, no-shows and refusals;
   reports the resident memory the model takes (RSS after, less RSS before) and the build rate;
2. serves the real /kpi routes with uvicorn on a free port and asks what the dashboard asks when it opens and
   on every change, as a programme manager and as a workforce lead: summary of the month, weekly and monthly
   trends, splits by trust and staff group, migration matrix, open shifts now, drill-down, the charts;
   a warm-up round, then ``--rounds`` rounds, each after one live change to the current month (a new revision
   of a shift) and the refresh of the answers it makes stale, as a live page refetches after /kpi/stream;
3. reports p50 / p95 / p99 / max per route and overall after the warm-up round (wall clock, client side, HTTP
   included), each route's first (cold) request, and how long after a change the held answers are fresh
   again (:mod:`rosterhub.streams.kpi.answers`), with the machine's load average. Target (issue 13): p99 < 50 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

GROUPS = (
    "NURSING_MIDWIFERY_REGISTERED",
    "ADDITIONAL_CLINICAL_SERVICES",
    "MEDICAL_DENTAL",
    "ALLIED_HEALTH_PROFESSIONALS",
)
GRADES = ("BAND_3", "BAND_5", "BAND_6", "ST3_5")
TYPES = ("DAY", "LONG_DAY", "NIGHT", "WEEKEND", "BANK_HOLIDAY")
TIERS = ("OWN_BANK", "COLLABORATIVE_BANK", "AGENCY_TIER_1", "AGENCY_TIER_2")


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def record(rng: random.Random, n: int, trust: str, collab: str, trusts: list[str], day: date) -> dict[str, Any]:
    start = datetime(day.year, day.month, day.day, 8, tzinfo=UTC) + timedelta(minutes=rng.randrange(0, 720))
    minutes = rng.choice((450, 480, 690, 720))
    filled = rng.random() < 0.8
    fill = None
    if filled:
        tier = rng.choice(TIERS)
        agency = tier.startswith("AGENCY") and rng.random() < 0.6
        rate = Decimal(rng.choice(("21.40", "26.10", "30.00", "48.00")))
        cap = Decimal("23.76") if agency else None
        fill = {
            "booking_id": f"b-{n}",
            "tier": tier,
            "membership": "AGENCY" if agency else "BANK",
            "home_trust": None if agency else rng.choice(trusts),
            "person_id": f"p-{trust}-{rng.randrange(3000)}",
            "filled_at": start - timedelta(hours=rng.randrange(1, 300)),
            "time_to_fill_s": rng.randrange(600, 900_000),
            "hourly_rate": rate,
            "cost": (rate * minutes / 60).quantize(Decimal("0.01")),
            "price_cap_rate": cap,
            "above_cap": max(Decimal(0), (rate - cap) * minutes / 60).quantize(Decimal("0.01")) if cap else Decimal(0),
            "framework_approved": (rng.random() < 0.9) if agency else None,
            "break_glass": agency and rng.random() < 0.05,
            "break_glass_authoriser": f"{trust}-user-1" if agency else None,
            "no_show": rng.random() < 0.01,
            "moonlighting": agency and rng.random() < 0.02,
            "savings": None if agency else Decimal("25.20"),
        }
    return {
        "shift_id": f"s-{n}",
        "revision": 1,
        "collaborative": collab,
        "host_trust": trust,
        "site": trust + "01",
        "ward": f"{trust} ward {rng.randrange(12)}",
        "staff_group": rng.choice(GROUPS),
        "grade": rng.choice(GRADES),
        "shift_type": "DAY",
        "day_kind": "WEEKDAY",
        "kpi_shift_type": rng.choice(TYPES),
        "day": day,
        "start": start,
        "end": start + timedelta(minutes=minutes),
        "paid_minutes": minutes,
        "posted": True,
        "posted_at": start - timedelta(days=10),
        "withdrawn": rng.random() < 0.03,
        "tier": rng.choice(TIERS),
        "fill": fill,
        "cancellations": [{"booking_id": f"c-{n}", "late": rng.random() < 0.3, "cancelled_by": "WORKER"}]
        if rng.random() < 0.05
        else [],
        "no_shows": [],
        "rejections": [{"booking_id": f"r-{n}", "reason_codes": [rng.choice(("GRADE_MISMATCH", "NO_OVERLAP"))]}]
        if rng.random() < 0.2
        else [],
        "cleared": [],
    }


def build(trusts: int, per_day: int, month: str, seed: int) -> tuple[Any, dict[str, Any]]:
    from rosterhub.streams.kpi.query import period_of
    from rosterhub.streams.kpi.store import KpiStore

    rng = random.Random(seed)
    names = [f"R{i:02d}" for i in range(trusts)]
    collabs = {t: ("collab-a" if i < (trusts + 1) // 2 else "collab-b") for i, t in enumerate(names)}
    _, end = period_of(month)
    start = end - timedelta(days=365)
    store = KpiStore()
    before = rss_mb()
    started = time.perf_counter()
    n = 0
    day = start
    while day < end:
        for trust in names:
            members = [t for t in names if collabs[t] == collabs[trust]]
            for _ in range(per_day):
                n += 1
                store.apply("rosterhub.kpi.v1.ShiftKpi", record(rng, n, trust, collabs[trust], members, day))
        day += timedelta(days=1)
    seconds = time.perf_counter() - started
    store.ready = True
    after = rss_mb()
    return store, {
        "shifts": n,
        "trusts": trusts,
        "months": 12,
        "build_seconds": round(seconds, 1),
        "build_per_s": round(n / seconds),
        "rss_before_mb": round(before),
        "rss_after_mb": round(after),
        "model_mb": round(after - before),
        "bytes_per_shift": round((after - before) * 1024 * 1024 / n),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }


QUESTIONS = (
    ("summary", "/kpi/summary", {}),
    ("series week", "/kpi/series", {"grain": "week", "year": True}),
    ("series month", "/kpi/series", {"grain": "month", "year": True}),
    ("split trust", "/kpi/split", {"by": "trust"}),
    ("split staff_group", "/kpi/split", {"by": "staff_group"}),
    ("migration", "/kpi/migration", {}),
    ("open", "/kpi/open", {}),
    ("shifts", "/kpi/shifts", {"metric": "agency", "limit": 200}),
    ("chart trend_fill", "/kpi/charts/trend_fill", {}),
    ("chart trend_spend", "/kpi/charts/trend_spend", {}),
    ("chart migration", "/kpi/charts/migration", {}),
    ("chart agency_vs_cap", "/kpi/charts/agency_vs_cap", {}),
)


def ask(url: str, store: Any, answers: Any, month: str, rounds: int, seed: int, issuer: Any) -> dict[str, Any]:
    """A warm-up round (every question's first, computed at request time), then ``rounds`` rounds of: one live
    change in the current month, the wait until the held answers are refreshed (what a live page waits for
    before it refetches), every question as a programme manager and as a workforce lead."""
    import httpx

    from rosterhub.streams.kpi.query import period_of

    _, end = period_of(month)
    year = {"from": (end - timedelta(days=365)).isoformat(), "to": end.isoformat()}
    from rosterhub.auth.roles import Role

    pm = {"Authorization": "Bearer " + issuer.mint("pm", [Role.PROGRAMME_MANAGER], collaborative="collab-a")}
    lead = {"Authorization": "Bearer " + issuer.mint("wl", [Role.WORKFORCE_LEAD], trust="R00")}
    rng = random.Random(seed)
    times: dict[str, list[float]] = {}
    first: dict[str, float] = {}
    refresh: list[float] = []
    client = httpx.Client(base_url=url, timeout=60)
    current = store.blocks[max(store.blocks)]

    def questions(record: dict[str, Any]) -> None:
        for who, headers in (("pm", pm), ("lead", lead)):
            for name, path, extra in QUESTIONS:
                params = {k: v for k, v in extra.items() if k != "year"}
                params.update(year if extra.get("year") else {"period": month})
                began = time.perf_counter()
                answer = client.get(path, params=params, headers=headers)
                took = (time.perf_counter() - began) * 1000
                assert answer.status_code == 200, (path, answer.status_code, answer.text[:200])
                record.setdefault(f"{who} {name}", []).append(took)

    cold: dict[str, list[float]] = {}
    questions(cold)
    first = {k: v[0] for k, v in cold.items()}
    for _ in range(rounds):
        # A live change in the current month (a new revision of one of its shifts): its cached partials go stale.
        before = answers.version
        changed = time.perf_counter()
        current.col("revision")[rng.randrange(current.rows.n)] += 1
        current.version += 1
        store.version += 1
        while answers.version == before or not answers.fresh:
            time.sleep(0.002)
        refresh.append((time.perf_counter() - changed) * 1000)
        questions(times)
    client.close()
    every = [t for ts in times.values() for t in ts]

    def stats(ts: list[float]) -> dict[str, float]:
        ts = sorted(ts)
        return {
            "n": len(ts),
            "p50_ms": round(statistics.median(ts), 2),
            "p95_ms": round(ts[max(0, -(-95 * len(ts) // 100) - 1)], 2),
            "p99_ms": round(ts[max(0, -(-99 * len(ts) // 100) - 1)], 2),
            "max_ms": round(ts[-1], 2),
        }

    return {
        "overall": stats(every),
        "routes": {k: stats(v) for k, v in times.items()},
        "first_request_ms": {k: round(v, 1) for k, v in first.items()},
        "change_to_fresh_answers": stats(refresh),
    }


def api_app(store: Any, issuer: Any) -> Any:
    """The /kpi routes over ``store``, verifying ``issuer``'s tokens as the hub's app does (``app.state.kpi``)."""
    from fastapi import FastAPI

    from rosterhub.auth.tokens import TokenVerifier
    from rosterhub.auth.web import Access, install_access
    from rosterhub.codec.catalogue import default_catalogue
    from rosterhub.codec.wire import SingleObjectCodec
    from rosterhub.kafka.access import KafkaAccess
    from rosterhub.runtime import TopicNames
    from rosterhub.settings import Settings
    from rosterhub.streams.kpi.api import kpi_router

    router, service = kpi_router(
        KafkaAccess("127.0.0.1:9"), TopicNames(), SingleObjectCodec(default_catalogue()), store
    )
    app = FastAPI()
    install_access(app, Access(TokenVerifier.from_settings(Settings(auth_issuers=[issuer.accepted()])), "bench"))
    app.include_router(router)
    app.state.kpi = service
    return app


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--trusts", type=int, default=10)
    ap.add_argument("--shifts-per-day", type=int, default=550, help="per trust per day (550: ~2 million in a year)")
    ap.add_argument("--month", default="2026-11", help="the last month of the year of history (the dashboard's)")
    ap.add_argument("--rounds", type=int, default=40)
    ap.add_argument("--seed", type=int, default=3)
    ap.add_argument("--json-out", type=Path)
    args = ap.parse_args()

    import uvicorn

    from rosterhub.auth.issuer import LocalIssuer
    from tests.support import free_port

    store, model = build(args.trusts, args.shifts_per_day, args.month, args.seed)
    issuer = LocalIssuer(Path(tempfile.mkdtemp(prefix="kpi-bench-issuer-")))
    app = api_app(store, issuer)
    service = app.state.kpi
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    try:
        latencies = ask(f"http://127.0.0.1:{port}", store, service.answers, args.month, args.rounds, args.seed, issuer)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
    report = {
        "model": model,
        "latency": latencies,
        "load_avg": os.getloadavg(),
        "rss_end_mb": round(rss_mb()),
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    print(json.dumps(report, indent=2))
    if args.json_out:
        args.json_out.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
