"""``python -m tests.integration.pause_probe BOOTSTRAP TOPIC OUT``: one faust agent reads ``TOPIC`` while a timer
holds its partitions back and releases them every few dozen milliseconds (streams/faust_pause.py), the way the
booking worker holds its input back under overload (streams/booking/admission.py).

Each record's ``partition offset`` goes to ``OUT`` as it is processed, and each hold and release to ``OUT.beats``,
so tests/integration/test_faust_pause.py can check that every record came exactly once, in order, across them.
"""

from __future__ import annotations

import sys
import uuid
from pathlib import Path

import faust

from rosterhub.streams import faust_drain, faust_pause

#: How often the timer flips between holding the partitions back and releasing them
FLIP_S = 0.03


def main(bootstrap: str, topic_name: str, out: Path) -> None:
    faust_drain.apply()  # as the hub's workers run: the fetcher loop the hold has to live with
    app = faust.App(
        f"pause-probe-{uuid.uuid4().hex[:8]}",
        broker=f"kafka://{bootstrap}",
        store="memory://",
        web_enabled=False,
        topic_partitions=3,
        stream_buffer_maxsize=64,  # a full agent queue blocks the fetcher mid-batch, as under overload
    )
    topic = app.topic(topic_name, value_serializer="raw", key_serializer="raw")
    records = out.open("a", buffering=1)
    beats = out.with_suffix(".beats").open("a", buffering=1)
    held = False

    @app.agent(topic)
    async def read(stream: faust.StreamT[bytes]) -> None:
        async for event in stream.events():
            records.write(f"{event.message.partition} {event.message.offset}\n")

    @app.timer(interval=FLIP_S)
    async def flip() -> None:
        nonlocal held
        tps = [tp for tp in app.consumer.assignment() if tp.topic == topic_name]
        if not tps:
            return
        if held:
            await faust_pause.release(app.consumer, tps)
        else:
            await faust_pause.hold(app.consumer, tps)
        held = not held
        beats.write(f"{'hold' if held else 'release'} {len(tps)}\n")

    sys.argv = [sys.argv[0], "worker", "-l", "warn"]
    app.main()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], Path(sys.argv[3]))
