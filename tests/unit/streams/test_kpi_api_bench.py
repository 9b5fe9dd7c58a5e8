"""Smoke test of bench/kpi_api_bench.py: the harness builds a read model and every question answers (no timing)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import uvicorn

from rosterhub.auth.issuer import LocalIssuer
from tests.support import free_port, load_bench


def test_the_api_bench_builds_a_year_and_asks_every_question(tmp_path: Path) -> None:
    bench = load_bench("kpi_api_bench")
    store, model = bench.build(trusts=3, per_day=2, month="2026-11", seed=1)
    assert model["shifts"] == 3 * 2 * 365 and len(store) == model["shifts"] and len(store.blocks) >= 12
    issuer = LocalIssuer(tmp_path / "issuer")
    app = bench.api_app(store, issuer)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=free_port(), log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    try:
        url = f"http://127.0.0.1:{server.config.port}"
        result = bench.ask(url, store, app.state.kpi.answers, "2026-11", 2, 1, issuer)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
    assert result["overall"]["n"] == 2 * 2 * len(bench.QUESTIONS) and result["change_to_fresh_answers"]["n"] == 2
