"""Demo traffic for ``rosterhub run``: the simulators, pointed at the hub's own ingress.

Each batch posts a new shift at one of the demo trusts, one or two booking requests for
it (the second loses: already filled), and every third batch a malformed payload, so a
newcomer sees raw, canonical, decision, dead-letter and delivery counts all move.
"""

from __future__ import annotations

from rosterhub.connectors.simulators.patchwork import PatchworkSimulator

__all__ = ["DEMO_TRUSTS", "DemoFeeder"]

DEMO_TRUSTS = ("RHQ", "RCU", "RFR")  # Sheffield Teaching, Sheffield Children's, Rotherham


class DemoFeeder:
    """Posts one batch of demo traffic per call to :meth:`feed_batch`."""

    def __init__(self, ingress: str, secret: bytes, seed: int = 7) -> None:
        self.patchwork = PatchworkSimulator(ingress, secret, DEMO_TRUSTS, seed, malformed_every=3)

    def feed_batch(self) -> None:
        self.patchwork.batch()
