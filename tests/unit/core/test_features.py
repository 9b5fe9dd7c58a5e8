"""Features declare their processors and ingress routers; the core finds them (rosterhub/features.py)."""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import ValidationError

from rosterhub import features
from rosterhub.errors import ConfigError
from rosterhub.features import hub_routers, processor_names, processors
from rosterhub.settings import Settings

REPO = Path(__file__).resolve().parents[3]


def test_every_processor_is_found_in_its_package_in_install_order() -> None:
    assert processor_names() == (
        "booking",
        "outbound",
        "passport",
        "identity",
        "open-shifts",
        "availability",
        "kpi",
        "payroll",
    )
    homes = {p.name: p.install.__module__ for p in processors()}
    assert homes["outbound"] == "rosterhub.connectors.outbound.feature"
    assert homes["booking"] == "rosterhub.streams.booking.feature"


def test_every_ingress_router_is_found_in_mount_order() -> None:
    # the order of the routes in the ingress's OpenAPI document (and so of docs/security.md's table)
    assert [r.name for r in hub_routers()] == ["webhook", "identity", "fhir", "booking", "payroll", "kpi"]


def test_the_default_worker_runs_every_declared_processor() -> None:
    assert Settings().worker_processors == list(processor_names())


def test_an_unknown_processor_is_refused_naming_it_and_the_known_ones() -> None:
    with pytest.raises(ValidationError) as caught:
        Settings(worker_processors=["booking", "kpis"])
    message = str(caught.value)
    assert "unknown processor 'kpis'" in message
    assert "known: booking, outbound, passport, identity, open-shifts, availability, kpi, payroll" in message


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
    return found


@pytest.mark.parametrize("core", ["rosterhub/api.py", "streams/app.py", "rosterhub/settings.py"])
def test_the_core_names_no_feature(core: str) -> None:
    feature_roots = ("rosterhub.streams.", "rosterhub.connectors.kinds", "rosterhub.connectors.outbound")
    shared = {"rosterhub.streams.faust_drain", "rosterhub.streams.faust_fixes", "rosterhub.streams.web"}
    named = {m for m in _imports(REPO / core) if m.startswith(feature_roots) and m not in shared}
    assert named == set(), f"{core} imports features {sorted(named)}: they declare themselves in a feature module"


@pytest.fixture
def fake_features(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A package ``fakefeat`` on sys.path, searched instead of the real feature packages."""
    root = tmp_path / "fakefeat"
    root.mkdir()
    (root / "__init__.py").write_text("")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(features, "FEATURE_PACKAGES", ("fakefeat",))
    yield root
    for name in [m for m in sys.modules if m == "fakefeat" or m.startswith("fakefeat.")]:
        del sys.modules[name]


def _feature(root: Path, package: str, body: str) -> None:
    folder = root.joinpath(*package.split("."))
    folder.mkdir(parents=True)
    for depth in range(1, len(package.split(".")) + 1):
        root.joinpath(*package.split(".")[:depth], "__init__.py").write_text("")
    (folder / "feature.py").write_text("from rosterhub.features import Processor\n" + body)


def test_a_new_processor_is_found_without_touching_a_core_file(fake_features: Path) -> None:
    _feature(fake_features, "beta", "PROCESSORS = (Processor('beta', 20, lambda app, ctx, installed: 'b'),)\n")
    _feature(fake_features, "deep.alpha", "PROCESSORS = (Processor('alpha', 10, lambda app, ctx, installed: 'a'),)\n")
    assert [p.name for p in features._declared("PROCESSORS", features.Processor)] == ["alpha", "beta"]


def test_a_processor_declared_twice_stops_start_up_naming_both_modules(fake_features: Path) -> None:
    _feature(fake_features, "one", "PROCESSORS = (Processor('same', 10, print),)\n")
    _feature(fake_features, "two", "PROCESSORS = (Processor('same', 20, print),)\n")
    with pytest.raises(ConfigError, match=r"'same' is declared twice: fakefeat\.one\.feature and fakefeat\.two"):
        features._declared("PROCESSORS", features.Processor)


def test_a_declaration_of_the_wrong_kind_is_refused(fake_features: Path) -> None:
    _feature(fake_features, "odd", "PROCESSORS = ('booking',)\n")
    with pytest.raises(ConfigError, match=r"fakefeat\.odd\.feature\.PROCESSORS holds a str, not a Processor"):
        features._declared("PROCESSORS", features.Processor)


def test_a_worker_group_is_named_after_the_processors_it_runs_and_read_back_from_the_name() -> None:
    """decision 0017: one consumer group per processor set; every processor is the plain app id (as before)."""
    every = processor_names()
    assert features.worker_group("rosterhub", reversed(every)) == "rosterhub"
    assert features.worker_group("rosterhub", ["kpi", "booking"]) == "rosterhub.run.booking.kpi"  # install order
    assert features.worker_group("rosterhub", ["booking", "kpi"]) == features.worker_group(
        "rosterhub", ["kpi", "booking"]
    )
    for running in (["booking"], ["kpi", "payroll"], every):
        group = features.worker_group("my.app-1", running)
        assert features.group_processors("my.app-1", group) == frozenset(running)
    # not worker groups of this app: a delivery group, another app's worker group, an unknown processor
    for other in ("rosterhub.outbound.rxa", "rosterhubx.run.booking", "rosterhub.run.booking.nope", "other"):
        assert features.group_processors("rosterhub", other) is None


def test_a_processor_set_that_overlaps_a_running_groups_set_is_named() -> None:
    live = [
        "rosterhub.run.booking",
        "rosterhub.run.availability.kpi",
        "rosterhub.outbound.rxa",  # a delivery group: never a clash
        "elsewhere.run.kpi",  # another app
    ]
    assert features.overlapping_groups("rosterhub", ["booking"], live) == []  # its own group
    assert features.overlapping_groups("rosterhub", ["kpi"], live) == ["rosterhub.run.availability.kpi"]
    assert features.overlapping_groups("rosterhub", ["passport", "payroll"], live) == []
    assert features.overlapping_groups("rosterhub", processor_names(), live) == [
        "rosterhub.run.availability.kpi",
        "rosterhub.run.booking",
    ]


def test_booking_and_open_shifts_need_passport_on_their_own_worker() -> None:
    """issue #16: both read the passport table in their own worker (co-partitioned by person); availability's
    agent reads no passport (the worker route that does is open-shifts')."""
    assert {p.name: p.needs for p in processors() if p.needs} == {
        "booking": ("passport",),
        "open-shifts": ("passport",),
    }


@pytest.mark.parametrize(
    ("running", "named"),
    [
        (["booking"], "booking needs passport on the same worker"),
        (["open-shifts"], "open-shifts needs passport on the same worker"),
        (["identity", "outbound", "open-shifts", "availability"], "open-shifts needs passport on the same worker"),
    ],
)
def test_a_worker_set_without_what_a_processor_needs_is_refused_naming_it_and_the_fix(
    running: list[str], named: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        Settings(worker_processors=running)
    message = str(caught.value)
    assert named in message
    assert "add passport to worker_processors" in message


def test_every_processor_it_needs_is_named_once_in_the_fix() -> None:
    assert features.unmet_needs(["booking", "open-shifts", "availability"]) == {
        "booking": ("passport",),
        "open-shifts": ("passport",),
    }
    message = features.unmet_needs_message(["booking", "open-shifts", "availability"]) or ""
    assert "booking needs passport" in message and "open-shifts needs passport" in message
    assert message.count("add passport to worker_processors") == 1


@pytest.mark.parametrize(
    "running",
    [
        ["booking", "passport"],
        ["booking", "passport", "availability"],
        ["identity", "outbound", "kpi"],
        # docs/deploy.md's example layout (issue #16): availability runs with the views, without passport
        ["booking", "passport", "open-shifts"],
        ["outbound", "identity", "availability", "kpi", "payroll"],
        ["availability"],
    ],
)
def test_a_worker_set_with_what_its_processors_need_is_accepted(running: list[str]) -> None:
    assert features.unmet_needs(running) == {}
    assert Settings(worker_processors=running).worker_processors == running


def test_a_need_of_no_declared_processor_stops_start_up(fake_features: Path) -> None:
    _feature(fake_features, "alpha", "PROCESSORS = (Processor('alpha', 10, print, needs=('nope',)),)\n")
    features.processors.cache_clear()
    try:
        with pytest.raises(ConfigError, match=r"processor 'alpha' needs 'nope': not another declared one"):
            features.processors()
    finally:
        features.processors.cache_clear()


@pytest.mark.parametrize(
    ("running", "named"),
    [
        (["booking"], "booking"),
        (["booking", "open-shifts", "availability"], "booking"),
        (["open-shifts", "availability"], "open-shifts"),
    ],
)
def test_a_worker_refuses_to_install_a_processor_without_what_it_needs(
    tmp_path: Path, running: list[str], named: str
) -> None:
    """Settings refuse such a set; a worker handed one anyway (settings built without validation) fails loudly at
    install rather than rejecting every booking PASSPORT_UNKNOWN (the person stage has no fallback for a missing
    passport table any more) or answering a worker's open shifts without their passport."""
    from rosterhub.kafka.access import KafkaAccess
    from rosterhub.streams.app import create_app

    settings = Settings(state_dir=tmp_path).model_copy(update={"worker_processors": running})
    with pytest.raises(ConfigError, match=rf"{named} needs passport on the same worker.*add passport to worker_proc"):
        create_app(settings, KafkaAccess("127.0.0.1:9"))


def test_open_shifts_installed_without_the_passport_runtime_fails_loudly() -> None:
    open_shifts = next(p for p in processors() if p.name == "open-shifts")
    with pytest.raises(ConfigError, match="open-shifts needs passport installed on the same worker"):
        open_shifts.install(None, None, {})  # type: ignore[arg-type]  # refused before either is used
