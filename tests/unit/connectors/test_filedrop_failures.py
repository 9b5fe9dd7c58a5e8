"""Issue #12, finding 10: a file the connector fails on in a way it was not written to expect goes to failed/
with a report and a dead letter, once, and the next file is taken; only broker and file-system errors leave a
file in the inbox to be tried again (broker-free: an in-memory sink; the broker's side is
tests/integration/connectors/test_filedrop_hardening.py)."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import pytest

import rosterhub.connectors.kinds.filedrop.transport as filedrop
from rosterhub.codec.catalogue import default_catalogue
from rosterhub.codec.wire import SingleObjectCodec
from rosterhub.connectors.pipeline import IngestContext
from rosterhub.connectors.registry import connector
from rosterhub.connectors.runtime import run_connector, store_progress
from rosterhub.connectors.state import ConnectorState
from rosterhub.envelope import headers_dict
from rosterhub.errors import BrokerUnavailable
from rosterhub.kafka.access import KafkaAccess
from rosterhub.runtime import Encoder, TopicNames
from tests.unit.connectors.test_fhir_harness import MemorySink

SAMPLE = Path(__file__).resolve().parents[3] / "mapping" / "samples" / "healthroster_csv" / "bank_requests.input.csv"


class _Sink(MemorySink):
    kafka = KafkaAccess("127.0.0.1:9")  # what the plans name for their fence; nothing connects to it here


def _ctx(tmp_path: Path) -> IngestContext:
    catalogue = default_catalogue()
    names = TopicNames("")
    return IngestContext(
        sink=_Sink(),  # type: ignore[arg-type]
        encoder=Encoder(SingleObjectCodec(catalogue), names, catalogue),  # type: ignore[arg-type]
        names=names,
        state=ConnectorState(tmp_path / "state.sqlite"),
    )


def _options(inbox: Path) -> dict[str, Any]:
    return {"inboxes": [{"path": str(inbox), "trust": "RXX"}], "settle_s": 0}


def _loop(ctx: IngestContext, inbox: Path) -> Any:
    spec = connector("healthroster")
    return filedrop._Loop(spec, ctx, filedrop.parse_options(spec, _options(inbox)), once=False)


@pytest.mark.parametrize("once", [True, False])
def test_a_bug_fails_the_file_and_the_next_one_is_taken(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, once: bool
) -> None:
    inbox = tmp_path / "in"
    inbox.mkdir()
    (inbox / "a_first.csv").write_bytes(SAMPLE.read_bytes())
    (inbox / "b_second.csv").write_bytes(SAMPLE.read_bytes().replace(b"\n", b"\r\n"))
    real = filedrop.process_file

    def flaky(ctx: IngestContext, plan: Any, cand: Any, **kw: Any) -> Any:
        if cand.path.name == "a_first.csv":
            raise KeyError("a bug in a vendor hook")
        return real(ctx, plan, cand, **kw)

    monkeypatch.setattr(filedrop, "process_file", flaky)
    ctx = _ctx(tmp_path)
    if once:  # rosterhub connect --once
        run_connector(connector("healthroster"), ctx, _options(inbox), threading.Event(), once=True)
    else:  # the long-running loop: one pass takes both files
        store_progress(ctx.state, "healthroster", _loop(ctx, inbox).pass_once(threading.Event()))
    report = json.loads((inbox / "failed" / "a_first.csv.report.json").read_text())
    assert report["status"] == "failed" and report["reason"]["code"] == "internal_error"
    assert "KeyError: 'a bug in a vendor hook'" in report["reason"]["message"]
    assert (inbox / "processed" / "b_second.csv").exists()
    sink: MemorySink = ctx.sink  # type: ignore[assignment]
    [dead] = sink.on("dlq.ingest")
    assert headers_dict(dead.headers)["dlq_code"] == b"internal_error" and dead.value == SAMPLE.read_bytes()
    assert headers_dict(dead.headers)["rh_file_name"] == b"a_first.csv"


def test_broker_errors_leave_the_file_to_be_tried_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    inbox = tmp_path / "in"
    inbox.mkdir()
    (inbox / "a.csv").write_bytes(SAMPLE.read_bytes())

    def down(*_a: Any, **_k: Any) -> Any:
        raise BrokerUnavailable("no broker")

    monkeypatch.setattr(filedrop, "process_file", down)
    ctx = _ctx(tmp_path)
    loop = _loop(ctx, inbox)
    store_progress(ctx.state, "healthroster", loop.pass_once(threading.Event()))
    assert (inbox / "a.csv").exists() and list((inbox / "failed").iterdir()) == []
    assert list(loop.retries) == [inbox / "a.csv"]  # tried again after a back-off
