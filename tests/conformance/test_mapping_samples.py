"""Every sample in mapping/samples maps to exactly its checked-in expected output.

One parametrised test over every (input, expected) pair found on disk, so a new vendor
is covered the day its sample folder lands. Each event is also encoded with the
vendor-independent Avro writer schema, so "valid" means "fits the wire", not only
"looks right".
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from fastavro import schemaless_writer

from rosterhub.mapping.engine import apply_mapping, current_catalogue, load_mapping, vendors_folder
from rosterhub.mapping.engine.render import event_json, rejection_json, skipped_json
from rosterhub.mapping.engine.samples import SampleCase, sample_cases

CASES = list(sample_cases())
REJECTION_KEYS = ("code", "record", "field", "value", "target")  # the rule names a line of the mapping file: not pinned


def _jsonl(path: Path) -> list[dict]:
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_samples_exist_for_every_vendor_file() -> None:
    stems = {p.stem for p in vendors_folder().glob("*.yaml")}
    covered = {case.mapping for case in CASES}
    assert stems <= covered, f"mapping files without a sample: {sorted(stems - covered)}"


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_sample_maps_to_expected(case: SampleCase) -> None:
    assert case.sibling("expected").is_file(), f"{case.id}: no expected.jsonl next to the input"
    spec = load_mapping(vendors_folder() / f"{case.mapping}.yaml")
    outcome = apply_mapping(
        spec, case.input.read_bytes(), received_at=case.received_at, trust=case.trust, secrets=case.secrets
    )
    assert [event_json(e) for e in outcome.events] == _jsonl(case.sibling("expected"))
    got_rejected = [{k: line[k] for k in REJECTION_KEYS} for r in outcome.rejected for line in rejection_json(r)]
    want_rejected = [{k: r.get(k) for k in REJECTION_KEYS} for r in _jsonl(case.sibling("rejected"))]
    assert got_rejected == want_rejected
    assert [skipped_json(s) | {"rule": None} for s in outcome.skipped] == [
        s | {"rule": None} for s in _jsonl(case.sibling("skipped"))
    ]
    catalogue = current_catalogue()
    for event in outcome.events:
        schemaless_writer(io.BytesIO(), catalogue.get(event.type).parsed, event.data)
