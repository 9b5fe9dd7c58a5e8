"""The dashboard in a real browser: Debian's headless chromium, driven by selenium through chromium-driver.

The hub runs for real: the broker, a worker with the KPI processor, and the HTTP app (ingress, /kpi API,
dashboard) in a thread. A generated month of traffic is on the topics before the page opens. The test

* checks the figures on the page against the API's answers for the same filters;
* posts a shift through the Patchwork connector (a signed webhook to the ingress) and then a fill as the
  booking processor writes it, and sees the page change without a reload (server-sent events);
* saves a screenshot (``ROSTERHUB_SCREENSHOT``, when set, gets a copy: docs/dashboard.png is made so).

No browser, no pass: the fixture installs chromium and chromium-driver with tools/system-packages when they
are missing and FAILS when it cannot.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

from rosterhub.api import create_api
from rosterhub.auth.roles import Role
from rosterhub.connectors.registry import connectors
from rosterhub.connectors.simulators.patchwork import shift_created, signed_headers
from rosterhub.envelope import Envelope
from rosterhub.instants import LONDON
from rosterhub.kafka.admin import ensure_topics
from rosterhub.kafka.resolve import Resolved
from rosterhub.runtime import TopicNames
from rosterhub.settings import Settings
from rosterhub.topics import declared_topics
from tests.auth_support import Tokens
from tests.integration.helpers import produce_events, serve_in_thread, wait_for, worker_process
from tests.kpi_traffic import generate
from tests.support import free_port

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
SECRET = "browser-test-secret"
COLLAB = "south-yorkshire-bassetlaw"
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1500,2300",
)


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[webdriver.Chrome]:
    if not (Path("/usr/bin/chromium").exists() and Path("/usr/bin/chromedriver").exists()):
        done = subprocess.run(
            [str(REPO / "tools/system-packages"), "browser"], check=False, capture_output=True, text=True
        )
        if done.returncode:
            pytest.fail(f"no browser for the dashboard test and none could be installed: {done.stderr}", pytrace=False)
    options = Options()
    options.binary_location = "/usr/bin/chromium"
    for flag in (*FLAGS, f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}"):
        options.add_argument(flag)
    try:
        driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    except Exception as exc:  # selenium's errors say why chromium did not start
        pytest.fail(f"chromium did not start: {exc}", pytrace=False)
    driver.set_script_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


def _tiles(driver: webdriver.Chrome) -> dict[str, str]:
    """Every headline tile's raw value, read in one go (the page redraws its tiles on every change)."""
    return driver.execute_script(
        "return Object.fromEntries([...document.querySelectorAll('#headline .tile')]"
        ".map(t => [t.dataset.kpi, t.querySelector('.value').dataset.raw]))"
    )


def _number(text: str) -> float | None:
    return None if text in ("", "null") else float(text)


def test_the_dashboard_shows_the_apis_figures_and_follows_a_fill_live(
    kafka: Resolved, tmp_path: Path, browser: webdriver.Chrome
) -> None:
    unique = os.urandom(5).hex()
    tokens = Tokens(tmp_path / "issuer")
    pm_token = tokens.issuer.mint("pm-1", [Role.PROGRAMME_MANAGER], collaborative=COLLAB)
    settings = Settings(
        kafka_bootstrap_servers=kafka.bootstrap,
        topic_prefix=f"t{unique}.",
        app_id=f"rosterhub-test-{unique}",
        state_dir=tmp_path / "state",
        default_partitions=3,
        webhook_secrets={"patchwork": {"RHQ": SECRET}},  # RHQ's own signing secret
        auth_issuers=[tokens.issuer.accepted()],
    )
    names = TopicNames(settings.topic_prefix)
    ensure_topics(
        kafka.access,
        declared_topics(connectors(), settings.topic_prefix),
        default_partitions=3,
        replication_factor=1,
    )
    produce_events(kafka.bootstrap, names, generate(seed=7, shifts_per_trust_day=4, people_per_trust=20).delivered())
    port = free_port()
    with (
        worker_process(settings, tmp_path / "worker.log", ROSTERHUB_WORKER_PROCESSORS=["kpi"], **tokens.env()),
        serve_in_thread(create_api(settings, kafka.access), port) as url,
    ):
        api = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {pm_token}"}, timeout=30)

        def summary() -> dict | None:
            answer = api.get("/kpi/summary", params={"period": "2026-10"})
            return answer.json() if answer.status_code == 200 and answer.json()["shifts_posted"] > 300 else None

        wait_for(summary, timeout=300, what="the KPI view of the generated month")
        time.sleep(3)  # let the worker finish the backlog, so the page and the API see the same figures
        browser.get(f"{url}/dashboard?period=2026-10#token={pm_token}")
        wait_for(lambda: _tiles(browser).get("shifts_posted"), timeout=60, what="the headline tiles")
        wait_for(lambda: browser.find_elements(By.CSS_SELECTOR, "#chart-migration svg"), timeout=60, what="charts")
        wait_for(lambda: browser.find_element(By.ID, "live").get_attribute("data-state") == "live", timeout=30)

        # 1. The page's figures are the API's.
        expected = summary()
        assert expected is not None
        tiles = wait_for(
            lambda: (t := _tiles(browser)) and _number(t["shifts_posted"]) == expected["shifts_posted"] and t,
            timeout=30,
            what="page = API",
        )
        for key in ("shifts_posted", "shifts_unfilled", "break_glass", "no_shows", "cross_trust_fills"):
            assert _number(tiles[key]) == expected[key], key
        for key in ("fill_rate", "bank_share", "agency_share"):
            assert _number(tiles[key]) == pytest.approx(expected[key]), key
        for key in ("agency_spend", "spend_above_cap", "savings"):
            assert tiles[key] == expected[key], key
        assert _number(tiles["time_to_fill.p50_s"]) == expected["time_to_fill"]["p50_s"]
        browser.execute_script("document.querySelector('#headline a[data-metric=\"break_glass\"]').click()")
        wait_for(lambda: browser.find_elements(By.CSS_SELECTOR, "#drill-table td"), timeout=30, what="drill-down")
        assert "Never Shown" not in browser.page_source  # names are never shown

        # 2. A shift through the Patchwork connector: the page counts it without a reload.
        before_posted, before_filled = expected["shifts_posted"], expected["shifts_filled"]
        marker = browser.execute_script("window.__sameDocument = 'yes'; return window.__sameDocument")
        start = datetime(2026, 10, 20, 7, 30, tzinfo=LONDON)
        payload = shift_created("ui-990001", "RHQ", start, 12.5, grade="Band 5", ward="Ward 9")
        body = json.dumps(payload).encode()
        posted = httpx.post(
            f"{url}/ingest/patchwork",
            content=body,
            headers=signed_headers(SECRET.encode(), body),
            timeout=30,
        )
        assert posted.status_code in (200, 202), posted.text
        wait_for(
            lambda: _number(_tiles(browser)["shifts_posted"]) == before_posted + 1,
            timeout=30,
            what="the posted shift on the page",
        )

        # 3. The booking processor fills it: the page shows the fill, live.
        shift_id = "patchwork:RHQ:ui-990001"
        fill = Envelope(
            "rosterhub.booking.v1.ShiftFilled",
            "/rosterhub/booking",
            {
                "shift_id": shift_id,
                "booking_id": "patchwork:RHQ:bk-ui-1",
                "worker": {"person_id": "p-ui-1", "identifiers": [], "display_name": "Never Shown"},
                "host_trust": {"ods_code": "RHQ", "name": None},
                "home_trust": {"ods_code": "RCU", "name": None},
                "staff_group": "NURSING_MIDWIFERY_REGISTERED",
                "shift_type": "LONG_DAY",
                "tier": "OWN_BANK",
                "membership_type": "BANK",
                "start": start,
                "end": start + timedelta(hours=12.5),
                "filled_at": datetime.now(UTC),
                "hourly_rate": None,
                "passport_cleared": True,
            },
        )
        fed = time.monotonic()
        produce_events(kafka.bootstrap, names, [("booking", shift_id, fill)])
        wait_for(
            lambda: _number(_tiles(browser)["shifts_unfilled"]) == _number(tiles["shifts_unfilled"]),
            timeout=30,
            interval=0.1,
            what="the fill on the page",
        )
        seen_after = time.monotonic() - fed
        after = summary()
        assert after is not None and after["shifts_filled"] == before_filled + 1
        assert browser.execute_script("return window.__sameDocument") == marker  # no reload happened
        print(f"fill on the page {seen_after:.2f} s after it was produced")

        shot = tmp_path / "dashboard.png"
        browser.execute_script("document.getElementById('drill').hidden = true; window.scrollTo(0, 0)")
        assert browser.save_screenshot(str(shot)) and shot.stat().st_size > 10_000
        if os.environ.get("ROSTERHUB_SCREENSHOT"):
            shutil.copy(shot, os.environ["ROSTERHUB_SCREENSHOT"])
