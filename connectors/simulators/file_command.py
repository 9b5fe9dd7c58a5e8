"""How a file simulator (HealthRoster, NHSP, ESR) runs: its ``rosterhub simulate <vendor>`` command and its
source in ``rosterhub run``.

The simulators differ in what they write, not in how they are run: every command takes the same options
(out folder, trusts, count, seed, start, batches, interval, outbound folder) with its own defaults and help,
and every demo source feeds the connector's inboxes and takes the hub's files back the same way. Each
simulator declares a :class:`FileCommand` (data) and calls :func:`demo_source`; the running is written here.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from rosterhub.connectors.simulators.files import FileFeeder, FileSimulator, echo_paths, run_batches

if TYPE_CHECKING:
    from rosterhub.demo import DemoContext, DemoSource

__all__ = ["FileCommand", "file_demo_source", "option", "register"]


def option(name: str, kind: Any, default: Any, help: str, flag: str | None = None) -> inspect.Parameter:
    """One ``--<flag>`` option of a command, as the parameter ``name`` (``default`` ``...``: required)."""
    return inspect.Parameter(
        name,
        inspect.Parameter.KEYWORD_ONLY,
        default=inspect.Parameter.empty if default is ... else default,
        annotation=Annotated[kind, typer.Option(flag or f"--{name}", help=help)],
    )


@dataclass(frozen=True, slots=True)
class FileCommand:
    """One file simulator's command. The defaults of ``--trusts``, ``--count`` and ``--seed`` are the simulator's
    own (its constructor's), so they are declared once."""

    name: str
    #: the simulator: ``make(trusts, seed=, start=, count=, **extra)``, its parameters' defaults the options'
    make: Callable[..., FileSimulator]
    doc: str  # the command's help
    count: str  # what ``--count`` counts
    folder_per_trust: bool  # each trust's files go to <out>/<ODS>/ (else one folder for the collaborative)
    extra: Sequence[inspect.Parameter] = ()  # this simulator's own options (after --start), passed to ``make``

    def parameters(self) -> list[inspect.Parameter]:
        defaults = inspect.signature(self.make).parameters
        per_trust = self.folder_per_trust
        return [
            option(
                "out",
                Path,
                ...,
                "Folder; each trust's files go to <out>/<ODS>/."
                if per_trust
                else "The drop folder (one for the whole collaborative).",
            ),
            option(
                "trusts",
                int,
                defaults["trusts"].default,
                "How many trusts (each has its own feed)." if per_trust else "How many member trusts.",
            ),
            option("count", int, defaults["count"].default, self.count),
            option("seed", int, defaults["seed"].default, "Seed for reproducible traffic."),
            option("start", str, "", "First day YYYY-MM-DD (default today)."),
            *self.extra,
            option("batches", int, 1, "Days to simulate, one export each (0: until Ctrl-C)."),
            option("interval", float, 10.0, "Seconds between batches when more than one."),
            option("outbound", Path | None, None, "Folder the hub drops its updates in."),
        ]


def register(group: typer.Typer, spec: FileCommand) -> None:
    """Add ``spec``'s command to ``group``: it writes ``--batches`` exports, ``--interval`` seconds apart (0
    batches: until interrupted), applying what the hub dropped in ``--outbound`` before each, and prints each
    file it writes."""

    def command(**options: Any) -> None:
        out, outbound = options.pop("out"), options.pop("outbound")
        batches, interval, start = options.pop("batches"), options.pop("interval"), options.pop("start")
        sim = spec.make(options.pop("trusts"), start=date.fromisoformat(start) if start else None, **options)
        run_batches(
            FileFeeder(sim, out, interval_s=interval, outbound=outbound, on_export=echo_paths), batches, interval
        )

    # typer reads a command's options from its signature: this one's come from the spec
    command.__signature__ = inspect.Signature(spec.parameters())  # type: ignore[attr-defined]
    command.__doc__ = spec.doc
    group.command(spec.name)(command)


def file_demo_source(
    ctx: DemoContext,
    vendor: str,
    sim: FileSimulator,
    *,
    folder_per_trust: bool,
    destination_options: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
) -> DemoSource:
    """A file simulator in ``rosterhub run``: it writes under ``<base>/<vendor>`` (a folder per trust when each
    trust has its own feed), exports once now so the first files are there when the connector starts, then every
    fifth round; the hub drops its updates for every trust in ``<base>/outbound/<vendor>``."""
    from rosterhub.demo import DemoSource, file_destinations

    root = ctx.base_dir / vendor
    inboxes = [{"path": str(root / t), "trust": t} for t in ctx.trusts] if folder_per_trust else [{"path": str(root)}]
    outbound = ctx.base_dir / "outbound" / vendor
    feeder = FileFeeder(sim, root, outbound=outbound)

    def tick() -> None:
        feeder.batch()

    tick()
    return DemoSource(
        vendor,
        tick,
        {"inboxes": inboxes, "poll_interval_s": 2, "settle_s": 0.5},
        every=5,
        env=dict(env or {}),
        destinations=file_destinations(vendor, tuple(ctx.trusts), outbound, dict(destination_options or {})),
    )
