"""What to do about the configs of topics that already exist: a pure plan, applied by ``kafka/admin.py``.

``ensure_topics`` creates a missing topic with every config its :class:`~rosterhub.topics.TopicSpec` declares, but
a topic made by an earlier version keeps the configs of that version. Two kinds of declared config differ in what
the hub may do about it:

* a **limit the code relies on** (:data:`RAISED_LIMITS`: ``max.message.bytes``, which lets a whole file be one raw
  record, :mod:`rosterhub.kafka.limits`) is raised to the declared value when the topic's is lower, and never
  lowered: an operator may have raised it further;
* any **other** declared config (``cleanup.policy``, ``retention.ms``) that differs is left as it is (an operator
  may have chosen it, e.g. a retention on ``raw.*``) and named in one warning per topic.

:func:`plan_topic_configs` decides from the topics' effective configs (as DescribeConfigs reports them, broker
defaults included); it reads and writes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from rosterhub.topics import TopicSpec

__all__ = [
    "RAISED_LIMITS",
    "ConfigChange",
    "TopicConfigPlan",
    "alter_command",
    "plan_topic_configs",
    "refused_raises",
]

#: Declared configs that are floors the code relies on: raised on an existing topic when lower, never lowered.
RAISED_LIMITS = frozenset({"max.message.bytes"})


@dataclass(frozen=True, slots=True)
class ConfigChange:
    """One declared config of one existing topic and the topic's value (None: the broker reported none)."""

    topic: str
    key: str
    declared: str
    actual: str | None

    @property
    def shown(self) -> str:
        """The topic's value as messages show it."""
        return "unset" if self.actual is None else self.actual


@dataclass(frozen=True, slots=True)
class TopicConfigPlan:
    #: limits to raise to their declared value (incrementally: that key only)
    raises: tuple[ConfigChange, ...] = ()
    #: other declared configs that differ, left as they are
    drift: tuple[ConfigChange, ...] = ()
    #: existing topics whose configs could not be read (no DescribeConfigs right, or deleted meanwhile)
    unread: tuple[str, ...] = ()

    def raises_by_topic(self) -> dict[str, list[ConfigChange]]:
        """The raises grouped by topic (one alter per topic), in plan order."""
        return _by_topic(self.raises)

    def drift_warnings(self) -> list[str]:
        """One line per topic whose other configs differ, naming each key with its declared and actual value."""
        return [
            f"topic {topic}: "
            + "; ".join(f"{c.key} is {c.shown} where the hub declares {c.declared}" for c in changes)
            + " (left as it is: an operator may have chosen it)"
            for topic, changes in _by_topic(self.drift).items()
        ]


def plan_topic_configs(
    specs: Sequence[TopicSpec], described: Mapping[str, Mapping[str, str | None]]
) -> TopicConfigPlan:
    """Compare each spec with ``described[spec.name]``, the effective configs of the topic of that name.

    A spec whose topic is not in ``described`` is skipped (it does not exist: it is created with its configs).
    An empty mapping means the topic's configs could not be read: it is listed in ``unread``, nothing is decided.
    """
    raises: list[ConfigChange] = []
    drift: list[ConfigChange] = []
    unread: list[str] = []
    for spec in specs:
        if spec.name not in described:
            continue
        actual = described[spec.name]
        if not actual:
            unread.append(spec.name)
            continue
        for key, declared in spec.configs().items():
            change = ConfigChange(spec.name, key, declared, actual.get(key))
            if key in RAISED_LIMITS:
                if _below(change.actual, declared):
                    raises.append(change)
            elif not _same(key, declared, change.actual):
                drift.append(change)
    return TopicConfigPlan(tuple(raises), tuple(drift), tuple(unread))


def alter_command(change: ConfigChange, bootstrap: str) -> str:
    """The Kafka command an operator runs to make ``change`` by hand (the hub's principal may not alter configs)."""
    return (
        f"kafka-configs.sh --bootstrap-server {bootstrap} --alter --entity-type topics "
        f"--entity-name {change.topic} --add-config {change.key}={change.declared}"
    )


def refused_raises(refused: Sequence[tuple[ConfigChange, str]], bootstrap: str) -> str:
    """Why the start stops when the cluster refused raises: each topic and key with its value, the value needed,
    the cluster's answer and the command that makes the change by hand."""
    lines = "\n".join(
        f"  topic {c.topic}: {c.key} is {c.shown}, the hub needs {c.declared} ({why}); by hand: "
        f"{alter_command(c, bootstrap)}"
        for c, why in refused
    )
    return (
        "the cluster refused to raise the record limit of existing topics, so records up to the hub's limit would "
        "be refused on them. Grant the hub's Kafka user AlterConfigs on them, or raise them once by hand (with "
        f"--command-config <admin.properties> on a secured cluster), then start again:\n{lines}"
    )


def _below(actual: str | None, declared: str) -> bool:
    """True when the topic's limit is under the declared one; a limit it does not report is raised too. Both are
    integers: Kafka types ``max.message.bytes`` (INT), and a declared value that is not one fails here, at start."""
    return actual is None or int(actual) < int(declared)


def _same(key: str, declared: str, actual: str | None) -> bool:
    if actual is None:
        return False
    if key == "cleanup.policy":  # a list: "compact,delete" is "delete,compact"
        return _policies(declared) == _policies(actual)
    try:
        return int(declared) == int(actual)
    except ValueError:
        return declared == actual


def _policies(value: str) -> frozenset[str]:
    return frozenset(p.strip() for p in value.split(",") if p.strip())


def _by_topic(changes: Sequence[ConfigChange]) -> dict[str, list[ConfigChange]]:
    """Changes grouped by their topic, topics and changes in the order given."""
    grouped: dict[str, list[ConfigChange]] = {}
    for change in changes:
        grouped.setdefault(change.topic, []).append(change)
    return grouped
