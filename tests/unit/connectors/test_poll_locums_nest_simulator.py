"""The simulated Locum's Nest-style platform the polling transport is tested against: feed format,
cursor and pagination, auth, rate limit, faults, traffic realism, and the outbound endpoints."""

from __future__ import annotations

import json
import re
import time
from collections import Counter
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from rosterhub.connectors.simulators.locums_nest import LocumsNestSimulator
from rosterhub.mapping.engine import find_mapping, load_mapping

GRADES = set(load_mapping(find_mapping("locums_nest")).codelists["grade"].entries)


def client(sim: LocumsNestSimulator) -> TestClient:
    return TestClient(sim.app)


def feed(c: TestClient, sim: LocumsNestSimulator, ods: str = "RXX", **params: Any) -> Any:
    return c.get(
        "/api/v2/changes",
        params={"organisation": ods, **params},
        headers={"Authorization": f"Bearer {sim.key_for(ods)}"},
    )


def test_pages_cover_every_change_once_in_order_then_stay_at_the_end() -> None:
    sim = LocumsNestSimulator(["RXX"], seed=1, initial_changes=11)
    c, seen, cursor = client(sim), [], None
    while True:
        r = feed(c, sim, limit=4, **({"cursor": cursor} if cursor else {}))
        assert r.status_code == 200 and r.headers["content-type"] == "application/json; charset=utf-8"
        body = r.json()
        assert body["object"] == "change_list" and body["organisation"]["ods_code"] == "RXX"
        assert (r.headers["x-next-cursor"], r.headers["x-has-more"]) == (
            body["next_cursor"],
            str(body["has_more"]).lower(),
        )
        seen += [ch["change_id"] for ch in body["changes"]]
        cursor = body["next_cursor"]
        if not body["has_more"]:
            break
    assert seen == [ch["change_id"] for ch in sim.platform.changes("RXX")] == sorted(seen)
    again = feed(c, sim, cursor=cursor).json()
    assert (again["changes"], again["next_cursor"], again["has_more"]) == ([], cursor, False)


def test_since_and_bad_parameters() -> None:
    sim = LocumsNestSimulator(["RXX"], seed=1, initial_changes=5)
    c = client(sim)
    changes = sim.platform.changes("RXX")
    body = feed(c, sim, since=changes[3]["changed_at"]).json()
    assert [ch["change_id"] for ch in body["changes"]] == [changes[3]["change_id"], changes[4]["change_id"]]
    assert feed(c, sim, cursor="page-2").json()["error"]["code"] == "invalid_cursor"
    assert feed(c, sim, since="yesterday").status_code == 400
    assert feed(c, sim, limit=0).status_code == 422


def test_api_keys_cover_organisations() -> None:
    sim = LocumsNestSimulator(["RXX", "RXW"], initial_changes=1)
    c = client(sim)
    assert c.get("/api/v2/changes").status_code == 401
    assert c.get("/api/v2/changes", headers={"Authorization": "Bearer nope"}).status_code == 401
    key = {"Authorization": f"Bearer {sim.key_for('RXX')}"}
    assert c.get("/api/v2/changes", params={"organisation": "RXW"}, headers=key).status_code == 403
    assert c.get("/api/v2/changes", headers=key).json()["organisation"]["ods_code"] == "RXX"  # one org: implied
    network = {"Authorization": "Bearer ln_sim_network"}
    assert c.get("/api/v2/changes", headers=network).status_code == 400  # several: name one
    assert c.get("/api/v2/changes", params={"organisation": "rxw"}, headers=network).status_code == 200


@pytest.mark.parametrize("http_date", [False, True])
def test_the_rate_limit_answers_429_with_retry_after(http_date: bool) -> None:
    sim = LocumsNestSimulator(
        ["RXX"], initial_changes=1, rate_limit=2, rate_window_s=30, retry_after_http_date=http_date
    )
    c = client(sim)
    first, second, third = (feed(c, sim) for _ in range(3))
    assert [r.status_code for r in (first, second, third)] == [200, 200, 429]
    assert (first.headers["x-ratelimit-limit"], first.headers["x-ratelimit-remaining"]) == ("2", "1")
    assert second.headers["x-ratelimit-remaining"] == "0" and 0 < int(second.headers["x-ratelimit-reset"]) <= 30
    retry = third.headers["retry-after"]
    if http_date:
        assert 29 <= (parsedate_to_datetime(retry) - datetime.now(UTC)).total_seconds() <= 32
    else:
        assert 0 < int(retry) <= 30


def test_faults_change_the_answer_as_documented() -> None:
    sim = LocumsNestSimulator(["RXX"], seed=2, initial_changes=12)
    c = client(sim)
    first = feed(c, sim, limit=4)
    cursor = first.json()["next_cursor"]
    for kind, check in [
        ("error_500", lambda r: r.status_code == 500),
        ("rate_limit", lambda r: r.status_code == 429 and r.headers["retry-after"] == "2"),
        ("expire_cursor", lambda r: r.status_code == 410 and r.json()["error"]["code"] == "cursor_expired"),
        ("repeat", lambda r: r.content == first.content),
        ("overlap", lambda r: r.json()["changes"][0]["change_id"] < int(cursor.removeprefix("chg_"))),
        ("wrong_content_type", lambda r: r.headers["content-type"].startswith("text/html")),
        ("bad_encoding", lambda r: r.content.startswith(b"\xff\xfe")),
        ("missing_fields", lambda r: "changes" not in r.json() and r.headers["x-next-cursor"]),
    ]:
        sim.inject(kind)
        assert check(feed(c, sim, limit=4, cursor=cursor)), kind
    sim.inject("malformed")
    broken = feed(c, sim, limit=4, cursor=cursor)
    with pytest.raises(json.JSONDecodeError):
        json.loads(broken.content)
    assert broken.headers["x-next-cursor"] == feed(c, sim, limit=4, cursor=cursor).json()["next_cursor"]
    assert [s.fault for s in sim.served][-2:] == ["malformed", None]
    assert c.post("/_sim/faults", json={"kind": "gremlins"}).status_code == 400


def _content(changes: list[dict[str, Any]]) -> list[Any]:
    strip = re.compile(r'"(changed_at|applied_at)": "[^"]+"')
    return [strip.sub("", json.dumps(ch, sort_keys=True)) for ch in changes]


def test_traffic_is_reproducible_from_the_seed() -> None:
    one, two = LocumsNestSimulator(2, seed=42, initial_changes=50), LocumsNestSimulator(2, seed=42, initial_changes=50)
    other = LocumsNestSimulator(2, seed=43, initial_changes=50)
    assert _content(one.platform.changes("RXW")) == _content(two.platform.changes("RXW"))
    assert _content(one.platform.changes("RXW")) != _content(other.platform.changes("RXW"))


def test_traffic_looks_like_a_doctors_locum_platform() -> None:
    sim = LocumsNestSimulator(3, seed=7, initial_changes=400)
    changes = [ch for ods in sim.organisations for ch in sim.platform.changes(ods)]
    kinds = Counter((ch["resource"], ch["action"]) for ch in changes)
    assert {
        ("shift", "created"),
        ("shift", "updated"),
        ("shift", "cancelled"),
        ("booking", "applied"),
        ("doctor", "created"),
        ("doctor", "viewed_profile"),
    } <= set(kinds)
    shifts = [ch["data"] for ch in changes if ch["resource"] == "shift" and ch["action"] == "created"]
    assert {s["grade"] for s in shifts} <= GRADES and {"F1", "Consultant"} <= {s["grade"] for s in shifts}
    assert {"day", "long day", "night"} <= {s["shift_type"] for s in shifts}
    starts = [datetime.fromisoformat(s["start"]) for s in shifts]
    assert all(s.tzinfo is None for s in starts)  # local wall-clock time, no offset
    assert any(s.weekday() >= 5 for s in starts)
    nights = [s for s in shifts if s["shift_type"] == "night"]
    assert all(s["start"].endswith("21:00:00") and s["end"].endswith("09:00:00") for s in nights)
    clock_change = [
        s
        for s in nights
        if datetime.fromisoformat(s["end"]).month in (3, 10)
        and datetime.fromisoformat(s["end"]).weekday() == 6
        and datetime.fromisoformat(s["end"]).day > 24
    ]
    assert clock_change  # some nights are the 11- or 13-hour ones
    gmc = [ch["data"]["gmc_number"] for ch in changes if ch["resource"] == "doctor" and ch["action"] == "created"]
    assert all(re.fullmatch(r"C?\d{7}", g) for g in gmc) and any(g.startswith("C") for g in gmc)
    assert any(not g.startswith("C") for g in gmc)


def test_the_platform_takes_fills_and_declines_from_the_hub_idempotently() -> None:
    sim = LocumsNestSimulator(["RXX"], seed=3, initial_changes=30)
    c = client(sim)
    auth = {"Authorization": f"Bearer {sim.key_for('RXX')}"}
    shifts = [
        ch["data"] for ch in sim.platform.changes("RXX") if ch["resource"] == "shift" and ch["action"] == "created"
    ]
    target = shifts[0]["id"]
    body = {"booking_id": "bk_1", "doctor": {"gmc_number": "7012345"}}
    before = sim.platform.last_change_id
    r = c.post(f"/api/v2/shifts/{target}/fill", json=body, headers={**auth, "Idempotency-Key": "o-1"})
    assert r.status_code == 200 and r.json()["status"] == "filled"
    [update] = [ch for ch in sim.platform.changes("RXX") if ch["change_id"] > before]
    assert (update["action"], update["data"]["changed"]) == ("updated", ["status", "filled_by"])
    again = c.post(f"/api/v2/shifts/{target}/fill", json=body, headers={**auth, "Idempotency-Key": "o-1"})
    assert again.status_code == 200 and sim.platform.repeats == 1 and sim.platform.last_change_id == update["change_id"]
    other = c.post(
        f"/api/v2/shifts/{target}/fill", json={**body, "booking_id": "bk_2"}, headers={**auth, "Idempotency-Key": "o-2"}
    )
    assert (other.status_code, other.json()["error"]["code"]) == (409, "already_filled")
    assert c.get(f"/api/v2/shifts/{target}", headers=auth).json()["filled_by"]["booking_id"] == "bk_1"
    assert c.post("/api/v2/shifts/1/fill", json=body, headers={**auth, "Idempotency-Key": "o-3"}).status_code == 404
    assert c.post(f"/api/v2/shifts/{target}/fill", json=body, headers={"Idempotency-Key": "o-4"}).status_code == 401
    booking = next(ch["data"]["id"] for ch in sim.platform.changes("RXX") if ch["resource"] == "booking")
    declined = c.post(
        f"/api/v2/bookings/{booking}/decline",
        json={"reasons": ["SHIFT_ALREADY_FILLED"]},
        headers={**auth, "Idempotency-Key": "o-5"},
    )
    assert declined.status_code == 200
    state = c.get("/_sim/state").json()
    assert len(state["fills"]) == 1 and state["declines"][0]["reasons"] == ["SHIFT_ALREADY_FILLED"]


def test_changes_keep_arriving_over_time_and_on_request() -> None:
    sim = LocumsNestSimulator(["RXX"], seed=3, initial_changes=2, changes_per_minute=6000)  # 100 a second
    c = client(sim)
    time.sleep(0.05)
    assert len(feed(c, sim, limit=500).json()["changes"]) > 2
    n = len(sim.platform.changes("RXX"))
    assert len(c.post("/_sim/generate", json={"count": 3}).json()["changes"]) == 3
    assert len(sim.platform.changes("RXX")) >= n + 3


def test_the_simulate_command_is_registered() -> None:
    from rosterhub.cli.simulate_cmd import app

    result = CliRunner().invoke(app, ["locums_nest", "--help"])
    assert result.exit_code == 0 and "--trusts" in result.output and "--seed" in result.output
