"""The ``open-shifts`` processor: a worker's own open-shift list, served where the passport runs.

``GET /availability/workers/{person}/shifts`` computes the person's clearance next to their passport table
partition, from the whole view this worker follows (:mod:`.api`). Availability's agent reads no passport, so
it may run on workers of its own (the views workers of docs/deploy.md's layout); this processor, which needs
passport, keeps the worker route where the passport table is. It has no agent: a view follower (one per
worker: availability reuses this one when both run here, so the default worker follows the view topic
once) and the availability routes (issue #16).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from rosterhub.streams.availability import api
from rosterhub.streams.availability.readmodel import ViewStore, follow_in_worker
from rosterhub.streams.booking.policy import BookingPolicies, load_booking_policies

if TYPE_CHECKING:
    import faust

    from rosterhub.settings import Settings
    from rosterhub.streams.app import StreamContext
    from rosterhub.streams.passport.agents import PassportRuntime
    from rosterhub.streams.web import WorkerWeb

__all__ = ["OpenShifts", "booking_policies", "register"]


@dataclass
class OpenShifts:
    """What the worker route reads in this worker: the view, the booking policies and the passport."""

    web: WorkerWeb
    store: ViewStore
    booking: BookingPolicies
    passport: PassportRuntime


def booking_policies(settings: Settings) -> BookingPolicies:
    """The booking policies the list rules apply (none: every shift excluded ``NO_BOOKING_POLICY``)."""
    folder = settings.booking_policy_dir
    return load_booking_policies([folder]) if folder.exists() else BookingPolicies({})


def register(app: faust.App, ctx: StreamContext, passport: PassportRuntime) -> OpenShifts:
    rt = OpenShifts(ctx.web, follow_in_worker(app, ctx), booking_policies(ctx.settings), passport)
    api.register(ctx.web, rt.store, rt)
    return rt
