"""Issue #12, finding 7: error logs carry no locals and no secrets, stay bounded, and are never
rendered on the thread that logs (an async route's event loop)."""

from __future__ import annotations

import io
import json
import logging
import threading
from collections.abc import Iterator

import pytest
from pydantic import SecretStr

from rosterhub.logs import TRACEBACK_FRAMES, configure_logging, secret_values, stop_logging
from rosterhub.settings import Settings

API_KEY = "lnk-RHQ-9f8e7d6c5b4a"
LOCAL_ONLY = "value-only-in-a-local-variable"


@pytest.fixture
def out() -> Iterator[io.StringIO]:
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    stream = io.StringIO()
    yield stream
    stop_logging()
    root.handlers[:], root.level = saved


def _fail_with_secrets_in_locals() -> None:
    keys = {"RHQ": {"api_key": API_KEY}}  # what the probe saw printed in ingress.log
    note = LOCAL_ONLY
    raise RuntimeError(f"the partner refused key {keys['RHQ']['api_key']} ({len(note)})")


def _deep(n: int) -> None:
    if n == 0:
        raise ValueError("deep down")
    _deep(n - 1)


@pytest.mark.parametrize("as_json", [False, True])
def test_tracebacks_carry_no_locals_and_no_secrets(out: io.StringIO, as_json: bool) -> None:
    settings = Settings(
        webhook_secrets={"patchwork": {"RHQ": SecretStr("pw-webhook-secret")}},
        connectors={"locums_nest": {"trusts": {"RHQ": {"api_key": API_KEY}}}},
    )
    configure_logging("INFO", json=as_json, secrets=secret_values(settings, environ={}), stream=out)
    try:
        _fail_with_secrets_in_locals()
    except RuntimeError:
        logging.getLogger("probe").exception("request failed", extra={"correlation_id": "c-1"})
    stop_logging()
    text = out.getvalue()
    assert "Traceback" in text and "_fail_with_secrets_in_locals" in text and "RuntimeError" in text
    assert API_KEY not in text and "**********" in text  # the secret masked even inside the exception message
    assert LOCAL_ONLY not in text and "keys = " not in text  # no locals rendered
    if as_json:
        line = json.loads(text.strip().splitlines()[-1])
        assert line["correlation_id"] == "c-1" and "RuntimeError" in line["exception"]


def test_secret_values_come_from_settings_and_the_environment() -> None:
    settings = Settings(
        webhook_secrets={"patchwork": {"RHQ": SecretStr("pw-webhook-secret")}},
        connectors={"locums_nest": {"trusts": {"RHQ": {"api_key": API_KEY}}, "base_url": "http://x/api"}},
    )
    found = secret_values(settings, environ={"ROSTERHUB_MAPPING_SECRET_ESR_IDENTITY": "esr-collab-secret"})
    assert {"pw-webhook-secret", API_KEY, "esr-collab-secret"} <= found
    assert "http://x/api" not in found


def test_a_deep_traceback_is_bounded(out: io.StringIO) -> None:
    configure_logging("INFO", stream=out)
    try:
        _deep(500)
    except ValueError:
        logging.getLogger("probe").exception("deep failure")
    stop_logging()
    text = out.getvalue()
    assert text.count('File "') <= TRACEBACK_FRAMES and "deep down" in text
    assert len(text.splitlines()) < 100


class _SlowToRender(Exception):
    """An exception whose message only renders once the test lets it (it waits on ``release``)."""

    def __init__(self, release: threading.Event) -> None:
        super().__init__()
        self.release = release
        self.rendered_on: str | None = None

    def __str__(self) -> str:
        self.rendered_on = threading.current_thread().name
        return "rendered after release" if self.release.wait(60) else "rendered on the caller's thread (waited)"


def test_records_are_rendered_off_the_callers_thread(out: io.StringIO) -> None:
    configure_logging("INFO", stream=out)
    release = threading.Event()
    error = _SlowToRender(release)
    try:
        raise error
    except _SlowToRender:
        logging.getLogger("probe").exception("slow to render")  # returns at once: rendering is elsewhere
    release.set()
    stop_logging()
    assert "rendered after release" in out.getvalue()
    assert error.rendered_on not in (None, threading.current_thread().name)
