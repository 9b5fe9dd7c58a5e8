"""The KPI processor's RocksDB table, written without RocksDB's write-ahead log, across crashes and rebalances.

The ``kpi-shift-facts`` table's puts skip RocksDB's log (streams/kpi/facts_table.py): a SIGKILL loses whatever
was written since RocksDB's last memtable flush, row values and faust's stored changelog offset alike, and faust
replays the changelog from the offset the flush kept (docs/kpi.md, docs/decisions/0014-kpi-agent-across-crashes.md).
The first test kills a real worker twice while a generated month flows: once before RocksDB has flushed anything,
once, with 64 KB memtables (tests/integration/kpi_small_memtable.py) so that RocksDB flushes while it writes, when a
partition's database holds a flush of that worker and later writes in memory only (both read from the state
directory, opened read-only as a crash leaves it); each restart is on the same state directory. The second moves the
table's partitions away from a worker and back (a second worker joins, later leaves): the first worker's read cache
must not serve the rows it held before. Either way each shift's last views.kpi record must be the pure core's
(tests/kpi_pure.py) and the month's figures the independent oracle's.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import rocksdict
from faust.stores.rocksdb import Store
from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition
from kafka.errors import KafkaError

from rosterhub.codec.catalogue import default_catalogue
from rosterhub.codec.wire import SingleObjectCodec
from rosterhub.envelope import Envelope, decode_record, encode_event
from rosterhub.features import worker_group
from rosterhub.kafka.admin import ensure_topics
from rosterhub.kafka.resolve import Resolved
from rosterhub.runtime import TopicNames
from rosterhub.settings import Settings
from rosterhub.streams.booking.policy import load_booking_policies
from rosterhub.streams.kpi.agents import SHIFT_KPI, TABLE
from rosterhub.streams.kpi.policy import KpiPolicies, load_kpi_policies
from rosterhub.streams.kpi.query import KpiFilter, KpiQueries, period_of
from rosterhub.streams.kpi.store import KpiStore
from rosterhub.topics import declared_topics
from tests.integration.helpers import produce_events, settings_env, wait_for
from tests.integration.test_kpi_oracle import _read_view
from tests.kpi_compare import compare_period, mismatches
from tests.kpi_oracle import Oracle
from tests.kpi_pure import run_pure
from tests.kpi_traffic import generate
from tests.support import stop

pytestmark = [pytest.mark.integration, pytest.mark.timeout(900)]  # four worker starts on a loaded machine

REPO = Path(__file__).resolve().parents[2]
OFFSET_KEY = Store.offset_key  # faust's row for the last changelog offset a partition's database holds
WAIT = 600  # a worker's start, recovery and folding under a loaded machine: waits end on observed state


class Hub:
    """One topic prefix and consumer group on the session's broker, and its KPI workers."""

    def __init__(self, kafka: Resolved, tmp: Path) -> None:
        unique = uuid.uuid4().hex[:10]
        self.kafka, self.tmp = kafka, tmp
        self.settings = Settings(
            kafka_bootstrap_servers=kafka.bootstrap,
            topic_prefix=f"t{unique}.",
            app_id=f"rosterhub-test-{unique}",
            state_dir=tmp / "state",
            default_partitions=3,
        )
        self.names = TopicNames(self.settings.topic_prefix)
        self.inputs = [self.names.events(d) for d in ("shift", "booking", "passport")]
        self.changelog = f"{self.settings.app_id}-{TABLE}-changelog"  # named after the app id (decision 0017)
        self.group = worker_group(self.settings.app_id, ["kpi"])  # KPI-only workers: a group of their own
        ensure_topics(
            kafka.access, declared_topics([], self.settings.topic_prefix), default_partitions=3, replication_factor=1
        )

    def produce(self, delivered: list[tuple[str, str, Envelope]]) -> None:
        produce_events(self.kafka.bootstrap, self.names, delivered)

    @contextmanager
    def worker(self, name: str, *, state: str = "state", small_memtables: bool = False) -> Iterator[subprocess.Popen]:
        """A KPI-only worker on ``tmp/<state>``; stopped (SIGTERM, a clean stop) on exit unless already killed."""
        module = "tests.integration.kpi_small_memtable" if small_memtables else "rosterhub"
        extra = {"ROSTERHUB_STATE_DIR": str(self.tmp / state), "PYTHONPATH": str(REPO)}
        env = settings_env(self.settings, ROSTERHUB_WORKER_PROCESSORS=["kpi"], **extra)
        args = [sys.executable, "-m", module] + ([] if small_memtables else ["worker"])
        with open(self.tmp / f"{name}.log", "ab") as log:
            proc = subprocess.Popen(args, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=REPO)
        try:
            yield proc
        finally:
            stop(proc)

    def alive(self, proc: subprocess.Popen, name: str) -> bool:
        assert proc.poll() is None, f"worker {name} exited ({proc.returncode}): {self.log_tail(name)}"
        return True

    def changelog_records(self) -> int:
        """Records on the table's changelog (0 before faust has made the topic)."""
        return sum(self.changelog_ends().values())

    def wait_changelog(self, at_least: int, proc: subprocess.Popen, name: str) -> int:
        def grown() -> int | None:
            self.alive(proc, name)
            n = self.changelog_records()
            return n if n >= at_least else None

        return wait_for(grown, timeout=WAIT, interval=0.2, what=f"{at_least} records on {self.changelog}")

    def consumed(self, *workers: tuple[subprocess.Popen, str]) -> None:
        """Wait until the group has committed the end of every input partition, the named workers alive all along.

        A worker that died fails the wait at once with its log; a wait that runs out says which partitions are
        behind (committed and end offsets), what the group looks like (members and their partitions) and how
        each worker's log ends, so that a stall can be told apart from a slow machine."""
        consumer = KafkaConsumer(bootstrap_servers=self.kafka.bootstrap)
        try:
            tps = [TopicPartition(t, p) for t in self.inputs for p in sorted(consumer.partitions_for_topic(t) or ())]
            ends = consumer.end_offsets(tps)
        finally:
            consumer.close()
        behind: dict[str, tuple[int | None, int]] = {}

        def done() -> bool:
            for proc, name in workers:
                self.alive(proc, name)
            committed = self.committed_offsets()
            behind.clear()
            behind.update({f"{tp.topic}[{tp.partition}]": (committed.get(tp), end) for tp, end in ends.items()})
            for key in [k for k, (got, end) in behind.items() if end == 0 or (got is not None and got >= end)]:
                del behind[key]
            return not behind

        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            if done():
                return
            time.sleep(1)
        logs = {name: self.log_tail(name) for _, name in workers}
        raise AssertionError(
            f"after {WAIT}s the group has not committed the end of {len(behind)} input partition(s) "
            f"(committed, end): {behind}; group: {self.group_state()}; workers' logs: {logs}"
        )

    def committed_offsets(self) -> dict[TopicPartition, int]:
        """The workers' group's committed offset of each input partition it has committed."""
        admin = KafkaAdminClient(bootstrap_servers=self.kafka.bootstrap)
        try:
            offsets = admin.list_group_offsets({self.group: None}).get(self.group, {})
        except KafkaError as exc:  # a fresh broker makes its offsets topic on the group's first use
            if not exc.retriable:
                raise
            offsets = {}
        finally:
            admin.close()
        return {tp: o.offset for tp, o in offsets.items() if tp.topic in self.inputs and o.offset >= 0}

    def committed(self) -> int:
        """Input records the workers' group has committed."""
        return sum(self.committed_offsets().values())

    def group_state(self) -> str:
        admin = KafkaAdminClient(bootstrap_servers=self.kafka.bootstrap)
        try:
            return repr(admin.describe_groups([self.group]))
        except KafkaError as exc:
            return f"not described: {exc!r}"
        finally:
            admin.close()

    def log_tail(self, name: str) -> str:
        return (self.tmp / f"{name}.log").read_text(errors="replace")[-3000:]

    def flushed(self, state: str = "state") -> set[Path]:
        """The table's RocksDB table files (SSTs): what a memtable flush has put on disk."""
        return set((self.tmp / state).rglob(f"{TABLE}-*.db/*.sst"))

    def changelog_ends(self) -> dict[int, int]:
        consumer = KafkaConsumer(bootstrap_servers=self.kafka.bootstrap)
        try:
            parts = consumer.partitions_for_topic(self.changelog) or set()
            ends = consumer.end_offsets([TopicPartition(self.changelog, p) for p in parts])
            return {tp.partition: end for tp, end in ends.items()}
        finally:
            consumer.close()

    def on_disk(self) -> dict[int, int | None] | None:
        """Per partition, the changelog offset faust stored in the table's RocksDB as a crash would leave it
        (read-only: flushed table files and the log, not the writer's memtables); None while RocksDB moves
        files under the reader (a flush or compaction), to be asked again."""
        found: dict[int, int | None] = {}
        for path in sorted((self.tmp / "state").rglob(f"{TABLE}-*.db")):
            try:
                db = rocksdict.Rdict(
                    str(path), options=rocksdict.Options(raw_mode=True), access_type=rocksdict.AccessType.read_only()
                )
            except Exception:  # rocksdict raises plain exceptions for RocksDB errors
                return None
            try:
                offset = db.get(OFFSET_KEY)
            finally:
                db.close()
            found[int(path.name.removesuffix(".db").rsplit("-", 1)[1])] = None if offset is None else int(offset)
        return found

    def read_view(self) -> tuple[KpiStore, dict[str, dict[str, Any]]]:
        """views.kpi as the API's reader keeps it, and each shift's last ShiftKpi (what compaction keeps)."""
        last: dict[str, dict[str, Any]] = {}
        return _read_view(self.kafka.bootstrap, self.names.kpi_view, last), last


def _policies() -> KpiPolicies:
    return load_kpi_policies([REPO / "policies/kpi"], load_booking_policies([REPO / "policies/booking"]))


def _pure_last(delivered: list[tuple[str, str, Envelope]], policies: KpiPolicies) -> dict[str, dict[str, Any]]:
    """Each shift's last ShiftKpi from the pure core, through the codec as the worker's records are."""
    last: dict[str, dict[str, Any]] = {}
    run_pure(delivered, policies, last)
    catalogue = default_catalogue()
    codec, schema = SingleObjectCodec(catalogue), catalogue.get(SHIFT_KPI)
    out = {}
    for shift, row in last.items():
        rec = encode_event(Envelope(SHIFT_KPI, "/test", row), schema, codec, "views.kpi")
        out[shift] = decode_record(rec.value, rec.headers, codec).data
    return out


def _check(hub: Hub, delivered: list[tuple[str, str, Envelope]]) -> None:
    policies = _policies()
    store, last = hub.read_view()
    wanted = _pure_last(delivered, policies)
    differing = sorted(s for s in wanted.keys() | last.keys() if last.get(s) != wanted.get(s))
    detail = {s: ((last.get(s) or {}).get("revision"), (wanted.get(s) or {}).get("revision")) for s in differing[:5]}
    assert not differing, (
        f"{len(differing)} of {len(wanted)} shifts' last records differ (revisions: views, pure): {detail}"
    )
    oracle = Oracle(
        delivered, reference=dict(policies.for_trust("RHQ").agency_reference_rates), members=["RHQ", "RCU", "RFR"]
    )
    q = KpiQueries(store)
    assert q.summary(KpiFilter(*period_of("2026-10")))["shifts_filled"] > 50
    for grain in ("month", "week"):
        for period in oracle.periods(grain):
            assert compare_period(q, oracle, period, grain) == {}, f"{grain} {period}"
    for split in ({"trust": "RFR"}, {"shift_type": "NIGHT"}):
        assert mismatches(q, oracle, *period_of("2026-10"), **split) == {}, split


@pytest.fixture
def hub(kafka: Resolved, tmp_path: Path) -> Hub:
    return Hub(kafka, tmp_path)


Delivered = list[tuple[str, str, Envelope]]


def _month_in_thirds(seed: int, shifts_per_trust_day: int) -> tuple[Delivered, tuple[Delivered, Delivered, Delivered]]:
    """A generated month, whole (what the tables must end up holding) and in thirds (what the workers are fed
    between one crash or partition move and the next)."""
    delivered = generate(seed=seed, shifts_per_trust_day=shifts_per_trust_day, people_per_trust=10).delivered()
    third = len(delivered) // 3
    return delivered, (delivered[:third], delivered[third : 2 * third], delivered[2 * third :])


def _kill(proc: subprocess.Popen) -> None:
    proc.kill()  # SIGKILL: no flush, no commit, no producer flush
    proc.wait()


def test_sigkilled_kpi_workers_recover_the_table_from_the_last_flush_and_the_changelog(hub: Hub) -> None:
    delivered, (first, second, rest) = _month_in_thirds(seed=31, shifts_per_trust_day=3)

    # 1. Killed before RocksDB has flushed anything (64 MB memtables): every row and stored offset in memory only.
    hub.produce(first)
    with hub.worker("w1") as proc:
        hub.wait_changelog(60, proc, "w1")
        # inputs committed: their rows can only come back from the changelog (they are not read again)
        wait_for(lambda: hub.alive(proc, "w1") and hub.committed() >= 100, timeout=WAIT, what="a commit")
        _kill(proc)
    unflushed = hub.on_disk()
    assert unflushed and set(unflushed.values()) == {None}, unflushed  # nothing flushed: no offset, no row
    killed_at = [hub.changelog_ends()]

    # 2. Restarted on the same directory: it rebuilds the table from the changelog and finishes the first third,
    #    then stops cleanly (which flushes when faust's database handles are collected; recovery does not rely
    #    on it: without a flush the next start replays more of the changelog).
    with hub.worker("w2") as proc:
        hub.consumed((proc, "w2"))
    base = hub.on_disk() or {}

    # 3. RocksDB flushes in the background while the worker writes; killed once a partition's database holds,
    #    as a crash leaves it, a flush made by this worker with later writes (rows and offsets) in memory only.
    hub.produce(second)
    with hub.worker("w3", small_memtables=True) as proc:

        def mid_flush(disk: dict[int, int | None] | None, ends: dict[int, int]) -> bool:
            return bool(disk) and any((base.get(p) or -1) < (disk[p] or -1) < ends[p] - 1 for p in disk or {})

        def flushed_then_more() -> dict[int, int | None] | None:
            """Seen with the worker frozen (SIGSTOP stops its writes and RocksDB's background flushes), so that
            the state seen is the state the kill leaves: a running worker flushed on between a look and the
            kill (one run in three). Thawed again when it is not yet the state wanted."""
            hub.alive(proc, "w3")
            if not mid_flush(hub.on_disk(), hub.changelog_ends()):  # a first look, the worker running
                return None
            proc.send_signal(signal.SIGSTOP)
            disk = hub.on_disk()
            if mid_flush(disk, hub.changelog_ends()):
                return disk  # left frozen: killed next
            proc.send_signal(signal.SIGCONT)
            return None

        wait_for(flushed_then_more, timeout=WAIT, interval=0.2, what="a flush with later writes in memory")
        _kill(proc)
    flushed, killed_at = hub.on_disk() or {}, [*killed_at, hub.changelog_ends()]
    assert mid_flush(flushed, killed_at[-1]), (flushed, killed_at[-1])

    # 4. Restarted on the same directory with the rest of the month; a clean stop puts every output on the broker.
    hub.produce(rest)
    with hub.worker("w4") as proc:
        hub.consumed((proc, "w4"))
    print(f"changelog ends at the kills {killed_at}; on disk after the clean stop {base}, after the second {flushed}")
    _check(hub, delivered)


def test_the_read_cache_is_emptied_when_the_tables_partitions_move_away_and_back(hub: Hub) -> None:
    delivered, (first, second, rest) = _month_in_thirds(seed=37, shifts_per_trust_day=2)
    hub.produce(first)
    with hub.worker("one") as one:
        hub.consumed((one, "one"))  # one holds all three partitions and has cached their shifts
        with hub.worker("two", state="state-two") as two:
            # two joins: some partitions move to it (rebuilt from the changelog) and it folds the second third
            wait_for(
                lambda: hub.alive(one, "one") and hub.alive(two, "two") and _opened(hub),
                timeout=WAIT,
                interval=0.5,
                what="worker two holding a partition of the table",
            )
            hub.produce(second)
            hub.consumed((one, "one"), (two, "two"))
        # two leaves (clean stop): its partitions come back to one, with rows one has cached from before
        hub.produce(rest)
        hub.consumed((one, "one"))
    _check(hub, delivered)


def _opened(hub: Hub) -> bool:
    return any((hub.tmp / "state-two").rglob(f"{TABLE}-*.db"))
