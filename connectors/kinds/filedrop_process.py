"""Process one dropped file, exactly once: the steps and the order they happen in.

1. **Refuse** what cannot be taken at all: over ``max_file_bytes``, or a name no file
   kind matches. The file goes to ``failed/``; its bytes (up to 4 MiB, redacted when the
   mapping has personal data) go to ``dlq.ingest``. Nothing reaches the raw topic: this
   is the file-drop twin of the webhook's 413.
2. **Duplicate?** The content hash is the file's identity (``file:<sha256>`` in the
   dedupe store): a byte-identical file dropped again goes to ``processed/`` with a
   report naming the earlier file, and nothing is published. Files in ``reprocess/``
   skip this check (an operator's request after a mapping fix); event ids still dedupe.
3. **Recover** an earlier attempt that died mid-publish (``filedrop_fence``).
4. **Raw first**: the whole file, one payload, to ``raw.<vendor>`` with ``rh_file_name``,
   ``rh_file_sha256`` and ``rh_mapping`` headers (sensitive fields redacted, see
   ``filedrop_routes.redact_copy``).
5. **Whole-file checks** (vendor hook; for mappings with personal data also the reader's
   own structure check, so that a whole-file dead letter is the redacted copy). A failure
   sends that reason to ``dlq.mapping`` and the file to ``failed/``.
6. **Map and publish** through the shared pipeline: canonical events (deduplicated by
   event id), rejected records to ``dlq.mapping``.
7. **Hook follow-up** (ESR reconciliation), then the file's key is claimed, the report
   written and the file moved. A crash anywhere before the move repeats the file;
   the dedupe store and the fence make the repeat publish nothing twice.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rosterhub.connectors import metrics
from rosterhub.connectors.kinds.filedrop_fence import InflightClaims, clear_inflight, load_inflight, recover
from rosterhub.connectors.kinds.filedrop_report import FileReport, move_with_report, unique_destination
from rosterhub.connectors.kinds.filedrop_routes import (
    DroppedFile,
    FileHook,
    FileKind,
    blank_unknown_records,
    redact_copy,
    route,
)
from rosterhub.connectors.kinds.filedrop_scan import Candidate
from rosterhub.connectors.pipeline import IngestContext, IngestResult, map_and_publish, raw_record
from rosterhub.deadletter import dead_letter
from rosterhub.errors import InputError, ParseError, PayloadTooLarge
from rosterhub.kafka.access import KafkaAccess
from rosterhub.mapping.engine import MappingSpec
from rosterhub.mapping.engine.formats import read_payload

__all__ = ["DLQ_VALUE_LIMIT", "InboxPlan", "process_file"]

DLQ_VALUE_LIMIT = 4 * 1024 * 1024  # a dead letter must fit the broker's message limit


@dataclass(frozen=True)
class InboxPlan:
    """Everything about one inbox that does not change between files (built once at start)."""

    vendor: str
    path: Path
    trust: str | None
    processed: Path
    failed: Path
    reprocess: Path
    kinds: tuple[FileKind, ...]
    specs: dict[str, MappingSpec]  # mapping name -> loaded spec (trust variant applied)
    secrets: dict[str, bytes]
    max_file_bytes: int
    kafka: KafkaAccess  # the fence reads the broker with the connector's own access
    hook: FileHook | None = None


def _file_key(sha256: str) -> str:
    return f"file:{sha256}"


def process_file(ctx: IngestContext, plan: InboxPlan, cand: Candidate, *, now: datetime | None = None) -> FileReport:
    """Take one settled file all the way to processed/ or failed/. Broker errors propagate (the file stays)."""
    assert ctx.state is not None, "the file-drop transport needs the dedupe store"
    received_at = now or datetime.now(UTC)
    path = cand.path
    kind = route(path.name, plan.kinds)
    spec = plan.specs[kind.mapping] if kind else None
    report = FileReport(
        file=path.name,
        inbox=str(plan.path),
        vendor=plan.vendor,
        trust=plan.trust,
        sha256="",
        size=cand.size,
        correlation_id=str(uuid.uuid4()),
        received_at=received_at,
        kind=kind.label if kind else None,
        mapping=spec.path.name if spec else None,
    )
    metrics.RECEIVED.labels(plan.vendor).inc()
    if cand.size > plan.max_file_bytes:
        error: InputError = PayloadTooLarge(
            f"{path.name} is {cand.size} bytes, over the limit of {plan.max_file_bytes} (max_file_bytes)"
        )
        return _refuse(ctx, plan, cand, report, error, spec, "too_large")
    payload = path.read_bytes()
    report.size = len(payload)
    report.sha256 = hashlib.sha256(payload).hexdigest()
    if kind is None or spec is None:
        patterns = ", ".join(k.pattern for k in plan.kinds)
        error = InputError(f"{path.name} matches none of this connector's file name patterns ({patterns})")
        return _refuse(ctx, plan, cand, report, error, None, "unknown_file")

    earlier = _earlier(ctx, plan, report.sha256)
    if earlier is not None and not cand.reprocess:
        return _already_seen(plan, cand, report, earlier)
    if cand.reprocess:
        report.notes.append("reprocessed on request (reprocess/): events published before are not published again")

    inflight = load_inflight(ctx.state, plan.vendor, report.sha256)
    if inflight is not None and not (inflight.events or inflight.rejects):
        clear_inflight(ctx.state, plan.vendor, report.sha256)  # it died before publishing anything
    elif inflight is not None:
        found = recover(ctx.state, plan.vendor, report.sha256, inflight, kafka=plan.kafka, names=ctx.names)
        report.notes.append(
            f"an earlier attempt was interrupted; {found.found_events} of its events were already on the broker, "
            f"{found.released_events} are published now"
        )
    claims = InflightClaims(ctx.state, plan.vendor, report.sha256)
    file = DroppedFile(
        plan.vendor, path.name, plan.path, plan.trust, kind, spec, report.sha256, report.correlation_id, received_at
    )
    # the mapping is named by the raw record's rh_mapping header: live and `rosterhub replay` pick the same file
    fenced = replace(ctx, state=claims, secrets=plan.secrets)  # type: ignore[arg-type]
    raw = raw_record(
        ctx.names,
        plan.vendor,
        redact_copy(spec, payload),
        key=report.sha256.encode(),
        trust=plan.trust,
        content_type=kind.content_type,
        received_at=received_at,
        correlation_id=report.correlation_id,
        extra=_raw_extra(file),
    )
    [(partition, offset)] = ctx.sink.send([raw])
    origin = (raw.topic, partition, offset)
    claims.set_raw(origin)
    report.raw = {"topic": raw.topic, "partition": partition, "offset": offset}

    whole_file_error = _whole_file_error(plan.hook, spec, payload, file)
    if whole_file_error is not None:
        _dead_letter_file(fenced, plan, report, whole_file_error, redact_copy(spec, payload), origin, raw.headers)
    else:
        mapped = blank_unknown_records(spec, payload) if spec.sensitive else payload
        result = map_and_publish(
            fenced,
            plan.vendor,
            mapped,
            trust=plan.trust,
            received_at=received_at,
            origin=origin,
            original_headers=raw.headers,
        )
        _record_result(report, result)
    if report.status == "processed" and plan.hook is not None:
        report.sections.update(plan.hook.after(payload, file, ctx.state))
    claims.done()
    return _finish(ctx, plan, cand, report)


def _raw_extra(file: DroppedFile) -> dict[str, str]:
    # mapping: the file's stem, trust variant included (healthroster.RXY), so a replay finds that very file
    extra = {"file_name": file.name, "file_sha256": file.sha256, "mapping": file.spec.path.stem}
    if file.spec.sensitive:
        extra["redacted"] = ",".join(sorted(file.spec.sensitive))
    return extra


def _whole_file_error(hook: FileHook | None, spec: MappingSpec, payload: bytes, file: DroppedFile) -> InputError | None:
    if hook is not None:
        error = hook.check(payload, file)
        if error is not None:
            return error
    if spec.sensitive:  # the pipeline would dead-letter an unreadable file in clear: check it here instead
        try:
            read_payload(spec.reader, payload, spec.sensitive)
        except ParseError as exc:
            return exc
    return None


def _record_result(report: FileReport, result: IngestResult) -> None:
    report.events = len(result.event_ids)
    report.count_types(result.event_types)
    report.duplicates = result.duplicates
    report.echoes = len(result.echoes)
    report.rejected = [{"record": r.record, **r.error} for r in result.rejected]
    whole = next((r for r in result.rejected if r.record == "payload"), None)
    if whole is not None:
        report.status, report.reason = "failed", dict(whole.error)
    elif result.rejected and not result.event_ids and not result.duplicates:
        report.status = "failed"
        report.reason = {"code": "all_records_rejected", "message": "no record of the file could be mapped"}


def _dead_letter_file(
    ctx: IngestContext,
    plan: InboxPlan,
    report: FileReport,
    error: InputError,
    redacted: bytes,
    origin: tuple[str, int, int],
    headers: list[tuple[str, bytes]],
) -> None:
    """A whole-file failure after the raw write: one dead letter on dlq.mapping, claimed like the pipeline's."""
    assert ctx.state is not None
    key = "reject:" + hashlib.sha256(f"{report.sha256}\x1f{error}".encode()).hexdigest()
    topic = ctx.names.dlq("mapping")
    if ctx.state.claim(plan.vendor, [key]):
        record = dead_letter(
            topic=topic,
            stage="mapping",
            error=error,
            original=redacted[:DLQ_VALUE_LIMIT],
            connector=plan.vendor,
            origin=origin,
            record_ref="payload",
            original_headers=headers,
        )
        ctx.sink.send([record])
        ctx.state.confirm(plan.vendor, [key])
    report.status, report.reason = "failed", error.as_dict()
    report.rejected = [{"record": "payload", **error.as_dict()}]
    report.dead_letters.append({"topic": topic, "code": error.code})


def _refuse(
    ctx: IngestContext,
    plan: InboxPlan,
    cand: Candidate,
    report: FileReport,
    error: InputError,
    spec: MappingSpec | None,
    reason: str,
) -> FileReport:
    with open(cand.path, "rb") as fh:
        head = fh.read(DLQ_VALUE_LIMIT)
    if not report.sha256:
        report.sha256 = hashlib.sha256(head).hexdigest() + ("-first-4MiB" if cand.size > len(head) else "")
    if spec is None and any(s.sensitive for s in plan.specs.values()):
        head = b""  # which layout applies is unknown, and this vendor's files carry personal data
        report.notes.append("the dead letter carries no bytes: this vendor's files hold personal data")
    elif spec is not None:
        head = redact_copy(spec, head)
    headers = [("rh_file_name", cand.path.name.encode()), ("rh_correlation_id", report.correlation_id.encode())]
    topic = ctx.names.dlq("ingest")
    ctx.sink.send(
        [
            dead_letter(
                topic=topic,
                stage="ingest",
                error=error,
                original=head,
                connector=plan.vendor,
                record_ref="payload",
                original_headers=headers,
            )
        ]
    )
    report.status, report.reason = "failed", error.as_dict()
    report.dead_letters.append({"topic": topic, "code": error.code, "bytes": len(head)})
    metrics.REFUSED.labels(plan.vendor, reason).inc()
    return _move(plan, cand, report)


def _earlier(ctx: IngestContext, plan: InboxPlan, sha256: str) -> dict[str, Any] | None:
    assert ctx.state is not None
    text = ctx.state.position(plan.vendor, _file_key(sha256))
    if text:
        return dict(json.loads(text))
    if ctx.state.seen(plan.vendor, _file_key(sha256)):
        return {"file": "(unknown: processed before this connector kept file details)"}
    return None


def _already_seen(plan: InboxPlan, cand: Candidate, report: FileReport, earlier: dict[str, Any]) -> FileReport:
    moved = earlier.get("moved_to")
    same_file = earlier.get("file") == cand.path.name and earlier.get("inbox") == str(plan.path)
    if same_file and moved and not Path(moved).exists():
        # this very file was finished but the connector stopped before moving it: finish the move
        report.status = earlier.get("status", "processed")
        report.correlation_id = earlier.get("correlation_id", report.correlation_id)
        report.raw = earlier.get("raw")
        report.events, report.duplicates = earlier.get("events", 0), earlier.get("duplicates", 0)
        report.notes.append("processing had finished before a restart; the move to its folder is completed now")
        report.finished_at = datetime.now(UTC)
        report.moved_to = moved
        move_with_report(cand.path, Path(moved), report.as_dict(), marker=cand.marker)
        return report
    report.status = "duplicate"
    report.duplicate_of = earlier
    report.notes.append(f"duplicate of {earlier.get('file')}: byte-identical content was processed before")
    metrics.DUPLICATES.labels(plan.vendor).inc(int(earlier.get("events", 0)))
    # a repeat of a failed file fails the same way: keep it next to the first copy, in failed/
    return _move(plan, cand, report, _folder(plan, str(earlier.get("status", "processed"))))


def _finish(ctx: IngestContext, plan: InboxPlan, cand: Candidate, report: FileReport) -> FileReport:
    assert ctx.state is not None
    metrics.MAPPED.labels(plan.vendor).inc(report.events)
    metrics.DUPLICATES.labels(plan.vendor).inc(report.duplicates)
    for rejected in report.rejected:
        metrics.REJECTED.labels(plan.vendor, rejected.get("code", "unknown")).inc()
    report.moved_to = str(unique_destination(_folder(plan, report.status), cand.path.name))
    ctx.state.claim(plan.vendor, [_file_key(report.sha256)])
    ctx.state.confirm(plan.vendor, [_file_key(report.sha256)])
    ctx.state.set_position(plan.vendor, _file_key(report.sha256), json.dumps(report.summary()))
    return _move(plan, cand, report)


def _folder(plan: InboxPlan, status: str) -> Path:
    return plan.failed if status == "failed" else plan.processed


def _move(plan: InboxPlan, cand: Candidate, report: FileReport, folder: Path | None = None) -> FileReport:
    if report.moved_to:
        destination = Path(report.moved_to)
    else:
        destination = unique_destination(folder or _folder(plan, report.status), cand.path.name)
    report.moved_to = str(destination)
    report.finished_at = datetime.now(UTC)
    move_with_report(cand.path, destination, report.as_dict(), marker=cand.marker)
    return report
