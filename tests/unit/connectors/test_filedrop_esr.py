"""ESR specifics of the file-drop connector: whole-file checks and full-refresh reconciliation (pure parts)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

from rosterhub.connectors.kinds.filedrop.routes import DroppedFile, FileKind
from rosterhub.connectors.pipeline import packaged_mapping
from rosterhub.connectors.simulators.esr import interface_file
from rosterhub.connectors.state import ConnectorState
from rosterhub.connectors.vendors.esr import (
    EsrInterfaceFiles,
    FileContent,
    Roster,
    apply_daily,
    read_content,
    reconcile,
)

SPEC = packaged_mapping("esr", None)


def _file(name: str = "ESR_RXX_20260401_000500_MONTHLY.dat", trust: str | None = "RXX", sha: str = "s1") -> DroppedFile:
    return DroppedFile("esr", name, Path("/in"), trust, FileKind("*", "esr"), SPEC, sha, "c-1", datetime.now(UTC))


def _payload(freq: str, records: list[str], trust: str = "RXX", seq: int = 500) -> bytes:
    return interface_file(trust, date(2026, 4, 1), freq, seq, records)


def _per(number: str, action: str = "U") -> str:
    return (
        f"PER|{number}|{action}|MR|A|B|AB123456C|01-JAN-1990|1 Road|Town|S1 1AA|||Additional Clinical Services|Band 3"
    )


def _asg(number: str, person: str, action: str = "U") -> str:
    return (
        f"ASG|{person}|{number}|{action}|W7AM01|Ward 7|HCA|Band 3|Additional Clinical Services|Permanent|"
        "01-JAN-2020||37.50"
    )


def _content(freq: str, people: dict[str, str], asg: dict[str, tuple[str, str]], seq: str = "1") -> FileContent:
    return FileContent("RXX", freq, seq, "20260401", people, asg)


def test_read_content_takes_the_last_action_per_person_and_assignment() -> None:
    payload = _payload(
        "DAILY",
        [
            _per("1", "N"),
            _asg("1-1", "1", "N"),
            _per("2", "L"),
            _asg("2-1", "2", "T"),
            _per("1", "U"),
            "CMP|1|NHS|CSTF|Fire Safety|01-JAN-2026|01-JAN-2027",
        ],
    )
    content = read_content(SPEC, payload)
    assert (content.trust, content.frequency, content.sequence) == ("RXX", "DAILY", "000500")
    assert content.people == {"1": "U", "2": "L"}
    assert content.assignments == {"1-1": ("1", "N"), "2-1": ("2", "T")}


def test_daily_files_build_the_roster_and_leavers_stay_as_leavers() -> None:
    roster = Roster()
    counts = apply_daily(roster, _content("DAILY", {"1": "N", "2": "N"}, {"1-1": ("1", "N"), "2-1": ("2", "N")}))
    assert counts["people_new"] == 2 and counts["assignments_started"] == 2
    apply_daily(roster, _content("DAILY", {"2": "L"}, {"2-1": ("2", "T")}))
    assert roster.people["2"]["status"] == "left" and roster.assignments["2-1"]["status"] == "ended"
    again = Roster.loads(roster.dumps())
    assert again.people == roster.people  # survives the round trip through the dedupe store


def test_a_refresh_reports_who_disappeared_still_missing_and_reappeared() -> None:
    roster = Roster()
    apply_daily(roster, _content("DAILY", {p: "N" for p in "12345"}, {f"{p}-1": (p, "N") for p in "12345"}))
    apply_daily(roster, _content("DAILY", {"5": "L"}, {"5-1": ("5", "T")}))  # a proper leaver
    first = reconcile(roster, _content("MONTHLY", {"1": "U", "2": "U", "6": "N"}, {"1-1": ("1", "U")}))
    assert first["disappeared"]["people"] == ["3", "4"]  # 5 left properly: not "disappeared"
    assert [a["assignment"] for a in first["disappeared"]["assignments"]] == ["2-1", "3-1", "4-1"]
    assert first["new_in_refresh"] == {"people": 1, "assignments": 0}
    assert first["suspicious"] is True  # 2 of 4 expected people gone: more like an extract fault
    assert roster.people["3"]["status"] == "missing" and roster.people["5"]["status"] == "left"
    second = reconcile(roster, _content("MONTHLY", {"1": "U", "2": "U", "3": "U", "6": "U"}, {"1-1": ("1", "U")}))
    assert second["disappeared"]["people"] == [] and second["still_missing"]["people"] == ["4"]
    assert second["reappeared"]["people"] == ["3"] and roster.people["3"]["status"] == "active"
    assert "3" in roster.people and "4" in roster.people  # nothing is ever removed


def test_checks_refuse_the_wrong_trust_frequency_or_name() -> None:
    hook = EsrInterfaceFiles()
    good = _payload("MONTHLY", [_per("1")])
    assert hook.check(good, _file()) is None
    assert hook.check(good, _file(trust=None)) is None  # no inbox trust: nothing to compare
    assert "belongs to RXX" in str(hook.check(_payload("MONTHLY", [], trust="RXY"), _file()))
    assert "frequency is 'WEEKLY'" in str(hook.check(_payload("WEEKLY", []), _file("ESR_RXX.dat")))
    assert "name says DAILY" in str(hook.check(good, _file("ESR_RXX_20260401_000500_DAILY.dat")))
    assert hook.check(good, _file("ESR_RXX_full_20260401.dat")) is None  # FULL means MONTHLY
    assert hook.check(b"garbage", _file()) is None  # no header: the mapping's reader reports it


def test_after_is_idempotent_for_the_same_refresh_and_skips_stale_ones(tmp_path: Path) -> None:
    hook, state = EsrInterfaceFiles(), ConnectorState(tmp_path / "s.sqlite")
    hook.after(_payload("DAILY", [_per("1", "N"), _per("2", "N")], seq=10), _file(sha="d"), state)
    refresh = _payload("MONTHLY", [_per("1")], seq=11)
    first = hook.after(refresh, _file(sha="m"), state)["esr"]
    assert first["reconciliation"]["disappeared"]["people"] == ["2"]
    repeat = hook.after(refresh, _file(sha="m"), state)["esr"]  # a crash before the move: same answer
    assert repeat["reconciliation"] == first["reconciliation"]
    stale = hook.after(_payload("MONTHLY", [], seq=9), _file(sha="old"), state)["esr"]
    assert "older than the last applied" in stale["warning"] and "skipped" in stale["reconciliation"]
    roster = Roster.loads(state.position("esr", "roster:RXX"))
    assert roster.people["2"]["status"] == "missing" and roster.last_sequence == "000011"
