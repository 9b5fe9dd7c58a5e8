"""bench/outbox_cost.py's switch: on PYTHONPATH of a worker it sets ``streams/outbox.py``'s ``KEPT`` from
``ROSTERHUB_BENCH_OUTBOX_KEPT`` before the worker starts (0: the outbox off). Nothing else reads that variable."""

import os

if "ROSTERHUB_BENCH_OUTBOX_KEPT" in os.environ:
    from rosterhub.streams import outbox

    outbox.KEPT = int(os.environ["ROSTERHUB_BENCH_OUTBOX_KEPT"])
