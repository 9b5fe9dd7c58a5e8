"""Who pays a booking, under the collaborative's employment model (the host trust's collaborative).

* lead employer: the lead employer pays every bank worker;
* distributed: the worker's home trust pays (the booking request's ``home_trust``; else the trust of
  the platform the booking came through, ``<vendor>:<trust>:<id>``);
* managed service: the provider pays, and invoices the trusts.

The trust that pays recharges the trust where the work was done whenever the two differ.
"""

from __future__ import annotations

from typing import Any

from rosterhub.streams.payroll.policy import PayrollPolicy

__all__ = ["MODELS", "employing_trust"]

#: policy model -> EmploymentModel symbol on the events
MODELS = {"lead_employer": "LEAD_EMPLOYER", "distributed": "DISTRIBUTED", "managed_service": "MANAGED_SERVICE"}


def employing_trust(host: PayrollPolicy, booking: dict[str, Any]) -> tuple[str | None, str]:
    """(ODS code of the trust that pays, EmploymentModel symbol); None when the booking names no home trust."""
    emp = host.employment
    if emp.model == "lead_employer":
        return emp.lead_employer, MODELS[emp.model]
    if emp.model == "managed_service":
        return emp.provider, MODELS[emp.model]
    home = booking.get("home_trust")
    if not home:
        parts = str(booking.get("booking_id") or "").split(":")
        home = parts[1] if len(parts) >= 3 else None
    return home, MODELS[emp.model]
