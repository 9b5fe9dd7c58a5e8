"""The API's and the CLI's way in: follow ``events.identity`` into an :class:`IdentityView`, and send
merge/split commands to ``_rosterhub.identity-in`` (then wait for the worker's answer on events.identity).

The view is kept by the shared follower (:mod:`rosterhub.kafka.follow`) in a background
thread; calls block: the API calls in through a threadpool, the CLI directly.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any, TypeVar

from rosterhub.codec.wire import EventCodec
from rosterhub.kafka.access import KafkaAccess
from rosterhub.kafka.follow import BackgroundReader, Follower, envelopes
from rosterhub.kafka.producer import EventSink
from rosterhub.streams.identity.commands import MergeCommand, SplitCommand, command_record
from rosterhub.streams.identity.view import IdentityView

__all__ = ["IdentityClient"]

log = logging.getLogger(__name__)
T = TypeVar("T")


class IdentityClient(BackgroundReader):
    """Keeps a view of events.identity current; sends commands. ``start()`` before use, ``stop()`` after."""

    def __init__(
        self, kafka: KafkaAccess, identity_topic: str, identity_in: str, codec: EventCodec, sink: EventSink, source: str
    ) -> None:
        self._in, self._sink, self._source = identity_in, sink, source
        self._view = IdentityView()
        self._follower = Follower(
            kafka, identity_topic, self._view.apply, name="rosterhub-identity-view", decode=envelopes(codec)
        )
        self._changed = self._follower.progress.lock  # notified after each batch the view has folded

    def read(self, fn: Callable[[IdentityView], T], *, timeout: float = 30.0) -> T:
        """``fn`` over the view once it has read everything that was on the topic at start."""
        self._follower.wait_ready(timeout)
        with self._changed:
            return fn(self._view)

    def send(self, cmd: MergeCommand | SplitCommand) -> str:
        command_id, record = command_record(cmd, self._in, source=self._source)
        self._sink.send([record])
        return command_id

    def result(self, command_id: str, timeout: float) -> dict[str, Any] | None:
        """The PersonsMerged/PersonSplit the worker emitted for this command, once seen (None: not yet)."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while command_id not in self._view.results:
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self._changed.wait(left)
            return self._view.results[command_id]
