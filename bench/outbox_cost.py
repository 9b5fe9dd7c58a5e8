"""The outbox's cost (decision 0013): booking decisions with the shift stage keeping the records it sent for its
last inputs (``streams/outbox.py`` ``KEPT`` = 4) against the same worker with the outbox off (``KEPT`` = 0).

    .venv/bin/python bench/outbox_cost.py --payloads 3000 --rounds 2

One broker of its own (the local KRaft broker, own data folder and ports); each round runs both variants, one
after the other and in alternating order (A B, B A, ...), each on fresh topics with a fresh worker: the booking
bench's ``run_load`` flat out (``premapped`` payloads: a shift, then one or two requests from registered
nurses). Reported per run: decisions/s (overall, feed start to last decision) and the worker's CPU ms per
decision; then the medians per variant and their ratio. The variant is set in the worker process by
``bench/outbox_kept/sitecustomize.py`` (on its ``PYTHONPATH``), so the hub has no setting for it.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

import booking_bench as bb  # noqa: E402
import soak  # noqa: E402

VARIANTS = {"kept_4": 4, "kept_0": 0}


def run(*, payloads: int, rounds: int, log_dir: Path) -> dict[str, Any]:
    log_dir.mkdir(parents=True, exist_ok=True)
    runs: list[dict[str, Any]] = []
    with soak._broker(log_dir) as broker:
        bootstrap = broker.access.bootstrap_servers
        for n in range(rounds):
            order = list(VARIANTS) if n % 2 == 0 else list(reversed(VARIANTS))
            for name in order:
                cfg = bb.BenchConfig(
                    bootstrap=bootstrap,
                    baseline=False,
                    log_dir=log_dir,
                    max_payloads=payloads,
                    duration=3600,
                    drain=600,
                    warmup=0,
                    worker_env={
                        "PYTHONPATH": f"{REPO / 'bench' / 'outbox_kept'}:{REPO}",
                        "ROSTERHUB_BENCH_OUTBOX_KEPT": str(VARIANTS[name]),
                    },
                )
                r = bb.run_load(cfg, 0, uuid.uuid4().hex[:10])
                runs.append(
                    {
                        "variant": name,
                        "round": n,
                        "requests_fed": r["requests_fed"],
                        "decided": r["decided"],
                        "decisions_per_s": r["decisions_per_s_overall"],
                        "worker_cpu_ms_per_decision": r["worker_cpu_ms_per_decision"],
                        "load_average_before_after": r["load_average_before_after"],
                    }
                )
                print(json.dumps(runs[-1]), flush=True)
    summary: dict[str, Any] = {}
    for name in VARIANTS:
        mine = [r for r in runs if r["variant"] == name]
        summary[name] = {
            "decisions_per_s": statistics.median(r["decisions_per_s"] for r in mine),
            "worker_cpu_ms_per_decision": statistics.median(r["worker_cpu_ms_per_decision"] for r in mine),
        }
    a, b = summary["kept_4"], summary["kept_0"]
    summary["kept_4_over_kept_0"] = {
        "decisions_per_s": round(a["decisions_per_s"] / b["decisions_per_s"], 3),
        "worker_cpu_ms_per_decision": round(a["worker_cpu_ms_per_decision"] / b["worker_cpu_ms_per_decision"], 3),
    }
    return {"payloads": payloads, "rounds": rounds, "runs": runs, "summary": summary}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--payloads", type=int, default=3000)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--log-dir", type=Path, default=Path(tempfile.gettempdir()) / "rosterhub-bench" / "outbox")
    ap.add_argument("--json-out", type=Path)
    args = ap.parse_args()
    report = run(payloads=args.payloads, rounds=args.rounds, log_dir=args.log_dir / time.strftime("%Y%m%dT%H%M%S"))
    print(json.dumps(report["summary"], indent=2))
    if args.json_out:
        args.json_out.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
