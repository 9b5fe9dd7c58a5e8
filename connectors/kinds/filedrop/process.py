"""Process one dropped file, exactly once: the steps and the order they happen in.

1. **Refuse** what cannot be taken at all: an entry that is not a file the hub reads
   (a name that is not UTF-8, a hidden file, a symbolic link, a FIFO: ``file_refused``),
   over ``max_file_bytes``, or a name no file kind matches. The file goes to ``failed/``;
   its bytes (up to 4 MiB, redacted when the mapping has personal data; none for links and
   special files, which are never read) go to ``dlq.ingest``. Nothing reaches the raw
   topic: this is the file-drop twin of the webhook's 413.
2. **Duplicate?** The file kind and content hash are the file's identity
   (``file:<mapping>:<sha256>`` in the dedupe store): a byte-identical file of the same kind
   dropped again goes to ``processed/`` with a report naming the earlier file, and nothing
   is published. Files in ``reprocess/`` skip this check (an operator's request after a
   mapping fix); event ids still dedupe.
3. **Recover** an earlier attempt that died mid-publish (``fence``).
4. **Raw first**: the file is mapped in memory, then the whole file, one payload, goes to
   ``raw.<vendor>`` through the one inbound path (``connectors/receipt.py``: personal fields
   redacted, keyed values in ``rh_keyed``) with ``rh_file_name``, ``rh_file_sha256`` and
   ``rh_mapping`` headers.
5. **Whole-file checks** (vendor hook). A failure sends that reason to ``dlq.mapping``
   and the file to ``failed/``.
6. **Publish** through the shared pipeline: canonical events (deduplicated by event id),
   rejected records to ``dlq.mapping`` (a whole-file rejection as the redacted copy); a
   failure the hub did not expect is dead-lettered (``internal_error``) and fails the file.
7. **Hook follow-up** (ESR reconciliation), then the file's offset is yielded: its details
   under ``file:<mapping>:<sha256>``, then that key marked seen, both stored by the connector
   runtime (not here) before this generator goes on to write the report and move the file.
   A crash anywhere before the move repeats the file; the dedupe store and the fence make
   the repeat publish nothing twice.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Generator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rosterhub.connectors import metrics
from rosterhub.connectors.base import SourceOffset
from rosterhub.connectors.kinds.filedrop.fence import InflightClaims, clear_inflight, load_inflight, recover
from rosterhub.connectors.kinds.filedrop.report import FileReport, move_with_report, unique_destination
from rosterhub.connectors.kinds.filedrop.routes import DroppedFile, FileHook, FileKind, route
from rosterhub.connectors.kinds.filedrop.scan import Candidate
from rosterhub.connectors.pipeline import (
    IngestContext,
    IngestFailed,
    IngestResult,
    internal_error,
    map_payload,
    publish_mapped,
)
from rosterhub.connectors.receipt import DLQ_VALUE_LIMIT, Receipt, Received, receipt_headers, write_raw
from rosterhub.deadletter import dead_letter
from rosterhub.errors import FileRefused, InputError, PayloadTooLarge, RosterhubError
from rosterhub.kafka.access import KafkaAccess
from rosterhub.mapping.engine import MappingSpec
from rosterhub.mapping.engine.redact import redact_payload

if TYPE_CHECKING:
    from rosterhub.connectors.kinds.filedrop.transport import InboxOptions  # transport imports this module

__all__ = ["DLQ_VALUE_LIMIT", "InboxPlan", "give_up", "process_file"]


@dataclass(frozen=True)
class InboxPlan:
    """Everything about one inbox that does not change between files (built once at start)."""

    vendor: str
    inbox: InboxOptions  # the folder, its trust and where files go: as configured, not copied
    kinds: tuple[FileKind, ...]
    specs: dict[str, MappingSpec]  # mapping name -> loaded spec (trust variant applied)
    secrets: dict[str, bytes]
    max_file_bytes: int
    kafka: KafkaAccess  # the fence reads the broker with the connector's own access
    hook: FileHook | None = None


def _file_key(kind: FileKind, sha256: str) -> str:
    return f"file:{kind.mapping}:{sha256}"


def _legacy_file_key(sha256: str) -> str:
    return f"file:{sha256}"


_REFUSALS = {
    "name": "the file name is not valid UTF-8, so it cannot be named in a report, a header or a log; "
    "rename it (it is shown with %xx for the bytes that are not UTF-8)",
    "hidden": "hidden files (a name starting with '.') are not taken: rename it if it is an export",
    "symlink": "symbolic links are not followed (a link could point anywhere on the host): put the file itself "
    "in the inbox",
    "special": "not a regular file (a FIFO, socket or device): only files are taken",
}


def process_file(
    ctx: IngestContext, plan: InboxPlan, cand: Candidate, *, now: datetime | None = None
) -> Generator[SourceOffset, None, FileReport]:
    """Take one settled file all the way to processed/ or failed/. Broker errors propagate (the file stays).

    Yields the finished file's offsets; the caller (the connector runtime) stores them before resuming."""
    assert ctx.state is not None, "the file-drop transport needs the dedupe store"
    received_at = now or datetime.now(UTC)
    name = cand.name
    kind, spec = _kind(plan, cand)
    report = _report(plan, cand, received_at)
    report.kind, report.mapping = (kind.label if kind else None), (spec.path.name if spec else None)
    metrics.RECEIVED.labels(plan.vendor).inc()
    if cand.problem is not None:
        refusal = FileRefused(f"{name}: {_REFUSALS[cand.problem]}", problem=cand.problem)
        return _refuse(ctx, plan, cand, report, refusal, None, cand.problem, read=cand.problem in ("name", "hidden"))
    if cand.size > plan.max_file_bytes:
        error: InputError = PayloadTooLarge(
            f"{name} is {cand.size} bytes, over the limit of {plan.max_file_bytes} (max_file_bytes)"
        )
        return _refuse(ctx, plan, cand, report, error, spec, "too_large")
    payload = cand.path.read_bytes()
    report.size = len(payload)
    report.sha256 = hashlib.sha256(payload).hexdigest()
    if kind is None or spec is None:
        patterns = ", ".join(k.pattern for k in plan.kinds)
        error = InputError(f"{name} matches none of this connector's file name patterns ({patterns})")
        return _refuse(ctx, plan, cand, report, error, None, "unknown_file")

    earlier = _earlier(ctx, plan, kind, report.sha256)
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
        plan.vendor,
        name,
        plan.inbox.path,
        plan.inbox.trust,
        kind,
        spec,
        report.sha256,
        report.correlation_id,
        received_at,
    )
    try:
        _take(ctx, plan, file, payload, claims, report)
    except PayloadTooLarge as exc:  # the raw copy with its keyed values would not fit a record
        claims.done()
        return _refuse(ctx, plan, cand, report, exc, spec, "too_large")
    if report.status == "processed" and plan.hook is not None:
        report.sections.update(plan.hook.after(payload, file, ctx.state))
    claims.done()
    return (yield from _finish(plan, cand, kind, report))


def _take(
    ctx: IngestContext, plan: InboxPlan, file: DroppedFile, payload: bytes, claims: InflightClaims, report: FileReport
) -> None:
    """Steps 4-6: map in memory, write the redacted raw copy (with its keyed values), check, publish."""
    # the mapping is named by the raw record's rh_mapping header: live and `rosterhub replay` pick the same file
    fenced = replace(ctx, state=claims, secrets=plan.secrets)
    receipt = Receipt(
        trust=plan.inbox.trust,
        content_type=file.kind.content_type,
        received_at=file.received_at,
        correlation_id=file.correlation_id,
        extra=_raw_extra(file),
    )
    headers = receipt_headers(plan.vendor, **receipt)
    mapped = map_payload(
        fenced, plan.vendor, payload, trust=plan.inbox.trust, received_at=file.received_at, headers=headers
    )
    keyed = mapped.outcome.keyed if mapped.outcome is not None else None
    received = write_raw(ctx, plan.vendor, payload, key=file.sha256.encode(), keyed=keyed, **receipt)
    claims.set_raw(received.origin)
    report.raw = dict(zip(("topic", "partition", "offset"), received.origin, strict=True))
    whole_file_error = plan.hook.check(payload, file) if plan.hook is not None else None
    if whole_file_error is not None:
        _dead_letter_file(fenced, plan, report, whole_file_error, received)
        return
    try:
        result = publish_mapped(fenced, plan.vendor, mapped, received, correlation_id=file.correlation_id)
    except IngestFailed as exc:  # kept (raw topic) and dead-lettered with the reason: the file fails
        report.status, report.reason = "failed", exc.as_dict()
        report.rejected = [{"record": "payload", **exc.as_dict()}]
        return
    _record_result(report, result)


def _raw_extra(file: DroppedFile) -> dict[str, str]:
    # mapping: the file's stem, trust variant included (healthroster.RXY), so a replay finds that very file
    return {"file_name": file.name, "file_sha256": file.sha256, "mapping": file.spec.path.stem}


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
    ctx: IngestContext, plan: InboxPlan, report: FileReport, error: InputError, received: Received
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
            original=received.kept.value[:DLQ_VALUE_LIMIT],
            connector=plan.vendor,
            origin=received.origin,
            record_ref="payload",
            original_headers=received.record.headers,
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
    error: RosterhubError,
    spec: MappingSpec | None,
    reason: str,
    *,
    read: bool = True,
) -> FileReport:
    """Refused before the raw write: the file to failed/, its (redacted) bytes and the reason to dlq.ingest.

    ``read=False`` (links, FIFOs): nothing is read; the dead letter holds no bytes.
    """
    head = b""
    if read:
        with open(cand.path, "rb") as fh:
            head = fh.read(DLQ_VALUE_LIMIT)
        if not report.sha256:
            report.sha256 = hashlib.sha256(head).hexdigest() + ("-first-4MiB" if cand.size > len(head) else "")
    else:
        report.notes.append("the dead letter carries no bytes: the entry was not read")
    extra = {"file_name": cand.name}
    if head and spec is None and any(s.sensitive for s in plan.specs.values()):
        head = b""  # which layout applies is unknown, and this vendor's files carry personal data
        report.notes.append("the dead letter carries no bytes: this vendor's files hold personal data")
    elif head and spec is not None:
        kept = redact_payload(spec, head)
        head = kept.value
        if kept.fields:
            extra["redacted"] = kept.header
    headers = receipt_headers(
        plan.vendor,
        trust=plan.inbox.trust,
        content_type="application/octet-stream",
        received_at=report.received_at,
        correlation_id=report.correlation_id,
        extra=extra,
    )
    topic = ctx.names.dlq("ingest")
    record = dead_letter(
        topic=topic,
        stage="ingest",
        error=error,
        original=head,
        connector=plan.vendor,
        record_ref="payload",
        original_headers=headers,
    )
    ctx.sink.send([record])
    report.status, report.reason = "failed", error.as_dict()
    report.dead_letters.append({"topic": topic, "code": error.code, "bytes": len(head)})
    metrics.REFUSED.labels(plan.vendor, reason).inc()
    return _move(plan, cand, report)


def give_up(ctx: IngestContext, plan: InboxPlan, cand: Candidate, exc: BaseException) -> FileReport:
    """A file the hub failed on in a way it was not written to expect: to failed/ with the reason, never
    retried for ever (issue #12: one bad file held up every trust's files). Its bytes go to dlq.ingest."""
    report = _report(plan, cand, datetime.now(UTC))
    _, spec = _kind(plan, cand)
    error = internal_error(exc, "processing")
    readable = cand.problem in (None, "name", "hidden")
    return _refuse(ctx, plan, cand, report, error, spec, "internal_error", read=readable)


def _kind(plan: InboxPlan, cand: Candidate) -> tuple[FileKind | None, MappingSpec | None]:
    """The kind of file ``cand`` is by its name, and that kind's mapping (None, None: a name no kind takes)."""
    kind = route(cand.name, plan.kinds) if cand.problem is None else None
    return kind, plan.specs[kind.mapping] if kind else None


def _report(plan: InboxPlan, cand: Candidate, received_at: datetime) -> FileReport:
    """A new report on ``cand`` (its kind and mapping are the caller's to add), with its own correlation id."""
    return FileReport(
        file=cand.name,
        inbox=str(plan.inbox.path),
        vendor=plan.vendor,
        trust=plan.inbox.trust,
        sha256="",
        size=cand.size,
        correlation_id=str(uuid.uuid4()),
        received_at=received_at,
    )


def _earlier(ctx: IngestContext, plan: InboxPlan, kind: FileKind, sha256: str) -> dict[str, Any] | None:
    """What became of a file of this kind with these bytes before, if one was processed.

    The key is the kind's mapping and the content hash: an empty CSV is not a repeat of an
    empty XML. Files finished before the kind was part of the key (``file:<sha256>``) still
    count when their recorded name is of the same kind.
    """
    assert ctx.state is not None
    key = _file_key(kind, sha256)
    text = ctx.state.position(plan.vendor, key)
    if text:
        return dict(json.loads(text))
    if ctx.state.seen(plan.vendor, key):
        return {"file": "(unknown: processed before this connector kept file details)"}
    legacy = ctx.state.position(plan.vendor, _legacy_file_key(sha256))
    if legacy:
        earlier = dict(json.loads(legacy))
        if route(str(earlier.get("file", "")), plan.kinds) == kind:
            return earlier
    return None


def _already_seen(plan: InboxPlan, cand: Candidate, report: FileReport, earlier: dict[str, Any]) -> FileReport:
    moved = earlier.get("moved_to")
    same_file = earlier.get("file") == cand.name and earlier.get("inbox") == str(plan.inbox.path)
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


def _finish(
    plan: InboxPlan, cand: Candidate, kind: FileKind, report: FileReport
) -> Generator[SourceOffset, None, FileReport]:
    metrics.MAPPED.labels(plan.vendor).inc(report.events)
    metrics.DUPLICATES.labels(plan.vendor).inc(report.duplicates)
    for rejected in report.rejected:
        metrics.REJECTED.labels(plan.vendor, rejected.get("code", "unknown")).inc()
    report.moved_to = str(unique_destination(_folder(plan, report.status), cand.name))
    key = _file_key(kind, report.sha256)
    # The file's details, then its "seen" mark (SourceOffset stores them in that order): a kill between the
    # writes leaves the details findable (the next run finishes the move as this file's own), never a bare
    # "seen" mark that makes the file a duplicate of itself. The runtime stores both before the move.
    yield SourceOffset(key, json.dumps(report.summary()), done=True)
    return _move(plan, cand, report)


def _folder(plan: InboxPlan, status: str) -> Path:
    return plan.inbox.failed if status == "failed" else plan.inbox.processed


def _move(plan: InboxPlan, cand: Candidate, report: FileReport, folder: Path | None = None) -> FileReport:
    if report.moved_to:
        destination = Path(report.moved_to)
    else:
        destination = unique_destination(folder or _folder(plan, report.status), cand.name)
    report.moved_to = str(destination)
    report.finished_at = datetime.now(UTC)
    move_with_report(cand.path, destination, report.as_dict(), marker=cand.marker)
    return report
