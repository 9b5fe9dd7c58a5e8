"""The shift market of ``rosterhub run``: workers the hub knows, credentials their trusts accept, demo time.

The booking saga confirms only a request from a worker identity knows, whose passport clears
them at the host trust (docs/booking.md). So that the demo shows fills and not only refusals,
without changing any rule:

* :class:`Workforce` is the demo's pool of registered workers. The ESR simulator adds its
  trusts' nurses (registered through ESR's files: WorkerRegistered with the NMC PIN, CSTF
  training), Locum's Nest its doctors (its own doctor.created events, GMC number); the bank
  apps (Patchwork) pick requesters from it, Locum's Nest doctors apply on their own.
* :class:`CredentialWallet` plays each trust's verifiable-credential issuer: it signs the
  pre-employment checks of the trust's own workers (identity, right to work, NMC or GMC
  registration, DBS, occupational health and the mandatory refreshers) with a demo key and
  presents them at the passport's ``POST /passport/credentials/vc`` on the worker, the way a
  staff passport wallet would. Some nurses lack a course or hold only a standard DBS, so
  some requests are refused for real reasons, as are requests at a trust whose policy does
  not accept the home trust's checks (RFR accepts only partners' training).
* :func:`demo_policies` writes the demo's copy of the trust policies: the same rules, the
  demo issuers' public keys in ``vc_issuer``, and a release cascade in minutes instead of
  days, so shifts reach the collaborative bank while a newcomer watches.
"""

from __future__ import annotations

import json
import logging
import random
import threading
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import yaml
from joserfc import jws
from joserfc.jwk import ECKey

__all__ = [
    "DEMO_CASCADE",
    "CredentialWallet",
    "DemoWorker",
    "Workforce",
    "demo_policies",
    "demo_vc_id",
    "nurse_credentials",
    "repo_policies",
]

log = logging.getLogger(__name__)

#: The demo's release cascade: the collaborative's tiers, each after a minute or two of demo time.
DEMO_CASCADE = [
    {"to": "COLLABORATIVE_BANK", "after": "40s"},
    {"to": "AGENCY_TIER_1", "after": "3m"},
    {"to": "AGENCY_TIER_2", "after": "3m"},
    {"to": "AGENCY_TIER_3", "after": "3m"},
]

#: Mandatory refreshers a registered nurse needs at every demo trust: (CSTF subject, level).
NURSE_COURSES = (
    ("FIRE_SAFETY", 1),
    ("INFORMATION_GOVERNANCE", 1),
    ("INFECTION_PREVENTION_CONTROL", 2),
    ("RESUSCITATION", 2),
    ("MOVING_HANDLING", 2),
    ("SAFEGUARDING_CHILDREN", 2),
)


def repo_policies() -> Path:
    """The source tree's ``policies/`` (deployment files, not packaged): beside the ``rosterhub`` package."""
    return Path(__file__).resolve().parents[1] / "policies"


@dataclass(frozen=True, slots=True)
class DemoWorker:
    """A registered nurse (from ESR) or doctor (from Locum's Nest) of a demo trust, as the hub knows them."""

    trust: str  # home trust (ODS): the bank they belong to and the issuer of their checks
    number: str  # professional register number (NMC PIN, GMC number without the C)
    name: str
    band: int  # Agenda for Change band; 0 for doctors
    register: str = "nmc"  # nmc | gmc


@dataclass
class Workforce:
    """The demo's nurses: ``sources`` report who is registered; the wallet marks who holds credentials."""

    sources: list[Callable[[], Iterable[DemoWorker]]] = field(default_factory=list)
    _ready: dict[str, DemoWorker] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add_source(self, source: Callable[[], Iterable[DemoWorker]]) -> None:
        self.sources.append(source)

    def registered(self) -> list[DemoWorker]:
        """Everyone the sources hold now; empty while a source is changing (it runs in another thread)."""
        try:
            return [w for source in self.sources for w in source()]
        except RuntimeError:  # a dict changed size during iteration: ask again on the next round
            return []

    def mark_ready(self, worker: DemoWorker) -> None:
        with self._lock:
            self._ready[f"{worker.register}:{worker.number}"] = worker

    def ready(self) -> list[DemoWorker]:
        """Nurses whose wallet has presented their credentials (the passport may still be taking them in)."""
        with self._lock:
            return list(self._ready.values())

    def pick(
        self,
        rng: random.Random,
        *,
        trust: str | None = None,
        band: int | None = None,
        only_trust: bool = False,
        register: str = "nmc",
    ) -> DemoWorker | None:
        """A ready nurse, preferring one of ``trust`` within a band of ``band`` (workers filter shifts by
        their grade and mostly work at their own trust; ``only_trust``: that trust's bank only); None when
        nobody fits yet."""
        pool = [w for w in self.ready() if w.register == register and (not only_trust or w.trust == trust)]
        if not pool:
            return None
        near = [w for w in pool if band is None or abs(w.band - band) <= 1]
        home = [w for w in near if w.trust == trust]
        choices = home if home and rng.random() < 0.7 else near or pool
        return rng.choice(sorted(choices, key=lambda w: w.number))


def nurse_credentials(worker: DemoWorker, rng: random.Random, now: datetime) -> list[dict[str, Any]]:
    """The ``credentialSubject`` claims (with validity) of one nurse's or doctor's checks, as the home trust
    issues them.

    About one in eight has a course outstanding and one in twelve only a standard DBS: their
    requests are refused by the passport rule, as a bank office would refuse them."""
    subject = f"urn:rosterhub:{worker.register}:{worker.number}"

    def vc(ctype: str, issued_days_ago: int, valid_days: int, **extra: Any) -> dict[str, Any]:
        issued = now - timedelta(days=issued_days_ago)
        return {
            "subject": {"id": subject, "credentialType": ctype, **extra},
            "valid_from": issued,
            "valid_until": issued + timedelta(days=valid_days),
        }

    dbs = "STANDARD" if rng.random() < 1 / 12 else "ENHANCED_BARRED"
    creds = [
        vc("IDENTITY", rng.randint(200, 900), 3650),
        vc("RIGHT_TO_WORK", rng.randint(200, 900), 3650, attributes={"right_to_work_basis": "UNLIMITED"}),
        vc("PROFESSIONAL_REGISTRATION", rng.randint(30, 300), 400, attributes={"register": worker.register.upper()}),
        vc("DBS", rng.randint(30, 300), 1095, attributes={"dbs_level": dbs, "dbs_workforce": "ADULT_AND_CHILD"}),
        vc("OCCUPATIONAL_HEALTH", rng.randint(30, 600), 1095, attributes={"oh_item": "FIT_TO_WORK"}),
    ]
    courses = list(NURSE_COURSES)
    if rng.random() < 1 / 8:
        courses.remove(rng.choice(courses[:4]))  # one mandatory refresher not done
    for subject_code, level in courses:
        creds.append(vc("CSTF_TRAINING", rng.randint(5, 200), 365, cstfSubject=subject_code, level=level))
    return creds


def _issuer_ids(policy_dir: Path) -> dict[str, str]:
    """ODS -> the trust's VC issuer id, from the trust policy files."""
    out = {}
    for f in sorted(policy_dir.glob("*.yaml")):
        doc = yaml.safe_load(f.read_text()) or {}
        if doc.get("kind") == "trust" and isinstance(doc.get("vc_issuer"), dict):
            out[str(doc["trust"])] = str(doc["vc_issuer"]["id"])
    return out


def demo_policies(source: Path, out: Path, keys: dict[str, ECKey]) -> dict[str, str]:
    """Write the demo's policy folders under ``out`` and return the settings that point the hub at them.

    Passport: the trust files with each demo issuer's public key in place of the example keys.
    Availability: each collaborative's cascade replaced by :data:`DEMO_CASCADE` (no per-trust
    overrides). Booking and payroll: the source's own files, unchanged."""
    passport, availability = out / "passport", out / "availability"
    for folder in (passport, availability):
        folder.mkdir(parents=True, exist_ok=True)
    for f in sorted(source.glob("*.yaml")):
        doc = yaml.safe_load(f.read_text()) or {}
        trust = doc.get("trust")
        if doc.get("kind") == "trust" and trust in keys and isinstance(doc.get("vc_issuer"), dict):
            doc["vc_issuer"]["keys"] = [keys[trust].as_dict(private=False)]
        (passport / f.name).write_text(yaml.safe_dump(doc, sort_keys=False))
    for f in sorted((source / "availability").glob("*.yaml")):
        doc = yaml.safe_load(f.read_text()) or {}
        doc["cascade"] = DEMO_CASCADE
        doc.pop("trusts", None)
        (availability / f.name).write_text(yaml.safe_dump(doc, sort_keys=False))
    return {
        "ROSTERHUB_PASSPORT_POLICY_DIR": str(passport),
        "ROSTERHUB_AVAILABILITY_POLICY_DIR": str(availability),
        "ROSTERHUB_BOOKING_POLICY_DIR": str(source / "booking"),
        "ROSTERHUB_PAYROLL_POLICY_DIR": str(source / "payroll"),
    }


def _round_robin(workers: list[DemoWorker]) -> list[DemoWorker]:
    """One of each trust's and register's people in turn, so every bank has someone ready early."""
    groups: dict[tuple[str, str], list[DemoWorker]] = {}
    for w in workers:
        groups.setdefault((w.trust, w.register), []).append(w)
    lanes = list(groups.values())
    return [lane[i] for i in range(max(map(len, lanes), default=0)) for lane in lanes if i < len(lane)]


#: Namespace of the demo's credential ids (UUIDv5 of the nurse and the check, so a retry presents the same id).
_VC_NAMESPACE = uuid.UUID("3b0f8d4e-5f2a-5c61-9e07-7d6a1c2b9f40")


def demo_vc_id(worker: DemoWorker, cred: dict[str, Any]) -> str:
    """An RFC 4122 ``urn:uuid:`` (version 5) naming one nurse's one credential: the same every time it is signed."""
    subject = cred["subject"]
    name = "|".join((worker.register, worker.number, subject["credentialType"], subject.get("cstfSubject") or ""))
    return f"urn:uuid:{uuid.uuid5(_VC_NAMESPACE, name)}"


class CredentialWallet:
    """Each demo trust's VC issuer, presenting its nurses' checks to the passport in a background thread.

    ``worker_url`` is the stream worker's web server; until it answers, presentation is retried.
    A nurse becomes ready in the :class:`Workforce` once every one of their credentials was accepted."""

    def __init__(
        self,
        workforce: Workforce,
        worker_url: str,
        policy_dir: Path,
        *,
        seed: int = 7,
        auth: Callable[[str], dict[str, str]] | None = None,
    ) -> None:
        self.workforce = workforce
        self.auth = auth or (lambda _trust: {})  # trust -> its integration's Authorization header
        self.worker_url = worker_url.rstrip("/")
        self.issuers = _issuer_ids(policy_dir)
        self.keys = {ods: ECKey.generate_key("P-256", auto_kid=True) for ods in self.issuers}
        self.rng = random.Random(seed)
        self.presented: dict[str, int] = {"accepted": 0, "rejected": 0}
        self._done: set[str] = set()
        self._creds: dict[str, list[dict[str, Any]]] = {}  # drawn once per nurse, so a retry presents the same
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="demo-vc-wallet", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def summary(self) -> str:
        """``workers=<credentialed>/<registered> vc=<accepted>``: how far the trusts' wallets have got (leavers
        drop out of the registered count, so it can be the smaller)."""
        return (
            f"workers={len(self.workforce.ready())}/{len(self.workforce.registered())} vc={self.presented['accepted']}"
        )

    def token(self, worker: DemoWorker, cred: dict[str, Any]) -> str:
        key = self.keys[worker.trust]
        claims = {
            "@context": ["https://www.w3.org/ns/credentials/v2"],
            "type": ["VerifiableCredential", "NHSStaffPassportCredential"],
            "id": demo_vc_id(worker, cred),
            "issuer": self.issuers[worker.trust],
            "validFrom": cred["valid_from"].isoformat(),
            "validUntil": cred["valid_until"].isoformat(),
            "credentialSubject": cred["subject"],
        }
        header = {"alg": "ES256", "typ": "vc+jwt", "kid": key.kid}
        return jws.serialize_compact(header, json.dumps(claims, default=str), key)

    def present(self, client: httpx.Client, worker: DemoWorker) -> bool:
        """Present every credential of ``worker``; True when all were accepted (202)."""
        headers = {
            **self.auth(worker.trust),  # the home trust's integration presents its own workers' credentials
            "X-Rosterhub-Purpose": "credential",
            "content-type": "application/vc+jwt",
        }
        creds = self._creds.setdefault(worker.number, nurse_credentials(worker, self.rng, datetime.now(UTC)))
        for cred in creds:
            r = client.post(
                f"{self.worker_url}/passport/credentials/vc",
                content=self.token(worker, cred),
                headers=headers,
                timeout=10,
            )
            if r.status_code != 202:
                self.presented["rejected"] += 1
                log.warning("demo VC for %s refused: %s %s", worker.number, r.status_code, r.text[:200])
                return r.status_code == 422  # a refusal is final; anything else is retried
            self.presented["accepted"] += 1
        return True

    def _run(self) -> None:
        with httpx.Client() as client:
            while not self._stop.is_set():
                pending = _round_robin(
                    [w for w in self.workforce.registered() if w.number not in self._done and w.trust in self.keys]
                )
                for worker in pending:
                    if self._stop.is_set():
                        return
                    try:
                        if self.present(client, worker):
                            self._done.add(worker.number)
                            self.workforce.mark_ready(worker)
                    except httpx.HTTPError:
                        break  # the worker's web server is not up yet: try again shortly
                self._stop.wait(1.0)
