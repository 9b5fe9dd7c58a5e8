"""Fuzzing every connector's mapping pipeline with generated bad inputs (issue #17).

For each vendor, hypothesis builds bad payloads from the vendor's own sample (``mapping/samples/<vendor>/``):
truncations, byte flips, wrong encodings (UTF-16, Latin-1, a stray BOM, NULs), XML entity expansion and
external entities, deep nesting, huge fields, wrong JSON types, duplicate keys, empty and random bytes. Each
goes through :func:`rosterhub.connectors.pipeline.ingest`, the path every transport takes (webhook, file drop,
polling), with an in-memory sink. For every input:

* nothing raises out of the pipeline, and nothing hangs (an input not finished after ``HANG_S`` fails the test);
* the raw payload is written first, as the copy a topic may hold: byte for byte but for the mapping's sensitive
  fields, which are taken out (withheld whole when the payload cannot be read and may hold one; issue #12);
* every record it did not map is on ``dlq.mapping`` with a reason (``dlq_code``, ``dlq_message``), the record (as
  the mapping split it out, personal data redacted) and the raw record's position: the original bytes, whole, are
  the raw record; an input that mapped to nothing is either dead-lettered or was a vendor echo.

The run in the suite takes ``ROSTERHUB_FUZZ_EXAMPLES`` inputs per connector (60 by default); the full run
(10,000 per connector, counts in docs/benchmarks.md "Fuzzing") is

    ROSTERHUB_FUZZ_EXAMPLES=10000 .venv/bin/pytest -q tests/unit/connectors/test_fuzz_connectors.py -p no:randomly -s \
        --timeout 0
"""

from __future__ import annotations

import json
import os
import random
import signal
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rosterhub.codec.catalogue import default_catalogue
from rosterhub.codec.wire import SingleObjectCodec
from rosterhub.connectors.pipeline import IngestContext, ingest
from rosterhub.connectors.receipt import kept_copy
from rosterhub.envelope import headers_dict
from rosterhub.runtime import Encoder, TopicNames
from tests.unit.connectors.test_fhir_harness import MemorySink

REPO = Path(__file__).resolve().parents[3]
SAMPLES = REPO / "mapping" / "samples"
EXAMPLES = int(os.environ.get("ROSTERHUB_FUZZ_EXAMPLES", "60"))
HANG_S = 60.0
NAMES = TopicNames("")
CATALOGUE = default_catalogue()
ENCODER = Encoder(SingleObjectCodec(CATALOGUE), NAMES, CATALOGUE)
#: connector -> (sample folder, content type)
CONNECTORS = {
    "patchwork": ("patchwork", "application/json"),
    "locums_nest": ("locums_nest", "application/json"),
    "fhir": ("fhir", "application/fhir+json"),
    "healthroster": ("healthroster", "application/xml"),
    "nhsp": ("nhsp", "text/csv"),
    "esr": ("esr", "text/plain"),
}
COUNTS: Counter[tuple[str, str]] = Counter()


class Hung(Exception):
    """An input the pipeline did not finish with within ``HANG_S`` (a hang, not a speed figure)."""


@contextmanager
def _hang_guard(what: str) -> Iterator[None]:
    def _fire(_sig: int, _frame: Any) -> None:
        raise Hung(f"{what}: no answer after {HANG_S} s")

    previous = signal.signal(signal.SIGALRM, _fire)
    signal.setitimer(signal.ITIMER_REAL, HANG_S)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _seeds(folder: str) -> list[bytes]:
    return [p.read_bytes() for p in sorted((SAMPLES / folder).glob("*.input.*"))]


def _options(folder: str) -> dict[str, Any]:
    path = SAMPLES / folder / "options.yaml"
    return yaml.safe_load(path.read_text()) if path.exists() else {}


BILLION_LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + b"".join(
        f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10 if i > 1 else "&lol;" * 10}">'.encode()
        for i in range(1, 10)
    )
    + b"]><BankRequests><Request><Ward>&lol9;</Ward></Request></BankRequests>"
)
EXTERNAL_ENTITY = (
    b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    b"<BankRequests><Request><Ward>&xxe;</Ward></Request></BankRequests>"
)


@st.composite
def bad_inputs(draw: st.DrawFn, seeds: list[bytes]) -> tuple[str, bytes]:
    """(kind of damage, payload) built from one of the vendor's samples."""
    seed = draw(st.sampled_from(seeds))
    kind = draw(
        st.sampled_from(
            [
                "truncated",
                "flipped",
                "utf16",
                "latin1",
                "bom_nul",
                "xml_bomb",
                "xml_external",
                "deep_nesting",
                "huge_field",
                "wrong_types",
                "duplicate_keys",
                "empty",
                "random",
            ]
        )
    )
    rng = random.Random(draw(st.integers(0, 2**32 - 1)))
    if kind == "truncated":
        return kind, seed[: rng.randrange(0, max(1, len(seed)))]
    if kind == "flipped":
        data = bytearray(seed)
        for _ in range(rng.randint(1, 8)):
            if data:
                data[rng.randrange(len(data))] = rng.randrange(256)
        return kind, bytes(data)
    if kind == "utf16":
        return kind, seed.decode("utf-8", "replace").encode("utf-16")
    if kind == "latin1":
        return kind, seed.decode("utf-8", "replace").replace("e", "é").encode("latin-1", "replace")
    if kind == "bom_nul":
        return kind, b"\xef\xbb\xbf" + seed.replace(b",", b"\x00,", 3)
    if kind == "xml_bomb":
        return kind, BILLION_LAUGHS
    if kind == "xml_external":
        return kind, EXTERNAL_ENTITY
    if kind == "deep_nesting":
        depth = rng.randint(500, 20_000)
        return kind, (b"[" * depth + b"]" * depth) if rng.random() < 0.5 else (b"<a>" * depth + b"</a>" * depth)
    if kind == "huge_field":
        return kind, _json_edit(seed, lambda v: "A" * rng.randint(100_000, 2_000_000)) or seed + b"A" * 500_000
    if kind == "wrong_types":
        choices: list[Any] = [None, 0, -1, 1e308, True, [], {}, [1, 2], {"a": {"b": None}}, "", "2026-13-45"]
        return kind, _json_edit(seed, lambda v: rng.choice(choices)) or seed.replace(b"2026", b"XXXX")
    if kind == "duplicate_keys":
        text = seed.decode("utf-8", "replace").strip()
        if text.startswith("{"):
            return kind, ('{"id": 1, "id": "two", ' + text[1:]).encode()
        return kind, seed + b"\n" + seed.splitlines()[0] if seed.splitlines() else seed
    if kind == "empty":
        return kind, b""
    return kind, rng.randbytes(rng.randint(1, 4096))


def _json_edit(seed: bytes, value: Any) -> bytes | None:
    """The sample with one JSON value replaced (None when the sample is not a JSON object)."""
    try:
        doc = json.loads(seed)
    except ValueError:
        return None
    if not isinstance(doc, dict) or not doc:
        return None
    node: Any = doc
    while isinstance(node, dict) and node:
        key = sorted(node)[len(node) // 2]
        if isinstance(node[key], dict) and node[key]:
            node = node[key]
        else:
            node[key] = value(node[key])
            break
    return json.dumps(doc).encode()


@pytest.mark.parametrize("vendor", sorted(CONNECTORS))
def test_every_bad_input_is_kept_raw_and_accounted_for_and_nothing_dies(vendor: str) -> None:
    folder, content_type = CONNECTORS[vendor]
    options = _options(folder)
    secrets = {k: str(v).encode() for k, v in (options.get("secrets") or {}).items()}
    trust = options.get("trust", "RHQ")

    def _ingest(payload: bytes) -> Any:
        ctx = IngestContext(sink=MemorySink(), encoder=ENCODER, names=NAMES, secrets=secrets)  # type: ignore[arg-type]
        return ingest(ctx, vendor, payload, trust=trust, content_type=content_type, correlation_id="fuzz")

    # samples that carry records (a webhook "ping" maps to nothing by design, before any damage)
    seeds = [seed for seed in _seeds(folder) if _ingest(seed).event_ids]

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=bad_inputs(seeds))
    def run(case: tuple[str, bytes]) -> None:
        kind, payload = case
        sink = MemorySink()
        ctx = IngestContext(sink=sink, encoder=ENCODER, names=NAMES, secrets=secrets)  # type: ignore[arg-type]
        with _hang_guard(f"{vendor} {kind}"):
            result = ingest(ctx, vendor, payload, trust=trust, content_type=content_type, correlation_id="fuzz")
        raw = sink.records[0]
        # kept first: the copy a topic may hold (byte for byte, but for the mapping's sensitive fields taken out or,
        # for an unreadable payload that may hold one, withheld: docs/security.md, "Personal data")
        assert raw.topic == NAMES.raw(vendor) and raw.value == kept_copy(ctx, vendor, payload, trust=trust).value
        dead = [r for r in sink.records if r.topic == NAMES.dlq("mapping")]
        assert len(dead) == len(result.rejected)
        for r in dead:
            h = headers_dict(r.headers)
            assert h.get("dlq_code") and h.get("dlq_message"), f"{vendor} {kind}: a dead letter without a reason"
            # the original bytes: the whole input on the raw topic, which every dead letter points at
            assert h.get("dlq_origin_topic") == raw.topic.encode() and h.get("dlq_origin_offset") == b"0"
            # an unreadable payload that may hold personal data is withheld (rh_redacted: *), as on the raw topic
            withheld = h.get("rh_redacted") == b"*"
            assert r.value or not payload or withheld, f"{vendor} {kind}: a dead letter without the record"
        accounted = bool(result.event_ids or result.rejected or result.echoes or result.duplicates)
        no_rows = content_type == "text/csv" and len([ln for ln in payload.splitlines() if ln.strip()]) < 2
        # a CSV with no line after its header is an empty export (noticed: also when the header itself is cut)
        assert accounted or no_rows or not payload.strip(), f"{vendor} {kind}: mapped to nothing, dead-lettered nothing"
        COUNTS[(vendor, "mapped" if result.event_ids else "dead-lettered" if result.rejected else "other")] += 1
        COUNTS[(vendor, "inputs")] += 1

    run()
    print(f"\nfuzz {vendor}: {dict((k[1], v) for k, v in COUNTS.items() if k[0] == vendor)}")


def test_json_nested_a_few_hundred_deep_is_refused_with_a_reason_not_a_recursion_error() -> None:
    """Found by this fuzzing: json.loads reads ~1,000 levels, the redaction after it recursed and raised out of the
    pipeline (a webhook answered 500 and nothing was dead-lettered). Now refused as a parse error."""
    import sys

    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(400)  # a deep call stack (a server's), as under hypothesis and pytest
    try:
        sink = MemorySink()
        ctx = IngestContext(sink=sink, encoder=ENCODER, names=NAMES)  # type: ignore[arg-type]
        payload = b"[" * 300 + b"]" * 300
        result = ingest(ctx, "patchwork", payload, trust="RHQ", content_type="application/json", correlation_id="x")
    finally:
        sys.setrecursionlimit(limit)
    [rejected] = result.rejected
    assert rejected.error["code"] == "parse_error" and "nested more than 64" in rejected.error["message"]
    assert sink.records[0].value == payload and sink.records[-1].topic == NAMES.dlq("mapping")


def test_an_xml_declaration_naming_an_unknown_encoding_is_refused_with_a_reason() -> None:
    """Found by the 10,000-input run: ``encoding="UnF-8"`` made the XML parser raise LookupError out of the pipeline."""
    sink = MemorySink()
    ctx = IngestContext(sink=sink, encoder=ENCODER, names=NAMES)  # type: ignore[arg-type]
    payload = b'<?xml version="1.0" encoding="UnF-8"?><BankRequestExport/>'
    result = ingest(ctx, "healthroster", payload, trust="RHQ", content_type="application/xml", correlation_id="x")
    [rejected] = result.rejected
    assert rejected.error["code"] == "parse_error" and "unknown encoding" in rejected.error["message"]
    assert sink.records[0].value == payload
