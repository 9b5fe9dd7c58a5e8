import threading
from pathlib import Path

from rosterhub.connectors.state import ConnectorState


def test_claims_are_granted_once_and_survive_a_restart(tmp_path: Path) -> None:
    state = ConnectorState(tmp_path / "c.sqlite")
    assert state.claim("patchwork", ["a", "b"]) == ["a", "b"]
    assert state.claim("patchwork", ["b", "c"]) == ["c"]
    assert state.claim("esr", ["a"]) == ["a"]  # per vendor
    state.confirm("patchwork", ["a", "b", "c"])
    state.close()
    again = ConnectorState(tmp_path / "c.sqlite")
    assert again.claim("patchwork", ["a", "d"]) == ["d"]
    assert again.seen("patchwork", "a") and not again.seen("patchwork", "zz")


def test_released_claims_can_be_claimed_again(tmp_path: Path) -> None:
    state = ConnectorState(tmp_path / "c.sqlite")
    state.claim("v", ["a", "b"])
    state.release("v", ["a"])
    assert state.claim("v", ["a", "b"]) == ["a"]


def test_concurrent_claims_grant_each_key_to_one_caller(tmp_path: Path) -> None:
    state = ConnectorState(tmp_path / "c.sqlite")
    keys = [f"k{i}" for i in range(200)]
    granted: list[list[str]] = []

    def worker() -> None:
        granted.append(state.claim("v", keys))

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    flat = [k for g in granted for k in g]
    assert sorted(flat) == sorted(keys)


def test_positions_are_stored_and_replaced(tmp_path: Path) -> None:
    state = ConnectorState(tmp_path / "c.sqlite")
    assert state.position("locums_nest", "cursor") is None
    state.set_position("locums_nest", "cursor", "c-1")
    state.set_position("locums_nest", "cursor", "c-2")
    state.close()
    assert ConnectorState(tmp_path / "c.sqlite").position("locums_nest", "cursor") == "c-2"


def test_prune_forgets_old_keys(tmp_path: Path) -> None:
    state = ConnectorState(tmp_path / "c.sqlite")
    state.claim("v", ["a"])
    assert state.prune(older_than_s=-1) == 1
    assert state.claim("v", ["a"]) == ["a"]


def test_unconfirmed_claims_of_a_crashed_process_are_dropped_on_reopen(tmp_path: Path) -> None:
    state = ConnectorState(tmp_path / "c.sqlite")
    state.claim("v", ["sent", "in-flight"])
    state.confirm("v", ["sent"])
    state.close()  # the process dies before the broker acknowledged "in-flight"
    reopened = ConnectorState(tmp_path / "c.sqlite")
    assert reopened.recovered == 1
    assert reopened.claim("v", ["sent", "in-flight"]) == ["in-flight"]
