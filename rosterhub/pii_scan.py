"""A scan of topics for personal data in clear: NI numbers, dates of birth, postal addresses.

The hub's rule is that none of these ever travels on a topic in clear (docs/security.md, "Personal data").
This checks it from the outside, the way an auditor would: every record of every topic is
read (key, value, headers); values the hub can decode are decoded (Avro single-object bodies
with the shipped schemas, JSON), and each text is searched for:

* **NI numbers**: the HMRC format (two prefix letters, six digits in pairs that may be
  spaced, a suffix A-D; the never-issued prefixes excluded), as a whole word;
* **postcodes**: the UK format (outward code, optional space, inward code), upper case, as
  a whole word, with a street number and name (``12 River Lane``) counted as an address too;
* **dates of birth**: any value under a key, field or column that names a birth date
  (``date_of_birth``, ``birthDate``, ``dob``), unless it is empty or ``REDACTED``; and any
  date in a text whose year is more than :data:`ADULT_YEARS` years ago in the usual forms
  (``1990-04-12``, ``12-APR-1990``, ``12/04/1990``): nothing the hub carries is that old
  except a birth date (shifts, credentials and memberships are recent).

It is a net with a known mesh, not a proof: a test shows it catches each kind when planted
(tests/unit/core/test_pii_scan.py), and the end-to-end run must come out clean
(tests/integration/test_hub_command.py).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rosterhub.kafka.access import KafkaAccess

__all__ = ["ADULT_YEARS", "Finding", "find_in_record", "find_in_text", "scan_topics"]

ADULT_YEARS = 16
_NI = re.compile(
    r"(?<![A-Za-z0-9])(?!BG|GB|NK|KN|TN|NT|ZZ)[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z]"
    r" ?\d{2} ?\d{2} ?\d{2} ?[A-D](?![A-Za-z0-9])",
    re.IGNORECASE,
)
_POSTCODE = re.compile(r"(?<![A-Za-z0-9])(?:[A-PR-UWYZ][A-HK-Y]?\d[A-Z\d]? ?\d[ABD-HJLNP-UW-Z]{2})(?![A-Za-z0-9])")
_STREET = re.compile(
    r"(?<![A-Za-z0-9])\d{1,4}[A-Za-z]? [A-Z][a-z]+(?: [A-Z][a-z]+)* "
    r"(?:Street|St|Road|Rd|Lane|Avenue|Ave|Close|Drive|Way|Crescent|Gardens|Terrace|Place|Court|Grove|Hill|Row)\b"
)
_MONTHS = "JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC"
_DATES = (
    re.compile(r"(?<!\d)(?P<y>(?:19|20)\d\d)-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])(?!\d)"),
    re.compile(rf"(?<!\d)(?:0?[1-9]|[12]\d|3[01])-(?:{_MONTHS})-(?P<y>(?:19|20)\d\d)(?!\d)", re.IGNORECASE),
    re.compile(r"(?<!\d)(?:0?[1-9]|[12]\d|3[01])/(?:0?[1-9]|1[0-2])/(?P<y>(?:19|20)\d\d)(?!\d)"),
)
_BIRTH_KEY = re.compile(r"birth|^dob$|_dob$|^dob_", re.IGNORECASE)
_BLANK = {"", "REDACTED", "<redacted>"}


@dataclass(frozen=True, slots=True)
class Finding:
    topic: str
    partition: int
    offset: int
    where: str  # key | value | header <name> | value.<field path>
    kind: str  # ni_number | postcode | address | date_of_birth
    text: str  # what was found (the auditor needs to see it; the scan's output is not a topic)


def find_in_text(text: str, *, today: date | None = None) -> list[tuple[str, str]]:
    """(kind, match) of everything in ``text`` that looks like personal data in clear."""
    today = today or datetime.now(UTC).date()
    found = [("ni_number", m.group()) for m in _NI.finditer(text)]
    found += [("postcode", m.group()) for m in _POSTCODE.finditer(text)]
    found += [("address", m.group()) for m in _STREET.finditer(text)]
    for pattern in _DATES:
        found += [
            ("date_of_birth", m.group())
            for m in pattern.finditer(text)
            if int(m.group("y")) <= today.year - ADULT_YEARS and int(m.group("y")) >= 1900
        ]
    return found


def _walk(node: Any, path: str, today: date) -> Iterator[tuple[str, str, str]]:
    """(path, kind, text) for structured data: keys that name a birth date, and every text inside."""
    if isinstance(node, dict):
        for k, v in node.items():
            inner = f"{path}.{k}" if path else str(k)
            if _BIRTH_KEY.search(str(k)) and v is not None and str(v).strip() not in _BLANK:
                yield inner, "date_of_birth", str(v)
            yield from _walk(v, inner, today)
    elif isinstance(node, list | tuple):
        for i, v in enumerate(node):
            yield from _walk(v, f"{path}[{i}]", today)
    elif isinstance(node, str):
        for kind, text in find_in_text(node, today=today):
            yield path, kind, text


def _text(data: bytes) -> str:
    return data.decode("utf-8", errors="replace")


def _structured(value: bytes, decode: Any) -> Any:
    """The value as data when the hub can read it: an Avro event body, else JSON, else None."""
    if decode is not None and value[:2] == b"\xc3\x01":
        try:
            return decode(value).record
        except Exception:  # an unreadable body is still scanned as text
            return None
    if value[:1] in (b"{", b"["):
        try:
            return json.loads(value)
        except ValueError:
            return None
    return None


def _csv_columns(value: bytes) -> list[tuple[str, str]]:
    """(column, cell) pairs of a CSV whose header names a birth date, so its cells are checked by column."""
    lines = _text(value).splitlines()
    if len(lines) < 2:
        return []
    for delimiter in (",", ";", "|", "\t"):
        header = lines[0].split(delimiter)
        birth = [i for i, name in enumerate(header) if _BIRTH_KEY.search(name.strip())]
        if birth and len(header) > 1:
            out = []
            for line in lines[1:]:
                cells = line.split(delimiter)
                out += [(header[i].strip(), cells[i].strip()) for i in birth if i < len(cells)]
            return out
    return []


def find_in_record(
    topic: str,
    partition: int,
    offset: int,
    key: bytes | None,
    value: bytes | None,
    headers: Sequence[tuple[str, bytes]],
    *,
    decode: Any = None,
    today: date | None = None,
) -> list[Finding]:
    """Everything in one record that looks like personal data in clear (module docstring)."""
    today = today or datetime.now(UTC).date()
    out: list[Finding] = []

    def add(where: str, items: Iterable[tuple[str, str]]) -> None:
        out.extend(Finding(topic, partition, offset, where, kind, text) for kind, text in items)

    if key:
        add("key", find_in_text(_text(key), today=today))
    for name, raw in headers:
        add(f"header {name}", find_in_text(_text(raw or b""), today=today))
        if _BIRTH_KEY.search(name) and raw and _text(raw).strip() not in _BLANK:
            add(f"header {name}", [("date_of_birth", _text(raw))])
    if value:
        data = _structured(value, decode)
        if data is not None:  # its texts, each on its own (binary framing read as text would match by chance)
            out.extend(Finding(topic, partition, offset, f"value.{p}", k, t) for p, k, t in _walk(data, "", today))
        if data is None or not value.startswith(b"\xc3\x01"):
            add("value", find_in_text(_text(value), today=today))
        add("value", [("date_of_birth", f"{c}={v}") for c, v in _csv_columns(value) if v not in _BLANK])
    unique: dict[tuple[str, str, str], Finding] = {(f.where, f.kind, f.text): f for f in out}
    return list(unique.values())


def scan_topics(
    kafka: KafkaAccess, *, topics: Iterable[str] | None = None, timeout_s: float = 60.0
) -> tuple[list[Finding], dict[str, int]]:
    """Read every record of every topic (Kafka's own ``__*`` topics aside) and scan it.

    Returns the findings and the number of records read per topic (so a caller can show that
    the scan saw what it should have).
    """
    import time

    from kafka import KafkaConsumer, TopicPartition

    from rosterhub.codec.catalogue import default_catalogue
    from rosterhub.codec.wire import SingleObjectCodec
    from rosterhub.kafka.position import next_offset

    codec = SingleObjectCodec(default_catalogue())
    consumer = KafkaConsumer(
        **kafka.kafka_python(),
        enable_auto_commit=False,
        client_id="rosterhub-pii-scan",
        fetch_max_wait_ms=100,
        max_poll_records=2000,
    )
    findings: list[Finding] = []
    counts: dict[str, int] = {}
    try:
        names = sorted(topics if topics is not None else (t for t in consumer.topics() if not t.startswith("__")))
        parts = [TopicPartition(t, p) for t in names for p in sorted(consumer.partitions_for_topic(t) or ())]
        if not parts:
            return [], {}
        consumer.assign(parts)
        consumer.seek_to_beginning(*parts)
        ends = consumer.end_offsets(parts)
        remaining = {tp for tp in parts if ends[tp] > next_offset(consumer, tp)}
        consumer.pause(*(set(parts) - remaining))  # fetch only from partitions with records left to read
        counts = dict.fromkeys(names, 0)
        deadline = time.monotonic() + timeout_s
        while remaining and time.monotonic() < deadline:
            for tp, batch in consumer.poll(timeout_ms=500).items():
                for rec in batch:
                    if rec.offset >= ends[tp]:
                        continue
                    counts[tp.topic] += 1
                    findings += find_in_record(
                        tp.topic, tp.partition, rec.offset, rec.key, rec.value, rec.headers or [], decode=codec.decode
                    )
                if next_offset(consumer, tp) >= ends[tp]:
                    remaining.discard(tp)
                    consumer.pause(tp)
        if remaining:
            raise TimeoutError(f"the scan could not read to the end of {sorted({tp.topic for tp in remaining})}")
    finally:
        consumer.close()
    return findings, counts
