"""The pure parts of bench/demo_lag.py: the slope, the verdict rule, the window's start and the samples' bookkeeping."""

from __future__ import annotations

from tests.support import load_bench

bench = load_bench("demo_lag")
Sample = bench.Sample


def _series(lags: list[int], *, per_sample_in: int = 100, step_s: float = 10.0) -> list[object]:
    """Samples every ``step_s`` with these lags, the topic growing by ``per_sample_in`` records a sample."""
    out = []
    for i, lag in enumerate(lags):
        end = (i + 1) * per_sample_in
        out.append(Sample(i * step_s, lag, end, end - lag))
    return out


def test_the_slope_is_least_squares_in_records_per_minute() -> None:
    assert bench.slope_per_min([(0.0, 10.0), (30.0, 40.0), (60.0, 70.0)]) == 60.0
    assert bench.slope_per_min([(0.0, 5.0), (10.0, 9.0), (20.0, 5.0), (30.0, 9.0)]) == 4.8
    assert bench.slope_per_min([(0.0, 5.0)]) == 0.0  # one point: no trend
    assert bench.slope_per_min([(7.0, 5.0), (7.0, 50.0)]) == 0.0  # no spread in time: no trend


def test_a_flat_saw_tooth_keeps_up_and_a_growing_lag_does_not() -> None:
    flat = bench.verdict(_series([40, 5, 60, 10, 45, 0, 55, 20, 40, 10]))
    assert flat["keeps_up"] is True
    assert (flat["start"], flat["max"], flat["end"]) == (40, 60, 10)

    growing = bench.verdict(_series([100, 150, 210, 250, 300, 360, 400, 450, 510, 560]))
    assert growing["keeps_up"] is False
    assert growing["slope_per_min"] > growing["tolerance_per_min"]
    assert growing["input_per_min"] == 600.0  # 100 records every 10 s
    assert growing["committed_per_min"] < growing["input_per_min"]


def test_a_lag_that_jumps_at_the_end_fails_even_with_a_small_slope() -> None:
    late = bench.verdict(_series([10] * 20 + [400], per_sample_in=10))  # 60 records/min in, 400 behind at the end
    assert late["slope_per_min"] < 60
    assert late["late_mean"] > late["end_bound"]
    assert late["keeps_up"] is False


def test_one_high_last_sample_of_a_flat_saw_tooth_does_not_fail_it() -> None:
    tooth = [300, 100, 250, 80, 320, 90, 260, 110, 280, 70, 310, 120, 270, 100, 290] * 3 + [400]
    flat = bench.verdict(_series(tooth, per_sample_in=100))  # 600/min in: the bound is 300 records
    assert flat["end"] > max(flat["start"], flat["end_bound"])  # what a first/last sample comparison would fail
    assert flat["slope_per_min"] <= flat["tolerance_per_min"]
    assert flat["late_mean"] <= max(flat["early_mean"], flat["end_bound"])
    assert flat["keeps_up"] is True


def test_a_group_ending_no_further_behind_than_it_started_keeps_up() -> None:
    draining = bench.verdict(_series([3000, 2500, 2000, 1500, 1000]))
    assert draining["slope_per_min"] < 0 and draining["keeps_up"] is True


def test_the_window_starts_once_a_worker_group_is_there_and_the_groups_are_stable() -> None:
    samples = bench.Samples()
    worker = {"events.shift": (5, 100, 95)}
    moments = [
        {},
        {"connect": {"raw.esr": (0, 1, 1)}},
        {"connect": {"raw.esr": (0, 1, 1)}},
        {"connect": {"raw.esr": (0, 1, 1)}},
        {"connect": {"raw.esr": (0, 2, 2)}, "rosterhub": worker},
        {"connect": {"raw.esr": (0, 2, 2)}, "rosterhub": worker},
        {"connect": {"raw.esr": (0, 2, 2)}, "rosterhub": worker},
        {"connect": {"raw.esr": (0, 2, 2)}, "rosterhub": worker},
    ]
    for i, readings in enumerate(moments):
        samples.add(10.0 * i, readings)

    def ready(groups: frozenset[str]) -> bool:
        return "rosterhub" in groups

    assert samples.window_start(0.0, ready) == 60.0  # 3 stable samples with the worker: 40, 50, 60
    assert samples.window_start(65.0, ready) == 70.0  # and not before the warm-up
    assert samples.window_start(0.0) == 30.0  # any non-empty set: the connector's group alone
    assert samples.window_start(80.0, ready) is None
    assert [s.lag for s in samples.series["rosterhub"]["events.shift"]] == [5, 5, 5, 5]


def test_the_report_judges_each_group_by_all_its_topics_from_the_window_start() -> None:
    samples = bench.Samples()
    for i in range(10):
        t, end = 10.0 * i, 100 * (i + 1)
        before_window_lag = 5000 if i < 3 else 0  # the start-up backlog: not in the window
        samples.add(
            t,
            {
                "a": {"events.shift": (before_window_lag, end, end - before_window_lag)},
                "b": {"events.shift": (0, end, end), "_rosterhub.identity-in": (60 * i, end, end - 60 * i)},
            },
        )
    groups = bench.report(samples, 30.0)
    assert groups["a"]["keeps_up"] is True
    assert groups["a"]["topics"]["events.shift"]["samples"] == 7
    assert groups["b"]["keeps_up"] is False
    assert groups["b"]["topics"]["events.shift"]["keeps_up"] is True
    assert groups["b"]["topics"]["_rosterhub.identity-in"]["keeps_up"] is False
    assert groups["b"]["total"]["keeps_up"] is False and groups["b"]["total"]["slope_per_min"] == 360.0
    rows = bench.table(groups).splitlines()
    assert len(rows) == 2 + 3 + 1  # header, a's topic, b's two topics and b's sum (a has one topic: no sum)
    assert any(r.startswith("| b | _rosterhub.identity-in | 180 | 540 | 540 | +360.0 |") for r in rows)
    assert rows[-1].startswith("| b | (all topics) | 180 | 540 | 540 | +360.0 | 1,200 | 840 | NO |")


def test_a_reports_samples_read_back_give_the_same_verdicts_from_any_start() -> None:
    samples = bench.Samples()
    for i in range(6):
        samples.add(10.0 * i, {"g": {"t": (50 * i, 100 * (i + 1), 100 * (i + 1) - 50 * i)}})
    kept = {"samples": {"g": {"t": [[s.t, s.lag, s.end, s.committed] for s in samples.series["g"]["t"]]}}}
    again = bench.Samples.from_json(kept)
    assert again.series == samples.series
    assert bench.report(again, 20.0) == bench.report(samples, 20.0)
    assert bench.report(again, 20.0)["g"]["topics"]["t"]["start"] == 100
