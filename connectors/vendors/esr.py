"""ESR-style interface files: daily change files and a monthly full refresh, per trust, over SFTP.

The mapping (``esr.yaml``) turns records into events and already refuses a file whose
trailer count does not match (the whole file: ``parse_error``, nothing published). This
module adds what one record at a time cannot see:

* **whole-file checks** (:meth:`EsrInterfaceFiles.check`): the header's trust must be the
  inbox's trust, and the frequency (``DAILY``/``MONTHLY``) must be known and agree with
  the file name when the name says one (``ESR_RXX_20260401_000500_MONTHLY.dat``);
* **reconciliation**: the connector keeps, per trust, the people and assignments ESR has
  told it about (the dedupe store's positions, ``roster:<trust>``). Daily files update
  that roster (``N``/``U`` active, ``L`` leaver, ``T`` assignment ended). A monthly full
  refresh lists everyone current, so anyone active in the roster but absent from the
  refresh has *disappeared*: reported in the file's report, a warning log line and the
  ``rosterhub_esr_*`` metrics, and marked ``missing`` (reported again while missing,
  ``reappeared`` when back). Nothing is deleted and no event claims they left: only an
  ``L``/``T`` record says that. (A canonical "missing from the source" event would need
  a new schema; see docs/vendors/esr.md.)

NI number, date of birth and address are read by the mapping only to compute
``identity_match_key`` with the collaborative secret ``esr_identity`` (environment
variable ``ROSTERHUB_MAPPING_SECRET_ESR_IDENTITY`` unless the options name another); the
raw and dead-letter copies have them redacted. Wire format: docs/vendors/esr.md.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from prometheus_client import Counter, Gauge

from rosterhub.connectors.base import ConnectorSpec
from rosterhub.connectors.kinds.filedrop import DroppedFile, FileDropQuirks, FileKind
from rosterhub.connectors.state import Dedupe
from rosterhub.errors import InputError, ParseError
from rosterhub.kafka.limits import MAX_RECORD_BYTES
from rosterhub.mapping.engine import MappingSpec
from rosterhub.mapping.engine.model import PipeFormat

__all__ = [
    "MAX_FILE_BYTES",
    "RAW_HEADER_HEADROOM",
    "SPEC",
    "EsrInterfaceFiles",
    "FileContent",
    "Roster",
    "apply_daily",
    "read_content",
    "reconcile",
]

log = logging.getLogger(__name__)

MISSING = Gauge(
    "rosterhub_esr_missing", "People/assignments absent from the last ESR full refresh", ["trust", "record"]
)
DISAPPEARED = Counter(
    "rosterhub_esr_disappeared_total", "People/assignments newly absent from an ESR full refresh", ["trust", "record"]
)

FREQUENCIES = ("DAILY", "MONTHLY")
_NAME_FREQUENCY = {"DAILY": "DAILY", "CHANGE": "DAILY", "MONTHLY": "MONTHLY", "FULL": "MONTHLY"}
_NAME_TOKEN = re.compile(r"(?:^|[_.\-])(DAILY|CHANGE|MONTHLY|FULL)(?=[_.\-]|$)", re.IGNORECASE)
_SUSPICIOUS_SHARE = 0.10  # a refresh that loses more than this share of people is probably an extract fault
_LOG_IDS = 100


@dataclass(frozen=True)
class FileContent:
    """What reconciliation needs from one file: header facts and the last action per person/assignment."""

    trust: str
    frequency: str
    sequence: str
    file_date: str
    people: dict[str, str]  # person number -> action (N, U, L)
    assignments: dict[str, tuple[str, str]]  # assignment number -> (person number, action N/U/T)


def _header(payload: bytes, fmt: PipeFormat) -> list[str] | None:
    for line in payload.splitlines():
        if line.strip():
            fields = line.decode(fmt.encoding, errors="replace").strip().split(fmt.delimiter)
            return fields if fields[0] == fmt.header_tag else None
    return None


def read_content(spec: MappingSpec, payload: bytes) -> FileContent:
    """Pure: the roster-relevant facts of an interface file the mapping has already read successfully."""
    fmt = spec.reader
    assert isinstance(fmt, PipeFormat)
    head = dict(zip(fmt.header_fields, (_header(payload, fmt) or [])[1:], strict=False))
    per, asg = fmt.record_types["PER"], fmt.record_types["ASG"]
    p_num, p_act = per.index("person_number") + 1, per.index("action") + 1
    a_per, a_num, a_act = (asg.index(n) + 1 for n in ("person_number", "assignment_number", "action"))
    people: dict[str, str] = {}
    assignments: dict[str, tuple[str, str]] = {}
    for line in payload.decode(fmt.encoding).splitlines():
        values = line.strip().split(fmt.delimiter)
        if values[0] == "PER" and len(values) == len(per) + 1:
            people[values[p_num]] = values[p_act]
        elif values[0] == "ASG" and len(values) == len(asg) + 1:
            assignments[values[a_num]] = (values[a_per], values[a_act])
    return FileContent(
        trust=head.get("trust", "").strip().upper(),
        frequency=head.get("frequency", "").strip().upper(),
        sequence=head.get("sequence", "").strip(),
        file_date=head.get("file_date", "").strip(),
        people=people,
        assignments=assignments,
    )


@dataclass
class Roster:
    """Who ESR has said exists at one trust. Entries are never removed: status active|missing|left|ended."""

    people: dict[str, dict[str, str]] = field(default_factory=dict)
    assignments: dict[str, dict[str, str]] = field(default_factory=dict)
    last_sequence: str | None = None
    last_refresh: dict[str, Any] | None = None  # sha256 and result of the last reconciled refresh

    @classmethod
    def loads(cls, text: str | None) -> Roster:
        return cls(**json.loads(text)) if text else cls()

    def dumps(self) -> str:
        return json.dumps(
            {
                "people": self.people,
                "assignments": self.assignments,
                "last_sequence": self.last_sequence,
                "last_refresh": self.last_refresh,
            }
        )


def _seq(value: str | None) -> tuple[int, str]:
    return (int(value), "") if value and value.isdigit() else (-1, value or "")


def apply_daily(roster: Roster, content: FileContent) -> dict[str, Any]:
    """Apply a change file's actions to the roster (idempotent); returns counts for the report."""
    counts = {
        "people_new": 0,
        "people_updated": 0,
        "leavers": 0,
        "assignments_started": 0,
        "assignments_changed": 0,
        "assignments_ended": 0,
        "reappeared": 0,
    }
    on = content.file_date
    for person, action in content.people.items():
        before = roster.people.get(person, {}).get("status")
        status = "left" if action == "L" else "active"
        counts["leavers" if action == "L" else "people_new" if action == "N" else "people_updated"] += 1
        counts["reappeared"] += before == "missing" and status == "active"
        roster.people[person] = {"status": status, "since": on if before != status else roster.people[person]["since"]}
    for number, (person, action) in content.assignments.items():
        before = roster.assignments.get(number, {}).get("status")
        status = "ended" if action == "T" else "active"
        key = {"T": "assignments_ended", "N": "assignments_started"}.get(action, "assignments_changed")
        counts[key] += 1
        since = on if before != status else roster.assignments[number]["since"]
        roster.assignments[number] = {"status": status, "person": person, "since": since}
    return counts


def reconcile(roster: Roster, content: FileContent) -> dict[str, Any]:
    """Compare a full refresh with the roster; mark the absent ``missing``. Pure apart from updating ``roster``."""
    present_people = {p for p, a in content.people.items() if a != "L"}
    present_asg = {n for n, (_, a) in content.assignments.items() if a != "T"}
    expected = {p for p, e in roster.people.items() if e["status"] in ("active", "missing")}
    gone_people = sorted(p for p in expected - present_people if roster.people[p]["status"] == "active")
    still_people = sorted(p for p in expected - present_people if roster.people[p]["status"] == "missing")
    back_people = sorted(p for p in expected & present_people if roster.people[p]["status"] == "missing")
    expected_asg = {n for n, e in roster.assignments.items() if e["status"] in ("active", "missing")}
    gone_asg = sorted(n for n in expected_asg - present_asg if roster.assignments[n]["status"] == "active")
    still_asg = sorted(n for n in expected_asg - present_asg if roster.assignments[n]["status"] == "missing")
    new_people = len(present_people - set(roster.people))
    new_asg = len(present_asg - set(roster.assignments))
    counts = apply_daily(roster, content)  # present records become active, L/T become left/ended
    for p in gone_people:
        roster.people[p] = {"status": "missing", "since": content.file_date}
    for n in gone_asg:
        roster.assignments[n] = {**roster.assignments[n], "status": "missing", "since": content.file_date}
    return {
        "expected_people": len(expected),
        "present_people": len(present_people),
        "disappeared": {
            "people": gone_people,
            "assignments": [{"assignment": n, "person": roster.assignments[n].get("person")} for n in gone_asg],
        },
        "still_missing": {"people": still_people, "assignments": still_asg},
        "reappeared": {"people": back_people},
        "new_in_refresh": {"people": new_people, "assignments": new_asg},
        "leavers_in_refresh": counts["leavers"],
        "suspicious": bool(expected) and len(gone_people) > _SUSPICIOUS_SHARE * len(expected),
        "action_taken": "reported only: nothing was deleted and no leaver/ended event was published; "
        "an ESR leaver (L) or terminated assignment (T) record is what ends a membership",
    }


class EsrInterfaceFiles:
    """The ESR file hook: header checks before mapping, roster update or reconciliation after."""

    def check(self, payload: bytes, file: DroppedFile) -> InputError | None:
        fmt = file.spec.reader
        if not isinstance(fmt, PipeFormat):
            return None
        head = dict(zip(fmt.header_fields, (_header(payload, fmt) or [])[1:], strict=False))
        if not head:
            return None  # no header: the mapping's reader says so, in its words
        trust, frequency = head.get("trust", "").strip().upper(), head.get("frequency", "").strip().upper()
        if file.trust and trust != file.trust:
            return ParseError(f"the header names trust {trust!r} but this inbox belongs to {file.trust}")
        if frequency not in FREQUENCIES:
            return ParseError(f"the header's frequency is {frequency!r}, not one of {', '.join(FREQUENCIES)}")
        named = {_NAME_FREQUENCY[m.upper()] for m in _NAME_TOKEN.findall(file.name)}
        if named and named != {frequency}:
            return ParseError(f"the file name says {'/'.join(sorted(named))} but the header says {frequency}")
        return None

    def after(self, payload: bytes, file: DroppedFile, state: Dedupe) -> Mapping[str, Any]:
        content = read_content(file.spec, payload)
        trust = file.trust or content.trust
        name = f"roster:{trust}"
        roster = Roster.loads(state.position(file.vendor, name))
        section: dict[str, Any] = {
            "file_type": "MONTHLY full refresh" if content.frequency == "MONTHLY" else "DAILY change file",
            "sequence": content.sequence,
        }
        stale = roster.last_sequence is not None and _seq(content.sequence) < _seq(roster.last_sequence)
        if stale:
            section["warning"] = f"sequence {content.sequence} is older than the last applied {roster.last_sequence}"
        if content.frequency != "MONTHLY":
            section["changes"] = apply_daily(roster, content)
        elif roster.last_refresh and roster.last_refresh.get("sha256") == file.sha256:
            section["reconciliation"] = roster.last_refresh["result"]  # the same refresh again (a restart)
        elif stale:
            section["reconciliation"] = {"skipped": "an older refresh than the roster's state is not reconciled"}
        else:
            result = reconcile(roster, content)
            roster.last_refresh = {"sha256": file.sha256, "file": file.name, "result": result}
            section["reconciliation"] = result
            _announce(file, trust, result, roster)
        if not stale:
            roster.last_sequence = content.sequence
        state.set_position(file.vendor, name, roster.dumps())
        return {"esr": section}


def _announce(file: DroppedFile, trust: str, result: dict[str, Any], roster: Roster) -> None:
    gone = result["disappeared"]
    DISAPPEARED.labels(trust, "person").inc(len(gone["people"]))
    DISAPPEARED.labels(trust, "assignment").inc(len(gone["assignments"]))
    MISSING.labels(trust, "person").set(sum(e["status"] == "missing" for e in roster.people.values()))
    MISSING.labels(trust, "assignment").set(sum(e["status"] == "missing" for e in roster.assignments.values()))
    if gone["people"] or gone["assignments"] or result["still_missing"]["people"]:
        log.warning(
            "ESR full refresh: %d people and %d assignments disappeared (reported, nothing deleted)",
            len(gone["people"]),
            len(gone["assignments"]),
            extra={
                "vendor": file.vendor,
                "trust": trust,
                "file": file.name,
                "correlation_id": file.correlation_id,
                "people": gone["people"][:_LOG_IDS],
                "assignments": [a["assignment"] for a in gone["assignments"][:_LOG_IDS]],
                "still_missing": len(result["still_missing"]["people"]),
                "suspicious": result["suspicious"],
            },
        )


#: Room beside the file in its raw record (``MAX_RECORD_BYTES``, value and headers) for the headers, nearly all of
#: it ``rh_keyed``: one ``"line N <person>":{"identity_match_key":"<64 hex>"}`` a person, ~112 bytes, while a
#: person is ~970 bytes of interface file (10,000 staff: a 9,685,985-byte refresh, 1,119,938 bytes of
#: ``rh_keyed``), so ~11.6% of the file: 3.25 MiB for a 28 MiB file, under these 4 MiB less the receipt's 64 KiB
#: for framing. The other headers (vendor, times, ids, file name and hash, redacted fields) are under 1 KiB.
RAW_HEADER_HEADROOM = 4 * 1024 * 1024
#: 28 MiB: a monthly full refresh of ~29,000 staff (England's largest trusts have 20,000-25,000).
MAX_FILE_BYTES = MAX_RECORD_BYTES - RAW_HEADER_HEADROOM

SPEC = ConnectorSpec(
    id="esr",
    kind="filedrop",
    title="ESR-style interface files (daily change files, monthly full refresh)",
    content_type="text/plain",
    quirks=FileDropQuirks(
        files=(FileKind("*", "esr", "text/plain; charset=utf-8", "interface file"),),
        hook=EsrInterfaceFiles(),
        max_file_bytes=MAX_FILE_BYTES,  # a monthly full refresh of the largest trust
        inbox_trust_required=True,  # the roster is per trust, and the header's trust is checked
    ),
)
