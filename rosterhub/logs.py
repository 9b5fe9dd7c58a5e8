"""Logging set-up shared by every process: structlog over the standard library.

Console lines for people, JSON lines (``ROSTERHUB_LOG_JSON=true``) for log shippers;
``extra={...}`` fields (vendor, correlation_id, ...) appear in both.

Three rules, from issue #12 (a probe's 500 rendered an 18,000-line traceback with every
frame's locals, printed a partner's API keys into ``ingress.log``, and held the event loop
for 21 s while doing it):

* **no locals**: tracebacks are the standard library's plain form, never rich's
  ``show_locals`` (structlog's default when rich is installed); a local variable is where
  a secret or a person's record sits;
* **bounded**: at most :data:`TRACEBACK_FRAMES` frames per exception (the innermost) and
  :data:`TRACEBACK_CHARS` characters per traceback;
* **no secrets**: every secret the process was configured with (webhook secrets, API keys
  and passwords in connector options, mapping secrets from the environment) is replaced by
  ``**********`` in every rendered line, whatever put it there;
* **never on the caller's thread**: records are handed to a queue and rendered by one
  listener thread, so an error path in an ``async`` route costs the event loop one
  ``queue.put``, not the rendering of a traceback.
"""

from __future__ import annotations

import atexit
import copy
import logging
import logging.handlers
import os
import queue
import re
import sys
import traceback
from collections.abc import Iterable, Mapping
from types import TracebackType
from typing import IO, Any

import structlog
from pydantic import SecretStr

__all__ = ["TRACEBACK_CHARS", "TRACEBACK_FRAMES", "configure_logging", "secret_values", "stop_logging"]

TRACEBACK_FRAMES = 20
TRACEBACK_CHARS = 16_000
MASK = "**********"
#: Option names whose values are secrets wherever they appear in connector options.
_SECRET_KEY = re.compile(r"secret|password|passwd|token|api_?key|credential|private", re.IGNORECASE)
#: Shorter values are not masked: they would blank ordinary words in every line.
_MIN_SECRET = 6

#: The one listener thread of this process (a list so that it is replaced without a ``global`` statement).
_listeners: list[logging.handlers.QueueListener] = []

ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None]


def format_traceback(exc_info: ExcInfo) -> str:
    """The plain traceback of ``exc_info``: no locals, the innermost frames only, bounded in size."""
    text = "".join(traceback.format_exception(*exc_info, limit=-TRACEBACK_FRAMES))
    if len(text) > TRACEBACK_CHARS:
        left_out = len(text) - TRACEBACK_CHARS // 2
        text = (
            f"{text[: TRACEBACK_CHARS // 4]}\n... ({left_out} characters left out) ...\n{text[-TRACEBACK_CHARS // 4 :]}"
        )
    return text.rstrip("\n")


def _console_exception(sio: IO[str], exc_info: ExcInfo) -> None:
    sio.write("\n" + format_traceback(exc_info))


def _json_exception(exc_info: ExcInfo) -> str:
    return format_traceback(exc_info)


def secret_values(settings: Any = None, environ: Mapping[str, str] | None = None) -> set[str]:
    """Every secret value a process may hold: SecretStr settings, secret-looking connector options,
    and mapping secrets in the environment (``ROSTERHUB_MAPPING_SECRET_*``)."""
    found: set[str] = set()

    def walk(value: Any, key: str = "") -> None:
        if isinstance(value, SecretStr):
            found.add(value.get_secret_value())
        elif isinstance(value, Mapping):
            for k, v in value.items():
                walk(v, str(k))
        elif isinstance(value, list | tuple):
            for v in value:
                walk(v, key)
        elif isinstance(value, str) and _SECRET_KEY.search(key):
            found.add(value)
        elif hasattr(value, "model_dump"):
            walk({name: getattr(value, name) for name in type(value).model_fields}, key)

    if settings is not None:
        walk(settings)
    env = os.environ if environ is None else environ
    found.update(v for k, v in env.items() if k.startswith("ROSTERHUB_MAPPING_SECRET_"))
    return {s for s in found if len(s) >= _MIN_SECRET}


class _ScrubbingFormatter(structlog.stdlib.ProcessorFormatter):
    """structlog's formatter, then every configured secret masked in the rendered line."""

    def __init__(self, *args: Any, secrets: Iterable[str] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        ordered = sorted(set(secrets), key=len, reverse=True)  # longest first: a secret may contain another
        self._pattern = re.compile("|".join(re.escape(s) for s in ordered)) if ordered else None

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        return self._pattern.sub(MASK, text) if self._pattern is not None else text


class _Handoff(logging.handlers.QueueHandler):
    """Hands records to the listener thread without rendering them here.

    The standard ``QueueHandler.prepare`` formats the record (traceback included) on the
    caller's thread; only the message's arguments are merged here, so a mutable argument
    is logged as it was, and the traceback travels as ``exc_info`` to be rendered later.
    """

    def prepare(self, record: logging.LogRecord) -> logging.LogRecord:
        record = copy.copy(record)
        record.msg = record.getMessage()
        record.args = None
        return record


def configure_logging(
    level: str = "INFO",
    *,
    json: bool = False,
    secrets: Iterable[str] = (),
    stream: IO[str] | None = None,
) -> None:
    """Route every log record through one queue to one rendering thread (see the module docstring)."""
    stop_logging()
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer()
        if json
        else structlog.dev.ConsoleRenderer(colors=False, exception_formatter=_console_exception)
    )
    pre: list[structlog.types.Processor] = [
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.ExtraAdder(),
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    if json:
        pre.append(structlog.processors.ExceptionRenderer(_json_exception))
    formatter = _ScrubbingFormatter(
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
        foreign_pre_chain=pre,
        secrets=secrets,
    )
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(formatter)
    records: queue.SimpleQueue[logging.LogRecord] = queue.SimpleQueue()
    listener = logging.handlers.QueueListener(records, handler, respect_handler_level=False)
    listener.start()
    _listeners.append(listener)
    root = logging.getLogger()
    root.handlers[:] = [_Handoff(records)]
    root.setLevel(level.upper())
    for noisy in ("kafka", "aiokafka", "httpx", "uvicorn.access"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))


def stop_logging() -> None:
    """Render what is queued and stop the listener thread (also run at exit)."""
    while _listeners:
        _listeners.pop().stop()


atexit.register(stop_logging)
