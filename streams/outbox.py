"""A stage's outputs kept in its table value, so an input applied before a crash sends them again, byte for byte.

The gap (issue #17, docs/decisions/0013-outputs-before-state.md): a stage queues its outputs, then its table
write; faust flushes them separately, so a worker killed in between can keep the table write (the state says
"done") and lose the outputs. faust commits an input's offset only after flushing everything queued before the
commit, so such an input is always delivered again after the restart; but the stage, finding its effect already
in the state, sent nothing, and the output was lost for good (the probe's lost decision).

So the table value of the key an input touched also keeps, for the last :data:`KEPT` inputs that produced
outputs, the records it sent (topic, key, value, headers, as bytes). An input delivered again whose id is in
there is not decided again: its records are sent again, the same bytes, and the state is left as it is. An
input whose table write never landed is decided again on the old state, as before (same records: the stages
decide at the input's own record time).
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["KEPT", "Sent", "input_id", "kept", "remember"]

#: Inputs per key whose outputs are kept: an input is redelivered only if its offset was not committed, and
#: faust commits every few seconds, so it is one of the last few inputs of its key.
KEPT = 4


@dataclass(frozen=True, slots=True)
class Sent:
    """One record as sent: enough to send it again identically."""

    topic: str
    key: bytes | None
    value: bytes
    headers: tuple[tuple[str, bytes], ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "t": self.topic,
            "k": None if self.key is None else base64.b64encode(self.key).decode(),
            "v": base64.b64encode(self.value).decode(),
            "h": [[n, base64.b64encode(v).decode()] for n, v in self.headers],
        }

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> Sent:
        key = None if d.get("k") is None else base64.b64decode(d["k"])
        headers = tuple((str(n), base64.b64decode(v)) for n, v in d.get("h", ()))
        return cls(str(d["t"]), key, base64.b64decode(d["v"]), headers)


def input_id(topic: str, partition: int, offset: int) -> str:
    """An input record's identity: what a redelivery has in common with the first delivery."""
    return f"{topic}/{partition}/{offset}"


def kept(outbox: Iterable[Any], input_: str) -> list[Sent] | None:
    """The records sent for this input, if it was applied and kept here; None: not applied (decide it)."""
    for entry in outbox:
        if entry[0] == input_:
            return [Sent.from_json(r) for r in entry[1]]
    return None


def remember(outbox: Iterable[Any], input_: str, sent: list[Sent]) -> tuple[Any, ...]:
    """The outbox with this input's records, the oldest dropped beyond :data:`KEPT`; as it was when none sent."""
    entries = tuple(outbox)
    if not sent:
        return entries
    if KEPT <= 0:  # the outbox off (bench/outbox_cost.py measures its cost against this)
        return ()
    entries = (*(e for e in entries if e[0] != input_), (input_, [s.to_json() for s in sent]))
    return entries[-KEPT:]
