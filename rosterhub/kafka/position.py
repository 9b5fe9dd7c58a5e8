"""A kafka-python consumer's position as an ``int``, which its typing says may be None.

``KafkaConsumer.position`` returns None only when its own timeout expires before the position is known;
every caller here passes none, so it blocks until it is. None would be a broken promise: say so by name,
not with a ``TypeError`` from the comparison that follows.
"""

from __future__ import annotations

from kafka import KafkaConsumer, TopicPartition
from kafka.errors import IllegalStateError

__all__ = ["next_offset"]


def next_offset(consumer: KafkaConsumer, tp: TopicPartition) -> int:
    """The offset of the next record ``consumer`` will read from ``tp`` (which it must be assigned)."""
    offset = consumer.position(tp)
    if offset is None:
        raise IllegalStateError(f"kafka-python knows no position on {tp.topic}[{tp.partition}]")
    return offset
