"""The comparison on hand-made runs whose right answer is known: A/A is same, a shifted copy
beyond what it could see is slower, goodput down 40% with equal latencies is slower, a
gross change from one repeat is slower, a change inside the drift floor is not judged.

Every case runs for every baseline source (SOURCES): a folder's samples as read, one
stored run (its windows encoded for the history and decoded back) and several stored
runs pooled (`history:N`: each run's repeats are the baseline's). One engine judges them
all, so the same runs get the same verdicts whatever the source.
"""

from collections.abc import Callable

import numpy as np
import pytest

from ecsload.analysis.comparison import (
    DEFAULT_DRIFT,
    FASTER,
    FIGURES,
    MIN_SAMPLES,
    NOT_JUDGED,
    SAME,
    SLOWER,
    Rule,
    compare,
    holm,
    two_sided_p,
)
from ecsload.analysis.samples import Samples
from ecsload.history import windows
from ecsload.report.comparison_text import comparison_answer, comparison_table

TYPES = ("NoOp", "Tasks-Happy-Path")


def run(
    seed: int,
    median_ms: float = 20.0,
    rate: float = 200.0,
    seconds: float = 20.0,
    repeats: int = 2,
    errors: float = 0.0,
    types: tuple[str, ...] = TYPES,
) -> Samples:
    """A level's measured samples: `rate` requests/s for `seconds` in each repeat, log-normal
    response times around `median_ms`, a share `errors` failed; types in turn."""
    rng = np.random.default_rng(seed)
    n = int(rate * seconds)
    parts = []
    for r in range(repeats):
        start = 1_700_000_000_000 + r * 100_000
        sent = np.sort(start + rng.uniform(0, seconds * 1000, n)).astype(np.int64)
        parts.append((sent, np.full(n, r + 1)))
    timestamps = np.concatenate([p[0] for p in parts])
    total = len(timestamps)
    ok = rng.random(total) >= errors
    return Samples(
        timestamp_ms=timestamps,
        type_code=(np.arange(total) % len(types)).astype(np.int16),
        type_names=types,
        user_id=np.arange(total) % 10,
        ok=ok,
        status=np.where(ok, 200, 500).astype(np.int16),
        response_time_ms=median_ms * rng.lognormal(0.0, 0.4, total),
        measured=np.ones(total, dtype=bool),
        error=np.full(total, b""),
        late_ms=np.zeros(total),
        repeat=np.concatenate([p[1] for p in parts]).astype(np.int16),
    )


def as_stored(samples: Samples) -> Samples:
    """A run the history stored: its windows encoded, then decoded as a baseline."""
    encoded = windows.encode(samples)
    assert encoded is not None
    return windows.decode(encoded)


def as_pooled_history(samples: Samples) -> Samples:
    """`history:N`: each repeat stored as a run of its own, the runs pooled again."""
    runs = [as_stored(samples.where(samples.repeat == r)) for r in np.unique(samples.repeat)]
    return windows.pooled(runs)


SOURCES: dict[str, Callable[[Samples], Samples]] = {
    "folder": lambda samples: samples,
    "stored run": as_stored,
    "history pooled": as_pooled_history,
}


@pytest.fixture(params=list(SOURCES))
def source(request: pytest.FixtureRequest) -> Callable[[Samples], Samples]:
    return SOURCES[request.param]


@pytest.fixture
def compared(source: Callable[[Samples], Samples]) -> Callable[..., dict]:
    def compared(before: Samples, now: Samples, rule: Rule | None = None) -> dict:
        return compare({10: source(before)}, {10: now}, rule or Rule())

    return compared


def test_an_a_a_pair_of_identical_distributions_is_same(compared: Callable[..., dict]) -> None:
    for seed in range(5):
        result = compared(run(seed), run(100 + seed))
        assert result["verdict"] == SAME, result["levels"][0]


def test_a_shifted_copy_beyond_the_detectable_change_is_slower(
    compared: Callable[..., dict],
) -> None:
    result = compared(run(1), run(2, median_ms=30))  # +50%
    level = result["levels"][0]

    assert level["could_see"]["p95"] < 50
    assert result["verdict"] == SLOWER
    assert level["all"]["p50"]["verdict"] == SLOWER
    assert level["types"]["Tasks-Happy-Path"]["verdict"] == SLOWER


def test_goodput_down_40_percent_with_equal_latencies_is_slower(
    compared: Callable[..., dict],
) -> None:
    result = compared(run(1), run(2, rate=120))
    overall = result["levels"][0]["all"]

    assert overall["goodput"]["verdict"] == SLOWER
    assert overall["goodput"]["change_percent"] < -35
    assert overall["p50"]["verdict"] == SAME
    assert result["verdict"] == SLOWER


def test_a_faster_service_is_faster(compared: Callable[..., dict]) -> None:
    assert compared(run(1, median_ms=30), run(2))["verdict"] == FASTER


def test_a_change_within_the_tolerance_is_the_same(compared: Callable[..., dict]) -> None:
    # +5% with many samples: within the 10% tolerance whatever the test says
    result = compared(run(1, rate=2000), run(2, median_ms=21, rate=2000))
    assert result["verdict"] == SAME


def test_the_run_noise_floor_widens_what_counts_as_noise(compared: Callable[..., dict]) -> None:
    before, now = run(1), run(2, median_ms=26)  # +30%
    assert compared(before, now)["verdict"] == SLOWER
    assert compared(before, now, Rule(run_noise_percent=40))["verdict"] == SAME


def test_a_change_inside_the_drift_floor_of_a_level_measured_once_is_not_judged(
    compared: Callable[..., dict],
) -> None:
    """One repeat cannot show the drift between runs: +30% is within the default drift
    floor, so it is not judged (never same), and the text says what it could have seen."""
    before, now = run(1, repeats=1), run(2, median_ms=26, repeats=2)
    result = compared(before, now)
    [level] = result["levels"]
    assert result["verdict"] == level["verdict"] == NOT_JUDGED
    assert level["repeats"] == [1, 2]
    assert level["drift_floor"]["p50"] == DEFAULT_DRIFT["p50"]
    assert level["could_see"]["p95"] > 30  # more than the change it was shown
    assert level["all"]["p50"]["change_percent"] > 20
    assert level["all"]["p50"]["verdict"] == NOT_JUDGED
    assert level["types"]["Tasks-Happy-Path"]["verdict"] == NOT_JUDGED
    text = " ".join(
        comparison_table({**result, "baseline": "A", "generator_busy_levels": []}).split()
    )
    assert "measured in 1 and 2 repeat(s): judged against the drift between runs" in text
    assert f"could see: p95 ±{level['could_see']['p95']:g}%" in text
    assert "A run that measured a level once adds the drift between runs: the default" in text
    floored = compared(before, run(2, median_ms=30), Rule(run_noise_percent=10))
    assert floored["verdict"] == SLOWER and floored["levels"][0]["drift_floor"] is None


def test_a_gross_change_is_judged_even_from_one_repeat(compared: Callable[..., dict]) -> None:
    before, now = run(1, repeats=1, seconds=5), run(2, median_ms=80, repeats=1, seconds=5)  # 4x
    result = compared(before, now)
    assert result["verdict"] == SLOWER
    assert result["levels"][0]["all"]["p50"]["verdict"] == SLOWER
    assert compared(now, before)["verdict"] == FASTER
    a_a = compared(before, run(3, repeats=1, seconds=5))
    assert a_a["verdict"] == NOT_JUDGED  # an identical run: nothing beyond the floor
    rare = ("NoOp",) + ("Tasks-Happy-Path",) * 999  # NoOp: too few for any percentile
    few = compared(run(1, repeats=1, types=rare), run(2, repeats=1, types=rare))
    assert few["verdict"] == NOT_JUDGED  # never `same` from one repeat
    assert few["levels"][0]["types"]["NoOp"]["verdict"] == NOT_JUDGED


def test_a_noisy_pair_of_identical_runs_raises_no_alarm(compared: Callable[..., dict]) -> None:
    """Each repeat of each run is shifted at random by up to ±15% (a machine that drifts):
    the repeats show it, and an A/A pair stays quiet."""
    rng = np.random.default_rng(7)
    for seed in range(4):
        pair = []
        for offset in (0, 50):
            samples = run(seed + offset, repeats=3)
            shift = np.exp(rng.uniform(-0.15, 0.15, 4))[samples.repeat]
            pair.append(
                Samples(**{**vars(samples), "response_time_ms": samples.response_time_ms * shift})
            )
        assert compared(*pair)["verdict"] != SLOWER


def test_a_baseline_latency_of_zero_or_less_is_a_judged_change(
    compared: Callable[..., dict],
) -> None:
    before = run(1)
    zero = Samples(**{**vars(before), "response_time_ms": np.zeros(len(before))})
    result = compared(zero, run(2))
    assert result["levels"][0]["all"]["p50"]["verdict"] == SLOWER
    assert result["verdict"] == SLOWER
    negative = Samples(**{**vars(before), "response_time_ms": -before.response_time_ms})
    assert compared(negative, run(2))["verdict"] == SLOWER


def test_judged_levels_keep_their_verdict_beside_one_that_is_not(
    source: Callable[[Samples], Samples],
) -> None:
    result = compare(
        {10: source(run(1)), 20: source(run(3, repeats=1))},
        {10: run(2, median_ms=30), 20: run(4)},
        Rule(),
    )
    assert [level["verdict"] for level in result["levels"]] == [SLOWER, NOT_JUDGED]
    assert result["verdict"] == SLOWER


def test_rate_levels_are_paired_by_rate_and_named_as_rates() -> None:
    result = compare({200: run(1)}, {200: run(2, median_ms=40)}, Rule(), unit="req/s")
    assert result["unit"] == result["levels"][0]["unit"] == "req/s"
    text = comparison_table({**result, "baseline": "A", "generator_busy_levels": []})
    assert "At 200 req/s: goodput" in text


def test_every_figure_has_a_default_drift_and_is_judged() -> None:
    result = compare({10: run(1)}, {10: run(2)}, Rule())
    assert {figure.name for figure in FIGURES} == set(DEFAULT_DRIFT)
    assert {figure.name for figure in FIGURES} <= set(result["levels"][0]["all"])


def test_errors_that_start_are_slower(compared: Callable[..., dict]) -> None:
    result = compared(run(1), run(2, errors=0.10))
    assert result["levels"][0]["all"]["error_percent"]["verdict"] == SLOWER


def test_too_few_samples_of_a_type_are_not_judged(compared: Callable[..., dict]) -> None:
    rare = ("NoOp",) + ("Tasks-Happy-Path",) * 999
    result = compared(run(1, rate=20, types=rare), run(2, rate=20, types=rare))
    noop = result["levels"][0]["types"]["NoOp"]
    assert min(noop["samples"]) < MIN_SAMPLES
    assert "p50" not in noop


def test_holm_is_step_down() -> None:
    assert holm([0.01, 0.04, 0.03], 0.05) == [True, False, False]
    assert holm([0.01, 0.02, 0.03], 0.1) == [True, True, True]


def test_the_same_runs_always_get_the_same_verdicts(compared: Callable[..., dict]) -> None:
    before, now = run(1), run(2, median_ms=23)
    assert compared(before, now) == compared(before, now)


def test_the_table_says_what_changed_and_what_it_could_see(compared: Callable[..., dict]) -> None:
    result = compared(run(1), run(2, median_ms=60))
    baseline = {"baseline": "results/A", "generator_busy_levels": [10]}
    table = comparison_table({**baseline, **result})

    row = next(line for line in table.splitlines() if "Tasks-Happy-Path" in line)
    assert row.endswith("slower (p50, p95, p99)")
    assert any(
        line.startswith("At 10 users: goodput") and "could see: p95 ±" in line
        for line in table.splitlines()
    )
    assert "NOTE: the load generator was busy over 85% at 10 users" in table
    assert max(map(len, table.splitlines())) <= 100


def test_the_terminal_s_answer_says_the_least_it_could_see_across_levels() -> None:
    """The answer that replaces the table with -q: its title, then the widest p95 and
    goodput changes any level could have missed, so `same` says how same."""
    comparison = {
        "levels": [
            {"could_see": {"p95": 12.0, "goodput": 30.5, "error_percent": 1.0}},
            {"could_see": {"p95": 21.2, "goodput": 9.0}},
            {"could_see": {}},  # too few windows to see anything
        ]
    }
    assert comparison_answer(comparison, "Comparison with the baseline A: same", "c.txt") == (
        "Comparison with the baseline A: same (could see: p95 ±21.2%, goodput ±30.5%; c.txt)"
    )
    nothing = {"levels": [{"could_see": {}}]}
    assert comparison_answer(nothing, "T: not judged", "c.txt") == "T: not judged (c.txt)"


def test_levels_in_one_run_only_are_listed_not_judged() -> None:
    result = compare({10: run(1), 20: run(2)}, {10: run(3), 30: run(4)}, Rule())

    assert [level["users"] for level in result["levels"]] == [10]
    assert (result["levels_only_in_baseline"], result["levels_only_in_run"]) == ([20], [30])


def test_the_two_sided_p_value_is_the_normal_tests_in_the_far_tail_too() -> None:
    """Known values of 2·P(Z > |z|): 1 at 0, 0.05 at 1.959964, 1.2442e-15 at 8 (where
    1 - cdf would say 0)."""
    assert two_sided_p(0) == 1
    assert two_sided_p(-1.959964) == pytest.approx(0.05, rel=1e-6)
    assert two_sided_p(8) == pytest.approx(1.2441921148543e-15, rel=1e-9)
