"""A simulated FHIR-speaking roster: it posts workforce Bundles to the hub's FHIR endpoint,
and it is a small FHIR server that receives the hub's outbound updates.

Sending (:class:`FhirSimulator`): per trust, a Bundle (batch, transaction or collection)
with the trust's Organization, ward Locations and Schedules, Practitioners with UK Core
register identifiers (GMC, NMC, HCPC, GPhC, all valid in format) and the hub's grade
coding, PractitionerRoles, free Slots for open shifts (early, late, long day and night
patterns, weekends included, offsets as Europe/London has them) and VerificationResults
of their registrations. A seed and a start date make the traffic reproducible.

Receiving (:func:`create_fhir_server`): ``PUT [base]/Slot/{id}`` (a slot now busy),
``POST [base]/Appointment`` and ``POST [base]/Task`` (a booking), with ``If-None-Exist``
conditional create so a redelivered booking is stored once; everything is validated with
the R4B models and kept in :class:`FhirStore` (``app.state.store``) for convergence tests.
"""

from __future__ import annotations

import itertools
import json
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import typer
from fastapi import FastAPI, Request, Response
from pydantic import ValidationError

from rosterhub.connectors.simulators.platform_state import Op, PlatformState
from rosterhub.connectors.simulators.serving import server_command, serving
from rosterhub.instants import LONDON

__all__ = [
    "TRUSTS",
    "FhirSimulator",
    "FhirStore",
    "apply_transaction",
    "create_fhir_server",
    "register_cli",
    "trust_bundle",
]

TRUSTS = ("RHQ", "RCU", "RFR", "RR8", "RTH", "RJ1", "RYJ", "RAL", "RXH", "RWE")
GRADE = "https://rosterhub.org/CodeSystem/grade"
STAFF_GROUP = "https://rosterhub.org/CodeSystem/staff-group"
EXT = "https://rosterhub.org/fhir/StructureDefinition/"
ODS_ORG = "https://fhir.nhs.uk/Id/ods-organization-code"
ODS_SITE = "https://fhir.nhs.uk/Id/ods-site-code"
UK = "https://fhir.hl7.org.uk/Id/"
PRIMARY_SOURCE = "http://terminology.hl7.org/CodeSystem/primary-source-type"

#: staff group -> (register, grades, wards, hourly rate range in GBP)
_ROLES: dict[str, tuple[str, tuple[str, ...], tuple[str, ...], tuple[float, float]]] = {
    "NURSING_MIDWIFERY_REGISTERED": (
        "nmc",
        ("BAND_5", "BAND_6", "BAND_7"),
        ("Ward 7 Acute Medicine", "Labour Ward", "Critical Care Unit"),
        (21.0, 34.0),
    ),
    "MEDICAL_DENTAL": (
        "gmc",
        ("FY1", "FY2", "CT1_2", "ST3_5", "ST6_8", "SPECIALTY", "CONSULTANT"),
        ("Emergency Department", "Acute Medical Unit"),
        (38.0, 120.0),
    ),
    "ALLIED_HEALTH_PROFESSIONALS": ("hcpc", ("BAND_5", "BAND_6"), ("Physiotherapy Outpatients",), (22.0, 30.0)),
    "ADD_PROF_SCIENTIFIC_TECHNICAL": ("gphc", ("BAND_6", "BAND_7"), ("Inpatient Pharmacy",), (25.0, 36.0)),
}
#: (local start hour, minute, hours): early, late, long day, night
_PATTERNS = ((7, 0, 7.5), (13, 30, 8.0), (7, 30, 12.5), (20, 0, 12.0))
_GIVEN = ("Amara", "Tom", "Priya", "Sean", "Grace", "Kwame", "Ellie", "Hassan", "Niamh", "Oluwaseun", "Mei", "Rhys")
_FAMILY = ("Okafor", "Hughes", "Patel", "Murphy", "Evans", "Mensah", "Clarke", "Rahman", "Byrne", "Adeyemi", "Chen")
_LETTERS = "ABCDEFGHJKLMNPRSTUWY"
_SOURCE = {
    "nmc": "Nursing and Midwifery Council",
    "gmc": "General Medical Council",
    "hcpc": "Health and Care Professions Council",
    "gphc": "General Pharmaceutical Council",
}


def register_number(register: str, rng: random.Random) -> str:
    """A number valid in format for its register (the registers' own check rules are not public)."""
    if register == "gmc":
        return f"{rng.randint(1000000, 7999999)}"
    if register == "nmc":
        return f"{rng.randint(0, 99):02d}{rng.choice(_LETTERS)}{rng.randint(0, 9999):04d}{rng.choice(_LETTERS)}"
    if register == "hcpc":
        return f"{rng.choice(('PH', 'OT', 'SL', 'RA'))}{rng.randint(10000, 999999)}"
    return f"{rng.randint(2000000, 2299999)}"


def _entry(resource: dict[str, Any], bundle_type: str, base: str) -> dict[str, Any]:
    entry: dict[str, Any] = {"fullUrl": f"{base}/{resource['resourceType']}/{resource['id']}", "resource": resource}
    if bundle_type != "collection":
        entry["request"] = {"method": "PUT", "url": f"{resource['resourceType']}/{resource['id']}"}
    return entry


def trust_bundle(
    trust: str,
    rng: random.Random,
    *,
    start: date,
    workers: int = 4,
    shifts: int = 6,
    bundle_type: str = "batch",
    tag: str = "",
) -> dict[str, Any]:
    """One trust's Bundle of workforce resources (see the module docstring)."""
    base = f"https://fhir.{trust.lower()}.example.nhs.uk"
    name = f"{trust} NHS Foundation Trust (simulated)"
    resources: list[dict[str, Any]] = [
        {
            "resourceType": "Organization",
            "id": trust.lower(),
            "active": True,
            "identifier": [{"system": ODS_ORG, "value": trust}],
            "name": name,
        }
    ]
    wards: dict[str, str] = {}
    for group, (_register, _grades, group_wards, _rate) in _ROLES.items():
        for ward in group_wards:
            if ward in wards:
                continue
            wid = f"{trust.lower()}-w{len(wards) + 1}"
            wards[ward] = wid
            resources.append(
                {
                    "resourceType": "Location",
                    "id": wid,
                    "status": "active",
                    "name": ward,
                    "identifier": [{"system": ODS_SITE, "value": f"{trust}{len(wards):02d}"}],
                    "managingOrganization": {"reference": f"Organization/{trust.lower()}"},
                }
            )
            resources.append(
                {
                    "resourceType": "Schedule",
                    "id": f"{wid}-bank",
                    "active": True,
                    "serviceCategory": [{"coding": [{"system": STAFF_GROUP, "code": group}]}],
                    "actor": [{"reference": f"Location/{wid}", "display": ward}],
                }
            )
    for n in range(workers):
        group = rng.choice(list(_ROLES))
        register, grades, group_wards, _rate = _ROLES[group]
        pid = f"{trust.lower()}-p{tag}{n + 1}"
        number = register_number(register, rng)
        given, family = rng.choice(_GIVEN), rng.choice(_FAMILY)
        resources.append(
            {
                "resourceType": "Practitioner",
                "id": pid,
                "active": True,
                "identifier": [
                    {"system": f"{UK}{register}-number", "value": number},
                    {"system": f"{base}/Id/staff-number", "value": f"{rng.randint(10000000, 29999999)}"},
                ],
                "name": [{"use": "official", "family": family, "given": [given]}],
                "qualification": [{"code": {"coding": [{"system": GRADE, "code": rng.choice(grades)}]}}],
            }
        )
        resources.append(
            {
                "resourceType": "PractitionerRole",
                "id": f"{pid}-bank",
                "active": True,
                "practitioner": {"reference": f"Practitioner/{pid}"},
                "organization": {"reference": f"Organization/{trust.lower()}"},
                "location": [{"reference": f"Location/{wards[rng.choice(group_wards)]}"}],
                "code": [{"coding": [{"system": STAFF_GROUP, "code": group}]}],
            }
        )
        checked = datetime.combine(start - timedelta(days=rng.randint(1, 30)), datetime.min.time(), LONDON)
        resources.append(
            {
                "resourceType": "VerificationResult",
                "id": f"{pid}-reg",
                "status": "validated",
                "target": [
                    {
                        "reference": f"Practitioner/{pid}",
                        "display": f"{given} {family}",
                        "identifier": {"system": f"{UK}{register}-number", "value": number},
                    }
                ],
                "statusDate": checked.replace(hour=9).isoformat(),
                "nextScheduled": (start + timedelta(days=90)).isoformat(),
                "primarySource": [
                    {
                        "type": [{"coding": [{"system": PRIMARY_SOURCE, "code": "lic-board"}]}],
                        "who": {"display": _SOURCE[register]},
                    }
                ],
                "validator": [{"organization": {"identifier": {"system": ODS_ORG, "value": trust}}}],
            }
        )
    for n in range(shifts):
        group = rng.choice(list(_ROLES))
        _register, grades, group_wards, (low, high) = _ROLES[group]
        ward = rng.choice(group_wards)
        hour, minute, hours = rng.choice(_PATTERNS)
        day = start + timedelta(days=rng.randint(0, 13))  # two weeks: weekends included
        begin = datetime(day.year, day.month, day.day, hour, minute, tzinfo=LONDON)
        end = (begin.astimezone(ZoneInfo("UTC")) + timedelta(hours=hours)).astimezone(LONDON)
        slot: dict[str, Any] = {
            "resourceType": "Slot",
            "id": f"{trust.lower()}-s{tag}{n + 1}",
            "status": "free",
            "extension": [
                {"url": f"{EXT}grade", "valueCode": rng.choice(grades)},
                {
                    "url": f"{EXT}hourly-rate",
                    "valueMoney": {"value": round(rng.uniform(low, high), 2), "currency": "GBP"},
                },
            ],
            "serviceCategory": [{"coding": [{"system": STAFF_GROUP, "code": group}]}],
            "schedule": {"reference": f"Schedule/{wards[ward]}-bank"},
            "start": begin.isoformat(),
            "end": end.isoformat(),
        }
        if n % 2:  # half name the ward themselves; the others leave it to the Schedule
            slot["schedule"]["display"] = ward
        resources.append(slot)
    return {
        "resourceType": "Bundle",
        "id": f"{trust.lower()}-{tag or 'bundle'}",
        "type": bundle_type,
        "timestamp": datetime.combine(start, datetime.min.time(), LONDON).isoformat(),
        "entry": [_entry(r, bundle_type, base) for r in resources],
    }


@dataclass
class FhirSimulator:
    """Posts Bundles for ``trusts`` to ``target`` (the hub's base URL); :meth:`tick` is one round."""

    target: str
    trusts: tuple[str, ...] = TRUSTS[:3]
    seed: int = 7
    start: date = field(default_factory=lambda: date.today() + timedelta(days=1))
    bundle_types: tuple[str, ...] = ("batch", "transaction", "collection")
    sent: dict[str, int] = field(default_factory=dict)
    #: trust -> headers authenticating that trust's integration to the hub (a bearer token)
    auth: Callable[[str], dict[str, str]] = lambda _trust: {}

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        self.round = itertools.count(1)

    def bundles(self, n: int = 1) -> list[tuple[str, dict[str, Any]]]:
        """Round ``n``'s (trust, Bundle) pairs: new workers and slots each round, same seed same Bundles."""
        kind = self.bundle_types[(n - 1) % len(self.bundle_types)]
        return [(t, trust_bundle(t, self.rng, start=self.start, bundle_type=kind, tag=f"r{n}-")) for t in self.trusts]

    def post(self, trust: str, bundle: dict[str, Any] | bytes, client: httpx.Client | None = None) -> httpx.Response:
        body = bundle if isinstance(bundle, bytes) else json.dumps(bundle).encode()
        url = f"{self.target.rstrip('/')}/fhir/{trust}/R4"
        headers = {"Content-Type": "application/fhir+json", "Accept": "application/fhir+json", **self.auth(trust)}
        r = (client or httpx).post(url, content=body, headers=headers, timeout=60)
        self.sent[str(r.status_code)] = self.sent.get(str(r.status_code), 0) + 1
        return r

    def tick(self) -> list[httpx.Response]:
        n = next(self.round)
        with httpx.Client() as client:
            return [self.post(trust, bundle, client) for trust, bundle in self.bundles(n)]


# --- the receiving side -----------------------------------------------------------------------------------


@dataclass
class FhirStore:
    """What the simulated platform holds: resources by type and id, with version counts."""

    resources: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    versions: dict[str, int] = field(default_factory=dict)
    repeats: int = 0  # conditional creates that found their resource already there

    def put(self, resource: dict[str, Any]) -> int:
        key = f"{resource['resourceType']}/{resource['id']}"
        self.resources.setdefault(resource["resourceType"], {})[resource["id"]] = resource
        self.versions[key] = self.versions.get(key, 0) + 1
        resource["meta"] = {**resource.get("meta", {}), "versionId": str(self.versions[key])}
        return self.versions[key]

    def find(self, rtype: str, search: str) -> dict[str, Any] | None:
        """``identifier=system|value`` (the only search parameter the simulator needs)."""
        name, _, value = search.partition("=")
        system, _, code = value.rpartition("|")
        if name != "identifier":
            return None
        for res in self.resources.get(rtype, {}).values():
            for ident in res.get("identifier") or []:
                if ident.get("value") == code and (not system or ident.get("system") == system):
                    return res
        return None


def _outcome(status: int, code: str, text: str) -> Response:
    body = {"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": code, "diagnostics": text}]}
    return Response(json.dumps(body), status_code=status, media_type="application/fhir+json")


def _json(status: int, resource: dict[str, Any], location: str | None = None) -> Response:
    headers = {"ETag": f'W/"{resource["meta"]["versionId"]}"'} if "meta" in resource else {}
    if location:
        headers["Location"] = location
    return Response(json.dumps(resource), status_code=status, headers=headers, media_type="application/fhir+json")


async def _validated(request: Request, rtype: str) -> dict[str, Any] | Response:
    from fhir.resources.R4B import get_fhir_model_class

    try:
        resource = json.loads(await request.body())
        get_fhir_model_class(rtype).model_validate(resource)
    except (ValueError, ValidationError) as exc:
        return _outcome(400, "invalid", f"not a valid {rtype}: {exc}")
    if resource.get("resourceType") != rtype:
        return _outcome(400, "invalid", f"the body is a {resource.get('resourceType')}, not a {rtype}")
    return dict(resource)


HUB_SHIFT = "https://rosterhub.org/Id/shift"
UPDATE_SYSTEM = "https://rosterhub.org/Id/update"
_SLOT_OPS: dict[str, Op] = {"free": "offer", "busy-unavailable": "withdraw"}
_APPOINTMENT_OPS: dict[str, Op] = {"booked": "fill", "cancelled": "cancel", "noshow": "no_show"}


def _hub_shift(slot: dict[str, Any] | None) -> str | None:
    for ident in (slot or {}).get("identifier") or []:
        if ident.get("system") == HUB_SHIFT:
            return str(ident.get("value"))
    return None


def apply_transaction(store: FhirStore, state: PlatformState, bundle: dict[str, Any]) -> dict[str, Any]:
    """Apply the hub's transaction Bundle (PUT entries; ``Bundle.identifier`` is the update key, deduplicated):
    the resources go into ``store``, and what they mean for the shift into ``state``. Returns the
    ``transaction-response`` Bundle. The caller has validated the Bundle."""
    key = (bundle.get("identifier") or {}).get("value")
    entries = [e.get("resource") or {} for e in bundle.get("entry") or []]
    fresh = not (key and state.seen(key))
    answers = []
    for resource in entries:
        rid, rtype = resource.get("id"), resource.get("resourceType")
        if fresh:
            store.put(resource)
        else:
            store.repeats += 1
        answers.append({"response": {"status": "200 OK", "location": f"{rtype}/{rid}"}})
    if fresh and key:
        slots = [r for r in entries if r.get("resourceType") == "Slot"]
        appointments = [r for r in entries if r.get("resourceType") == "Appointment"]
        if appointments:
            appt = appointments[0]
            ref = (appt.get("slot") or [{}])[0].get("reference", "").removeprefix("Slot/")
            shift_id = _hub_shift(store.resources.get("Slot", {}).get(ref)) or ref
            actor = (appt.get("participant") or [{}])[0].get("actor") or {}
            booking = next((i.get("value") for i in appt.get("identifier") or []), None)
            reopen = any(s.get("status") == "free" for s in slots)
            state.apply(
                key,
                _APPOINTMENT_OPS[appt["status"]],
                shift_id,
                booking_id=booking,
                worker=actor.get("display"),
                reopen=reopen,
            )
        elif slots:
            slot = slots[0]
            op = _SLOT_OPS.get(slot.get("status", ""), "withdraw")
            state.apply(key, op, _hub_shift(slot) or str(slot.get("id")), start=slot.get("start"))
    return {"resourceType": "Bundle", "type": "transaction-response", "entry": answers}


def create_fhir_server(store: FhirStore | None = None, state: PlatformState | None = None) -> FastAPI:
    """The platform side that receives the hub's updates as FHIR (base ``/fhir/R4``): transaction
    Bundles at the base (``app.state.platform`` is its :class:`PlatformState`), and single resources."""
    app = FastAPI(title="simulated FHIR roster platform")
    app.state.store = store = store or FhirStore()
    app.state.platform = platform = state or PlatformState()

    @app.post("/fhir/R4")
    async def transaction(request: Request) -> Response:
        bundle = await _validated(request, "Bundle")
        if isinstance(bundle, Response):
            return bundle
        if bundle.get("type") != "transaction":
            return _outcome(422, "not-supported", f"only transaction Bundles are taken, not {bundle.get('type')!r}")
        if any((e.get("request") or {}).get("method") != "PUT" for e in bundle.get("entry") or []):
            return _outcome(422, "not-supported", "only PUT entries are taken")
        answer = apply_transaction(store, platform, bundle)
        return Response(json.dumps(answer), media_type="application/fhir+json")

    @app.put("/fhir/R4/Slot/{sid}")
    async def put_slot(sid: str, request: Request) -> Response:
        resource = await _validated(request, "Slot")
        if isinstance(resource, Response):
            return resource
        if resource.get("id") != sid:
            return _outcome(400, "invalid", f"the Slot id {resource.get('id')!r} differs from the URL's {sid!r}")
        created = sid not in store.resources.get("Slot", {})
        store.put(resource)
        return _json(201 if created else 200, resource, f"Slot/{sid}/_history/{resource['meta']['versionId']}")

    async def create(rtype: str, request: Request) -> Response:
        resource = await _validated(request, rtype)
        if isinstance(resource, Response):
            return resource
        condition = request.headers.get("If-None-Exist")
        existing = store.find(rtype, condition) if condition else None
        if existing is not None:
            store.repeats += 1
            return _json(200, existing)
        resource["id"] = str(uuid.uuid4())
        store.put(resource)
        return _json(201, resource, f"{rtype}/{resource['id']}/_history/1")

    @app.post("/fhir/R4/Appointment")
    async def post_appointment(request: Request) -> Response:
        return await create("Appointment", request)

    @app.post("/fhir/R4/Task")
    async def post_task(request: Request) -> Response:
        return await create("Task", request)

    @app.get("/fhir/R4/{rtype}/{rid}")
    async def read(rtype: str, rid: str) -> Response:
        found = store.resources.get(rtype, {}).get(rid)
        return _json(200, found) if found else _outcome(404, "not-found", f"{rtype}/{rid} is not known")

    @app.get("/fhir/R4/{rtype}")
    async def search(rtype: str) -> Response:
        items = list(store.resources.get(rtype, {}).values())
        bundle = {
            "resourceType": "Bundle",
            "type": "searchset",
            "total": len(items),
            "entry": [{"resource": r} for r in items],
        }
        return Response(json.dumps(bundle), media_type="application/fhir+json")

    return app


def register_cli(group: typer.Typer) -> None:
    @group.command("fhir")
    def simulate_fhir(
        target: str = typer.Option("http://127.0.0.1:8080", help="The hub's base URL (Bundles go to /fhir/{ODS}/R4)."),
        trusts: int = typer.Option(3, min=1, max=len(TRUSTS), help="Number of simulated trusts."),
        count: int = typer.Option(1, help="Rounds to send (one Bundle per trust each; 0: until Ctrl-C)."),
        interval: float = typer.Option(2.0, help="Seconds between rounds."),
        seed: int = typer.Option(7, help="Random seed (same seed and date, same Bundles)."),
    ) -> None:
        """Post realistic FHIR R4 workforce Bundles (batch, transaction, collection in turn) for N trusts, each
        with a trust_integration token of that trust from the local issuer (the one `rosterhub run` trusts)."""
        import time

        from rosterhub.auth.issuer import BearerTokens, LocalIssuer
        from rosterhub.auth.roles import Role
        from rosterhub.settings import load_settings

        tokens = BearerTokens(LocalIssuer(load_settings().auth_local_issuer_dir), Role.TRUST_INTEGRATION, "fhir-sim")
        sim = FhirSimulator(target, TRUSTS[:trusts], seed, auth=tokens)
        for n in itertools.count(1):
            if count and n > count:
                break
            for r in sim.tick():
                typer.echo(f"{r.request.url} -> {r.status_code}")
            time.sleep(interval if not count or n < count else 0)
        typer.echo(f"responses by status: {sim.sent}")

    doc = "A FHIR-speaking roster receiving the hub's updates: PUT Slot/{id}, POST Appointment and Task at /fhir/R4."
    server_command(group, "fhir-server", create_fhir_server, 8091, doc)


def demo_source(ctx: Any) -> Any:
    """FHIR in ``rosterhub run``: a round of Bundles (batch, transaction, collection) every fifth tick."""
    from contextlib import ExitStack

    from rosterhub.demo import DemoSource, free_port

    sim = FhirSimulator(ctx.ingress, ctx.trusts, ctx.seed, auth=ctx.bearer)
    stack = ExitStack()  # the FHIR roster receiving the hub's transaction Bundles
    url = stack.enter_context(serving(create_fhir_server(), free_port()))
    destinations = [{"name": f"fhir-{t}", "trust": t, "platform": "fhir", "url": f"{url}/fhir/R4"} for t in ctx.trusts]

    def tick() -> None:
        sim.tick()

    return DemoSource("fhir", tick, every=5, close=stack.close, destinations=destinations)
