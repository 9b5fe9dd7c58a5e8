"""docs/topics.md says what rosterhub/topics.py declares: every topic, its cleanup and retention, and for the
public canonical topics (and the schemas topic) exactly the key the code describes.

Issue 15 found the table calling four canonical topics "delete" while the broker had ``retention.ms=-1``
on them, and promising ``events.credential`` keyed by person id while it carries local worker ids.
"""

from __future__ import annotations

import re
from pathlib import Path

from rosterhub.topics import CANONICAL, DLQ_STAGES, INTERNAL, SCHEMAS, TopicSpec, dlq_topic, outbound_topic, raw_topic

DOC = Path(__file__).resolve().parents[3] / "docs" / "topics.md"
TEMPLATES = {"raw.<vendor>": raw_topic("x"), "out.<destination>": outbound_topic("x")}
NAMED = {s.name: s for s in (SCHEMAS, *INTERNAL, *CANONICAL.values(), *(dlq_topic(d) for d in DLQ_STAGES))}


def _rows() -> list[tuple[list[str], str, str]]:
    rows = []
    for line in DOC.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", line.strip().strip("|"))]
        if len(cells) == 4 and cells[0].startswith("`"):
            rows.append((re.findall(r"`([^`]+)`", cells[0]), cells[1].replace("\\|", "|").replace("**", ""), cells[2]))
    return rows


def _cleanup(spec: TopicSpec) -> str:
    cfg = spec.configs()
    if cfg["cleanup.policy"] == "compact":
        return "**compact**"
    ms = int(cfg["retention.ms"])
    return "delete, kept forever" if ms == -1 else f"delete, {ms // 3_600_000} h"


def _spec(name: str) -> TopicSpec:
    return TEMPLATES.get(name) or NAMED[name]


def test_every_declared_topic_has_a_row() -> None:
    documented = {name for names, _, _ in _rows() for name in names}
    assert set(NAMED) | set(TEMPLATES) <= documented, sorted(set(NAMED) | set(TEMPLATES) - documented)
    assert documented <= set(NAMED) | set(TEMPLATES), sorted(documented - set(NAMED) - set(TEMPLATES))


def test_cleanup_and_retention_are_what_the_broker_is_given() -> None:
    wrong = {
        name: (cleanup, _cleanup(_spec(name)))
        for names, _key, cleanup in _rows()
        for name in names
        if cleanup != _cleanup(_spec(name))
    }
    assert wrong == {}


def test_canonical_topics_keys_are_the_ones_the_code_describes() -> None:
    public = {s.name for s in CANONICAL.values()} | {SCHEMAS.name}
    wrong = {
        name: (key, _spec(name).key)
        for names, key, _ in _rows()
        for name in names
        if name in public and key != _spec(name).key
    }
    assert wrong == {}


def test_credential_events_are_keyed_as_the_topic_says_local_worker_ids() -> None:
    """What the connectors really publish on events.credential (every vendor sample): the issuer's local
    worker id <vendor>:<trust>:<id> as key field, never a hub person id (those are p-<uuid>)."""
    import json

    samples = Path(__file__).resolve().parents[3] / "mapping" / "samples"
    local = re.compile(r"^(?P<vendor>[a-z_]+):(?P<trust>[A-Z0-9]{3,5}):.+$")
    seen = 0
    for f in sorted(samples.glob("*/*.expected.jsonl")):
        for line in f.read_text(encoding="utf-8").splitlines():
            event = json.loads(line)
            if not event["type"].startswith("rosterhub.credential."):
                continue
            m = local.match(event["data"]["person_id"])
            assert m and event["source"].startswith(f"/vendors/{m['vendor']}/"), (f.name, event["data"]["person_id"])
            seen += 1
    assert seen > 0
    assert CANONICAL["credential"].key.startswith("local worker id"), CANONICAL["credential"].key
