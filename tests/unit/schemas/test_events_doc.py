"""docs/events.md is fresh and lists every topic, event, field and code list."""

from __future__ import annotations

from pathlib import Path

from rosterhub.codec.catalogue import SchemaCatalogue
from rosterhub.events.codes import CODE_LISTS
from rosterhub.events.eventdocs import render_events_md
from rosterhub.events.generate import generated_artefacts, stale_artefacts
from rosterhub.topics import CANONICAL

REPO = Path(__file__).resolve().parents[3]


def test_committed_catalogue_is_fresh(catalogue: SchemaCatalogue) -> None:
    text = (REPO / "docs" / "events.md").read_text(encoding="utf-8")
    assert text == render_events_md(catalogue), "docs/events.md is stale: run `rosterhub schemas gen`"


def test_no_generated_artefact_is_stale(catalogue: SchemaCatalogue) -> None:
    assert stale_artefacts(catalogue, REPO) == [], "run `rosterhub schemas gen`"
    assert set(generated_artefacts(catalogue)) >= {"docs/asyncapi.yaml", "docs/events.md"}


def test_catalogue_lists_everything(catalogue: SchemaCatalogue) -> None:
    text = render_events_md(catalogue)
    for spec in CANONICAL.values():
        assert f"## Topic `{spec.name}`" in text
    for es in catalogue:
        assert f"### {es.name}\n" in text
        assert f"Kafka key: `{es.key_field}`; CloudEvents subject: `{es.subject_field}`" in text
        for field in es.source["fields"]:
            assert f"| `{field['name']}` |" in text, f"{es.name}.{field['name']}"
    for code_list in CODE_LISTS.values():
        assert f"### {code_list.title}" in text
        for code in code_list.codes:
            assert f"| `{code}` |" in text
