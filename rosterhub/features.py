"""Features declare what they add to the hub; the core finds them and never names them.

A feature (a stream processor, a transport, a read API) is a package under ``streams/`` or
``connectors/`` (installed as ``rosterhub.streams`` and ``rosterhub.connectors``). What it adds to
the two kinds of process is declared in that package's ``feature`` module:

* ``PROCESSORS``: the :class:`Processor` objects a ``rosterhub worker`` may run (its name, as
  ``worker_processors`` spells it, and how to install it into the faust app);
* ``ROUTERS``: the :class:`HubRouter` objects ``rosterhub serve`` mounts on the ingress.

:func:`processors` and :func:`hub_routers` import every ``feature`` module they find (at any depth,
found on disk: a package is imported only when it holds one), so adding a processor or a route touches no
core file: settings derive the processor names from here, ``streams/app.py`` installs what the worker
runs, ``rosterhub/api.py`` mounts every router. A ``feature`` module stays light (it is imported when
settings are validated): it imports its feature's code inside the functions it declares.

Order: a worker installs its processors, and the ingress mounts its routers, by ``order`` (then name);
the order is that of the routes in the OpenAPI documents. A processor that uses another's runtime
(open-shifts reads the passport table; availability reuses open-shifts' view follower when both run on a
worker) takes a larger number and finds it in ``installed``.

Needs: a processor that reads another's runtime or tables in its own worker (booking's person stage and
open-shifts read the passport table, co-partitioned by person) declares it in ``needs``. Settings refuse a
``worker_processors`` that runs a processor without what it needs (:func:`unmet_needs`), and a worker refuses to
install one: without the passport table every booking would be rejected ``PASSPORT_UNKNOWN``, silently
(issue #16, docs/decisions/0017-a-group-per-processor-set.md).
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from rosterhub.declarations import Declarations
from rosterhub.errors import ConfigError

if TYPE_CHECKING:
    import faust
    from fastapi import APIRouter

    from rosterhub.codec.wire import EventCodec
    from rosterhub.connectors.pipeline import IngestContext
    from rosterhub.kafka.access import KafkaAccess
    from rosterhub.kafka.producer import EventSink
    from rosterhub.runtime import Encoder, TopicNames
    from rosterhub.settings import Settings
    from rosterhub.streams.app import StreamContext

__all__ = [
    "FEATURE_PACKAGES",
    "HubApi",
    "HubRouter",
    "Processor",
    "group_processors",
    "hub_routers",
    "overlapping_groups",
    "processor_names",
    "processors",
    "unmet_needs",
    "unmet_needs_message",
    "worker_group",
]

#: Where features live (docs/decisions/0001-packaging.md: the top-level folders, installed under rosterhub).
FEATURE_PACKAGES = ("rosterhub.streams", "rosterhub.connectors")
_MODULE = "feature"


@dataclass(frozen=True)
class Processor:
    """A stream processor a worker can run.

    ``install(app, ctx, installed)`` registers its agents, tables and worker routes on the faust app and
    returns its runtime (or None); ``installed`` maps the names of the processors installed before it (lower
    ``order``) on this worker to their runtimes. ``needs``: the processors whose runtime or tables it reads in
    its own worker, which must run in the same ``worker_processors``."""

    name: str
    order: int
    install: Callable[[faust.App, StreamContext, Mapping[str, Any]], Any]
    doc: str = ""
    needs: tuple[str, ...] = ()


@dataclass
class HubApi:
    """What a feature's ingress router is built from: one per ``create_api``."""

    settings: Settings
    kafka: KafkaAccess
    names: TopicNames
    encoder: Encoder
    sink: EventSink
    ingest: IngestContext
    starts: list[Callable[[], None]] = field(default_factory=list)
    stops: list[Callable[[], None]] = field(default_factory=list)

    @property
    def codec(self) -> EventCodec:
        return self.encoder.codec

    def on_lifespan(self, start: Callable[[], None], stop: Callable[[], None]) -> None:
        """Run ``start`` when the ingress starts (after the schemas are published) and ``stop`` when it stops."""
        self.starts.append(start)
        self.stops.append(stop)


@dataclass(frozen=True)
class HubRouter:
    """Routes a feature adds to the ingress (``rosterhub serve``)."""

    name: str
    order: int
    build: Callable[[HubApi], APIRouter]


def _feature_modules(package: str) -> Iterator[str]:
    """Dotted names of the ``feature`` modules under ``package``, found on disk (nothing imported to look)."""
    root = importlib.import_module(package)

    def walk(folders: list[str], prefix: str) -> Iterator[str]:
        for info in sorted(pkgutil.iter_modules(folders), key=lambda i: i.name):
            if info.name == _MODULE and not info.ispkg:
                yield f"{prefix}.{info.name}"
            elif info.ispkg:
                yield from walk([str(Path(f) / info.name) for f in folders], f"{prefix}.{info.name}")

    yield from walk(list(root.__path__), package)


class _Declaration(Protocol):
    """What every declared thing has: its name (unique) and its place in the order."""

    @property
    def name(self) -> str: ...
    @property
    def order(self) -> int: ...


_D = TypeVar("_D", bound=_Declaration)


def _declared(attribute: str, kind: type[_D]) -> list[_D]:
    found: Declarations[_D] = Declarations(kind.__name__)
    for package in FEATURE_PACKAGES:
        for name in _feature_modules(package):
            module = importlib.import_module(name)
            for item in getattr(module, attribute, ()):
                if not isinstance(item, kind):
                    raise ConfigError(f"{name}.{attribute} holds a {type(item).__name__}, not a {kind.__name__}")
                found.add(item.name, item, name)
    return sorted(found.by_name().values(), key=lambda i: (i.order, i.name))


@cache
def processors() -> tuple[Processor, ...]:
    """Every declared processor, in install order."""
    found = tuple(_declared("PROCESSORS", Processor))
    names = {p.name for p in found}
    for p in found:
        unknown = [n for n in p.needs if n not in names or n == p.name]
        if unknown:
            raise ConfigError(f"processor {p.name!r} needs {', '.join(map(repr, unknown))}: not another declared one")
    return found


def unmet_needs(running: Iterable[str]) -> dict[str, tuple[str, ...]]:
    """Each processor in ``running`` that needs processors not in ``running``, and those it lacks (install order)."""
    wanted = set(running)
    return {
        p.name: lacking
        for p in processors()
        if p.name in wanted and (lacking := tuple(n for n in p.needs if n not in wanted))
    }


def unmet_needs_message(running: Iterable[str]) -> str | None:
    """Why ``running`` cannot run on one worker (each processor, what it needs and the fix), or None if it can."""
    unmet = unmet_needs(running)
    if not unmet:
        return None
    lacking = [n for n in processor_names() if any(n in need for need in unmet.values())]
    reasons = "; ".join(f"{name} needs {', '.join(need)} on the same worker" for name, need in unmet.items())
    return (
        f"worker_processors: {reasons} (it reads its tables there): add {', '.join(lacking)} to worker_processors "
        "(docs/deploy.md, Worker layout)"
    )


def processor_names() -> tuple[str, ...]:
    """The names ``worker_processors`` accepts, in install order."""
    return tuple(p.name for p in processors())


#: between the app id and the processor names in a group's name (``rosterhub.run.booking``): Kafka allows only
#: letters, digits, ``.``, ``_`` and ``-`` in the topic faust names after the group, and the mark keeps these
#: groups apart from the app's other groups (``<app id>.outbound.<trust>``)
_GROUP_MARK = "run"


def worker_group(app_id: str, running: Iterable[str]) -> str:
    """The consumer group (faust's app id) of the workers that run the processors ``running``.

    faust hands a group's partitions to its members whatever agents each member runs. Two workers of one group
    running different processors would each get part of a topic both read (``events.booking``), and each
    processor would silently miss the records on the other worker's partitions. So workers that run the same
    processors share a group, and another set of processors is another group, reading every record itself
    (docs/decisions/0017-a-group-per-processor-set.md). Running every processor keeps the plain app id, so a
    one-worker-kind deployment's group, lag and offsets are where they always were.
    """
    wanted = set(running)
    chosen = [name for name in processor_names() if name in wanted]
    return app_id if len(chosen) == len(processor_names()) else ".".join((app_id, _GROUP_MARK, *chosen))


def overlapping_groups(app_id: str, running: Iterable[str], groups: Iterable[str]) -> list[str]:
    """The app's worker groups among ``groups`` that run some of ``running`` but are not its group.

    Two groups running one processor would each read every record and both write its tables' changelogs and its
    outputs, so a worker refuses to join while such a group has members (``rosterhub worker``)."""
    mine, wanted = worker_group(app_id, running), set(running)
    return sorted(
        group
        for group in groups
        if group != mine and (theirs := group_processors(app_id, group)) is not None and theirs & wanted
    )


def group_processors(app_id: str, group: str) -> frozenset[str] | None:
    """The processors a group of ``app_id`` runs (the inverse of :func:`worker_group`); None: not a worker group
    (another app's, or a delivery group such as ``<app id>.outbound.<trust>``)."""
    names = processor_names()
    if group == app_id:
        return frozenset(names)
    head = f"{app_id}.{_GROUP_MARK}."
    if not group.startswith(head):
        return None
    running = group.removeprefix(head).split(".")
    return frozenset(running) if all(name in names for name in running) else None


@cache
def hub_routers() -> tuple[HubRouter, ...]:
    """Every declared ingress router, in mount order."""
    return tuple(_declared("ROUTERS", HubRouter))
