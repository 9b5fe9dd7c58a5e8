"""File-drop transport: vendors export files into folders (SFTP inboxes); the hub picks them up.

Used by HealthRoster-style exports, NHSP-style CSV files and ESR-style interface files.
``rosterhub connect <vendor>`` runs :func:`run` through the connector runtime
(:func:`rosterhub.connectors.runtime.run_connector`), which stores each finished file's details
and "seen" mark that :func:`run` yields; options come from
``settings.connectors[<vendor>]`` (``ROSTERHUB_CONNECTORS`` JSON or ``[connectors.<vendor>]``
in TOML), for example::

    [connectors.esr]
    poll_interval_s = 30
    settle_s = 10
    max_file_bytes = 7000000          # a monthly full refresh is bigger than one webhook
    secrets = {esr_identity = "ESR_IDENTITY_SECRET"}   # env var holding the secret
    inboxes = [
      {path = "/srv/sftp/rxx/esr", trust = "RXX"},
      {path = "/srv/sftp/rxy/esr", trust = "RXY"},
    ]

Each inbox is one trust's drop folder (a collaborative has several); ``trust`` is the
trust that drops there and picks its mapping variant (``variant`` names another trust's
variant when a trust configured its system like a partner). Per file: exactly once, raw
first, a report next to the moved file; the steps are in ``process``. A file
moved into ``<inbox>/reprocess/`` (e.g. from ``failed/`` after a mapping fix) is taken
again although its content was seen: only what was not published before is published.
One connector process per inbox: two processes on one folder would race for the files.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Generator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from rosterhub.connectors import metrics
from rosterhub.connectors.base import ConnectorSpec, SourceOffset, SourceRun
from rosterhub.connectors.kinds import backpressure
from rosterhub.connectors.kinds.filedrop import TRANSPORT
from rosterhub.connectors.kinds.filedrop.process import InboxPlan, give_up, process_file
from rosterhub.connectors.kinds.filedrop.routes import FileDropQuirks
from rosterhub.connectors.kinds.filedrop.scan import Candidate, Settler
from rosterhub.connectors.pipeline import IngestContext
from rosterhub.connectors.runtime import SECRET_ENV_PREFIX
from rosterhub.errors import BrokerUnavailable, ConfigError
from rosterhub.kafka.limits import MAX_RECORD_BYTES
from rosterhub.ods import TRUST_OR_SITE
from rosterhub.settings import load_settings

__all__ = ["DEFAULT_MAX_FILE_BYTES", "MAX_FILE_BYTES_CAP", "FileDropOptions", "InboxOptions", "build_plans", "run"]

log = logging.getLogger(__name__)

#: The default limit: the ``max_payload_bytes`` setting's default, as for webhooks.
DEFAULT_MAX_FILE_BYTES = 1_048_576
#: The raw topic takes the whole file as one record, at most ``MAX_RECORD_BYTES`` with its headers: a
#: connector's ``max_file_bytes`` may go up to that less 512 KiB (a file whose keyed values would not fit
#: beside it is still refused whole by ``write_raw``, as ``payload_too_large``).
MAX_FILE_BYTES_CAP = MAX_RECORD_BYTES - 512 * 1024
_RETRY_CAP_S = 300.0


class InboxOptions(BaseModel):
    """One drop folder."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    path: Path = Field(description="The folder the vendor drops files into.")
    trust: str | None = Field(None, description="ODS code of the trust dropping here; picks its mapping variant.")
    variant: str | None = Field(None, description="Use this trust's mapping variant instead of `trust`'s.")
    processed_dir: Path | None = Field(None, description="Where processed files go (default <path>/processed).")
    failed_dir: Path | None = Field(None, description="Where failed files go (default <path>/failed).")
    reprocess_dir: Path | None = Field(
        None, description="Files put here are taken again even if seen before (default <path>/reprocess)."
    )

    @field_validator("trust", "variant")
    @classmethod
    def _ods(cls, value: str | None) -> str | None:
        if value is None:
            return None
        code = value.strip().upper()
        if not TRUST_OR_SITE.fullmatch(code):
            raise ValueError(f"{value!r} is not an ODS code (3 characters for a trust, 5 for a site)")
        return code

    @property
    def processed(self) -> Path:
        return self.processed_dir or self.path / "processed"

    @property
    def failed(self) -> Path:
        return self.failed_dir or self.path / "failed"

    @property
    def reprocess(self) -> Path:
        return self.reprocess_dir or self.path / "reprocess"


class FileDropOptions(BaseModel):
    """Options of a file-drop connector (``settings.connectors[<vendor>]``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    inboxes: list[InboxOptions] = Field(min_length=1)
    poll_interval_s: float = Field(5.0, gt=0, description="Seconds between looks at the inboxes.")
    settle_s: float = Field(
        2.0, ge=0, description="A file is taken once its size and mtime have not changed for this long."
    )
    done_suffix: str | None = Field(
        None, description="When set (e.g. `.done`), a file is taken only once `<name><done_suffix>` exists."
    )
    max_file_bytes: int | None = Field(
        None,
        ge=1,
        le=MAX_FILE_BYTES_CAP,
        description="Larger files are refused (failed/, dlq.ingest). Default: the vendor's, else 1 MiB.",
    )
    secrets: dict[str, str] = Field(
        default_factory=dict,
        description="Secret name -> environment variable holding it (default ROSTERHUB_MAPPING_SECRET_<NAME>).",
    )
    create_dirs: bool = Field(True, description="Create missing inbox, processed and failed folders at start.")


def parse_options(spec: ConnectorSpec, options: Mapping[str, Any]) -> FileDropOptions:
    try:
        return FileDropOptions.model_validate(dict(options))
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or '(options)'}: {e['msg']}" for e in exc.errors())
        raise ConfigError(f"connectors.{spec.id} options are invalid: {problems}", vendor=spec.id) from None


def _quirks(spec: ConnectorSpec) -> FileDropQuirks:
    quirks = TRANSPORT.quirks_of(spec)
    assert isinstance(quirks, FileDropQuirks)
    return quirks


def _secrets(
    spec: ConnectorSpec, needed: set[str], ctx: IngestContext, opts: FileDropOptions, environ: Mapping[str, str]
) -> dict[str, bytes]:
    out = dict(ctx.secrets)
    for name in sorted(needed - set(out)):
        variable = opts.secrets.get(name, SECRET_ENV_PREFIX + name.upper())
        value = environ.get(variable)
        if not value:
            raise ConfigError(
                f"connector {spec.id} needs the secret {name!r} for its mapping: set the environment variable "
                f"{variable} (or name another one in connectors.{spec.id}.secrets.{name})",
                vendor=spec.id,
            )
        out[name] = value.encode()
    return out


def build_plans(
    spec: ConnectorSpec, ctx: IngestContext, opts: FileDropOptions, environ: Mapping[str, str] | None = None
) -> list[InboxPlan]:
    """Check everything that can be checked before the first file: folders, mappings, secrets."""
    environ = os.environ if environ is None else environ
    quirks = _quirks(spec)
    kinds = quirks.files
    max_bytes = opts.max_file_bytes or quirks.max_file_bytes or DEFAULT_MAX_FILE_BYTES
    paths = [i.path.resolve() for i in opts.inboxes]
    if len(set(paths)) != len(paths):
        raise ConfigError(f"connectors.{spec.id}: an inbox folder is listed twice", vendor=spec.id)
    plans = []
    for inbox in opts.inboxes:
        if quirks.inbox_trust_required and inbox.trust is None:
            raise ConfigError(f"connectors.{spec.id}: inbox {inbox.path} must name its trust", vendor=spec.id)
        for folder in (inbox.path, inbox.processed, inbox.failed, inbox.reprocess):
            if opts.create_dirs:
                folder.mkdir(parents=True, exist_ok=True)
            elif not folder.is_dir():
                raise ConfigError(f"connectors.{spec.id}: folder {folder} does not exist", vendor=spec.id)
        specs = {k.mapping: ctx.mapping_for(k.mapping, inbox.variant or inbox.trust) for k in kinds}
        needed = {name for mapping in specs.values() for name in mapping.secrets}
        plans.append(
            InboxPlan(
                vendor=spec.id,
                inbox=inbox,
                kinds=kinds,
                specs=specs,
                secrets=_secrets(spec, needed, ctx, opts, environ),
                max_file_bytes=max_bytes,
                kafka=ctx.sink.kafka,
                hook=quirks.hook,
            )
        )
    return plans


@dataclass
class _Retry:
    at: float
    failures: int


class _Loop:
    """Scans the inboxes and processes ready files, one at a time, oldest name first."""

    def __init__(self, spec: ConnectorSpec, ctx: IngestContext, opts: FileDropOptions, *, once: bool) -> None:
        self.spec, self.ctx, self.opts, self.once = spec, ctx, opts, once
        self.plans = build_plans(spec, ctx, opts)
        partial = _quirks(spec).partial_suffixes
        self.settlers = {
            folder: Settler(opts.settle_s, done_suffix=opts.done_suffix, partial_suffixes=partial)
            for p in self.plans
            for folder in (p.inbox.path, p.inbox.reprocess)
        }
        self.retries: dict[Path, _Retry] = {}

    def pass_once(self, stop: threading.Event) -> Generator[SourceOffset, None, int]:
        """Process every ready file once, yielding each finished file's offsets; returns how many files are
        still waiting to settle."""
        waiting_total = 0
        oldest: float | None = None
        for plan, folder in ((p, f) for p in self.plans for f in (p.inbox.path, p.inbox.reprocess)):
            ready, waiting = self.settlers[folder].scan(folder, time.time())
            waiting_total += len(waiting)
            for cand in ready + waiting:
                oldest = cand.mtime if oldest is None else min(oldest, cand.mtime)
            for cand in ready:
                if stop.is_set():
                    return waiting_total
                yield from self._one(plan, replace(cand, reprocess=folder == plan.inbox.reprocess))
        metrics.LAG.labels(self.spec.id).set(0 if oldest is None else max(0.0, time.time() - oldest))
        return waiting_total

    def _one(self, plan: InboxPlan, cand: Candidate) -> Generator[SourceOffset, None, None]:
        retry = self.retries.get(cand.path)
        if retry is not None and time.monotonic() < retry.at:
            return
        started = time.perf_counter()
        try:
            report = yield from process_file(self.ctx, plan, cand)
        except (BrokerUnavailable, OSError) as exc:  # may pass: the file stays and is tried again
            if self.once:
                raise
            failures = retry.failures + 1 if retry else 1
            delay = min(_RETRY_CAP_S, self.opts.poll_interval_s * 2**failures)
            self.retries[cand.path] = _Retry(time.monotonic() + delay, failures)
            log.warning(
                "file left in the inbox, retried in %.0f s: %s",
                delay,
                exc,
                extra={"vendor": plan.vendor, "file": cand.name},
            )
            return
        except ConfigError:
            raise
        except Exception as exc:  # will not pass by retrying: failed/ with the reason, the other files go on
            log.error("file failed: %s", exc, extra={"vendor": plan.vendor, "file": cand.name}, exc_info=True)
            try:
                report = give_up(self.ctx, plan, cand, exc)
            except (BrokerUnavailable, OSError) as again:  # could not even be moved or dead-lettered: later
                self.retries[cand.path] = _Retry(time.monotonic() + _RETRY_CAP_S, (retry.failures if retry else 0) + 1)
                log.warning(
                    "failed file left in the inbox: %s", again, extra={"vendor": plan.vendor, "file": cand.name}
                )
                return
        self.retries.pop(cand.path, None)
        self.settlers[cand.path.parent].forget(cand.path)
        metrics.LATENCY.labels(plan.vendor).observe(time.perf_counter() - started)
        log.info(
            "file %s",
            report.status,
            extra={
                "vendor": plan.vendor,
                "file": report.file,
                "trust": plan.inbox.trust,
                "status": report.status,
                "correlation_id": report.correlation_id,
                "events": report.events,
                "duplicates": report.duplicates,
                "rejected": len(report.rejected),
                "moved_to": report.moved_to,
            },
        )


def run(
    spec: ConnectorSpec,
    ctx: IngestContext,
    options: Mapping[str, Any],
    stop: threading.Event,
    *,
    once: bool = False,
) -> SourceRun:
    """Watch the inboxes until ``stop`` is set; ``once``: take what is there (waiting for it to settle) and return.

    Blocking; a file is never half-taken when ``stop`` is set: the current file finishes first. Yields each
    finished file's offsets (its details, then its "seen" mark) for the runtime to store before the move.
    """
    opts = parse_options(spec, options)
    loop = _Loop(spec, ctx, opts, once=once)
    log.info(
        "file-drop connector watching %s", ", ".join(str(p.inbox.path) for p in loop.plans), extra={"vendor": spec.id}
    )
    deadline = time.monotonic() + max(3 * opts.settle_s, opts.settle_s + 5)
    pace = None if once else backpressure.lag_for(load_settings(), ctx)
    while not stop.is_set():
        backpressure.wait_for_room(pace, stop, who=spec.id)  # the hub behind: take no new file yet
        waiting = yield from loop.pass_once(stop)
        if once and (waiting == 0 or time.monotonic() > deadline):
            if waiting:
                log.warning(
                    "%d file(s) still being written were left for the next run", waiting, extra={"vendor": spec.id}
                )
            return
        stop.wait(min(opts.poll_interval_s, max(opts.settle_s / 4, 0.05)) if once else opts.poll_interval_s)
