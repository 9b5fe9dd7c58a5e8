"""Passport clearance lookups against a RocksDB store of 1.5 million passports (run by hand, not in the tests).

    .venv/bin/python bench/passport_bench.py [--people 1500000] [--lookups 200000] [--keep DIR]

What it does, all in one process on this machine:

1. builds the store directly with rocksdict, as the worker's faust RocksDB store would hold it:
   the table's partitions as separate databases (opened with faust's own ``RocksDBOptions`` and the
   worker's ``passport_block_cache_mb``), key = person id bytes, value = the JSON the faust table writes
   (``Passport.to_table``), 10-15 credentials per person drawn from a realistic mix;
2. reopens the store (a worker after a restart: nothing cached) and measures, for random people:
   - the **baseline**: a raw ``rocksdict`` get of the same value (bytes, no decoding);
   - the **lookup**: get + JSON decode + ``Passport.from_table`` + ``clearance`` for a random trust,
     staff group and shift, exactly what the HTTP view or a booking agent does;
3. reports throughput, p50/p99/p99.9 latency, their ratio to the baseline, resident memory (VmRSS,
   VmHWM) after opening and after the lookups, the store's size on disk, and the time of the timer's
   schedule rebuild (a full scan computing each passport's next notice).

Targets (issue 6): p99 lookup under 1 ms, resident memory under 1 GiB per worker.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from faust.stores.rocksdb import RocksDBOptions  # noqa: E402

from rosterhub.events.codes import CSTF_SUBJECTS  # noqa: E402
from rosterhub.settings import Settings  # noqa: E402
from rosterhub.streams.passport.clearance import clearance, required_types  # noqa: E402
from rosterhub.streams.passport.expiry import next_due  # noqa: E402
from rosterhub.streams.passport.policy import load_policies  # noqa: E402
from rosterhub.streams.passport.state import Credential, Passport, Revocation, Verification, to_ms  # noqa: E402

NOW = datetime(2026, 6, 1, 9, tzinfo=UTC)
TRUSTS = ("RHQ", "RCU", "RFR")
CSTF = tuple(CSTF_SUBJECTS.codes)  # the national subjects, in their documented order (the draws depend on it)
ROLES = (
    ("NURSING_MIDWIFERY_REGISTERED", "BAND_5"),
    ("NURSING_MIDWIFERY_REGISTERED", "BAND_6"),
    ("MEDICAL_DENTAL", "ST3_5"),
    ("ADMIN_CLERICAL", "BAND_3"),
    ("ALLIED_HEALTH_PROFESSIONALS", "BAND_6"),
)


def rss() -> dict[str, int]:
    """VmRSS and VmHWM (peak) of this process, in MiB."""
    out = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(("VmRSS:", "VmHWM:")):
            out[line.split(":")[0]] = int(line.split()[1]) // 1024
    return out


REGISTER = {"NURSING_MIDWIFERY_REGISTERED": "NMC", "MEDICAL_DENTAL": "GMC", "ALLIED_HEALTH_PROFESSIONALS": "HCPC"}
CORE = (
    "FIRE_SAFETY",
    "INFORMATION_GOVERNANCE",
    "INFECTION_PREVENTION_CONTROL",
    "RESUSCITATION",
    "SAFEGUARDING_CHILDREN",
)


def make_passport(rng: random.Random, person: str, staff_group: str) -> Passport:
    """10-15 credentials for someone of ``staff_group``: the pre-employment checks plus CSTF courses, mostly from
    the home trust, of realistic ages (so some lapse at one trust's stricter limits and not at another's)."""
    home = rng.choice(TRUSTS)
    ms = to_ms(NOW)
    day = 86_400_000
    creds: dict[str, Credential] = {}

    def add(ctype: str, subject: str | None = None, attrs: dict | None = None, verify: bool = True) -> None:
        issuer = home if rng.random() < 0.85 else rng.choice(TRUSTS)
        issued = ms - rng.randint(10, 330 if subject else 700) * day
        cid = f"{issuer}:{ctype}:{subject or ''}{rng.randint(10**9, 10**10)}"
        verifications = ()
        if verify:
            method = rng.choice(("DOCUMENT_SEEN", "ESR_RECORD", "DBS_UPDATE_SERVICE", "PROFESSIONAL_REGISTER"))
            due = issued + 720 * day if rng.random() < 0.3 else None
            verifications = (Verification(issuer, "VALIDATED", method, issued + 3600_000, due),)
            if rng.random() < 0.2:
                verifications += (
                    Verification(
                        rng.choice(TRUSTS),
                        "ATTESTED",
                        "PARTNER_ATTESTATION",
                        issued + 30 * day,
                        None,
                        "SYB-MOU-2025-01",
                    ),
                )
        expiring = ctype in ("CSTF_TRAINING", "RIGHT_TO_WORK", "PROFESSIONAL_REGISTRATION")
        creds[cid] = Credential(
            id=cid,
            type=ctype,
            issuer=issuer,
            issued=issued,
            expires=issued + rng.choice((365, 730, 1095)) * day if expiring else None,
            subject=subject,
            level=2 if subject else None,
            attrs=attrs or {},
            evidence=f"https://evidence.{issuer.lower()}.nhs.uk/records/{rng.randint(10**7, 10**8)}",
            verifications=verifications,
            revoked=Revocation("LeavingOrganisation", issued + 100 * day) if rng.random() < 0.01 else None,
            source=f"/vendors/esr/{issuer}",
            local=f"esr:{issuer}:{rng.randint(10**7, 10**8)}",
        )

    add("IDENTITY")
    add("RIGHT_TO_WORK", attrs={"right_to_work_basis": "UNLIMITED"})
    if staff_group in REGISTER:
        add("PROFESSIONAL_REGISTRATION", attrs={"register": REGISTER[staff_group]})
    add("DBS", attrs={"dbs_level": "ENHANCED_BARRED", "dbs_workforce": "ADULT_AND_CHILD"})
    add("OCCUPATIONAL_HEALTH", attrs={"oh_item": "FIT_TO_WORK"})
    others = [c for c in CSTF if c not in CORE]
    for subject in (*CORE, *rng.sample(others, rng.randint(1, 5))):
        add("CSTF_TRAINING", subject, verify=False)
    nmc = ("https://fhir.hl7.org.uk/Id/nmc-number", f"{rng.randint(10, 99)}A{rng.randint(1000, 9999)}E")
    return Passport(
        person=person,
        version=len(creds) + rng.randint(0, 20),
        updated=ms,
        identifiers=(nmc,),
        name=None,
        credentials=creds,
    )


def person_id(i: int) -> str:
    return f"p-{i:08d}-4f1c-5e2a-9b7d-{i * 7919 % 10**12:012d}"


def build(root: Path, people: int, partitions: int, options: RocksDBOptions, seed: int) -> tuple[float, int]:
    """Write the store; return (seconds, bytes of values written)."""
    import rocksdict

    rng = random.Random(seed)
    dbs = [options.open(root / f"passport-{p}.db") for p in range(partitions)]
    batches = [rocksdict.WriteBatch(raw_mode=True) for _ in dbs]
    # 4000 distinct passports re-keyed per person; person i has role ROLES[i % len(ROLES)] (4000 is a multiple)
    pool = [make_passport(rng, "TEMPLATE", ROLES[t % len(ROLES)][0]) for t in range(4000)]
    written = 0
    t0 = time.perf_counter()
    for i in range(people):
        pid = person_id(i)
        template = pool[i % len(pool)]
        value = json.dumps({**template.to_table(), "p": pid}).encode()  # what faust's json serializer writes
        key = pid.encode()
        p = zlib.crc32(key) % partitions
        batches[p].put(key, value)
        written += len(value)
        if i % 20_000 == 19_999:
            for db, b in zip(dbs, batches, strict=True):
                db.write(b)
            batches = [rocksdict.WriteBatch(raw_mode=True) for _ in dbs]
            print(f"  {i + 1:>9,} passports written ({time.perf_counter() - t0:.0f} s)", flush=True)
    for db, b in zip(dbs, batches, strict=True):
        db.write(b)
        db.flush()
        db.close()
    return time.perf_counter() - t0, written


def percentile(sorted_values: list[float], q: float) -> float:
    return sorted_values[min(len(sorted_values) - 1, int(q * len(sorted_values)))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--people", type=int, default=1_500_000)
    ap.add_argument("--lookups", type=int, default=200_000)
    ap.add_argument("--partitions", type=int, default=Settings().default_partitions)
    ap.add_argument("--keep", type=Path, help="build (or reuse) the store here instead of a temporary folder")
    ap.add_argument("--seed", type=int, default=6)
    args = ap.parse_args()
    settings = Settings()
    cache = settings.passport_block_cache_mb * 1024 * 1024
    options = RocksDBOptions(block_cache_size=cache)
    root = args.keep or Path(tempfile.mkdtemp(prefix="passport-bench-"))
    root.mkdir(parents=True, exist_ok=True)
    policies = load_policies([REPO / "policies"])
    print(
        f"passport bench: {args.people:,} people, {args.partitions} partitions, block cache "
        f"{settings.passport_block_cache_mb} MiB per partition, store in {root}"
    )
    try:
        if not any(root.glob("passport-*.db")):
            seconds, written = build(root, args.people, args.partitions, options, args.seed)
            print(
                f"build: {seconds:.0f} s ({args.people / seconds:,.0f} passports/s), "
                f"{written / args.people:,.0f} bytes of JSON per passport on average",
                flush=True,
            )
            # measure in a fresh process, so that memory figures are a worker's, not the builder's
            argv = [
                sys.executable,
                __file__,
                "--keep",
                str(root),
                "--people",
                str(args.people),
                "--lookups",
                str(args.lookups),
                "--partitions",
                str(args.partitions),
                "--seed",
                str(args.seed),
            ]
            subprocess.run(argv, check=True)
            return
        disk = sum(f.stat().st_size for f in root.rglob("*") if f.is_file())
        print(f"store on disk: {disk / 2**20:,.0f} MiB ({disk / args.people:,.0f} bytes per passport)")
        before_open = rss()
        dbs = [options.open(root / f"passport-{p}.db") for p in range(args.partitions)]
        opened = rss()
        rng = random.Random(args.seed + 1)
        people = [rng.randrange(args.people) for _ in range(args.lookups)]
        keys = [person_id(i).encode() for i in people]
        where = [zlib.crc32(k) % args.partitions for k in keys]
        queries = [(rng.choice(TRUSTS), *ROLES[i % len(ROLES)]) for i in people]  # their own role, at any trust
        start = NOW + timedelta(days=rng.randint(1, 30))

        # baseline: the raw get of the same values
        base: list[float] = []
        t0 = time.perf_counter()
        for k, p in zip(keys, where, strict=True):
            s = time.perf_counter_ns()
            value = dbs[p][k]
            base.append((time.perf_counter_ns() - s) / 1000)
            assert value is not None
        base_s = time.perf_counter() - t0

        # the lookup: get, decode, clearance
        full: list[float] = []
        cpu: list[float] = []  # CPU time of this thread per lookup: what the code costs, without preemption
        cleared = 0
        t0 = time.perf_counter()
        for k, p, (trust, group, grade) in zip(keys, where, queries, strict=True):
            c = time.thread_time_ns()
            s = time.perf_counter_ns()
            policy = policies.trusts[trust]
            passport = Passport.from_table(json.loads(dbs[p][k]), types=required_types(policy, group, grade))
            result = clearance(
                passport, policy, staff_group=group, grade=grade, start=start, end=start + timedelta(hours=12)
            )
            full.append((time.perf_counter_ns() - s) / 1000)
            cpu.append((time.thread_time_ns() - c) / 1000)
            cleared += result.cleared
        full_s = time.perf_counter() - t0
        after = rss()

        base.sort()
        full.sort()
        cpu.sort()
        print(f"\n{'':24}{'lookups/s':>12}{'p50 µs':>10}{'p99 µs':>10}{'p99.9 µs':>10}{'mean µs':>10}")
        rows = (
            ("baseline rocksdict get", base, base_s),
            ("get+decode+clearance", full, full_s),
            ("  (its CPU time only)", cpu, sum(cpu) / 1e6),
        )
        for name, lat, secs in rows:
            print(
                f"{name:24}{len(lat) / secs:>12,.0f}{percentile(lat, 0.5):>10.1f}{percentile(lat, 0.99):>10.1f}"
                f"{percentile(lat, 0.999):>10.1f}{statistics.fmean(lat):>10.1f}"
            )
        print(
            f"ratio (lookup / baseline): p50 x{percentile(full, 0.5) / percentile(base, 0.5):.1f}, "
            f"p99 x{percentile(full, 0.99) / percentile(base, 0.99):.1f}, "
            f"throughput x{(len(base) / base_s) / (len(full) / full_s):.1f} slower"
        )
        print(f"cleared in {cleared / len(keys):.0%} of the random (trust, role) lookups")
        print(f"RSS MiB: before opening {before_open}, after opening {opened}, after lookups {after}")

        # the timer's schedule rebuild: a full scan of every partition
        t0 = time.perf_counter()
        scanned = pending = 0
        thresholds = tuple(sorted(settings.passport_expiring_days, reverse=True))
        for db in dbs:
            for _k, v in db.items():
                scanned += 1
                pending += next_due(Passport.from_table(json.loads(v)), thresholds) is not None  # type: ignore[arg-type]
        print(
            f"schedule rebuild scan: {scanned:,} passports in {time.perf_counter() - t0:.0f} s "
            f"({pending:,} with a pending notice); RSS MiB after scan {rss()}"
        )
        print(f"load average during the run (1/5/15 min, {os.cpu_count()} cores): {os.getloadavg()}")
        p99 = percentile(full, 0.99) / 1000
        print(
            f"\ntargets: p99 {p99:.3f} ms < 1 ms: {'met' if p99 < 1 else 'MISSED'}; "
            f"peak RSS {rss()['VmHWM']} MiB < 1024 MiB: {'met' if rss()['VmHWM'] < 1024 else 'MISSED'}"
        )
        for db in dbs:
            db.close()
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
