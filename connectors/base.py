"""What a vendor connector declares, what a transport kind implements, and what the runtime gives them.

A vendor plugs in with a mapping file (``mapping/vendors/<id>.yaml``) and a module in
``connectors/vendors/`` exposing ``SPEC: ConnectorSpec`` (or a YAML declaration); outside
packages use the ``rosterhub.connectors`` entry-point group. A transport kind plugs in as a
:class:`Transport` object named ``TRANSPORT`` in a module or package under
``connectors/kinds/``, or through the ``rosterhub.transports`` entry-point group. Nothing
central is edited to add either (docs/connectors.md, "Adding a transport kind").
"""

from __future__ import annotations

import importlib
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Generator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, cast

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from rosterhub.errors import ConfigError

if TYPE_CHECKING:
    from rosterhub.connectors.pipeline import IngestContext

__all__ = [
    "ConnectorSpec",
    "HttpTransport",
    "LoopTransport",
    "MappingInput",
    "Quirks",
    "SourceOffset",
    "SourceRun",
    "Transport",
    "WebhookSignature",
]

#: ``function(payload, headers) -> bytes``: what the mapping reads when the wire payload is not it.
MappingInput = Callable[[bytes, Sequence[tuple[str, bytes]]], bytes]


@dataclass(frozen=True, slots=True)
class WebhookSignature:
    """HMAC-SHA256 over ``<timestamp>.<body>``, hex-encoded, as many bank apps sign webhooks."""

    signature_header: str
    timestamp_header: str
    tolerance_s: int = 300


def _resolve(target: str) -> MappingInput:
    module, _, name = target.partition(":")
    if not module or not name:
        raise ValueError(f"{target!r} is not 'module:function'")
    try:
        found = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as exc:
        raise ValueError(f"{target!r} cannot be imported: {exc}") from None
    if not callable(found):
        raise ValueError(f"{target!r} is not callable")
    return cast("MappingInput", found)  # getattr gives Any: a callable, checked above


class Quirks(BaseModel):
    """Vendor-level facts of the wire format a transport kind reads (file patterns, a cursor parameter's
    name...). Each kind declares its own subclass; the registry validates a vendor's quirks against it when
    it loads, so a misspelt or ill-typed quirk stops start-up naming the vendor, the quirk and the value.

    Deployment choices (folders, URLs, credentials) are settings (``[connectors.<vendor>]``) instead.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)

    #: Turns the wire payload into what the mapping reads (FHIR XML, a Bundle to check first); runs in the
    #: pipeline, live and on ``rosterhub replay`` alike. A ``"module:function"`` string (YAML declarations)
    #: is imported once, here, when the registry loads; never per record.
    mapping_input: MappingInput | None = None

    @field_validator("mapping_input", mode="before")
    @classmethod
    def _import_once(cls, value: Any) -> Any:
        return _resolve(value) if isinstance(value, str) else value


@dataclass(frozen=True, slots=True)
class ConnectorSpec:
    id: str  # vendor id: same spelling in module, mapping file, topic, metric label, ce_source
    kind: str  # a transport kind the registry knows: webhook, poll, filedrop, fhir, or one a package adds
    title: str
    mapping: str | None = None  # mapping vendor name; defaults to id
    content_type: str = "application/json"
    signature: WebhookSignature | None = None
    #: The kind's :class:`Quirks` model. The registry checks it against the kind's own model when it loads
    #: (a YAML declaration's quirks are validated there too), so every connector it hands out carries its
    #: kind's typed quirks: :meth:`Transport.quirks_of` gives them as that model.
    quirks: Quirks = field(default_factory=Quirks)

    @property
    def mapping_name(self) -> str:
        return self.mapping or self.id


@dataclass(frozen=True, slots=True)
class SourceOffset:
    """Where a source stands once everything read before it is safely on the broker (Kafka Connect's
    ``SourceRecord`` source offset). A transport yields it; the connector runtime stores it
    (:func:`rosterhub.connectors.runtime.store_progress`) before the transport goes on, so a crash
    between the two reads the source again from the previous offset, and the dedupe store makes that
    repeat publish nothing twice.

    ``value`` is stored as the position named ``key`` (a poll cursor, a finished file's details);
    ``done`` then marks ``key`` as seen in the dedupe store (a page or file never to be taken again).
    The position goes first: a crash between the two leaves it findable, never a bare "seen" mark.
    """

    key: str
    value: str | None = None
    done: bool = False


#: What a loop transport's ``run`` is: it yields offsets and returns when stopped (or drained, ``once``).
SourceRun = Generator[SourceOffset, None, None]


class Transport(ABC):
    """One way vendors send data. Every transport kind implements this.

    * ``kind``: the name vendors give as ``ConnectorSpec.kind``;
    * ``quirks``: the :class:`Quirks` model of the vendor facts it reads, checked at registry load;
    * ``http``: served by the hub's ingress (``rosterhub serve``) rather than run as a loop by
      ``rosterhub connect <vendor>``;
    * :meth:`run` (loop kinds): read the source until ``stop`` is set (or, ``once``, until it is drained),
      writing through :mod:`rosterhub.connectors.pipeline` and **yielding** a :class:`SourceOffset` after
      each unit is on the broker. The transport never stores progress itself.
    """

    kind: ClassVar[str]
    quirks: ClassVar[type[Quirks]] = Quirks
    http: ClassVar[bool] = False

    def check_quirks(self, vendor: str, origin: str, quirks: Quirks | Mapping[str, Any]) -> Quirks:
        """The vendor's quirks as this kind's model; a :class:`ConfigError` naming vendor, quirk and value.

        ``quirks`` may also be a mapping of the model's fields: what a YAML declaration says, or what a spec
        from an entry point (checked by nobody's type checker) carries."""
        if isinstance(quirks, self.quirks):
            return quirks
        given = quirks.model_dump() if isinstance(quirks, Quirks) else dict(quirks)
        try:
            return self.quirks.model_validate(given)
        except ValidationError as exc:
            problems = "; ".join(_problem(e) for e in exc.errors())
            raise ConfigError(
                f"connector {vendor!r} ({origin}) declares invalid {self.kind} quirks: {problems}", vendor=vendor
            ) from None

    def quirks_of(self, spec: ConnectorSpec) -> Quirks:
        """``spec``'s quirks as this kind's model (already so for every connector the registry hands out)."""
        return self.check_quirks(spec.id, "connector spec", spec.quirks)

    @abstractmethod
    def run(
        self,
        spec: ConnectorSpec,
        ctx: IngestContext,
        options: Mapping[str, Any],
        stop: threading.Event,
        *,
        once: bool,
        **seams: Any,
    ) -> SourceRun:
        """Read the source, yielding a :class:`SourceOffset` once what came before it is on the broker."""


def _problem(error: Mapping[str, Any]) -> str:
    where = ".".join(map(str, error["loc"])) or "(all)"
    if error["type"] == "missing":
        return f"quirk {where}: {error['msg']}"
    return f"quirk {where} = {error['input']!r}: {error['msg']}"


class HttpTransport(Transport):
    """A kind the ingress serves (webhook, FHIR): ``rosterhub connect`` refuses it."""

    http = True

    def run(self, spec: ConnectorSpec, *args: Any, **kwargs: Any) -> SourceRun:
        raise ConfigError(
            f"connector {spec.id!r} is of kind {self.kind!r}, served by `rosterhub serve`: it does not run as a loop",
            vendor=spec.id,
        )


class LoopTransport(Transport):
    """A loop kind whose loop is a module of its own exposing :meth:`Transport.run`'s ``run``, imported at the
    first run: the registry reads every kind, and a kind's dependencies (an HTTP client, the broker's) load
    only where it runs."""

    loop: ClassVar[str]  # the module, e.g. "rosterhub.connectors.kinds.poll.poller"

    def run(self, spec: ConnectorSpec, *args: Any, **kwargs: Any) -> SourceRun:
        run: Callable[..., SourceRun] = importlib.import_module(self.loop).run
        return run(spec, *args, **kwargs)
