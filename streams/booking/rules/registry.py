"""A booking rule is one object, :class:`BookingRule`, declared by its own module with :func:`rule`.

Like a Kafka Connect ``Transformation`` (behaviour and its ``ConfigDef`` on one object), a rule
carries everything the hub needs to know about it: its id, its function, the saga stage that runs
it (``shift``: needs only the shift and the request; ``person``: needs the person's other bookings
or passport), its place in the evaluation order, the reason codes it can give (with their
meanings) and the policy section(s) it reads, with the pydantic model that validates each.

Everything else is derived from the registered rules: the engine's list and order
(:func:`rules`), the policy's rule ids, always-on rules and extra sections
(:mod:`rosterhub.streams.booking.policy`), the two stages' lists (:func:`stage`), the reason-code
table (:func:`reason_codes`) and the tests' parametrisation. The rules package is scanned
(:func:`discover`) the first time any of these is asked for, so a new rule module under
``streams/booking/rules/`` is found without editing a list; a module elsewhere registers by being
imported. docs/booking.md, "Adding a rule", walks through it.

A rule's function is given the context and its :class:`~.result.Outcomes` (its id and declared
codes), so it returns its verdict without naming itself. A family whose rules apply only to some
bookings (the junior doctors' rules to doctors in training, the agency rules to agency bookings)
declares that once, as ``exempt=`` on the family's ``partial(rule, ...)``: an exempt booking passes
every rule of the family with the sentence ``exempt`` gives, before the rule's function is called.
"""

from __future__ import annotations

import functools
import importlib
import pkgutil
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Generic, Literal, TypeVar

from pydantic import BaseModel

from rosterhub.streams.booking.rules.result import Outcomes

if TYPE_CHECKING:
    from rosterhub.streams.booking.rules.context import RuleContext
    from rosterhub.streams.booking.rules.result import RuleResult

__all__ = [
    "PERSON",
    "SHIFT",
    "BookingRule",
    "Exemption",
    "RuleFunction",
    "RuleRunner",
    "Section",
    "Stage",
    "discover",
    "get",
    "position",
    "reason_codes",
    "register",
    "rule",
    "rule_ids",
    "rules",
    "sections",
    "stage",
    "unregister",
]

Stage = Literal["shift", "person"]
#: Run by the shift stage before the hold (the shift and the request are enough).
SHIFT: Stage = "shift"
#: Run by the person stage (the person's other bookings, passport or memberships are needed).
PERSON: Stage = "person"

#: A rule's function: the context and the rule's own :class:`Outcomes` in, its result out.
RuleFunction = Callable[["RuleContext", Outcomes], "RuleResult"]
#: What :func:`rule` gives back in the function's place: the declared rule, run on a context.
RuleRunner = Callable[["RuleContext"], "RuleResult"]
#: A family's applicability: None when its rules apply to the booking, else the sentence they pass with.
Exemption = Callable[["RuleContext"], "str | None"]


#: Covariant: a rule's ``Section[GradePolicy]`` is one of the ``Section[BaseModel]`` a :class:`BookingRule` holds.
M_co = TypeVar("M_co", bound=BaseModel, covariant=True)


@dataclass(frozen=True, slots=True)
class Section(Generic[M_co]):
    """A top-level key of the booking policy a rule reads, and the model that validates it.

    A rule reads it as ``ctx.policy.config(SECTION)`` (typed as the model).
    """

    key: str
    model: type[M_co]


@dataclass(frozen=True, slots=True)
class BookingRule:
    """One booking rule: behaviour and everything the hub derives from it (docs/booking.md)."""

    id: str
    check: RuleFunction
    stage: Stage
    #: Place in the evaluation order (smaller first); decisions list results in this order.
    order: int
    #: Reason code -> meaning, for every code the rule can put on a result (a failure or a noted pass).
    codes: Mapping[str, str]
    #: Policy sections the rule reads; a section the policy model does not hold is validated with ``model``.
    config: tuple[Section[BaseModel], ...] = ()
    #: No policy may switch it off (a decision without it would mean nothing).
    always_on: bool = False
    module: str = field(default="", compare=False)
    #: The family's applicability check: an exempt booking passes with its sentence, ``check`` is not called.
    exempt: Exemption | None = field(default=None, compare=False)
    #: The results this rule can give (its id, its declared codes), handed to ``check``.
    outcomes: Outcomes = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "outcomes", Outcomes(self.id, frozenset(self.codes)))

    def __call__(self, ctx: RuleContext) -> RuleResult:
        if self.exempt is not None and (why := self.exempt(ctx)):
            return self.outcomes.ok(why)
        return self.check(ctx, self.outcomes)


@dataclass(frozen=True, slots=True)
class _View:
    """What the registry derives, computed once per change of the registered rules."""

    rules: tuple[BookingRule, ...]
    by_stage: Mapping[str, tuple[BookingRule, ...]]
    codes: Mapping[str, str]
    sections: Mapping[str, type[BaseModel]]
    order: Mapping[str, int]


class _Registry:
    """The registered rules and what is derived from them (one per process: :data:`_REGISTRY`)."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.rules: dict[str, BookingRule] = {}
        self.discovered = False
        self.view: _View | None = None

    def add(self, r: BookingRule) -> None:
        with self.lock:
            known = self.rules.get(r.id)
            if known is not None and known.module != r.module:
                raise ValueError(f"booking rule {r.id!r} is registered twice ({known.module} and {r.module})")
            others = [o for o in self.rules.values() if o.id != r.id]
            clash = next((o for o in others if o.order == r.order), None)
            if clash is not None:
                raise ValueError(f"booking rules {clash.id!r} and {r.id!r} both have order {r.order}")
            meanings = {c: m for o in others for c, m in o.codes.items()}
            for code, meaning in r.codes.items():
                if meanings.get(code, meaning) != meaning:
                    raise ValueError(f"reason code {code} of {r.id!r} already has another meaning")
            taken = {s.key: s.model for o in others for s in o.config}
            for s in r.config:
                if taken.get(s.key, s.model) is not s.model:
                    raise ValueError(f"policy section {s.key!r} of {r.id!r} is read by another rule with another model")
            self.rules[r.id] = r
            self.view = None

    def remove(self, rule_id: str) -> None:
        with self.lock:
            self.rules.pop(rule_id, None)
            self.view = None

    def discover(self) -> None:
        if not self.discovered:  # without the lock once done
            with self.lock:
                self._discover_once()

    def _discover_once(self) -> None:
        """Under the lock: another thread may have discovered the rules while this one waited for it."""
        if self.discovered:
            return
        package = importlib.import_module(__name__.rsplit(".", 1)[0])
        for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda i: i.name):
            importlib.import_module(f"{package.__name__}.{info.name}")
        self.discovered = True

    def current(self) -> _View:
        self.discover()
        view = self.view
        if view is not None:
            return view
        with self.lock:
            ordered = tuple(sorted(self.rules.values(), key=lambda r: r.order))
            view = _View(
                ordered,
                {s: tuple(r for r in ordered if r.stage == s) for s in (SHIFT, PERSON)},
                {code: meaning for r in ordered for code, meaning in r.codes.items()},
                {s.key: s.model for r in ordered for s in r.config},
                {r.id: i for i, r in enumerate(ordered)},
            )
            self.view = view
            return view


_REGISTRY = _Registry()


def register(r: BookingRule) -> BookingRule:
    """Add a rule; refuses a second rule with the same id or order, a code given another meaning, or a policy
    section another rule reads with another model. Registering the same module's rule again replaces it."""
    _REGISTRY.add(r)
    return r


def unregister(rule_id: str) -> None:
    """Remove a rule (a test's own rule, once the test is done)."""
    _REGISTRY.remove(rule_id)


def rule(
    rule_id: str,
    *,
    stage: Stage,
    order: int,
    codes: Mapping[str, str],
    config: tuple[Section[BaseModel], ...] = (),
    always_on: bool = False,
    exempt: Exemption | None = None,
) -> Callable[[RuleFunction], RuleRunner]:
    """Declare and register the decorated function as a booking rule.

    In its place stands the declared rule as a function of the context alone (same name and docstring;
    ``__wrapped__`` is the function as written), which is what the engine runs: exemption first, then the
    function with the rule's :class:`Outcomes`.
    """

    def wrap(fn: RuleFunction) -> RuleRunner:
        declared = register(
            BookingRule(
                rule_id,
                fn,
                stage,
                order,
                dict(codes),
                tuple(config),
                always_on,
                module=fn.__module__,
                exempt=exempt,
            )
        )

        def run(ctx: RuleContext) -> RuleResult:
            return declared(ctx)

        return functools.update_wrapper(run, fn)

    return wrap


def discover() -> None:
    """Import every module of the rules package once, so each registers its rules."""
    _REGISTRY.discover()


def rules() -> tuple[BookingRule, ...]:
    """Every registered rule, in evaluation order."""
    return _REGISTRY.current().rules


def rule_ids() -> tuple[str, ...]:
    return tuple(r.id for r in rules())


def get(rule_id: str) -> BookingRule:
    discover()
    return _REGISTRY.rules[rule_id]


def stage(name: Stage) -> tuple[BookingRule, ...]:
    """The rules one saga stage runs, in evaluation order."""
    return _REGISTRY.current().by_stage[name]


def reason_codes() -> dict[str, str]:
    """Every code a registered rule can give, with its meaning, in rule order."""
    return dict(_REGISTRY.current().codes)


def position(rule_id: str) -> int | None:
    """The rule's index in the evaluation order (None: not a registered rule)."""
    return _REGISTRY.current().order.get(rule_id)


def sections() -> dict[str, type[BaseModel]]:
    """Policy section key -> the model that validates it, for every section a registered rule reads."""
    return dict(_REGISTRY.current().sections)
