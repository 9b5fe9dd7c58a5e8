"""How the pipeline keeps dedupe claims honest when the broker acknowledges only part of a send."""

from pathlib import Path

import pytest

from rosterhub.connectors.pipeline import _send_claimed
from rosterhub.connectors.state import ConnectorState
from rosterhub.envelope import KafkaRecord
from rosterhub.kafka.producer import PartialSend


class _HalfAckSink:
    """Stands in for the broker's answer only: the first ``acked`` records are acknowledged."""

    def __init__(self, acked: int) -> None:
        self.acked = acked

    def send(self, records: list[KafkaRecord]) -> list[tuple[int, int]]:
        raise PartialSend("broker went away", acked=list(range(self.acked)))


class _Ctx:
    def __init__(self, sink: object, state: ConnectorState) -> None:
        self.sink, self.state = sink, state


def test_acknowledged_records_stay_claimed_and_the_rest_are_released(tmp_path: Path) -> None:
    state = ConnectorState(tmp_path / "s.sqlite")
    keys = ["e1", "e2", "e3"]
    assert state.claim("v", keys) == keys
    records = [KafkaRecord("t", None, k.encode(), []) for k in keys]
    with pytest.raises(PartialSend):
        _send_claimed(_Ctx(_HalfAckSink(2), state), "v", keys, records)  # type: ignore[arg-type]
    state.close()
    reopened = ConnectorState(tmp_path / "s.sqlite")  # as after a crash: unconfirmed claims are gone
    assert reopened.claim("v", keys) == ["e3"]  # a retry publishes only what the broker never had
