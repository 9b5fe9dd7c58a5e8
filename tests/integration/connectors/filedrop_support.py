"""Helpers for the file-drop connector tests (HealthRoster, NHSP, ESR) on the real broker."""

from __future__ import annotations

import json
import shutil
import threading
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kafka.consumer.fetcher import ConsumerRecord

from rosterhub.codec.catalogue import default_catalogue
from rosterhub.codec.wire import SingleObjectCodec
from rosterhub.connectors.kinds import runner
from rosterhub.connectors.pipeline import IngestContext, packaged_mapping
from rosterhub.connectors.registry import connector, connectors
from rosterhub.connectors.runtime import connector_context
from rosterhub.connectors.simulators.healthroster import HealthRosterSimulator
from rosterhub.envelope import KafkaRecord, decode_record, headers_dict
from rosterhub.kafka.access import access_from_settings
from rosterhub.kafka.admin import ensure_topics, topic_counts
from rosterhub.mapping.engine import MappingSpec, apply_mapping
from rosterhub.runtime import TopicNames
from rosterhub.settings import Settings
from rosterhub.topics import CANONICAL, declared_topics
from tests.integration.helpers import read_topic

REPORT = ".report.json"


@dataclass(frozen=True)
class Hub:
    settings: Settings
    bootstrap: str
    names: TopicNames

    def count(self, topic: str) -> int:
        return topic_counts(access_from_settings(self.settings), [topic])[0].messages

    def counts(self, *topics: str) -> dict[str, int]:
        return {c.topic: c.messages for c in topic_counts(access_from_settings(self.settings), topics)}

    def records(self, topic: str) -> list[ConsumerRecord]:
        n = self.count(topic)
        return read_topic(self.bootstrap, topic, at_least=n, timeout=30) if n else []

    def events(self) -> list[tuple[str, str, dict[str, Any]]]:
        """(type name, ce_id, data) of every canonical event on every events.* topic."""
        codec = SingleObjectCodec(default_catalogue())
        out = []
        for domain in CANONICAL:
            for rec in self.records(self.names.events(domain)):
                env = decode_record(rec.value, rec.headers, codec)
                out.append((env.type.rsplit(".", 1)[-1], env.id, env.data))
        return out

    def event_ids(self) -> Counter[str]:
        return Counter(eid for _, eid, _ in self.events())

    def dead_letters(self, stage: str) -> list[tuple[dict[str, bytes], bytes]]:
        return [(headers_dict(r.headers), r.value) for r in self.records(self.names.dlq(stage))]


def prepare(settings: Settings) -> Hub:
    bootstrap = settings.kafka_bootstrap_servers
    assert bootstrap
    ensure_topics(
        access_from_settings(settings),
        declared_topics(connectors(), settings.topic_prefix),
        default_partitions=settings.default_partitions,
        replication_factor=1,
    )
    return Hub(settings, bootstrap, TopicNames(settings.topic_prefix))


class SimulatedCrash(BaseException):
    """The process dies: not an ``Exception``, so nothing in the connector handles it."""


class CrashingSink:
    """An EventSink that lets ``after`` records through (acknowledged), then dies in the middle of a batch."""

    def __init__(self, inner: Any, after: int) -> None:
        self.inner, self.left = inner, after
        self.producer, self.kafka = inner.producer, inner.kafka

    def send(self, records: Sequence[KafkaRecord]) -> list[tuple[int, int]]:
        records = list(records)
        if len(records) <= self.left:
            self.left -= len(records)
            return self.inner.send(records)
        self.inner.send(records[: self.left])
        self.left = 0
        raise SimulatedCrash("killed mid-batch")

    def close(self) -> None:
        self.inner.close()


@contextmanager
def context(
    hub: Hub,
    *,
    secrets: Mapping[str, bytes] | None = None,
    crash_after: int | None = None,
    mapping_for: Callable[[str, str | None], MappingSpec] | None = None,
) -> Iterator[IngestContext]:
    with connector_context(hub.settings, access_from_settings(hub.settings)) as ctx:
        if secrets:
            ctx.secrets = dict(secrets)
        if mapping_for:
            ctx.mapping_for = mapping_for
        if crash_after is not None:
            real = ctx.sink
            ctx.sink = CrashingSink(real, crash_after)  # type: ignore[assignment]
            try:
                yield ctx
            finally:
                ctx.sink = real
        else:
            yield ctx


def run_once(hub: Hub, vendor: str, options: Mapping[str, Any], **kw: Any) -> None:
    """One ``rosterhub connect <vendor> --once`` in this process (fresh context: a restart each time)."""
    with context(hub, **kw) as ctx:
        runner("filedrop")(connector(vendor), ctx, {"settle_s": 0, **options}, threading.Event(), once=True)


def expected_ids(
    files: Sequence[Path],
    mapping_of: Mapping[str, str],
    trust_of: Mapping[Path, str | None],
    secrets: Mapping[str, bytes] | None = None,
) -> Counter[str]:
    """Event ids the mapping layer makes of these files, by the pure path (what the topics must hold once)."""
    ids: Counter[str] = Counter()
    for f in files:
        mapping = next(m for pattern, m in mapping_of.items() if f.match(pattern))
        trust = trust_of.get(f.parent)
        spec = packaged_mapping(mapping, trust)
        out = apply_mapping(spec, f.read_bytes(), received_at=datetime.now(UTC), trust=trust, secrets=secrets)
        ids.update({e.id for e in out.events})
    return Counter({k: 1 for k in ids})


def reports(folder: Path) -> dict[str, dict[str, Any]]:
    return {p.name[: -len(REPORT)]: json.loads(p.read_text()) for p in sorted(folder.glob("*" + REPORT))}


def newest_report(inbox: Path) -> dict[str, Any]:
    """The record counts of the newest file's report in ``inbox/processed``: exports of one day share a name,
    which processed/ keeps apart (name-1.xml), so the newest is the one the last run wrote."""
    newest = max((inbox / "processed").glob("*" + REPORT), key=lambda p: p.stat().st_mtime_ns)
    records: dict[str, Any] = json.loads(newest.read_text())["records"]
    return records


def connect_roster(hub: Hub, roster: HealthRosterSimulator, sftp: Path, trust: str) -> dict[str, Any]:
    """The roster exports what changed into ``sftp/<trust>``; one run of the file-drop connector over that
    inbox; the export's report."""
    assert roster.export(sftp)
    run_once(hub, "healthroster", {"inboxes": [{"path": str(sftp / trust), "trust": trust}]})
    return newest_report(sftp / trust)


def drop(inbox: Path, name: str, data: bytes) -> Path:
    inbox.mkdir(parents=True, exist_ok=True)
    part = inbox / (name + ".part")
    part.write_bytes(data)
    return part.rename(inbox / name)


def copy_in(files: Sequence[Path], inbox: Path) -> list[Path]:
    inbox.mkdir(parents=True, exist_ok=True)
    return [Path(shutil.copy2(f, inbox / f.name)) for f in files]
