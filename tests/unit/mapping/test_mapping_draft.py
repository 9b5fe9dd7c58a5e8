"""``rosterhub mapping draft``: one test per sample format (CSV, XML, JSON, pipe).

Each draft must pass ``mapping check`` as it is, and, once an analyst fills in the code lists'
``TODO`` entries (done here with the values a trust would give), map the sample: every record
but the sample's deliberately bad rows, which the draft's own header lists as not fitting.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml
from typer.testing import CliRunner

from rosterhub.cli.mapping_cmd import app
from rosterhub.mapping.engine import apply_mapping, check_mapping, load_mapping
from rosterhub.mapping.engine.samples import samples_folder
from rosterhub.mapping.engine.sniff import sniff
from tests.unit.mapping.mapping_helpers import RECEIVED

runner = CliRunner()
SAMPLES = samples_folder()

PIPE = b"""HDR|RXX|SHIFTS|20260325|0900
SFT|P-1|RXX|Ward 7 Acute Medicine|Nursing and Midwifery Registered|Band 5|28/03/2026|20:00|08:00|\xa324.50
SFT|P-2|RXX|Acute Medical Unit|Additional Clinical Services|Band 3|30/03/2026|07:00|15:00|\xa313.10
SFT|P-3|RXX|Ward 7 Acute Medicine|Nursing and Midwifery Registered|Band 6|24/10/2026|20:00|08:00|\xa330.90
TRL|3
"""


def _draft(tmp_path: Path, sample: Path, vendor: str) -> tuple[Path, str]:
    out = tmp_path / f"{vendor}.yaml"
    result = runner.invoke(app, ["draft", str(sample), "--vendor", vendor, "-o", str(out)])
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    assert check_mapping(out) == [], [str(e) for e in check_mapping(out)]  # accepted as it is
    return out, text


def _fill(path: Path, text: str, codes: dict[str, str]) -> None:
    """What the analyst does: a canonical code for every TODO entry of the code lists the event uses."""
    used = set(re.findall(r"\{codelist: (\w+)\}", text))
    lists = yaml.safe_load(text)["codelists"]
    out = []
    current = None
    for line in text.splitlines():
        head = re.match(r"^  (\w+):", line)
        if head and head.group(1) in lists:
            current = head.group(1)
        entry = re.match(r'^(\s{6})("?)(.+?)\2: null   # TODO$', line)
        if entry and current in used:
            value = json.loads(f'"{entry.group(3)}"') if entry.group(2) else entry.group(3)
            out.append(f"{entry.group(1)}{json.dumps(value)}: {codes[value]}")
        else:
            out.append(line)
    path.write_text("\n".join(out) + "\n", encoding="utf-8")


def _maps(path: Path, payload: bytes, trust: str | None = None) -> tuple[list[str], list[str]]:
    outcome = apply_mapping(load_mapping(path), payload, received_at=RECEIVED, trust=trust)
    return [e.subject or "" for e in outcome.events], [r.record_ref for r in outcome.rejected]


def test_csv_semicolons_windows_encoding_and_local_times(tmp_path: Path) -> None:
    # the rotaplus export as a Windows tool writes it: cp1252 (the £ is one byte)
    sample = tmp_path / "open_shifts.csv"
    sample.write_bytes((SAMPLES / "rotaplus/open_shifts.input.csv").read_text(encoding="utf-8").encode("cp1252"))
    path, text = _draft(tmp_path, sample, "rotaplus_draft")
    assert '  delimiter: ";"' in text and "  encoding: cp1252" in text and '  ref: "{Shift Ref}"' in text
    assert "#   Date: date %d/%m/%Y" in text and "#   From: time %H:%M" in text
    assert "#   Band: text; 3 value(s): Band 5, Band 3, Band 6" in text
    assert "      Band 5: BAND_5" in text and "      Nursing: null   # TODO" in text
    assert "trust: {column: Trust}" in text
    _fill(
        path,
        text,
        {"Nursing": "NURSING_MIDWIFERY_REGISTERED", "Admin": "ADMIN_CLERICAL", "Physio": "ALLIED_HEALTH_PROFESSIONALS"},
    )
    events, rejected = _maps(path, sample.read_bytes())
    assert events == [f"rotaplus_draft:RXX:RP-10048{i}" for i in range(1, 5)] and rejected == []
    night = apply_mapping(load_mapping(path), sample.read_bytes(), received_at=RECEIVED).events[0].data
    assert (night["end"] - night["start"]).total_seconds() == 11 * 3600  # the clocks go forward that night


def test_xml_with_a_namespace_attributes_and_a_time_range(tmp_path: Path) -> None:
    sample = SAMPLES / "healthroster/bank_requests.input.xml"
    found = sniff(sample.read_bytes())
    assert (found.format.type, found.format.records, found.encoding) == ("xml", "Duty", "utf-8")
    path, text = _draft(tmp_path, sample, "roster_draft")
    assert "trust: {var: document, path: trustCode}" in text and '  ref: "{id}"' in text
    assert "#   Times: time_range %H:%M-%H:%M" in text
    assert (
        "#   DutyDate: date %d/%m/%Y; every record its own value (an id?); e.g. 28/03/2026; does not fit: 31/02/2026"
        in text
    )
    assert "      Nursing and Midwifery Registered: NURSING_MIDWIFERY_REGISTERED" in text
    _fill(path, text, {"B3": "BAND_3", "N": "NIGHT", "E": "EARLY", "L": "LATE"})
    events, rejected = _maps(path, sample.read_bytes())
    assert len(events) == 4 and rejected == ["/BankRequestExport/Duty[5] 7731908"]  # the 31st of February


def test_json_webhook_with_offsets(tmp_path: Path) -> None:
    sample = SAMPLES / "patchwork/shift_created.input.json"
    path, text = _draft(tmp_path, sample, "webhook_draft")
    assert '  records: "@"' in text and "trust: {path: data.organisation_ods}" in text
    assert "start: {path: data.start_time, then: [instant]}" in text
    _fill(path, text, {"Registered Nursing": "NURSING_MIDWIFERY_REGISTERED", "internal": "OWN_BANK"})
    events, rejected = _maps(path, sample.read_bytes())
    assert events == ["webhook_draft:RXX:884213"] and rejected == []


def test_json_list_of_records_is_found(tmp_path: Path) -> None:
    found = sniff((SAMPLES / "locums_nest/changes_page.input.json").read_bytes())
    assert found.format.records == "changes" and len(found.records) == 7


def test_pipe_with_header_trailer_and_unnamed_fields(tmp_path: Path) -> None:
    sample = tmp_path / "shifts.dat"
    sample.write_bytes(PIPE)
    path, text = _draft(tmp_path, sample, "pipe_draft")
    assert "  header_tag: HDR" in text and "  trailer_tag: TRL" in text and "  encoding: cp1252" in text
    assert "    SFT: [sft_1, sft_2, sft_3, sft_4, sft_5, sft_6, sft_7, sft_8, sft_9]" in text
    _fill(path, text, {})  # the values already spell canonical codes
    events, rejected = _maps(path, PIPE)
    assert events == ["pipe_draft:RXX:P-1", "pipe_draft:RXX:P-2", "pipe_draft:RXX:P-3"] and rejected == []


def test_unreadable_sample_and_unknown_event_are_usage_errors(tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_text("a;b\n")
    assert runner.invoke(app, ["draft", str(empty)]).exit_code == 1
    sample = SAMPLES / "rotaplus/open_shifts.input.csv"
    assert runner.invoke(app, ["draft", str(sample), "--event", "NoSuchEvent"]).exit_code == 1
