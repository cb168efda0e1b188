"""Corrected percentiles, stalls, lateness and capacity on hand-made samples of known truth."""

import numpy as np
import pytest

from ecsload.analysis import omission
from ecsload.analysis.capacity import capacity
from ecsload.analysis.sample_size import answers_needed, too_few
from ecsload.analysis.samples import Samples
from ecsload.report.tables import level_notes, level_table


def make_samples(
    sent_ms: np.ndarray,
    response_ms: np.ndarray,
    user_id: np.ndarray | None = None,
    late_ms: np.ndarray | None = None,
    status: np.ndarray | None = None,
    error: np.ndarray | None = None,
) -> Samples:
    n = sent_ms.size
    status = np.full(n, 200, dtype=np.int16) if status is None else status
    return Samples(
        timestamp_ms=sent_ms.astype(np.int64),
        type_code=np.zeros(n, dtype=np.int16),
        type_names=("NoOp",),
        user_id=np.ones(n, dtype=np.int64) if user_id is None else user_id,
        ok=status == 200,
        status=status,
        response_time_ms=response_ms.astype(float),
        measured=np.ones(n, dtype=bool),
        error=np.full(n, b"") if error is None else error,
        late_ms=np.zeros(n) if late_ms is None else late_ms,
    )


def closed_user_with_a_stall(stall_ms: float = 1000.0) -> Samples:
    """One closed user, 2 ms per request for 10 s, and one request that waited out a stall."""
    sends, times, t = [], [], 0.0
    while t < 10_000:
        took = stall_ms if 5000 <= t < 5002 else 1.0
        sends.append(t)
        times.append(took)
        t += took + 1.0  # a 1 ms wait after each answer
    return make_samples(np.array(sends), np.array(times))


def test_the_corrected_p99_of_a_closed_user_is_what_a_constant_rate_client_saw() -> None:
    samples = closed_user_with_a_stall()
    raw_p99 = float(np.percentile(samples.response_time_ms, 99))
    corrected = omission.corrected(samples, omission.expected_intervals(samples))
    assert corrected is not None
    # Truth: 1 s of a 11 s span stalled; arrivals in it waited 0-1000 ms, p99 ~ 890 ms.
    assert raw_p99 < 2
    assert 800 < corrected["p99"] < 1000, corrected
    assert corrected["p50"] < 2


def test_no_stall_leaves_the_percentiles_as_they_were() -> None:
    samples = closed_user_with_a_stall(stall_ms=1.0)
    corrected = omission.corrected(samples, omission.expected_intervals(samples))
    assert corrected == {"p50": 1.0, "p95": 1.0, "p99": 1.0}


def test_many_synthetic_samples_are_thinned_not_lost(monkeypatch: pytest.MonkeyPatch) -> None:
    samples = closed_user_with_a_stall()
    full = omission.corrected(samples, omission.expected_intervals(samples))
    monkeypatch.setattr(omission, "MAX_SYNTHETIC", 50)
    thinned = omission.corrected(samples, omission.expected_intervals(samples))
    assert full is not None and thinned is not None
    assert abs(thinned["p99"] / full["p99"] - 1) < 0.05


def test_a_gap_in_the_answers_is_a_stall_and_its_share_of_the_level() -> None:
    samples = closed_user_with_a_stall()
    stalls = omission.stalls(samples, p50=1.0, window=(0.0, 11_000.0))
    assert stalls["count"] == 1
    assert stalls["longest_ms"] == pytest.approx(1000, abs=1)
    assert stalls["percent"] == pytest.approx(100 * 1000 / 11_000, abs=0.5)
    assert stalls["gaps"][0]["started_ms"] == pytest.approx(5000, abs=2)


def test_a_quiet_time_with_nothing_outstanding_is_no_stall() -> None:
    """A paced user that waits 1 s between 1 ms answers: gaps, but nothing outstanding."""
    sends = np.arange(0, 10_000, 1001.0)
    samples = make_samples(sends, np.ones(sends.size))
    assert omission.stalls(samples, p50=1.0, window=(0.0, 10_000.0))["count"] == 0


def test_requests_unanswered_at_the_end_are_a_stall_until_the_level_ended() -> None:
    sends = np.array([0.0, 1.0, 2.0, 3.0])
    status = np.array([200, 200, 200, 0], dtype=np.int16)
    samples = make_samples(sends, np.array([0.5, 0.5, 0.5, 2000.0]), status=status)
    stalls = omission.stalls(samples, p50=0.5, window=(0.0, 2003.0))
    assert stalls["longest_ms"] == pytest.approx(2000, abs=1)


def test_lateness_and_dropped_arrivals() -> None:
    """500/s from one user (a 2 ms gap): 2% of sends 5 ms late is a busy moment, not a
    slipped schedule (an absolute 1 ms rule called it behind); the median send that late is."""
    n = 1000
    late = np.where(np.arange(n) % 50 == 0, 5.0, 0.01)
    status = np.where(np.arange(n) < 3, 0, 200).astype(np.int16)
    error = np.where(np.arange(n) < 3, b"Dropped", b"")
    samples = make_samples(np.arange(n) * 2.0, np.ones(n), late_ms=late, status=status, error=error)
    assert omission.dropped(samples) == 3
    lateness = omission.lateness(samples, 500)
    assert lateness is not None and lateness["p50"] == 0.01 and lateness["p99"] == 5.0
    assert not lateness["behind"] and lateness["gap_ms"] == 2.0
    assert lateness["achieved"] == pytest.approx(500, rel=0.01)
    late = np.where(np.arange(n) % 4 != 0, 5.0, 0.01)
    lateness = omission.lateness(make_samples(np.arange(n) * 2.0, np.ones(n), late_ms=late), 500)
    assert lateness is not None and lateness["behind"]
    assert "75% of its sends were late by over an arrival gap (2 ms)" in lateness["behind_why"]


def test_a_slipping_schedule_is_behind_and_a_late_one_at_a_low_rate_is_not() -> None:
    n = 1000
    slipping = np.linspace(0, 400, n)  # the generator loses 0.4 ms a send: 400 ms by the end
    lateness = omission.lateness(
        make_samples(np.arange(n) * 2.0, np.ones(n), late_ms=slipping), 500
    )
    assert lateness is not None and lateness["behind"]
    assert "its lateness grew" in lateness["behind_why"] and "it sent" in lateness["behind_why"]
    assert lateness["achieved"] < 0.95 * 500
    steady = np.full(n, 3.0)  # 3 ms late throughout at 50/s (a 20 ms gap): on schedule
    lateness = omission.lateness(make_samples(np.arange(n) * 20.0, np.ones(n), late_ms=steady), 50)
    assert lateness is not None and not lateness["behind"] and lateness["p99"] == 3.0


@pytest.mark.parametrize(("p", "needed"), [(50, 20), (90, 100), (95, 200), (99, 1000)])
def test_a_percentile_needs_ten_answers_beyond_it(p: int, needed: int) -> None:
    assert answers_needed(p) == needed
    assert too_few(needed - 1, [f"p{p}"]) == [f"p{p}"]
    assert too_few(needed, [f"p{p}"]) == []


def level(rate: int, p99: float, errors: int = 0, dropped: int = 0) -> dict:
    return {
        "rate": rate,
        "users": 1,
        "model": "open",
        "requests": 1000,
        "dropped": dropped,
        "goodput": rate * (1000 - errors) / 1000,
        "all": {"ok": 1000 - errors, "error": errors, "no_answer": 0, "p99": p99},
        "types": {},
    }


def test_without_thresholds_there_is_no_capacity_but_the_knee_of_goodput() -> None:
    """p99 25 ms at 200/s against 10 ms at 50/s is no longer a broken level (the old 2x the
    lowest p99 rule): only an objective makes a capacity; goodput's knee is said instead."""
    levels = [level(50, 10), level(100, 12), level(200, 25), level(400, 900, errors=400)]
    result = capacity(levels, [])
    assert result["rate"] is None and result["knee"] == 200 and result["broken_at"] == 400
    assert "No capacity without an objective" in result["text"]
    assert "the knee of goodput is 200/s: at 400/s goodput 240/s, 60% of the rate" in result["text"]


def test_capacity_is_not_a_rate_that_held_again_above_a_broken_one() -> None:
    """Non-monotonic: 200/s broke on errors, 400/s looks fine; the capacity stays 100/s."""
    levels = [level(50, 10), level(100, 11), level(200, 12, errors=30, dropped=30), level(400, 12)]
    result = capacity(levels, ["error%<1"])
    assert result["rate"] == 100 and result["broken_at"] == 200
    assert "error%<1 measured 3.00%" in result["why"]


def test_capacity_says_when_the_generator_was_behind_where_it_broke() -> None:
    levels = [level(50, 10), level(100, 40)]
    levels[1]["lateness"] = {"p99": 35.0, "behind": True, "behind_why": "it sent 80/s"}
    why = capacity(levels, ["p99<20"])["why"]
    assert "the generator was behind its schedule (it sent 80/s)" in why
    assert "the limit is the generator's, not the service's" in why


def test_capacity_with_thresholds_and_when_all_or_none_held() -> None:
    levels = [level(50, 10), level(100, 40), level(200, 60)]
    result = capacity(levels, ["p99<50"])
    assert result["rate"] == 100 and result["broken_at"] == 200
    assert "p99<50" in result["why"]
    assert capacity(levels, ["p99<100"])["broken_at"] is None
    assert "at least 200" in capacity(levels, ["p99<100"])["text"]
    none = capacity(levels, ["p99<5"])
    assert none["rate"] is None and "below the lowest rate" in none["text"]


def test_a_sweeps_capacity_decided_beside_another_sweep_says_so() -> None:
    """The levels that decide it (the last that held, the first that did not, or goodput's
    knee) ran beside another sweep: the text says the capacity may be the machine's. Another
    level beside it decides nothing."""
    beside = [{"pid": 4321, "run": "/ci/b/20240501-120000", "started": None}]
    levels = [level(50, 10), level(100, 40), level(200, 60)]
    levels[2]["other_sweeps"] = beside
    decided = capacity(levels, ["p99<50"])
    assert decided["rate"] == 100 and decided["text"].endswith(
        "; but another ecs-load sweep ran on this machine at 200 req/s, where the answer was "
        "decided: they shared its cores, so the capacity may be the machine's, not the "
        "service's"
    )
    held_all = capacity(levels, ["p99<100"])  # at least 200/s: decided at 200/s too
    assert held_all["text"].startswith("Capacity: at least 200 requests/s")
    assert "ran on this machine at 200 req/s, where the answer was decided" in held_all["text"]
    levels[2]["other_sweeps"], levels[0]["other_sweeps"] = [], beside
    assert "sweep" not in capacity(levels, ["p99<50"])["text"]  # 50/s decides nothing
    knee = [level(50, 10), level(100, 12), level(200, 25), level(400, 900, errors=400)]
    knee[2]["other_sweeps"] = knee[3]["other_sweeps"] = beside
    assert "at 200 and 400 req/s, where the answer was decided" in capacity(knee, [])["text"]


def test_the_level_table_marks_a_percentile_from_too_few_answers() -> None:
    figures = {
        "ok": 5,
        "error": 0,
        "rate_limited": 0,
        "m": 0.0,
        "b": 1.0,
        "min": 1.0,
        **{f"p{p}": 1.0 + p / 100 for p in (50, 60, 70, 80, 90, 95, 99)},
        "max": 2.0,
        "answers": 5,
        "few": ["p50", "p60", "p70", "p80", "p90", "p95", "p99"],
        "corrected": {"p50": 1.5, "p95": 1.95, "p99": 1.99},
    }
    summary = {
        "users": 1,
        "model": "closed",
        "requests": 5,
        "started": "a",
        "ended": "b",
        "rps": 1.0,
        "seconds": 5.0,
        "all": figures,
        "types": {"NoOp": figures},
        "ramp": {"seconds": 0.0, "completed": True, "requests": 0, "users_started": 1},
        "users_measured": 1,
        "probe": None,
        "generator": None,
        "samples": 5,
        "stalls": {"count": 0},
    }
    table = level_table(summary)
    assert "1.99*" in table and "1.99*" in table.split("99 corrected")[1]
    assert any("answers: all 5, NoOp 5" in note for note in level_notes(summary))


def test_the_level_chart_shades_each_stall() -> None:
    from ecsload.report.charts import STALL_COLOUR, level_chart

    samples = closed_user_with_a_stall()
    figures = {"ok": len(samples), "error": 0, "m": 0.0, "b": 1.0}
    stalls = omission.stalls(samples, p50=1.0, window=(0.0, 11_000.0))
    chart = level_chart(
        {"users": 1, "types": {"NoOp": figures}, "stalls": stalls}, samples, {"NoOp": "blue"}
    )
    [ax] = chart.figure.axes
    red = [p for p in ax.patches if p.get_facecolor()[:3] == (1.0, 0.0, 0.0)]
    assert STALL_COLOUR == "red" and len(red) == 1
    assert red[0].get_x() == pytest.approx(5.0, abs=0.01)  # seconds since the first request
    assert red[0].get_width() == pytest.approx(1.0, abs=0.01)


def test_an_open_sweep_has_a_capacity_line_and_latency_against_the_rate() -> None:
    from ecsload.report.charts import latency_chart
    from ecsload.report.tables import run_table

    levels = [level(50, 10), level(100, 12), level(200, 40)]
    for one in levels:
        one.update(
            users_measured=1, seconds=10.0, rps=one["rate"] * 0.99, probe=None, generator=None
        )
        one["types"] = {}
        one["all"].update(rate_limited=0, p50=1.0, p95=5.0, few=[])
    summary = {"endpoint": None, "levels": levels, "capacity": capacity(levels, ["p99<20"])}
    text = run_table(summary)
    assert text.splitlines()[3].split() == ["Rate", "/s", "50", "100", "200"]
    assert "Capacity: 100 requests/s" in text and "200/s did not hold" in text
    ax = latency_chart(levels).figure.axes[0]
    assert ax.get_xlabel() == "arrival rate (requests/s)"
    assert list(ax.lines[0].get_xdata()) == [50, 100, 200]


def test_the_stall_warning_of_a_level_without_any_answer() -> None:
    from ecsload.report.tables import stall_warning

    stalls = {"gaps": [{"seconds": 2.0}], "percent": 100.0, "threshold_ms": 100.0}
    none = {"model": "closed", "all": {"p99": None, "corrected": None}}
    assert stall_warning(none, stalls) == (
        "WARNING: no answer for 2.00 s (100% of the level, gaps over 100 ms); "
        "no request of the level was answered."
    )


@pytest.mark.parametrize("n", [0, 1, 2, 3])
@pytest.mark.parametrize("same_user", [True, False])
def test_a_small_level_has_every_statistic(n: int, same_user: bool) -> None:
    """-c 5 -n 5 crashed: no user sent twice, and expected_intervals indexed a plain False."""
    from ecsload.analysis.documents import level_summary

    users = np.ones(n, dtype=np.int64) if same_user else np.arange(n, dtype=np.int64)
    samples = make_samples(np.arange(n) * 10.0, np.full(n, 5.0), user_id=users)
    intervals = omission.expected_intervals(samples)
    assert intervals.shape == (n,)
    if n >= 2 and same_user:
        assert intervals[0] == 10.0
    else:
        assert np.all(np.isinf(intervals))
    corrected = omission.corrected(samples, intervals)
    assert (corrected is None) == (n == 0)
    assert omission.stalls(samples, 5.0, (0.0, 100.0))["count"] == 0
    level = level_summary(samples, 5, {"users_by_kind": {"NoOp": 5}, "stopped_by": "requests"})
    assert level["requests"] == n
    level_table(level)
    level_notes(level)


def test_an_open_sweep_charts_the_time_the_generator_adds() -> None:
    from ecsload.report.charts import sweep_charts

    levels = [level(50, 10), level(100, 12)]
    for i, one in enumerate(levels):
        one.update(users_measured=1, seconds=10.0, rps=one["rate"], probe=None)
        one["all"].update(rate_limited=0, p50=1.0, p95=5.0, few=[])
        one["lateness"] = {"p50": 0.1 * (i + 1), "p99": 0.5, "max": 1.0, "behind": False}
        one["generator"] = {
            "cpu_percent_max": 30.0,
            "busy_percent_max": 40.0,
            "loop_lag_ms": {"p50": 0.05, "p99": 0.3 * (i + 1), "max": 2.0, "samples": 100},
        }
    [chart] = [c for c in sweep_charts(levels) if c.key == "generator_time"]
    lines = {line.get_label(): list(line.get_ydata()) for line in chart.figure.axes[0].lines}
    assert lines["sent late, p50"] == pytest.approx([0.1, 0.2])
    assert lines["event-loop lag, p99"] == pytest.approx([0.3, 0.6])
