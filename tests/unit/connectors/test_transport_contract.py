"""The transport contract (#19): kinds found without a central list, quirks checked at load, progress the runtime's."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from rosterhub.connectors import vendors
from rosterhub.connectors.base import SourceOffset, SourceRun
from rosterhub.connectors.kinds import http_kinds, runner
from rosterhub.connectors.kinds.filedrop import FileDropQuirks
from rosterhub.connectors.registry import connector, connectors, transport, transports
from rosterhub.connectors.runtime import store_progress
from rosterhub.connectors.state import ConnectorState
from rosterhub.errors import ConfigError
from tests.unit.connectors.test_fhir_harness import MemorySink
from tests.unit.connectors.test_filedrop_failures import _ctx

REPO = Path(__file__).resolve().parents[3]
SAMPLES = REPO / "mapping" / "samples" / "patchwork"

#: A transport kind and a vendor using it, in a distribution outside the hub: no file of the hub lists either.
KIND_MODULE = '''
from __future__ import annotations

import uuid
from pathlib import Path

from rosterhub.connectors.base import ConnectorSpec, Quirks, SourceOffset, Transport
from rosterhub.connectors.pipeline import ingest


class FeedQuirks(Quirks):
    suffix: str = ".json"


class Feed(Transport):
    """Reads a folder's files in name order; its offset is the number of files taken."""

    kind = "feed"
    quirks = FeedQuirks

    def run(self, spec, ctx, options, stop, *, once, **seams):
        quirks = self.quirks_of(spec)
        taken = int(ctx.state.position(spec.id, "feed:taken") or 0)
        files = sorted(Path(options["folder"]).glob("*" + quirks.suffix))
        for n, path in enumerate(files[taken:], start=taken + 1):
            ingest(
                ctx,
                spec.id,
                path.read_bytes(),
                trust=options["trust"],
                content_type="application/json",
                correlation_id=str(uuid.uuid4()),
            )
            yield SourceOffset("feed:taken", str(n))


TRANSPORT = Feed()
SPEC = ConnectorSpec(id="acme_feed", kind="feed", title="Acme feed", mapping="patchwork", quirks={"suffix": ".json"})
'''


@pytest.fixture
def fresh_registry() -> Iterator[None]:
    transports.cache_clear()
    connectors.cache_clear()
    yield
    transports.cache_clear()
    connectors.cache_clear()


def _distribution(root: Path, module: str, entry_points: str) -> None:
    """A module and its installed-distribution metadata, as `pip install` of an outside package leaves them."""
    root.mkdir()
    (root / f"{module}.py").write_text(KIND_MODULE, encoding="utf-8")
    info = root / f"{module}-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {module}\nVersion: 1.0\n", encoding="utf-8")
    (info / "entry_points.txt").write_text(entry_points, encoding="utf-8")


def test_a_kind_from_outside_the_package_is_found_and_runs_through_the_runtime(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_registry: None
) -> None:
    _distribution(
        tmp_path / "site",
        "acme_transport",
        "[rosterhub.transports]\nfeed = acme_transport:TRANSPORT\n\n"
        "[rosterhub.connectors]\nacme_feed = acme_transport:SPEC\n",
    )
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    folder = tmp_path / "feed"
    folder.mkdir()
    for name in ("shift_created", "booking_requested"):
        (folder / f"{name}.json").write_bytes((SAMPLES / f"{name}.input.json").read_bytes())
    (folder / "notes.txt").write_text("not the feed's", encoding="utf-8")

    assert {"webhook", "poll", "filedrop", "fhir", "feed"} <= set(transports())
    assert "feed" not in http_kinds()
    spec = connector("acme_feed")
    assert type(spec.quirks).__name__ == "FeedQuirks"  # the dict it declared, validated by its kind's model
    ctx = _ctx(tmp_path)
    options = {"folder": str(folder), "trust": "RXX"}
    runner("feed")(spec, ctx, options, threading.Event(), once=True)  # what `rosterhub connect acme_feed` calls

    sink: MemorySink = ctx.sink  # type: ignore[assignment]
    assert len(sink.on(ctx.names.raw("acme_feed"))) == 2
    events = [r for r in sink.records if r.topic.startswith("events.")]
    assert events and {r.topic for r in events} >= {"events.shift", "events.booking"}
    assert ctx.state is not None and ctx.state.position("acme_feed", "feed:taken") == "2"  # stored by the runtime

    (folder / "shift_updated.json").write_bytes((SAMPLES / "shift_updated.input.json").read_bytes())
    runner("feed")(spec, ctx, options, threading.Event(), once=True)  # goes on from the stored offset
    assert len(sink.on(ctx.names.raw("acme_feed"))) == 3
    assert ctx.state.position("acme_feed", "feed:taken") == "3"


def test_an_unknown_kind_stops_start_up_naming_the_vendor(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_registry: None
) -> None:
    (tmp_path / "acme.yaml").write_text("id: acme\nkind: carrier_pigeon\ntitle: Acme\n", encoding="utf-8")
    monkeypatch.setattr(vendors, "__path__", [*vendors.__path__, str(tmp_path)])
    with pytest.raises(
        ConfigError, match=r"connector 'acme' \(connectors/vendors/acme.yaml\) is of kind 'carrier_pigeon'"
    ):
        connectors()


@pytest.mark.parametrize(
    ("kind", "quirks", "named"),
    [
        (
            "poll",
            "cursor_expired_status: gone",
            "quirk cursor_expired_status = 'gone': Input should be a valid integer",
        ),
        ("poll", "cursor_parameter: after", "quirk cursor_parameter = 'after': Extra inputs are not permitted"),
        ("filedrop", "files: []", "quirk files = (): Tuple should have at least 1 item"),
        ("filedrop", "files: [{pattern: '*.csv'}]", "quirk files.mapping: Field required"),
        ("filedrop", "files: [{pattern: '*.csv', mapping: x}]\n  max_file_bytes: 0", "quirk max_file_bytes = 0"),
        ("webhook", "mapping_input: 'no_such_module:convert'", "quirk mapping_input = 'no_such_module:convert'"),
        ("webhook", "mapping_input: 'json:nothing_here'", "cannot be imported"),
        ("webhook", "mapping_input: 'json'", "is not 'module:function'"),
    ],
)
def test_a_bad_quirk_stops_start_up_naming_vendor_quirk_and_value(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_registry: None, kind: str, quirks: str, named: str
) -> None:
    (tmp_path / "acme.yaml").write_text(f"id: acme\nkind: {kind}\ntitle: Acme\nquirks:\n  {quirks}\n", encoding="utf-8")
    monkeypatch.setattr(vendors, "__path__", [*vendors.__path__, str(tmp_path)])
    with pytest.raises(ConfigError) as caught:
        connectors()
    assert f"connector 'acme' (connectors/vendors/acme.yaml) declares invalid {kind} quirks" in str(caught.value)
    assert named in str(caught.value)


def test_a_declared_mapping_input_is_imported_once_at_load(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_registry: None
) -> None:
    (tmp_path / "acme.yaml").write_text(
        "id: acme\nkind: webhook\ntitle: Acme\nmapping: patchwork\nquirks:\n"
        "  mapping_input: rosterhub.connectors.kinds.fhir.bundle:mapping_input\n",
        encoding="utf-8",
    )
    monkeypatch.setattr(vendors, "__path__", [*vendors.__path__, str(tmp_path)])
    from rosterhub.connectors.kinds.fhir.bundle import mapping_input

    assert connector("acme").quirks.mapping_input is mapping_input
    assert connector("fhir").quirks.mapping_input is mapping_input  # a module's callable


def test_every_shipped_connector_carries_its_kinds_typed_quirks() -> None:
    for spec in connectors().values():
        assert isinstance(spec.quirks, transport(spec.kind).quirks), spec.id
    esr = connector("esr").quirks
    assert isinstance(esr, FileDropQuirks) and esr.hook is not None and esr.inbox_trust_required


class _Recording(ConnectorState):
    def __init__(self, path: Path, fail_on: str | None = None) -> None:
        super().__init__(path)
        self.calls: list[tuple[str, str]] = []
        self.fail_on = fail_on

    def set_position(self, vendor: str, name: str, value: str) -> None:
        self._note("set_position", name)
        super().set_position(vendor, name, value)

    def claim(self, vendor: str, keys: Sequence[str]) -> list[str]:
        self._note("claim", keys[0])
        return super().claim(vendor, keys)

    def _note(self, call: str, key: str) -> None:
        self.calls.append((call, key))
        if call == self.fail_on:
            raise SystemExit(f"killed in {call}")


def _source(after: list[str]) -> SourceRun:
    yield SourceOffset("cursor:RXX", "c-1")
    after.append("cursor stored")
    yield SourceOffset("file:x:abc", '{"file": "a.csv"}', done=True)
    after.append("file moved")


def test_the_runtime_stores_each_offset_before_the_transport_goes_on(tmp_path: Path) -> None:
    state, after = _Recording(tmp_path / "s.sqlite"), []
    store_progress(state, "v", _source(after))
    assert state.calls == [("set_position", "cursor:RXX"), ("set_position", "file:x:abc"), ("claim", "file:x:abc")]
    assert after == ["cursor stored", "file moved"]
    assert state.position("v", "file:x:abc") == '{"file": "a.csv"}' and state.seen("v", "file:x:abc")


def test_a_kill_while_storing_an_offset_leaves_the_transport_where_it_was(tmp_path: Path) -> None:
    state, after = _Recording(tmp_path / "s.sqlite", fail_on="claim"), []
    with pytest.raises(SystemExit):
        store_progress(state, "v", _source(after))
    assert after == ["cursor stored"]  # the file was not moved: the next run finds its details, not a bare mark
    assert state.position("v", "file:x:abc") == '{"file": "a.csv"}' and not state.seen("v", "file:x:abc")


def test_a_loop_without_durable_state_is_refused_at_its_first_offset() -> None:
    with pytest.raises(ConfigError, match="needs durable state"):
        store_progress(None, "v", _source([]))


def test_http_kinds_are_served_not_run() -> None:
    assert http_kinds() == {"webhook", "fhir"}
    with pytest.raises(KeyError, match="served by `rosterhub serve`"):
        runner("webhook")
    with pytest.raises(ConfigError, match="served by `rosterhub serve`"):
        transport("fhir").run(connector("fhir"), None, {}, threading.Event(), once=True)  # type: ignore[arg-type]


def test_vendors_import_a_kinds_public_module_never_its_insides() -> None:
    inner = re.compile(r"rosterhub\.connectors\.kinds\.\w+\.\w+")
    for module in sorted((REPO / "connectors" / "vendors").glob("*.py")):
        imports = [line for line in module.read_text(encoding="utf-8").splitlines() if line.startswith("from ")]
        assert not [line for line in imports if inner.search(line)], module.name
