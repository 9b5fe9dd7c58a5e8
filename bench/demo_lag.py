"""Issue 16's last question: does the demo (``rosterhub run``) keep up, with no growing lag, on a busy machine?

    .venv/bin/python bench/demo_lag.py --duration 600                 # 10 min measured, whatever else runs now
    .venv/bin/python bench/demo_lag.py --duration 600 --busy 2        # the same with 2 CPU-burning processes
    .venv/bin/python bench/demo_lag.py --duration 60 --warmup 30      # a smoke run
    .venv/bin/python bench/demo_lag.py --table bench/results/demo-lag-quiet-2026-12-07.json   # a report's table
    .venv/bin/python bench/demo_lag.py --table bench/results/demo-lag-quiet-2026-12-07.json --from 300  # judged later

What it runs: its own local KRaft broker (a data folder and two free ports of its own, in ``--state-dir``, a new
temporary folder by default; ``--bootstrap`` uses a running broker instead), and ``rosterhub run --duration`` as a
subprocess whose working directory is that state folder, so the demo's ``.rosterhub`` (logs, tables, issuer, demo
policies) is its own and never anyone else's; its HTTP ports are free ones. ``--busy N`` starts N processes that
burn a CPU each, at normal priority, for the run's length (a stand-in for "a test suite sharing the machine", as
decision 0004's two busy loops were).

Every ``--interval`` seconds it samples EVERY consumer group on the broker: per group and topic, the lag (end offsets
minus the group's committed offsets, summed over partitions; a partition the group never committed counts whole),
the topic's end offset (how fast input arrives) and the group's committed offset (how fast it commits), and the CPU
seconds each hub process (the worker, the ingress, each connector) has used so far (``cpu_share_in_window``: the
share of one core each used over the window). The
measured window starts after a warm-up: at least ``--warmup`` seconds (default 120) after the demo started AND once a
stream worker's group is there and the set of groups has not changed for three samples. The worker takes 30-60 s to
start on a busy machine, and its first minute works off the backlog of everything the connectors and the demo sent
meanwhile (the ESR refresh's identity and passport records among it): before that, the lag says how long the start
took, not whether the hub keeps up. Per group and topic it reports the lag at the
window's start, its max, its end, and its trend: the least-squares slope in records/min over the window's samples
(kept in the JSON).

Verdict "keeps up" for a (group, topic): ``slope <= tolerance`` AND ``late <= max(early, bound)``, where
``tolerance = max(SLOPE_FLOOR, SLOPE_SHARE x input/min)``, ``early`` and ``late`` are the mean lags of the window's
first and last quarter of samples, and ``bound = input arriving in END_BOUND_S`` (at least END_BOUND_MIN records).
The slope rule catches a lag that grows over the window (issue 16 saw +16/min, +356/min and +295/min); the
tolerance keeps a saw-tooth (a demo wave arrives every few seconds, offsets are committed every few seconds) from
failing a group that is flat on average. The second rule catches a lag that is growing late in the window (a
least-squares slope over ten minutes can hide the last two): at the end the group must be, on average, no further
behind than at the start, or than ``END_BOUND_S`` seconds of input. It compares quarter means, not the first and last
samples, because on a saw-tooth two single samples differ by chance (the first version did, and judged a flat
``events.shift`` as not keeping up by one sample). A group keeps up when each of its topics does.

Writes ``bench/results/demo-lag-latest.json`` (``--json-out`` elsewhere) and prints progress as it runs.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

#: a lag growing by less than this many records a minute is flat (offsets are committed in steps)
SLOPE_FLOOR = 6.0
#: ... or by less than this share of the topic's input a minute (a busy topic's saw-tooth is wider)
SLOPE_SHARE = 0.02
#: at the window's end a group may be this many seconds of its topic's input behind (or no further than at start)
END_BOUND_S = 30.0
#: ... and at least this many records (a quiet topic's one batch)
END_BOUND_MIN = 50
#: the set of groups must be unchanged for this many samples before the window starts
STABLE_SAMPLES = 3


@dataclass(frozen=True, slots=True)
class BenchConfig:
    duration: float = 600.0  # the measured window, seconds
    warmup: float = 120.0  # at least this long before the window starts
    interval: float = 10.0  # seconds between samples
    busy: int = 0  # CPU-burning processes beside the demo
    bootstrap: str | None = None  # a running broker (else one of its own)
    state_dir: Path | None = None  # the demo's working directory (else a new temporary one)
    run_interval: float = 2.0  # ``rosterhub run --interval``: seconds between demo batches


# ---------------------------------------------------------------- the pure parts (tests/unit/bench)


@dataclass(frozen=True, slots=True)
class Sample:
    """One reading of one (group, topic): seconds since the demo started, lag, end offset and committed offset."""

    t: float
    lag: int
    end: int
    committed: int


@dataclass(slots=True)
class Samples:
    """Every reading, by group and topic, and the group sets seen (for the warm-up's "groups stable" rule)."""

    series: dict[str, dict[str, list[Sample]]] = field(default_factory=dict)
    group_sets: list[tuple[float, frozenset[str]]] = field(default_factory=list)

    def add(self, t: float, readings: dict[str, dict[str, tuple[int, int, int]]]) -> None:
        """``readings``: group -> topic -> (lag, end, committed), all groups of one moment."""
        self.group_sets.append((t, frozenset(readings)))
        for group, topics in readings.items():
            for topic, (lag, end, committed) in topics.items():
                self.series.setdefault(group, {}).setdefault(topic, []).append(Sample(t, lag, end, committed))

    @classmethod
    def from_json(cls, report: dict[str, Any]) -> Samples:
        """The samples a report kept (``samples``: group -> topic -> [t, lag, end, committed] rows)."""
        out = cls()
        for group, topics in report["samples"].items():
            for topic, rows in topics.items():
                out.series.setdefault(group, {})[topic] = [Sample(t, lag, end, done) for t, lag, end, done in rows]
        return out

    def window_start(
        self, warmup: float, ready: Callable[[frozenset[str]], bool] = bool, stable: int = STABLE_SAMPLES
    ) -> float | None:
        """The first moment at or after ``warmup`` when the group set has been the same, and ``ready`` (e.g. a stream
        worker's group among them), for ``stable`` samples in a row; None: not yet."""
        run = 0
        for i, (t, groups) in enumerate(self.group_sets):
            if not ready(groups):
                run = 0
            elif i and groups == self.group_sets[i - 1][1]:
                run += 1
            else:
                run = 1
            if run >= stable and t >= warmup:
                return t
        return None


def slope_per_min(points: Sequence[tuple[float, float]]) -> float:
    """Least-squares slope of (seconds, value) points, in value per minute; 0 for fewer than two distinct times."""
    n = len(points)
    if n < 2:
        return 0.0
    mt = sum(t for t, _ in points) / n
    mv = sum(v for _, v in points) / n
    var = sum((t - mt) ** 2 for t, _ in points)
    if var == 0:
        return 0.0
    return 60.0 * sum((t - mt) * (v - mv) for t, v in points) / var


def input_per_min(samples: Sequence[Sample]) -> float:
    """Records a minute arriving on the topic over the samples (end offsets)."""
    if len(samples) < 2 or samples[-1].t <= samples[0].t:
        return 0.0
    return 60.0 * (samples[-1].end - samples[0].end) / (samples[-1].t - samples[0].t)


def verdict(samples: Sequence[Sample]) -> dict[str, Any]:
    """Start/max/end lag, slope, the input and commit rates and whether the (group, topic) keeps up (module doc)."""
    if not samples:
        return {"samples": 0, "keeps_up": None}
    lags = [s.lag for s in samples]
    slope = slope_per_min([(s.t, s.lag) for s in samples])
    rate_in = input_per_min(samples)
    span = samples[-1].t - samples[0].t
    commit = 60.0 * (samples[-1].committed - samples[0].committed) / span if span > 0 else 0.0
    tolerance = max(SLOPE_FLOOR, SLOPE_SHARE * rate_in)
    bound = max(END_BOUND_MIN, rate_in * END_BOUND_S / 60.0)
    quarter = max(1, len(lags) // 4)
    early, late = sum(lags[:quarter]) / quarter, sum(lags[-quarter:]) / quarter
    keeps_up = slope <= tolerance and late <= max(early, bound)
    return {
        "samples": len(samples),
        "start": lags[0],
        "max": max(lags),
        "end": lags[-1],
        "slope_per_min": round(slope, 1),
        "input_per_min": round(rate_in, 1),
        "committed_per_min": round(commit, 1),
        "tolerance_per_min": round(tolerance, 1),
        "early_mean": round(early, 1),
        "late_mean": round(late, 1),
        "end_bound": round(bound),
        "keeps_up": keeps_up,
    }


def report(samples: Samples, start: float | None) -> dict[str, Any]:
    """Per group and topic, the verdict over the window (samples from ``start``; None: every sample), and per group
    whether every topic keeps up, with the verdict of its topics added up (``total``). A group that appeared after
    ``start`` is judged from its first sample."""
    groups: dict[str, Any] = {}
    for group, topics in sorted(samples.series.items()):
        per_topic = {}
        for topic, series in sorted(topics.items()):
            window = [s for s in series if start is None or s.t >= start]
            per_topic[topic] = verdict(window)
        judged = [v["keeps_up"] for v in per_topic.values() if v["keeps_up"] is not None]
        groups[group] = {"keeps_up": all(judged) if judged else None, "total": verdict(_summed(topics, start))}
        groups[group]["topics"] = per_topic
    return groups


def _summed(topics: dict[str, list[Sample]], start: float | None) -> list[Sample]:
    """A group's topics added up, moment by moment (the group's whole lag, input and commits)."""
    by_t: dict[float, list[int]] = {}
    for series in topics.values():
        for x in series:
            if start is None or x.t >= start:
                acc = by_t.setdefault(x.t, [0, 0, 0])
                acc[0], acc[1], acc[2] = acc[0] + x.lag, acc[1] + x.end, acc[2] + x.committed
    return [Sample(t, lag, end, done) for t, (lag, end, done) in sorted(by_t.items())]


def table(groups: dict[str, Any]) -> str:
    """A Markdown table: group, topic, lag start/max/end, slope, input and commit rates, verdict."""
    lines = [
        "| group | topic | lag start | max | end | slope /min | in /min | committed /min | keeps up |",
        "|---|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for group, g in groups.items():
        rows = list(g["topics"].items()) + ([("(all topics)", g["total"])] if len(g["topics"]) > 1 else [])
        for topic, v in rows:
            if not v["samples"]:
                continue
            lines.append(
                f"| {group} | {topic} | {v['start']:,} | {v['max']:,} | {v['end']:,} | {v['slope_per_min']:+,.1f} | "
                f"{v['input_per_min']:,.0f} | {v['committed_per_min']:,.0f} | {'yes' if v['keeps_up'] else 'NO'} |"
            )
    return "\n".join(lines)


# ---------------------------------------------------------------- the broker question


class LagReader:
    """Every consumer group's lag per topic: one admin client and one consumer for the whole run."""

    def __init__(self, kafka: Any) -> None:
        from kafka import KafkaAdminClient, KafkaConsumer

        self.admin = KafkaAdminClient(**kafka.kafka_python(), client_id="rosterhub-demo-lag")
        self.consumer = KafkaConsumer(**kafka.kafka_python(), client_id="rosterhub-demo-lag", enable_auto_commit=False)

    def read(self) -> dict[str, dict[str, tuple[int, int, int]]]:
        """group -> topic -> (lag, end offset, committed offset), each summed over the topic's partitions."""
        from kafka import TopicPartition

        names = sorted(g["group_id"] for g in self.admin.list_groups())
        if not names:
            return {}
        offsets = self.admin.list_group_offsets(names)
        topics = {tp.topic for committed in offsets.values() for tp in committed}
        parts = {t: sorted(self.consumer.partitions_for_topic(t) or ()) for t in sorted(topics)}
        tps = [TopicPartition(t, p) for t, ps in parts.items() for p in ps]
        ends = self.consumer.end_offsets(tps) if tps else {}
        out: dict[str, dict[str, tuple[int, int, int]]] = {}
        for group in names:
            committed = offsets.get(group, {})
            mine = {tp.topic for tp in committed}
            per: dict[str, tuple[int, int, int]] = {}
            for topic in sorted(mine):
                parts = [tp for tp in tps if tp.topic == topic]
                done = {tp: max(0, committed[tp].offset) if tp in committed else 0 for tp in parts}
                lag = sum(max(0, ends[tp] - done[tp]) for tp in parts)
                per[topic] = (lag, sum(ends[tp] for tp in parts), sum(done.values()))
            out[group] = per
        return out

    def close(self) -> None:
        self.consumer.close()
        self.admin.close()


# ---------------------------------------------------------------- the run


def _free_port() -> int:
    from rosterhub.demo import free_port

    return free_port()


@contextmanager
def _broker(cfg: BenchConfig, state: Path) -> Iterator[Any]:
    """The run's KafkaAccess: ``cfg.bootstrap`` as configured, else a local broker of its own in ``state``."""
    from rosterhub.kafka.access import access_from_settings
    from rosterhub.settings import Settings

    if cfg.bootstrap:
        yield access_from_settings(Settings(kafka_bootstrap_servers=cfg.bootstrap))
        return
    from rosterhub.kafka.local import LocalBroker

    settings = Settings(kafka_data_dir=state / "kafka", kafka_port=_free_port(), kafka_controller_port=_free_port())
    broker = LocalBroker(settings)
    broker.start()
    try:
        yield broker.access
    finally:
        broker.stop()


@contextmanager
def _busy(n: int) -> Iterator[list[int]]:
    """``n`` processes burning a CPU each at normal priority until the block ends; their pids."""
    procs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(n)]
    try:
        yield [p.pid for p in procs]
    finally:
        for p in procs:
            p.kill()
            p.wait()


def _demo(kafka: Any, state: Path, seconds: float, interval: float) -> subprocess.Popen[bytes]:
    """``rosterhub run --duration`` in ``state`` (its own ``.rosterhub``), on free ports, output in ``run.log``."""
    env = {
        **os.environ,
        **kafka.env(),
        "KAFKA_BOOTSTRAP_SERVERS": kafka.bootstrap_servers,
        "ROSTERHUB_CONFIG": str(state / "none.toml"),  # no rosterhub.toml of anyone's
        "ROSTERHUB_HTTP_PORT": str(_free_port()),
        "ROSTERHUB_DEMO_TRUST_PORT": str(_free_port()),
        "ROSTERHUB_WORKER_WEB_PORT": str(_free_port()),
    }
    cmd = [sys.executable, "-m", "rosterhub", "run", "--duration", str(seconds), "--interval", str(interval)]
    log = (state / "run.log").open("ab")
    return subprocess.Popen(cmd, cwd=state, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def _stop(proc: subprocess.Popen[bytes], timeout: float) -> int | None:
    """Stop the demo as Ctrl-C would (SIGTERM: it stops its children, then itself); SIGKILL its whole process group
    when it has not stopped within ``timeout`` seconds."""
    import signal

    if proc.poll() is None:
        proc.terminate()
    try:
        return proc.wait(timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        return proc.wait()


def _cpu_seconds(root: int) -> dict[str, float]:
    """CPU seconds (user + system) so far of ``root``'s descendants that are rosterhub processes, by role
    (``worker``, ``serve``, ``connect esr``, ...), read from /proc; a process that ended meanwhile is left out."""
    tick = os.sysconf("SC_CLK_TCK")
    children: dict[int, list[int]] = {}
    stats: dict[int, list[str]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        stats[int(entry.name)] = fields
        children.setdefault(int(fields[1]), []).append(int(entry.name))
    out: dict[str, float] = {}
    todo = [root]
    while todo:
        pid = todo.pop()
        todo += children.get(pid, [])
        try:
            argv = (Path("/proc") / str(pid) / "cmdline").read_bytes().decode().split("\0")
        except OSError:
            continue
        if "rosterhub" not in argv:
            continue
        args = argv[argv.index("rosterhub") + 1 :]
        role = " ".join(args[:2] if args[:1] in (["connect"], ["simulate"]) else args[:1])
        if role == "worker":  # one of several stream workers: by the name `rosterhub run` gave it (worker-2)
            role = _child_name(pid) or role
        utime, stime = int(stats[pid][11]), int(stats[pid][12])
        out[role] = round(out.get(role, 0.0) + (utime + stime) / tick, 2)
    return out


def _child_name(pid: int) -> str | None:
    """The name ``rosterhub run`` gave its child ``pid`` (rosterhub.children.CHILD_NAME_ENV), None if unreadable."""
    from rosterhub.children import CHILD_NAME_ENV

    try:
        environ = (Path("/proc") / str(pid) / "environ").read_bytes().split(b"\0")
    except OSError:
        return None
    mark = f"{CHILD_NAME_ENV}=".encode()
    return next((v[len(mark) :].decode() for v in environ if v.startswith(mark)), None)


def _progress(t: float, readings: dict[str, dict[str, tuple[int, int, int]]], watched: Iterable[str]) -> str:
    lags = {
        f"{topic.split('.')[-1] if not topic.startswith('_') else topic}": lag
        for group in sorted(readings)
        for topic, (lag, _, _) in readings[group].items()
        if lag and topic in watched
    }
    total = sum(lag for g in readings.values() for lag, _, _ in g.values())
    shown = " ".join(f"{k}={v}" for k, v in sorted(lags.items(), key=lambda kv: -kv[1])[:6])
    return f"[{t:5.0f}s] groups={len(readings)} total_lag={total} {shown}"


def _worker_running(groups: frozenset[str]) -> bool:
    """A stream worker's group (the app's, or one per processor set: rosterhub.features.worker_group) is there."""
    from rosterhub.features import group_processors
    from rosterhub.settings import Settings

    app_id = Settings().app_id
    return any(group_processors(app_id, g) is not None for g in groups)


def run(cfg: BenchConfig) -> dict[str, Any]:
    """The demo for warm-up + duration with every group's lag sampled; the report (module doc)."""
    import booking_bench as bb

    made = cfg.state_dir is None
    state = cfg.state_dir or Path(tempfile.mkdtemp(prefix="rosterhub-demo-lag-"))
    state.mkdir(parents=True, exist_ok=True)
    samples = Samples()
    load = [os.getloadavg()[0]]
    with ExitStack() as stack:
        kafka = stack.enter_context(_broker(cfg, state))
        busy = stack.enter_context(_busy(cfg.busy))
        print(f"state {state}, broker {kafka.bootstrap_servers}, busy pids {busy}", flush=True)
        # the demo runs longer than the window: the window may start later than --warmup (groups still changing)
        demo_s = cfg.warmup + cfg.duration + 4 * cfg.interval * STABLE_SAMPLES
        proc = _demo(kafka, state, demo_s, cfg.run_interval)
        reader = LagReader(kafka)
        started, start = time.monotonic(), None
        cpu: list[tuple[float, dict[str, float]]] = []
        try:
            while proc.poll() is None:
                t = time.monotonic() - started
                try:
                    readings = reader.read()
                except Exception as exc:  # a broker question that failed: this sample is lost, not the run
                    print(f"[{t:5.0f}s] sample failed: {type(exc).__name__}: {exc}", flush=True)
                    readings = None
                cpu.append((round(t, 1), _cpu_seconds(proc.pid)))
                if readings is not None:
                    samples.add(round(t, 1), readings)
                    print(_progress(t, readings, {tp for g in readings.values() for tp in g}), flush=True)
                if start is None and (start := samples.window_start(cfg.warmup, _worker_running)) is not None:
                    print(f"[{t:5.0f}s] window starts ({len(samples.group_sets[-1][1])} groups)", flush=True)
                if start is not None and t >= start + cfg.duration:
                    break
                time.sleep(max(0.0, cfg.interval - (time.monotonic() - started - t)))
        finally:
            reader.close()
            code = _stop(proc, timeout=90)
    load.append(os.getloadavg()[0])
    groups = report(samples, start)
    out = {
        "machine": bb.machine(),
        "config": {k: str(v) if isinstance(v, Path) else v for k, v in asdict(cfg).items()},
        "rule": {
            "slope_floor_per_min": SLOPE_FLOOR,
            "slope_share_of_input": SLOPE_SHARE,
            "end_bound_s": END_BOUND_S,
            "end_bound_min": END_BOUND_MIN,
            "rule": "slope <= max(floor, share x input/min) and late-quarter mean <= max(early-quarter mean, bound)",
            "stable_samples": STABLE_SAMPLES,
        },
        "window_start_s": start,
        "window_end_s": samples.group_sets[-1][0] if samples.group_sets else None,
        "demo_exit_code": code,
        "load_average": [round(x, 2) for x in load],
        "keeps_up": {g: v["keeps_up"] for g, v in groups.items()},
        "groups": groups,
        "samples": {
            g: {topic: [[s.t, s.lag, s.end, s.committed] for s in series] for topic, series in topics.items()}
            for g, topics in samples.series.items()
        },
        "sample_columns": ["t_s", "lag", "end_offset", "committed_offset"],
        "cpu_share_in_window": _cpu_share(cpu, start),
        "cpu_seconds": [[t, by_role] for t, by_role in cpu],
    }
    if made and not cfg.state_dir:
        out["state_dir"] = str(state)
    return out


def _cpu_share(cpu: list[tuple[float, dict[str, float]]], start: float | None) -> dict[str, float]:
    """Per hub process (role), the share of one core it used over the window (CPU seconds / wall seconds)."""
    window = [(t, c) for t, c in cpu if start is None or t >= start]
    if len(window) < 2 or window[-1][0] <= window[0][0]:
        return {}
    (t0, first), (t1, last) = window[0], window[-1]
    return {role: round((last[role] - first.get(role, 0.0)) / (t1 - t0), 3) for role in sorted(last)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    d = BenchConfig()
    ap.add_argument("--duration", type=float, default=d.duration, help="seconds of the measured window")
    ap.add_argument("--warmup", type=float, default=d.warmup, help="at least this many seconds before the window")
    ap.add_argument("--interval", type=float, default=d.interval, help="seconds between samples")
    ap.add_argument("--busy", type=int, default=d.busy, help="CPU-burning processes beside the demo")
    ap.add_argument("--bootstrap", help="a running broker (default: a local broker of its own)")
    ap.add_argument("--state-dir", type=Path, help="the demo's working directory (default: a new temporary one)")
    ap.add_argument("--keep-state", action="store_true", help="keep the temporary state folder (logs) afterwards")
    ap.add_argument("--json-out", type=Path, default=REPO / "bench" / "results" / "demo-lag-latest.json")
    ap.add_argument("--table", type=Path, metavar="JSON", help="only print an earlier run's table (its samples judged)")
    ap.add_argument("--from", dest="from_s", type=float, help="with --table: judge that run's samples from this second")
    args = ap.parse_args()
    if args.table:
        earlier = json.loads(args.table.read_text())
        start = earlier["window_start_s"] if args.from_s is None else args.from_s
        groups = report(Samples.from_json(earlier), start)  # the kept samples judged by this version's rule
        print(table(groups))
        return
    options = vars(args)
    out = run(BenchConfig(**{f.name: options[f.name] for f in fields(BenchConfig) if f.name in options}))
    args.json_out.parent.mkdir(parents=True, exist_ok=True)
    args.json_out.write_text(json.dumps(out, indent=2, default=str))
    print(table(out["groups"]))
    print(json.dumps({k: out[k] for k in ("window_start_s", "window_end_s", "load_average", "keeps_up")}, indent=2))
    if "state_dir" in out and not args.keep_state:
        shutil.rmtree(out["state_dir"], ignore_errors=True)


if __name__ == "__main__":
    main()
