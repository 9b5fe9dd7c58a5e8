"""docs/mapping.md stays true: every function documented, the walk-through is the shipped file."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from rosterhub.mapping.engine import vendors_folder
from rosterhub.mapping.engine.samples import samples_folder
from rosterhub.mapping.functions import REGISTRY

REPO = Path(__file__).resolve().parents[3]
DOC = (REPO / "docs/mapping.md").read_text(encoding="utf-8")


def test_every_function_is_in_the_reference_table() -> None:
    table = "\n".join(line for line in DOC.splitlines() if line.startswith("| `"))
    documented = set(re.findall(r"`([a-z_]+)`", table))
    assert set(REGISTRY) <= documented, sorted(set(REGISTRY) - documented)


def test_walk_through_shows_the_shipped_rotaplus_file_and_sample() -> None:
    assert (vendors_folder() / "rotaplus.yaml").read_text(encoding="utf-8") in DOC
    sample = (samples_folder() / "rotaplus/open_shifts.input.csv").read_text(encoding="utf-8")
    assert sample in DOC


def test_every_vendor_has_a_wire_format_page() -> None:
    vendors = {yaml.safe_load(p.read_text(encoding="utf-8"))["vendor"] for p in vendors_folder().glob("*.yaml")}
    missing = [v for v in sorted(vendors - {"rotaplus"}) if not (REPO / "docs/vendors" / f"{v}.md").is_file()]
    assert not missing


def test_walk_through_excerpts_are_the_shipped_files() -> None:
    """Every block marked ``<!-- from mapping/vendors/<file> -->`` is that file's text, verbatim."""
    marked = re.findall(r"<!-- from (mapping/vendors/[\w.]+\.yaml) -->\n```yaml\n(.*?)```", DOC, flags=re.S)
    assert {name for name, _ in marked} >= {"mapping/vendors/lantum.yaml", "mapping/vendors/healthroster.yaml"}
    for name, block in marked:
        assert block in (REPO / name).read_text(encoding="utf-8"), name


def test_walk_throughs_cover_json_xml_and_csv_with_booked_rows() -> None:
    for heading in (
        "## Walk-through: onboarding a new vendor (rotaplus)",
        "## Walk-through: a JSON feed (Lantum)",
        "## Walk-through: an XML export with booked rows (HealthRoster/BankStaff)",
        "## Filled, booked and assigned rows",
    ):
        assert heading in DOC
